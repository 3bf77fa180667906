"""Celery tasks of the kernel. Without REDIS_URL they run in-process (CELERY_TASK_ALWAYS_EAGER)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="marketdesk.core.tasks.run_due_jobs")
def run_due_jobs() -> int:
    from .jobs import run_due_jobs as run

    return len(run())


@shared_task(name="marketdesk.core.tasks.deliver_notification")
def deliver_notification(notification_id: int, robots: bool = True) -> int:
    from .notifications import deliver

    return deliver(notification_id, robots=robots)


@shared_task(name="marketdesk.core.tasks.deliver_notifications")
def deliver_notifications(notification_ids: list[int], robots: list[int] = ()) -> int:
    """The notifications of one transaction (see notifications.notify)."""
    from .notifications import deliver_many

    return deliver_many(notification_ids, robots=robots)


@shared_task(name="marketdesk.core.tasks.run_import")
def run_import(job_id: int) -> str:
    from .imports import run_import_job

    return run_import_job(job_id)


@shared_task(name="marketdesk.core.tasks.ping")
def ping(value: int) -> int:
    """Round trip used by the live-worker test and the health check."""
    return value + 1
