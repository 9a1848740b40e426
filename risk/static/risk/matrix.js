// The probability × impact matrix of the risk page: the 5×5 cells coloured by the level their score
// gives, and one point per assessed subject (from #risk-matrix-data); a click opens its cases.
(function () {
  "use strict";
  var CELL = { low: "#c8e6c9", medium: "#ffe0b2", high: "#ffcdd2" };
  var POINT = { low: "#2e7d32", medium: "#ef6c00", high: "#c62828" };
  function draw() {
    var source = document.getElementById("risk-matrix-data");
    var element = document.getElementById("risk-matrix");
    if (!source || !element || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(element);
    var areas = data.cells.map(function (c) {
      return [
        { xAxis: c.impact - 0.5, yAxis: c.probability - 0.5, itemStyle: { color: CELL[c.level] } },
        { xAxis: c.impact + 0.5, yAxis: c.probability + 0.5 }
      ];
    });
    var axis = function (name) {
      return {
        type: "value", name: name, nameLocation: "middle", nameGap: 28, min: 0.5, max: 5.5,
        splitLine: { show: false },
        axisTick: { customValues: [1, 2, 3, 4, 5] },
        axisLabel: { customValues: [1, 2, 3, 4, 5] }
      };
    };
    chart.setOption({
      grid: { left: 56, right: 24, top: 24, bottom: 56 },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          // Subject names come from complaints (a product name is the consumer's text): escaped.
          var d = data.points[p.dataIndex];
          var esc = window.echarts.format.encodeHTML;
          return [esc(d.kind + "：" + d.label), data.axes.y + " " + d.probability + " × " + data.axes.x + " " + d.impact,
            esc(data.levels[d.level]) + " · " + d.cases].join("<br>");
        }
      },
      xAxis: axis(data.axes.x),
      yAxis: axis(data.axes.y),
      series: [{
        type: "scatter",
        symbolSize: 14,
        data: data.points.map(function (d) {
          return { value: [d.x, d.y], itemStyle: { color: POINT[d.level], borderColor: "#fff", borderWidth: 1 } };
        }),
        markArea: { silent: true, data: areas }
      }]
    });
    chart.on("click", function (params) {
      var d = data.points[params.dataIndex];
      if (params.componentType === "series" && d && d.url) { window.location.href = d.url; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
