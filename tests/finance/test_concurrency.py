"""Races on one budget line, with real threads and one connection each (select_for_update on
PostgreSQL, BEGIN IMMEDIATE on SQLite): 50 claims against a line with room for k of them
give exactly k submissions, the line never goes below zero, no error and no deadlock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from marketdesk.finance import services
from marketdesk.finance.models import BudgetLine, ClaimStatus, ExpenseCategory, ExpenseClaim
from marketdesk.finance.services import control

from .conftest import DAY

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 50


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


@pytest.fixture
def no_invoice_needed():
    """Vouchers are not what this race is about: travel claims need no invoice here."""
    ExpenseCategory.objects.filter(code="travel").update(requires_invoice=False)


def draft(user, line, amount: str, category) -> ExpenseClaim:
    return services.claim_create(
        actor=user,
        title="并发报销",
        lines=[
            {
                "spent_on": DAY,
                "category": category("travel"),
                "budget_line": line,
                "amount": Decimal(amount),
                "description": "并发测试",
            }
        ],
    )


def test_fifty_claims_against_room_for_k(personas, line_of, category, no_invoice_needed):
    line = line_of()  # ¥10,000 under hard control
    claims = [draft(personas.sales1, line, "300.00", category) for _ in range(THREADS)]
    room = int(line.available // Decimal("300"))  # k = 33
    results = at_once(
        *[
            (lambda c=claim: services.claim_submit(actor=personas.sales1, claim=c))
            for claim in claims
        ]
    )
    ok = [value for outcome, value in results if outcome == "ok"]
    refused = [value for outcome, value in results if outcome == "refused"]
    assert len(ok) == room
    assert len(refused) == THREADS - room
    assert all(isinstance(error, services.OverBudget) for error in refused)
    line = BudgetLine.objects.get(pk=line.pk)
    assert line.committed == Decimal("300.00") * room
    assert line.available >= 0
    assert ExpenseClaim.objects.filter(status=ClaimStatus.SUBMITTED).count() == room
    assert ExpenseClaim.objects.filter(status=ClaimStatus.DRAFT).count() == THREADS - room
    figures = control.recompute(line)
    assert figures["committed"] == line.committed and figures["spent"] == line.spent


def test_claims_on_two_lines_in_opposite_order_do_not_deadlock(
    personas, line_of, category, no_invoice_needed
):
    """Each claim charges both lines; half list them one way round, half the other way."""
    first, second = line_of("travel", 1), line_of("travel", 1)
    other = line_of("travel", 2)

    def two_lines(reverse: bool) -> ExpenseClaim:
        rows = [
            {
                "spent_on": DAY,
                "category": category("travel"),
                "budget_line": first,
                "amount": Decimal("100"),
                "description": "a",
            },
            {
                "spent_on": DAY.replace(month=5),
                "category": category("travel"),
                "budget_line": other,
                "amount": Decimal("100"),
                "description": "b",
            },
        ]
        return services.claim_create(
            actor=personas.sales1, title="双行", lines=rows[::-1] if reverse else rows
        )

    claims = [two_lines(index % 2 == 1) for index in range(20)]
    results = at_once(
        *[
            (lambda c=claim: services.claim_submit(actor=personas.sales1, claim=c))
            for claim in claims
        ]
    )
    assert all(outcome == "ok" for outcome, _ in results)
    assert BudgetLine.objects.get(pk=second.pk).committed == Decimal("2000")
    assert BudgetLine.objects.get(pk=other.pk).committed == Decimal("2000")


def test_the_same_invoice_added_to_two_claims_at_once(personas, line_of, category):
    one = draft(personas.sales1, line_of(), "100.00", category)
    two = draft(personas.sales1b, line_of(), "100.00", category)

    def add(user, claim):
        return services.voucher_add(
            actor=user,
            claim=claim,
            line=claim.lines.get(),
            code="0310",
            number="12345678",
            amount=Decimal("100"),
        )

    results = at_once(lambda: add(personas.sales1, one), lambda: add(personas.sales1b, two))
    assert sorted(outcome for outcome, _ in results) == ["ok", "refused"]
