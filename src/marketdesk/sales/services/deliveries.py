"""Deliveries (发货) of confirmed orders, partial or whole, signed for by the customer (R4.2.2).

A delivery takes quantities per order line, never more than is still open: the order row and
its lines are locked first (`select_for_update`; on SQLite the IMMEDIATE transaction serialises
writers), so two deliveries entered at once cannot ship the same goods twice. The order follows:
partly shipped, shipped, and delivered once every delivery is signed for, with the delivery
date and whether it met the promised date."""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.core.notifications import notify
from marketdesk.core.numbering import next_number

from .. import selectors_orders as selectors
from ..models import (
    CoordinationTask,
    Delivery,
    DeliveryLine,
    DeliveryStatus,
    OrderLine,
    OrderStatus,
    SalesOrder,
    TaskKind,
    TaskStatus,
)
from ..permissions import SalesPerm
from .orders import (
    MSG_NO_PERMISSION,
    MSG_NOT_IN_SCOPE,
    _decimal,
    _lock,
    _places_ok,
    _save,
    _set_task,
    _validate,
    _wrong_state,
    order_settle,
)

MSG_NO_QUANTITY = _("Enter the quantity shipped for at least one line.")
MSG_NOT_A_LINE = _("This is not a line of the order.")
MSG_SHIP_QUANTITY = _(
    "Line %(line)s: the quantity must be a positive number with at most 2 decimal places."
)
MSG_OVER_SHIP = _("Line %(line)s: only %(open)s %(unit)s are still to ship.")
MSG_SHIPPED_BEFORE_ORDER = _("The shipping date cannot be before the order date (%(date)s).")
MSG_FUTURE = _("The date cannot be in the future.")
MSG_SIGNED_BEFORE_SHIPPED = _("The signing date cannot be before the shipping date (%(date)s).")
MSG_DELIVERY_STATE = _("The delivery is %(status)s; this cannot be done now.")
MSG_CANCEL_REASON = _("Give the reason for cancelling the delivery.")


def _lines_for_update(order: SalesOrder) -> dict[int, OrderLine]:
    return {
        line.pk: line
        for line in OrderLine.objects.select_for_update()
        .select_related("product")
        .filter(order=order)
        .order_by("line_no")
    }


def _tasks(order: SalesOrder, kind: str):
    return CoordinationTask.objects.select_for_update().filter(order=order, kind=kind)


def _after_shipping(order: SalesOrder, actor) -> None:
    """Logistics is under way with the first delivery; everything shipped ends both tasks."""
    shipped = order.status == OrderStatus.SHIPPED
    for task in _tasks(order, TaskKind.LOGISTICS).filter(status__in=selectors.OPEN_TASK):
        if shipped:
            _set_task(task, TaskStatus.DONE, actor)
        elif task.status == TaskStatus.OPEN:
            _set_task(task, TaskStatus.IN_PROGRESS, actor)
    if shipped:
        for task in _tasks(order, TaskKind.PRODUCTION).filter(status__in=selectors.OPEN_TASK):
            _set_task(task, TaskStatus.DONE, actor)


@transaction.atomic
def delivery_create(
    *,
    actor,
    order: SalesOrder,
    quantities: dict,
    shipped_on: datetime.date | None = None,
    carrier: str = "",
    shipment_no: str = "",
    notes: str = "",
) -> Delivery:
    """Ship `quantities` ({order line id: quantity}; lines left out or 0 are not in this
    delivery) of an order the actor may see. Each is at most the line's open quantity."""
    if not actor.has_perm(SalesPerm.ADD_DELIVERY):
        raise PermissionDenied(MSG_NO_PERMISSION)
    if not selectors.order_list(actor=actor).filter(pk=order.pk).exists():
        raise PermissionDenied(MSG_NOT_IN_SCOPE)
    order = _lock(order)
    if order.status not in selectors.SHIPPABLE:
        raise _wrong_state(order)
    lines = _lines_for_update(order)
    errors: dict[str, list] = {}
    rows: list[tuple[OrderLine, Decimal]] = []
    for key, value in (quantities or {}).items():
        line = lines.get(int(key)) if str(key).isdigit() else None
        if line is None:
            errors.setdefault("lines", []).append(MSG_NOT_A_LINE)
            continue
        if value in (None, ""):
            continue
        quantity = _decimal(value)
        field = f"lines[{line.line_no}].quantity"
        if quantity is None or quantity < 0 or not _places_ok(quantity):
            errors.setdefault(field, []).append(MSG_SHIP_QUANTITY % {"line": line.line_no})
            continue
        if quantity == 0:
            continue
        if quantity > line.open_quantity:
            errors.setdefault(field, []).append(
                MSG_OVER_SHIP
                % {
                    "line": line.line_no,
                    "open": f"{line.open_quantity.normalize():f}",
                    "unit": line.product.unit,
                }
            )
            continue
        rows.append((line, quantity))
    today = timezone.localdate()
    shipped_on = shipped_on or today
    if shipped_on < order.order_date:
        errors.setdefault("shipped_on", []).append(
            MSG_SHIPPED_BEFORE_ORDER % {"date": order.order_date}
        )
    elif shipped_on > today:
        errors.setdefault("shipped_on", []).append(MSG_FUTURE)
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError({"lines": [MSG_NO_QUANTITY]})
    delivery = Delivery(
        number=next_number("FH"),
        order=order,
        carrier=(carrier or "").strip()[:60],
        shipment_no=(shipment_no or "").strip()[:60],
        shipped_on=shipped_on,
        notes=(notes or "").strip(),
        created_by=actor,
        updated_by=actor,
    )
    delivery._history_user = actor
    _validate(delivery)
    delivery.save()
    DeliveryLine.objects.bulk_create(
        [DeliveryLine(delivery=delivery, order_line=line, quantity=qty) for line, qty in rows]
    )
    for line, quantity in rows:
        line.delivered_quantity += quantity
        line.save(update_fields=["delivered_quantity"])
    before = copy.copy(order)
    done = all(line.delivered_quantity >= line.quantity for line in lines.values())
    order.status = OrderStatus.SHIPPED if done else OrderStatus.PARTLY_SHIPPED
    _save(order, actor, before)
    _after_shipping(order, actor)
    if actor.pk != order.owner_id:
        notify(
            recipients=[order.owner],
            title=gettext("%(number)s shipped: %(delivery)s")
            % {"number": order.number, "delivery": delivery.number},
            body=" ".join(filter(None, [delivery.carrier, delivery.shipment_no])),
            url=delivery.get_absolute_url(),
            kind="sales.delivery",
        )
    return delivery


def _delivery_for_update(delivery: Delivery) -> tuple[SalesOrder, Delivery]:
    order = _lock(delivery.order)
    return order, Delivery.objects.select_for_update().get(pk=delivery.pk)


@transaction.atomic
def delivery_sign(
    *,
    actor,
    delivery: Delivery,
    signed_on: datetime.date | None = None,
    signed_by: str = "",
) -> Delivery:
    """The customer signed for a delivery (签收). When the order is fully shipped and every
    delivery is signed for, the order is delivered: delivered on the last signing date, on
    time when that is not after the promised date."""
    if not selectors.can_sign(actor=actor, delivery=delivery):
        raise PermissionDenied(MSG_NO_PERMISSION)
    order, delivery = _delivery_for_update(delivery)
    if delivery.status != DeliveryStatus.SHIPPED:
        raise ValidationError(MSG_DELIVERY_STATE % {"status": delivery.get_status_display()})
    signed_on = signed_on or timezone.localdate()
    if signed_on < delivery.shipped_on:
        raise ValidationError(
            {"signed_on": [MSG_SIGNED_BEFORE_SHIPPED % {"date": delivery.shipped_on}]}
        )
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": [MSG_FUTURE]})
    delivery.status = DeliveryStatus.SIGNED
    delivery.signed_on = signed_on
    delivery.signed_by = (signed_by or "").strip()[:60]
    delivery.updated_by = actor
    delivery._history_user = actor
    _validate(delivery)
    delivery.save()
    _maybe_delivered(order, actor)
    return delivery


def _maybe_delivered(order: SalesOrder, actor) -> None:
    if order.status != OrderStatus.SHIPPED:
        return
    active = order.deliveries.exclude(status=DeliveryStatus.CANCELLED)
    if active.filter(status=DeliveryStatus.SHIPPED).exists():
        return
    before = copy.copy(order)
    order.delivered_on = active.aggregate(last=Max("signed_on"))["last"]
    order.on_time = order.delivered_on <= order.promised_date
    order.status = OrderStatus.DELIVERED
    _save(order, actor, before)
    notify(
        recipients=[order.owner],
        title=gettext("Order %(number)s delivered on %(date)s")
        % {"number": order.number, "date": order.delivered_on},
        url=order.get_absolute_url(),
        kind="sales.order_delivered",
    )
    order_settle(order, actor)


@transaction.atomic
def delivery_cancel(*, actor, delivery: Delivery, reason: str) -> Delivery:
    """Cancel a delivery not yet signed for (entered by mistake, or sent back before signing):
    its quantities are open again and the order steps back."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [MSG_CANCEL_REASON]})
    if not actor.has_perm(SalesPerm.ADD_DELIVERY):
        raise PermissionDenied(MSG_NO_PERMISSION)
    if not selectors.order_list(actor=actor).filter(pk=delivery.order_id).exists():
        raise PermissionDenied(MSG_NOT_IN_SCOPE)
    order, delivery = _delivery_for_update(delivery)
    if delivery.status != DeliveryStatus.SHIPPED:
        raise ValidationError(MSG_DELIVERY_STATE % {"status": delivery.get_status_display()})
    lines = _lines_for_update(order)
    for row in delivery.lines.all():
        line = lines[row.order_line_id]
        line.delivered_quantity -= row.quantity
        line.save(update_fields=["delivered_quantity"])
    delivery.status = DeliveryStatus.CANCELLED
    delivery.notes = "\n".join(
        filter(None, [delivery.notes, gettext("Cancelled: %(reason)s") % {"reason": reason}])
    )
    delivery.updated_by = actor
    delivery._history_user = actor
    delivery.save()
    before = copy.copy(order)
    shipped_any = any(line.delivered_quantity > 0 for line in lines.values())
    order.status = OrderStatus.PARTLY_SHIPPED if shipped_any else OrderStatus.READY
    _save(order, actor, before)
    for task in _tasks(order, TaskKind.LOGISTICS).filter(status=TaskStatus.DONE):
        _set_task(task, TaskStatus.IN_PROGRESS, actor)
    return delivery
