"""A release: run one indicator, apply disclosure control, write outputs, audit it.

Every output path (CLI, Python API, HTTP) goes through ``make_release``.
"""

from __future__ import annotations

import dataclasses
import datetime
import getpass
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from popflow import audit, indicators
from popflow.disclosure.budget import months_of
from popflow.disclosure.request import PrivacyRequest
from popflow.engines import open_engine
from popflow.geography import area_geometries
from popflow.indicators.params import from_text, to_json
from popflow.outputs import check_suffix, sibling_path, write_table, zone_times
from popflow.release_inputs import prepare_inputs
from popflow.workspace import AUDIT_FILE, RELEASES_DIR


@dataclass
class Release:
    """The published tables of one release and its manifest."""

    tables: dict[str, pa.Table]
    manifest: dict
    files: list[Path] = field(default_factory=list)

    @property
    def table(self) -> pa.Table:
        """The release's main table."""
        return next(iter(self.tables.values()))

    def to_pandas(self, name: str | None = None):
        return (self.tables[name] if name else self.table).to_pandas()


def make_release(ws, name: str, params: dict | None = None, out: Path | None = None,
                 privacy: PrivacyRequest | None = None, engine: str | None = None,
                 who: str | None = None, engine_options: dict | None = None) -> Release:
    """Run ``name`` with ``params`` on the workspace and publish the safe result."""
    privacy = privacy or PrivacyRequest()
    if out is not None:
        check_suffix(out)
    indicator = indicators.get(name)
    p = from_text(indicator.params, params or {})
    started = time.perf_counter()
    if indicator.derive:
        accepted = {f.name for f in dataclasses.fields(indicators.get(p.indicator).params)}
        source_params = {k: v for k, v in p.source_params().items() if k in accepted}
        source = make_release(ws, p.indicator, source_params, None, privacy, engine, who, engine_options)
        tables = indicator.derive(source, p)
        notes = {"derived_from": source.manifest["release_id"]}
        mechanism_info, window, engine_name = (source.manifest[k] for k in ("privacy", "window", "engine"))
    else:
        tables, notes, mechanism_info, window, engine_name = _compute(ws, indicator, p, privacy, engine,
                                                                      engine_options or {})
    manifest = _manifest(ws, indicator, p, window, mechanism_info, tables, notes, engine_name, started)
    release = Release(tables, manifest)
    _store(ws, release, ws.area_rows(), out)
    audit.append(ws.path / AUDIT_FILE, {
        "who": who or f"cli:{getpass.getuser()}", "release": manifest["release_id"], "indicator": name,
        "parameters": manifest["parameters"], "privacy": manifest["privacy"],
        "rows": manifest["rows"], "outputs": [str(f) for f in release.files],
    })
    return release


def _compute(ws, indicator, p, privacy: PrivacyRequest, engine: str | None, engine_options: dict):
    """Run the indicator's contributions through the mechanism on an engine."""
    contributions = indicator.define(p)
    mechanism = privacy.mechanism(ws, indicator.name, len(contributions))
    eng = open_engine(engine or ws.settings.engine, ws, **engine_options)
    try:
        window = prepare_inputs(eng, ws, p, ws.area_rows(), ws.settings, indicator.uses[0],
                                indicator.lookback_days)
        cost = _budget_cost(ws, indicator, p, window, privacy)
        tables, notes = _publish(eng, indicator, p, contributions, mechanism, window.domains(p),
                                 ws.settings.timezone)
    finally:
        eng.close()
    if cost:
        ws.budget().charge(*cost)
    span = {"from": window.first.isoformat(), "to": window.last.isoformat()}
    return tables, notes, mechanism.describe(), span, eng.name


def _budget_cost(ws, indicator, p, window, privacy: PrivacyRequest):
    """(sources, months, ε, δ) a DP release charges, checked now before any work; None in k mode."""
    if privacy.mode != "dp":
        return None
    sources = [s for s in indicator.uses if s != "population"] + (["subscribers"] if getattr(p, "by", ()) else [])
    months = months_of(window.first - datetime.timedelta(days=indicator.lookback_days), window.last)
    ws.budget().check(sources, months, privacy.epsilon)
    return sources, months, privacy.epsilon, privacy.delta


def _publish(eng, indicator, p, contributions, mechanism, domains, timezone: str):
    """Published tables (after any post-disclosure step) and the mechanism's notes per table."""
    published, notes = {}, {}
    for contribution in contributions:
        cells = "cells_" + _identifier(contribution.table)
        eng.materialize(cells, mechanism.cells_sql(contribution, f"({contribution.sql})", domains))
        table, notes[contribution.table] = mechanism.publish(eng, contribution, cells, domains)
        if indicator.finish and (indicator.finish_needs is None or _has_rows(eng, indicator.finish_needs)):
            eng.register("published", table)
            table = eng.table(indicator.finish("published", p))
        columns = list(contribution.output_columns()) + [c for c in table.column_names
                                                         if c not in contribution.output_columns()]
        table = table.select([c for c in columns if c in table.column_names])
        order = ["rank"] if "rank" in table.column_names else [k for k in contribution.keys if k in table.column_names]
        published[contribution.table] = table.sort_by([(k, "ascending") for k in order])
    if indicator.combine:
        for name, table in published.items():
            eng.register("published_" + _identifier(name), table)
        names = {name: "published_" + _identifier(name) for name in published}
        published = {name: eng.table(sql) for name, sql in indicator.combine(names, p).items()}
    return {name: zone_times(table, timezone) for name, table in published.items()}, notes


def _identifier(name: str) -> str:
    return name.replace("-", "_")


def _has_rows(eng, relation: str) -> bool:
    return eng.table(f"SELECT count(*) AS n FROM {relation}").column("n")[0].as_py() > 0


def _manifest(ws, indicator, p, window, privacy: dict, tables, notes, engine, started) -> dict:
    from popflow import __version__

    return {
        "release_id": datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8],
        "indicator": indicator.name,
        "parameters": to_json(p),
        "window": window,
        "privacy": privacy,
        "rows": {name: t.num_rows for name, t in tables.items()},
        "suppressed" if privacy["mode"] == "k" else "noise": notes,
        "inputs": _fingerprints(ws, indicator.uses),
        "engine": engine,
        "timezone": ws.settings.timezone,
        "popflow_version": __version__,
        "wall_time_s": round(time.perf_counter() - started, 3),
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
    }


def _fingerprints(ws, uses: tuple[str, ...]) -> dict:
    """Per source used: its number of input files and one SHA-256 over their fingerprints."""
    result = {}
    for source in sorted({*uses, "areas", "cells", "subscribers"}):
        hashes = sorted(i["sha256"] for b in ws.lake.batches(source) for i in b["inputs"])
        result[source] = {"files": len(hashes), "sha256": hashlib.sha256("".join(hashes).encode()).hexdigest()}
    return result


def _store(ws, release: Release, area_rows: list[dict], out: Path | None) -> None:
    """Keep the release under ``releases/<id>/`` and write ``out`` (+ extra tables) if asked."""
    folder = ws.path / RELEASES_DIR / release.manifest["release_id"]
    folder.mkdir(parents=True)
    for name, table in release.tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    if out is not None:
        geometries = area_geometries(area_rows, ws.h3_resolution()) if out.suffix.lower() == ".geojson" else None
        for index, (name, table) in enumerate(release.tables.items()):
            path = out if index == 0 else sibling_path(out, name)
            write_table(table, path, geometries)
            release.files.append(path)
        release.manifest["files"] = [str(f) for f in release.files]
        Path(f"{out}.manifest.json").write_text(json.dumps(release.manifest, indent=2))
    (folder / "manifest.json").write_text(json.dumps(release.manifest, indent=2))
