/* Repair applications and objections by month: bars (received, decided) and the overdue rate as a
   line on a second axis, drawn with ECharts (pubcredit/console-chart.js) from the JSON the page
   carries in <script id="repair-stats-data" type="application/json"> (json_script). */
(function () {
  "use strict";

  var PALETTE = ["#0b4a8b", "#9a6700", "#2f8f5b", "#c8161d"];

  window.pubcreditChart("repair-stats-data", "repair-chart", PALETTE, function (data) {
    return {
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
    };
  });
})();
