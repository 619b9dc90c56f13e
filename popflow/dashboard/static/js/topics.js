// Tourism, travel and retail pages: shown only when their indicators are registered.
// Area-based indicators get a map (the Map view's component); others a chart and a table by key.
import { AlertsPanel } from "./alerts.js";
import { escapeHtml } from "./areamap.js";
import { ChoroplethView, fillSelect, largest } from "./mapview.js";
import { distinct, formatTime, formatValue, nameOf, readable, tableShape } from "./model.js";

export const TOPICS = {
  tourism: { indicator: "tourism", kind: "map" },
  retail: { indicator: "sales-penetration", kind: "map", measure: "penetration", ranking: "opportunity" },
  travel: { indicator: "outbound-travel", kind: "chart", alerts: true },
};

export function topicView(ctx, name) {
  const topic = TOPICS[name];
  const section = document.getElementById(`view-${name}`);
  if (topic.kind === "map") return new ChoroplethView(ctx, section, name, [topic.indicator], topic.measure, topic.ranking);
  return new KeyChartView(ctx, section, topic);
}

// A bar chart of the top keys (e.g. destination countries) for one time, a chart of one key over time beside the
// same periods a year earlier, and the full table below. Keys are shown by name, their codes in tooltips.
class KeyChartView {
  constructor(ctx, section, topic) {
    this.ctx = ctx;
    this.topic = topic;
    section.innerHTML = `<div class="controls"><label>Release <select data-release></select></label>
      <label>Measure <select data-measure></select></label><label>When <select data-time></select></label>
      <label>Over time <select data-key></select></label></div>
      <div class="charts"><div class="chart"><h3 data-top-title></h3><div class="plot" data-plot></div></div>
      <div class="chart"><h3 data-trend-title></h3><div class="plot" data-trend></div>
      <p class="missing" data-trend-note></p></div></div>
      ${topic.alerts ? `<h3>Alerts</h3><div class="alerts-box" data-alerts></div>` : ""}<table class="data" data-table></table>`;
    this.q = (name) => section.querySelector(`[data-${name}]`);
    this.q("release").onchange = () => this.load();
    for (const control of ["measure", "time", "key"]) this.q(control).onchange = () => this.draw();
  }

  async start() {
    const releases = this.ctx.releases.filter((r) => r.indicator === this.topic.indicator);
    const labels = this.ctx.labels(releases.map((r) => [r, r.tables[0]]));
    fillSelect(this.q("release"), releases.map((r, i) => [r.release_id, labels[i]]));
    if (releases.length) await this.load();
    else this.q("table").innerHTML = `<tr><td>No published ${escapeHtml(this.topic.indicator)} release yet.</td></tr>`;
    if (this.topic.alerts) {
      this.alerts = new AlertsPanel(this.ctx, this.q("alerts"), this.topic.indicator);
      await this.alerts.start();
    }
  }

  async load() {
    const release = this.ctx.releases.find((r) => r.release_id === this.q("release").value);
    const data = await this.ctx.table(release.release_id, release.tables[0]);
    const shape = tableShape(data, this.ctx.roles(release.indicator));
    Object.assign(this, { rows: data.rows, shape, timeCol: shape.time, key: shape.categories[0] });
    fillSelect(this.q("measure"), shape.measures.map((m) => [m, readable(m)]));
    const times = this.timeCol ? distinct(this.rows, this.timeCol) : [];
    fillSelect(this.q("time"), times.map((t) => [t, formatTime(t)]));
    if (times.length) this.q("time").value = times[times.length - 1];
    const keys = distinct(this.rows, this.key);
    fillSelect(this.q("key"), keys.map((k) => [k, this.name(k), k]));
    if (keys.length) this.q("key").value = largest(this.rows, this.key, shape.measures[0]);
    this.draw();
  }

  name(code) { return nameOf(this.ctx.names, code); }

  labelled(code) { return this.name(code) === String(code) ? String(code) : `${this.name(code)} (${code})`; }

  // A value as its column's role reads, money in the row's currency.
  value(row, column) {
    return formatValue(row[column], this.shape.role(column), this.shape.currency ? row[this.shape.currency] : null);
  }

  draw() {
    const measure = this.q("measure").value, time = this.q("time").value;
    const rows = this.rows.filter((r) => !this.timeCol || String(r[this.timeCol]) === time)
      .filter((r) => r[measure] !== null).sort((a, b) => b[measure] - a[measure]);
    const top = rows.slice(0, 20);
    this.q("top-title").textContent = `Top ${top.length} by ${readable(measure)}, ${formatTime(time)}`;
    this.chart = this.plot(this.chart, this.q("plot"), {
      tooltip: { trigger: "axis", formatter: ([i]) => `${escapeHtml(this.labelled(top[i.dataIndex][this.key]))}: ${
        escapeHtml(this.value(top[i.dataIndex], measure))}` },
      xAxis: { type: "category", data: top.map((r) => this.name(r[this.key])),
        axisLabel: { interval: 0, rotate: top.length > 5 ? 35 : 0 } },
      yAxis: { type: "value", axisLabel: { formatter: (v) => formatValue(v, this.shape.role(measure)) } },
      series: [{ type: "bar", data: top.map((r) => r[measure]), itemStyle: { color: "#1d91c0" } }] });
    this.trend = this.drawTrend(measure);
    this.renderTable(rows);
  }

  // The chosen key's measure per period over the last year of the release, and the same periods a year earlier.
  drawTrend(measure) {
    const key = this.q("key").value;
    const values = new Map();
    for (const r of this.rows) {
      if (String(r[this.key]) !== key || r[measure] === null) continue;
      values.set(r[this.timeCol], (values.get(r[this.timeCol]) || 0) + r[measure]);
    }
    const times = distinct(this.rows, this.timeCol);
    const last = times[times.length - 1];
    const recent = times.filter((t) => t > yearEarlier(last));
    const earlier = recent.map((t) => values.get(yearEarlier(t)) ?? null);
    const current = recent.map((t) => values.get(t) ?? null);
    this.q("trend-title").textContent = `${this.labelled(key)}: ${readable(measure)} over time`;
    this.q("trend-note").textContent = earlier.some((v) => v !== null)
      ? "Dashed: the same period a year earlier. Gaps: too few to show."
      : "This release holds no periods a year earlier. Gaps: too few to show.";
    this.trendChart = this.plot(this.trendChart, this.q("trend"), {
      tooltip: { trigger: "axis", valueFormatter: (v) => formatValue(v ?? null, this.shape.role(measure)) },
      legend: { top: 0, data: ["this year", "a year earlier"] },
      xAxis: { type: "category", data: recent },
      yAxis: { type: "value", axisLabel: { formatter: (v) => formatValue(v, this.shape.role(measure)) } },
      series: [{ name: "this year", type: "line", data: current, connectNulls: false, itemStyle: { color: "#1d91c0" } },
        { name: "a year earlier", type: "line", data: earlier, connectNulls: false,
          lineStyle: { type: "dashed" }, itemStyle: { color: "#9aa4ae" } }] });
    return { key, periods: recent, current, earlier };
  }

  plot(chart, element, option) {
    if (chart) chart.dispose();
    const made = window.echarts.init(element);
    made.setOption({ animation: false, grid: { left: 72, right: 16, top: 28, bottom: 48 }, ...option });
    return made;
  }

  renderTable(rows) {
    const columns = Object.keys(rows[0] || {});
    const cell = (r, c) => (c === this.key
      ? `<td title="${escapeHtml(r[c])}">${escapeHtml(this.name(r[c]))}</td>`
      : `<td class="${typeof r[c] === "number" ? "num" : ""}">${escapeHtml(typeof r[c] === "number" ? this.value(r, c) : r[c] ?? "—")}</td>`);
    this.q("table").innerHTML = `<thead><tr>${columns.map((c) => `<th>${escapeHtml(readable(c))}</th>`).join("")}</tr></thead>` +
      `<tbody>${rows.map((r) => `<tr>${columns.map((c) => cell(r, c)).join("")}</tr>`).join("")}</tbody>`;
  }

  state() {
    const cells = [...this.q("table").querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent));
    return { rows: cells.length, cells, headers: [...this.q("table").querySelectorAll("th")].map((th) => th.textContent),
      trend: this.trend ?? null, alerts: this.alerts?.state() ?? null };
  }

  resize() { this.chart?.resize(); this.trendChart?.resize(); }
}

// "2026-W05" → "2025-W05", "2026-03" → "2025-03", "2026-03-02" → "2025-03-02": the same period a year earlier.
export function yearEarlier(period) {
  const text = String(period);
  return `${Number(text.slice(0, 4)) - 1}${text.slice(4)}`;
}
