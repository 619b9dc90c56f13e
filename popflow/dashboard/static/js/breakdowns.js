// The Breakdowns view: bar charts by gender, age band, origin region, … for one area and time (ECharts).
import { escapeHtml } from "./areamap.js";
import { fillSelect } from "./mapview.js";
import { distinct, formatTime, formatValue, nameOf, readable, releaseLevel, tableShape } from "./model.js";

export class BreakdownsView {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = (id) => document.getElementById(`bd-${id}`);
    this.charts = [];
    this.el("release").onchange = () => this.load();
    this.el("area").onchange = () => this.draw();
    this.el("time").onchange = () => this.draw();
  }

  // (release, table) pairs that hold breakdowns of people in areas: tables with an area column and a category
  // key (migration's arrivals, by origin region), or any release of an area indicator run with --by.
  choices() {
    const pairs = [];
    for (const r of this.ctx.releases) {
      const roles = this.ctx.roles(r.indicator);
      if (this.ctx.kind(r.indicator) !== "map" && !roles.flow) continue;
      for (const table of r.tables) {
        const keys = roles.tables?.[table] || [];
        const divided = keys.some((k) => roles.columns[k] === "category") && keys.some((k) => roles.columns[k] === "area");
        if (divided || (table === r.tables[0] && r.parameters?.by?.length && !roles.flow)) pairs.push([r, table]);
      }
    }
    const asked = ([r]) => (r.parameters?.by?.length ? 0 : 1);  // releases run with --by first
    return pairs.sort((a, b) => asked(a) - asked(b));
  }

  async start() {
    const choices = this.choices();
    const labels = this.ctx.labels(choices);
    fillSelect(this.el("release"), choices.map(([r, t], i) => [`${r.release_id}|${t}`, `${r.indicator} · ${labels[i]}`]));
    if (choices.length) await this.load();
    else this.el("charts").innerHTML = "<p>No published release with breakdowns yet (run one with <code>by</code>).</p>";
  }

  async load() {
    const [releaseId, table] = this.el("release").value.split("|");
    const release = this.ctx.releases.find((r) => r.release_id === releaseId);
    const data = await this.ctx.table(releaseId, table);
    const shape = tableShape(data, this.ctx.roles(release.indicator));
    Object.assign(this, { data, shape, rows: data.rows, areaCol: shape.area, timeCol: shape.time,
      measure: shape.measures[0], columns: shape.categories });
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
    const name = (c) => nameOf(this.ctx.names, c);
    const labelled = (c) => (name(c) === String(c) ? name(c) : `${name(c)} (${c})`);
    box.innerHTML = `<h3>${escapeHtml(readable(this.measure))} by ${escapeHtml(readable(column))}</h3>
      <div class="plot"></div><p class="missing">${hidden.length
      ? `Too few to show: ${hidden.map((c) => escapeHtml(labelled(c))).join(", ")}` : "Every group published."}</p>`;
    this.el("charts").append(box);
    const chart = window.echarts.init(box.querySelector(".plot"));
    const format = (v) => formatValue(v, this.shape.role(this.measure));
    chart.setOption({
      tooltip: { trigger: "axis", formatter: (items) => items.map((i) => `${escapeHtml(labelled(shown[i.dataIndex]))}: ${
        escapeHtml(format(i.value))}`).join("<br>") },
      grid: { left: 56, right: 16, top: 16, bottom: 40 },
      xAxis: { type: "category", data: shown.map(name), axisLabel: { interval: 0, rotate: shown.length > 8 ? 40 : 0 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: shown.map((c) => sums.get(c)), itemStyle: { color: "#1d91c0" } }],
      animation: false,
    });
    this.charts.push(chart);
    return { column, categories: shown, names: shown.map(name), values: shown.map((c) => sums.get(c)), hidden };
  }

  state() {
    return { release: this.el("release").value, area: this.el("area").value, time: this.el("time").value,
      charts: this.summary || [] };
  }

  resize() { this.charts.forEach((c) => c.resize()); }
}
