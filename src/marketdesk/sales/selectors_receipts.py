"""Reads of the receipts part of sales: receipts and plans within the actor's data scope,
receivables aging, customers' credit positions, and the confirmed receipts the dashboard sums.

Receipts are scoped by their `owner` (the order's salesperson) and `department` (the order's
unit) with VIEW_RECEIPT: a salesperson sees their own, a group leader the group's, the
marketing manager the department's, finance and management everything. Plans and the aging
report are scoped the same way through their order.

Aging: what is still to be received, per instalment, by how many days it is overdue. An
instalment's outstanding is its amount less the confirmed receipts on it. The part of an
order that no plan covers (the whole order when it has no plan) counts as one implicit
instalment due on the order's promised delivery date."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.core.scope import scoped
from marketdesk.crm.models import Customer

from .credit import CreditResult, credit_check
from .models import (
    BOOKED,
    Receipt,
    ReceiptPlan,
    ReceiptStatus,
    SalesOrder,
)
from .models.common import ZERO
from .permissions import SalesPerm
from .services.receipts import plan_room, unplanned_room

MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO_MONEY = Value(ZERO, output_field=MONEY)


def _get(queryset: QuerySet, pk):
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


# Receipts ---------------------------------------------------------------------------------------


def receipt_list(*, actor) -> QuerySet[Receipt]:
    queryset = Receipt.objects.select_related(
        "order", "plan", "customer", "owner", "department", "created_by", "decided_by"
    )
    return scoped(queryset, actor=actor, perm=SalesPerm.VIEW_RECEIPT)


def receipt_get(*, actor, pk: int) -> Receipt:
    return _get(receipt_list(actor=actor), pk)


def pending_receipts(*, actor) -> QuerySet[Receipt]:
    """Receipts waiting for the actor's approval (not the ones they registered)."""
    if not actor.has_perm(SalesPerm.APPROVE_RECEIPT):
        return Receipt.objects.none()
    queryset = Receipt.objects.filter(status=ReceiptStatus.PENDING).exclude(created_by=actor)
    return scoped(queryset, actor=actor, perm=SalesPerm.APPROVE_RECEIPT)


def can_decide(*, actor, receipt: Receipt) -> bool:
    return bool(
        receipt.status == ReceiptStatus.PENDING
        and receipt.created_by_id != actor.pk
        and pending_receipts(actor=actor).filter(pk=receipt.pk).exists()
    )


def receipts_by(
    *, actor, start: datetime.date, end: datetime.date, by: str = "department"
) -> list[dict]:
    """Confirmed receipts received from `start` to `end` (both included), summed per unit
    (`by="department"`) or per salesperson (`by="owner"`), within the actor's scope:
    [{"id", "name", "amount", "count"}], largest first; id None is "no unit"."""
    if by not in ("department", "owner"):
        raise ValueError(by)
    rows = (
        receipt_list(actor=actor)
        .filter(status=ReceiptStatus.CONFIRMED, received_on__gte=start, received_on__lte=end)
        .order_by()
        .values(f"{by}_id", f"{by}__name")
        .annotate(amount=Sum("amount"), count=Count("pk"))
        .order_by("-amount", f"{by}__name")
    )
    return [
        {
            "id": row[f"{by}_id"],
            "name": row[f"{by}__name"] or "",
            "amount": row["amount"] or ZERO,
            "count": row["count"],
        }
        for row in rows
    ]


# Orders and plans -------------------------------------------------------------------------------


def receivable_orders(*, actor) -> QuerySet[SalesOrder]:
    """Orders the actor may register receipts on: booked, something left to register."""
    queryset = (
        SalesOrder.objects.filter(status__in=BOOKED, receipted_amount__lt=F("total"))
        .select_related("customer", "owner", "department")
        .annotate(left=ExpressionWrapper(F("total") - F("receipted_amount"), output_field=MONEY))
    )
    return scoped(queryset, actor=actor, perm=SalesPerm.ADD_RECEIPT)


def order_for_receipts(*, actor, pk: int, perm: str = SalesPerm.ADD_RECEIPT) -> SalesOrder:
    """One order the actor may register receipts or set plans on (`perm` scope), else 404."""
    queryset = SalesOrder.objects.select_related("customer", "owner", "department")
    return _get(scoped(queryset, actor=actor, perm=perm), pk)


def order_receipts(*, actor, order: SalesOrder) -> QuerySet[Receipt]:
    return receipt_list(actor=actor).filter(order=order).order_by("-received_on", "-pk")


def order_plans(order: SalesOrder) -> list[ReceiptPlan]:
    """The order's instalments, each with `room` (what a receipt may still pay) and
    `pending` (waiting for approval)."""
    plans = list(
        order.receipt_plans.annotate(
            pending=Coalesce(
                Sum("receipts__amount", filter=Q(receipts__status=ReceiptStatus.PENDING)),
                ZERO_MONEY,
            )
        ).order_by("instalment")
    )
    for plan in plans:
        plan.room = plan.amount - plan.received_amount - plan.pending
    return plans


def plan_list(*, actor) -> QuerySet[ReceiptPlan]:
    queryset = ReceiptPlan.objects.select_related(
        "order__customer", "order__owner", "order__department"
    )
    return scoped(
        queryset,
        actor=actor,
        perm=SalesPerm.VIEW_RECEIPT,
        owner_field="order__owner",
        department_field="order__department",
        shared=False,
    )


def plan_get(*, actor, pk: int) -> ReceiptPlan:
    return _get(plan_list(actor=actor), pk)


@dataclass(frozen=True)
class OrderReceivables:
    """What the receipts part shows on an order: its figures, plans and receipts."""

    order: SalesOrder
    plans: list
    receipts: list
    unplanned_room: Decimal
    credit: CreditResult
    today: datetime.date

    @property
    def outstanding(self) -> Decimal:
        return self.order.total - self.order.received_amount

    @property
    def left(self) -> Decimal:
        """What may still be registered (pending receipts count)."""
        return self.order.total - self.order.receipted_amount

    @property
    def pending(self) -> Decimal:
        return self.order.receipted_amount - self.order.received_amount


def order_receivables(*, actor, order: SalesOrder) -> OrderReceivables:
    """For the order page (the orders part includes sales/receipts/_order_receipts.html)."""
    return OrderReceivables(
        order=order,
        plans=order_plans(order),
        receipts=list(order_receipts(actor=actor, order=order)[:50]),
        unplanned_room=unplanned_room(order),
        credit=credit_summary(order.customer, exclude_order_id=order.pk),
        today=timezone.localdate(),
    )


def room_for(plan: ReceiptPlan) -> Decimal:
    return plan_room(plan)


# Aging --------------------------------------------------------------------------------------------

BUCKETS = [
    ("not_due", _("Not yet due")),
    ("d0_30", _("0–30 days")),
    ("d31_60", _("31–60 days")),
    ("d61_90", _("61–90 days")),
    ("d90_plus", _("Over 90 days")),
]
BUCKET_KEYS = [key for key, _label in BUCKETS]
OVERDUE_KEYS = BUCKET_KEYS[1:]
DIMENSIONS = {
    "customer": ("customer_id", "customer__name"),
    "owner": ("owner_id", "owner__name"),
    "department": ("department_id", "department__name"),
}


def bucket_conditions(field: str, today: datetime.date) -> dict[str, Q]:
    """Days overdue = today − due date: not yet due (< 0), 0–30, 31–60, 61–90, over 90."""
    day = datetime.timedelta(days=1)
    return {
        "not_due": Q(**{f"{field}__gt": today}),
        "d0_30": Q(**{f"{field}__lte": today, f"{field}__gte": today - 30 * day}),
        "d31_60": Q(**{f"{field}__lt": today - 30 * day, f"{field}__gte": today - 60 * day}),
        "d61_90": Q(**{f"{field}__lt": today - 60 * day, f"{field}__gte": today - 90 * day}),
        "d90_plus": Q(**{f"{field}__lt": today - 90 * day}),
    }


def bucket_of(due_date: datetime.date, today: datetime.date) -> str:
    days = (today - due_date).days
    if days < 0:
        return "not_due"
    if days <= 30:
        return "d0_30"
    if days <= 60:
        return "d31_60"
    if days <= 90:
        return "d61_90"
    return "d90_plus"


def aging_orders(*, actor) -> QuerySet[SalesOrder]:
    """Booked orders in the actor's receivables scope (VIEW_RECEIPT on owner/department)."""
    return scoped(
        SalesOrder.objects.filter(status__in=BOOKED),
        actor=actor,
        perm=SalesPerm.VIEW_RECEIPT,
        shared=False,
    )


def _plan_outstanding() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount") - F("received_amount"), output_field=MONEY)


def open_plans(orders: QuerySet[SalesOrder]) -> QuerySet[ReceiptPlan]:
    """Instalments of these orders with money outstanding, annotated with `outstanding`."""
    return (
        ReceiptPlan.objects.filter(order__in=orders.values("pk"))
        .annotate(outstanding=_plan_outstanding())
        .filter(outstanding__gt=0)
    )


def with_implicit(orders: QuerySet[SalesOrder]) -> QuerySet[SalesOrder]:
    """Orders annotated with `implicit` (what no plan covers and no unplanned confirmed
    receipt paid: due on the promised delivery date), kept when it is above zero."""
    planned = (
        ReceiptPlan.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    paid_outside = (
        Receipt.objects.filter(
            order=OuterRef("pk"), plan__isnull=True, status=ReceiptStatus.CONFIRMED
        )
        .order_by()
        .values("order")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return orders.annotate(
        implicit=ExpressionWrapper(
            F("total")
            - Coalesce(Subquery(planned, output_field=MONEY), ZERO_MONEY)
            - Coalesce(Subquery(paid_outside, output_field=MONEY), ZERO_MONEY),
            output_field=MONEY,
        )
    ).filter(implicit__gt=0)


def _bucket_sums(*, date_field: str, value, today) -> dict:
    conditions = bucket_conditions(date_field, today)
    return {
        key: Coalesce(
            Sum(Case(When(conditions[key], then=value), default=ZERO_MONEY, output_field=MONEY)),
            ZERO_MONEY,
        )
        for key in BUCKET_KEYS
    }


def _narrow(orders: QuerySet[SalesOrder], filters: dict | None) -> QuerySet[SalesOrder]:
    filters = filters or {}
    if filters.get("department") is not None:
        orders = orders.filter(department__path__startswith=filters["department"].path)
    if filters.get("owner") is not None:
        orders = orders.filter(owner=filters["owner"])
    if filters.get("customer") is not None:
        orders = orders.filter(customer=filters["customer"])
    text = (filters.get("q") or "").strip()
    if text:
        orders = orders.filter(Q(customer__name__icontains=text) | Q(number__icontains=text))
    return orders


def aging(*, actor, by: str = "customer", today: datetime.date | None = None, filters=None) -> dict:
    """Receivables aging grouped by customer, salesperson (`owner`) or unit (`department`):
    {"rows": [{"id", "name", "not_due", "d0_30", ..., "overdue", "total"}], "totals": {...}};
    rows sorted by overdue then total, largest first. Sums run in the database."""
    if by not in DIMENSIONS:
        raise ValueError(by)
    today = today or timezone.localdate()
    orders = _narrow(aging_orders(actor=actor), filters)
    key, name = DIMENSIONS[by]
    plan_rows = (
        open_plans(orders)
        .order_by()
        .values(f"order__{key}", f"order__{name}")
        .annotate(**_bucket_sums(date_field="due_date", value=_plan_outstanding(), today=today))
    )
    implicit_rows = (
        with_implicit(orders)
        .order_by()
        .values(key, name)
        .annotate(**_bucket_sums(date_field="promised_date", value=F("implicit"), today=today))
    )
    merged: dict = {}
    for row, prefix in [(r, "order__") for r in plan_rows] + [(r, "") for r in implicit_rows]:
        ident = row[prefix + key]
        target = merged.setdefault(
            ident,
            {"id": ident, "name": row[prefix + name] or "", **{k: ZERO for k in BUCKET_KEYS}},
        )
        for bucket in BUCKET_KEYS:
            target[bucket] += row[bucket] or ZERO
    rows = list(merged.values())
    totals = {bucket: ZERO for bucket in BUCKET_KEYS}
    for row in rows:
        row["overdue"] = sum((row[k] for k in OVERDUE_KEYS), ZERO)
        row["total"] = row["overdue"] + row["not_due"]
        for bucket in BUCKET_KEYS:
            totals[bucket] += row[bucket]
    totals["overdue"] = sum((totals[k] for k in OVERDUE_KEYS), ZERO)
    totals["total"] = totals["overdue"] + totals["not_due"]
    rows.sort(key=lambda r: (-r["overdue"], -r["total"], r["name"]))
    return {"rows": rows, "totals": totals, "today": today, "by": by}


INSTALMENT_COLUMNS = [
    "row_order_id",
    "row_plan_id",
    "row_instalment",
    "row_due",
    "row_amount",
    "row_outstanding",
    "row_order_number",
    "row_customer_id",
    "row_customer",
    "row_owner_id",
    "row_owner",
    "row_department",
]


def instalments(
    *,
    actor,
    today: datetime.date | None = None,
    filters=None,
    overdue_only: bool = False,
    owner_only=None,
) -> QuerySet:
    """Every instalment with money outstanding, explicit and implicit, as one query (a UNION)
    of dicts with INSTALMENT_COLUMNS, for a paginated list; implicit rows have no plan id and
    instalment 0. `owner_only`: only orders of that salesperson."""
    today = today or timezone.localdate()
    orders = _narrow(aging_orders(actor=actor), filters)
    if owner_only is not None:
        orders = orders.filter(owner=owner_only)
    explicit = open_plans(orders).annotate(
        row_order_id=F("order_id"),
        row_plan_id=F("pk"),
        row_instalment=F("instalment"),
        row_due=F("due_date"),
        row_amount=ExpressionWrapper(F("amount"), output_field=MONEY),
        row_outstanding=F("outstanding"),
        row_order_number=F("order__number"),
        row_customer_id=F("order__customer_id"),
        row_customer=F("order__customer__name"),
        row_owner_id=F("order__owner_id"),
        row_owner=F("order__owner__name"),
        row_department=F("order__department__name"),
    )
    implicit = with_implicit(orders).annotate(
        row_order_id=F("pk"),
        row_plan_id=Value(None, output_field=IntegerField()),
        row_instalment=Value(0, output_field=IntegerField()),
        row_due=F("promised_date"),
        row_amount=F("implicit"),
        row_outstanding=F("implicit"),
        row_order_number=F("number"),
        row_customer_id=F("customer_id"),
        row_customer=F("customer__name"),
        row_owner_id=F("owner_id"),
        row_owner=F("owner__name"),
        row_department=F("department__name"),
    )
    if overdue_only:  # due before today (an instalment due today is not overdue yet)
        explicit = explicit.filter(due_date__lt=today)
        implicit = implicit.filter(promised_date__lt=today)
    return (
        explicit.order_by()
        .values(*INSTALMENT_COLUMNS)
        .union(implicit.order_by().values(*INSTALMENT_COLUMNS), all=True)
    )


def instalment_rows(rows, today: datetime.date) -> list[dict]:
    """Add days overdue and the bucket to a page of instalment dicts."""
    result = []
    for row in rows:
        row = dict(row)
        row["days"] = (today - row["row_due"]).days
        row["bucket"] = bucket_of(row["row_due"], today)
        result.append(row)
    return result


def overdue_count(*, actor, today: datetime.date | None = None) -> int:
    """The actor's own overdue instalments (orders they own, due before today), for the
    workbench."""
    today = today or timezone.localdate()
    if not actor.has_perm(SalesPerm.VIEW_RECEIPT):
        return 0
    orders = SalesOrder.objects.filter(status__in=BOOKED, owner=actor)
    explicit = open_plans(orders).filter(due_date__lt=today).count()
    implicit = with_implicit(orders).filter(promised_date__lt=today).count()
    return explicit + implicit


# Credit ---------------------------------------------------------------------------------------------


def credit_summary(customer, *, exclude_order_id: int | None = None) -> CreditResult:
    """The customer's limit, open receivables and mode (amount 0: the position as it is).
    Whoever sees an order or the customer may see this (the caller checked that)."""
    return credit_check(customer=customer, amount=ZERO, exclude_order_id=exclude_order_id)


def _open_receivables_subquery():
    return (
        SalesOrder.objects.filter(customer=OuterRef("pk"), status__in=BOOKED)
        .order_by()
        .values("customer")
        .annotate(s=Sum(F("total") - F("received_amount")))
        .values("s")
    )


def credit_customers(*, actor) -> QuerySet[Customer]:
    """Customers in the actor's receivables (or credit) scope, annotated with
    `credit_limit`, `tier`, `open_receivables` and `available` (None without a limit)."""
    base = Customer.objects.select_related("owner", "department")
    view = scoped(base, actor=actor, perm=SalesPerm.VIEW_RECEIPT, shared=False)
    if actor.has_perm(SalesPerm.CHANGE_CREDIT):
        change = scoped(base, actor=actor, perm=SalesPerm.CHANGE_CREDIT, shared=False)
        view = base.filter(Q(pk__in=view.values("pk")) | Q(pk__in=change.values("pk")))
    return view.annotate(
        credit_limit=F("sales_account__credit_limit"),
        tier=F("sales_account__channel_tier"),
        open_receivables=Coalesce(
            Subquery(_open_receivables_subquery(), output_field=MONEY), ZERO_MONEY
        ),
    ).annotate(
        available=ExpressionWrapper(F("credit_limit") - F("open_receivables"), output_field=MONEY)
    )


def credit_customer_get(*, actor, pk: int) -> Customer:
    return _get(credit_customers(actor=actor), pk)


def can_change_credit(*, actor, customer: Customer) -> bool:
    if not actor.has_perm(SalesPerm.CHANGE_CREDIT):
        return False
    return scoped(
        Customer.objects.filter(pk=customer.pk), actor=actor, perm=SalesPerm.CHANGE_CREDIT
    ).exists()


def customer_receivables(*, actor, customer, today: datetime.date | None = None) -> dict:
    """The customer 360 panel: credit position (all the customer's orders: the limit is the
    customer's), overdue instalments and recent receipts (the actor's scope)."""
    today = today or timezone.localdate()
    overdue = list(
        instalments(
            actor=actor, today=today, filters={"customer": customer}, overdue_only=True
        ).order_by("row_due")[:20]
    )
    return {
        "credit": credit_summary(customer),
        "overdue": instalment_rows(overdue, today),
        "receipts": list(
            receipt_list(actor=actor).filter(customer=customer).order_by("-received_on", "-pk")[:10]
        ),
        "today": today,
    }
