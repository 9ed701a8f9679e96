/* Console dashboard: draws "subjects by district and kind" with ECharts from the JSON that the
   page carries in <script id="dashboard-stats" type="application/json"> (Django's json_script).
   No data is fetched; nothing leaves the server's origin. */
(function () {
  "use strict";

  var PALETTE = ["#0b4a8b", "#c8161d", "#2f8f5b", "#e59b1c", "#6b5ca5"];

  function render() {
    var dataEl = document.getElementById("dashboard-stats");
    var chartEl = document.getElementById("subjects-chart");
    if (!dataEl || !chartEl || !window.echarts) {
      return;
    }
    var stats = JSON.parse(dataEl.textContent);
    var lang = (document.documentElement.lang || "").toLowerCase();
    var chart = window.echarts.init(chartEl, null, {
      renderer: "canvas",
      locale: lang.indexOf("en") === 0 ? "EN" : "ZH"
    });
    var categories = stats.districts.map(function (d) { return d.name; });
    var series = stats.kinds.map(function (kind, i) {
      return {
        name: kind.label,
        type: "bar",
        stack: "subjects",
        barMaxWidth: 48,
        emphasis: { focus: "series" },
        data: stats.districts.map(function (d) { return d.row[i]; })
      };
    });
    chart.setOption({
      color: PALETTE,
      // Canvas text does not inherit CSS: give it the page's CJK font stack explicitly.
      textStyle: { fontFamily: window.getComputedStyle(document.body).fontFamily },
      aria: { enabled: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 4 },
      grid: { left: 12, right: 20, top: 48, bottom: 12, containLabel: true },
      xAxis: {
        type: "category",
        data: categories,
        axisLabel: { interval: 0, rotate: categories.length > 8 ? 30 : 0 }
      },
      yAxis: { type: "value", minInterval: 1 },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
    chartEl.setAttribute("data-rendered", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
