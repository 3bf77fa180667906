"""What the orders part of sales plugs into the registries: the approval document, document
numbers, navigation, record types (files, comments, timeline), workbench to-dos, global search,
the customer 360 panel, the owner-change and handover hooks, and the daily delivery alerts."""

from __future__ import annotations

import datetime

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketdesk.approvals.registry import ApprovalDocument, register_document
from marketdesk.core.jobs import Job, register_job
from marketdesk.core.numbering import SequenceDefault, register_sequence
from marketdesk.core.registry import (
    NavItem,
    RecordType,
    SearchHit,
    TodoItem,
    register_nav,
    register_record_type,
    register_search_provider,
    register_todo_provider,
)
from marketdesk.crm.registry import (
    CustomerPanel,
    register_customer_panel,
    register_owner_change_hook,
)
from marketdesk.org.handover import HandoverTarget, register_handover

from .. import selectors_orders as selectors
from ..models import CoordinationTask, Delivery, OrderStatus, SalesOrder
from ..permissions import SalesPerm
from ..services import orders as services

register_sequence(SequenceDefault("XS", "Sales order", "XS", padding=5))
register_sequence(SequenceDefault("FH", "Delivery", "FH", padding=5))


def _money(value) -> str:
    return f"¥{value:,.2f}" if value is not None else "—"


# Approval ---------------------------------------------------------------------------------------


def _category(order: SalesOrder) -> str:
    """Flows may route by why approval is needed: the discount, or only the amount."""
    from ..pricing import max_discount_for

    return "discount" if order.max_discount > max_discount_for(order.owner) else "amount"


def _lines(order: SalesOrder) -> list[tuple]:
    rows = [
        (_("Order no."), order.number),
        (_("Customer"), order.customer.name),
        (_("Total"), _money(order.total)),
        (_("Amount at list prices"), _money(order.list_amount)),
        (_("Largest line discount (%)"), f"{order.max_discount}"),
        (_("Why approval is needed"), order.approval_reasons or "—"),
        (_("Promised delivery date"), order.promised_date),
        (_("Payment terms"), order.get_payment_terms_display()),
    ]
    if order.credit_warning:
        rows.append((_("Credit warning"), order.credit_warning))
    for line in order.lines.select_related("product").order_by("line_no")[:10]:
        rows.append(
            (
                f"{line.line_no}. {line.product.name}",
                f"{line.quantity.normalize():f} × {_money(line.unit_price)} − {line.discount}% "
                f"= {_money(line.amount)}",
            )
        )
    return rows


register_document(
    ApprovalDocument(
        key="sales.order",
        label=_("Sales order"),
        model=SalesOrder,
        title=lambda doc: f"{doc.number} {doc.customer.name} {_money(doc.total)}",
        amount=lambda doc: doc.total,
        department=lambda doc: doc.department,
        submitter=lambda doc: doc.owner,
        category=_category,
        lines=_lines,
        snapshot=lambda doc: {
            "total": str(doc.total),
            "max_discount": str(doc.max_discount),
            "lines": [
                [line.product_id, str(line.quantity), str(line.unit_price), str(line.discount)]
                for line in doc.lines.order_by("line_no")
            ],
        },
        on_approved=services.order_on_approved,
        on_rejected=services.order_on_ended,
        on_returned=services.order_on_ended,
        on_withdrawn=services.order_on_ended,
        categories=[
            ("discount", _("Discount above the salesperson's authority")),
            ("amount", _("Amount above the approval threshold")),
        ],
    )
)

# Files (the signed contract), comments and the timeline ----------------------------------------------


def _order_editable(actor, order: SalesOrder) -> bool:
    """The owner and the confirmers of the area add files (the signed contract) until the order
    is closed."""
    if order.status in (OrderStatus.CANCELLED,):
        return False
    if order.owner_id == actor.pk:
        return True
    return actor.has_perm(SalesPerm.CONFIRM_ORDER) and services._in_scope(actor, order)


register_record_type(
    RecordType(
        model=SalesOrder,
        visible=lambda actor: selectors.order_list(actor=actor),
        editable=_order_editable,
    )
)
register_record_type(
    RecordType(
        model=CoordinationTask,
        visible=lambda actor: selectors.task_list(actor=actor),
        editable=lambda actor, task: selectors.can_change_task(actor=actor, task=task),
    )
)
register_record_type(
    RecordType(
        model=Delivery,
        visible=lambda actor: selectors.delivery_list(actor=actor),
        editable=lambda actor, delivery: (
            delivery.order.owner_id == actor.pk
            or (
                actor.has_perm(SalesPerm.ADD_DELIVERY)
                and selectors.delivery_list(actor=actor).filter(pk=delivery.pk).exists()
            )
        ),
    )
)

# Navigation ------------------------------------------------------------------------------------------

GROUP = _("Sales")
for item in [
    NavItem(
        "sales.orders",
        _("Orders"),
        "sales:order_list",
        "file-earmark-text",
        SalesPerm.VIEW_ORDER,
        GROUP,
        320,
    ),
    NavItem(
        "sales.tasks",
        _("Coordination tasks"),
        "sales:task_list",
        "list-check",
        SalesPerm.VIEW_TASK,
        GROUP,
        321,
    ),
    NavItem(
        "sales.deliveries",
        _("Deliveries"),
        "sales:delivery_list",
        "truck",
        SalesPerm.VIEW_DELIVERY,
        GROUP,
        322,
    ),
    NavItem(
        "sales.on_time",
        _("On-time delivery"),
        "sales:on_time",
        "stopwatch",
        SalesPerm.VIEW_ORDER,
        GROUP,
        323,
    ),
]:
    register_nav(item)


# Workbench ---------------------------------------------------------------------------------------------


def _todos(actor):
    if actor.has_perm(SalesPerm.ADD_ORDER) or actor.has_perm(SalesPerm.CONFIRM_ORDER):
        waiting = selectors.orders_waiting_for(actor=actor)
        count = waiting.count()
        yield TodoItem(
            "sales.orders_waiting",
            _("Orders waiting for my action"),
            count,
            reverse("sales:order_list") + "?scene=waiting",
            "primary" if count else "secondary",
            items=[
                {"label": f"{o.number} {o.customer.name}", "url": o.get_absolute_url()}
                for o in waiting.order_by("promised_date")[:5]
            ],
        )
    if actor.has_perm(SalesPerm.CHANGE_TASK):
        due = selectors.tasks_due(actor=actor)
        count = due.count()
        if count or not actor.has_perm(SalesPerm.ADD_ORDER):  # coordinators always see it
            yield TodoItem(
                "sales.tasks_due",
                _("My coordination tasks due"),
                count,
                reverse("sales:task_list") + "?mine=true&due=soon",
                "warning" if count else "secondary",
                items=[
                    {
                        "label": f"{t.order.number} · {t.get_kind_display()} · {t.due_date}",
                        "url": t.get_absolute_url(),
                    }
                    for t in due.order_by("due_date")[:5]
                ],
            )
    if actor.has_perm(SalesPerm.VIEW_ORDER):
        from ..pricing import settings_row

        slipping = selectors.orders_slipping(actor=actor, days=settings_row().delivery_alert_days)
        count = slipping.count()
        if count:
            yield TodoItem(
                "sales.slipping",
                _("Deliveries slipping"),
                count,
                reverse("sales:order_list") + "?scene=open&sort=promised",
                "danger",
                items=[
                    {"label": f"{o.number} · {o.promised_date}", "url": o.get_absolute_url()}
                    for o in slipping.order_by("promised_date")[:5]
                ],
            )


register_todo_provider(_todos)


# Global search --------------------------------------------------------------------------------------


def _search(actor, text: str, limit: int):
    text = text.strip()
    if len(text) < 2 or not actor.has_perm(SalesPerm.VIEW_ORDER):
        return
    for order in selectors.order_list(actor=actor).filter(number__icontains=text)[:limit]:
        yield SearchHit(
            kind=_("Sales order"),
            title=f"{order.number} {order.title}".strip(),
            subtitle=f"{order.customer.name} · {order.owner} · ¥{order.total:,.2f} · "
            f"{order.get_status_display()}",
            url=order.get_absolute_url(),
        )
    deliveries = selectors.delivery_list(actor=actor).filter(number__icontains=text)
    for delivery in deliveries[:limit]:
        yield SearchHit(
            kind=_("Delivery"),
            title=delivery.number,
            subtitle=f"{delivery.order.number} · {delivery.order.customer.name}",
            url=delivery.get_absolute_url(),
        )


register_search_provider(_search)


# The customer 360 page: purchase history ----------------------------------------------------------


def _customer_panel(actor, customer) -> str:
    orders = selectors.customer_orders(actor=actor, customer=customer)
    return render_to_string(
        "sales/orders/_customer_panel.html",
        {
            "customer": customer,
            "orders": list(orders.order_by("-order_date", "-pk")[:20]),
            "summary": selectors.customer_summary(actor=actor, customer=customer),
            "products": selectors.customer_products(actor=actor, customer=customer),
            "can_add": actor.has_perm(SalesPerm.ADD_ORDER),
            "more": orders.count() > 20,
        },
    )


register_customer_panel(
    CustomerPanel(
        "sales.orders",
        _("Orders / purchase history"),
        _customer_panel,
        order=20,
        permission=SalesPerm.VIEW_ORDER,
    )
)
register_owner_change_hook("sales.orders", services.orders_transfer)
register_handover(HandoverTarget("sales.orders", _("Open sales orders"), services.orders_handover))

register_job(
    Job(
        "sales.delivery_alerts",
        lambda: services.delivery_alerts(),
        daily_at=datetime.time(7, 30),
        description="Tell salespeople and their leaders about deliveries due soon or late",
    )
)
