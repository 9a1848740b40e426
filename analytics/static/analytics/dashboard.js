// The analytics dashboard: draws each chart from the JSON the page carries (#analytics-charts) with
// ECharts (served locally); a click on any item opens the matching case list.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("analytics-charts");
    if (!source || typeof window.echarts === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    charts.forEach(function (chart) {
      var element = document.getElementById(chart.id);
      if (!element) { return; }
      var instance = window.echarts.init(element);
      var option;
      if (chart.type === "trend") {
        var days = chart.days.concat(chart.band.days);
        var pad = chart.days.map(function () { return null; });
        var spikeDays = {};
        chart.spikes.forEach(function (s) { spikeDays[s.day] = s; });
        option = {
          tooltip: { trigger: "axis" },
          xAxis: { type: "category", data: days },
          yAxis: { type: "value", minInterval: 1 },
          series: [
            { name: "received", type: "line", data: chart.values,
              markPoint: { data: chart.spikes.map(function (s) {
                return { name: s.label, coord: [s.day, chart.values[chart.days.indexOf(s.day)] || s.observed], value: s.observed };
              }) } },
            { name: "lo95", type: "line", stack: "band95", symbol: "none", lineStyle: { opacity: 0 },
              data: pad.concat(chart.band.lo95) },
            { name: "95%", type: "line", stack: "band95", symbol: "none", lineStyle: { opacity: 0 },
              areaStyle: { opacity: 0.2 },
              data: pad.concat(chart.band.hi95.map(function (hi, i) { return hi - chart.band.lo95[i]; })) },
            { name: "expected", type: "line", symbol: "none", lineStyle: { type: "dashed" },
              data: pad.concat(chart.band.expected) }
          ]
        };
        instance.on("click", function (params) {
          if (params.seriesIndex === 0 && chart.urls[params.dataIndex]) { window.location.href = chart.urls[params.dataIndex]; }
        });
      } else {
        var series = [{ name: chart.series ? chart.series[0] : chart.title, type: "bar", data: chart.values }];
        if (chart.values2) { series.push({ name: chart.series[1], type: "bar", data: chart.values2 }); }
        option = {
          tooltip: { trigger: "axis" },
          legend: chart.series ? {} : undefined,
          xAxis: { type: "category", data: chart.labels, axisLabel: { interval: 0, rotate: chart.labels.length > 6 ? 30 : 0 } },
          yAxis: { type: "value", max: chart.measure === "rate" || chart.measure.indexOf("timeliness") >= 0 ? 1 : undefined },
          series: series
        };
        instance.on("click", function (params) {
          if (chart.urls[params.dataIndex]) { window.location.href = chart.urls[params.dataIndex]; }
        });
      }
      instance.setOption(option);
      window.addEventListener("resize", function () { instance.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
