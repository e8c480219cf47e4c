/* Loads a deployed diagram into a bpmn-js viewer — shared by the instance, rules and heatmap
 * pages: fetch the BPMN (`data-diagram-url` of the box), import it, and open the plane that shows
 * the process (`data-process-id`: the process itself or a collaboration with a participant for
 * it). Returns the import's promise. Also the viewer's start-up, its JSON attributes and its
 * ready/error display, the same on every page. */
(function () {
  "use strict";

  function diagramFor(viewer, processId) {
    var definitions = viewer.getDefinitions();
    var diagrams = (definitions && definitions.diagrams) || [];
    for (var i = 0; i < diagrams.length; i += 1) {
      var element = diagrams[i].plane && diagrams[i].plane.bpmnElement;
      if (!element) {
        continue;
      }
      if (element.id === processId) {
        return diagrams[i];
      }
      var participants = element.participants || [];
      for (var j = 0; j < participants.length; j += 1) {
        if (participants[j].processRef && participants[j].processRef.id === processId) {
          return diagrams[i];
        }
      }
    }
    return null;
  }

  window.certflowLoadDiagram = function (viewer, box) {
    return fetch(box.getAttribute("data-diagram-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/xml" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (xml) {
        return viewer.importXML(xml);
      })
      .then(function () {
        var wanted = diagramFor(viewer, box.getAttribute("data-process-id"));
        var current = viewer.get("canvas").getRootElement();
        if (wanted && current && current.businessObject &&
            wanted.plane.bpmnElement !== current.businessObject) {
          return viewer.open(wanted);
        }
        return null;
      });
  };

  function fail(box, reason) {
    var status = box.querySelector("[data-diagram-status]");
    box.setAttribute("data-diagram-ready", "error");
    if (status) {
      status.textContent = box.getAttribute("data-error-text") + " (" + reason + ")";
      status.classList.add("diagram-error");
    }
  }

  /* A viewer in the box's [data-diagram-canvas], or null (the box marked "error", the reason
   * shown) when the viewer script did not load. */
  window.certflowViewer = function (box) {
    var canvasBox = box.querySelector("[data-diagram-canvas]");
    if (typeof window.BpmnJS !== "function" || !canvasBox) {
      fail(box, "viewer not loaded");
      return null;
    }
    return new window.BpmnJS({ container: canvasBox });
  };

  /* A JSON attribute of the box; the fallback when it is missing or not JSON. */
  window.certflowJson = function (box, name, fallback) {
    try {
      var value = JSON.parse(box.getAttribute(name) || "null");
      return value === null ? fallback : value;
    } catch (err) {
      return fallback;
    }
  };

  /* Loads the diagram, lets `decorate` mark it, then sets data-diagram-ready="true" and hides
   * the status line — or shows the error. */
  window.certflowShowDiagram = function (viewer, box, decorate) {
    return window.certflowLoadDiagram(viewer, box)
      .then(function () {
        decorate();
        box.setAttribute("data-diagram-ready", "true");
        var status = box.querySelector("[data-diagram-status]");
        if (status) {
          status.hidden = true;
        }
      })
      .catch(function (err) {
        fail(box, err && err.message ? err.message : String(err));
      });
  };
})();
