// The compliance dashboard's charts (issue 13): each <canvas id="X"> has its data in
// <script type="application/json" id="X-data"> (no inline script: the CSP forbids it). Every
// chart is also a table on the page; without JavaScript or Chart.js the tables remain.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  var colours = ["#2f7d4f", "#c0392b", "#24476e", "#b9770e"];
  document.querySelectorAll("canvas[id]").forEach(function (canvas) {
    var source = document.getElementById(canvas.id + "-data");
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, index) {
          return { label: series.label, data: series.data, backgroundColor: colours[index % colours.length] };
        })
      },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        animation: false,
        scales: { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked } }
      }
    });
    canvas.setAttribute("data-chart-drawn", "true");
  });
})();
