/* Joint reward and punishment cases by unit: a stacked bar chart drawn with ECharts from the JSON
   the page carries in <script id="cases-data" type="application/json"> (json_script). */
(function () {
  "use strict";

  var PALETTE = ["#c8161d", "#2f8f5b"];

  function render() {
    var dataEl = document.getElementById("cases-data");
    var chartEl = document.getElementById("cases-chart");
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
      xAxis: {
        type: "category",
        data: data.units,
        axisLabel: { interval: 0, rotate: data.units.length > 6 ? 30 : 0 }
      },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "cases", barMaxWidth: 48, data: s.data };
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
