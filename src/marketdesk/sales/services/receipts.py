"""Receipt plans (回款计划), receipts (回款) and customers' credit limits (issue 5, R4.2.2).

Money rules, checked here with the order row locked (`select_for_update`; on SQLite every
write transaction is IMMEDIATE, which serialises writers the same way), and backed by the
database (`sales_order_receipts_within_total`, `sales_plan_received_range`):

- an order's plans add up to at most its total, less what was registered outside the plan;
- a receipt is at most the order's total less what is already registered (pending or
  confirmed), and at most its instalment's outstanding (less what waits for approval on it);
  a receipt without an instalment pays the part of the order the plan does not cover;
- `order.receipted_amount` counts pending and confirmed receipts, `order.received_amount` and
  `plan.received_amount` only confirmed ones; rejecting or cancelling gives them back.

Lock order: the sales order first, then its plans and receipts, in every function here, so
two writers never wait on each other in opposite order.

Approval is a simple approve/reject by finance (APPROVE_RECEIPT), not the approval engine:
confirming a receipt is checking the bank statement, a single look by one role, with no
routing by amount or unit; the engine's flows, steps and inbox would add set-up and clicks
for nothing. Whoever registered a receipt may not approve or reject it (two people see the
money)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.core.notifications import notify
from marketdesk.core.numbering import next_number
from marketdesk.core.scope import scoped
from marketdesk.crm.models import Customer

from .. import rollups
from ..credit import account_for
from ..models import (
    BOOKED,
    ChannelTier,
    CustomerAccount,
    OrderStatus,
    PayMethod,
    Receipt,
    ReceiptPlan,
    ReceiptStatus,
    SalesOrder,
    SalesSettings,
)
from ..models.common import ZERO
from ..permissions import SalesPerm
from . import orders as order_services

MSG_NO_PERMISSION = _("You do not have permission to do this.")
MSG_ORDER_OUT_OF_SCOPE = _("This order was not found.")
MSG_RECEIPT_OUT_OF_SCOPE = _("This receipt was not found.")
MSG_CUSTOMER_OUT_OF_SCOPE = _("This customer was not found.")
MSG_POSITIVE = _("The amount must be more than zero.")
MSG_CENTS = _("Give the amount in yuan with at most two decimal places.")
MSG_NOT_NEGATIVE = _("The credit limit cannot be negative.")
MSG_DATE_REQUIRED = _("Give the date.")
MSG_FUTURE_DATE = _("The money cannot have arrived after today (%(today)s).")
MSG_ORDER_NOT_RECEIVABLE = _(
    "Receipts can be registered only on a confirmed order that is not cancelled "
    "(this order is: %(status)s)."
)
MSG_OVER_ORDER = _(
    "The receipt of ¥%(amount)s is more than what is left to receive on the order: "
    "¥%(room)s (total ¥%(total)s, already registered ¥%(registered)s)."
)
MSG_OVER_PLAN = _(
    "The receipt of ¥%(amount)s is more than what is left on instalment %(instalment)s: ¥%(room)s."
)
MSG_PLAN_OTHER_ORDER = _("This instalment belongs to another order.")
MSG_CHOOSE_PLAN = _(
    "The order's receipt plan covers its whole amount: choose the instalment this receipt pays."
)
MSG_OVER_UNPLANNED = _(
    "Outside the receipt plan only ¥%(room)s is left to receive on this order: choose an "
    "instalment or lower the amount."
)
MSG_WRONG_STATE = _("This receipt is not waiting for that (it is: %(status)s).")
MSG_OWN_RECEIPT = _("You registered this receipt; someone else must approve or reject it.")
MSG_REASON_REQUIRED = _("Give the reason.")
MSG_ORDER_COMPLETED = _(
    "The order is completed, so its receipts can no longer be cancelled. "
    "Ask finance to record the correction on the order first."
)
MSG_CANCEL_NOT_ALLOWED = _(
    "Only finance, or the person who registered it while it waits for approval, may "
    "cancel a receipt."
)
MSG_PLAN_ORDER_STATUS = _(
    "Receipt plans can be set only on a draft or confirmed order (this order is: %(status)s)."
)
MSG_INSTALMENT_REQUIRED = _("Give the instalment number (1 or more).")
MSG_INSTALMENT_TWICE = _("Instalment %(instalment)s appears twice.")
MSG_PLAN_NOT_FOUND = _("This instalment was not found on the order.")
MSG_PLANS_OVER_TOTAL = _(
    "Instalment %(instalment)s brings the plan to ¥%(planned)s, more than the order total "
    "of ¥%(total)s."
)
MSG_PLANS_OVER_ROOM = _(
    "Instalment %(instalment)s brings the plan to ¥%(planned)s, more than the ¥%(room)s the "
    "plan may cover (order total ¥%(total)s less ¥%(unplanned)s registered outside the plan)."
)
MSG_PLAN_BELOW_RECEIVED = _(
    "Instalment %(instalment)s already has ¥%(received)s registered; its amount cannot be "
    "less than that."
)
MSG_PLAN_HAS_RECEIPTS = _(
    "Instalment %(instalment)s has receipts registered against it, so it cannot be removed; "
    "lower its amount instead."
)
MSG_TIER = _("Choose one of the channel tiers.")

CENT = Decimal("0.01")
COUNTING = (ReceiptStatus.PENDING, ReceiptStatus.CONFIRMED)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


def _settings() -> SalesSettings:
    return SalesSettings.objects.get_or_create(pk=1)[0]


def _clean_amount(value, field: str = "amount") -> Decimal:
    if value is None or value == "":
        raise ValidationError({field: [MSG_POSITIVE]})
    try:
        amount = Decimal(str(value)) if isinstance(value, (int, str)) else Decimal(value)
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ValidationError({field: [MSG_POSITIVE]}) from exc
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({field: [MSG_POSITIVE]})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: [MSG_CENTS]})
    return amount.quantize(CENT)


def _lock_order(actor, order: SalesOrder, perm: str) -> SalesOrder:
    """The order row, locked, if the actor may work on it with `perm` (else "not found")."""
    locked = SalesOrder.objects.select_for_update().get(pk=order.pk)
    visible = scoped(SalesOrder.objects.filter(pk=order.pk), actor=actor, perm=perm)
    if not visible.exists():
        raise PermissionDenied(MSG_ORDER_OUT_OF_SCOPE)
    return locked


def _lock_receipt(actor, receipt: Receipt, perm: str) -> tuple[SalesOrder, Receipt]:
    order = SalesOrder.objects.select_for_update().get(pk=receipt.order_id)
    locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
    visible = scoped(Receipt.objects.filter(pk=receipt.pk), actor=actor, perm=perm)
    if not visible.exists():
        raise PermissionDenied(MSG_RECEIPT_OUT_OF_SCOPE)
    return order, locked


def _pending_on_plan(plan: ReceiptPlan, *, exclude: int | None = None) -> Decimal:
    rows = Receipt.objects.filter(plan=plan, status=ReceiptStatus.PENDING)
    if exclude:
        rows = rows.exclude(pk=exclude)
    return rows.aggregate(s=Sum("amount"))["s"] or ZERO


def plan_room(plan: ReceiptPlan) -> Decimal:
    """What a new receipt may still pay on the instalment (pending receipts count)."""
    return plan.amount - plan.received_amount - _pending_on_plan(plan)


def unplanned_registered(order: SalesOrder) -> Decimal:
    """Pending and confirmed receipts of the order that name no instalment."""
    return (
        Receipt.objects.filter(order=order, plan__isnull=True, status__in=COUNTING).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )


def unplanned_room(order: SalesOrder) -> Decimal:
    """What receipts without an instalment may still pay: the part no plan covers."""
    planned = order.receipt_plans.aggregate(s=Sum("amount"))["s"] or ZERO
    return order.total - planned - unplanned_registered(order)


def _save_order_amounts(order: SalesOrder, actor, field: str = "amount") -> None:
    order._history_user = actor
    try:
        with transaction.atomic():
            order.save(update_fields=["receipted_amount", "received_amount", "updated_at"])
    except IntegrityError as exc:  # the database's own guard (should never be reached)
        raise ValidationError(
            {field: [gettext("The receipts would pass the order total.")]}
        ) from exc


def _apply_to_plan(plan_id: int | None, delta: Decimal, actor) -> None:
    if not plan_id:
        return
    plan = ReceiptPlan.objects.select_for_update().get(pk=plan_id)
    plan.received_amount += delta
    plan._history_user = actor
    plan.save(update_fields=["received_amount", "updated_at"])


def _receipts_changed(order: SalesOrder, actor) -> None:
    """The order's received amount changed: the orders part completes an order that is
    delivered and received in full."""
    order_services.order_settle(order, actor=actor)


# Receipts ---------------------------------------------------------------------------------------


@transaction.atomic
def receipt_register(
    *,
    actor,
    order: SalesOrder,
    amount: Decimal,
    received_on: datetime.date,
    plan: ReceiptPlan | None = None,
    method: str | None = None,
    reference: str = "",
    notes: str = "",
) -> Receipt:
    """Register money received on a confirmed order: pending when receipts need approval
    (SalesSettings.receipt_approval), else confirmed at once."""
    require(actor, SalesPerm.ADD_RECEIPT)
    amount = _clean_amount(amount)
    today = timezone.localdate()
    if received_on is None:
        raise ValidationError({"received_on": [MSG_DATE_REQUIRED]})
    if received_on > today:
        raise ValidationError({"received_on": [MSG_FUTURE_DATE % {"today": today}]})
    order = _lock_order(actor, order, SalesPerm.ADD_RECEIPT)
    if order.status not in BOOKED:
        raise ValidationError(
            {"order": [MSG_ORDER_NOT_RECEIVABLE % {"status": order.get_status_display()}]}
        )
    room = order.total - order.receipted_amount
    if amount > room:
        raise ValidationError(
            {
                "amount": [
                    MSG_OVER_ORDER
                    % {
                        "amount": _money(amount),
                        "room": _money(max(room, ZERO)),
                        "total": _money(order.total),
                        "registered": _money(order.receipted_amount),
                    }
                ]
            }
        )
    if plan is not None:
        plan = ReceiptPlan.objects.select_for_update().filter(pk=plan.pk).first()
        if plan is None or plan.order_id != order.pk:
            raise ValidationError({"plan": [MSG_PLAN_OTHER_ORDER]})
        left = plan_room(plan)
        if amount > left:
            raise ValidationError(
                {
                    "amount": [
                        MSG_OVER_PLAN
                        % {
                            "amount": _money(amount),
                            "instalment": plan.instalment,
                            "room": _money(max(left, ZERO)),
                        }
                    ]
                }
            )
    elif order.receipt_plans.exists():
        left = unplanned_room(order)
        if left <= 0:
            raise ValidationError({"plan": [MSG_CHOOSE_PLAN]})
        if amount > left:
            raise ValidationError({"amount": [MSG_OVER_UNPLANNED % {"room": _money(left)}]})
    if method is None or method == "":
        method = plan.method if plan is not None else PayMethod.BANK
    status = ReceiptStatus.PENDING if _settings().receipt_approval else ReceiptStatus.CONFIRMED
    receipt = Receipt(
        number=next_number("HK", on=received_on),
        order=order,
        plan=plan,
        customer_id=order.customer_id,
        owner_id=order.owner_id,
        department_id=order.department_id,
        amount=amount,
        received_on=received_on,
        method=method,
        reference=(reference or "").strip(),
        notes=notes or "",
        status=status,
        created_by=actor,
        updated_by=actor,
    )
    receipt._history_user = actor
    receipt.full_clean()
    receipt.save()
    order.receipted_amount += amount
    if status == ReceiptStatus.CONFIRMED:
        order.received_amount += amount
    _save_order_amounts(order, actor)
    if status == ReceiptStatus.CONFIRMED:
        _apply_to_plan(receipt.plan_id, amount, actor)
        rollups.mark_receipt(receipt)
        _receipts_changed(order, actor)
    return receipt


@transaction.atomic
def receipt_approve(*, actor, receipt: Receipt) -> Receipt:
    """Finance confirms a pending receipt (the money is on the bank statement)."""
    require(actor, SalesPerm.APPROVE_RECEIPT)
    order, receipt = _lock_receipt(actor, receipt, SalesPerm.APPROVE_RECEIPT)
    if receipt.status != ReceiptStatus.PENDING:
        raise ValidationError(MSG_WRONG_STATE % {"status": receipt.get_status_display()})
    if receipt.created_by_id == actor.pk:
        raise PermissionDenied(MSG_OWN_RECEIPT)
    if order.status not in BOOKED:
        raise ValidationError(
            {"order": [MSG_ORDER_NOT_RECEIVABLE % {"status": order.get_status_display()}]}
        )
    receipt.status = ReceiptStatus.CONFIRMED
    receipt.decided_by = actor
    receipt.decided_at = timezone.now()
    receipt.updated_by = actor
    receipt._history_user = actor
    receipt.save()
    order.received_amount += receipt.amount
    _save_order_amounts(order, actor)
    _apply_to_plan(receipt.plan_id, receipt.amount, actor)
    rollups.mark_receipt(receipt)
    _receipts_changed(order, actor)
    return receipt


def _end(actor, receipt: Receipt, order: SalesOrder, status: str, reason: str) -> Receipt:
    was_confirmed = receipt.status == ReceiptStatus.CONFIRMED
    receipt.status = status
    receipt.reason = reason
    receipt.updated_by = actor
    receipt._history_user = actor
    receipt.full_clean()
    receipt.save()
    order.receipted_amount -= receipt.amount
    if was_confirmed:
        order.received_amount -= receipt.amount
    _save_order_amounts(order, actor)
    if was_confirmed:
        _apply_to_plan(receipt.plan_id, -receipt.amount, actor)
        rollups.mark_receipt(receipt)
        _receipts_changed(order, actor)
    return receipt


def _tell(receipt: Receipt, actor, title: str) -> None:
    notify(
        recipients=[
            user
            for user in (receipt.created_by, receipt.owner)
            if user is not None and user.pk != actor.pk
        ],
        title=title,
        body=receipt.reason,
        url=receipt.get_absolute_url(),
        kind="warning",
    )


@transaction.atomic
def receipt_reject(*, actor, receipt: Receipt, reason: str) -> Receipt:
    """Finance turns a pending receipt down (not on the statement, wrong order...)."""
    require(actor, SalesPerm.APPROVE_RECEIPT)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [MSG_REASON_REQUIRED]})
    order, receipt = _lock_receipt(actor, receipt, SalesPerm.APPROVE_RECEIPT)
    if receipt.status != ReceiptStatus.PENDING:
        raise ValidationError(MSG_WRONG_STATE % {"status": receipt.get_status_display()})
    if receipt.created_by_id == actor.pk:
        raise PermissionDenied(MSG_OWN_RECEIPT)
    receipt.decided_by = actor
    receipt.decided_at = timezone.now()
    _end(actor, receipt, order, ReceiptStatus.REJECTED, reason)
    _tell(
        receipt,
        actor,
        gettext("Receipt %(number)s was rejected") % {"number": receipt.number},
    )
    return receipt


def can_cancel(actor, receipt: Receipt) -> bool:
    """Finance may cancel any counting receipt it sees; whoever registered a receipt may
    cancel it while it waits for approval."""
    if receipt.status not in COUNTING:
        return False
    if actor.has_perm(SalesPerm.APPROVE_RECEIPT):
        return True
    return receipt.status == ReceiptStatus.PENDING and receipt.created_by_id == actor.pk


@transaction.atomic
def receipt_cancel(*, actor, receipt: Receipt, reason: str) -> Receipt:
    """Take back a receipt registered by mistake or a cheque that bounced."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [MSG_REASON_REQUIRED]})
    perm = (
        SalesPerm.APPROVE_RECEIPT
        if actor.has_perm(SalesPerm.APPROVE_RECEIPT)
        else SalesPerm.VIEW_RECEIPT
    )
    order, receipt = _lock_receipt(actor, receipt, perm)
    if receipt.status not in COUNTING:
        raise ValidationError(MSG_WRONG_STATE % {"status": receipt.get_status_display()})
    if not can_cancel(actor, receipt):
        raise PermissionDenied(MSG_CANCEL_NOT_ALLOWED)
    if order.status == OrderStatus.COMPLETED and receipt.status == ReceiptStatus.CONFIRMED:
        raise ValidationError(MSG_ORDER_COMPLETED)
    _end(actor, receipt, order, ReceiptStatus.CANCELLED, reason)
    if receipt.created_by_id != actor.pk:
        _tell(
            receipt,
            actor,
            gettext("Receipt %(number)s was cancelled") % {"number": receipt.number},
        )
    return receipt


# Receipt plans ----------------------------------------------------------------------------------


def _plan_rows(order: SalesOrder) -> list[dict[str, Any]]:
    return [
        {
            "id": plan.pk,
            "instalment": plan.instalment,
            "due_date": plan.due_date,
            "amount": plan.amount,
            "method": plan.method,
            "notes": plan.notes,
        }
        for plan in order.receipt_plans.order_by("instalment")
    ]


def _clean_plan_rows(order: SalesOrder, rows: list[dict]) -> list[dict]:
    """Check each row on its own; errors are keyed plans[N].field (N counts from 1)."""
    errors: dict[str, list] = {}
    cleaned: list[dict] = []
    seen: dict[int, int] = {}
    existing = {plan.pk: plan for plan in order.receipt_plans.all()}
    for index, raw in enumerate(rows, start=1):
        prefix = f"plans[{index}]."
        row = dict(raw)
        instalment = row.get("instalment")
        if not isinstance(instalment, int) or instalment < 1:
            errors[prefix + "instalment"] = [MSG_INSTALMENT_REQUIRED]
        elif instalment in seen:
            errors[prefix + "instalment"] = [MSG_INSTALMENT_TWICE % {"instalment": instalment}]
        else:
            seen[instalment] = index
        if row.get("due_date") is None:
            errors[prefix + "due_date"] = [MSG_DATE_REQUIRED]
        try:
            row["amount"] = _clean_amount(row.get("amount"))
        except ValidationError as exc:
            errors[prefix + "amount"] = exc.message_dict["amount"]
        method = row.get("method") or PayMethod.BANK
        if method not in PayMethod.values:
            errors[prefix + "method"] = [gettext("Choose one of the payment methods.")]
        row["method"] = method
        row["notes"] = (row.get("notes") or "").strip()
        plan_id = row.get("id")
        if plan_id and plan_id not in existing:
            errors[prefix + "id"] = [MSG_PLAN_NOT_FOUND]
        row["plan"] = existing.get(plan_id) if plan_id else None
        row["index"] = index
        cleaned.append(row)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _write_plans(actor, order: SalesOrder, rows: list[dict]) -> list[ReceiptPlan]:
    if order.status not in (*BOOKED, OrderStatus.DRAFT):
        raise ValidationError(
            {"order": [MSG_PLAN_ORDER_STATUS % {"status": order.get_status_display()}]}
        )
    rows = _clean_plan_rows(order, rows)
    existing = {plan.pk: plan for plan in order.receipt_plans.select_for_update()}
    kept = {row["plan"].pk for row in rows if row["plan"] is not None}
    errors: dict[str, list] = {}
    for plan in existing.values():
        if plan.pk not in kept and plan.receipts.exists():
            errors.setdefault("plans", []).append(
                MSG_PLAN_HAS_RECEIPTS % {"instalment": plan.instalment}
            )
    for row in rows:
        plan = row["plan"]
        if plan is None:
            continue
        registered = plan.received_amount + _pending_on_plan(plan)
        if row["amount"] < registered:
            errors[f"plans[{row['index']}].amount"] = [
                MSG_PLAN_BELOW_RECEIVED
                % {"instalment": row["instalment"], "received": _money(registered)}
            ]
    outside = unplanned_registered(order)
    room = order.total - outside
    planned = ZERO
    for row in sorted(rows, key=lambda r: r["instalment"]):
        planned += row["amount"]
        if planned > room:
            values = {
                "instalment": row["instalment"],
                "planned": _money(planned),
                "total": _money(order.total),
                "room": _money(room),
                "unplanned": _money(outside),
            }
            message = MSG_PLANS_OVER_ROOM if outside else MSG_PLANS_OVER_TOTAL
            errors.setdefault(f"plans[{row['index']}].amount", []).append(message % values)
            break
    if errors:
        raise ValidationError(errors)
    for plan in existing.values():
        if plan.pk not in kept:
            plan._history_user = actor
            plan.delete()
    # Instalment numbers may swap between rows: park the moved rows first (unique per order).
    moved = [row for row in rows if row["plan"] and row["plan"].instalment != row["instalment"]]
    for offset, row in enumerate(moved):
        ReceiptPlan.objects.filter(pk=row["plan"].pk).update(instalment=30000 + offset)
    saved = []
    for row in sorted(rows, key=lambda r: r["instalment"]):
        plan = row["plan"]
        if plan is None:
            plan = ReceiptPlan(order=order, created_by=actor)
        else:
            plan.refresh_from_db()
        plan.instalment = row["instalment"]
        plan.due_date = row["due_date"]
        plan.amount = row["amount"]
        plan.method = row["method"]
        plan.notes = row["notes"]
        plan.updated_by = actor
        plan._history_user = actor
        plan.full_clean(exclude=["order"], validate_unique=False)
        plan.save()
        saved.append(plan)
    return saved


@transaction.atomic
def receipt_plans_set(*, actor, order: SalesOrder, plans: list[dict]) -> list[ReceiptPlan]:
    """Replace the order's plan with `plans`: [{id?, instalment, due_date, amount, method,
    notes}]; rows without an id are new, existing rows left out are removed."""
    require(actor, SalesPerm.ADD_RECEIPT)
    order = _lock_order(actor, order, SalesPerm.ADD_RECEIPT)
    return _write_plans(actor, order, plans)


def _single(exc: ValidationError) -> ValidationError:
    """Errors of the plan list (plans[N].field) as the field errors of one plan."""
    if not hasattr(exc, "error_dict"):
        return exc
    fields: dict[str, list] = {}
    for key, messages in exc.message_dict.items():
        name = key.split("].", 1)[1] if key.startswith("plans[") and "]." in key else key
        name = "amount" if name == "plans" else name
        fields.setdefault(name, []).extend(messages)
    return ValidationError(fields)


@transaction.atomic
def receipt_plan_create(
    *,
    actor,
    order: SalesOrder,
    due_date: datetime.date,
    amount: Decimal,
    instalment: int | None = None,
    method: str = PayMethod.BANK,
    notes: str = "",
) -> ReceiptPlan:
    require(actor, SalesPerm.ADD_RECEIPT)
    order = _lock_order(actor, order, SalesPerm.ADD_RECEIPT)
    rows = _plan_rows(order)
    if instalment is None:
        instalment = max((row["instalment"] for row in rows), default=0) + 1
    rows.append(
        {
            "instalment": instalment,
            "due_date": due_date,
            "amount": amount,
            "method": method,
            "notes": notes,
        }
    )
    try:
        saved = _write_plans(actor, order, rows)
    except ValidationError as exc:
        raise _single(exc) from exc
    return next(plan for plan in saved if plan.instalment == instalment)


@transaction.atomic
def receipt_plan_update(*, actor, plan: ReceiptPlan, **fields) -> ReceiptPlan:
    """Change one instalment (instalment, due_date, amount, method, notes)."""
    require(actor, SalesPerm.ADD_RECEIPT)
    order = _lock_order(actor, plan.order, SalesPerm.ADD_RECEIPT)
    rows = _plan_rows(order)
    index = next((i for i, row in enumerate(rows) if row["id"] == plan.pk), None)
    if index is None:
        raise ValidationError({"id": [MSG_PLAN_NOT_FOUND]})
    for name in ("instalment", "due_date", "amount", "method", "notes"):
        if name in fields:
            rows[index][name] = fields[name]
    try:
        _write_plans(actor, order, rows)
    except ValidationError as exc:
        raise _single(exc) from exc
    return ReceiptPlan.objects.get(pk=plan.pk)


@transaction.atomic
def receipt_plan_delete(*, actor, plan: ReceiptPlan) -> None:
    require(actor, SalesPerm.ADD_RECEIPT)
    order = _lock_order(actor, plan.order, SalesPerm.ADD_RECEIPT)
    rows = [row for row in _plan_rows(order) if row["id"] != plan.pk]
    try:
        _write_plans(actor, order, rows)
    except ValidationError as exc:
        raise _single(exc) from exc


# Credit limits --------------------------------------------------------------------------------

_UNSET: Any = object()


@transaction.atomic
def customer_account_update(
    *, actor, customer: Customer, credit_limit: Any = _UNSET, channel_tier: Any = _UNSET
) -> CustomerAccount:
    """Set a customer's credit limit (None: no limit) and channel tier; finance and the
    marketing manager (CHANGE_CREDIT), for customers in their scope."""
    require(actor, SalesPerm.CHANGE_CREDIT)
    visible = scoped(
        Customer.objects.filter(pk=customer.pk), actor=actor, perm=SalesPerm.CHANGE_CREDIT
    )
    if not visible.exists():
        raise PermissionDenied(MSG_CUSTOMER_OUT_OF_SCOPE)
    account = account_for(customer, lock=True)
    if credit_limit is not _UNSET:
        if credit_limit in (None, ""):
            account.credit_limit = None
        else:
            try:
                limit = Decimal(str(credit_limit))
            except ArithmeticError as exc:
                raise ValidationError({"credit_limit": [MSG_NOT_NEGATIVE]}) from exc
            if not limit.is_finite() or limit < 0:
                raise ValidationError({"credit_limit": [MSG_NOT_NEGATIVE]})
            if limit != limit.quantize(CENT):
                raise ValidationError({"credit_limit": [MSG_CENTS]})
            account.credit_limit = limit.quantize(CENT)
    if channel_tier is not _UNSET:
        if channel_tier not in ChannelTier.values:
            raise ValidationError({"channel_tier": [MSG_TIER]})
        account.channel_tier = channel_tier
    account._history_user = actor
    account.full_clean()
    account.save()
    return account
