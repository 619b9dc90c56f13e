// Labels of releases offered side by side in one picker: when each was made, what its table is broken down by,
// and every parameter that differs between them, in human units ("carry 3 h", "bin 15 min", "dp ε=1").
import { readable } from "./model.js";

// [release, table] pairs → labels (same order). ``indicators`` are /api/indicators' entries.
export function releaseLabels(pairs, indicators) {
  const info = (r) => indicators.find((i) => i.name === r.indicator) || { parameters: [], roles: { tables: {} } };
  const labels = pairs.map(([r, table]) => {
    const siblings = pairs.filter(([s]) => s.indicator === r.indicator).map(([s]) => s);
    const parts = [created(r)];
    const kind = breakdown(r, table, info(r));
    if (kind) parts.push(kind);
    for (const p of info(r).parameters) {
      if (p.name === "by" || !differs(siblings, (s) => s.parameters?.[p.name])) continue;
      parts.push(`${readable(p.name)} ${valueText(r.parameters?.[p.name], p)}`);
    }
    if (differs(siblings, (s) => `${s.window?.from}–${s.window?.to}`)) parts.push(`${r.window.from} – ${r.window.to}`);
    if (r.privacy?.mode && r.privacy.mode !== "k") parts.push(privacyText(r.privacy));
    return parts.join(" · ");
  });
  // Releases made with the same parameters in the same minute: tell them apart by their id.
  return labels.map((label, i) => (labels.indexOf(label) !== labels.lastIndexOf(label)
    ? `${label} · ${pairs[i][0].release_id.slice(-8)}` : label));
}

function created(r) {
  return (r.created_at || r.release_id).slice(0, 16).replace("T", " ");
}

// What a table is broken down by: its declared category keys and the breakdowns asked for (``by``).
function breakdown(r, table, info) {
  if (!("by" in (r.parameters || {})) && !info.roles?.tables?.[table]) return null;
  const keys = (info.roles?.tables?.[table] || []).filter((k) => info.roles.columns[k] === "category");
  const by = [...new Set([...keys, ...(r.parameters?.by || [])])].map(readable);
  const name = table && table !== r.indicator ? `${table} ` : "";
  return by.length ? `${name}by ${by.join(", ")}` : `${name}no breakdown`.trim();
}

function differs(releases, value) {
  return new Set(releases.map((r) => JSON.stringify(value(r) ?? null))).size > 1;
}

// 10800 s → "3 h", 900 s → "15 min", 3 (hours) → "3 h", ["gender"] → "gender", null → "default".
export function valueText(value, parameter) {
  if (value === null || value === undefined) return "default";
  if (Array.isArray(value)) return value.length ? value.map(readable).join(", ") : "none";
  if (parameter.unit === "h") return `${value} h`;
  if (parameter.unit === "s") {
    const [size, name] = [[86400, "d"], [3600, "h"], [60, "min"]].find(([s]) => value % s === 0) || [1, "s"];
    return `${value / size} ${name}`;
  }
  return String(value);
}

function privacyText(privacy) {
  return privacy.mode === "dp" ? `dp ε=${privacy.epsilon}` : privacy.mode;
}
