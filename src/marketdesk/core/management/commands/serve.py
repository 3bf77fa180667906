"""`marketdesk serve [addr:port]`: the one-machine server, which also runs due scheduled jobs
every minute in-process (production uses Celery beat instead)."""

import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections


def _job_loop(stop: threading.Event) -> None:
    from marketdesk.core.jobs import run_due_jobs

    while not stop.wait(60):
        try:
            close_old_connections()
            run_due_jobs()
        except Exception as exc:  # keep serving even if a job run fails to start
            print(f"scheduled jobs: {exc}")
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Serve MarketDesk and run due scheduled jobs every minute."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport="127.0.0.1:8000", **options):
        stop = threading.Event()
        threading.Thread(target=_job_loop, args=(stop,), daemon=True, name="md-jobs").start()
        try:
            call_command("runserver", addrport, use_reloader=False, use_threading=True)
        finally:
            stop.set()
            time.sleep(0)
