"""The ``popflow`` command line (SPEC §1–§6).

``popflow run INDICATOR`` has one sub-command per registered indicator, its
options generated from the indicator's parameter object.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from popflow import indicators
from popflow.disclosure.request import PrivacyRequest
from popflow.engines import engine_names
from popflow.errors import PopflowError
from popflow.indicators.params import option_name, to_json
from popflow.ingest.column_map import parse_column_map
from popflow.ingest.registry import SOURCES
from popflow.live.commands import stream
from popflow.progress import Steps
from popflow.service.commands import serve, token  # imports no FastAPI until `serve` runs
from popflow.settings import DEFAULT_ENGINE
from popflow.workspace import Workspace, default_path

console = Console(stderr=True)
stdout = Console()
steps = Steps(console)  # long steps: live bars on a terminal, one summary line each otherwise

workspace_option = click.option(
    "--workspace", "-w", type=click.Path(path_type=Path), default=None, envvar="POPFLOW_WORKSPACE",
    help="workspace folder (default ./popflow-workspace or $POPFLOW_WORKSPACE)",
)


class Cli(click.Group):
    """Turns PopflowError into a one-line message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PopflowError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            sys.exit(2)


@click.group(cls=Cli)
@click.version_option(package_name="popflow")
def app():
    """popflow: aggregate, privacy-safe population and mobility statistics."""


@app.command()
@click.argument("directory", type=click.Path(path_type=Path), required=False)
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone of local hours and days")
@click.option("--home-mcc", default="", help="the country's mobile country codes, e.g. 460,461")
@click.option("--k", "k", type=int, default=15, show_default=True, help="minimum people per published cell")
def init(directory, timezone, home_mcc, k):
    """Create a workspace: settings, secret key, lake, audit log and releases."""
    path = directory or default_path()
    mccs = tuple(m.strip() for m in home_mcc.split(",") if m.strip())
    ws = Workspace.init(path, timezone=timezone, home_mcc=mccs, k=k)
    stdout.print(f"workspace created at {ws.path} (k={k}, timezone {timezone})")


class SourceName(click.ParamType):
    """The name of a registered source, looked up when the command runs (a plug-in's source is one)."""

    name = "source"

    def get_metavar(self, param, ctx) -> str:
        return "{" + "|".join(SOURCES) + "}"

    def convert(self, value, param, ctx):
        if value not in SOURCES:
            self.fail(f"{value!r} is not one of {', '.join(map(repr, SOURCES))}.", param, ctx)
        return value


# Spark options shared by `ingest` and `run` (declarations and attributes).
MASTER = (["--master"], {"default": None, "help": "spark: master URL (local[*], spark://…, yarn, sc://… for "
                                                  "Spark Connect)"})
SPARK_CONF = (["--spark-conf"], {"multiple": True, "help": "spark: a setting key=value (repeatable)"})


@app.command()
@click.argument("source", type=SourceName())
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None,
              help="input format (default: by file suffix)")
@click.option("--columns", default=None, metavar="MAP",
              help="the files' own column names: popflow_name=file_name,… (e.g. subscriber_id=msisdn)")
@click.option("--h3", type=int, default=None, help="areas only: use an H3 grid of this resolution")
@click.option("--engine", type=click.Choice(engine_names()), default=DEFAULT_ENGINE, show_default=True,
              help="spark: events read, pseudonymised and checked by Spark tasks, one per file")
@click.option(*MASTER[0], **MASTER[1])
@click.option(*SPARK_CONF[0], **SPARK_CONF[1])
@workspace_option
def ingest(source, paths, fmt, columns, h3, engine, master, spark_conf, workspace):
    """Validate, pseudonymise and add input files (or directories) to the lake."""
    ws = Workspace(workspace)
    report = ws.ingest(source, list(paths), fmt=fmt, h3=h3, engine=engine,
                       columns=parse_column_map(columns) if columns else None,
                       engine_options=_engine_options(master, spark_conf), steps=steps)
    print_quality(report)


def print_quality(report: dict) -> None:
    rows = report["rows"]
    table = Table(title=f"data quality: {report['source']}", show_header=False)
    table.add_row("rows read", f"{rows['read']:,}")
    table.add_row("accepted", f"{rows['accepted']:,}")
    table.add_row("quarantined", f"{rows['quarantined']:,}")
    for reason, count in report.get("quarantined_by_reason", {}).items():
        table.add_row(f"  {reason}", f"{count:,}")
    for key in ("distinct_people", "cells_outside_every_area", "grid"):
        if key in report:
            table.add_row(key.replace("_", " "), f"{report[key]:,}" if isinstance(report[key], int) else report[key])
    if "time_span" in report:
        table.add_row("time span", f"{report['time_span']['first']} → {report['time_span']['last']}")
    if "records_per_person" in report:
        table.add_row("records per person", "  ".join(f"{k} {v}" for k, v in report["records_per_person"].items()))
    if report.get("files_already_ingested"):
        table.add_row("already ingested (skipped)", ", ".join(report["files_already_ingested"]))
    stdout.print(table)


@app.command("indicators")
def list_indicators():
    """List every indicator with its definition in one line."""
    for indicator in indicators.all_indicators():
        stdout.print(f"[bold]{indicator.name}[/bold]  {indicator.summary}", highlight=False)


class RunGroup(click.Group):
    """``popflow run INDICATOR``: one sub-command per registered indicator."""

    def list_commands(self, ctx):
        return [i.name for i in indicators.all_indicators()]

    def get_command(self, ctx, name):
        known = {i.name: i for i in indicators.all_indicators()}  # a plug-in that cannot load says so here
        return indicator_command(known[name]) if name in known else None


def indicator_command(indicator) -> click.Command:
    """A click command whose options come from the indicator's and the privacy request's parameter objects."""
    privacy_options = [option_name(f) for f in dataclasses.fields(PrivacyRequest)]
    params = [click.Option([f.metadata["flag"], f.name], default=None, help=_help(f))
              for f in dataclasses.fields(indicator.params)]
    params += [click.Option([f.metadata["flag"], option_name(f)], default=None, help=_help(f))
               for f in dataclasses.fields(PrivacyRequest)]
    params += [
        click.Option(["--out", "-o"], type=click.Path(path_type=Path), required=True,
                     help="output file: .parquet, .csv or .geojson"),
        click.Option(["--engine"], type=click.Choice(engine_names()), default=None,
                     help="engine [default: from popflow.toml]"),
        click.Option(MASTER[0], **MASTER[1]), click.Option(SPARK_CONF[0], **SPARK_CONF[1]),
        click.Option(["--workspace", "-w"], type=click.Path(path_type=Path), default=None, envvar="POPFLOW_WORKSPACE"),
    ]

    def callback(out, engine, master, spark_conf, workspace, **values):
        privacy = {name: values.pop(name) for name in privacy_options}
        given = {k: v for k, v in values.items() if v is not None}
        options = _engine_options(master, spark_conf)
        release = Workspace(workspace).run(indicator.name, out=out, engine=engine, engine_options=options,
                                           steps=steps, **privacy, **given)
        print_release(release)

    return click.Command(indicator.name, params=params, callback=callback, help=indicator.description,
                         short_help=indicator.summary)


def _engine_options(master: str | None, settings: tuple[str, ...]) -> dict:
    """Spark options from --master and --spark-conf key=value."""
    conf = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise PopflowError(f"--spark-conf '{setting}' is not key=value")
        conf[key.strip()] = value.strip()
    return {k: v for k, v in (("master", master), ("conf", conf)) if v}


def _help(f) -> str:
    default = f.metadata.get("shown") or (None if f.default in (None, ()) else f.default)
    return f.metadata["help"] + (f" [default: {default}]" if default is not None else "")


def print_release(release) -> None:
    """The release's table (see ``release_table``), what disclosure control did to each table, and its id."""
    m = release.manifest
    folder = release.files[0].parent if release.files else None
    stdout.print(release_table(release_rows([release], folder), stdout.width))
    notes = m.get("suppressed") or m.get("noise") or {}
    for name, note in notes.items():
        text = (f"derived from the published cells of release {note}" if name == "derived_from"
                else _disclosure_text(note, m["privacy"]))
        stdout.print(f"{name}: {text}", highlight=False)
    written = f"; files in {folder} with {release.files[0].name}.manifest.json" if folder else ""
    stdout.print(f"release {m['release_id']} audited in {m['wall_time_s']} s{written}", markup=False,
                 highlight=False, soft_wrap=True)


RELEASE_COLUMNS = ("release", "rows", "suppressed", "file")


def release_rows(releases: list, folder: Path | None = None) -> list[tuple[str, str, str, str]]:
    """One row per published table: release (indicator and changed parameters), rows, cells suppressed, file.

    ``suppressed`` counts the cells below k left out (k, ckm), for a table that combines
    disclosure-controlled inputs those of its inputs; dp drops noisy cells instead, and
    a derived table only reads published cells (—). Files are relative to ``folder``.
    """
    rows = []
    for release in releases:
        m = release.manifest
        notes = m.get("suppressed") or m.get("noise") or {}
        label = " ".join([m["indicator"], *_changed_parameters(m)])
        files = [str(f.relative_to(folder)) if folder else str(f) for f in release.files]
        for index, (name, count) in enumerate(m["rows"].items()):
            rows.append((label if index == 0 else f"  {name}", f"{count:,}",
                         _suppressed_text(notes, name, m["rows"], m["privacy"]["mode"]),
                         files[index] if index < len(files) else "—"))
    return rows


def release_table(rows: list[tuple[str, str, str, str]], width: int):
    """The rows as a table whose release column wraps between words; where even that is wider than
    ``width``, one block per table instead, so that no word, number or file name is ever cut."""
    widest = [max(len(word) for row in rows for word in row[0].split()),
              *(max(len(row[i]) for row in [RELEASE_COLUMNS, *rows]) for i in (1, 2, 3))]
    if sum(widest) + len(widest) - 1 > width:
        return Group(*(Text(f"{label}\n    {count} rows, {suppressed} suppressed → {file}")
                       for label, count, suppressed, file in rows))
    table = Table(box=None, padding=(0, 1), collapse_padding=True, pad_edge=False, header_style="bold underline")
    table.add_column(RELEASE_COLUMNS[0], min_width=widest[0])
    for name in RELEASE_COLUMNS[1:3]:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column(RELEASE_COLUMNS[3], no_wrap=True)
    for row in rows:
        table.add_row(*map(Text, row))
    return table


def _changed_parameters(manifest: dict) -> list[str]:
    """``name=value`` of each parameter of a release that differs from its indicator's default."""
    defaults = to_json(indicators.get(manifest["indicator"]).params())
    return [f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in manifest["parameters"].items() if value != defaults.get(name)]


def _suppressed_text(notes: dict, table: str, tables: dict, mode: str) -> str:
    """Cells below k a table lost, or those its inputs lost when it combines them (sales-penetration)."""
    if mode == "dp":
        return "dp noise" if notes else "—"
    if table in notes:
        return f"{notes[table]['cells_below_k']:,}"
    inputs = [note["cells_below_k"] for name, note in notes.items() if name not in tables and isinstance(note, dict)]
    return f"{sum(inputs):,} (inputs)" if inputs else "—"


def _disclosure_text(note: dict, privacy: dict) -> str:
    """What disclosure control did to one table, in words."""
    if privacy["mode"] != "dp":
        withheld = note["magnitudes_dominated"]
        perturbed = (f"; counts perturbed by their cell keys (at most ±{privacy['max_perturbation']})"
                     if privacy["mode"] == "ckm" else "")
        return (f"{note['cells_below_k']:,} cells below k={privacy['k']} left out"
                + (f", {withheld:,} values withheld (dominance)" if withheld else "") + perturbed)
    text = (f"differential privacy ε={note['epsilon']:g} (release ε={privacy['epsilon']:g}, "
            f"δ={privacy['delta']:g}), at most {note['max_contrib']} cells per person, {note['keys']} keys"
            + (f", threshold {note['threshold']}" if "threshold" in note else ""))
    for measure, values in note.items():
        if isinstance(values, dict):
            text += (f"; {measure}: noise scale {values['noise_scale']:g}, "
                     f"|error| ≤ {values['error_95']:g} with 95% probability")
    return text


app.add_command(RunGroup("run", help="Run an indicator and publish its disclosure-controlled result."))


@app.command()
@click.argument("plan", type=click.Path(path_type=Path))
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default=None,
              help="engine [default: from popflow.toml]")
@click.option(*MASTER[0], **MASTER[1])
@click.option(*SPARK_CONF[0], **SPARK_CONF[1])
@workspace_option
def publish(plan, engine, master, spark_conf, workspace):
    """Run the releases of a plan file in one engine session, computing shared building blocks once."""
    from popflow.plan import Plan

    ws, package = Workspace(workspace), Plan.read(plan)

    def done(planned, release):
        stdout.print(f"[bold]{escape(planned.label)}[/bold]", highlight=False)
        print_release(release)

    with console.status(f"publishing {plan}"):
        released = ws.publish(package, engine=engine, engine_options=_engine_options(master, spark_conf), done=done)
    stdout.print(f"{len(released)} release(s) published from {plan}", highlight=False)
app.add_command(serve)
app.add_command(token)
app.add_command(stream)


@app.command()
@workspace_option
def catalogue(workspace):
    """List what was ingested: batches, inputs and row counts."""
    for batch in Workspace(workspace).catalogue():
        rows = batch["quality"]["rows"]
        stdout.print(f"{batch['committed_at'][:19]}  {batch['source']:<12} {len(batch['inputs'])} file(s)  "
                  f"{rows['accepted']:,} accepted  {rows['quarantined']:,} quarantined")


@app.command()
@workspace_option
def budget(workspace):
    """Show the privacy budget spent and remaining per person-month (read from the audit log)."""
    ws = Workspace(workspace)
    table = Table(title=f"privacy budget per person-month: ε {ws.settings.privacy_budget:g}, "
                        f"δ {ws.settings.delta_budget:g}")
    for column in ("month", "ε spent", "δ spent", "ε remaining"):
        table.add_column(column)
    for row in ws.budget().rows():
        table.add_row(row["month"], f"{row['epsilon_spent']:g}", f"{row['delta_spent']:.2g}",
                      f"{row['epsilon_remaining']:g}")
    stdout.print(table if table.row_count else "no differentially private release yet: the whole budget remains")


@app.group()
def key():
    """The pseudonymisation key."""


@key.command("rotate")
@click.option("--from", "effective_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="first local date of the new key [default: first day of next month]")
@click.option("--force", is_flag=True, help="allow a date that is not a month's first day, or in the past")
@workspace_option
def key_rotate(effective_from, force, workspace):
    """Schedule a new key: records from that date on get new, unlinkable pseudonyms."""
    ws = Workspace(workspace)
    date = ws.rotate_key(effective_from.date() if effective_from else None, force=force)
    stdout.print(f"new key from {date}; re-ingest the subscriber register so breakdowns keep working")


@app.group()
def audit():
    """The tamper-evident release log."""


@audit.command("verify")
@workspace_option
def audit_verify(workspace):
    """Check the hash chain of audit.jsonl; exits 1 naming the first bad line."""
    from popflow import audit as audit_log
    from popflow.workspace import AUDIT_FILE

    ws = Workspace(workspace)
    lines, bad = audit_log.verify(ws.path / AUDIT_FILE)
    if bad is not None:
        console.print(f"[red]audit log broken at line {bad}[/red] of {lines}")
        sys.exit(1)
    stdout.print(f"audit log intact: {lines} release(s)")


@audit.command("show")
@workspace_option
def audit_show(workspace):
    """Print the audit log."""
    from popflow import audit as audit_log
    from popflow.workspace import AUDIT_FILE

    for record in audit_log.read(Workspace(workspace).path / AUDIT_FILE):
        stdout.print(json.dumps(record, sort_keys=True), highlight=False)


@app.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="folder for the inputs and the truth")
@click.option("--people", type=int, default=20_000, show_default=True)
@click.option("--days", type=int, default=35, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="format of the event files")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2026-01-05", show_default=True,
              help="first local day")
def synth(out, people, days, seed, fmt, start):
    """Write every input of a synthetic region plus its ground truth."""
    from popflow import synth as scenario

    summary = scenario.synthesise(out, steps, people=people, days=days, seed=seed, events_format=fmt,
                                  start=start.date())
    out_msg = ", ".join(f"{k} {v:,}" for k, v in summary.items() if isinstance(v, int))
    stdout.print(f"wrote {out}: {out_msg}")


def accuracy_headline(scores: dict) -> list[str]:
    """The demo's accuracy in a few lines, each saying what it measures."""
    presence = scores.get("presence_error", {})
    lines = []
    if "estimate_vs_everyone" in presence:
        lines.append(f"present population, estimate vs everyone: {presence['estimate_vs_everyone']['weighted_abs_pct']}"
                     " % weighted error")
    if "vs_subscribers" in presence:
        lines.append(f"present population, people vs the subscribers present: "
                     f"{presence['vs_subscribers']['weighted_abs_pct']} % weighted error")
    if scores.get("od_flows", {}).get("spearman") is not None:
        lines.append(f"od-flows trips vs true trips: Spearman {scores['od_flows']['spearman']}, "
                     f"ratio {scores['od_flows']['total_ratio']}")
    lines.append(f"home detection accuracy (district): {scores['home_accuracy']:.1%}")
    return lines


@app.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("popflow-demo"), show_default=True)
@click.option("--people", type=int, default=12_000, show_default=True, help="residents of the synthetic region")
@click.option("--months", type=click.IntRange(1, 12), default=2, show_default=True,
              help="whole calendar months from January 2026 (the default 2: January and February)")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--live", is_flag=True, help="replay the region's events into a live stream and serve the dashboard")
@click.option("--days", type=click.IntRange(1, 2), default=2, show_default=True, help="with --live: days replayed")
@click.option("--speedup", type=float, default=3600.0, show_default=True,
              help="with --live: event seconds replayed per wall-clock second")
@click.option("--port", type=int, default=8000, show_default=True, help="with --live: dashboard port")
@click.option("--seconds", type=float, default=None, help="with --live: stop after this many seconds")
def demo(out, people, months, seed, live, days, speedup, port, seconds):
    """Synthesise a region, ingest it, run every indicator and write a report (or, with --live, stream it)."""
    from popflow.demo import run_demo, run_live_demo

    if live:
        run_live_demo(out, people=min(people, 5_000), days=days, seed=seed, speedup=speedup, port=port,
                      say=lambda m: console.print(m, highlight=False), seconds=seconds)
        return

    result = run_demo(out, people=people, months=months, seed=seed, steps=steps)
    stdout.print(release_table(release_rows(result["releases"], result["outputs"]), stdout.width))
    for line in accuracy_headline(result["accuracy"]):
        stdout.print(line, highlight=False)
    for name, where in (("workspace", result["workspace"]), ("releases", result["outputs"]),
                        ("report", result["report"])):
        stdout.print(f"{name}: {where}")
