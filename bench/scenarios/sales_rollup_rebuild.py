"""Dashboard rollups: a full rebuild (seconds), processing marked cells, and RFM scoring.

On `--size` order lines (default 10,000,000; bench/sales_generators.py, `--reuse` keeps a
generated database): `services.targets.rollups_rebuild()` twice (the set-based INSERT ...
SELECT over all orders, lines, receipts and deliveries; the requirement is <= 3 min on 10M
lines), its cells; `rollups_process()` after marking 1,000 random cells (what the every-minute
job does after a busy minute) in ms; and `rfm_compute()` (the nightly RFM scores) in seconds.
After the run the rollups are checked against a direct aggregate of the orders."""

from __future__ import annotations

import random
import time

from django.db.models import Count, Max, Min, Sum

from bench.sales_generators import prepare
from bench.timing import Figure

DEFAULT_SIZE = 10_000_000
NEEDS_ORG = False
MARKS = 1000


def run(*, org, size, note):
    from marketdesk.sales import rollups
    from marketdesk.sales.models import BOOKED, SalesOrder, SalesRollup
    from marketdesk.sales.services.targets import rfm_compute

    prepare(size, note)
    for attempt in (1, 2):
        started_cpu = time.process_time()
        result = rollups.rollups_rebuild()
        note(f"rebuild {attempt}: CPU {time.process_time() - started_cpu:.1f} s")
        yield Figure(f"sales_rollup_rebuild_{attempt}_seconds", result["seconds"], "s")
    yield Figure("sales_rollup_cells", result["cells"], "cells")

    rng = random.Random(7)
    ids = SalesOrder.objects.aggregate(low=Min("pk"), high=Max("pk"))
    wanted = [rng.randint(ids["low"], ids["high"]) for _ in range(MARKS)]
    orders = list(
        SalesOrder.objects.filter(pk__in=wanted).values_list(
            "order_date", "department_id", "owner_id"
        )
    )
    for day, department_id, owner_id in orders:
        rollups.mark(day=day, department_id=department_id, owner_id=owner_id)
    started = time.perf_counter()
    cells = rollups.rollups_process()
    yield Figure("sales_rollup_process_ms", (time.perf_counter() - started) * 1000, "ms")
    note(f"{len(orders)} marks, {cells} cells recomputed")

    started = time.perf_counter()
    result = rfm_compute()
    yield Figure("sales_rfm_seconds", time.perf_counter() - started, "s")
    note(f"RFM: {result['scored']} customers scored")

    rolled = SalesRollup.objects.aggregate(n=Sum("order_count"), amount=Sum("order_amount"))
    direct = SalesOrder.objects.filter(status__in=BOOKED).aggregate(
        n=Count("pk"), amount=Sum("total")
    )
    same = rolled["n"] == direct["n"] and abs((rolled["amount"] or 0) - (direct["amount"] or 0)) < 1
    note(f"rollups {'equal' if same else 'DIFFER FROM'} the orders: {rolled} vs {direct}")
    yield Figure("sales_rollup_mismatches", 0 if same else 1, "checks")
