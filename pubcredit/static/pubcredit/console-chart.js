/* The console's ECharts charts: window.pubcreditChart(dataId, chartId, palette, options) draws
   the chart in #chartId from the JSON the page carries in <script id="dataId"
   type="application/json"> (Django's json_script). `options(data)` gives what is the chart's own
   (xAxis, yAxis, series); the palette, the page's font, tooltip, legend and grid are common.
   No data is fetched; nothing leaves the server's origin. Load it before the page's script. */
(function () {
  "use strict";

  function draw(dataId, chartId, palette, options) {
    var dataEl = document.getElementById(dataId);
    var chartEl = document.getElementById(chartId);
    if (!dataEl || !chartEl || !window.echarts) {
      return;
    }
    var data = JSON.parse(dataEl.textContent);
    var lang = (document.documentElement.lang || "").toLowerCase();
    var chart = window.echarts.init(chartEl, null, {
      renderer: "canvas",
      locale: lang.indexOf("en") === 0 ? "EN" : "ZH"
    });
    var option = {
      color: palette,
      // Canvas text does not inherit CSS: give it the page's CJK font stack explicitly.
      textStyle: { fontFamily: window.getComputedStyle(document.body).fontFamily },
      aria: { enabled: true },
      // Drawn on the canvas: an HTML tooltip carries style attributes, which the CSP blocks.
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 4 },
      grid: { left: 12, right: 20, top: 48, bottom: 12, containLabel: true }
    };
    var own = options(data);
    Object.keys(own).forEach(function (key) { option[key] = own[key]; });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    chartEl.setAttribute("data-rendered", "true");
  }

  window.pubcreditChart = function (dataId, chartId, palette, options) {
    function render() {
      draw(dataId, chartId, palette, options);
    }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", render);
    } else {
      render();
    }
  };
})();
