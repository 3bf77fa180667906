"""Handover (离职继承, services.customers_handover, run by org's employee handover): a leaving
salesperson's customers and planned revisits move to the successor, one owner change each."""

from __future__ import annotations

import datetime

import pytest

from marketdesk.crm import selectors, services
from marketdesk.crm.models import Customer, OwnerChange, OwnerChangeKind, Revisit
from marketdesk.org import services as org_services

from .factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def leaving(personas, make_customer):
    """sales1's book: two customers (one locked, one with a planned revisit)."""
    first, second = make_customer(personas.sales1), make_customer(personas.sales1)
    services.customer_set_locked(actor=personas.leader1, customer=first, locked=True)
    revisit = services.revisit_schedule(
        actor=personas.sales1, customer=second, due_date=datetime.date(2026, 4, 1)
    )
    return first, second, revisit


def test_the_employee_handover_moves_customers_and_revisits(personas, leaving, make_customer):
    first, second, revisit = leaving
    untouched = make_customer(personas.sales1b)
    handover = org_services.employee_handover(
        actor=personas.manager,
        from_employee=personas.emp("sales1"),
        to_employee=personas.emp("sales1b"),
        reason="离职",
    )
    assert handover.moved["crm.customers"] == 2
    assert set(Customer.objects.filter(owner=personas.sales1b)) == {first, second, untouched}
    assert fresh(first).locked
    revisit.refresh_from_db()
    assert revisit.assignee == personas.sales1b
    changes = OwnerChange.objects.filter(kind=OwnerChangeKind.HANDOVER)
    assert sorted(changes.values_list("customer_id", "from_user_id", "to_user_id", "by_id")) == [
        (c.pk, personas.sales1.pk, personas.sales1b.pk, personas.manager.pk)
        for c in sorted([first, second], key=lambda c: c.pk)
    ]


def test_customers_handed_to_another_group_move_to_its_unit_with_their_revisits(personas, leaving):
    first, second, revisit = leaving
    assert services.customers_handover(personas.sales1, personas.sales2, personas.manager) == 2
    assert fresh(second).department == personas.units["S2"]
    revisit.refresh_from_db()
    assert revisit.department == personas.units["S2"]
    # The successor's group leader sees the revisit; the old group leader no longer does.
    assert selectors.revisit_list(actor=personas.leader2).filter(pk=revisit.pk).exists()
    assert not selectors.revisit_list(actor=personas.leader1).filter(pk=revisit.pk).exists()


def test_nothing_to_hand_over_moves_nothing(personas, pool):
    assert services.customers_handover(personas.sales1, personas.sales1b, personas.manager) == 0
    assert not Revisit.objects.exists()
