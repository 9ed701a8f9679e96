/* Joint reward and punishment cases by unit: a stacked bar chart drawn with ECharts
   (pubcredit/console-chart.js) from the JSON the page carries in
   <script id="cases-data" type="application/json"> (json_script). */
(function () {
  "use strict";

  var PALETTE = ["#c8161d", "#2f8f5b"];

  window.pubcreditChart("cases-data", "cases-chart", PALETTE, function (data) {
    return {
      xAxis: {
        type: "category",
        data: data.units,
        axisLabel: { interval: 0, rotate: data.units.length > 6 ? 30 : 0 }
      },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "cases", barMaxWidth: 48, data: s.data };
      })
    };
  });
})();
