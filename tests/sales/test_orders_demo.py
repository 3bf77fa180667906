"""The demo step of orders (sales step 52) on top of the organisation, approvals, CRM and
products steps: about 60 orders in every state, coordination tasks, partial and late
deliveries, coordinators for 生产部 and 物流部; running it again does nothing."""

from __future__ import annotations

import pytest
from django.db.models import F

from marketdesk.org.models import Employee
from marketdesk.sales.models import (
    CoordinationTask,
    Delivery,
    OrderLine,
    OrderStatus,
    SalesOrder,
)

pytestmark = pytest.mark.django_db


def test_the_demo_builds_orders_in_every_state():
    from marketdesk.approvals.demo import build_approvals
    from marketdesk.crm.demo import build_crm
    from marketdesk.org.demo import build_org
    from marketdesk.sales.demo.orders import _logins, build_orders
    from marketdesk.sales.demo.products import build_products

    build_org()
    build_approvals()
    build_crm()
    build_products()
    message = build_orders()
    assert "orders" in message, message
    assert 55 <= SalesOrder.objects.count() <= 65
    assert set(SalesOrder.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    first = SalesOrder.objects.order_by("order_date").first().order_date
    last = SalesOrder.objects.order_by("-order_date").first().order_date
    assert (last - first).days >= 400  # 14 months
    assert SalesOrder.objects.filter(on_time=False).count() >= 3  # some late
    assert SalesOrder.objects.filter(on_time=True).count() >= 10
    assert Delivery.objects.filter(status="shipped").exists()  # waiting for a signature
    partial = OrderLine.objects.filter(
        delivered_quantity__gt=0, delivered_quantity__lt=F("quantity")
    )
    assert partial.exists()
    assert CoordinationTask.objects.filter(kind="production", status="done").exists()
    assert CoordinationTask.objects.filter(department__code="LOG").exists()
    coordinators = Employee.objects.filter(roles__code="coordinator")
    assert set(coordinators.values_list("department__code", flat=True)) == {"PRD", "LOG"}
    assert [row[0] for row in _logins()] == ["chenjg", "hexd"]
    for order in SalesOrder.objects.filter(status__in=["delivered", "completed"]):
        assert order.delivered_on is not None and order.on_time == (
            order.delivered_on <= order.promised_date
        )
    assert build_orders() == "skipped"
