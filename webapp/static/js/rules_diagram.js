/* The rules on a deployed diagram (webapp/templates/quality/rules_diagram.html, issue 13).
 *
 * Reads from the [data-rules-diagram] element (no inline scripts: the CSP forbids them):
 *   data-diagram-url   the deployed BPMN XML of the process
 *   data-process-id    which process of the file to show
 *   data-labels        JSON {element id: [the rules it implements, as worded for people]}
 *                                                            → an overlay "cf-rule-overlay" each
 *   data-highlight     JSON list of element ids of the chosen rule → marker "cf-rule"
 * and renders it with the vendored bpmn-js NavigatedViewer (global BpmnJS). When done it sets
 * data-diagram-ready="true" (or "error"), data-overlays="<overlays placed>" and
 * data-highlighted="<elements highlighted>". With a chosen rule it opens centred on its first
 * element. */
(function () {
  "use strict";

  var box = document.querySelector("[data-rules-diagram]");
  if (!box) {
    return;
  }
  var viewer = window.certflowViewer(box);
  if (!viewer) {
    return;
  }

  function json(name, fallback) {
    return window.certflowJson(box, name, fallback);
  }

  function overlay(labels) {
    var node = document.createElement("div");
    node.className = "cf-rule-overlay";
    node.textContent = labels.join(" · ");
    node.title = labels.join("\n");
    return node;
  }

  function mark() {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    var labels = json("data-labels", {});
    var placed = 0;
    Object.keys(labels).forEach(function (id) {
      if (registry.get(id) && Array.isArray(labels[id]) && labels[id].length) {
        overlays.add(id, "cf-rules", { position: { top: -14, left: 0 }, html: overlay(labels[id]) });
        placed += 1;
      }
    });
    var highlighted = 0;
    var first = null;
    json("data-highlight", []).forEach(function (id) {
      var element = registry.get(id);
      if (element) {
        canvas.addMarker(id, "cf-rule");
        highlighted += 1;
        first = first || element;
      }
    });
    box.setAttribute("data-overlays", String(placed));
    box.setAttribute("data-highlighted", String(highlighted));
    return first;
  }

  var READABLE = 0.7;
  var OPEN_AT = 0.9;

  function focus(target) {
    var canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() >= READABLE) {
      return;
    }
    canvas.zoom(OPEN_AT);
    var view = canvas.viewbox();
    if (target && target.width) {
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

  var buttons = box.querySelectorAll("[data-zoom]");
  for (var b = 0; b < buttons.length; b += 1) {
    buttons[b].addEventListener("click", function (event) {
      var canvas = viewer.get("canvas");
      var direction = event.currentTarget.getAttribute("data-zoom");
      if (direction === "fit") {
        canvas.zoom("fit-viewport", "auto");
        return;
      }
      canvas.zoom(direction === "in" ? canvas.zoom() * 1.25 : canvas.zoom() / 1.25);
    });
  }

  window.certflowShowDiagram(viewer, box, function () {
    focus(mark());
  });
})();
