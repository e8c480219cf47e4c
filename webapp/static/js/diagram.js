/* The process diagram of an instance page (webapp/templates/instances/show.html).
 *
 * Reads from the [data-diagram] element (no inline scripts: the CSP forbids them):
 *   data-diagram-url   the deployed BPMN XML of the instance's version
 *   data-process-id    which process of the file to show (a file may hold several diagrams)
 *   data-active        JSON list of element ids that are active now        → marker "cf-active"
 *   data-completed     JSON list of element ids that were completed        → marker "cf-completed"
 *   data-incidents     JSON list of element ids with an open incident      → marker "cf-incident"
 * and renders it with the vendored bpmn-js NavigatedViewer (global BpmnJS). When done it sets
 * data-diagram-ready="true" (or "error") and data-marked="<number of markers placed>".
 * The bpmn.io watermark stays visible in the canvas' bottom-right corner (licence): the zoom
 * buttons sit top-left. */
(function () {
  "use strict";

  var box = document.querySelector("[data-diagram]");
  if (!box) {
    return;
  }
  var canvasBox = box.querySelector("[data-diagram-canvas]");
  var status = box.querySelector("[data-diagram-status]");

  function fail(reason) {
    box.setAttribute("data-diagram-ready", "error");
    if (status) {
      status.textContent = box.getAttribute("data-error-text") + " (" + reason + ")";
      status.classList.add("diagram-error");
    }
  }

  if (typeof window.BpmnJS !== "function" || !canvasBox) {
    fail("viewer not loaded");
    return;
  }

  function ids(name) {
    try {
      var value = JSON.parse(box.getAttribute(name) || "[]");
      return Array.isArray(value) ? value : [];
    } catch (err) {
      return [];
    }
  }

  var viewer = new window.BpmnJS({ container: canvasBox });

  /* The diagram whose plane shows the process: the process itself or a collaboration with a
   * participant for it. */
  function diagramFor(processId) {
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

  function mark() {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var placed = 0;
    var sets = [
      ["data-completed", "cf-completed"],
      ["data-active", "cf-active"],
      ["data-incidents", "cf-incident"]
    ];
    for (var s = 0; s < sets.length; s += 1) {
      var list = ids(sets[s][0]);
      for (var i = 0; i < list.length; i += 1) {
        if (registry.get(list[i])) {
          canvas.addMarker(list[i], sets[s][1]);
          placed += 1;
        }
      }
    }
    box.setAttribute("data-marked", String(placed));
  }

  function fit() {
    var canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
  }

  /* On a narrow screen the whole diagram becomes too small to read: zoom in on the first
   * active (or failing) element instead. */
  var READABLE = 0.55;

  function focus() {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    if (canvas.zoom() >= READABLE) {
      return;
    }
    var wanted = ids("data-incidents").concat(ids("data-active"));
    for (var i = 0; i < wanted.length; i += 1) {
      var element = registry.get(wanted[i]);
      if (element && element.width) {
        canvas.zoom(0.8);
        var view = canvas.viewbox();
        canvas.viewbox({
          x: element.x + element.width / 2 - view.width / 2,
          y: element.y + element.height / 2 - view.height / 2,
          width: view.width,
          height: view.height
        });
        return;
      }
    }
  }

  function zoom(direction) {
    var canvas = viewer.get("canvas");
    if (direction === "fit") {
      fit();
      return;
    }
    var level = canvas.zoom();
    canvas.zoom(direction === "in" ? level * 1.25 : level / 1.25);
  }

  var buttons = box.querySelectorAll("[data-zoom]");
  for (var b = 0; b < buttons.length; b += 1) {
    buttons[b].addEventListener("click", function (event) {
      zoom(event.currentTarget.getAttribute("data-zoom"));
    });
  }

  fetch(box.getAttribute("data-diagram-url"), {
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
      var wanted = diagramFor(box.getAttribute("data-process-id"));
      var current = viewer.get("canvas").getRootElement();
      if (wanted && current && current.businessObject &&
          wanted.plane.bpmnElement !== current.businessObject) {
        return viewer.open(wanted);
      }
      return null;
    })
    .then(function () {
      mark();
      fit();
      focus();
      box.setAttribute("data-diagram-ready", "true");
      if (status) {
        status.hidden = true;
      }
    })
    .catch(function (err) {
      fail(err && err.message ? err.message : String(err));
    });
})();
