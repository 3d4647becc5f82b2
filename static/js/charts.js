/*
 * Charts — ECharts (static/vendor/echarts) drawn from our JSON (webapp/charts/views.py), with no
 * inline script (CSP):
 *
 *   <figure class="chart" data-chart="cameras" data-src="/charts/cameras.json">
 *     <figcaption>…</figcaption><div class="chart-canvas"></div>
 *   </figure>
 *
 * data-chart names the builder below; data-theme="dark" on a chart (the big screen) switches to
 * light text on a dark ground. Each chart follows its container's size (ResizeObserver) and, on
 * the big screen, refreshes every data-refresh seconds.
 */
(function () {
  "use strict";

  // Colour-blind-safe hues, legible on white and on the big screen's navy.
  const ONLINE = "#16a34a", OFFLINE = "#f59e0b", FAULTY = "#dc2626", BLUE = "#2563eb";
  const PALETTE = ["#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#64748b"];

  function theme(dark) {
    const text = dark ? "#e2e8f0" : "#1f2937";
    const line = dark ? "#334155" : "#e5e7eb";
    return {
      text: text,
      axis: {
        axisLabel: { color: text },
        axisLine: { lineStyle: { color: dark ? "#64748b" : "#9ca3af" } },
        splitLine: { lineStyle: { color: line } },
        nameTextStyle: { color: text },
      },
    };
  }

  // A category axis with more entries than this shows ZOOM of them and a slider for the rest.
  const ZOOM = 12;

  function zoom(count, axisName) {
    if (count <= ZOOM) return [];
    const slider = { type: "slider", startValue: 0, endValue: ZOOM - 1, zoomLock: true, brushSelect: false, showDetail: false, showDataShadow: false };
    if (axisName === "x") return [Object.assign(slider, { xAxisIndex: 0, bottom: 4, height: 16 })];
    // The collection chart lists grids top-down: its window starts at the end (the lowest).
    return [Object.assign(slider, { yAxisIndex: 0, right: 4, width: 16, startValue: count - ZOOM, endValue: count - 1 })];
  }

  function pct(value) { return value == null ? "—" : value.toFixed(1) + "%"; }

  function base(dark, extra) {
    const t = theme(dark);
    return Object.assign({
      color: PALETTE,
      textStyle: { fontFamily: "system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif", color: t.text },
      legend: { top: 0, textStyle: { color: t.text }, type: "scroll" },
      tooltip: { trigger: "axis", confine: true },
      grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
    }, extra);
  }

  function axis(dark, props) { return Object.assign({}, theme(dark).axis, props); }
  function day(iso) { return iso.slice(5); }  // MM-DD: the year is in the caption

  const BUILDERS = {
    cameras: function (data, dark) {
      // 在线 is most of every bar: draw the exceptions as bars and the rates as lines.
      const connectedRate = data.connected.map(function (n, i) {
        return data.total[i] ? Math.round(n * 1000 / data.total[i]) / 10 : null;
      });
      return base(dark, {
        grid: { left: 8, right: 12, top: 48, bottom: 8, containLabel: true },
        xAxis: axis(dark, { type: "category", data: data.days.map(day) }),
        yAxis: [
          axis(dark, { type: "value", name: "离线/故障(个)", minInterval: 1, nameTextStyle: { align: "left", color: theme(dark).text } }),
          axis(dark, { type: "value", min: function (v) { return Math.max(0, Math.floor(v.min / 10) * 10 - 10); }, max: 100, axisLabel: { formatter: "{value}%", color: theme(dark).text }, splitLine: { show: false } }),
        ],
        series: [
          { name: "离线", type: "bar", stack: "state", data: data.states["离线"], itemStyle: { color: OFFLINE } },
          { name: "故障", type: "bar", stack: "state", data: data.states["故障"], itemStyle: { color: FAULTY } },
          { name: "在线率", type: "line", yAxisIndex: 1, data: data.online_rate, symbol: "none", lineStyle: { color: ONLINE, width: 2 }, itemStyle: { color: ONLINE }, tooltip: { valueFormatter: pct } },
          { name: "雪亮工程接入率", type: "line", yAxisIndex: 1, data: connectedRate, symbol: "none", lineStyle: { color: dark ? "#93c5fd" : BLUE, width: 2, type: "dashed" }, itemStyle: { color: dark ? "#93c5fd" : BLUE }, tooltip: { valueFormatter: pct } },
        ],
      });
    },

    campaigns: function (data, dark) {
      const rows = data.communities;
      return base(dark, {
        xAxis: axis(dark, { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { interval: 0, rotate: rows.length > 6 ? 30 : 0, color: theme(dark).text } }),
        yAxis: axis(dark, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", color: theme(dark).text } }),
        tooltip: { trigger: "axis", confine: true, valueFormatter: pct },
        series: [
          { name: "申报率", type: "bar", data: rows.map(function (r) { return r.declared_rate; }), itemStyle: { color: "#93c5fd" } },
          { name: "达标率", type: "bar", data: rows.map(function (r) { return r.rate; }), itemStyle: { color: ONLINE }, label: { show: rows.length <= 8, position: "top", formatter: function (p) { return pct(p.value); }, color: theme(dark).text } },
        ],
      });
    },

    events: function (data, dark) {
      const names = Object.keys(data.categories);
      const series = names.map(function (name) {
        return { name: name, type: "bar", stack: "reported", data: data.categories[name] };
      });
      series.push({ name: "按期办结率", type: "line", yAxisIndex: 1, data: data.on_time_rate, connectNulls: true, symbol: "circle", symbolSize: 4, lineStyle: { color: dark ? "#fde68a" : "#111827", width: 2 }, itemStyle: { color: dark ? "#fde68a" : "#111827" }, tooltip: { valueFormatter: pct } });
      return base(dark, {
        grid: { left: 8, right: 12, top: 48, bottom: 8, containLabel: true },
        xAxis: axis(dark, { type: "category", data: data.days.map(day) }),
        yAxis: [
          axis(dark, { type: "value", name: "件", minInterval: 1 }),
          axis(dark, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", color: theme(dark).text }, splitLine: { show: false } }),
        ],
        series: series,
      });
    },

    visits: function (data, dark) {
      // The grids with the most visits waiting first; a slider past ZOOM of them.
      const rows = data.grids.slice().sort(function (a, b) { return b.due - a.due || b.done - a.done; });
      return base(dark, {
        grid: { left: 8, right: 12, top: 48, bottom: rows.length > ZOOM ? 36 : 8, containLabel: true },
        dataZoom: zoom(rows.length, "x"),
        xAxis: axis(dark, { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { interval: 0, rotate: Math.min(rows.length, ZOOM) > 6 ? 40 : 0, color: theme(dark).text } }),
        yAxis: axis(dark, { type: "value", name: "次", minInterval: 1 }),
        series: [
          { name: "近" + data.days + "天已走访", type: "bar", data: rows.map(function (r) { return r.done; }), itemStyle: { color: ONLINE } },
          { name: "已到期未走访", type: "bar", data: rows.map(function (r) { return r.due; }), itemStyle: { color: FAULTY } },
        ],
      });
    },

    collection: function (data, dark) {
      // Lowest share first from the server; the bar chart reads top-down, so reverse.
      const rows = data.grids.slice().reverse();
      return base(dark, {
        grid: { left: 8, right: rows.length > ZOOM ? 72 : 48, top: 8, bottom: 8, containLabel: true },
        dataZoom: zoom(rows.length, "y"),
        legend: { show: false },
        xAxis: axis(dark, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", color: theme(dark).text } }),
        yAxis: axis(dark, { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { interval: 0, color: theme(dark).text, fontSize: 11 } }),
        tooltip: {
          trigger: "axis", confine: true,
          formatter: function (items) {
            const r = rows[items[0].dataIndex];
            return r.name + "<br>已采集 " + r.recorded + " / " + r.houses + " 户(" + pct(r.share) + ")";
          },
        },
        series: [{
          name: "采集进度", type: "bar", data: rows.map(function (r) { return r.share; }),
          itemStyle: { color: BLUE },
          label: { show: true, position: "right", formatter: function (p) { return pct(p.value); }, color: theme(dark).text, fontSize: 11 },
        }],
      });
    },
  };

  function empty(data) {
    if (data.days) return data.days.length === 0;
    const list = data.communities || data.grids || [];
    return list.length === 0;
  }

  function draw(figure) {
    const build = BUILDERS[figure.dataset.chart];
    const box = figure.querySelector(".chart-canvas");
    if (!build || !box || typeof echarts === "undefined") return;
    const dark = figure.dataset.theme === "dark";
    const chart = echarts.getInstanceByDom(box) || echarts.init(box, null, { renderer: "canvas" });
    fetch(figure.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        figure.classList.toggle("chart-empty", empty(data));
        chart.setOption(build(data, dark), true);
        figure.dataset.drawn = "1";
      })
      .catch(function () {
        figure.classList.add("chart-failed");
      });
    if (!figure.dataset.observed && typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(box);
      figure.dataset.observed = "1";
      const every = parseInt(figure.dataset.refresh || "0", 10);
      if (every > 0) setInterval(function () { draw(figure); }, every * 1000);
    }
  }

  function setUp(root) {
    root.querySelectorAll("figure.chart[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target || document); });
})();
