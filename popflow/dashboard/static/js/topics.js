// Tourism, travel and retail pages: shown only when their indicators are registered.
// Area-based indicators get a map (the Map view's component); others a chart and a table by key.
import { AlertsPanel } from "./alerts.js";
import { escapeHtml } from "./areamap.js";
import { ChoroplethView, fillSelect, releaseLabel } from "./mapview.js";
import { breakdownColumns, distinct, formatNumber, formatTime, measures, timeColumn } from "./model.js";

export const TOPICS = {
  tourism: { indicator: "tourism", kind: "map" },
  retail: { indicator: "sales-penetration", kind: "map", measure: "penetration" },
  travel: { indicator: "outbound-travel", kind: "chart", key: "destination_country", alerts: true },
};

export function topicView(ctx, name) {
  const topic = TOPICS[name];
  const section = document.getElementById(`view-${name}`);
  if (topic.kind === "map") return new ChoroplethView(ctx, section, name, [topic.indicator], topic.measure);
  return new KeyChartView(ctx, section, topic);
}

// A bar chart of the top keys (e.g. destination countries) for one time, with the full table below.
class KeyChartView {
  constructor(ctx, section, topic) {
    this.ctx = ctx;
    this.topic = topic;
    section.innerHTML = `<div class="controls"><label>Release <select data-release></select></label>
      <label>Measure <select data-measure></select></label><label>When <select data-time></select></label></div>
      <div class="chart"><div class="plot" data-plot></div></div>
      ${topic.alerts ? `<h3>Alerts</h3><div class="alerts-box" data-alerts></div>` : ""}<table class="data" data-table></table>`;
    this.q = (name) => section.querySelector(`[data-${name}]`);
    this.q("release").onchange = () => this.load();
    this.q("measure").onchange = () => this.draw();
    this.q("time").onchange = () => this.draw();
  }

  async start() {
    const releases = this.ctx.releases.filter((r) => r.indicator === this.topic.indicator);
    fillSelect(this.q("release"), releases.map((r) => [r.release_id, releaseLabel(r)]));
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
    Object.assign(this, { rows: data.rows, timeCol: timeColumn(data), breakdowns: breakdownColumns(data) });
    fillSelect(this.q("measure"), measures(data).map((m) => [m, m]));
    const times = this.timeCol ? distinct(this.rows, this.timeCol) : [];
    fillSelect(this.q("time"), times.map((t) => [t, formatTime(t)]));
    if (times.length) this.q("time").value = times[times.length - 1];
    this.draw();
  }

  draw() {
    const measure = this.q("measure").value, time = this.q("time").value, key = this.topic.key;
    const rows = this.rows.filter((r) => !this.timeCol || String(r[this.timeCol]) === time)
      .filter((r) => r[measure] !== null).sort((a, b) => b[measure] - a[measure]);
    const top = rows.slice(0, 20);
    if (this.chart) this.chart.dispose();
    this.chart = window.echarts.init(this.q("plot"));
    this.chart.setOption({ animation: false, grid: { left: 56, right: 16, top: 20, bottom: 40 }, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: top.map((r) => r[key]) }, yAxis: { type: "value" },
      series: [{ type: "bar", data: top.map((r) => r[measure]), itemStyle: { color: "#1d91c0" } }] });
    const columns = Object.keys(rows[0] || {});
    this.q("table").innerHTML = `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>` +
      rows.map((r) => `<tr>${columns.map((c) => `<td>${escapeHtml(typeof r[c] === "number" ? formatNumber(r[c]) : r[c] ?? "—")}</td>`).join("")}</tr>`).join("") +
      "</tbody>";
  }

  state() { return { rows: this.q("table").querySelectorAll("tbody tr").length, alerts: this.alerts?.state() ?? null }; }

  resize() { if (this.chart) this.chart.resize(); }
}
