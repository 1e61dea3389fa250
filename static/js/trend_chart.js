// Monthly trend charts (commune profile, overview) from a JSON block beside the canvas (Chart.js from /vendor).
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("script[type='application/json'][id$='-data']").forEach(function (block) {
    var canvas = document.getElementById(block.id.replace(/-data$/, "-chart"));
    if (!canvas) { return; }
    var spec = JSON.parse(block.textContent);
    new Chart(canvas, {
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 11 } } } },
        scales: { x: { stacked: spec.stacked !== false },
                  y: { stacked: spec.stacked !== false, beginAtZero: true, ticks: { precision: 0 },
                                             title: { display: !!spec.y_label, text: spec.y_label } } }
      }
    });
  });
})();
