// The Flows view: origin–destination flows as curved lines, width by volume, the top N only.
import { AreaMap, escapeHtml } from "./areamap.js";
import { rampCss } from "./colors.js";
import { fillSelect } from "./mapview.js";
import { distinct, formatNumber, formatTime, readable, releaseLevel, tableShape } from "./model.js";

const ALL = "__all__";
const COLORS = ["#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"];

export class FlowsView {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = (id) => document.getElementById(`flows-${id}`);
    this.area = new AreaMap(this.el("map"));
    this.el("release").onchange = () => this.load(this.el("release").value);
    for (const id of ["measure", "time", "top"]) this.el(id).onchange = () => this.draw();
  }

  async start() {
    // Releases of indicators with a declared flow (od-flows, workers, migration …); empty releases last.
    const empty = (r) => (Object.values(r.rows).some((n) => n > 0) ? 0 : 1);
    const releases = this.ctx.releases.filter((r) => this.ctx.kind(r.indicator) === "flow")
      .sort((a, b) => empty(a) - empty(b));
    const labels = this.ctx.labels(releases.map((r) => [r, r.tables[0]]));
    fillSelect(this.el("release"), releases.map((r, i) => [r.release_id, `${r.indicator} · ${labels[i]}`]));
    if (releases.length) await this.load(releases[0].release_id);
    else this.el("table").innerHTML = "<tr><td>No published flow release (od-flows, workers, migration) yet.</td></tr>";
  }

  async load(releaseId) {
    const release = this.ctx.releases.find((r) => r.release_id === releaseId);
    const data = await this.ctx.table(releaseId, release.tables[0]);
    const shape = tableShape(data, this.ctx.roles(release.indicator));
    this.rows = data.rows;
    this.pair = shape.flow;
    this.timeCol = shape.time;
    fillSelect(this.el("measure"), shape.measures.map((m) => [m, readable(m)]));
    const times = this.timeCol ? distinct(this.rows, this.timeCol) : [];
    fillSelect(this.el("time"), [[ALL, "all (sum of published cells)"], ...times.map((t) => [t, formatTime(t)])]);
    await this.area.setAreas(await this.ctx.areas(releaseLevel(release, this.ctx.levels)));
    await this.area.setPlain();
    await this.draw();
  }

  // Sum the chosen measure per origin → destination over the chosen time, keep the top N.
  top() {
    const measure = this.el("measure").value, time = this.el("time").value;
    const [from, to] = this.pair;
    const sums = new Map();
    for (const row of this.rows) {
      if (row[from] === row[to] || row[measure] === null) continue;
      if (time !== ALL && String(row[this.timeCol]) !== time) continue;
      const key = `${row[from]}\u0000${row[to]}`;
      sums.set(key, (sums.get(key) || 0) + row[measure]);
    }
    const ranked = [...sums].map(([key, value]) => ({ from: key.split("\u0000")[0], to: key.split("\u0000")[1], value }))
      .sort((a, b) => b.value - a.value);
    const n = Math.max(1, Number(this.el("top").value) || 20);
    return { flows: ranked.slice(0, n), total: ranked.length, measure };
  }

  async draw() {
    const { flows, total, measure } = this.top();
    const max = flows.length ? flows[0].value : 0;
    const name = (id) => this.area.names.get(id) || id;
    const features = flows.filter((f) => this.area.labels.has(f.from) && this.area.labels.has(f.to)).map((f) => ({
      type: "Feature",
      properties: { width: 1.5 + 11 * Math.sqrt(f.value / max), color: COLORS[Math.min(3, Math.floor(4 * f.value / (max + 1e-9)))],
        label: `${name(f.from)} → ${name(f.to)}: ${formatNumber(f.value)} ${readable(measure)}` },
      geometry: { type: "LineString", coordinates: arc(this.area.labels.get(f.from), this.area.labels.get(f.to)) },
    }));
    await this.area.setFlows({ type: "FeatureCollection", features });
    this.shown = features.length;
    this.renderTable(flows, measure, name);
    this.el("legend").innerHTML = `<div class="title">Top ${flows.length} of ${total} flows</div>
      <div class="ramp" style="background:${rampCss()}"></div>
      <div>line width by ${escapeHtml(readable(measure))}; largest ${formatNumber(max)}</div>
      <div>curves bend to the right of their direction</div>`;
  }

  renderTable(flows, measure, name) {
    const rows = flows.map((f, i) => `<tr><td class="num">${i + 1}</td><td>${escapeHtml(name(f.from))}</td>
      <td>${escapeHtml(name(f.to))}</td><td class="num">${formatNumber(f.value)}</td></tr>`).join("");
    this.el("table").innerHTML = `<thead><tr><th>#</th><th>from</th><th>to</th><th>${escapeHtml(readable(measure))}</th></tr></thead>
      <tbody>${rows}</tbody>`;
  }

  state() {
    return { release: this.el("release").value, rows: this.el("table").querySelectorAll("tbody tr").length,
      lines: this.shown || 0, ...this.area.drawn() };
  }

  resize() { this.area.resize(); }
}

// A quadratic curve from a to b bending to the right, so a → b and b → a do not overlap.
export function arc(a, b, steps = 24) {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const control = [(a[0] + b[0]) / 2 + dy * 0.2, (a[1] + b[1]) / 2 - dx * 0.2];
  const points = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps, u = 1 - t;
    points.push([u * u * a[0] + 2 * u * t * control[0] + t * t * b[0], u * u * a[1] + 2 * u * t * control[1] + t * t * b[1]]);
  }
  return points;
}
