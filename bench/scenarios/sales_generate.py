"""Sales data: `--size` order lines (default 10,000,000) over three years, set-based.

Builds the organisation and customers the CRM scenarios build (one customer per 50 lines,
bench/crm_generators.py), then bench/sales_generators.py writes products, orders (2.5 lines
on average), lines and receipts in chunks of 20,000 orders (`executemany` on SQLite, `COPY`
on PostgreSQL), runs ANALYZE and rebuilds the dashboard rollups. Figures: order lines
written, seconds and lines per second of the sales generation alone (the organisation and
customers are notes). With `--reuse` an existing bench database is only counted."""

from __future__ import annotations

import time

from bench.sales_generators import customers_for, sales_generated
from bench.timing import Figure

DEFAULT_SIZE = 10_000_000
NEEDS_ORG = False


def run(*, org, size, note):
    from bench.crm_generators import analyse
    from bench.crm_generators import prepare as prepare_crm
    from bench.sales_generators import build_sales
    from marketdesk.sales.services.targets import rollups_rebuild

    prepare_crm(customers_for(size), note)
    existing = sales_generated()
    if existing:
        note(f"reusing {existing} order lines (nothing generated)")
        yield Figure("sales_generate_lines", existing, "lines")
        return
    started_cpu = time.process_time()
    made = build_sales(size, note=note)
    note(
        f"{made.orders} orders, {made.receipts} receipts; CPU {time.process_time() - started_cpu:.1f} s"
    )
    yield Figure("sales_generate_lines", made.lines, "lines")
    yield Figure("sales_generate_seconds", made.seconds, "s")
    yield Figure("sales_generate_lines_per_s", made.lines / made.seconds, "lines/s")
    started = time.perf_counter()
    analyse()  # the planner's statistics of the new rows (the other scenarios reuse them)
    note(f"ANALYZE in {time.perf_counter() - started:.1f} s")
    result = rollups_rebuild()
    note(f"rollups rebuilt: {result['cells']} cells in {result['seconds']:.1f} s")
