// The trends page's plots: uPlot over the numbers the page also shows as a table (#trend-data, #trend-table).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trend-data").textContent);
  var colours = ["#b3261e", "#8a5a00", "#0b57d0", "#5f6368", "#146c2e", "#7b1fa2"];
  function plot(id, series) {
    var el = document.getElementById(id);
    var width = function () { return Math.max(280, el.clientWidth); };
    var opts = {
      width: width(), height: 240,
      scales: { x: { time: true } },
      axes: [{ stroke: "#1f1f1f" }, { stroke: "#1f1f1f", size: 70 }],
      series: [{}].concat(series.map(function (s, i) {
        return { label: s[1], stroke: colours[i % colours.length], width: 2, points: { show: data.time.length < 60 } };
      })),
    };
    var chart = new uPlot(opts, [data.time].concat(series.map(function (s) { return data[s[0]]; })), el);
    window.addEventListener("resize", function () { chart.setSize({ width: width(), height: 240 }); });
  }
  plot("chart-errors", [["errors", "Errors"], ["warnings", "Warnings"]]);
  plot("chart-people-plot", [["peopleActive", "Active people"], ["peopleInactive", "Inactive people"]]);
  plot("chart-entities-plot", [["organizationsActive", "Organizations"], ["groupsActive", "Groups"], ["membershipsActive", "Memberships"]]);
})();
