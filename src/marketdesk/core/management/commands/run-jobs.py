"""`marketdesk run-jobs`: run the scheduled jobs that are due now (each slot runs once)."""

from django.core.management.base import BaseCommand, CommandError

from marketdesk.core.jobs import registered_jobs, run_due_jobs


class Command(BaseCommand):
    help = "Run the scheduled jobs that are due (idempotent: each job runs once per slot)."

    def add_arguments(self, parser):
        parser.add_argument("--job", help="Run only this job.")
        parser.add_argument("--list", action="store_true", help="List the registered jobs.")

    def handle(self, *args, job=None, list=False, **options):
        if list:
            for item in registered_jobs():
                when = (
                    f"daily at {item.daily_at:%H:%M}"
                    if item.daily_at
                    else f"every {item.every_minutes or 60} min"
                )
                self.stdout.write(f"{item.name:<32} {when:<20} {item.description}")
            return
        if job and job not in {item.name for item in registered_jobs()}:
            raise CommandError(f"There is no job named {job!r} (see run-jobs --list).")
        runs = run_due_jobs(only=job)
        for run in runs:
            self.stdout.write(f"{run.job} [{run.slot}]: {run.status} {run.message[:200]}")
        if not runs:
            self.stdout.write("no job was due")
