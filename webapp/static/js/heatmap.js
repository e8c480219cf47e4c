/* The heatmap of a process (webapp/templates/quality/heatmap.html, issue 13).
 *
 * Reads from the [data-heatmap] element (no inline scripts: the CSP forbids them):
 *   data-diagram-url   the deployed BPMN XML of the version shown
 *   data-process-id    which process of the file to show
 *   data-measure       "duration" or "frequency": what the colours show at first
 *   data-text-count / data-text-hours   the overlay texts in the page's language
 * and the JSON list in #heatmap-data: {id, count, median, p90, duration, frequency} per task,
 * where duration / frequency are the colour levels 1..4 (domain/heat.py).
 * Each task gets an overlay with its count and hours and the marker "cf-heat-<level>" of the
 * chosen measure; the radio buttons [data-heat-switch] change the measure without reloading.
 * When done: data-diagram-ready="true" (or "error") and data-overlays="<number placed>". */
(function () {
  "use strict";

  var box = document.querySelector("[data-heatmap]");
  if (!box) {
    return;
  }
  var viewer = window.certflowViewer(box);
  if (!viewer) {
    return;
  }
  var LEVELS = [1, 2, 3, 4];

  var figures = [];
  try {
    figures = JSON.parse(document.getElementById("heatmap-data").textContent || "[]");
  } catch (err) {
    figures = [];
  }

  function paint(measure) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    for (var i = 0; i < figures.length; i += 1) {
      if (!registry.get(figures[i].id)) {
        continue;
      }
      for (var l = 0; l < LEVELS.length; l += 1) {
        canvas.removeMarker(figures[i].id, "cf-heat-" + LEVELS[l]);
      }
      canvas.addMarker(figures[i].id, "cf-heat-" + figures[i][measure]);
    }
    box.setAttribute("data-measure", measure);
  }

  function label(item) {
    var badge = document.createElement("div");
    badge.className = "heat-badge";
    badge.setAttribute("data-heat-element", item.id);
    var count = document.createElement("strong");
    count.setAttribute("data-heat-count", "");
    count.textContent = box.getAttribute("data-text-count").replace("{num}", item.count);
    var hours = document.createElement("span");
    hours.textContent = box.getAttribute("data-text-hours")
      .replace("{median}", item.median)
      .replace("{p90}", item.p90);
    badge.appendChild(count);
    badge.appendChild(document.createTextNode(" "));
    badge.appendChild(hours);
    return badge;
  }

  function place() {
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    var placed = 0;
    for (var i = 0; i < figures.length; i += 1) {
      if (registry.get(figures[i].id)) {
        overlays.add(figures[i].id, "heat", { position: { bottom: -4, left: 0 }, html: label(figures[i]) });
        placed += 1;
      }
    }
    box.setAttribute("data-overlays", String(placed));
  }

  var radios = document.querySelectorAll("[data-heat-switch] input[name=measure]");
  for (var r = 0; r < radios.length; r += 1) {
    radios[r].addEventListener("change", function (event) {
      if (box.getAttribute("data-diagram-ready") === "true") {
        paint(event.currentTarget.value);
      }
    });
  }

  window.certflowShowDiagram(viewer, box, function () {
    place();
    paint(box.getAttribute("data-measure") || "duration");
    viewer.get("canvas").zoom("fit-viewport", "auto");
  });
})();
