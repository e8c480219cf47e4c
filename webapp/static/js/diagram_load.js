/* Loads a deployed diagram into a bpmn-js viewer — shared by the instance, rules and heatmap
 * pages: fetch the BPMN (`data-diagram-url` of the box), import it, and open the plane that shows
 * the process (`data-process-id`: the process itself or a collaboration with a participant for
 * it). Returns the import's promise. */
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
})();
