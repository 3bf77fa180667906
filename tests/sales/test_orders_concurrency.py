"""Deliveries entered at the same moment, with real threads and one connection each
(select_for_update on PostgreSQL, BEGIN IMMEDIATE on SQLite): the goods of an order line are
never shipped twice, the delivered quantity never passes the ordered one, and every delivery
gets its own number."""

# ruff: noqa: F811  (the fixtures imported from test_orders_fixtures)
from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from marketdesk.sales.models import Delivery, OrderLine, OrderStatus, SalesOrder
from marketdesk.sales.services import deliveries as services

from .test_orders_fixtures import ORDER_DAY, confirmed, make_order  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 12


def at_once(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the calls in threads released together; ("ok", result) or ("refused", error)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object]] = [("not run", None)] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = ("ok", call())
        except (ValidationError, PermissionDenied) as exc:
            results[index] = ("refused", exc)
        except BaseException as exc:  # reported by the test, never swallowed
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    errors = [value for outcome, value in results if outcome not in ("ok", "refused")]
    assert errors == [], errors
    return results


def deliver(user, order, quantities: dict):
    return lambda: services.delivery_create(
        actor=user, order=order, quantities=quantities, shipped_on=ORDER_DAY
    )


def test_the_whole_order_shipped_at_once_by_many_goes_out_once(confirmed, sales_personas):
    everything = {line.pk: line.quantity for line in confirmed.lines.all()}
    results = at_once(
        *[deliver(sales_personas.log_coord, confirmed, everything) for _ in range(THREADS)]
    )
    assert sorted(outcome for outcome, _ in results) == ["ok"] + ["refused"] * (THREADS - 1)
    assert Delivery.objects.count() == 1
    for line in OrderLine.objects.filter(order=confirmed):
        assert line.delivered_quantity == line.quantity
    assert SalesOrder.objects.get(pk=confirmed.pk).status == OrderStatus.SHIPPED


def test_one_piece_each_never_ships_more_than_was_ordered(confirmed, sales_personas):
    gateways = confirmed.lines.get(line_no=2)  # 4 ordered
    users = [sales_personas.log_coord, sales_personas.leader1, sales_personas.manager]
    results = at_once(
        *[
            deliver(users[index % len(users)], confirmed, {gateways.pk: Decimal("1")})
            for index in range(THREADS)
        ]
    )
    ok = [value for outcome, value in results if outcome == "ok"]
    assert len(ok) == 4
    assert len({delivery.number for delivery in ok}) == 4  # no duplicate numbers
    gateways.refresh_from_db()
    assert gateways.delivered_quantity == Decimal("4")
    assert SalesOrder.objects.get(pk=confirmed.pk).status == OrderStatus.PARTLY_SHIPPED


def test_orders_saved_and_submitted_at_once_never_pass_a_blocking_credit_limit(
    sales_personas, customer, catalogue, sales_settings
):
    """ "Save and submit" reads before its write transaction; the credit check is inside it, on
    the locked account: of 8 orders of ¥11,000 against a limit of ¥50,000 exactly 4 are
    confirmed, every one with its own number."""
    from marketdesk.sales.models import CreditMode, CustomerAccount
    from marketdesk.sales.services import orders as order_services

    from .test_orders_fixtures import future, rows

    sales_settings.credit_mode = CreditMode.BLOCK
    sales_settings.save()
    CustomerAccount.objects.create(customer=customer, credit_limit=Decimal("50000"))
    user = sales_personas.sales1
    results = at_once(
        *[
            lambda: order_services.order_create_submit(
                actor=user,
                customer=customer,
                lines=rows(catalogue, ("terminal", "1", "0")),  # ¥11,000
                order_date=ORDER_DAY,
                promised_date=future(),
                keep_draft=False,
            )
            for _ in range(8)
        ]
    )
    assert sorted(outcome for outcome, _ in results) == ["ok"] * 4 + ["refused"] * 4
    confirmed_orders = SalesOrder.objects.filter(status=OrderStatus.CONFIRMED)
    assert confirmed_orders.count() == 4 == SalesOrder.objects.count()
    numbers = list(confirmed_orders.values_list("number", flat=True))
    assert len(set(numbers)) == 4
