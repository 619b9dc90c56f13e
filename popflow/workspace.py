"""A popflow workspace: settings, secret key, lake, audit log and releases (SPEC §1)."""

from __future__ import annotations

import datetime
import os
import time
import zoneinfo
from pathlib import Path

import duckdb

from popflow.audit import AUDIT_FILE
from popflow.engines import ingest_loader
from popflow.errors import PopflowError
from popflow.geography import H3_LEVEL, AreaIndex, finest_areas, h3_lookup
from popflow.ingest import registry
from popflow.ingest.pipeline import ingest as run_ingest
from popflow.ingest.source import IngestContext
from popflow.lake import LAKE_DIR, Lake, ingest_lock
from popflow.lake_views import register_lake
from popflow.progress import QUIET, Steps
from popflow.pseudonymise import KEY_FILE, KeyRing, create_key, key_schedule
from popflow.settings import DEFAULT_ENGINE, SETTINGS_FILE, Settings

DEFAULT_WORKSPACE = "popflow-workspace"
RELEASES_DIR = "releases"


def default_path() -> Path:
    """``$POPFLOW_WORKSPACE`` or ``./popflow-workspace``."""
    return Path(os.environ.get("POPFLOW_WORKSPACE", DEFAULT_WORKSPACE))


class Workspace:
    """An existing workspace; create one with ``Workspace.init``."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        if not (self.path / SETTINGS_FILE).exists():
            raise PopflowError(f"{self.path} is not a popflow workspace (run 'popflow init {self.path}')")
        self.settings = Settings.load(self.path)
        self.lake = Lake(self.path)

    @classmethod
    def init(cls, path: str | Path, timezone: str = "UTC", home_mcc: tuple[str, ...] = (),
             k: int = 15, engine: str = DEFAULT_ENGINE) -> Workspace:
        """Create a workspace folder with settings, a new secret key and an empty lake."""
        path = Path(path)
        if (path / SETTINGS_FILE).exists():
            raise PopflowError(f"{path} is already a popflow workspace")
        settings = Settings(timezone=timezone, home_mcc=tuple(home_mcc), k_anonymity=k, engine=engine)
        path.mkdir(parents=True, exist_ok=True)
        for folder in (LAKE_DIR, RELEASES_DIR):
            (path / folder).mkdir(exist_ok=True)
        (path / AUDIT_FILE).touch()
        create_key(path)
        settings.save(path)
        Lake(path).write_catalogue()
        return cls(path)

    # -- ingest -----------------------------------------------------------
    def ingest(self, source: str, paths: list[str | Path] = (), fmt: str | None = None,
               h3: int | None = None, engine: str = DEFAULT_ENGINE, engine_options: dict | None = None,
               columns: dict[str, str] | None = None, steps: Steps = QUIET) -> dict:
        """Ingest files of one source (SPEC §2); returns the data-quality report.

        ``columns`` maps popflow's column names to the files' own, e.g.
        ``{"subscriber_id": "msisdn", "timestamp": "start_time"}``.

        ``engine="spark"`` ingests events with Spark tasks, one per file (see
        ``popflow.ingest.spark_load``); ``engine_options`` take ``master`` and ``conf``.
        ``steps`` shows the ingest as one step (a bar over the bytes read), ending with
        rows read and rows per second.
        """
        registry.source(source)  # an unknown source is refused first, even with --h3
        if h3 is not None:
            return self._choose_h3_grid(source, h3)
        if not paths:
            raise PopflowError(f"ingest {source}: give at least one file or directory")
        ctx = IngestContext(timezone=self.settings.timezone, keys=KeyRing(self.path),
                            time_window=self.settings.time_window, columns=columns or {})
        if source == "cells":  # the one source placed in areas as it is read (``cells.prepare``)
            ctx.area_lookup = self._area_lookup()
        with steps.step(f"ingest {source}") as step:
            clock = {"file": None, "since": time.perf_counter(), "last": time.perf_counter()}

            def advance(done: int, total: int, file: str, rows: int) -> None:
                """The bar over bytes, described by the file being read with its rows and rows per second."""
                now = time.perf_counter()
                if file != clock["file"]:  # a file starts where the previous one's last batch ended
                    clock.update(file=file, since=clock["last"])
                clock["last"] = now
                rate = rows / max(now - clock["since"], 0.001)
                step.update(completed=done, total=total,
                            description=f"ingest {source}: {file}, {rows:,} rows ({rate:,.0f} rows/s)")

            report = run_ingest(self.lake, source, [Path(p) for p in paths], ctx, fmt, advance,
                                ingest_loader(engine, engine_options or {}))
            rows = report["rows"]
            step.summary = (f"ingested {source}: {rows['read']:,} rows read, {rows['quarantined']:,} quarantined, "
                            f"{rows['read'] / max(step.elapsed, 0.001):,.0f} rows/s")
        return report

    def h3_resolution(self) -> int | None:
        """The H3 resolution when areas are an H3 grid, else None."""
        grids = [b["grid"]["h3"] for b in self.lake.batches("areas") if b.get("grid")]
        return grids[-1] if grids else None

    def area_rows(self) -> list[dict]:
        """Every area as a dict (area_id, name, parent_id, level, geometry WKT)."""
        con = self.connect()
        resolution = self.h3_resolution()
        if resolution is not None:
            query = ("SELECT DISTINCT area_id, area_id AS name, NULL AS parent_id, "
                     f"'{H3_LEVEL.format(resolution)}' AS level, NULL AS geometry FROM cells WHERE area_id IS NOT NULL")
        else:
            query = "SELECT area_id, name, parent_id, level, geometry FROM areas"
        cursor = con.execute(query + " ORDER BY area_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with a view per lake dataset."""
        con = duckdb.connect()
        con.execute(f"SET TimeZone = '{self.settings.timezone}'")
        register_lake(con, self.lake)
        return con

    def _area_lookup(self):
        resolution = self.h3_resolution()
        if resolution is not None:
            return h3_lookup(resolution)
        finest = [a for a in finest_areas(self.area_rows()) if a["geometry"]]
        if not finest:
            raise PopflowError("ingest areas before cells: no area polygons in the workspace")
        return AreaIndex([a["area_id"] for a in finest], [a["geometry"] for a in finest]).lookup

    def _choose_h3_grid(self, source: str, resolution: int) -> dict:
        if source != "areas":
            raise PopflowError("--h3 applies to the areas source only")
        if not 0 <= resolution <= 15:
            raise PopflowError("--h3 resolution must be between 0 and 15")
        report = {"source": "areas", "rows": {"read": 0, "accepted": 0, "quarantined": 0},
                  "grid": f"H3 resolution {resolution}"}
        with ingest_lock(self.path):
            if self.lake.batches("areas") or self.lake.batches("cells"):
                raise PopflowError("areas or cells were already ingested; an H3 grid needs a fresh workspace")
            batch = self.lake.new_batch("areas")
            batch.commit({"id": batch.id, "source": "areas", "grid": {"h3": resolution}, "inputs": [],
                          "committed_at": datetime.datetime.now(datetime.UTC).isoformat(),
                          "quality": report})
        return report

    # -- releases ---------------------------------------------------------
    def run(self, name: str, out: str | Path | None = None, privacy: str | None = None,
            epsilon: float | None = None, delta: float | None = None, max_contrib: int | None = None,
            max_value: int | None = None, engine: str | None = None, who: str | None = None,
            engine_options: dict | None = None, steps: Steps = QUIET, **params):
        """Run an indicator (SPEC §3) through disclosure control and audit; returns a ``Release``.

        ``privacy="dp"`` with ``epsilon`` (and optionally ``delta``, ``max_contrib``,
        ``max_value``) releases with differential privacy and charges the budget;
        without ``privacy``, the workspace's ``default_privacy`` applies.
        ``engine_options`` go to the engine (Spark: ``master``, ``conf``). ``steps``
        (``popflow.progress.Steps``) shows the release's stages; by default nothing is shown.
        """
        from popflow.disclosure.request import PrivacyRequest
        from popflow.release import make_release

        request = PrivacyRequest.from_options(privacy=privacy or self.settings.default_privacy, epsilon=epsilon,
                                              delta=delta, max_contrib=max_contrib, max_value=max_value)
        return make_release(self, name, params, Path(out) if out else None, request, engine, who, engine_options,
                            steps)

    def publish(self, plan, engine: str | None = None, who: str | None = None,
                engine_options: dict | None = None, done=None) -> list:
        """Run a package of releases in one engine session (``popflow.publish``); returns its ``Release``s.

        ``plan`` is a plan file's path, a ``Plan``, or a dict shaped like a plan file (file names relative to
        the current folder). Every release is checked before any runs; ``done(planned, release)`` hears of each
        release as it is published.
        """
        from popflow.plan import Plan
        from popflow.publish import publish

        if not isinstance(plan, Plan):
            plan = Plan.from_dict(plan) if isinstance(plan, dict) else Plan.read(plan)
        return publish(self, plan, engine, who, engine_options, done)

    def budget(self):
        """The privacy budget (ε and δ spent per person-month), read from the audit log."""
        from popflow.disclosure.budget import BudgetLedger

        return BudgetLedger(self.path, self.settings.privacy_budget, self.settings.delta_budget)

    def rotate_key(self, effective_from: datetime.date | None = None, force: bool = False) -> datetime.date:
        """Schedule a new pseudonymisation key from ``effective_from`` (default: next month's first day).

        Home and work detection need one key for a whole month, so a date other
        than a month's first day is refused unless ``force``. Records dated from
        then on get unlinkable new pseudonyms; re-ingest the subscriber register
        afterwards so breakdowns keep working.
        """
        today = datetime.datetime.now(zoneinfo.ZoneInfo(self.settings.timezone)).date()
        date = effective_from or (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        if date.day != 1 and not force:
            raise PopflowError(f"key rotation on {date} is mid-month: home and work detection need one key per "
                               "month; rotate from a month's first day or use --force")
        if date < today and not force:
            raise PopflowError(f"key rotation date {date} is in the past; records already ingested keep their key")
        if date in key_schedule(self.path):
            raise PopflowError(f"a key rotation on {date} already exists")
        create_key(self.path, date)
        return date

    def catalogue(self) -> list[dict]:
        """Committed ingest batches, oldest first."""
        return self.lake.batches()


__all__ = ["Workspace", "AUDIT_FILE", "KEY_FILE", "default_path"]

