"""What the opportunities part of sales plugs into the registries: document numbers (SJ), the
record type for attachments and the timeline, navigation, the customer 360 panel and the
owner-change hook (crm), the handover (org), workbench reminders and global search."""

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
from marketdesk.crm.registry import (
    CustomerPanel,
    register_customer_panel,
    register_owner_change_hook,
)
from marketdesk.org.handover import HandoverTarget, register_handover

from .. import selectors_opportunities as selectors
from ..models import Opportunity
from ..permissions import SalesPerm
from ..services import opportunities as services

register_sequence(SequenceDefault(services.SEQUENCE, "Opportunity", "SJ", padding=5))

register_record_type(
    RecordType(
        model=Opportunity,
        visible=lambda actor: selectors.opportunity_list(actor=actor),
        editable=lambda actor, record: selectors.can_edit_opportunity(
            actor=actor, opportunity=record
        ),
    )
)

# Navigation ---------------------------------------------------------------------------------------

GROUP = _("Sales")
for item in [
    NavItem(
        "sales.opportunities",
        _("Opportunities"),
        "sales:opportunity_list",
        "lightbulb",
        SalesPerm.VIEW_OPPORTUNITY,
        GROUP,
        310,
    ),
    NavItem(
        "sales.opportunity_board",
        _("Opportunity board"),
        "sales:opportunity_board",
        "kanban",
        SalesPerm.VIEW_OPPORTUNITY,
        GROUP,
        311,
    ),
    NavItem(
        "sales.opportunity_funnel",
        _("Sales funnel"),
        "sales:opportunity_funnel",
        "funnel",
        SalesPerm.VIEW_OPPORTUNITY,
        GROUP,
        312,
    ),
    NavItem(
        "sales.competitors",
        _("Competitors"),
        "sales:competitor_list",
        "people",
        SalesPerm.VIEW_OPPORTUNITY,
        GROUP,
        318,
    ),
    NavItem(
        "sales.stage_groups",
        _("Sales stages"),
        "sales:stage_group_list",
        "list-ol",
        SalesPerm.CHANGE_STAGE_GROUP,
        GROUP,
        319,
    ),
]:
    register_nav(item)


# The customer 360 page and customer transfers (crm) ----------------------------------------------


def _customer_panel(actor, customer) -> str:
    opportunities = list(selectors.opportunities_for_customer(actor=actor, customer=customer)[:30])
    can_add = actor.has_perm(SalesPerm.ADD_OPPORTUNITY) and selectors.customer_usable(
        actor=actor, customer=customer
    )
    if not opportunities and not can_add:
        return ""
    return render_to_string(
        "sales/opportunities/_customer_panel.html",
        {"opportunities": opportunities, "customer": customer, "can_add": can_add},
    )


register_customer_panel(
    CustomerPanel(
        key="sales.opportunities",
        label=_("Opportunities"),
        render=_customer_panel,
        order=20,
        permission=SalesPerm.VIEW_OPPORTUNITY,
    )
)
register_owner_change_hook("sales.opportunities", services.opportunities_follow_customer)
register_handover(
    HandoverTarget("sales_opportunities", _("Open opportunities"), services.opportunities_handover)
)


# Workbench ----------------------------------------------------------------------------------------


def _todos(actor):
    if not actor.has_perm(SalesPerm.ADD_OPPORTUNITY):
        return
    closing = selectors.closing(actor=actor)
    base = reverse("sales:opportunity_list") + "?scene=mine&status=open"
    overdue = closing["overdue"].count()
    if overdue:
        yield TodoItem(
            "sales.opportunities_overdue",
            _("Opportunities past their expected close date"),
            overdue,
            base + "&sort=close",
            "danger",
        )
    this_week = closing["this_week"].count()
    if this_week:
        yield TodoItem(
            "sales.opportunities_this_week",
            _("Opportunities closing this week"),
            this_week,
            base + "&sort=close",
            "warning",
        )


register_todo_provider(_todos)


# Global search ------------------------------------------------------------------------------------


def _search(actor, text: str, limit: int):
    text = text.strip()
    if not text or not actor.has_perm(SalesPerm.VIEW_OPPORTUNITY):
        return
    found = selectors.opportunity_list(actor=actor).filter(
        Q(number__icontains=text) | Q(name__icontains=text)
    )
    for opportunity in found.order_by("-pk")[:limit]:
        yield SearchHit(
            kind=_("Opportunity"),
            title=f"{opportunity.number} {opportunity.name}",
            subtitle=(
                f"{opportunity.customer.name} · {opportunity.stage.name} · "
                f"¥{opportunity.expected_amount:,.2f} · {opportunity.get_status_display()}"
            ),
            url=opportunity.get_absolute_url(),
        )


register_search_provider(_search)
