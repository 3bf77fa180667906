"""Dashboard rollups (SalesRollup: one row per month, unit and salesperson; SalesUnitRollup:
their amounts per month and unit, for the company-wide views).

Marking: writers (the order and receipt services) call `mark_order` / `mark_receipt` inside
their transaction, before and after the change (an order may move to another month or
person). That writes a RollupDirty row, committed or rolled back with the change.

Processing: `rollups_process()` (the `sales.rollups` job, every minute) takes a batch of marks,
deletes them, recomputes exactly those cells from the source rows and commits; the marks are
deleted *before* the source rows are read, so a change committed meanwhile keeps a mark of its
own for the next run. `rollups_rebuild()` recomputes every cell set-based (one INSERT ...
SELECT). Both hold one lock (PostgreSQL advisory lock; SQLite's IMMEDIATE write lock), so two
of them never interleave. `rollups_catch_up()` lets a reader process the queue when the job is
late, so what the dashboard shows is never more than a minute behind."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from .models import (
    BOOKED,
    OrderLine,
    OrderStatus,
    Receipt,
    ReceiptStatus,
    RollupDirty,
    SalesOrder,
    SalesRollup,
    SalesUnitRollup,
)

ZERO = Decimal("0.00")
NOT_BOOKED = [status for status in OrderStatus.values if status not in BOOKED]


def mark(*, day, department_id, owner_id) -> None:
    if day is None or owner_id is None:
        return
    RollupDirty.objects.create(
        year=day.year, month=day.month, department_id=department_id or 0, owner_id=owner_id
    )


def _order_cells(order) -> list[tuple[int, int, int, int]]:
    if order.owner_id is None:
        return []
    return [
        (day.year, day.month, order.department_id or 0, order.owner_id)
        for day in (order.order_date, order.delivered_on)
        if day is not None
    ]


def mark_order(*orders) -> None:
    """Mark the cells of orders as they are now (call before and after changing one: pass both
    copies at once and a cell they share is marked once, in one INSERT)."""
    cells = list(dict.fromkeys(cell for order in orders for cell in _order_cells(order)))
    if len(cells) == 1:
        year, month, department_id, owner_id = cells[0]
        RollupDirty.objects.create(
            year=year, month=month, department_id=department_id, owner_id=owner_id
        )
    elif cells:
        RollupDirty.objects.bulk_create(
            [
                RollupDirty(year=year, month=month, department_id=department_id, owner_id=owner_id)
                for year, month, department_id, owner_id in cells
            ]
        )


def mark_receipt(receipt) -> None:
    mark(day=receipt.received_on, department_id=receipt.department_id, owner_id=receipt.owner_id)


ROLLUP_LOCK = 5_432_101  # PostgreSQL advisory lock key of the rollup writers
BATCH = 500  # marks per transaction: short write locks on SQLite (about a second at most)
TIME_BUDGET = 40.0  # seconds one rollups_process() call may spend before leaving the rest
CATCH_UP_AFTER = datetime.timedelta(seconds=50)
COUNTERS = (
    "order_count",
    "order_amount",
    "line_count",
    "receipt_amount",
    "delivered_count",
    "on_time_count",
)


def _lock() -> None:
    """Serialise rollup writers. SQLite: the IMMEDIATE transaction already holds the write
    lock. PostgreSQL: a transaction-level advisory lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    first = datetime.date(year, month, 1)
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return first, following


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _cell_values(year: int, month: int, owners: list[int]) -> dict[tuple[int, int], dict]:
    """{(department_id, owner_id): counters} of the owners' cells in one month, from the
    source rows (booked orders by order date, their lines, confirmed receipts by receipt
    date, deliveries by delivery date)."""
    first, following = month_bounds(year, month)
    values: dict[tuple[int, int], dict] = defaultdict(
        lambda: {name: (ZERO if "amount" in name else 0) for name in COUNTERS}
    )
    for chunk in _chunks(owners):
        orders = SalesOrder.objects.filter(status__in=BOOKED, owner_id__in=chunk)
        for row in (
            orders.filter(order_date__gte=first, order_date__lt=following)
            .order_by()
            .values("owner_id", "department_id")
            .annotate(n=Count("pk"), amount=Sum("total"))
        ):
            cell = values[(row["department_id"] or 0, row["owner_id"])]
            cell["order_count"] = row["n"]
            cell["order_amount"] = Decimal(row["amount"] or 0).quantize(ZERO)
        for row in (
            OrderLine.objects.filter(
                order__status__in=BOOKED,
                order__owner_id__in=chunk,
                order__order_date__gte=first,
                order__order_date__lt=following,
            )
            .order_by()
            .values("order__owner_id", "order__department_id")
            .annotate(n=Count("pk"))
        ):
            values[(row["order__department_id"] or 0, row["order__owner_id"])]["line_count"] = row[
                "n"
            ]
        for row in (
            Receipt.objects.filter(
                status=ReceiptStatus.CONFIRMED,
                owner_id__in=chunk,
                received_on__gte=first,
                received_on__lt=following,
            )
            .order_by()
            .values("owner_id", "department_id")
            .annotate(amount=Sum("amount"))
        ):
            values[(row["department_id"] or 0, row["owner_id"])]["receipt_amount"] = Decimal(
                row["amount"] or 0
            ).quantize(ZERO)
        # "Not draft, in approval or cancelled" is "booked", said so that SQLite does not pick
        # the status index (every booked order) over the owner's orders.
        delivered = SalesOrder.objects.exclude(status__in=NOT_BOOKED).filter(owner_id__in=chunk)
        for row in (
            delivered.filter(delivered_on__gte=first, delivered_on__lt=following)
            .order_by()
            .values("owner_id", "department_id")
            .annotate(n=Count("pk"), on_time=Count("pk", filter=Q(on_time=True)))
        ):
            cell = values[(row["department_id"] or 0, row["owner_id"])]
            cell["delivered_count"] = row["n"]
            cell["on_time_count"] = row["on_time"]
    return values


def recompute_cells(cells: Iterable[tuple[int, int, int, int]]) -> int:
    """Recompute the given (year, month, department_id, owner_id) cells from the source rows:
    a cell whose counters are all zero has no row. Call inside the rollup lock."""
    by_month: dict[tuple[int, int], set[tuple[int, int]]] = defaultdict(set)
    for year, month, department_id, owner_id in cells:
        by_month[(year, month)].add((department_id or 0, owner_id))
    now = timezone.now()
    done = 0
    for (year, month), keys in sorted(by_month.items()):
        owners = sorted({owner for _dept, owner in keys})
        fresh = _cell_values(year, month, owners)
        existing: dict[tuple[int, int], SalesRollup] = {}
        for chunk in _chunks(owners):
            for row in SalesRollup.objects.filter(year=year, month=month, owner_id__in=chunk):
                existing[(row.department_id, row.owner_id)] = row
        creates, updates, deletes = [], [], []
        for key in keys:
            counters = fresh.get(key)
            row = existing.get(key)
            empty = counters is None or not any(counters.values())
            if empty:
                if row is not None:
                    deletes.append(row.pk)
                continue
            if row is None:
                creates.append(
                    SalesRollup(
                        year=year,
                        month=month,
                        department_id=key[0],
                        owner_id=key[1],
                        refreshed_at=now,
                        **counters,
                    )
                )
            else:
                for name, value in counters.items():
                    setattr(row, name, value)
                row.refreshed_at = now
                updates.append(row)
            done += 1
        for chunk in _chunks(deletes):
            SalesRollup.objects.filter(pk__in=chunk).delete()
        if updates:
            SalesRollup.objects.bulk_update(updates, [*COUNTERS, "refreshed_at"], batch_size=500)
        if creates:
            SalesRollup.objects.bulk_create(creates, batch_size=500)
        _refresh_units(year, month, {department_id for department_id, _owner in keys})
    return done


def _refresh_units(year: int, month: int, department_ids: set[int]) -> None:
    """Recompute the unit rows of a month from its person cells (after they changed)."""
    for chunk in _chunks(sorted(department_ids)):
        SalesUnitRollup.objects.filter(year=year, month=month, department_id__in=chunk).delete()
        sums = (
            SalesRollup.objects.filter(year=year, month=month, department_id__in=chunk)
            .order_by()
            .values("department_id")
            .annotate(o=Sum("order_amount"), r=Sum("receipt_amount"))
        )
        SalesUnitRollup.objects.bulk_create(
            SalesUnitRollup(
                year=year,
                month=month,
                department_id=row["department_id"],
                order_amount=Decimal(row["o"] or 0).quantize(ZERO),
                receipt_amount=Decimal(row["r"] or 0).quantize(ZERO),
            )
            for row in sums
        )


def rollups_process(*, batch: int = BATCH, time_budget: float = TIME_BUDGET) -> int:
    """Consume the RollupDirty queue: take a batch of marks, delete them, recompute their
    cells from the source rows, commit; repeat. Returns the number of cells recomputed.

    Safe under concurrency: the marks are deleted *before* the source rows are read, so a
    change committed later has a mark of its own that stays for the next run (a mark made
    during processing is processed next time); writers of rollups take one lock."""
    started = time.monotonic()
    total = 0
    while True:
        with transaction.atomic():
            _lock()
            taken = list(
                RollupDirty.objects.order_by("pk").values_list(
                    "pk", "year", "month", "department_id", "owner_id"
                )[:batch]
            )
            if not taken:
                break
            for chunk in _chunks([row[0] for row in taken]):
                RollupDirty.objects.filter(pk__in=chunk).delete()
            cells = {(y, m, d, o) for _pk, y, m, d, o in taken}
            recompute_cells(cells)
        total += len(cells)
        if len(taken) < batch or time.monotonic() - started > time_budget:
            break
    return total


def rollups_catch_up(*, now: datetime.datetime | None = None) -> int:
    """Process the queue now when its oldest mark is close to a minute old (the job did not
    run in time: a busy scheduler, a long job before it). The dashboard calls this before it
    reads, so what it shows is never more than a minute behind the orders."""
    now = now or timezone.now()
    oldest = RollupDirty.objects.order_by("pk").values_list("marked_at", flat=True).first()
    if oldest is None or now - oldest < CATCH_UP_AFTER:
        return 0
    return rollups_process()


def _year_month_sql(column: str) -> tuple[str, str]:
    if connection.vendor == "postgresql":
        return (
            f"CAST(EXTRACT(YEAR FROM {column}) AS integer)",
            f"CAST(EXTRACT(MONTH FROM {column}) AS integer)",
        )
    return (
        f"CAST(strftime('%%Y', {column}) AS integer)",
        f"CAST(strftime('%%m', {column}) AS integer)",
    )


def _rebuild_sql() -> tuple[str, list]:
    rollup = SalesRollup._meta.db_table
    orders = SalesOrder._meta.db_table
    lines = OrderLine._meta.db_table
    receipts = Receipt._meta.db_table
    booked = ", ".join(["%s"] * len(BOOKED))
    oy, om = _year_month_sql("o.order_date")
    dy, dm = _year_month_sql("o.delivered_on")
    ry, rm = _year_month_sql("r.received_on")
    sql = f"""
        INSERT INTO {rollup} (year, month, department_id, owner_id, order_count, order_amount,
                              line_count, receipt_amount, delivered_count, on_time_count,
                              refreshed_at)
        SELECT y, m, d, p, SUM(oc), SUM(oa), SUM(lc), SUM(ra), SUM(dc), SUM(ot), %s
        FROM (
            SELECT {oy} AS y, {om} AS m, COALESCE(o.department_id, 0) AS d, o.owner_id AS p,
                   COUNT(*) AS oc, SUM(o.total) AS oa, 0 AS lc, 0 AS ra, 0 AS dc, 0 AS ot
            FROM {orders} o WHERE o.status IN ({booked}) GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT {oy}, {om}, COALESCE(o.department_id, 0), o.owner_id, 0, 0, COUNT(*), 0, 0, 0
            FROM {lines} l JOIN {orders} o ON o.id = l.order_id
            WHERE o.status IN ({booked}) GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT {ry}, {rm}, COALESCE(r.department_id, 0), r.owner_id, 0, 0, 0, SUM(r.amount),
                   0, 0
            FROM {receipts} r WHERE r.status = %s GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT {dy}, {dm}, COALESCE(o.department_id, 0), o.owner_id, 0, 0, 0, 0, COUNT(*),
                   SUM(CASE WHEN o.on_time THEN 1 ELSE 0 END)
            FROM {orders} o WHERE o.status IN ({booked}) AND o.delivered_on IS NOT NULL
            GROUP BY 1, 2, 3, 4
        ) cells
        WHERE y IS NOT NULL
        GROUP BY y, m, d, p
    """  # noqa: S608 (table names come from the models; values are parameters)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    booked_values = [str(status) for status in BOOKED]
    params = [now, *booked_values, *booked_values, ReceiptStatus.CONFIRMED.value, *booked_values]
    return sql, params


_UNITS_SQL = f"""
    INSERT INTO {SalesUnitRollup._meta.db_table} (year, month, department_id, order_amount,
                                                 receipt_amount)
    SELECT year, month, department_id, SUM(order_amount), SUM(receipt_amount)
    FROM {SalesRollup._meta.db_table} GROUP BY year, month, department_id
"""  # noqa: S608 (table names come from the models)


def rollups_rebuild() -> dict:
    """Recompute every rollup cell from the source rows, set-based (one INSERT ... SELECT of
    the four aggregates), in one transaction under the rollup lock. The marks that exist when
    it starts are deleted first: their changes are committed, so the rebuild sees them."""
    started = time.monotonic()
    sql, params = _rebuild_sql()
    with transaction.atomic():
        _lock()
        marks, _ = RollupDirty.objects.all().delete()
        SalesRollup.objects.all().delete()
        SalesUnitRollup.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.execute(_UNITS_SQL)
    cells = SalesRollup.objects.count()
    return {"cells": cells, "marks": marks, "seconds": round(time.monotonic() - started, 3)}
