"""Reads of orders, coordination tasks and deliveries (R4.2.2), limited to what the asking user
may see, plus the on-time delivery rate per unit and per salesperson.

Who sees an order: the data scope of `sales.view_salesorder` (owner, units), plus production and
logistics coordinators for the orders that have a task for their unit, plus the approvers of
the order. Tasks: the scope of `sales.view_coordinationtask` by the task's unit and owner, plus
the tasks of the orders seen through the order scope. Deliveries follow their order."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from marketdesk.approvals.models import ApprovalRequest, ApprovalTask
from marketdesk.approvals.models import TaskStatus as ApprovalTaskStatus
from marketdesk.core.scope import scope_for, scoped

from .models import (
    BOOKED,
    CoordinationTask,
    Delivery,
    DeliveryStatus,
    OrderLine,
    OrderStatus,
    Product,
    ProductStatus,
    SalesOrder,
    TaskStatus,
)
from .permissions import SalesPerm

# Orders whose goods are still to reach the customer (the delivery alerts and "slipping").
UNDELIVERED = (
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.READY,
    OrderStatus.PARTLY_SHIPPED,
    OrderStatus.SHIPPED,
)
# Orders that still move: from draft until delivered (an owner change takes them along).
OPEN = (OrderStatus.DRAFT, OrderStatus.IN_APPROVAL, *UNDELIVERED, OrderStatus.DELIVERED)
SHIPPABLE = (
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.READY,
    OrderStatus.PARTLY_SHIPPED,
)
OPEN_TASK = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


def _get(queryset: QuerySet, pk):
    row = queryset.filter(pk=pk).first() if str(pk).isdigit() else None
    if row is None:
        raise Http404
    return row


# Orders ---------------------------------------------------------------------------------------


def _in_order_scope(actor) -> QuerySet[SalesOrder]:
    return scoped(
        SalesOrder.objects.all(),
        actor=actor,
        perm=SalesPerm.VIEW_ORDER,
        owner_field="owner",
        department_field="department",
    )


def _task_scope(actor) -> QuerySet[CoordinationTask]:
    return scoped(
        CoordinationTask.objects.all(),
        actor=actor,
        perm=SalesPerm.VIEW_TASK,
        owner_field="owner",
        department_field="department",
        shared=False,
    )


def _approver_of(actor) -> QuerySet:
    """Ids of orders the actor has (had) an approval task on: approvers see what they decide."""
    return ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(SalesOrder),
        pk__in=ApprovalTask.objects.filter(approver=actor).values("request_id"),
    ).values("object_id")


def order_list(*, actor) -> QuerySet[SalesOrder]:
    """Orders the actor may see."""
    base = SalesOrder.objects.select_related("customer", "contact", "owner", "department")
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return base.none()
    if scope_for(actor, SalesPerm.VIEW_ORDER).all:
        return base
    return base.filter(
        Q(pk__in=_in_order_scope(actor).values("pk"))
        | Q(pk__in=_task_scope(actor).values("order_id"))
        | Q(pk__in=_approver_of(actor))
    )


def order_get(*, actor, pk: int) -> SalesOrder:
    """One order the actor may see; 404 otherwise (no id guessing)."""
    return _get(order_list(actor=actor), pk)


def order_lines(order: SalesOrder) -> QuerySet[OrderLine]:
    return order.lines.select_related("product", "price_list").order_by("line_no")


def orders_waiting_for(*, actor) -> QuerySet[SalesOrder]:
    """Orders waiting for the actor: their own drafts (to submit) and, for confirmers, delivered
    orders in their scope waiting to be completed."""
    condition = Q(owner=actor, status=OrderStatus.DRAFT)
    if actor.has_perm(SalesPerm.CONFIRM_ORDER):
        condition |= Q(status=OrderStatus.DELIVERED)
    return order_list(actor=actor).filter(condition)


def orders_slipping(*, actor, today: datetime.date | None = None, days: int = 3):
    """Undelivered orders whose promised date has passed or comes within `days`."""
    today = today or timezone.localdate()
    return order_list(actor=actor).filter(
        status__in=UNDELIVERED, promised_date__lte=today + datetime.timedelta(days=days)
    )


def customer_orders(*, actor, customer) -> QuerySet[SalesOrder]:
    """The customer's orders the actor may see (the purchase history on the customer page)."""
    return order_list(actor=actor).filter(customer=customer)


def customer_summary(*, actor, customer) -> dict:
    """Booked orders of the customer: count, amount, received, last order date."""
    booked = customer_orders(actor=actor, customer=customer).filter(status__in=BOOKED)
    figures = booked.aggregate(
        count=Count("pk"), amount=Sum("total"), received=Sum("received_amount")
    )
    return {
        "count": figures["count"] or 0,
        "amount": figures["amount"] or Decimal("0.00"),
        "received": figures["received"] or Decimal("0.00"),
        "last": booked.order_by("-order_date").values_list("order_date", flat=True).first(),
    }


def customer_products(*, actor, customer, limit: int = 8) -> list[dict]:
    """What the customer bought most (booked orders the actor may see)."""
    lines = (
        OrderLine.objects.filter(
            order__in=customer_orders(actor=actor, customer=customer)
            .filter(status__in=BOOKED)
            .values("pk")
        )
        .values("product__code", "product__name", "product__unit")
        .annotate(quantity=Sum("quantity"), amount=Sum("amount"))
        .order_by("-amount")[:limit]
    )
    return list(lines)


def orderable_products(*, actor) -> QuerySet[Product]:
    """Products an order line may take: the products part's selector when present, else the
    products on sale."""
    try:
        from .selectors_products import orderable_products as products_part
    except ImportError:  # the products part is not built yet
        products_part = None
    if products_part is not None:
        return products_part(actor=actor)
    return (
        Product.objects.filter(status=ProductStatus.ACTIVE)
        .select_related("category")
        .order_by("code")
    )


def visible_opportunity(*, actor, pk) -> object | None:
    """An opportunity the actor may see (to prefill and link an order), or None."""
    from .models import Opportunity

    if not str(pk or "").isdigit():
        return None
    return (
        scoped(
            Opportunity.objects.select_related("customer", "contact"),
            actor=actor,
            perm=SalesPerm.VIEW_OPPORTUNITY,
            owner_field="owner",
            department_field="department",
        )
        .filter(pk=pk)
        .first()
    )


# Coordination tasks -----------------------------------------------------------------------------


def task_list(*, actor) -> QuerySet[CoordinationTask]:
    """Tasks of the actor's units (coordinators) and every task of the orders the actor sees
    (the salesperson follows their order's production; 物流部 sees how production goes)."""
    base = CoordinationTask.objects.select_related(
        "order__customer", "order__owner", "department", "owner"
    )
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return base.none()
    if not (actor.has_perm(SalesPerm.VIEW_TASK) or actor.has_perm(SalesPerm.VIEW_ORDER)):
        return base.none()
    if scope_for(actor, SalesPerm.VIEW_TASK).all:
        return base
    return base.filter(
        Q(pk__in=_task_scope(actor).values("pk"))
        | Q(order__in=order_list(actor=actor).values("pk"))
    )


def task_get(*, actor, pk: int) -> CoordinationTask:
    return _get(task_list(actor=actor), pk)


def my_tasks(*, actor) -> QuerySet[CoordinationTask]:
    """Open tasks assigned to the actor, or to the actor's unit with nobody assigned."""
    from marketdesk.org.selectors import employee_for_user

    employee = employee_for_user(actor)
    condition = Q(owner=actor)
    if employee is not None:
        condition |= Q(owner__isnull=True, department=employee.department_id)
    return task_list(actor=actor).filter(condition, status__in=OPEN_TASK)


def tasks_due(*, actor, today: datetime.date | None = None, days: int = 3):
    today = today or timezone.localdate()
    return my_tasks(actor=actor).filter(due_date__lte=today + datetime.timedelta(days=days))


def order_tasks(order: SalesOrder) -> QuerySet[CoordinationTask]:
    return order.tasks.select_related("department", "owner").order_by("kind", "pk")


def can_change_task(*, actor, task: CoordinationTask) -> bool:
    """Production/logistics coordinators and leaders with the permission, for tasks they see."""
    return bool(
        actor.has_perm(SalesPerm.CHANGE_TASK)
        and (
            task.owner_id == actor.pk
            or _task_scope(actor).filter(pk=task.pk).exists()
            or _in_order_scope(actor).filter(pk=task.order_id).exists()
        )
    )


# Deliveries -------------------------------------------------------------------------------------


def delivery_list(*, actor) -> QuerySet[Delivery]:
    base = Delivery.objects.select_related("order__customer", "order__owner")
    if not (actor.has_perm(SalesPerm.VIEW_DELIVERY) or actor.has_perm(SalesPerm.VIEW_ORDER)):
        return base.none()
    return base.filter(order__in=order_list(actor=actor).values("pk"))


def delivery_get(*, actor, pk: int) -> Delivery:
    return _get(delivery_list(actor=actor), pk)


def delivery_lines(delivery: Delivery):
    return delivery.lines.select_related("order_line__product").order_by("order_line__line_no")


def order_deliveries(order: SalesOrder) -> QuerySet[Delivery]:
    return order.deliveries.prefetch_related("lines__order_line__product").order_by(
        "shipped_on", "pk"
    )


def can_ship(*, actor, order: SalesOrder) -> bool:
    return bool(
        actor.has_perm(SalesPerm.ADD_DELIVERY)
        and order.status in SHIPPABLE
        and order_list(actor=actor).filter(pk=order.pk).exists()
    )


def can_sign(*, actor, delivery: Delivery) -> bool:
    """Whoever may ship the order, or the salesperson who owns it (the customer's receipt often
    comes back through them)."""
    if delivery.status != DeliveryStatus.SHIPPED:
        return False
    if delivery.order.owner_id == actor.pk:
        return True
    return bool(
        actor.has_perm(SalesPerm.ADD_DELIVERY)
        and order_list(actor=actor).filter(pk=delivery.order_id).exists()
    )


# On-time delivery rate -------------------------------------------------------------------------


@dataclass(frozen=True)
class OnTimeRow:
    id: int | None
    label: str
    delivered: int
    on_time: int

    @property
    def late(self) -> int:
        return self.delivered - self.on_time

    @property
    def rate(self) -> Decimal | None:
        """On-time share in %, one decimal (None when nothing was delivered)."""
        if not self.delivered:
            return None
        return (Decimal(self.on_time) * 100 / Decimal(self.delivered)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def delivered_orders(*, actor, start: datetime.date, end: datetime.date) -> QuerySet[SalesOrder]:
    """Orders the actor sees that reached the customer between start and end (inclusive)."""
    return order_list(actor=actor).filter(
        status__in=(OrderStatus.DELIVERED, OrderStatus.COMPLETED),
        delivered_on__gte=start,
        delivered_on__lte=end,
        on_time__isnull=False,
    )


def on_time_rates(
    *, actor, start: datetime.date, end: datetime.date, by: str = "department"
) -> list[OnTimeRow]:
    """On-time delivery rate per unit (`by="department"`) or per salesperson (`by="owner"`):
    of the orders delivered in the period, the share delivered on or before the promised date.
    Rows are sorted by rate, best first; the dashboard reads this."""
    if by not in ("department", "owner"):
        raise ValueError(f"by must be 'department' or 'owner', not {by!r}")
    label = "department__name" if by == "department" else "owner__name"
    rows = (
        delivered_orders(actor=actor, start=start, end=end)
        .order_by()
        .values(by, label)
        .annotate(delivered=Count("pk"), on_time=Count("pk", filter=Q(on_time=True)))
    )
    result = [
        OnTimeRow(
            id=row[by], label=row[label] or "—", delivered=row["delivered"], on_time=row["on_time"]
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (-(r.rate or 0), -r.delivered, r.label))


def on_time_total(rows: list[OnTimeRow]) -> OnTimeRow:
    return OnTimeRow(
        id=None,
        label="",
        delivered=sum(r.delivered for r in rows),
        on_time=sum(r.on_time for r in rows),
    )


def open_approval_task(*, actor, order: SalesOrder):
    """The actor's waiting approval task on the order, if any (a link on the order page)."""
    return (
        ApprovalTask.objects.filter(
            approver=actor,
            status=ApprovalTaskStatus.WAITING,
            request__content_type=ContentType.objects.get_for_model(SalesOrder),
            request__object_id=order.pk,
        )
        .select_related("request")
        .first()
    )
