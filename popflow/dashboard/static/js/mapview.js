// The Map view: areas coloured by an indicator's published cells, a time slider with play, legend, level switch.
import { createRelease } from "./api.js";
import { AreaMap, describeValue, escapeHtml } from "./areamap.js";
import { renderLegend } from "./colors.js";
import { distinct, formatTime, formatValue, nameOf, readable, releaseLevel, tableShape } from "./model.js";

// The view's controls, map and time bar; with ``ranked``, a table of the areas beside the map.
export function mapMarkup(p, ranked = false) {
  const map = `<div class="map-wrap"><div id="${p}-map" class="map" aria-label="map of areas"></div>
      <div id="${p}-legend" class="legend"></div><div id="${p}-message" class="map-message" hidden></div></div>`;
  return `<div class="controls">
      <label>Indicator <select id="${p}-indicator"></select></label>
      <label>Level <select id="${p}-level"></select></label>
      <label>Release <select id="${p}-release"></select></label>
      <span id="${p}-filters" class="filters"></span>
    </div>
    ${ranked ? `<div class="split">${map}<div class="side"><h3 id="${p}-ranking-title"></h3>
      <table id="${p}-ranking" class="data"></table></div></div>` : map}
    <div class="timebar"><button id="${p}-play" aria-label="play">▶</button>
      <input id="${p}-time" type="range" min="0" max="0" value="0" aria-label="time">
      <span id="${p}-time-label" class="time-label"></span></div>`;
}

export class ChoroplethView {
  // ``preferredMeasure`` colours the map first; ``ranking`` (a measure) adds a table of areas, largest first.
  constructor(ctx, section, prefix, indicators, preferredMeasure = null, ranking = null) {
    section.innerHTML = mapMarkup(prefix, Boolean(ranking));
    this.ctx = ctx;
    this.indicators = indicators;
    this.preferredMeasure = preferredMeasure;
    this.ranking = ranking;
    this.el = (name) => section.querySelector(`#${prefix}-${name}`);
    this.area = new AreaMap(this.el("map"), { describe: (p, v) => describeValue(p, v, this.measure || "", this.format),
      labelled: true });
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
    const labels = this.ctx.labels(releases.map((r) => [r, r.tables[0]]));
    fillSelect(this.el("release"), releases.map((r, i) => [r.release_id, labels[i]]));
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
    this.shape = tableShape(data, this.ctx.roles(release.indicator));
    this.timeCol = this.shape.time;
    this.areaCol = this.shape.area;
    this.measureChoices = this.shape.measures;
    this.measure = this.measureChoices.includes(this.preferredMeasure) ? this.preferredMeasure : this.measureChoices[0];
    this.buildFilters();
    this.setTimes(this.timeCol ? distinct(this.rows, this.timeCol) : [null]);
    await this.recolour();
  }

  // A measure choice and one choice per category column, each starting at its largest value (the category
  // holding most of the measure), so the first map shows the most areas.
  buildFilters() {
    const box = this.el("filters");
    box.innerHTML = "";
    this.filters = {};
    const add = (label, pairs, chosen, onchange) => {
      const select = document.createElement("select");
      select.dataset.column = label;
      fillSelect(select, pairs);
      select.value = chosen;
      select.onchange = () => { onchange(select.value); this.recolour(); };
      const wrap = document.createElement("label");
      wrap.append(`${readable(label)} `, select);
      box.append(wrap);
    };
    if (this.measureChoices.length > 1) {
      add("measure", this.measureChoices.map((m) => [m, readable(m)]), this.measure, (v) => { this.measure = v; });
    }
    for (const column of this.shape.categories) {
      const values = distinct(this.rows, column);
      this.filters[column] = String(largest(this.rows, column, this.measure) ?? values[0]);
      add(column, values.map((v) => [v, nameOf(this.ctx.names, v), v]), this.filters[column],
        (v) => { this.filters[column] = v; });
    }
  }

  format = (value) => formatValue(value, this.shape?.role(this.measure));

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
    renderLegend(this.el("legend"), { title: `${this.release.indicator}: ${readable(this.measure)}`, ...this.domain,
      shown, suppressed: this.area.areaIds.length - shown, format: this.format });
    if (this.ranking) this.renderRanking(time);
  }

  // The areas at this time, largest ``ranking`` first (areas whose value was withheld last), with every measure;
  // re-drawn with the map, so it follows the time, the filters and the measure shown.
  renderRanking(time) {
    const rows = this.rows.filter((r) => !this.timeCol || r[this.timeCol] === time)
      .filter((r) => Object.entries(this.filters).every(([c, v]) => String(r[c]) === String(v)))
      .sort((a, b) => (b[this.ranking] ?? -Infinity) - (a[this.ranking] ?? -Infinity));
    const measures = [...new Set([this.ranking, this.measure, ...this.shape.measures])];  // ranked by, coloured by
    this.el("ranking-title").textContent = `Areas by ${readable(this.ranking)}${time ? `, ${formatTime(time)}` : ""}`;
    const head = `<tr><th>#</th><th>area</th>${measures.map((m) => `<th class="num">${escapeHtml(readable(m))}</th>`).join("")}</tr>`;
    const body = rows.map((r, i) => `<tr data-area="${escapeHtml(r[this.areaCol])}"><td class="num">${i + 1}</td>
      <td title="${escapeHtml(r[this.areaCol])}">${escapeHtml(this.area.names.get(r[this.areaCol]) ?? r[this.areaCol])}</td>
      ${measures.map((m) => `<td class="num">${r[m] === null ? "<em>too few</em>" : escapeHtml(formatValue(r[m], this.shape.role(m)))}</td>`).join("")}</tr>`);
    this.el("ranking").innerHTML = `<thead>${head}</thead><tbody>${body.join("")}</tbody>`;
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
      measure: this.measure, filters: { ...this.filters }, ...this.domain, ...this.area.drawn(),
      releaseLabels: [...this.el("release").options].map((o) => o.textContent), legend: this.el("legend").textContent,
      ranking: this.ranking ? [...this.el("ranking").querySelectorAll("tbody tr")].map((tr) => [...tr.cells]
        .map((td) => td.textContent.trim())) : null };
  }
}

// Options from [value, label, tooltip?] triples (the tooltip: a code the label names).
export function fillSelect(select, pairs) {
  select.innerHTML = "";
  for (const [value, label, title] of pairs) {
    const option = new Option(label, value);
    if (title !== undefined && String(title) !== label) option.title = String(title);
    select.append(option);
  }
}

// The category value holding the most of a measure, summed over every row.
export function largest(rows, column, measure) {
  const sums = new Map();
  for (const row of rows) if (row[measure] !== null) sums.set(row[column], (sums.get(row[column]) || 0) + row[measure]);
  return [...sums].sort((a, b) => b[1] - a[1])[0]?.[0];
}
