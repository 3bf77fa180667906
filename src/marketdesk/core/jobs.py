"""Scheduled jobs: a registry of idempotent jobs, each run once per time slot.

`marketdesk run-jobs` runs the due ones; Celery beat calls the same every minute in
production, and `marketdesk serve` does it in-process on a one-machine install."""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import JobRun

log = logging.getLogger("marketdesk.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], str | None]
    every_minutes: int | None = None  # run every N minutes...
    daily_at: datetime.time | None = None  # ...or once a day at this local time
    description: str = ""

    def slot(self, now: datetime.datetime) -> str | None:
        """The slot `now` falls in, or None when the job is not due yet today."""
        local = timezone.localtime(now)
        if self.daily_at is not None:
            if local.time() < self.daily_at:
                return None
            return f"{local:%Y-%m-%d}"
        minutes = self.every_minutes or 60
        index = (local.hour * 60 + local.minute) // minutes
        return f"{local:%Y-%m-%d}/{index}"


_jobs: dict[str, Job] = {}


def register_job(job: Job) -> None:
    _jobs[job.name] = job


def registered_jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def run_job(job: Job, *, slot: str) -> JobRun | None:
    """Run `job` for `slot` unless it already ran (or is running) for it; returns the run."""
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=job.name, slot=slot)
    except IntegrityError:
        return None
    try:
        message = job.func() or ""
        run.status, run.message = "ok", str(message)[:2000]
    except Exception:  # a failing job is logged and retried in its next slot, never fatal
        log.exception("job %s failed", job.name)
        run.status, run.message = "failed", traceback.format_exc()[-2000:]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "message", "finished_at"])
    return run


def run_due_jobs(*, now: datetime.datetime | None = None, only: str | None = None) -> list[JobRun]:
    now = now or timezone.now()
    runs = []
    for job in registered_jobs():
        if only and job.name != only:
            continue
        slot = job.slot(now)
        if slot is None:
            continue
        run = run_job(job, slot=slot)
        if run is not None:
            runs.append(run)
    return runs


def _purge_old_runs() -> str:
    cutoff = timezone.now() - datetime.timedelta(days=90)
    deleted, _ = JobRun.objects.filter(started_at__lt=cutoff).delete()
    return f"deleted {deleted} old job runs"


register_job(
    Job(
        "core.purge_job_runs",
        _purge_old_runs,
        daily_at=datetime.time(3, 0),
        description="Forget job runs older than 90 days",
    )
)
