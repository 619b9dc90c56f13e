// What the dashboard knows about release tables: which column is time, area, measure or breakdown.
export const TIME_COLUMNS = ["time", "date", "week", "period", "month", "period_to"];
export const AREA_COLUMNS = ["area_id", "region_id", "to_area"];
export const MEASURES = ["people", "visitors", "buyers", "travellers", "trips", "penetration", "revenue",
  "orders", "nights", "spend_total", "potential", "opportunity", "estimate"];
export const BREAKDOWNS = ["gender", "age_band", "origin_region", "visitor_type", "origin", "destination_country"];
export const FLOW_PAIRS = [["origin", "destination"], ["home_area_id", "work_area_id"], ["from_area", "to_area"]];
export const FLOW_INDICATORS = ["od-flows", "workers", "migration"];
export const NO_MAP = ["outbound-travel", "alerts"];

const names = (table) => table.columns.map((c) => c.name);
const first = (table, candidates) => candidates.find((c) => names(table).includes(c)) || null;

export function timeColumn(table) { return first(table, TIME_COLUMNS); }
export function areaColumn(table) { return first(table, AREA_COLUMNS); }
export function measures(table) { return MEASURES.filter((m) => names(table).includes(m)); }
export function breakdownColumns(table) { return BREAKDOWNS.filter((b) => names(table).includes(b)); }
export function flowPair(table) { return FLOW_PAIRS.find(([a, b]) => names(table).includes(a) && names(table).includes(b)); }

export function distinct(rows, column) {
  return [...new Set(rows.map((r) => r[column]))].filter((v) => v !== null && v !== undefined).sort();
}

// "2026-01-20T08:00:00+08:00" → "2026-01-20 08:00 (UTC+08:00)"; other values unchanged.
export function formatTime(value) {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d([+-]\d\d:\d\d|Z)$/.exec(String(value));
  return m ? `${m[1]} ${m[2]} (UTC${m[3] === "Z" ? "" : m[3]})` : String(value);
}

export function formatNumber(value) {
  if (value === null || value === undefined) return "—";
  return Number.isInteger(value) ? value.toLocaleString("en") : Number(value).toLocaleString("en", { maximumFractionDigits: 3 });
}

// Level of a release (null in the manifest means the finest level).
export function releaseLevel(release, levels) {
  return release.level || (levels.length ? levels[levels.length - 1].name : null);
}
