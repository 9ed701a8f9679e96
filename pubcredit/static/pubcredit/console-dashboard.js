/* Console dashboard: draws "subjects by district and kind" with ECharts
   (pubcredit/console-chart.js) from the JSON that the page carries in
   <script id="dashboard-stats" type="application/json"> (Django's json_script). */
(function () {
  "use strict";

  var PALETTE = ["#0b4a8b", "#c8161d", "#2f8f5b", "#e59b1c", "#6b5ca5"];

  window.pubcreditChart("dashboard-stats", "subjects-chart", PALETTE, function (stats) {
    var categories = stats.districts.map(function (d) { return d.name; });
    return {
      xAxis: {
        type: "category",
        data: categories,
        axisLabel: { interval: 0, rotate: categories.length > 8 ? 30 : 0 }
      },
      yAxis: { type: "value", minInterval: 1 },
      series: stats.kinds.map(function (kind, i) {
        return {
          name: kind.label,
          type: "bar",
          stack: "subjects",
          barMaxWidth: 48,
          emphasis: { focus: "series" },
          data: stats.districts.map(function (d) { return d.row[i]; })
        };
      })
    };
  });
})();
