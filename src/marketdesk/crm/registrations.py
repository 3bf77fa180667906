"""What the CRM app plugs into the registries of core, org and approvals."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketdesk.approvals.registry import ApprovalDocument, register_document
from marketdesk.core.jobs import Job, register_job
from marketdesk.core.metrics import CUSTOMERS_WON, register_metric
from marketdesk.core.numbering import SequenceDefault, register_sequence
from marketdesk.core.registry import (
    NavItem,
    RecordType,
    SearchHit,
    TodoItem,
    register_nav,
    register_record_type,
    register_search_provider,
    register_timeline_provider,
    register_todo_provider,
)
from marketdesk.org.handover import HandoverTarget, register_handover
from marketdesk.org.models import DataScope
from marketdesk.org.roles import grant, grant_scope

from . import demo, imports, selectors, services  # noqa: F401  (demo and imports register)
from .models import (
    Customer,
    CustomerExportRequest,
    ExportRequestStatus,
    FollowUp,
    Revisit,
    RevisitStatus,
)
from .permissions import CrmPerm

register_sequence(SequenceDefault("CUS", "Customer", "C", reset="never", padding=7))
register_sequence(SequenceDefault("CEX", "Customer export request", "CEX"))

# Record types: attachments, comments and activities on customers, follow-ups and revisits.
register_record_type(
    RecordType(
        model=Customer,
        visible=lambda actor: selectors.customer_list(actor),
        editable=lambda actor, record: selectors.can_edit_customer(actor=actor, customer=record),
    )
)
register_record_type(
    RecordType(
        model=FollowUp,
        visible=lambda actor: selectors.follow_up_list(actor=actor),
        editable=lambda actor, record: record.user_id == actor.pk,
    )
)
register_record_type(
    RecordType(
        model=Revisit,
        visible=lambda actor: selectors.revisit_list(actor=actor),
        editable=lambda actor, record: (
            record.assignee_id == actor.pk or actor.has_perm(CrmPerm.CHANGE_REVISIT)
        ),
    )
)
register_record_type(
    RecordType(
        model=CustomerExportRequest,
        visible=lambda actor: selectors.export_request_list(actor=actor),
        editable=lambda actor, record: record.requester_id == actor.pk,
    )
)

GROUP = _("Customers")
for item in [
    NavItem(
        "crm.customers",
        _("Customers"),
        "crm:customer_list",
        "people",
        CrmPerm.VIEW_CUSTOMER,
        GROUP,
        200,
    ),
    NavItem(
        "crm.pool",
        _("Customer pool"),
        "crm:pool_customers",
        "water",
        CrmPerm.CLAIM_CUSTOMER,
        GROUP,
        201,
    ),
    NavItem(
        "crm.follow_ups",
        _("Follow-ups"),
        "crm:follow_up_list",
        "chat-dots",
        CrmPerm.ADD_FOLLOW_UP,
        GROUP,
        202,
    ),
    NavItem(
        "crm.revisits",
        _("Revisits"),
        "crm:revisit_list",
        "telephone-outbound",
        CrmPerm.VIEW_REVISIT,
        GROUP,
        203,
    ),
    NavItem(
        "crm.analysis",
        _("Customer analysis"),
        "crm:analysis",
        "pie-chart",
        CrmPerm.VIEW_ANALYSIS,
        GROUP,
        204,
    ),
    NavItem(
        "crm.settings",
        _("Pools and rules"),
        "crm:settings",
        "sliders",
        CrmPerm.MANAGE_SETTINGS,
        GROUP,
        205,
    ),
]:
    register_nav(item)


def _todos(actor):
    if not actor.has_perm(CrmPerm.VIEW_CUSTOMER):
        return
    due = selectors.follow_ups_due(actor=actor)
    base = reverse("crm:customer_list")
    today = due["due_today"].count()
    overdue = due["overdue"].count()
    contacted = due["contacted_today"].count()
    yield TodoItem(
        "crm.due_today",
        _("Follow-ups due today"),
        today,
        f"{base}?scene=mine&due=today",
        "primary" if today else "secondary",
        items=[
            {"label": c.name, "url": c.get_absolute_url()}
            for c in due["due_today"].order_by("next_contact_at")[:5]
        ],
    )
    yield TodoItem(
        "crm.overdue",
        _("Overdue follow-ups"),
        overdue,
        f"{base}?scene=mine&due=overdue",
        "danger" if overdue else "secondary",
    )
    yield TodoItem(
        "crm.contacted_today",
        _("Customers contacted today"),
        contacted,
        reverse("crm:follow_up_list") + "?mine=1&today=1",
        "success" if contacted else "secondary",
    )
    if actor.has_perm(CrmPerm.VIEW_REVISIT):
        revisits = selectors.revisits_due(actor=actor).count()
        yield TodoItem(
            "crm.revisits_due",
            _("Revisits due"),
            revisits,
            reverse("crm:revisit_list") + "?mine=1&due=1",
            "warning" if revisits else "secondary",
        )


register_todo_provider(_todos)


def _search(actor, text: str, limit: int):
    for customer in selectors.customer_search(actor=actor, text=text)[:limit]:
        yield SearchHit(
            _("Customer"),
            customer.name,
            " · ".join(filter(None, [customer.number, str(customer.owner or _("Pool"))])),
            customer.get_absolute_url(),
        )


register_search_provider(_search)


def _timeline(record):
    """Follow-ups, owner changes and revisits on the customer's timeline."""
    if not isinstance(record, Customer):
        return
    from marketdesk.core.timeline import TimelineEntry

    for change in selectors.owner_changes(record)[:100]:
        text = str(change.get_kind_display())
        names = [str(u) for u in (change.from_user, change.to_user) if u]
        if names:
            text += ": " + " → ".join(names)
        if change.reason:
            text += f" ({change.reason})"
        yield TimelineEntry("owner", change.at, change.by, text)
    for follow_up in record.follow_ups.select_related("user")[:100]:
        yield TimelineEntry(
            "follow_up",
            follow_up.at,
            follow_up.user,
            f"{follow_up.get_kind_display()}: {follow_up.content[:200]}",
        )
    for revisit in record.revisits.filter(status=RevisitStatus.DONE).select_related("assignee")[
        :50
    ]:
        yield TimelineEntry(
            "revisit",
            revisit.done_at,
            revisit.assignee,
            f"{_('Revisit')} · {revisit.satisfaction}/5 {revisit.opinions[:150]}".strip(),
        )


register_timeline_provider(_timeline)

register_metric(CUSTOMERS_WON, _("Customers won"), selectors.customers_won)

register_handover(
    HandoverTarget("crm.customers", _("Customers and revisits"), services.customers_handover)
)

register_job(
    Job(
        "crm.pool",
        lambda: str(services.pool_run()),
        daily_at=datetime.time(1, 30),
        description="Return customers to the pool by its rules; remind owners before returns",
    )
)
register_job(
    Job(
        "crm.revisits",
        lambda: f"planned {services.revisits_generate()}",
        daily_at=datetime.time(2, 0),
        description="Plan revisits of customers with a deal by their level",
    )
)

register_document(
    ApprovalDocument(
        key="crm.customer_export",
        label=_("Customer export request"),
        model=CustomerExportRequest,
        title=lambda doc: f"{doc.number} · {doc.row_count}",
        amount=lambda doc: None,
        department=lambda doc: doc.department,
        submitter=lambda doc: doc.requester,
        lines=lambda doc: [
            (_("Number"), doc.number),
            (_("Rows"), doc.row_count),
            (_("Filters"), doc.query or "—"),
            (_("Reason"), doc.reason),
        ],
        on_approved=lambda doc, req: services.export_request_set_status(
            doc, ExportRequestStatus.APPROVED
        ),
        on_rejected=lambda doc, req: services.export_request_set_status(
            doc, ExportRequestStatus.REJECTED
        ),
        on_returned=lambda doc, req: services.export_request_set_status(
            doc, ExportRequestStatus.DRAFT
        ),
        on_withdrawn=lambda doc, req: services.export_request_set_status(
            doc, ExportRequestStatus.DRAFT
        ),
    )
)

# Shipped roles ---------------------------------------------------------------------------
SALES_DAILY = (
    CrmPerm.VIEW_CUSTOMER,
    CrmPerm.ADD_CUSTOMER,
    CrmPerm.CHANGE_CUSTOMER,
    CrmPerm.CLAIM_CUSTOMER,
    CrmPerm.ADD_FOLLOW_UP,
    CrmPerm.VIEW_REVISIT,
    CrmPerm.CHANGE_REVISIT,
    "crm.view_contact",
    "crm.add_contact",
    "crm.change_contact",
    "crm.view_followup",
)
grant("salesperson", *SALES_DAILY)
grant(
    "group_leader",
    *SALES_DAILY,
    CrmPerm.ASSIGN_CUSTOMER,
    CrmPerm.LOCK_CUSTOMER,
    CrmPerm.VIEW_ANALYSIS,
    CrmPerm.REQUEST_EXPORT,
)
grant(
    "marketing_manager",
    *SALES_DAILY,
    CrmPerm.ASSIGN_CUSTOMER,
    CrmPerm.LOCK_CUSTOMER,
    CrmPerm.DELETE_CUSTOMER,
    CrmPerm.VIEW_ANALYSIS,
    CrmPerm.MANAGE_SETTINGS,
    CrmPerm.REQUEST_EXPORT,
)
grant(
    "promotion",
    CrmPerm.VIEW_CUSTOMER,
    CrmPerm.ADD_CUSTOMER,
    CrmPerm.ADD_FOLLOW_UP,
    CrmPerm.VIEW_ANALYSIS,
    "crm.view_contact",
)
grant(
    "customer_service",
    CrmPerm.VIEW_CUSTOMER,
    CrmPerm.ADD_FOLLOW_UP,
    CrmPerm.VIEW_REVISIT,
    CrmPerm.CHANGE_REVISIT,
    "crm.view_contact",
)
# Customer service revisits and answers every customer (R5.2); the promotion group analyses
# all of them (R5.1.2): both see customers company-wide, whatever their role's own scope.
grant_scope("customer_service", "crm", DataScope.ALL)
grant_scope("promotion", "crm", DataScope.ALL)
grant("management", CrmPerm.VIEW_CUSTOMER, CrmPerm.VIEW_ANALYSIS, CrmPerm.VIEW_REVISIT)
grant("administrator", CrmPerm.MANAGE_SETTINGS, CrmPerm.VIEW_CUSTOMER)
