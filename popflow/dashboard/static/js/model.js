// What the dashboard knows about release tables comes from the API: each column's role, as /api/indicators
// declares it (time, label, area, category, count, interval, money, share, change, rank), and the names of the
// codes releases carry (/api/names: areas, regions, countries). Nothing here lists column names.
const NO_ROLES = { columns: {}, flow: null, currency: null };
const MEASURE_ROLES = ["count", "money", "share", "change"];

// The declared roles of an indicator's columns.
export function rolesOf(indicators, name) {
  return indicators.find((i) => i.name === name)?.roles || NO_ROLES;
}

// The columns of one release table by role, in the table's own order.
export function tableShape(table, roles = NO_ROLES) {
  const names = table.columns.map((c) => c.name);
  const having = (...wanted) => names.filter((n) => wanted.includes(roles.columns[n]));
  return {
    time: having("time")[0] || null, area: having("area")[0] || null, measures: having(...MEASURE_ROLES),
    categories: having("category"), labels: having("label"),
    flow: roles.flow && roles.flow.every((c) => names.includes(c)) ? roles.flow : null,
    currency: names.includes(roles.currency) ? roles.currency : null,
    role: (column) => roles.columns[column] || null,
  };
}

// Indicators drawn as flows (a declared from → to pair), as area maps (an area column), or as charts by key.
export function indicatorKind(info) {
  if (info.roles?.flow) return "flow";
  return Object.values(info.roles?.columns || {}).includes("area") ? "map" : "chart";
}

// Categories in reading order: numbers by value ("<15" before "15-19" before "80+"), then text.
export function categoryOrder(a, b) {
  const rank = (v) => {
    const m = /\d+(\.\d+)?/.exec(String(v));
    return m ? Number(m[0]) - (String(v).trim().startsWith("<") ? 0.5 : 0) : Infinity;
  };
  return rank(a) - rank(b) || String(a).localeCompare(String(b));
}

export function distinct(rows, column) {
  return [...new Set(rows.map((r) => r[column]))].filter((v) => v !== null && v !== undefined).sort(categoryOrder);
}

// The name of a code (an area of any level, a region, a country), or the code itself.
export function nameOf(names, code) {
  const key = String(code);
  return names?.areas?.[key] ?? names?.regions?.[key] ?? names?.countries?.[key] ?? key;
}

// "2026-01-20T08:00:00+08:00" → "2026-01-20 08:00 (UTC+08:00)"; other values unchanged.
export function formatTime(value) {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d([+-]\d\d:\d\d|Z)$/.exec(String(value));
  return m ? `${m[1]} ${m[2]} (UTC${m[3] === "Z" ? "" : m[3]})` : String(value);
}

export function formatNumber(value) {
  if (value === null || value === undefined) return "—";
  return Number.isInteger(value) ? value.toLocaleString("en") : Number(value).toLocaleString("en", { maximumFractionDigits: 1 });
}

// A value as its role reads: money with its currency (in the currency's minor unit), shares and changes as
// percentages, counts with thousands separators. ``currency`` is an ISO 4217 code or null (the base currency).
export function formatValue(value, role, currency = null) {
  if (value === null || value === undefined) return "—";
  if (role === "share") return `${(100 * value).toLocaleString("en", { maximumFractionDigits: 1, minimumFractionDigits: 1 })} %`;
  if (role === "change") return `${value > 0 ? "+" : value < 0 ? "−" : "±"}${Math.abs(100 * value).toFixed(1)} %`;
  if (role === "money") {
    if (currency) {
      try {
        return new Intl.NumberFormat("en", { style: "currency", currency, currencyDisplay: "code" }).format(value);
      } catch { /* not an ISO 4217 code */ }
    }
    return value.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  return formatNumber(value);
}

// A measure's name for people: "spend_total" → "spend total".
export function readable(column) {
  return String(column).replaceAll("_", " ");
}

// Level of a release (null in the manifest means the finest level).
export function releaseLevel(release, levels) {
  return release.level || (levels.length ? levels[levels.length - 1].name : null);
}
