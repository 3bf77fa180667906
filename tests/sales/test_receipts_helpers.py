"""Helpers of the receipts tests: orders, customers, receipt settings.

Orders are written here with the ORM, and only here: the orders part of sales is written at
the same time as the receipts part, so the receipts tests must not depend on its services.
`make_order` writes a `SalesOrder` with one `OrderLine` in the shape a confirmed order has
(number, owner and unit from the salesperson, total = the line's amount). Everything the
receipts part does (plans, receipts, credit limits) goes through its services."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from marketdesk.crm import services as crm_services
from marketdesk.org.models import Employee
from marketdesk.sales.models import OrderLine, OrderStatus, SalesOrder, SalesSettings
from marketdesk.sales.services import receipts as services

_numbers = itertools.count(1)


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    """today + n days (negative: in the past)."""
    return today() + datetime.timedelta(days=n)


def make_order(
    *,
    owner,
    customer,
    product,
    total: str | Decimal = "100000.00",
    status: str = OrderStatus.CONFIRMED,
    order_date: datetime.date | None = None,
    promised_date: datetime.date | None = None,
    **fields,
) -> SalesOrder:
    """A sales order with one line (raw ORM rows, see the module docstring)."""
    total = Decimal(total)
    order_date = order_date or days(-40)
    employee = Employee.objects.filter(user=owner).select_related("department").first()
    order = SalesOrder.objects.create(
        number=f"SO-T-{next(_numbers):05d}",
        title="测试订单",
        customer=customer,
        owner=owner,
        department=employee.department if employee else None,
        order_date=order_date,
        promised_date=promised_date or order_date + datetime.timedelta(days=20),
        status=status,
        list_amount=total,
        total=total,
        confirmed_at=timezone.now() if status != OrderStatus.DRAFT else None,
        cancel_reason="客户取消" if status == OrderStatus.CANCELLED else "",
        created_by=owner,
        updated_by=owner,
        **fields,
    )
    OrderLine.objects.create(
        order=order,
        line_no=1,
        product=product,
        quantity=Decimal("1"),
        list_price=total,
        unit_price=total,
        amount=total,
    )
    return order


def book_if_credit_allows(order: SalesOrder) -> bool:
    """What the orders part does when it confirms an order, reduced to the credit rule: in one
    transaction, check the limit with the customer's account row locked, then book the order
    (a raw status write: the orders part's service is not ours to call)."""
    from django.db import transaction

    from marketdesk.sales.credit import credit_check

    with transaction.atomic():
        result = credit_check(
            customer=order.customer, amount=order.total, exclude_order_id=order.pk, lock=True
        )
        if result.blocks:
            return False
        SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CONFIRMED)
        return True


def make_customer(owner, name: str):
    """A customer through crm's services, owned by `owner`."""
    return crm_services.customer_create(
        actor=owner, kind="company", name=name, level="B", province="江苏省", city="苏州市"
    )


def set_receipt_approval(on: bool) -> None:
    SalesSettings.objects.update_or_create(pk=1, defaults={"receipt_approval": on})


def plan(actor, order, *rows):
    """plan(actor, order, (due_date, "amount"), ...) -> the order's instalments 1..n."""
    return services.receipt_plans_set(
        actor=actor,
        order=order,
        plans=[
            {"instalment": n, "due_date": due, "amount": Decimal(amount), "method": "bank"}
            for n, (due, amount) in enumerate(rows, start=1)
        ],
    )


def receive(actor, order, amount, *, plan=None, on=None, reference=""):
    return services.receipt_register(
        actor=actor,
        order=order,
        plan=plan,
        amount=Decimal(amount),
        received_on=on or today(),
        reference=reference,
    )


@pytest.fixture
def order_for(sales_personas, customer, catalogue):
    """order_for(owner="sales1", total="100000.00", customer=None, status=confirmed, ...)"""

    def make(owner="sales1", total="100000.00", customer_=None, **fields):
        return make_order(
            owner=getattr(sales_personas, owner),
            customer=customer_ or customer,
            product=catalogue["terminal"],
            total=total,
            **fields,
        )

    return make


@pytest.fixture
def order(order_for) -> SalesOrder:
    """A confirmed ¥100,000 order of sales1 (王芳, 销售一组) for the `customer` fixture."""
    return order_for()


def test_the_helper_builds_a_confirmed_order(order, sales_personas):
    assert order.status == OrderStatus.CONFIRMED
    assert order.department == sales_personas.units["S1"]
    assert order.lines.get().amount == order.total == Decimal("100000.00")
