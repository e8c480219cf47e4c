/* The process diagram of an instance page (webapp/templates/instances/show.html).
 *
 * Reads from the [data-diagram] element (no inline scripts: the CSP forbids them):
 *   data-diagram-url   the deployed BPMN XML of the instance's version
 *   data-process-id    which process of the file to show (a file may hold several diagrams)
 *   data-active        JSON list of element ids that are active now        → marker "cf-active"
 *   data-completed     JSON list of element ids that were completed        → marker "cf-completed"
 *   data-incidents     JSON list of element ids with an open incident      → marker "cf-incident"
 *   data-flows         JSON list of [source id, target id] pairs: the sequence flows taken
 *                                                                          → marker "cf-taken"
 * and renders it with the vendored bpmn-js NavigatedViewer (global BpmnJS). When done it sets
 * data-diagram-ready="true" (or "error"), data-marked="<number of element markers placed>",
 * data-flows-marked="<number of flows marked>" and data-zoom="<zoom level>". It opens at a
 * readable zoom: "fit" only when that is readable, else centred on what matters (issue 10).
 * The bpmn.io watermark stays visible in the canvas' bottom-right corner (licence): the zoom
 * buttons sit top-left. */
(function () {
  "use strict";

  var box = document.querySelector("[data-diagram]");
  if (!box) {
    return;
  }
  var viewer = window.certflowViewer(box);
  if (!viewer) {
    return;
  }

  function ids(name) {
    var value = window.certflowJson(box, name, []);
    return Array.isArray(value) ? value : [];
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
    markFlows(canvas, registry);
  }

  /* A sequence flow is marked when the instance went from its source to its target. */
  function markFlows(canvas, registry) {
    var taken = {};
    var pairs = ids("data-flows");
    for (var p = 0; p < pairs.length; p += 1) {
      if (Array.isArray(pairs[p]) && pairs[p].length === 2) {
        taken[pairs[p][0] + "\u0000" + pairs[p][1]] = true;
      }
    }
    var flows = registry.filter(function (element) {
      return element.type === "bpmn:SequenceFlow" && element.source && element.target;
    });
    var marked = 0;
    for (var i = 0; i < flows.length; i += 1) {
      if (taken[flows[i].source.id + "\u0000" + flows[i].target.id]) {
        canvas.addMarker(flows[i].id, "cf-taken");
        marked += 1;
      }
    }
    box.setAttribute("data-flows-marked", String(marked));
  }

  function fit() {
    var canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
  }

  /* A big diagram at "fit" is too small to read (the main certification process at 1280 px):
   * then open at a readable zoom, centred on the first failing or active element, else on the
   * last element reached, else on the start of the diagram. */
  var READABLE = 0.7;
  var OPEN_AT = 0.9;

  function focus() {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    if (canvas.zoom() >= READABLE) {
      return;
    }
    var wanted = ids("data-incidents").concat(ids("data-active"));
    var completed = ids("data-completed");
    if (completed.length) {
      wanted.push(completed[completed.length - 1]);
    }
    var target = null;
    for (var i = 0; i < wanted.length && !target; i += 1) {
      var element = registry.get(wanted[i]);
      if (element && element.width) {
        target = element;
      }
    }
    canvas.zoom(OPEN_AT);
    var view = canvas.viewbox();
    if (target) {
      canvas.viewbox({
        x: target.x + target.width / 2 - view.width / 2,
        y: target.y + target.height / 2 - view.height / 2,
        width: view.width,
        height: view.height
      });
    } else {
      canvas.viewbox({ x: view.inner.x - 20, y: view.inner.y - 20, width: view.width, height: view.height });
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

  window.certflowShowDiagram(viewer, box, function () {
    mark();
    fit();
    focus();
    box.setAttribute("data-zoom", String(viewer.get("canvas").zoom()));
  });
})();
