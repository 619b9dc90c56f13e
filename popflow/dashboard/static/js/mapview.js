// The Map view: areas coloured by an indicator's published cells, a time slider with play, legend, level switch.
import { createRelease } from "./api.js";
import { AreaMap, describeValue, escapeHtml } from "./areamap.js";
import { renderLegend } from "./colors.js";
import { areaColumn, breakdownColumns, distinct, formatNumber, formatTime, measures, releaseLevel, timeColumn } from "./model.js";

export function mapMarkup(p) {
  return `<div class="controls">
      <label>Indicator <select id="${p}-indicator"></select></label>
      <label>Level <select id="${p}-level"></select></label>
      <label>Release <select id="${p}-release"></select></label>
      <span id="${p}-filters" class="filters"></span>
    </div>
    <div class="map-wrap"><div id="${p}-map" class="map" aria-label="map of areas"></div>
      <div id="${p}-legend" class="legend"></div><div id="${p}-message" class="map-message" hidden></div></div>
    <div class="timebar"><button id="${p}-play" aria-label="play">▶</button>
      <input id="${p}-time" type="range" min="0" max="0" value="0" aria-label="time">
      <span id="${p}-time-label" class="time-label"></span></div>`;
}

export class ChoroplethView {
  constructor(ctx, section, prefix, indicators, preferredMeasure = null) {
    section.innerHTML = mapMarkup(prefix);
    this.ctx = ctx;
    this.indicators = indicators;
    this.preferredMeasure = preferredMeasure;
    this.el = (name) => section.querySelector(`#${prefix}-${name}`);
    this.area = new AreaMap(this.el("map"), { describe: (p, v) => describeValue(p, v, this.measure || "") });
    this.area.onSelect = (id) => { if (id) ctx.selectedArea = id; };
    this.filters = {};
    this.timeIndex = 0;
    this.wire();
  }

  wire() {
    this.el("indicator").onchange = () => this.chooseIndicator();
    this.el("level").onchange = () => this.chooseLevel();
    this.el("release").onchange = () => this.loadRelease(this.el("release").value);
    this.el("time").oninput = () => this.showTime(Number(this.el("time").value));
    this.el("play").onclick = () => this.togglePlay();
  }

  async start() {
    fillSelect(this.el("indicator"), this.indicators.map((name) => [name, name]));
    fillSelect(this.el("level"), this.ctx.allowedLevels().map((l) => [l.name, l.name]));
    await this.chooseIndicator();
  }

  // Releases of an indicator at a level: those without breakdowns first, then the newest.
  releasesOf(indicator, level) {
    const plain = (r) => (r.parameters?.by?.length ? 1 : 0);
    return this.ctx.releases.filter((r) => r.indicator === indicator && releaseLevel(r, this.ctx.levels) === level)
      .sort((a, b) => plain(a) - plain(b));
  }

  // Switch indicator: show the finest level that has a release of it (the most detailed map).
  async chooseIndicator() {
    const indicator = this.el("indicator").value;
    const order = this.ctx.levels.map((l) => l.name);
    const levels = this.ctx.releases.filter((r) => r.indicator === indicator).map((r) => releaseLevel(r, this.ctx.levels));
    const finest = levels.sort((a, b) => order.indexOf(b) - order.indexOf(a))[0];
    const allowed = this.ctx.allowedLevels();
    const level = finest || (allowed.length ? allowed[allowed.length - 1].name : this.el("level").value);
    if ([...this.el("level").options].some((o) => o.value === level)) this.el("level").value = level;
    await this.chooseLevel();
  }

  async chooseLevel(preferred) {
    const indicator = this.el("indicator").value, level = this.el("level").value;
    await this.area.setAreas(await this.ctx.areas(level));
    const releases = this.releasesOf(indicator, level);
    fillSelect(this.el("release"), releases.map((r) => [r.release_id, releaseLabel(r)]));
    if (!releases.length) return this.offerRelease(indicator, level);
    this.el("release").value = preferred || releases[0].release_id;
    await this.loadRelease(this.el("release").value);
  }

  offerRelease(indicator, level) {
    this.stop();
    this.rows = [];
    this.area.setValues(new Map(), { min: 0, max: 0 });
    this.el("legend").innerHTML = "";
    this.el("filters").innerHTML = "";
    this.setTimes([]);
    const box = this.el("message");
    box.hidden = false;
    box.innerHTML = `No published release of <strong>${escapeHtml(indicator)}</strong> at level <strong>${escapeHtml(level)}</strong>.`;
    if (!this.ctx.canCreate()) return;
    const button = Object.assign(document.createElement("button"), { textContent: "Create it", type: "button" });
    button.style.marginLeft = "8px";
    button.onclick = () => this.create(indicator, level);
    box.append(button);
  }

  async create(indicator, level) {
    const box = this.el("message");
    try {
      const id = await createRelease({ indicator, parameters: { level } }, (job) => {
        box.textContent = `Computing ${indicator} at ${level}: ${job.stage}` +
          (job.progress !== null ? ` (${Math.round(job.progress * 100)} %)` : "");
      });
      await this.ctx.refreshReleases();
      await this.chooseLevel(id);
    } catch (error) {
      box.textContent = `Could not create the release: ${error.message}`;
    }
  }

  async loadRelease(releaseId) {
    this.stop();
    this.el("message").hidden = true;
    const release = this.ctx.releases.find((r) => r.release_id === releaseId);
    const data = await this.ctx.table(releaseId, release.tables[0]);
    this.release = release;
    this.rows = data.rows;
    this.timeCol = timeColumn(data);
    this.areaCol = areaColumn(data);
    this.measureChoices = measures(data);
    this.measure = this.measureChoices.includes(this.preferredMeasure) ? this.preferredMeasure : this.measureChoices[0];
    this.buildFilters(data);
    this.setTimes(this.timeCol ? distinct(this.rows, this.timeCol) : [null]);
    await this.recolour();
  }

  buildFilters(data) {
    const box = this.el("filters");
    box.innerHTML = "";
    this.filters = {};
    const add = (label, choices, onchange) => {
      const select = document.createElement("select");
      fillSelect(select, choices.map((c) => [c, c]));
      select.onchange = () => { onchange(select.value); this.recolour(); };
      const wrap = document.createElement("label");
      wrap.append(`${label} `, select);
      box.append(wrap);
      return select.value;
    };
    if (this.measureChoices.length > 1) {
      add("Measure", this.measureChoices, (v) => { this.measure = v; });
      box.querySelector("select").value = this.measure;
    }
    for (const column of breakdownColumns(data)) {
      this.filters[column] = add(column.replace("_", " "), distinct(this.rows, column), (v) => { this.filters[column] = v; });
    }
  }

  setTimes(times) {
    this.times = times;
    this.el("time").max = Math.max(0, times.length - 1);
    this.el("time").value = 0;
    this.el("time").disabled = times.length < 2;
    this.el("play").disabled = times.length < 2;
    this.timeIndex = 0;
    this.el("time-label").textContent = times[0] ? formatTime(times[0]) : "";
  }

  // Index published cells by time and area for the chosen measure and breakdown values.
  async recolour() {
    const keep = this.rows.filter((r) => Object.entries(this.filters).every(([c, v]) => String(r[c]) === String(v)));
    this.byTime = new Map();
    for (const row of keep) {
      const key = this.timeCol ? row[this.timeCol] : null;
      if (!this.byTime.has(key)) this.byTime.set(key, new Map());
      if (row[this.measure] !== null) this.byTime.get(key).set(row[this.areaCol], row[this.measure]);
    }
    const values = keep.map((r) => r[this.measure]).filter((v) => v !== null);
    this.domain = { min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 0 };
    await this.showTime(this.timeIndex);
  }

  async showTime(index) {
    this.timeIndex = index;
    this.el("time").value = index;
    const time = this.times[index] ?? null;
    this.el("time-label").textContent = time ? formatTime(time) : "";
    const values = this.byTime.get(time) || new Map();
    await this.area.setValues(values, this.domain);
    const shown = this.area.areaIds.filter((id) => values.has(id)).length;
    renderLegend(this.el("legend"), { title: `${this.release.indicator}: ${this.measure}`, ...this.domain,
      shown, suppressed: this.area.areaIds.length - shown, format: formatNumber });
  }

  togglePlay() {
    if (this.timer) return this.stop();
    this.el("play").textContent = "⏸";
    this.timer = setInterval(() => {
      if (this.timeIndex >= this.times.length - 1) return this.stop();
      this.showTime(this.timeIndex + 1);
    }, 700);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.el("play").textContent = "▶";
  }

  // A summary of what is on screen, for people (status line) and browser tests.
  state() {
    return { indicator: this.el("indicator").value, level: this.el("level").value, release: this.el("release").value,
      time: this.times?.[this.timeIndex] ?? null, timeIndex: this.timeIndex, times: this.times?.length || 0,
      measure: this.measure, filters: { ...this.filters }, ...this.domain, ...this.area.drawn() };
  }
}

export function fillSelect(select, pairs) {
  select.innerHTML = "";
  for (const [value, label] of pairs) select.append(new Option(label, value));
}

export function releaseLabel(r) {
  const p = r.parameters || {};
  const parts = [(r.created_at || r.release_id).slice(0, 16).replace("T", " ")];
  if ("by" in p) parts.push(p.by && p.by.length ? `by ${p.by.join(", ")}` : "no breakdown");
  if (p.level) parts.push(`${p.level} level`);
  if (p.bin) parts.push(`${p.bin % 3600 ? p.bin / 60 + " min" : p.bin / 3600 + " h"} bins`);
  if (r.privacy && r.privacy.mode === "dp") parts.push(`dp ε=${r.privacy.epsilon}`);
  return parts.join(" · ");
}
