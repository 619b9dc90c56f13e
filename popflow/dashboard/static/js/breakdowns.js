// The Breakdowns view: bar charts by gender, age band, origin region, … for one area and time (ECharts).
import { escapeHtml } from "./areamap.js";
import { areaColumn, breakdownColumns, distinct, formatTime, measures, releaseLevel, timeColumn } from "./model.js";
import { fillSelect, releaseLabel } from "./mapview.js";

export class BreakdownsView {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = (id) => document.getElementById(`bd-${id}`);
    this.charts = [];
    this.el("release").onchange = () => this.load();
    this.el("area").onchange = () => this.draw();
    this.el("time").onchange = () => this.draw();
  }

  // (release, table) pairs that hold breakdown columns: releases run with --by, and migration's arrivals.
  choices() {
    const pairs = [];
    for (const r of this.ctx.releases) {
      if (r.parameters?.by?.length) pairs.push([r, r.tables[0]]);
      if (r.tables.includes("arrivals")) pairs.push([r, "arrivals"]);
    }
    return pairs;
  }

  async start() {
    const choices = this.choices();
    fillSelect(this.el("release"), choices.map(([r, t]) => [`${r.release_id}|${t}`, `${t} · ${releaseLabel(r)}`]));
    if (choices.length) await this.load();
    else this.el("charts").innerHTML = "<p>No published release with breakdowns yet (run one with <code>by</code>).</p>";
  }

  async load() {
    const [releaseId, table] = this.el("release").value.split("|");
    const release = this.ctx.releases.find((r) => r.release_id === releaseId);
    const data = await this.ctx.table(releaseId, table);
    Object.assign(this, { data, rows: data.rows, areaCol: areaColumn(data), timeCol: timeColumn(data),
      measure: measures(data)[0], columns: breakdownColumns(data) });
    const names = await this.ctx.areaNames(releaseLevel(release, this.ctx.levels));
    const areas = distinct(this.rows, this.areaCol);
    fillSelect(this.el("area"), areas.map((a) => [a, names.get(a) ? `${names.get(a)} (${a})` : a]));
    if (areas.includes(this.ctx.selectedArea)) this.el("area").value = this.ctx.selectedArea;
    const times = this.timeCol ? distinct(this.rows, this.timeCol) : [];
    fillSelect(this.el("time"), times.map((t) => [t, formatTime(t)]));
    this.draw();
  }

  draw() {
    const area = this.el("area").value, time = this.el("time").value;
    const rows = this.rows.filter((r) => r[this.areaCol] === area && (!this.timeCol || String(r[this.timeCol]) === time));
    this.charts.forEach((c) => c.dispose());
    this.charts = [];
    this.el("charts").innerHTML = "";
    this.summary = this.columns.map((column) => this.chart(column, rows));
  }

  // One bar per category with published cells; categories with none are named as "too few to show".
  chart(column, rows) {
    const categories = distinct(this.rows, column);
    const sums = new Map();
    for (const row of rows) if (row[this.measure] !== null) sums.set(row[column], (sums.get(row[column]) || 0) + row[this.measure]);
    const shown = categories.filter((c) => sums.has(c));
    const hidden = categories.filter((c) => !sums.has(c));
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.column = column;
    box.innerHTML = `<h3>${escapeHtml(this.measure)} by ${escapeHtml(column.replace("_", " "))}</h3>
      <div class="plot"></div><p class="missing">${hidden.length
      ? `Too few to show: ${hidden.map(escapeHtml).join(", ")}` : "Every group published."}</p>`;
    this.el("charts").append(box);
    const chart = window.echarts.init(box.querySelector(".plot"));
    chart.setOption({
      tooltip: { trigger: "axis" }, grid: { left: 56, right: 16, top: 16, bottom: 40 },
      xAxis: { type: "category", data: shown, axisLabel: { interval: 0, rotate: shown.length > 8 ? 40 : 0 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: shown.map((c) => sums.get(c)), itemStyle: { color: "#1d91c0" } }],
      animation: false,
    });
    this.charts.push(chart);
    return { column, categories: shown, values: shown.map((c) => sums.get(c)), hidden };
  }

  state() {
    return { release: this.el("release").value, area: this.el("area").value, time: this.el("time").value,
      charts: this.summary || [] };
  }

  resize() { this.charts.forEach((c) => c.resize()); }
}
