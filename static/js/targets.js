// Targets dashboard: per-quarter trend charts from the page's JSON block (Chart.js served from /vendor).
(function () {
  "use strict";
  var printButton = document.querySelector("[data-print]");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }
  var block = document.getElementById("targets-chart-data");
  if (!block || typeof Chart === "undefined") { return; }
  var charts = JSON.parse(block.textContent);
  var colours = ["#1f5f99", "#9aa5b1"];
  var instances = [];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.getAttribute("data-chart")];
    if (!spec) { return; }
    var datasets = spec.series.map(function (s, i) {
      return { label: s.label, data: s.data, borderColor: colours[i], backgroundColor: colours[i],
               spanGaps: false, tension: 0, pointRadius: 3, borderDash: i ? [4, 3] : [] };
    });
    if (spec.kind === "percent" && spec.target !== undefined) {
      datasets.push({ label: "Chỉ tiêu / target", data: spec.labels.map(function () { return spec.target; }),
                      borderColor: "#b3261e", borderWidth: 1, pointRadius: 0, borderDash: [2, 2] });
    }
    instances.push(new Chart(canvas, {
      type: spec.kind === "count" ? "bar" : "line",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, devicePixelRatio: 2,
        plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
        scales: spec.kind === "percent" ? { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } }
                                        : { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    }));
  });
  // Re-fit the charts to the printed page width, then back.
  window.addEventListener("beforeprint", function () { instances.forEach(function (c) { c.resize(); }); });
  window.addEventListener("afterprint", function () { instances.forEach(function (c) { c.resize(); }); });
})();
