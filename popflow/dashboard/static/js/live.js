// The Live view: areas coloured by the latest live present population, updated from /api/live/events, and the
// areas whose present population breaks its usual level for that hour of the week (the snapshot's alerts).
// EventSource cannot send the Authorization header, so events are read with fetch() and a small SSE parser:
// the token stays in the header, never in a URL.
import { ApiError, getJSON, openStream } from "./api.js";
import { AreaMap, describeValue, escapeHtml } from "./areamap.js";
import { renderLegend } from "./colors.js";
import { fillSelect } from "./mapview.js";
import { formatNumber, formatTime } from "./model.js";

const RETRY_MS = 3000; // wait before asking again when no stream has published, or a connection dropped
const QUIET_MS = 5000; // no new snapshot for this long: events have stopped arriving (snapshots come every second)
const NO_STREAM = "No live stream yet: nothing has been published. Start one on the server with "
  + "popflow stream --source dir:LANDING_DIR (files) or --source nats://HOST:PORT/SUBJECT (NATS JetStream); "
  + "this page follows it as soon as it publishes.";

export class LiveView {
  constructor(ctx, section) {
    section.innerHTML = `<div class="controls">
        <label>Level <select id="live-level"></select></label>
        <span id="live-bin" class="live-bin"></span>
        <span id="live-fresh" class="live-fresh"></span>
      </div>
      <div class="map-wrap"><div id="live-map" class="map" aria-label="live map of areas"></div>
        <div id="live-legend" class="legend"></div><div id="live-message" class="map-message" hidden></div></div>
      <h3>Alerts</h3><div id="live-alerts"></div>`;
    this.ctx = ctx;
    this.el = (name) => section.querySelector(`#live-${name}`);
    this.area = new AreaMap(this.el("map"), { describe: (p, v) => describeValue(p, v, "people") });
    this.snapshot = null;
    this.updates = 0;
    this.el("level").onchange = () => this.follow();
  }

  async start() {
    const levels = this.ctx.allowedLevels();
    fillSelect(this.el("level"), levels.map((l) => [l.name, l.name]));
    if (levels.length) this.el("level").value = levels[levels.length - 1].name;
    await this.follow();
  }

  // Stop listening and refreshing (the page was left); ``resume`` follows the stream again.
  stop() {
    this.abort?.abort();
    clearInterval(this.clock);
    this.clock = null;
  }

  resume() { return this.follow(); }

  // (Re)start following the live view at the chosen level: areas first, then the current snapshot.
  async follow() {
    this.stop();
    const abort = (this.abort = new AbortController());
    this.clock = setInterval(() => this.showFreshness(), 1000);
    const level = this.el("level").value;
    await this.area.setAreas(await this.ctx.areas(level));
    const query = `?bin=latest&level=${encodeURIComponent(level)}`;
    try {
      await this.show(await getJSON(`/api/live${query}`));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      await this.showMissing();
    }
    if (!abort.signal.aborted) this.listen(query, abort.signal);
  }

  // Read the event stream until aborted; reconnect after a dropped connection or while nothing is published.
  async listen(query, signal) {
    while (!signal.aborted) {
      try {
        await openStream(`/api/live/events${query}`, signal, (data) => this.show(JSON.parse(data)));
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) await this.showMissing();
        else if (error instanceof ApiError && [401, 403].includes(error.status)) return this.message(error.message);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  // No stream yet: plain areas (nothing was suppressed: nothing was published) and how to start one.
  async showMissing() {
    this.snapshot = null;
    this.message(NO_STREAM);
    await this.area.setPlain();
    this.el("legend").innerHTML = "";
    this.el("bin").textContent = "";
    this.el("fresh").textContent = "";
    this.el("alerts").innerHTML = "";
  }

  message(text) {
    const box = this.el("message");
    box.hidden = !text;
    box.textContent = text || "";
  }

  // Colour the areas by a snapshot's cells (the newest bin); areas without a cell are hatched.
  async show(snapshot) {
    this.snapshot = snapshot;
    this.received = Date.now();
    this.updates += 1;
    this.message("");
    const values = new Map(snapshot.cells.map((c) => [c.area_id, c.people]));
    const people = [...values.values()];
    this.domain = { min: people.length ? Math.min(...people) : 0, max: people.length ? Math.max(...people) : 0 };
    await this.area.setValues(values, this.domain);
    const shown = this.area.areaIds.filter((id) => values.has(id)).length;
    renderLegend(this.el("legend"), { title: "live present population: people", ...this.domain,
      shown, suppressed: this.area.areaIds.length - shown, format: formatNumber });
    this.showAlerts(snapshot.freshness.alerts || []);
    this.showFreshness();
  }

  // The lag of the newest event behind the event clock (the wall clock, or a replay's), grown since the snapshot
  // came at the clock's rate; null before any event.
  lag() {
    const fresh = this.snapshot?.freshness;
    if (fresh?.lag_seconds === null || fresh?.lag_seconds === undefined) return null;
    return fresh.lag_seconds + ((Date.now() - this.received) / 1000) * (fresh.clock_rate ?? 1);
  }

  // The bin shown and whether it is final, still collecting events, or open with no newer events to close it:
  // no snapshot for a while, and the event clock past the bin's end and lateness.
  showBin() {
    const fresh = this.snapshot.freshness, bins = fresh.bins || [];
    const time = this.snapshot.cells[0]?.time ?? bins[bins.length - 1]?.time;
    const final = bins.find((b) => b.time === time)?.final;
    const idle = Date.now() - this.received > QUIET_MS && this.lag() !== null
      && this.lag() > (fresh.bin_seconds || 0) + (fresh.lateness_seconds || 0);
    const status = final !== false ? "" : idle ? " (open: no newer events have arrived to close it)" : " (still open)";
    this.el("bin").textContent = time ? `Bin ${formatTime(time)}${status}` : "No bin yet";
  }

  // The closed bins' alerts, strongest first: area, bin, value (or "<k" when suppressed), expected, score.
  showAlerts(alerts) {
    const box = this.el("alerts");
    if (!alerts.length) {
      box.innerHTML = `<p class="note">No area breaks its usual level for the hour of the week.</p>`;
      return;
    }
    const rows = [...alerts].sort((a, b) => Math.abs(b.score) - Math.abs(a.score)).map((a) => `<tr>
        <td>${a.direction === "up" ? "▲ above" : "▼ below"}</td>
        <td>${escapeHtml(this.area.names.get(a.area_id) ?? a.area_id)}</td><td>${escapeHtml(formatTime(a.time))}</td>
        <td class="num">${a.value === null ? `&lt;${formatNumber(a.below)}` : formatNumber(a.value)}</td>
        <td class="num">${formatNumber(a.expected)}</td><td class="num">${a.score > 0 ? "+" : ""}${a.score.toFixed(1)}</td></tr>`);
    box.innerHTML = `<table class="data"><thead><tr><th>Direction</th><th>Area</th><th>Bin</th><th class="num">People</th>
      <th class="num">Expected</th><th class="num">Score</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  }

  showFreshness() {
    const fresh = this.snapshot?.freshness;
    if (!fresh?.published_at) return;
    this.showBin();
    const ago = Math.max(0, Math.round((Date.now() - Date.parse(fresh.published_at)) / 1000));
    const lag = this.lag() === null ? "—" : duration(this.lag());
    const clock = (fresh.clock_rate ?? 1) === 1 ? "" : ` (replay clock, ${formatNumber(fresh.clock_rate)}× real time)`;
    this.el("fresh").textContent = `updated ${ago} s ago · lag behind newest event ${lag}${clock}`;
  }

  resize() { this.area.resize(); }

  state() {
    return { level: this.el("level").value, updates: this.updates, published: this.snapshot?.freshness?.published_at ?? null,
      time: this.snapshot?.cells?.[0]?.time ?? null, cells: this.snapshot?.cells?.length ?? 0,
      missing: !this.el("message").hidden && this.el("message").textContent === NO_STREAM,
      alerts: this.el("alerts").querySelectorAll("tbody tr").length,
      bin: this.el("bin").textContent, fresh: this.el("fresh").textContent, listening: Boolean(this.clock),
      message: this.el("message").textContent, ...this.domain, ...this.area.drawn() };
  }
}

// 42 → "42 s", 5400 → "1.5 h", 23319033 → "269.9 d".
export function duration(seconds) {
  const units = [[86400, "d"], [3600, "h"], [60, "min"]];
  const [size, name] = units.find(([size]) => Math.abs(seconds) >= size) || [1, "s"];
  return `${formatNumber(Math.round((seconds / size) * 10) / 10)} ${name}`;
}
