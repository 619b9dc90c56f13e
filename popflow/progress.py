"""Progress of long steps: a live bar on a terminal, one summary line per step elsewhere.

A step is one thing a command waits for: synthesising a region, ingesting a
source's files, a stage of a release, a stage of the demo. ``Steps`` shows each
on a Rich console. On a terminal a step is a live row (a spinner, its
description, a bar when its total is known, the time elapsed) that vanishes
when it ends; on anything else (a pipe, a log file, a test) nothing moves. In
both cases a step that ends prints one line: its summary and how long it took.
Library functions take a ``Steps`` and default to ``QUIET``, which shows nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn


class Step:
    """One running step: its progress (``update``) and the line it ends with (``summary``)."""

    def __init__(self, description: str, progress: Progress | None = None, task: TaskID | None = None):
        self.summary = description
        self.started = time.monotonic()
        self._progress, self._task = progress, task

    @property
    def elapsed(self) -> float:
        """Seconds since the step started."""
        return time.monotonic() - self.started

    def update(self, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        """Move the live row (on a terminal; elsewhere nothing shows until the step ends)."""
        if self._progress is not None:
            self._progress.update(self._task, completed=completed, total=total, description=description)


class Steps:
    """Shows steps on ``console`` (see the module's docstring); ``None`` shows nothing."""

    def __init__(self, console: Console | None):
        self.console = console
        self._live: Progress | None = None
        self._open = 0

    @contextmanager
    def step(self, description: str, total: float | None = None) -> Iterator[Step]:
        """A step from ``with`` to its end; its summary line is printed only when it ends without error."""
        if self.console is None:
            yield Step(description)
            return
        live = self._start() if self.console.is_terminal else None
        step = Step(description, live, live.add_task(description, total=total) if live else None)
        try:
            yield step
            self.console.print(f"{step.summary} ({seconds_text(step.elapsed)})", markup=False, highlight=False,
                               soft_wrap=True)
        finally:
            if live is not None:
                live.remove_task(step._task)
                self._stop()

    def _start(self) -> Progress:
        """The live display shared by nested steps (one row each), started by the outermost."""
        if self._live is None:
            self._live = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                                  TaskProgressColumn(), TimeElapsedColumn(), console=self.console, transient=True)
            self._live.start()
        self._open += 1
        return self._live

    def _stop(self) -> None:
        self._open -= 1
        if self._open == 0:
            self._live.stop()
            self._live = None


QUIET = Steps(None)


def seconds_text(seconds: float) -> str:
    """A duration for people: ``0.4 s``, ``12 s``, ``3 min 41 s``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
