"""What the approval engine plugs into the kernel and organisation registries."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketdesk.core.jobs import Job, register_job
from marketdesk.core.numbering import SequenceDefault, register_sequence
from marketdesk.core.registry import (
    NavItem,
    RecordType,
    TodoItem,
    register_nav,
    register_record_type,
    register_timeline_provider,
    register_todo_provider,
)
from marketdesk.org.handover import HandoverTarget, register_handover
from marketdesk.org.roles import grant

from . import demo, selectors, services  # noqa: F401  (demo registers its step)
from .models import ApprovalTask, GeneralRequest, RequestKind, TaskStatus
from .permissions import ApprovalPerm
from .registry import ApprovalDocument, register_document

register_sequence(SequenceDefault("APR", "Approval request", "APR"))
register_sequence(SequenceDefault("GR", "General request", "GR"))

register_document(
    ApprovalDocument(
        key="approvals.general",
        label=_("General request"),
        model=GeneralRequest,
        title=lambda doc: doc.title,
        amount=lambda doc: doc.amount,
        department=lambda doc: doc.department,
        submitter=lambda doc: doc.owner,
        category=lambda doc: doc.kind,
        lines=lambda doc: [
            (_("Number"), doc.number),
            (_("Category"), doc.get_kind_display()),
            (_("Amount (CNY)"), doc.amount if doc.amount is not None else "—"),
            (_("Needed by"), doc.needed_by or "—"),
            (_("Details"), doc.description[:300]),
        ],
        snapshot=lambda doc: {
            "title": doc.title,
            "kind": doc.kind,
            "amount": str(doc.amount) if doc.amount is not None else None,
            "needed_by": doc.needed_by.isoformat() if doc.needed_by else None,
            "description": doc.description,
        },
        categories=list(RequestKind.choices),
    )
)

register_record_type(
    RecordType(
        model=GeneralRequest,
        visible=lambda actor: selectors.general_request_list(actor=actor),
        editable=lambda actor, record: (
            record.owner_id == actor.pk and not services.is_locked(record)
        ),
    )
)

GROUP = _("Approvals")
register_nav(
    NavItem("approvals.inbox", _("Approval inbox"), "approvals:inbox", "inboxes", None, GROUP, 100)
)
register_nav(
    NavItem(
        "approvals.general",
        _("General requests"),
        "approvals:general_list",
        "file-earmark-check",
        ApprovalPerm.ADD_GENERAL,
        GROUP,
        101,
    )
)
register_nav(
    NavItem(
        "approvals.flows",
        _("Approval flows"),
        "approvals:flow_list",
        "signpost-split",
        ApprovalPerm.VIEW_FLOW,
        GROUP,
        102,
    )
)


def _todos(actor):
    count = selectors.waiting_count(actor=actor)
    yield TodoItem(
        "approvals.waiting",
        _("Approvals waiting for me"),
        count,
        reverse("approvals:inbox"),
        "warning" if count else "secondary",
    )


register_todo_provider(_todos)

register_job(
    Job(
        "approvals.reminders",
        services.send_reminders,
        every_minutes=30,
        description="Remind waiting approvers and escalate overdue approvals",
    )
)


def _handover(from_user, to_user, actor) -> int:
    """Waiting approvals of a departing employee pass to the successor."""
    moved = 0
    for task in ApprovalTask.objects.filter(
        approver=from_user, status=TaskStatus.WAITING
    ).select_related("request"):
        if (
            task.request.submitter_id == to_user.pk
            or ApprovalTask.objects.filter(  # one person, one vote in a step
                request=task.request,
                step_index=task.step_index,
                approver=to_user,
                status__in=[TaskStatus.WAITING, TaskStatus.APPROVED],
            ).exists()
        ):
            continue
        ApprovalTask.objects.filter(pk=task.pk).update(approver=to_user, on_behalf_of=from_user)
        moved += 1
    return moved


def _timeline(record):
    """Approval events appear on the approved document's own timeline."""
    from marketdesk.core.timeline import TimelineEntry

    from .models import ApprovalEvent

    requests = selectors.requests_for_document(record)
    events = (
        ApprovalEvent.objects.filter(request__in=requests)
        .select_related("actor", "request")
        .order_by("-at")[:100]
    )
    for event in events:
        text = f"{event.request.number} · {event.get_action_display()}"
        if event.step_name:
            text += f" ({event.step_name})"
        if event.comment:
            text += f": {event.comment}"
        yield TimelineEntry("approval", event.at, event.actor, text)


register_timeline_provider(_timeline)

register_handover(HandoverTarget("approval_tasks", _("Waiting approvals"), _handover))

EVERYONE = (
    "marketing_manager",
    "group_leader",
    "salesperson",
    "promotion",
    "customer_service",
    "finance",
    "management",
    "administrator",
)
for role in EVERYONE:
    grant(role, ApprovalPerm.ADD_GENERAL, ApprovalPerm.VIEW_GENERAL)
for role in ("marketing_manager", "group_leader", "management", "finance"):
    grant(role, ApprovalPerm.VIEW_REQUEST)
grant(
    "administrator",
    ApprovalPerm.VIEW_FLOW,
    ApprovalPerm.ADD_FLOW,
    ApprovalPerm.CHANGE_FLOW,
    ApprovalPerm.VIEW_REQUEST,
)
grant("marketing_manager", ApprovalPerm.VIEW_FLOW)
grant("management", ApprovalPerm.VIEW_FLOW)
