// luodi dashboard charts: draws each [data-chart] element with Plotly from the JSON data block
// whose id it names (<script type="application/json">, which the browser never runs). No inline
// script and no CDN: plotly.min.js comes from /vendor/plotly/…. Without JavaScript the tables
// beside each chart carry the same numbers.
document.addEventListener("DOMContentLoaded", () => {
  const plotly = window.Plotly;
  document.querySelectorAll("[data-chart]").forEach((el) => {
    const source = document.getElementById(el.dataset.chart);
    if (!plotly || !source) return;
    let figure;
    try {
      figure = JSON.parse(source.textContent);
    } catch (error) {
      el.dataset.rendered = "error";
      return;
    }
    plotly.newPlot(el, figure.data, figure.layout || {}, figure.config || {})
      .then(() => { el.dataset.rendered = "true"; })
      .catch(() => { el.dataset.rendered = "error"; });
  });
});
