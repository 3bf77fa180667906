"""Dashboard rollups: the cells kept incrementally from the marks, and the full rebuild, always
equal a direct recomputation from the orders and receipts (property-based, hypothesis); marks
made while the job runs are processed next time; the reader catches up when the job is late;
the jobs are registered and run through core.jobs."""

from __future__ import annotations

import datetime
import itertools
import threading
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdesk.core.jobs import registered_jobs, run_due_jobs
from marketdesk.sales import rollups
from marketdesk.sales.models import (
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
from marketdesk.sales.services import targets as services

_numbers = itertools.count(1)
COUNTERS = rollups.COUNTERS


def make_order(
    *,
    customer,
    owner,
    department,
    order_date: datetime.date,
    total,
    status: str = OrderStatus.CONFIRMED,
    lines: int = 1,
    product=None,
    delivered_on: datetime.date | None = None,
    on_time: bool | None = None,
    mark: bool = True,
) -> SalesOrder:
    """An order row as the order services leave it (those are another part's; the rollups
    only read these fields), marked for the rollups as the services do."""
    order = SalesOrder.objects.create(
        number=f"T-{next(_numbers):07d}",
        customer=customer,
        owner=owner,
        department=department,
        order_date=order_date,
        promised_date=order_date + datetime.timedelta(days=30),
        status=status,
        total=Decimal(total),
        list_amount=Decimal(total),
        delivered_on=delivered_on,
        on_time=on_time,
        cancel_reason="取消" if status == OrderStatus.CANCELLED else "",
    )
    if product is not None:
        for line_no in range(1, lines + 1):
            OrderLine.objects.create(
                order=order,
                line_no=line_no,
                product=product,
                quantity=Decimal("1"),
                list_price=Decimal("1.00"),
                unit_price=Decimal("1.00"),
                amount=Decimal("1.00"),
            )
    if mark:
        rollups.mark_order(order)
    return order


def make_receipt(*, order, amount, received_on, status=ReceiptStatus.CONFIRMED, mark=True):
    receipt = Receipt.objects.create(
        number=f"R-{next(_numbers):07d}",
        order=order,
        customer=order.customer,
        owner=order.owner,
        department=order.department,
        amount=Decimal(amount),
        received_on=received_on,
        status=status,
        reason="退回" if status in (ReceiptStatus.REJECTED, ReceiptStatus.CANCELLED) else "",
    )
    if mark:
        rollups.mark_receipt(receipt)
    return receipt


def direct() -> dict[tuple, dict]:
    """Every cell computed the slow, obvious way from the source rows."""
    cells: dict[tuple, dict] = defaultdict(
        lambda: {name: (Decimal("0.00") if "amount" in name else 0) for name in COUNTERS}
    )
    lines = defaultdict(int)
    for line in OrderLine.objects.all():
        lines[line.order_id] += 1
    for order in SalesOrder.objects.all():
        if order.status not in BOOKED:
            continue
        key = (order.order_date.year, order.order_date.month, order.department_id or 0)
        cell = cells[(*key, order.owner_id)]
        cell["order_count"] += 1
        cell["order_amount"] += order.total
        cell["line_count"] += lines[order.pk]
        if order.delivered_on:
            day = order.delivered_on
            cell = cells[(day.year, day.month, order.department_id or 0, order.owner_id)]
            cell["delivered_count"] += 1
            cell["on_time_count"] += 1 if order.on_time else 0
    for receipt in Receipt.objects.filter(status=ReceiptStatus.CONFIRMED):
        day = receipt.received_on
        cell = cells[(day.year, day.month, receipt.department_id or 0, receipt.owner_id)]
        cell["receipt_amount"] += receipt.amount
    return {key: value for key, value in cells.items() if any(value.values())}


def units_match_cells() -> None:
    """SalesUnitRollup holds exactly the sums of the person cells of each unit and month."""
    sums: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")])
    for row in SalesRollup.objects.all():
        pair = sums[(row.year, row.month, row.department_id)]
        pair[0] += row.order_amount
        pair[1] += row.receipt_amount
    units = {
        (row.year, row.month, row.department_id): [row.order_amount, row.receipt_amount]
        for row in SalesUnitRollup.objects.all()
    }
    assert units == dict(sums)


def table() -> dict[tuple, dict]:
    units_match_cells()
    return {
        (row.year, row.month, row.department_id, row.owner_id): {
            name: getattr(row, name) for name in COUNTERS
        }
        for row in SalesRollup.objects.all()
    }


@pytest.fixture
def people(sales_personas):
    p = sales_personas
    return {
        "owners": [p.sales1, p.sales1b, p.sales2],
        "units": [p.units["S1"], p.units["S2"], None],
    }


# Property: incremental maintenance and rebuild equal a direct recomputation ------------------------

DAYS = st.dates(min_value=datetime.date(2025, 11, 1), max_value=datetime.date(2026, 2, 28))
ORDER = st.fixed_dictionaries(
    {
        "owner": st.integers(0, 2),
        "unit": st.integers(0, 2),
        "day": DAYS,
        "cents": st.integers(0, 50_000_000),
        "status": st.sampled_from(list(OrderStatus.values)),
        "lines": st.integers(0, 3),
        "delivered": st.one_of(st.none(), st.integers(0, 45)),
        "on_time": st.booleans(),
    }
)
RECEIPT = st.fixed_dictionaries(
    {
        "order": st.integers(0, 100),
        "cents": st.integers(1, 10_000_000),
        "day": DAYS,
        "status": st.sampled_from(list(ReceiptStatus.values)),
    }
)
CHANGE = st.fixed_dictionaries(
    {
        "order": st.integers(0, 100),
        "what": st.sampled_from(["status", "date", "owner", "total", "deliver", "delete_line"]),
        "status": st.sampled_from(list(OrderStatus.values)),
        "day": DAYS,
        "owner": st.integers(0, 2),
        "unit": st.integers(0, 2),
        "cents": st.integers(0, 50_000_000),
    }
)


def _apply_change(order: SalesOrder, change: dict, people: dict) -> None:
    """Change an order as a service would: mark before, change, mark after."""
    rollups.mark_order(order)
    what = change["what"]
    if what == "status":
        order.status = change["status"]
        order.cancel_reason = "取消" if order.status == OrderStatus.CANCELLED else ""
    elif what == "date":
        order.order_date = change["day"]
        order.promised_date = change["day"] + datetime.timedelta(days=30)
    elif what == "owner":
        order.owner = people["owners"][change["owner"]]
        order.department = people["units"][change["unit"]]
    elif what == "total":
        order.total = Decimal(change["cents"]) / 100
    elif what == "deliver":
        order.delivered_on = change["day"]
        order.on_time = change["cents"] % 2 == 0
    elif what == "delete_line":
        line = order.lines.order_by("-line_no").first()
        if line is not None:
            line.delete()
    order.save()
    rollups.mark_order(order)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orders=st.lists(ORDER, max_size=10),
    receipts=st.lists(RECEIPT, max_size=6),
    changes=st.lists(CHANGE, max_size=6),
)
def test_rollups_equal_a_direct_recomputation(
    people, customer, catalogue, orders, receipts, changes
):
    with transaction.atomic():
        made = []
        for o in orders:
            delivered = None
            if o["delivered"] is not None:
                delivered = o["day"] + datetime.timedelta(days=o["delivered"])
            made.append(
                make_order(
                    customer=customer,
                    owner=people["owners"][o["owner"]],
                    department=people["units"][o["unit"]],
                    order_date=o["day"],
                    total=Decimal(o["cents"]) / 100,
                    status=o["status"],
                    lines=o["lines"],
                    product=catalogue["terminal"],
                    delivered_on=delivered,
                    on_time=o["on_time"] if delivered else None,
                )
            )
        for r in receipts:
            if made:
                make_receipt(
                    order=made[r["order"] % len(made)],
                    amount=Decimal(r["cents"]) / 100,
                    received_on=r["day"],
                    status=r["status"],
                )
        services.rollups_process()
        assert table() == direct()
        assert not RollupDirty.objects.exists()
        for c in changes:
            if made:
                order = SalesOrder.objects.get(pk=made[c["order"] % len(made)].pk)
                _apply_change(order, c, people)
        services.rollups_process()
        assert table() == direct()
        services.rollups_rebuild()
        assert table() == direct()
        transaction.set_rollback(True)


# Queue behaviour ---------------------------------------------------------------------------------


class TestQueue:
    def test_processing_consumes_the_marks_and_an_unchanged_cell_stays(self, people, customer):
        day = datetime.date(2026, 3, 4)
        make_order(
            customer=customer,
            owner=people["owners"][0],
            department=people["units"][0],
            order_date=day,
            total="1000.00",
        )
        assert RollupDirty.objects.count() == 1
        assert services.rollups_process() == 1
        assert not RollupDirty.objects.exists()
        row = SalesRollup.objects.get()
        assert (row.year, row.month, row.order_count, row.order_amount) == (
            2026,
            3,
            1,
            Decimal("1000.00"),
        )
        assert row.refreshed_at is not None

    def test_a_cell_that_becomes_empty_loses_its_row(self, people, customer):
        order = make_order(
            customer=customer,
            owner=people["owners"][0],
            department=people["units"][0],
            order_date=datetime.date(2026, 3, 4),
            total="500.00",
        )
        services.rollups_process()
        rollups.mark_order(order)
        order.status, order.cancel_reason = OrderStatus.CANCELLED, "客户取消"
        order.save()
        rollups.mark_order(order)
        services.rollups_process()
        assert not SalesRollup.objects.exists()

    def test_a_mark_made_during_processing_is_processed_next_time(
        self, people, customer, monkeypatch
    ):
        make_order(
            customer=customer,
            owner=people["owners"][0],
            department=people["units"][0],
            order_date=datetime.date(2026, 3, 4),
            total="100.00",
        )
        real = rollups.recompute_cells
        late = {}

        def recompute_while_someone_writes(cells):
            if not late:  # another writer commits a new order while we recompute
                late["order"] = make_order(
                    customer=customer,
                    owner=people["owners"][2],
                    department=people["units"][1],
                    order_date=datetime.date(2026, 4, 1),
                    total="200.00",
                )
            return real(cells)

        monkeypatch.setattr(rollups, "recompute_cells", recompute_while_someone_writes)
        assert rollups.rollups_process() == 1
        monkeypatch.setattr(rollups, "recompute_cells", real)
        assert RollupDirty.objects.count() == 1  # the late mark waits for the next run
        assert not SalesRollup.objects.filter(month=4).exists()
        assert rollups.rollups_process() == 1
        assert not RollupDirty.objects.exists()
        assert table() == direct()
        assert SalesRollup.objects.filter(month=4, order_amount=Decimal("200.00")).exists()

    def test_the_reader_catches_up_only_when_the_job_is_late(self, people, customer):
        make_order(
            customer=customer,
            owner=people["owners"][0],
            department=people["units"][0],
            order_date=datetime.date(2026, 3, 4),
            total="100.00",
        )
        assert services.rollups_catch_up() == 0  # fresh: the job will take it
        assert RollupDirty.objects.count() == 1
        RollupDirty.objects.update(marked_at=timezone.now() - datetime.timedelta(seconds=55))
        assert services.rollups_catch_up() == 1
        assert not RollupDirty.objects.exists()
        assert table() == direct()

    def test_rebuild_deletes_the_marks_and_equals_the_source(self, people, customer, catalogue):
        order = make_order(
            customer=customer,
            owner=people["owners"][1],
            department=people["units"][0],
            order_date=datetime.date(2025, 12, 30),
            total="321.45",
            lines=2,
            product=catalogue["terminal"],
            delivered_on=datetime.date(2026, 1, 3),
            on_time=True,
        )
        make_receipt(order=order, amount="100.00", received_on=datetime.date(2026, 1, 10))
        SalesRollup.objects.create(year=2020, month=1, owner_id=order.owner_id, order_count=9)
        result = services.rollups_rebuild()
        assert result["cells"] == 2 and result["marks"] == 3
        assert not RollupDirty.objects.exists()
        assert table() == direct()
        january = SalesRollup.objects.get(year=2026, month=1)
        assert (january.delivered_count, january.on_time_count) == (1, 1)
        assert january.receipt_amount == Decimal("100.00")

    def test_pending_receipts_and_drafts_do_not_count(self, people, customer):
        draft = make_order(
            customer=customer,
            owner=people["owners"][0],
            department=people["units"][0],
            order_date=datetime.date(2026, 3, 4),
            total="100.00",
            status=OrderStatus.DRAFT,
        )
        make_receipt(
            order=draft,
            amount="50.00",
            received_on=datetime.date(2026, 3, 5),
            status=ReceiptStatus.PENDING,
        )
        services.rollups_process()
        assert not SalesRollup.objects.exists()


class TestJobs:
    def test_the_jobs_are_registered(self):
        jobs = {job.name: job for job in registered_jobs()}
        assert jobs["sales.rollups"].every_minutes == 1
        assert jobs["sales.rfm"].daily_at == datetime.time(3, 0)

    def test_the_rollup_job_runs_through_core_jobs(self, people, customer):
        make_order(
            customer=customer,
            owner=people["owners"][0],
            department=people["units"][0],
            order_date=datetime.date(2026, 3, 4),
            total="100.00",
        )
        runs = run_due_jobs(only="sales.rollups")
        assert runs[0].status == "ok", runs[0].message
        assert "recomputed 1 cells" in runs[0].message
        assert table() == direct()


# Concurrency: writers and the job at the same time (real threads, real transactions) ------------


@pytest.mark.django_db(transaction=True)
def test_writers_and_the_job_running_together_leave_exact_rollups(people, customer):
    owners, units = people["owners"], people["units"]
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(index: int) -> None:
        try:
            for n in range(12):
                with transaction.atomic():
                    order = make_order(
                        customer=customer,
                        owner=owners[(index + n) % 3],
                        department=units[n % 2],
                        order_date=datetime.date(2026, 1 + n % 3, 1 + index),
                        total=f"{100 + n}.00",
                    )
                if n % 3 == 0:  # move an order to another month, as an edit would
                    with transaction.atomic():
                        locked = SalesOrder.objects.select_for_update().get(pk=order.pk)
                        rollups.mark_order(locked)
                        locked.order_date = datetime.date(2026, 5, 2)
                        locked.promised_date = datetime.date(2026, 6, 2)
                        locked.save()
                        rollups.mark_order(locked)
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    def job() -> None:
        try:
            while not stop.is_set():
                rollups.rollups_process(batch=5)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    runner = threading.Thread(target=job)
    runner.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stop.set()
    runner.join(60)
    assert not errors, errors
    rollups.rollups_process()
    assert not RollupDirty.objects.exists()
    assert table() == direct()
    assert sum(c["order_count"] for c in table().values()) == 24
