"""Scheduled jobs (core/jobs.py): each job runs once per slot, daily jobs wait for their time,
a failing job is recorded and does not stop the others; the `run-jobs` command."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from marketdesk.core import jobs
from marketdesk.core.jobs import Job, register_job, registered_jobs, run_due_jobs
from marketdesk.core.models import JobRun

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: int = 15) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


class Calls:
    def __init__(self):
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"call {self.count}"


@pytest.fixture
def test_jobs():
    """Registers test jobs for one test and removes them afterwards (the registry is global)."""
    added: list[str] = []

    def add(name: str, func, **schedule) -> Job:
        job = Job(f"test.{name}", func, **schedule)
        register_job(job)
        added.append(job.name)
        return job

    yield add
    for name in added:
        jobs._jobs.pop(name, None)


def runs_of(name: str) -> list[JobRun]:
    return list(JobRun.objects.filter(job=f"test.{name}").order_by("started_at", "pk"))


class TestSlots:
    def test_an_interval_job_runs_once_per_slot(self, test_jobs):
        calls = Calls()
        test_jobs("every15", calls, every_minutes=15)
        run_due_jobs(now=at(9, 0), only="test.every15")
        run_due_jobs(now=at(9, 14), only="test.every15")  # same 09:00-09:14 slot
        assert calls.count == 1
        run_due_jobs(now=at(9, 15), only="test.every15")
        assert calls.count == 2
        assert [run.slot for run in runs_of("every15")] == ["2026-03-15/36", "2026-03-15/37"]

    def test_calling_twice_in_the_same_slot_runs_once(self, test_jobs):
        calls = Calls()
        test_jobs("twice", calls, every_minutes=60)
        first = run_due_jobs(now=at(10, 5), only="test.twice")
        second = run_due_jobs(now=at(10, 5), only="test.twice")
        assert calls.count == 1
        assert [run.status for run in first] == ["ok"]
        assert second == []
        [run] = runs_of("twice")
        assert run.message == "call 1"
        assert run.finished_at is not None

    def test_a_daily_job_is_not_due_before_its_time(self, test_jobs):
        calls = Calls()
        test_jobs("daily", calls, daily_at=datetime.time(8, 30))
        assert run_due_jobs(now=at(8, 29), only="test.daily") == []
        assert calls.count == 0
        run_due_jobs(now=at(8, 30), only="test.daily")
        run_due_jobs(now=at(23, 59), only="test.daily")
        assert calls.count == 1
        run_due_jobs(now=at(8, 30, day=16), only="test.daily")
        assert calls.count == 2
        assert [run.slot for run in runs_of("daily")] == ["2026-03-15", "2026-03-16"]

    def test_a_daily_job_follows_local_time_not_utc(self, test_jobs):
        calls = Calls()
        test_jobs("local", calls, daily_at=datetime.time(8, 0))
        # 01:00 UTC is 09:00 in Shanghai: due
        run_due_jobs(
            now=datetime.datetime(2026, 3, 15, 1, 0, tzinfo=datetime.UTC), only="test.local"
        )
        assert calls.count == 1

    def test_a_daily_job_missed_at_its_time_still_runs_later_that_day(self, test_jobs):
        calls = Calls()
        test_jobs("late", calls, daily_at=datetime.time(3, 0))
        run_due_jobs(now=at(11, 0), only="test.late")  # the server was down at 03:00
        assert calls.count == 1

    def test_a_job_already_running_in_its_slot_is_not_started_again(self, test_jobs):
        calls = Calls()
        job = test_jobs("busy", calls, every_minutes=5)
        JobRun.objects.create(job=job.name, slot=job.slot(at(12, 0)))  # another worker has it
        assert run_due_jobs(now=at(12, 1), only="test.busy") == []
        assert calls.count == 0


class TestFailures:
    def test_a_failing_job_is_recorded_and_the_others_still_run(self, test_jobs):
        def broken():
            raise ValueError("the data source is down")

        calls = Calls()
        test_jobs("a_broken", broken, every_minutes=5)
        test_jobs("b_fine", calls, every_minutes=5)
        runs = run_due_jobs(now=at(14, 0))
        by_job = {run.job: run for run in runs}
        assert by_job["test.a_broken"].status == "failed"
        assert "the data source is down" in by_job["test.a_broken"].message
        assert by_job["test.b_fine"].status == "ok"
        assert calls.count == 1

    def test_a_failed_job_is_tried_again_in_its_next_slot(self, test_jobs):
        attempts = []

        def flaky():
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("first time fails")
            return "recovered"

        test_jobs("flaky", flaky, every_minutes=10)
        run_due_jobs(now=at(15, 0), only="test.flaky")
        run_due_jobs(now=at(15, 5), only="test.flaky")
        run_due_jobs(now=at(15, 10), only="test.flaky")
        assert [(run.status, run.message[:9]) for run in runs_of("flaky")] == [
            ("failed", "Traceback"),
            ("ok", "recovered"),
        ]


class TestShippedJobs:
    def test_the_kernel_registers_the_purge_of_old_runs(self):
        assert "core.purge_job_runs" in {job.name for job in registered_jobs()}

    def test_old_runs_are_purged(self):
        old = JobRun.objects.create(job="x", slot="1")
        JobRun.objects.filter(pk=old.pk).update(
            started_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        )
        recent = JobRun.objects.create(job="x", slot="2")
        [run] = run_due_jobs(now=at(3, 0), only="core.purge_job_runs")
        assert run.status == "ok"
        assert run.message == "deleted 1 old job runs"
        assert list(JobRun.objects.filter(job="x")) == [recent]


class TestCommand:
    def run(self, *args) -> str:
        out = io.StringIO()
        call_command("run-jobs", *args, stdout=out)
        return out.getvalue()

    def test_run_jobs_runs_the_due_jobs_once(self, test_jobs):
        calls = Calls()
        test_jobs("cmd", calls, every_minutes=1)
        output = self.run()
        assert "test.cmd" in output and ": ok call 1" in output
        self.run("--job", "test.cmd")  # same minute, unless the clock just ticked over
        assert calls.count in (1, 2)
        assert JobRun.objects.filter(job="test.cmd").count() == calls.count

    def test_run_jobs_only_one_job(self, test_jobs):
        first, second = Calls(), Calls()
        test_jobs("one", first, every_minutes=1)
        test_jobs("two", second, every_minutes=1)
        self.run("--job", "test.one")
        assert (first.count, second.count) == (1, 0)

    def test_nothing_due_says_so(self, test_jobs):
        test_jobs("later", Calls(), daily_at=datetime.time(23, 59, 59, 999999))
        assert "no job was due" in self.run("--job", "test.later")

    def test_an_unknown_job_is_an_error(self):
        with pytest.raises(CommandError, match="no-such-job"):
            self.run("--job", "no-such-job")

    def test_list_shows_every_job_with_its_schedule(self, test_jobs):
        test_jobs("listed", Calls(), every_minutes=15, description="Does a thing")
        test_jobs("default", Calls())
        output = self.run("--list")
        assert "core.purge_job_runs" in output and "daily at 03:00" in output
        line = next(line for line in output.splitlines() if line.startswith("test.listed"))
        assert "every 15 min" in line and "Does a thing" in line
        default = next(line for line in output.splitlines() if line.startswith("test.default"))
        assert "every 60 min" in default
        assert not JobRun.objects.exists()  # --list runs nothing
