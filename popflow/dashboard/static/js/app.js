// The dashboard's start: sign in with a token, load what the token may see, switch between views.
import { getJSON, releaseTable, token } from "./api.js";
import { BreakdownsView } from "./breakdowns.js";
import { FlowsView } from "./flows.js";
import { LiveView } from "./live.js";
import { releaseLabels } from "./labels.js";
import { ChoroplethView } from "./mapview.js";
import { indicatorKind, rolesOf } from "./model.js";
import { ReleasesView, renderAudit } from "./releases.js";
import { topicView, TOPICS } from "./topics.js";

const $ = (id) => document.getElementById(id);
const views = {};
const areaCache = new Map();

const ctx = {
  me: null, indicators: [], levels: [], releases: [], names: {}, selectedArea: null,
  canCreate: () => ["analyst", "admin"].includes(ctx.me?.role),
  // Levels the token may use: all, or those no finer than its min_level.
  allowedLevels: () => {
    const limit = ctx.levels.findIndex((l) => l.name === ctx.me?.min_level);
    return limit < 0 ? ctx.levels : ctx.levels.slice(0, limit + 1);
  },
  areas: (level) => {
    if (!areaCache.has(level)) areaCache.set(level, getJSON(`/api/areas?level=${encodeURIComponent(level)}`));
    return areaCache.get(level);
  },
  areaNames: async (level) => new Map((await ctx.areas(level)).features.map((f) => [f.properties.area_id, f.properties.name])),
  table: releaseTable,
  roles: (indicator) => rolesOf(ctx.indicators, indicator),
  kind: (indicator) => indicatorKind(ctx.indicators.find((i) => i.name === indicator) || {}),
  // Labels of [release, table] pairs offered in one picker (see labels.js).
  labels: (pairs) => releaseLabels(pairs, ctx.indicators),
  refreshReleases: async () => { ctx.releases = await getJSON("/api/releases"); },
  status: (text) => { $("status").textContent = text; },
};

function makeView(name) {
  const mapIndicators = ctx.indicators.map((i) => i.name).filter((n) => ctx.kind(n) === "map"
    && !Object.values(TOPICS).some((t) => t.indicator === n));
  if (name === "map") return new ChoroplethView(ctx, $("view-map"), "map", mapIndicators);
  if (name === "flows") return new FlowsView(ctx);
  if (name === "breakdowns") return new BreakdownsView(ctx);
  if (name === "releases") return new ReleasesView(ctx);
  if (name === "live") return new LiveView(ctx, $("view-live"));
  if (name === "audit") return { start: renderAudit, state: () => ({}) };
  return topicView(ctx, name);
}

async function show(name) {
  const link = document.querySelector(`#nav a[data-view="${name}"]`);
  if (!link || link.hidden) name = "map";
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === name));
  document.querySelectorAll("#views > .view").forEach((v) => { v.hidden = v.dataset.view !== name; });
  document.body.dataset.view = name;
  for (const [other, view] of Object.entries(views)) if (other !== name) view.stop?.();  // e.g. Live stops listening
  try {
    if (!views[name]) {
      views[name] = makeView(name);
      views[name].started = views[name].start();
    } else views[name].resume?.();
    await views[name].started;
    views[name].resize?.();
    ctx.status("");
  } catch (error) {
    ctx.status(`Could not load ${name}: ${error.message}`);
  }
  document.body.dataset.ready = name;
}

async function enter() {
  ctx.me = await getJSON("/api/me");
  [ctx.indicators, ctx.levels, ctx.releases, ctx.names] = await Promise.all(
    [getJSON("/api/indicators"), getJSON("/api/levels"), getJSON("/api/releases"), getJSON("/api/names")]);
  const names = new Set(ctx.indicators.map((i) => i.name));
  for (const link of document.querySelectorAll("#nav a")) {
    link.hidden = (link.dataset.needs && !names.has(link.dataset.needs)) || (link.dataset.role && link.dataset.role !== ctx.me.role);
  }
  $("who").textContent = `${ctx.me.name} · ${ctx.me.role}`;
  $("sign-in").hidden = true;
  $("views").hidden = false;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  await show(location.hash.slice(1) || "map");
}

async function signIn(event) {
  event.preventDefault();
  token.set($("token").value.trim());
  $("token").value = "";
  try {
    await enter();
    $("sign-in-error").textContent = "";
  } catch (error) {
    token.clear();
    $("sign-in-error").textContent = error.status === 401 ? "That token was not accepted." : error.message;
  }
}

function signOut() {
  token.clear();
  location.hash = "";
  location.reload();
}

$("sign-in-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", () => { if (ctx.me) show(location.hash.slice(1)); });
window.addEventListener("popflow:unauthorized", () => { if (ctx.me) signOut(); });
window.addEventListener("resize", () => Object.values(views).forEach((v) => v.resize?.()));

// For people poking in the console and for browser tests: what each view shows right now.
window.popflow = { ctx, views, state: (name) => views[name]?.state?.() };

if (token.get()) enter().catch(() => { token.clear(); });
