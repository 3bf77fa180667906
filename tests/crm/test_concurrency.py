"""Races on the pool, with real threads and one connection each (select_for_update on
PostgreSQL, BEGIN IMMEDIATE on SQLite): two salespeople claiming one customer at once end
with exactly one owner and one claim recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from marketdesk.crm import services
from marketdesk.crm.models import Customer, OwnerChange, OwnerChangeKind

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the calls in threads released together; ("ok", result) or ("refused", error) each."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object]] = [("not run", None)] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
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
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    errors = [value for outcome, value in results if outcome not in ("ok", "refused")]
    assert errors == [], errors
    return results


def test_two_salespeople_claiming_one_pool_customer_at_once(personas, make_customer):
    customer = make_customer(None, name="抢手客户")
    results = at_once(
        lambda: services.customer_claim(actor=personas.sales1, customer=customer),
        lambda: services.customer_claim(actor=personas.sales2, customer=customer),
    )
    assert sorted(outcome for outcome, _value in results) == ["ok", "refused"]
    refused = next(value for outcome, value in results if outcome == "refused")
    assert [error.code for error in refused.error_list] == ["not_in_pool"]
    winner = next(value for outcome, value in results if outcome == "ok")
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.owner_id == winner.owner_id
    claims = OwnerChange.objects.filter(customer=customer, kind=OwnerChangeKind.CLAIM)
    assert list(claims.values_list("to_user_id", flat=True)) == [winner.owner_id]


def test_one_salesperson_at_the_daily_cap_claiming_two_at_once(personas, pool, make_customer):
    services.pool_save(actor=personas.manager, pool=pool, daily_claim_cap=1)
    first, second = make_customer(None), make_customer(None)
    results = at_once(
        lambda: services.customer_claim(actor=personas.sales1, customer=first),
        lambda: services.customer_claim(actor=personas.sales1, customer=second),
    )
    assert sorted(outcome for outcome, _value in results) == ["ok", "refused"]
    assert Customer.objects.filter(owner=personas.sales1).count() == 1
