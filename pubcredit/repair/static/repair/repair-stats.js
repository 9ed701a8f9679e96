/* Repair applications and objections by month: bars (received, decided) and the overdue rate as a
   line on a second axis, drawn with ECharts from the JSON the page carries in
   <script id="repair-stats-data" type="application/json"> (json_script). */
(function () {
  "use strict";

  var PALETTE = ["#0b4a8b", "#9a6700", "#2f8f5b", "#c8161d"];

  function render() {
    var dataEl = document.getElementById("repair-stats-data");
    var chartEl = document.getElementById("repair-chart");
    if (!dataEl || !chartEl || !window.echarts) {
      return;
    }
    var data = JSON.parse(dataEl.textContent);
    var lang = (document.documentElement.lang || "").toLowerCase();
    var chart = window.echarts.init(chartEl, null, {
      renderer: "canvas",
      locale: lang.indexOf("en") === 0 ? "EN" : "ZH"
    });
    chart.setOption({
      color: PALETTE,
      textStyle: { fontFamily: window.getComputedStyle(document.body).fontFamily },
      aria: { enabled: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 4 },
      grid: { left: 12, right: 20, top: 48, bottom: 12, containLabel: true },
      xAxis: { type: "category", data: data.months },
      yAxis: [
        { type: "value", minInterval: 1 },
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: data.series.map(function (s) {
        if (s.type === "line") {
          return { name: s.name, type: "line", yAxisIndex: 1, connectNulls: true, data: s.data };
        }
        return { name: s.name, type: "bar", barMaxWidth: 32, data: s.data };
      })
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
