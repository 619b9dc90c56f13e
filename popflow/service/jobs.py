"""Release jobs: ``Workspace.run`` in a thread pool, with status and progress to poll.

A job is queued, running, done (with its ``release_id``) or failed (with a
user-facing message from ``PopflowError``, or a generic one for anything else,
whose details go to the server log only). Progress is estimated from the wall
time of earlier releases of the same indicator. Finished jobs are kept in
memory, the oldest dropped first.
"""

from __future__ import annotations

import datetime
import logging
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from popflow.errors import PopflowError

log = logging.getLogger("popflow.service")
KEEP_FINISHED = 500
JOB_ID = r"^[0-9a-f]{32}$"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


@dataclass
class JobState:
    """One release job."""

    id: str
    indicator: str
    owner: str
    submitted_at: str = field(default_factory=_now)
    status: str = "queued"
    started_at: str | None = None
    finished_at: str | None = None
    release_id: str | None = None
    error: str | None = None
    expected_s: float | None = None
    _started: float | None = None

    def progress(self) -> float | None:
        if self.status in ("done", "failed"):
            return 1.0
        if self.status == "queued":
            return 0.0
        if not self.expected_s or self._started is None:
            return None
        return round(min(0.95, (time.monotonic() - self._started) / self.expected_s), 3)

    def view(self) -> dict:
        stage = {"queued": "waiting for a worker", "running": "computing and applying disclosure control",
                 "done": "published", "failed": "failed"}[self.status]
        return {"id": self.id, "indicator": self.indicator, "status": self.status, "progress": self.progress(),
                "stage": stage, "submitted_at": self.submitted_at, "started_at": self.started_at,
                "finished_at": self.finished_at, "release_id": self.release_id, "error": self.error}


class JobRunner:
    """Runs releases in the background; ``run_release(job, values)`` does the work."""

    def __init__(self, run_release, workers: int = 1):
        self.run_release = run_release
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="popflow-release")
        self.jobs: dict[str, JobState] = {}
        self._lock = threading.Lock()

    def submit(self, indicator: str, owner: str, values: dict, expected_s: float | None = None) -> JobState:
        job = JobState(id=uuid.uuid4().hex, indicator=indicator, owner=owner, expected_s=expected_s)
        with self._lock:
            self.jobs[job.id] = job
            self._forget_old()
        self.pool.submit(self._execute, job, values)
        return job

    def pending(self, owner: str) -> int:
        """Queued or running jobs of one token."""
        with self._lock:
            return sum(1 for j in self.jobs.values() if j.owner == owner and j.status in ("queued", "running"))

    def get(self, job_id: str) -> JobState | None:
        return self.jobs.get(job_id)

    def listing(self, owner: str | None) -> list[JobState]:
        """Jobs of ``owner`` (None: everyone's), newest first."""
        with self._lock:
            jobs = [j for j in self.jobs.values() if owner is None or j.owner == owner]
        return sorted(jobs, key=lambda j: j.submitted_at, reverse=True)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _execute(self, job: JobState, values: dict) -> None:
        job.status, job.started_at, job._started = "running", _now(), time.monotonic()
        try:
            job.release_id = self.run_release(job, values)
            job.status = "done"
        except PopflowError as exc:
            job.error, job.status = str(exc), "failed"
        except Exception:  # noqa: BLE001 - reported as a generic failure; details only in the server log
            log.exception("release job %s (%s) failed", job.id, job.indicator)
            job.error, job.status = "internal error while computing the release (see the server log)", "failed"
        finally:
            job.finished_at = _now()

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.status in ("done", "failed")]
        for job in sorted(finished, key=lambda j: j.submitted_at)[:max(0, len(finished) - KEEP_FINISHED)]:
            del self.jobs[job.id]


def expected_seconds(manifests: list[dict], indicator: str) -> float | None:
    """Median wall time of the last releases of ``indicator`` (None when there are none)."""
    times = [m.get("wall_time_s") for m in manifests if m.get("indicator") == indicator][:10]
    times = [t for t in times if isinstance(t, int | float) and t > 0]
    return statistics.median(times) if times else None
