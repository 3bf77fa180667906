"""Races on one order, with real threads and one connection each (select_for_update on
PostgreSQL, BEGIN IMMEDIATE on SQLite): receipts registered at the same time never pass the
order total or an instalment's amount, and two orders of one customer cannot both slip under
its credit limit when the order check holds the account lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from marketdesk.sales.models import (
    CreditMode,
    OrderStatus,
    Receipt,
    ReceiptPlan,
    SalesOrder,
    SalesSettings,
)
from marketdesk.sales.services import receipts as services

from . import test_receipts_helpers as h
from .test_receipts_helpers import days, plan, receive

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20

order_for = h.order_for


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


def test_receipts_at_once_never_pass_the_order_total(sales_personas, order_for):
    order = order_for(total="70000.00")  # room for 7 of the 20 receipts of ¥10,000
    users = [sales_personas.sales1, sales_personas.leader1, sales_personas.finance]
    results = at_once(
        *[
            (lambda u=users[i % 3], i=i: receive(u, order, "10000.00", reference=f"并发{i}"))
            for i in range(THREADS)
        ]
    )
    ok = [value for outcome, value in results if outcome == "ok"]
    refused = [value for outcome, value in results if outcome == "refused"]
    assert len(ok) == 7 and len(refused) == THREADS - 7
    assert all("amount" in error.message_dict for error in refused)
    order = SalesOrder.objects.get(pk=order.pk)
    assert order.receipted_amount == order.received_amount == order.total
    assert Receipt.objects.filter(order=order).count() == 7
    numbers = list(Receipt.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 7  # no duplicate receipt numbers either


def test_receipts_at_once_never_pass_an_instalment(sales_personas, order_for):
    order = order_for(total="100000.00")
    first, _ = plan(sales_personas.sales1, order, (days(-5), "25000"), (days(30), "75000"))
    results = at_once(
        *[
            (lambda: receive(sales_personas.sales1, order, "10000.00", plan=first))
            for _ in range(10)
        ]
    )
    assert [outcome for outcome, _ in results].count("ok") == 2
    assert ReceiptPlan.objects.get(pk=first.pk).received_amount == Decimal("20000.00")
    assert SalesOrder.objects.get(pk=order.pk).received_amount == Decimal("20000.00")


def test_cancel_and_register_at_once_keep_the_figures_right(sales_personas, order_for):
    order = order_for(total="30000.00")
    receipts = [receive(sales_personas.sales1, order, "10000.00") for _ in range(3)]
    calls = [
        (
            lambda r=r: services.receipt_cancel(
                actor=sales_personas.finance, receipt=r, reason="退票"
            )
        )
        for r in receipts
    ] + [(lambda: receive(sales_personas.sales1, order, "10000.00")) for _ in range(6)]
    at_once(*calls)
    order = SalesOrder.objects.get(pk=order.pk)
    counting = sum(
        r.amount for r in Receipt.objects.filter(order=order, status__in=["pending", "confirmed"])
    )
    assert order.receipted_amount == order.received_amount == counting <= order.total


def test_two_orders_cannot_both_slip_under_the_credit_limit(sales_personas, customer, order_for):
    SalesSettings.objects.update_or_create(pk=1, defaults={"credit_mode": CreditMode.BLOCK})
    services.customer_account_update(
        actor=sales_personas.finance, customer=customer, credit_limit=Decimal("100000")
    )
    drafts = [order_for(total="60000.00", status=OrderStatus.DRAFT) for _ in range(6)]
    results = at_once(*[(lambda o=o: h.book_if_credit_allows(o)) for o in drafts])
    assert [value for _, value in results].count(True) == 1
    assert SalesOrder.objects.filter(status=OrderStatus.CONFIRMED).count() == 1
