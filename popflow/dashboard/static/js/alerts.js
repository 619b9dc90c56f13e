// Alerts of a watched indicator: the newest alerts release that watches it, both directions, strongest first,
// each with a small chart of its series around the point, read from the watched release (the alerts
// release's suppressed.derived_from). A suppressed value is shown as "<k", never as a number.
import { escapeHtml } from "./areamap.js";
import { formatNumber, formatTime, nameOf, tableShape } from "./model.js";

const BEFORE = 8, AFTER = 4; // periods of the series drawn before and after an alert's point
const WIDTH = 220, HEIGHT = 64, PAD = 6;
const WAY_COLOUR = { up: "#d55e00", down: "#1f6feb" };

export class AlertsPanel {
  constructor(ctx, box, indicator) {
    Object.assign(this, { ctx, box, indicator, shown: [] });
  }

  async start() {
    const release = this.ctx.releases.find((r) => r.indicator === "alerts" && r.parameters?.indicator === this.indicator);
    if (!release) {
      this.box.innerHTML = `<p class="note">No alerts release watches ${escapeHtml(this.indicator)} yet.</p>`;
      return;
    }
    const alerts = (await this.ctx.table(release.release_id, release.tables[0])).rows;
    const watched = await this.watched(release.suppressed?.derived_from);
    this.watchedTime = watched && tableShape(watched, this.ctx.roles(this.indicator)).time;
    this.shown = [...alerts].sort((a, b) => Math.abs(b.score) - Math.abs(a.score));
    this.render(release, watched);
  }

  // The watched release's main table, or null when it is not visible to this token.
  async watched(releaseId) {
    const release = this.ctx.releases.find((r) => r.release_id === releaseId);
    return release ? this.ctx.table(release.release_id, release.tables[0]) : null;
  }

  render(release, watched) {
    if (!this.shown.length) {
      this.box.innerHTML = `<p class="note">No published value broke its pattern.</p>`;
      return;
    }
    const rows = this.shown.map((a) => `<tr data-direction="${escapeHtml(a.direction)}">
      <td class="${a.direction === "up" ? "up" : "down"}">${a.direction === "up" ? "▲ above" : "▼ below"}</td>
      <td title="${escapeHtml(a.key)}">${escapeHtml(this.keyName(a.key))}</td><td>${escapeHtml(formatTime(a.time))}</td>
      <td class="num">${valueText(a)}</td><td class="num">${formatNumber(a.expected)}</td>
      <td class="num">${a.score > 0 ? "+" : ""}${Number(a.score).toFixed(1)}</td>
      <td>${alertChart(a, seriesAround(watched, this.watchedTime, a))}</td></tr>`).join("");
    this.box.innerHTML = `<p class="note">${this.shown.length} published value(s) broke their pattern
      (${escapeHtml(this.shown[0].series)}, release ${escapeHtml(release.release_id)}). “&lt;k”: suppressed, below k.</p>
      <table class="data alerts"><thead><tr><th>Direction</th><th>Key</th><th>When</th><th class="num">Value</th>
      <th class="num">Expected</th><th class="num">Score</th><th>Around the point</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  // A series key by name: each part ("FR", "D03|F") as an area, region or country name.
  keyName(key) {
    return String(key).split("|").map((part) => nameOf(this.ctx.names, part)).join(" · ");
  }

  state() {
    const rows = [...this.box.querySelectorAll("tbody tr")];
    return { alerts: rows.length, directions: rows.map((r) => r.dataset.direction),
      keys: rows.map((r) => r.cells[1].textContent),
      charts: rows.map((r) => r.querySelectorAll("svg.alert-chart").length),
      scores: this.shown.map((a) => a.score) };
  }
}

function valueText(a) {
  return a.value === null || a.value === undefined ? `&lt;${formatNumber(a.below ?? "k")}` : formatNumber(a.value);
}

// The published values of the alert's series (same key) for the periods around its point. The key's columns are
// the watched table's first columns after its time column, as many as the key has parts ("FR", "D03|F").
export function seriesAround(watched, time, alert) {
  const measure = String(alert.series).split(":")[1];
  if (!time) return { periods: [String(alert.time)], values: [null], at: 0 };
  const parts = alert.key === "" ? 0 : String(alert.key).split("|").length;
  const names = watched.columns.map((c) => c.name);
  const keys = names.slice(names.indexOf(time) + 1, names.indexOf(time) + 1 + parts);
  const periods = [...new Set([...watched.rows.map((r) => String(r[time])), String(alert.time)])].sort();
  const series = new Map(watched.rows.filter((r) => keys.map((k) => r[k]).join("|") === String(alert.key) && r[measure] !== null)
    .map((r) => [String(r[time]), r[measure]]));
  const at = periods.indexOf(String(alert.time));
  const shown = periods.slice(Math.max(0, at - BEFORE), at + AFTER + 1);
  return { periods: shown, values: shown.map((p) => series.get(p) ?? null), at: shown.indexOf(String(alert.time)) };
}

// A small inline SVG: the series' line and dots, the dashed k line, the expected value as a bar at the point,
// and the point as a dot (or, suppressed, as a ring on the k line labelled "<k").
export function alertChart(alert, { periods, values, at }) {
  const censored = alert.value === null || alert.value === undefined;
  const known = [...values, alert.expected, alert.value, alert.below].filter((v) => v !== null && v !== undefined);
  const top = (Math.max(1, ...known) * 1.1);
  const x = (i) => PAD + (periods.length > 1 ? i / (periods.length - 1) : 0.5) * (WIDTH - 2 * PAD);
  const y = (v) => HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD - 8);
  let path = "", pen = false;
  values.forEach((v, i) => {
    if (v === null || (i === at && censored)) { pen = false; return; }
    path += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    pen = true;
  });
  const dots = values.map((v, i) => (v === null || i === at ? "" : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="1.8" fill="#5f6b78"/>`)).join("");
  const colour = WAY_COLOUR[alert.direction] || "#1d2733";
  const hasBelow = alert.below !== null && alert.below !== undefined;
  const kLine = hasBelow ? `<line class="below-k" x1="${PAD}" x2="${WIDTH - PAD}" y1="${y(alert.below).toFixed(1)}" y2="${y(alert.below).toFixed(1)}" stroke="#9aa4ae" stroke-dasharray="3 3"/>` : "";
  const expected = alert.expected === null ? "" : `<line class="expected" x1="${x(at) - 7}" x2="${x(at) + 7}" y1="${y(alert.expected).toFixed(1)}" y2="${y(alert.expected).toFixed(1)}" stroke="#1d2733" stroke-width="2"><title>expected ${formatNumber(alert.expected)}</title></line>`;
  const level = hasBelow ? y(alert.below) : HEIGHT - PAD;
  const right = x(at) > WIDTH / 2;
  const point = censored
    ? `<g class="alert-point censored"><title>value below ${formatNumber(alert.below ?? "k")} (not published)</title>
        <circle cx="${x(at)}" cy="${level.toFixed(1)}" r="4" fill="#fff" stroke="${colour}" stroke-width="2"/>
        <text x="${x(at) + (right ? -7 : 7)}" y="${(level - 5).toFixed(1)}" fill="${colour}" font-size="11" text-anchor="${right ? "end" : "start"}">${valueText(alert)}</text></g>`
    : `<g class="alert-point"><title>value ${formatNumber(alert.value)}</title><circle cx="${x(at)}" cy="${y(alert.value).toFixed(1)}" r="4" fill="${colour}"/></g>`;
  const label = `${alert.key}: ${periods[0]} to ${periods[periods.length - 1]}; at ${alert.time} ${censored ? "<" + (alert.below ?? "k") : alert.value}, expected ${alert.expected}`;
  return `<svg class="alert-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(label)}">
    <title>${escapeHtml(label)}</title>${kLine}<path d="${path}" fill="none" stroke="#5f6b78" stroke-width="1.4"/>${dots}${expected}${point}</svg>`;
}
