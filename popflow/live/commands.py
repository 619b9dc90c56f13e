"""The ``popflow stream`` command (register with ``app.add_command(stream)``) and ``replay``."""

from __future__ import annotations

from pathlib import Path

import click

from popflow.errors import PopflowError
from popflow.live.options import LiveOptions, SourceAddress

workspace_option = click.option(
    "--workspace", "-w", type=click.Path(path_type=Path), default=None, envvar="POPFLOW_WORKSPACE",
    help="workspace folder (default ./popflow-workspace or $POPFLOW_WORKSPACE)",
)


@click.command()
@click.option("--source", required=True,
              help="dir:PATH (a landing directory; write files as .NAME or NAME.tmp, then rename) "
                   "or nats://HOST:PORT/SUBJECT (JetStream; the stream is created if none holds the subject)")
@click.option("--bin", "bin_", default="1h", show_default=True, help="bin length (15min, 30min, 1h, …; divides 24h)")
@click.option("--lateness", default="30min", show_default=True,
              help="how long after a bin ends its late events still update it; later ones are reported as late")
@click.option("--checkpoint-every", default="10s", show_default=True,
              help="commit a micro-batch (rows, position, closed bins) to the lake at least this often")
@click.option("--checkpoint-events", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="... or as soon as this many rows are pending")
@click.option("--retain", default="24h", show_default=True, help="how long closed bins stay in the live view")
@click.option("--refresh", default="1s", show_default=True, help="snapshot interval (at most 1s)")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None,
              help="landing-directory files (default: by suffix)")
@click.option("--fetch", type=click.IntRange(1, 10_000), default=256, show_default=True,
              help="NATS messages per pull request")
@click.option("--durable", default="popflow-live", show_default=True, help="NATS durable consumer name")
@click.option("--idle-exit", type=float, default=None,
              help="stop after the source has been idle this many seconds (default: run until stopped)")
@workspace_option
def stream(source, bin_, lateness, checkpoint_every, checkpoint_events, retain, refresh, fmt, fetch, durable,
           idle_exit, workspace):
    """Live ingestion: validate, pseudonymise and count events as they arrive (SPEC §5).

    Rows reach the lake in micro-batches; present population per area for the
    current and recent bins is published to <workspace>/live/ every second
    in the workspace's default_privacy mode: k (suppressed under k) or ckm
    (also perturbed by cell key, as a ckm release); dp is refused (read it
    with popflow.live.LiveView). Stop with Ctrl-C.
    """
    from popflow.live.publish import live_mechanism
    from popflow.live.stream import run_stream
    from popflow.workspace import Workspace

    ws = Workspace(workspace)
    live_mechanism(ws)  # refuses a mode the live view cannot publish in, before anything starts
    address = SourceAddress.parse(source)
    options = LiveOptions.from_text(bin=bin_, lateness=lateness, checkpoint_every=checkpoint_every,
                                    retain=retain, refresh=refresh, checkpoint_events=checkpoint_events,
                                    fmt=fmt, fetch=fetch, durable=durable, idle_exit=idle_exit)
    click.echo(f"streaming {source} (bin {bin_}, lateness {lateness}); Ctrl-C to stop", err=True)
    counters = run_stream(ws, address, options)
    click.echo(f"stopped: {counters.get('accepted', 0):,} events accepted, "
               f"{counters.get('quarantined', 0):,} quarantined, {counters.get('late', 0):,} late", err=True)


@click.command("replay")
@click.argument("inputs", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--target", required=True, help="nats://HOST:PORT/SUBJECT or dir:PATH")
@click.option("--speedup", type=float, default=3600.0, show_default=True,
              help="event seconds per wall-clock second (0: as fast as possible)")
def replay_command(inputs, target, speedup):
    """Replay the events of a `popflow synth` folder into a live source, in time order."""
    from popflow.live.replay import replay

    if speedup < 0:
        raise PopflowError("--speedup must not be negative")
    summary = replay(inputs, target, speedup)
    click.echo(f"replayed {summary['events']:,} events in {summary['messages']:,} messages "
               f"({summary['seconds']} s) to {summary['target']}", err=True)
