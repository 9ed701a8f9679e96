/* 信用大数据可视化 (/console/screen/): draws the big screen's charts with the vendored ECharts from
   the figures the page carries in <script id="screen-data" type="application/json">, then fetches
   the same figures from the page's data-url every data-refresh seconds (same origin) and redraws.
   Every chart item carries the URL of the console list behind it: a click opens it. */
(function () {
  "use strict";

  var BLUE = "#3ba0ff", RED = "#ff5b5b", GREEN = "#3ccf8e", GOLD = "#f5c04a", VIOLET = "#a58bff";
  var TEXT = "#dce8f7", GRID = "rgba(220, 232, 247, 0.15)";
  var charts = {};

  function base() {
    return {
      textStyle: { color: TEXT, fontFamily: window.getComputedStyle(document.body).fontFamily, fontSize: 16 },
      aria: { enabled: true },
      animationDuration: 600,
      // Drawn on the canvas: an HTML tooltip carries style attributes, which the CSP blocks.
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 0, textStyle: { color: TEXT, fontSize: 16 } },
      grid: { left: 16, right: 24, top: 44, bottom: 12, containLabel: true }
    };
  }

  function axis(type, data) {
    var a = {
      type: type,
      axisLabel: { color: TEXT, fontSize: 14 },
      axisLine: { lineStyle: { color: GRID } },
      splitLine: { lineStyle: { color: GRID } }
    };
    if (data) {
      a.data = data;
    }
    if (type === "value") {
      a.minInterval = 1;
    }
    return a;
  }

  function merge(option, own) {
    Object.keys(own).forEach(function (key) { option[key] = own[key]; });
    return option;
  }

  function draw(id, own, onClick) {
    var el = document.getElementById(id);
    if (!el) {
      return;
    }
    var chart = charts[id];
    if (!chart) {
      chart = window.echarts.init(el, null, { renderer: "canvas" });
      charts[id] = chart;
      chart.on("click", function (params) {
        var url = onClick(params);
        if (url) {
          window.location.assign(url);
        }
      });
    }
    chart.setOption(merge(base(), own), true);
    el.setAttribute("data-rendered", "true");
  }

  function itemUrl(params) {
    return params.data && params.data.url;
  }

  function render(data) {
    var labels = data.labels;
    var months = data.records_by_month;
    draw("chart-records-month", {
      color: [BLUE],
      legend: { show: false },
      xAxis: axis("category", months.months),
      yAxis: axis("value"),
      series: [{
        name: labels.records, type: "line", smooth: true, areaStyle: { opacity: 0.25 },
        data: months.counts
      }]
    }, function () { return months.url; });

    var districts = data.districts.districts;
    function bars(key, name, color) {
      return {
        name: name, type: "bar", barMaxWidth: 28, color: color,
        data: districts.map(function (d) { return { value: d[key], url: d.url, code: d.code }; })
      };
    }
    draw("chart-districts", {
      xAxis: merge(axis("category", districts.map(function (d) { return d.name; })), {
        axisLabel: { color: TEXT, fontSize: 13, interval: 0, rotate: districts.length > 6 ? 30 : 0 }
      }),
      yAxis: axis("value"),
      series: [
        bars("subjects", labels.subjects, BLUE),
        bars("records", labels.records, GOLD),
        bars("entries", labels.entries, RED)
      ]
    }, itemUrl);

    var categories = data.totals.records;
    draw("chart-categories", {
      color: [BLUE, GOLD, GREEN, RED, VIOLET, "#4fd1e8", "#ff9f5b", "#c0d84a"],
      tooltip: { trigger: "item", renderMode: "richText" },
      legend: { type: "scroll", orient: "vertical", right: 0, top: 8, textStyle: { color: TEXT } },
      series: [{
        type: "pie", radius: ["38%", "70%"], center: ["36%", "54%"],
        label: { color: TEXT },
        data: categories.map(function (c) { return { name: c.label, value: c.count, url: c.url }; })
      }]
    }, itemUrl);

    var violations = data.violation_types;
    var items = violations.items.slice().reverse();
    draw("chart-violations", {
      color: [RED],
      legend: { show: false },
      xAxis: axis("value"),
      yAxis: axis("category", items.map(function (i) { return i.label; })),
      series: [{ name: violations.category, type: "bar", barMaxWidth: 22, data: items.map(function (i) { return i.count; }) }]
    }, function () { return violations.url; });

    var lists = data.list_movements;
    var series = [];
    lists.series.forEach(function (s) {
      var color = s.kind === "red" ? GREEN : RED;
      series.push({
        name: s.label + " " + labels.added, type: "bar", stack: s.kind, color: color,
        data: s.added.map(function (n) { return { value: n, url: s.url }; })
      });
      series.push({
        name: s.label + " " + labels.removed, type: "bar", stack: s.kind, color: "#8a9bb0",
        data: s.removed.map(function (n) { return { value: -n, url: s.url }; })
      });
    });
    draw("chart-lists", {
      grid: { left: 16, right: 24, top: 72, bottom: 12, containLabel: true },
      xAxis: axis("category", lists.months),
      yAxis: axis("value"),
      series: series
    }, itemUrl);

    var ranking = data.department_ranking;
    var depts = ranking.items.slice().reverse();
    var percent = function (rate) { return rate === null ? "—" : Math.round(rate * 100) + "%"; };
    // The formulas of the two rates under the bars (drawn on the canvas: no inline style).
    var formulas = depts.length ? ranking.formulas.timeliness + "\n" + ranking.formulas.compliance : labels.no_reports;
    draw("chart-departments", {
      color: [BLUE],
      legend: { show: false },
      title: { text: "", subtext: formulas, left: 0, bottom: 0, subtextStyle: { color: "#9fb5cf", fontSize: 12, lineHeight: 16 } },
      grid: { left: 16, right: 150, top: 12, bottom: 48, containLabel: true },
      xAxis: axis("value"),
      yAxis: axis("category", depts.map(function (d) { return d.label; })),
      series: [{
        name: labels.submitted, type: "bar", barMaxWidth: 18,
        data: depts.map(function (d) { return { value: d.submitted, url: d.url, item: d }; }),
        label: {
          show: true, position: "right", color: TEXT,
          formatter: function (params) {
            var d = params.data.item;
            return labels.timeliness + " " + percent(d.timeliness) + " · " + labels.compliance + " " + percent(d.compliance);
          }
        }
      }]
    }, itemUrl);

    Array.prototype.forEach.call(document.querySelectorAll("[data-kpi]"), function (el) {
      var key = el.getAttribute("data-kpi");
      var value = null;
      if (key.indexOf("subjects.") === 0) {
        data.totals.subjects.forEach(function (k) {
          if ("subjects." + k.code === key) { value = k.count; }
        });
      } else {
        value = data.totals[key];
      }
      if (value !== null && value !== undefined) {
        el.textContent = Number(value).toLocaleString();
      }
    });
    var asOf = document.getElementById("screen-asof");
    if (asOf) {
      asOf.textContent = data.as_of;
    }
  }

  function start() {
    var main = document.querySelector("main.screen");
    var dataEl = document.getElementById("screen-data");
    if (!main || !dataEl || !window.echarts) {
      return;
    }
    render(JSON.parse(dataEl.textContent));
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (id) { charts[id].resize(); });
    });
    var seconds = parseInt(main.getAttribute("data-refresh"), 10) || 60;
    window.setInterval(function () {
      window.fetch(main.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { render(data); } })
        .catch(function () { /* keep the last figures; the next tick tries again */ });
    }, seconds * 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
