"""Shared set-up of the order tests (imported by the test_orders_* modules): the order approval
flow, customers of other salespeople, and helpers that make orders through the services.

Dates: orders are dated ORDER_DAY (inside the A-customer price list of 2026); promised dates lie
in the future of the real day, so due dates do not depend on when the tests run."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import (
    ApprovalTask,
    ApproverKind,
    NoApprover,
    SelfApproval,
    StepMode,
    TaskStatus,
)
from marketdesk.crm import services as crm_services
from marketdesk.sales.models import SalesOrder
from marketdesk.sales.services import deliveries as delivery_services
from marketdesk.sales.services import orders as services

ORDER_DAY = datetime.date(2026, 3, 4)


def future(days: int = 30) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def rows(catalogue, *lines) -> list[dict]:
    """rows(catalogue, ("terminal", "2", "0"), ...) -> line dicts for the services."""
    return [
        {"product": catalogue[key], "quantity": Decimal(quantity), "discount": Decimal(discount)}
        for key, quantity, discount in lines
    ]


@pytest.fixture
def order_flow(sales_personas):
    """Orders needing approval: the salesperson's supervisor, then the marketing manager; the
    general manager above ¥500,000."""
    units = sales_personas.units
    return approvals.flow_save(
        actor=sales_personas.admin,
        flow=None,
        fields={
            "name": "销售订单审批",
            "doc_type": "sales.order",
            "priority": 10,
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 0,
        },
        departments=[],
        cc_users=[],
        steps=[
            {"name": "组长", "approver_kind": ApproverKind.SUPERVISOR, "mode": StepMode.ANY},
            {
                "name": "营销部经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["MKT"],
                "mode": StepMode.ANY,
            },
            {
                "name": "总经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["GM"],
                "mode": StepMode.ANY,
                "min_amount": Decimal("500000.01"),
            },
        ],
    )


def new_customer(user, name: str, level: str = "B"):
    return crm_services.customer_create(
        actor=user,
        kind="company",
        name=name,
        level=level,
        province="上海市",
        city="上海市",
        source="exhibition",
    )


@pytest.fixture
def make_order(sales_personas, customer, catalogue, sales_settings):
    """make_order(user=sales1, customer=<sales1's A customer>, lines=[(key, qty, discount)])."""

    def make(user=None, of=None, lines=(("terminal", "2", "0"),), promised=None, **fields):
        return services.order_create(
            actor=user or sales_personas.sales1,
            customer=of or customer,
            lines=rows(catalogue, *lines),
            order_date=fields.pop("order_date", ORDER_DAY),
            promised_date=promised or future(),
            **fields,
        )

    return make


def confirm(order: SalesOrder, user=None) -> SalesOrder:
    services.order_submit(actor=user or order.owner, order=order)
    order.refresh_from_db()
    return order


@pytest.fixture
def confirmed(make_order):
    """A confirmed order of sales1: 2 terminals (A price ¥11,000) and 4 gateways (¥3,500)."""
    return confirm(make_order(lines=(("terminal", "2", "0"), ("gateway", "4", "0"))))


def ship(order: SalesOrder, user, quantities: dict | None = None, day=None):
    """Ship {line_no: quantity} (default: everything open) as `user`."""
    lines = {line.line_no: line for line in order.lines.all()}
    wanted = quantities or {no: line.open_quantity for no, line in lines.items()}
    return delivery_services.delivery_create(
        actor=user,
        order=order,
        quantities={lines[no].pk: Decimal(str(q)) for no, q in wanted.items()},
        shipped_on=day or ORDER_DAY,
    )


def approve_all(request, capture) -> None:
    """Approve every step as whoever waits, running the hooks (after commit in production)."""
    for _ in range(10):
        request.refresh_from_db()
        if request.status != "in_progress":
            return
        task = ApprovalTask.objects.filter(
            request=request, status=TaskStatus.WAITING, step_index=request.current_index
        ).first()
        with capture(execute=True):
            approvals.task_approve(actor=task.approver, task=task)


@pytest.fixture
def as_user(client_for):
    """A signed-in test client that asks for English (language cookie)."""

    def make(user, language: str = "en"):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return make
