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

/* Credit grades (分级分类监管 statistics): grades of the general scorecard by district, and
   grades by scorecard (sector), both stacked by grade, from the same JSON (stats.grades). */
(function () {
  "use strict";

  // A green to red scale for the grades, best first (a fifth colour for any further grade).
  var GRADES = ["#2f8f5b", "#0b4a8b", "#e59b1c", "#c8161d", "#6b5ca5", "#7f7f7f"];

  function stacked(rows, grades) {
    var categories = rows.map(function (r) { return r.name; });
    return {
      xAxis: {
        type: "category",
        data: categories,
        axisLabel: { interval: 0, rotate: categories.length > 8 ? 30 : 0 }
      },
      yAxis: { type: "value", minInterval: 1 },
      series: grades.map(function (grade, i) {
        return {
          name: grade,
          type: "bar",
          stack: "grades",
          barMaxWidth: 48,
          emphasis: { focus: "series" },
          data: rows.map(function (r) { return r.row[i]; })
        };
      })
    };
  }

  window.pubcreditChart("dashboard-stats", "grades-district-chart", GRADES, function (stats) {
    return stacked(stats.grades.districts, stats.grades.district_grades);
  });
  window.pubcreditChart("dashboard-stats", "grades-sector-chart", GRADES, function (stats) {
    return stacked(stats.grades.sectors, stats.grades.grades);
  });
})();
