// Charts of the dashboard, drawn from the data-* attributes the server rendered (no inline
// script: the Content-Security-Policy allows only the app's own files). Without scripts
// the figures are still in the tables beside each chart.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("canvas.chart").forEach(function (canvas) {
    new Chart(canvas, {
      type: canvas.dataset.type || "bar",
      data: {
        labels: JSON.parse(canvas.dataset.labels),
        datasets: [{ label: canvas.dataset.label, data: JSON.parse(canvas.dataset.values),
                     backgroundColor: "#b3282d" }]
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 plugins: { legend: { display: false } } }
    });
  });
});
