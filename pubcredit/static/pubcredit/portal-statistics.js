/* The portal's 数据统计 page: 双公示 records per month (行政许可 and 行政处罚 side by side), drawn
   with ECharts (pubcredit/console-chart.js) from <script id="double-stats" type="application/json">. */
(function () {
  "use strict";

  var PALETTE = ["#0b4a8b", "#c8161d"];

  window.pubcreditChart("double-stats", "double-month-chart", PALETTE, function (stats) {
    return {
      xAxis: { type: "category", data: stats.months },
      yAxis: { type: "value", minInterval: 1 },
      series: stats.categories.map(function (c, i) {
        return { name: c.label, type: "bar", barMaxWidth: 28, data: stats.per_month[i] };
      })
    };
  });
})();
