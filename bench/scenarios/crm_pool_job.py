"""CRM nightly pool job (`crm.services.pool_run`) over every customer.

On `--size` customers (default 1,000,000) the pools' rules are set so that a realistic share
(about 3 %) of the owned customers is due: no follow-up for 960 / 1,000 / 1,030 days (levels
A / B / C; the generated last contacts spread over three years, recent ones more often) or no
deal for 1,300 / 1,400 / 1,450 days since owned; deals exempt. Then it runs the job once, as
the nightly schedule does, and once more at the same moment (idempotent: nothing left to do,
so the second run is the cost of scanning alone).

Figures: customers due before the run (counted with the job's own conditions), returned,
reminded (due within `remind_days_before`), marked dormant, and for each run the wall-clock
and CPU seconds (`crm_pool_job_seconds`, `_cpu_seconds`) and SQL statements."""

from __future__ import annotations

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.crm_generators import prepare
from bench.timing import Figure
from marketdesk.crm import services
from marketdesk.crm.models import Customer, CustomerPool, OwnerChange

DEFAULT_SIZE = 1_000_000
NEEDS_ORG = False
RULES = {
    "no_follow_up_days_a": 960,
    "no_follow_up_days_b": 1000,
    "no_follow_up_days_c": 1030,
    "no_deal_days_a": 1300,
    "no_deal_days_b": 1400,
    "no_deal_days_c": 1450,
    "deal_exempt": True,
    "remind_days_before": 3,
}


def _timed_run(now):
    started, started_cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        result = services.pool_run(now=now)
    return result, time.perf_counter() - started, time.process_time() - started_cpu, len(queries)


def run(*, org, size, note):
    org, customers = prepare(size, note)
    yield Figure("crm_customers", customers, "rows")
    CustomerPool.objects.update(**RULES)
    now = timezone.now()
    owned = Customer.objects.filter(owner__isnull=False).count()
    due = sum(
        services._pool_candidates(pool, pool.is_default)
        .filter(services._due_conditions(pool, now))
        .count()
        for pool in CustomerPool.objects.filter(active=True)
    )
    yield Figure("crm_pool_job_owned", owned, "rows")
    yield Figure("crm_pool_job_due", due, "rows")
    yield Figure("crm_pool_job_due_share", 100 * due / max(owned, 1), "%")
    changes_before = OwnerChange.objects.count()
    result, seconds, cpu, queries = _timed_run(now)
    note(f"first run: {result}")
    yield Figure("crm_pool_job_returned", result.returned, "rows")
    yield Figure("crm_pool_job_reminded", result.reminded, "rows")
    yield Figure("crm_pool_job_dormant", result.dormant, "rows")
    yield Figure("crm_pool_job_seconds", seconds, "s")
    yield Figure("crm_pool_job_cpu_seconds", cpu, "s")
    yield Figure("crm_pool_job_queries", queries, "queries")
    yield Figure("crm_pool_job_owner_changes", OwnerChange.objects.count() - changes_before, "rows")
    result, seconds, cpu, queries = _timed_run(now)
    note(f"second run at the same moment: {result}")
    yield Figure("crm_pool_job_rerun_returned", result.returned, "rows")
    yield Figure("crm_pool_job_rerun_seconds", seconds, "s")
    yield Figure("crm_pool_job_rerun_cpu_seconds", cpu, "s")
