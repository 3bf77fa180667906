"""What the receipts part of sales plugs into the registries: the receipt number (HK), the
side bar, the customer 360 panel "Receivables and credit", workbench to-dos, global search,
and the record type that gives receipts a timeline and attachments (bank slips).

Receipt approval is not an approval-engine document: when `SalesSettings.receipt_approval`
is on, a receipt waits as `pending` until someone with APPROVE_RECEIPT (finance) approves or
rejects it on the receipt page (services/receipts.py says why)."""

from __future__ import annotations

from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
from marketdesk.crm.registry import CustomerPanel, register_customer_panel

from .. import selectors_receipts as selectors
from ..models import Receipt, SalesSettings
from ..permissions import SalesPerm

register_sequence(SequenceDefault("HK", "Receipt", "HK", padding=5))

# Timeline and attachments (bank slips, cheque scans) on every receipt ---------------------------

register_record_type(
    RecordType(
        model=Receipt,
        visible=lambda actor: selectors.receipt_list(actor=actor),
        editable=lambda actor, record: (
            record.created_by_id == actor.pk or actor.has_perm(SalesPerm.APPROVE_RECEIPT)
        ),
    )
)

# Navigation ---------------------------------------------------------------------------------------

GROUP = _("Sales")
for item in [
    NavItem(
        "sales.receipts",
        _("Receipts"),
        "sales:receipt_list",
        "cash-coin",
        SalesPerm.VIEW_RECEIPT,
        GROUP,
        330,
    ),
    NavItem(
        "sales.aging",
        _("Receivables aging"),
        "sales:aging",
        "hourglass-split",
        SalesPerm.VIEW_RECEIPT,
        GROUP,
        331,
    ),
    NavItem(
        "sales.credit",
        _("Credit limits"),
        "sales:credit",
        "shield-check",
        SalesPerm.VIEW_RECEIPT,
        GROUP,
        332,
    ),
]:
    register_nav(item)


# The customer 360 page ----------------------------------------------------------------------------


def _customer_panel(actor, customer) -> str:
    context = selectors.customer_receivables(actor=actor, customer=customer)
    context["customer"] = customer
    context["can_change_credit"] = selectors.can_change_credit(actor=actor, customer=customer)
    return render_to_string("sales/receipts/_customer_panel.html", context)


register_customer_panel(
    CustomerPanel(
        key="sales.receivables",
        label=_("Receivables and credit"),
        render=_customer_panel,
        order=330,
        permission=SalesPerm.VIEW_RECEIPT,
    )
)


# Workbench ----------------------------------------------------------------------------------------


def _todos(actor):
    if actor.has_perm(SalesPerm.APPROVE_RECEIPT) and (
        SalesSettings.objects.filter(pk=1, receipt_approval=True).exists()
        or selectors.pending_receipts(actor=actor).exists()
    ):
        count = selectors.pending_receipts(actor=actor).count()
        yield TodoItem(
            "sales.receipts_pending",
            _("Receipts waiting for approval"),
            count,
            reverse("sales:receipt_list") + "?status=pending",
            "warning" if count else "secondary",
        )
    if actor.has_perm(SalesPerm.VIEW_RECEIPT):
        count = selectors.overdue_count(actor=actor)
        if count:
            oldest = selectors.instalments(
                actor=actor, overdue_only=True, owner_only=actor
            ).order_by("row_due", "row_order_id")[:3]
            yield TodoItem(
                "sales.overdue_instalments",
                _("My overdue instalments"),
                count,
                reverse("sales:aging") + "?by=instalment&mine=1&overdue=1",
                "danger",
                items=[
                    {
                        "label": f"{row['row_order_number']} · {row['row_due']} · "
                        f"¥{row['row_outstanding']:,.2f}"
                    }
                    for row in oldest
                ],
            )


register_todo_provider(_todos)


# Global search: receipt number or bank reference ------------------------------------------------


def _search(actor, text: str, limit: int):
    text = text.strip()
    if len(text) < 2 or not actor.has_perm(SalesPerm.VIEW_RECEIPT):
        return
    rows = selectors.receipt_list(actor=actor).filter(
        Q(number__icontains=text) | Q(reference__icontains=text)
    )
    for receipt in rows.order_by("-received_on", "-pk")[:limit]:
        yield SearchHit(
            kind=_("Receipt"),
            title=f"{receipt.number} {receipt.customer}",
            subtitle=(
                f"{receipt.order.number} · ¥{receipt.amount:,.2f} · {receipt.received_on}"
                + (f" · {receipt.reference}" if receipt.reference else "")
                + f" · {receipt.get_status_display()}"
            ),
            url=receipt.get_absolute_url(),
        )


register_search_provider(_search)
