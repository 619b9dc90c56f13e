"""A release: run one indicator, apply disclosure control, write outputs, audit it.

Every output path (CLI, Python API, HTTP) goes through ``make_release``.
"""

from __future__ import annotations

import dataclasses
import datetime
import getpass
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from popflow import audit, indicators
from popflow.atomic_files import write_atomically
from popflow.disclosure.budget import months_of
from popflow.disclosure.request import PrivacyRequest
from popflow.engines import open_engine
from popflow.errors import PopflowError
from popflow.geography import area_geometries
from popflow.indicators.estimates import weighted_sql
from popflow.indicators.params import from_text, to_json
from popflow.outputs import check_output, sibling_path, write_table, zone_times
from popflow.progress import QUIET, Step, Steps
from popflow.release_inputs import prepare_inputs, read_span
from popflow.release_session import ReleaseSession
from popflow.release_staging import staging_folder
from popflow.rounding import column_roles, with_roles
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
                 who: str | None = None, engine_options: dict | None = None, steps: Steps = QUIET,
                 session: ReleaseSession | None = None) -> Release:
    """Run ``name`` with ``params`` on the workspace and publish the safe result.

    Parameters and the output path are checked before any work. The files are
    written first; the privacy budget is charged and the audit line appended
    only once they are, together; if anything fails, nothing is kept and
    nothing is charged. ``steps`` shows the release as one step (inputs, each
    table, writing and auditing), ending with one line when it is published.
    A release of a package runs in the package's ``session`` (see
    ``popflow.publish``); otherwise it opens an engine of its own.
    """
    privacy = privacy or PrivacyRequest()
    if out is not None:
        check_output(out)
    indicator = indicators.get(name)
    p = from_text(indicator.params, params or {})
    check_breakdowns(ws, p)
    started = time.perf_counter()
    with steps.step(f"{name}: computing") as step:
        if indicator.derive:
            computed = _derive(ws, indicator, p, privacy, engine, who, engine_options, session)
        elif session is not None:
            computed = _compute(ws, indicator, p, privacy, session, step)
        else:
            with ReleaseSession(open_engine(engine or ws.settings.engine, ws, **(engine_options or {}))) as own:
                computed = _compute(ws, indicator, p, privacy, own, step)
        roles = column_roles(indicator, p)
        release = Release({name: with_roles(t, roles) for name, t in computed.tables.items()},
                          _manifest(ws, indicator, p, computed, started))

        def charge_and_audit() -> dict:
            entry = {"who": who or f"cli:{getpass.getuser()}", "release": release.manifest["release_id"],
                     "indicator": name, "parameters": release.manifest["parameters"],
                     "privacy": release.manifest["privacy"], "rows": release.manifest["rows"],
                     "outputs": [str(f) for f in release.files]}
            if computed.cost:
                return ws.budget().charge(*computed.cost, entry)
            return audit.append(ws.path / AUDIT_FILE, entry)

        step.update(description=f"{name}: writing and auditing")
        _store(ws, release, out, charge_and_audit)
        step.summary = f"{name}: release {release.manifest['release_id']} published and audited"
    return release


def check_breakdowns(ws, p) -> None:
    """Refuse a breakdown (``--by``) when no subscriber register gives anyone that attribute."""
    by = getattr(p, "by", ())
    if by and not any(b["quality"]["rows"]["accepted"] for b in ws.lake.batches("subscribers")):
        raise PopflowError(f"--by {','.join(by)}: no subscriber register was ingested, so everyone's "
                           f"{' and '.join(by)} would be unknown; ingest one first "
                           "(popflow ingest subscribers FILE)")


@dataclass(frozen=True)
class Computed:
    """What disclosure control published, before it is stored: tables, notes per table, and the cost."""

    tables: dict[str, pa.Table]
    notes: dict
    privacy: dict
    window: dict
    engine: str
    cost: tuple | None = None  # (months, ε, δ) charged with the audit line in dp mode


def _derive(ws, indicator, p, privacy: PrivacyRequest, engine, who, engine_options, session) -> Computed:
    """Tables computed from the published cells of a release of the watched indicator."""
    source = make_release(ws, p.indicator, watched_params(p), privacy=privacy, engine=engine, who=who,
                          engine_options=engine_options, session=session)
    m = source.manifest
    tables = indicator.derive(source, p, **_public_sources(ws, indicator.reads))
    return Computed(tables, {"derived_from": m["release_id"]}, m["privacy"], m["window"], m["engine"])


def watched_params(p) -> dict:
    """The parameters a derived release hands on to the release of the indicator it watches."""
    accepted = {f.name for f in dataclasses.fields(indicators.get(p.indicator).params)}
    return {k: v for k, v in p.source_params().items() if k in accepted}


def _public_sources(ws, names: tuple[str, ...]) -> dict:
    """The public lake sources (no person column, e.g. holidays) a derived indicator reads, as DataFrames."""
    con = ws.connect()
    try:
        return {name: con.sql(f"SELECT * FROM {name}").df() for name in names}
    finally:
        con.close()


def _compute(ws, indicator, p, privacy: PrivacyRequest, eng: ReleaseSession, step: Step) -> Computed:
    """Run the indicator's contributions through the mechanism in an engine session (``step`` counts them)."""
    contributions = indicator.define(p)
    step.update(completed=0, total=len(contributions) + 1, description=f"{indicator.name}: reading inputs")
    mechanism = privacy.mechanism(ws, indicator.name, len(contributions))
    window = prepare_inputs(eng, ws, p, ws.area_rows(), ws.settings, indicator.uses[0],
                            indicator.lookback_days, any(c.estimated for c in contributions))
    cost = _budget_cost(ws, privacy, window)
    tables, notes = _publish(eng, indicator, p, contributions, mechanism, window, ws.settings, step)
    span = {"from": window.first.isoformat(), "to": window.last.isoformat()}
    return Computed(tables, notes, mechanism.describe(), span, eng.name, cost)


def planned_cost(eng, name: str, params: dict, privacy: PrivacyRequest) -> tuple | None:
    """(months, ε, δ) a dp release of ``name`` would charge (a derived release: its watched indicator's), read
    from the dates of data it would read, without computing anything; None in k and ckm mode."""
    if privacy.mode != "dp":
        return None
    indicator = indicators.get(name)
    p = from_text(indicator.params, params)
    if indicator.derive:
        return planned_cost(eng, p.indicator, watched_params(p), privacy)
    estimated = any(c.estimated for c in indicator.define(p))
    span = read_span(eng, p, indicator.uses[0], indicator.lookback_days, estimated)
    return months_of(*span), privacy.epsilon, privacy.delta


def _budget_cost(ws, privacy: PrivacyRequest, window):
    """(months, ε, δ) a dp release charges — every month whose data it reads — checked now before any work;
    None in k mode."""
    if privacy.mode != "dp":
        return None
    months = months_of(*window.reads)
    ws.budget().check(months, privacy.epsilon, privacy.delta)
    return months, privacy.epsilon, privacy.delta


def _publish(eng, indicator, p, contributions, mechanism, window, settings, step: Step):
    """Published tables (after any post-disclosure step) and the mechanism's notes per table."""
    published, notes, domains = {}, {}, window.domains(p)
    for done, contribution in enumerate(contributions, 1):
        step.update(completed=done, description=f"{indicator.name}: publishing {contribution.table}")
        cells = "cells_" + _identifier(contribution.table)
        rows = f"({eng.with_blocks(contribution.sql)})"
        if contribution.estimated and window.weighted:
            rows = weighted_sql(rows, contribution.calibrated_per, settings.k_anonymity, contribution.weight_factor)
            rows = f"({rows})"
        else:
            contribution = dataclasses.replace(contribution, estimated=False)
        eng.materialize(cells, mechanism.cells_sql(contribution, rows, domains))
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
    return {name: zone_times(table, settings.timezone) for name, table in published.items()}, notes


def _identifier(name: str) -> str:
    return name.replace("-", "_")


def _has_rows(eng, relation: str) -> bool:
    return eng.table(f"SELECT count(*) AS n FROM {relation}").column("n")[0].as_py() > 0


def _manifest(ws, indicator, p, computed: Computed, started: float) -> dict:
    from popflow import __version__

    return {
        "release_id": datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8],
        "indicator": indicator.name,
        "parameters": to_json(p),
        "window": computed.window,
        "privacy": computed.privacy,
        "rows": {name: t.num_rows for name, t in computed.tables.items()},
        "noise" if computed.privacy["mode"] == "dp" else "suppressed": computed.notes,
        "inputs": _fingerprints(ws, indicator.uses),
        "engine": computed.engine,
        "timezone": ws.settings.timezone,
        "popflow_version": __version__,
        "wall_time_s": round(time.perf_counter() - started, 3),
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
    }


def _fingerprints(ws, uses: tuple[str, ...]) -> dict:
    """Per source used (``uses``, and the areas, cells and subscribers every release reads to place and split
    people): its number of input files and one SHA-256 over their fingerprints."""
    result = {}
    for source in sorted({*uses, "areas", "cells", "subscribers"}):
        hashes = sorted(i["sha256"] for b in ws.lake.batches(source) for i in b["inputs"])
        result[source] = {"files": len(hashes), "sha256": hashlib.sha256("".join(hashes).encode()).hexdigest()}
    return result


def _store(ws, release: Release, out: Path | None, record) -> None:
    """Keep the release under ``releases/<id>/``, write ``out`` (+ extra tables) if asked, then ``record`` it.

    The release is assembled in a hidden staging folder (``release_staging``)
    and renamed into place only once recorded, with the manifest carrying the
    audit head the release made (``audit_head``, which pins the history up to
    it): a reader listing ``releases/`` never sees a half-written release. If
    writing or recording fails, the staging folder and every file written are
    removed; if the process is killed, the next release removes its folder.
    """
    releases = ws.path / RELEASES_DIR
    folder = releases / release.manifest["release_id"]
    try:
        with staging_folder(releases, folder.name) as staging:
            for name, table in release.tables.items():
                pq.write_table(table, staging / f"{name}.parquet")
            if out is not None:
                _write_outputs(ws, release, out)
            _write_manifests(release, staging, out)
            release.manifest["audit_head"] = record()
            _write_manifests(release, staging, out)
            os.rename(staging, folder)
    except BaseException as exc:
        for path in [*release.files, Path(f"{out}.manifest.json")] if out is not None else []:
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            reason = exc.strerror or " ".join(str(exc).split())
            raise PopflowError(f"{exc.filename or out}: cannot write the release ({reason}); "
                               "nothing was released or charged") from None
        raise


def _write_manifests(release: Release, folder: Path, out: Path | None) -> None:
    """The manifest next to the stored release and the output, each replaced whole (never seen half-written)."""
    text = json.dumps(release.manifest, indent=2)
    write_atomically(folder / "manifest.json", text)
    if out is not None:
        write_atomically(Path(f"{out}.manifest.json"), text)


def _write_outputs(ws, release: Release, out: Path) -> None:
    geometries = area_geometries(ws.area_rows(), ws.h3_resolution()) if out.suffix.lower() == ".geojson" else None
    for index, (name, table) in enumerate(release.tables.items()):
        path = out if index == 0 else sibling_path(out, name)
        release.files.append(path)
        write_table(table, path, geometries)
    release.manifest["files"] = [str(f) for f in release.files]
