// The Releases view: published releases with downloads, and a form (from each indicator's request schema)
// that queues a new release and follows its job.
import { createRelease, download, getJSON } from "./api.js";
import { escapeHtml } from "./areamap.js";
import { valueText } from "./labels.js";
import { formatNumber, readable } from "./model.js";
import { fillSelect } from "./mapview.js";

const FORMATS = ["csv", "parquet", "geojson", "json"];

export class ReleasesView {
  constructor(ctx) {
    this.ctx = ctx;
    this.table = document.getElementById("releases-table");
    this.table.addEventListener("click", (event) => this.onClick(event));
  }

  async start() {
    this.render();
    if (!this.ctx.canCreate()) return;
    document.getElementById("new-release").hidden = false;
    const select = document.getElementById("rf-indicator");
    fillSelect(select, this.ctx.indicators.map((i) => [i.name, i.name]));
    select.onchange = () => this.renderFields();
    this.renderFields();
    document.getElementById("release-form").onsubmit = (event) => { event.preventDefault(); this.submit(); };
  }

  render() {
    const rows = this.ctx.releases.map((r) => {
      const suppressed = Object.values(r.suppressed || {}).reduce((n, s) => n + (s.cells_below_k || 0), 0);
      const declared = this.ctx.indicators.find((i) => i.name === r.indicator)?.parameters || [];
      const params = declared.filter((p) => r.parameters?.[p.name] !== null && r.parameters?.[p.name] !== undefined
        && !(Array.isArray(r.parameters[p.name]) && !r.parameters[p.name].length))
        .map((p) => `${readable(p.name)} ${valueText(r.parameters[p.name], p)}`).join(" · ");
      const links = r.tables.map((t) => `${escapeHtml(t)}: ` + FORMATS.map((f) =>
        `<button class="link-button" data-release="${r.release_id}" data-table="${escapeHtml(t)}" data-format="${f}">${f}</button>`).join(" ")).join("<br>");
      return `<tr><td>${escapeHtml(r.release_id)}</td><td>${escapeHtml(r.indicator)}</td><td>${escapeHtml(params)}</td>
        <td>${escapeHtml(r.window.from)} – ${escapeHtml(r.window.to)}</td><td>${escapeHtml(r.privacy.mode)}</td>
        <td class="num">${formatNumber(Object.values(r.rows).reduce((a, b) => a + b, 0))}</td>
        <td class="num">${formatNumber(suppressed)}</td><td>${links}</td></tr>`;
    }).join("");
    this.table.innerHTML = `<thead><tr><th>release</th><th>indicator</th><th>parameters</th><th>window</th><th>privacy</th>
      <th>cells published</th><th>cells suppressed</th><th>download</th></tr></thead><tbody>${rows}</tbody>`;
  }

  onClick(event) {
    const button = event.target.closest("button[data-release]");
    if (button) download(button.dataset.release, button.dataset.table, button.dataset.format)
      .catch((error) => this.ctx.status(`Download failed: ${error.message}`));
  }

  // One input per parameter, named, typed and explained by the indicator's request schema.
  renderFields() {
    const indicator = this.ctx.indicators.find((i) => i.name === document.getElementById("rf-indicator").value);
    const box = document.getElementById("rf-fields");
    box.innerHTML = "";
    for (const [name, spec] of Object.entries(indicator.request_schema.properties || {})) {
      const kinds = (spec.anyOf || [spec]).map((s) => s.format || s.type);
      const input = Object.assign(document.createElement("input"), { name, title: spec.description || "" });
      input.type = kinds.includes("date") ? "date" : "text";
      if (name === "level") input.placeholder = this.ctx.allowedLevels().map((l) => l.name).join(" | ");
      else input.placeholder = (spec.description || "").replace(/^.*default: /, "default ").replace(/\)$/, "");
      const label = document.createElement("label");
      label.append(name.replace("_", " "), input);
      box.append(label);
    }
  }

  async submit() {
    const indicator = document.getElementById("rf-indicator").value;
    const parameters = {};
    for (const input of document.querySelectorAll("#rf-fields input")) if (input.value.trim()) parameters[input.name] = input.value.trim();
    const body = { indicator, parameters, privacy: document.getElementById("rf-privacy").value };
    const epsilon = document.getElementById("rf-epsilon").value;
    if (body.privacy === "dp" && epsilon) body.epsilon = Number(epsilon);
    const line = document.createElement("div");
    line.className = "job";
    document.getElementById("jobs").prepend(line);
    const show = (job) => { line.innerHTML = `${escapeHtml(indicator)}: <progress max="1" value="${job.progress ?? ""}"></progress> ${escapeHtml(job.stage)}`; };
    try {
      const id = await createRelease(body, show);
      line.innerHTML += ` — release ${escapeHtml(id)}`;
      await this.ctx.refreshReleases();
      this.render();
    } catch (error) {
      line.textContent = `${indicator}: refused — ${error.message}`;
    }
  }
}

export async function renderAudit() {
  const [check, page] = await Promise.all([getJSON("/api/audit/verify"), getJSON("/api/audit?limit=200")]);
  document.getElementById("audit-check").textContent = check.intact
    ? `Audit chain intact (${check.lines} lines).` : `Audit chain broken at line ${check.first_bad_line}.`;
  const rows = page.records.map((r) => `<tr><td>${escapeHtml(r.when)}</td><td>${escapeHtml(r.who)}</td>
    <td>${escapeHtml(r.indicator)}</td><td>${escapeHtml(r.release)}</td><td>${escapeHtml(JSON.stringify(r.privacy))}</td></tr>`).join("");
  document.getElementById("audit-table").innerHTML =
    `<thead><tr><th>when</th><th>who</th><th>indicator</th><th>release</th><th>privacy</th></tr></thead><tbody>${rows}</tbody>`;
}
