"""Every action of the approval engine. Each locks the request row first, so two approvers
acting at once, a double click, or an approval racing a withdrawal end in exactly one outcome;
document hooks run once, after commit."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketdesk.core.notifications import notify
from marketdesk.core.numbering import next_number

from .models import (
    ApprovalCC,
    ApprovalEvent,
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStep,
    ApprovalTask,
    Delegation,
    EventAction,
    RequestStatus,
    ResubmitFrom,
    StepMode,
    TaskStatus,
)
from .permissions import ApprovalPerm
from .registry import ApprovalDocument, document_type_for
from .resolution import MSG_NO_FLOW, build_plan, delegate_of, flow_for

MSG_NOT_SUBMITTER = gettext_lazy("Only the submitter may do this.")
MSG_LOCKED = gettext_lazy("This document is in approval or approved; it cannot be changed now.")
MSG_ALREADY_OPEN = gettext_lazy("This document is already in approval.")
MSG_NOT_YOUR_TASK = gettext_lazy("This approval step is not yours.")
MSG_ALREADY_DECIDED = gettext_lazy("This step has already been decided.")
MSG_NOT_IN_PROGRESS = gettext_lazy("This request is no longer in approval.")
MSG_SELF_APPROVAL = gettext_lazy("No one may approve their own document.")
MSG_REASON_REQUIRED = gettext_lazy("Give a reason.")
MSG_WITHDRAW_TOO_LATE = gettext_lazy("It can be withdrawn only before the first decision.")
MSG_TRANSFER_TARGET = gettext_lazy("Choose another active user who is not the submitter.")
MSG_NOT_REOPENABLE = gettext_lazy("Only an approved document can be reopened for a new revision.")
MSG_NO_PERMISSION = gettext_lazy("You do not have permission to do this.")
MSG_NEGATIVE_AMOUNT = gettext_lazy("The amount cannot be negative.")
MSG_ALREADY_APPROVER = gettext_lazy("This person already has a part in this step.")


def _doc_key(document: Model) -> tuple[ContentType, int]:
    return ContentType.objects.get_for_model(document), document.pk


def latest_request(document: Model) -> ApprovalRequest | None:
    content_type, object_id = _doc_key(document)
    return (
        ApprovalRequest.objects.filter(content_type=content_type, object_id=object_id)
        .order_by("-submitted_at", "-pk")
        .first()
    )


def is_locked(document: Model) -> bool:
    """Locked while in approval, and after approval until reopened for a new revision."""
    latest = latest_request(document)
    if latest is None:
        return False
    if latest.status == RequestStatus.IN_PROGRESS:
        return True
    return latest.status == RequestStatus.APPROVED and latest.reopened_at is None


def assert_editable(document: Model) -> None:
    """Document apps call this in their update services."""
    if is_locked(document):
        raise ValidationError(MSG_LOCKED)


def _event(
    request: ApprovalRequest, action: str, actor=None, *, step_name: str = "", comment: str = ""
) -> None:
    ApprovalEvent.objects.create(
        request=request, actor=actor, action=action, step_name=step_name, comment=comment
    )


def _run_hook(doc_type: ApprovalDocument, hook_name: str, request: ApprovalRequest) -> None:
    hook = getattr(doc_type, hook_name)
    if hook is None:
        return
    request_id = request.pk

    def _call() -> None:
        fresh = ApprovalRequest.objects.get(pk=request_id)
        hook(fresh.document, fresh)

    transaction.on_commit(_call)


def _users(ids) -> list:
    return list(get_user_model().objects.filter(pk__in=list(ids)))


def _assignments(request: ApprovalRequest, approver_ids: list[int]) -> list[tuple[int, int | None]]:
    """(approver, on behalf of) for each planned approver of a step that opens now: the delegate
    of an approver who is away, unless that is the submitter or someone this step asks anyway
    (a delegation never skips a step nor merges two votes into one)."""
    planned = set(approver_ids)
    result: list[tuple[int, int | None]] = []
    for user_id in approver_ids:
        delegate = delegate_of(user_id)
        taken = planned | {approver for approver, _for in result}
        if delegate != user_id and delegate != request.submitter_id and delegate not in taken:
            result.append((delegate, user_id))
        else:
            result.append((user_id, None))
    return result


def _open_step(request: ApprovalRequest, index: int) -> None:
    """Create the waiting tasks of plan[index], or finish the request when the plan is done."""
    request.current_index = index
    if index >= len(request.plan):
        request.status = RequestStatus.APPROVED
        request.finished_at = timezone.now()
        request.save(update_fields=["current_index", "status", "finished_at"])
        _event(request, EventAction.FINISHED)
        _run_hook(document_type_for(request.document), "on_approved", request)
        notify(
            recipients=_users([request.submitter_id]),
            title=_("Approved: %(title)s") % {"title": request.title},
            url=request.url,
            kind="approval.approved",
        )
        return
    step = request.plan[index]
    request.save(update_fields=["current_index"])
    assignments = _assignments(request, step["approvers"])
    ApprovalTask.objects.bulk_create(
        [
            ApprovalTask(
                request=request,
                step_index=index,
                step_name=step["name"],
                approver_id=approver_id,
                on_behalf_of_id=for_id,
            )
            for approver_id, for_id in assignments
        ]
    )
    notify(
        recipients=_users([approver_id for approver_id, _for in assignments]),
        title=_("Waiting for your approval: %(title)s") % {"title": request.title},
        body=_("%(who)s submitted %(number)s")
        % {"who": request.submitter, "number": request.number},
        url=request.get_absolute_url(),
        kind="approval.waiting",
    )


def _lock(request: ApprovalRequest) -> ApprovalRequest:
    return ApprovalRequest.objects.select_for_update().get(pk=request.pk)


def _resume_index(previous: ApprovalRequest, steps) -> int:
    """Where a resubmission resumes: the step of the new plan that matches the step which
    rejected or returned the old request (plans can differ: amounts change, approvers are added)."""
    if not previous.plan:
        return 0
    stopped = previous.plan[min(previous.current_index, len(previous.plan) - 1)]
    for index, planned in enumerate(steps):
        if planned.order == stopped["order"] and planned.name == stopped["name"]:
            return index
    for index, planned in enumerate(steps):
        if planned.order >= stopped["order"]:
            return index
    return len(steps)


@transaction.atomic
def request_submit(*, actor, document: Model, comment: str = "") -> ApprovalRequest:
    """Submit a document (or resubmit it after a return, rejection or withdrawal)."""
    doc_type = document_type_for(document)
    content_type, object_id = _doc_key(document)
    # Lock the document row so two submissions of one document cannot race, and read what is
    # submitted from the database, not from the caller's copy (which may be stale).
    document = type(document)._default_manager.select_for_update().get(pk=object_id)
    submitter = doc_type.submitter(document)
    if submitter.pk != actor.pk:
        raise PermissionDenied(MSG_NOT_SUBMITTER)
    previous = latest_request(document)
    if previous is not None and previous.status == RequestStatus.IN_PROGRESS:
        raise ValidationError(MSG_ALREADY_OPEN)
    if (
        previous is not None
        and previous.status == RequestStatus.APPROVED
        and previous.reopened_at is None
    ):
        raise ValidationError(MSG_LOCKED)
    amount = doc_type.amount(document)
    if amount is not None and amount < 0:
        raise ValidationError({"amount": MSG_NEGATIVE_AMOUNT})
    category = doc_type.category(document) or ""
    department = doc_type.department(document)
    flow = flow_for(doc_type=doc_type.key, amount=amount, category=category, department=department)
    if flow is None:
        raise ValidationError(MSG_NO_FLOW % {"what": doc_type.label})
    plan = build_plan(flow=flow, submitter=submitter, department=department, amount=amount)
    start = 0
    if (
        previous is not None
        and previous.status in (RequestStatus.REJECTED, RequestStatus.RETURNED)
        and flow.resubmit_from == ResubmitFrom.REJECTED
        and previous.flow_id == flow.pk
    ):
        start = _resume_index(previous, plan.steps)
    revision = (
        previous.revision + 1
        if previous is not None and previous.status == RequestStatus.APPROVED
        else (previous.revision if previous else 1)
    )
    request = ApprovalRequest(
        number=next_number("APR"),
        doc_type=doc_type.key,
        content_type=content_type,
        object_id=object_id,
        revision=revision,
        flow=flow,
        title=doc_type.title(document)[:200],
        amount=amount,
        category=category,
        department=department,
        submitter=submitter,
        plan=[step.as_dict() for step in plan.steps],
        snapshot=doc_type.snapshot(document) if doc_type.snapshot else {},
        lines=[[str(label), str(value)] for label, value in doc_type.lines(document)],
        url=doc_type.url(document),
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:  # another submission of the same document won the race
        raise ValidationError(MSG_ALREADY_OPEN) from exc
    _event(request, EventAction.SUBMITTED, actor, comment=comment)
    for action, step_name in plan.notes:
        _event(request, action, step_name=step_name)
    ccs = [user for user in flow.cc_users.filter(is_active=True) if user.pk != actor.pk]
    ApprovalCC.objects.bulk_create(
        [ApprovalCC(request=request, user=user) for user in ccs], ignore_conflicts=True
    )
    if ccs:
        notify(
            recipients=ccs,
            title=_("For your information: %(title)s") % {"title": request.title},
            url=request.get_absolute_url(),
            kind="approval.cc",
        )
    _open_step(request, start)
    return request


def _task_for(actor, task: ApprovalTask) -> tuple[ApprovalRequest, ApprovalTask]:
    request = _lock(task.request)
    task = ApprovalTask.objects.get(pk=task.pk)
    if request.status != RequestStatus.IN_PROGRESS:
        raise ValidationError(MSG_NOT_IN_PROGRESS)
    if task.approver_id != actor.pk:
        raise PermissionDenied(MSG_NOT_YOUR_TASK)
    if request.submitter_id == actor.pk:
        raise PermissionDenied(MSG_SELF_APPROVAL)
    if task.status != TaskStatus.WAITING or task.step_index != request.current_index:
        raise ValidationError(MSG_ALREADY_DECIDED)
    return request, task


def _decide(task: ApprovalTask, status: str, comment: str) -> None:
    task.status = status
    task.comment = comment
    task.decided_at = timezone.now()
    task.save(update_fields=["status", "comment", "decided_at"])


def _cancel_waiting(request: ApprovalRequest) -> None:
    ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).update(
        status=TaskStatus.CANCELLED, decided_at=timezone.now()
    )


def _step_outcome(request: ApprovalRequest) -> str | None:
    """'approved', 'rejected' or None (still open) for the current step."""
    step = request.plan[request.current_index]
    tasks = list(
        ApprovalTask.objects.filter(request=request, step_index=request.current_index)
        .exclude(status__in=[TaskStatus.CANCELLED, TaskStatus.TRANSFERRED])
        .values_list("status", flat=True)
    )
    approved = sum(1 for s in tasks if s == TaskStatus.APPROVED)
    waiting = sum(1 for s in tasks if s == TaskStatus.WAITING)
    total = len(tasks)
    if step["mode"] == StepMode.ANY:
        return "approved" if approved else None
    if step["mode"] == StepMode.ALL:
        return "approved" if total and approved == total else None
    needed = Decimal(step["ratio"] or "1")
    if total and Decimal(approved) / total >= needed:
        return "approved"
    if total and Decimal(approved + waiting) / total < needed:
        return "rejected"
    return None


def _finish(request: ApprovalRequest, status: str, hook: str) -> None:
    request.status = status
    request.finished_at = timezone.now()
    request.save(update_fields=["status", "finished_at"])
    _cancel_waiting(request)
    _run_hook(document_type_for(request.document), hook, request)


@transaction.atomic
def task_approve(*, actor, task: ApprovalTask, comment: str = "") -> ApprovalRequest:
    request, task = _task_for(actor, task)
    _decide(task, TaskStatus.APPROVED, comment)
    _event(request, EventAction.APPROVED, actor, step_name=task.step_name, comment=comment)
    outcome = _step_outcome(request)
    if outcome == "approved":
        _cancel_waiting(request)
        _open_step(request, request.current_index + 1)
    return request


@transaction.atomic
def task_reject(*, actor, task: ApprovalTask, reason: str) -> ApprovalRequest:
    if not (reason or "").strip():
        raise ValidationError({"reason": MSG_REASON_REQUIRED})
    request, task = _task_for(actor, task)
    _decide(task, TaskStatus.REJECTED, reason)
    _event(request, EventAction.REJECTED, actor, step_name=task.step_name, comment=reason)
    step = request.plan[request.current_index]
    if step["mode"] == StepMode.RATIO and _step_outcome(request) is None:
        return request  # the others may still carry the step
    _finish(request, RequestStatus.REJECTED, "on_rejected")
    notify(
        recipients=_users([request.submitter_id]),
        title=_("Rejected: %(title)s") % {"title": request.title},
        body=reason,
        url=request.url,
        kind="approval.rejected",
    )
    return request


@transaction.atomic
def task_return(*, actor, task: ApprovalTask, reason: str) -> ApprovalRequest:
    if not (reason or "").strip():
        raise ValidationError({"reason": MSG_REASON_REQUIRED})
    request, task = _task_for(actor, task)
    _decide(task, TaskStatus.RETURNED, reason)
    _event(request, EventAction.RETURNED, actor, step_name=task.step_name, comment=reason)
    _finish(request, RequestStatus.RETURNED, "on_returned")
    notify(
        recipients=_users([request.submitter_id]),
        title=_("Returned for changes: %(title)s") % {"title": request.title},
        body=reason,
        url=request.url,
        kind="approval.returned",
    )
    return request


@transaction.atomic
def request_withdraw(*, actor, request: ApprovalRequest, reason: str = "") -> ApprovalRequest:
    request = _lock(request)
    if request.submitter_id != actor.pk:
        raise PermissionDenied(MSG_NOT_SUBMITTER)
    if request.status != RequestStatus.IN_PROGRESS:
        raise ValidationError(MSG_NOT_IN_PROGRESS)
    decided = ApprovalTask.objects.filter(
        request=request, status__in=[TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED]
    )
    if decided.exists():
        raise ValidationError(MSG_WITHDRAW_TOO_LATE)
    waiting = _users(
        ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).values_list(
            "approver_id", flat=True
        )
    )
    _event(request, EventAction.WITHDRAWN, actor, comment=reason)
    _finish(request, RequestStatus.WITHDRAWN, "on_withdrawn")
    notify(
        recipients=waiting,
        title=_("Withdrawn: %(title)s") % {"title": request.title},
        body=reason,
        url=request.get_absolute_url(),
        kind="approval.withdrawn",
    )
    return request


def _check_target(request: ApprovalRequest, user) -> None:
    if user is None or not user.is_active or user.pk == request.submitter_id:
        raise ValidationError({"user": MSG_TRANSFER_TARGET})


@transaction.atomic
def task_transfer(*, actor, task: ApprovalTask, to_user, comment: str = "") -> ApprovalTask:
    request, task = _task_for(actor, task)
    _check_target(request, to_user)
    if ApprovalTask.objects.filter(
        request=request,
        step_index=task.step_index,
        approver=to_user,
        status__in=[TaskStatus.WAITING, TaskStatus.APPROVED],
    ).exists():  # one person, one vote: 会签 and share steps count each approver once
        raise ValidationError({"user": MSG_ALREADY_APPROVER})
    _decide(task, TaskStatus.TRANSFERRED, comment)
    new_task = ApprovalTask.objects.create(
        request=request,
        step_index=task.step_index,
        step_name=task.step_name,
        approver=to_user,
        on_behalf_of=actor,
    )
    _event(
        request,
        EventAction.TRANSFERRED,
        actor,
        step_name=task.step_name,
        comment=f"→ {to_user} {comment}".strip(),
    )
    notify(
        recipients=[to_user],
        title=_("Waiting for your approval: %(title)s") % {"title": request.title},
        body=_("%(who)s passed it to you.") % {"who": actor},
        url=request.get_absolute_url(),
        kind="approval.waiting",
    )
    return new_task


@transaction.atomic
def task_add_approver(*, actor, task: ApprovalTask, user, comment: str = "") -> ApprovalRequest:
    """加签: a further approver after the current step (the current approver still decides)."""
    request, task = _task_for(actor, task)
    _check_target(request, user)
    plan = list(request.plan)
    plan.insert(
        request.current_index + 1,
        {
            "order": plan[request.current_index]["order"],
            "name": _("Added by %(who)s") % {"who": actor},
            "mode": StepMode.ANY,
            "ratio": None,
            "approvers": [user.pk],
            "kind": "added",
        },
    )
    request.plan = plan
    request.save(update_fields=["plan"])
    _event(
        request,
        EventAction.ADDED_APPROVER,
        actor,
        step_name=task.step_name,
        comment=f"+ {user} {comment}".strip(),
    )
    return request


def tasks_bulk_approve(
    *, actor, tasks: list[ApprovalTask], comment: str = ""
) -> tuple[list[int], dict[int, str]]:
    """Approve each task in its own transaction; returns (approved task ids, {task id: error})."""
    done, errors = [], {}
    for task in tasks:
        try:
            task_approve(actor=actor, task=task, comment=comment)
            done.append(task.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors[task.pk] = " ".join(getattr(exc, "messages", [str(exc)]))
    return done, errors


@transaction.atomic
def request_reopen(*, actor, document: Model) -> ApprovalRequest:
    """Open an approved document for a change; the change is a new revision that needs approval again."""
    doc_type = document_type_for(document)
    if doc_type.submitter(document).pk != actor.pk:
        raise PermissionDenied(MSG_NOT_SUBMITTER)
    latest = latest_request(document)
    latest = _lock(latest) if latest is not None else None
    if latest is None or latest.status != RequestStatus.APPROVED or latest.reopened_at is not None:
        raise ValidationError(MSG_NOT_REOPENABLE)
    latest.reopened_at = timezone.now()
    latest.save(update_fields=["reopened_at"])
    return latest


def cc_mark_read(*, actor, request: ApprovalRequest) -> None:
    ApprovalCC.objects.filter(request=request, user=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# Reminders and escalation (a scheduled job) ---------------------------------------------------


def send_reminders(*, now: datetime.datetime | None = None) -> str:
    """Remind approvers whose task waits longer than the flow's reminder time, and escalate
    tasks past the escalation time. Idempotent: each task is reminded once per period."""
    now = now or timezone.now()
    reminded = escalated = 0
    waiting = ApprovalTask.objects.filter(
        status=TaskStatus.WAITING, request__status=RequestStatus.IN_PROGRESS
    ).select_related("request__flow", "approver")
    for task in waiting:
        flow = task.request.flow
        since = task.reminded_at or task.created_at
        if flow.reminder_hours and now - since >= datetime.timedelta(hours=flow.reminder_hours):
            with transaction.atomic():
                updated = ApprovalTask.objects.filter(
                    pk=task.pk, status=TaskStatus.WAITING, reminded_at=task.reminded_at
                ).update(reminded_at=now)
                if updated:
                    notify(
                        recipients=[task.approver],
                        title=_("Reminder: waiting for your approval: %(title)s")
                        % {"title": task.request.title},
                        url=task.request.get_absolute_url(),
                        kind="approval.reminder",
                    )
                    _event(
                        task.request,
                        EventAction.REMINDED,
                        step_name=task.step_name,
                        comment=str(task.approver),
                    )
                    reminded += 1
        if (
            flow.escalate_hours
            and flow.escalate_to_id
            and task.approver_id != flow.escalate_to_id  # already with the escalation target
            and task.escalated_at is None
            and now - task.created_at >= datetime.timedelta(hours=flow.escalate_hours)
        ):
            with transaction.atomic():
                request = _lock(task.request)
                if ApprovalTask.objects.filter(
                    pk=task.pk, status=TaskStatus.WAITING, escalated_at__isnull=True
                ).update(escalated_at=now):
                    target = flow.escalate_to
                    if (
                        target.is_active
                        and target.pk != request.submitter_id
                        and not ApprovalTask.objects.filter(
                            request=request,
                            step_index=task.step_index,
                            approver=target,
                            status__in=[TaskStatus.WAITING, TaskStatus.APPROVED],
                        ).exists()
                    ):
                        ApprovalTask.objects.create(
                            request=request,
                            step_index=task.step_index,
                            step_name=task.step_name,
                            approver=target,
                        )
                        notify(
                            recipients=[target],
                            title=_("Escalated to you: %(title)s") % {"title": request.title},
                            url=request.get_absolute_url(),
                            kind="approval.escalated",
                        )
                    _event(
                        request,
                        EventAction.ESCALATED,
                        step_name=task.step_name,
                        comment=str(target),
                    )
                    escalated += 1
    return f"reminded {reminded}, escalated {escalated}"


# Flows and delegations -------------------------------------------------------------------------


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


@transaction.atomic
def flow_save(
    *, actor, flow: ApprovalFlow | None, fields: dict, departments, cc_users, steps: list[dict]
) -> ApprovalFlow:
    """Create or replace a flow with its ordered steps (steps: list of ApprovalStep field dicts)."""
    _require(actor, ApprovalPerm.CHANGE_FLOW if flow else ApprovalPerm.ADD_FLOW)
    flow = flow or ApprovalFlow(created_by=actor)
    for name, value in fields.items():
        setattr(flow, name, value)
    flow.updated_by = actor
    flow._history_user = actor
    flow.full_clean()
    flow.save()
    flow.departments.set(departments)
    flow.cc_users.set(cc_users)
    flow.steps.all().delete()
    errors = {}
    for index, data in enumerate(steps, start=1):
        step = ApprovalStep(flow=flow, order=index, **data)
        try:
            step.full_clean(exclude=["flow"])
            _check_step(step)
        except ValidationError as exc:  # each message names its step: "Step 2 (经理): ..."
            errors[f"steps[{index}]"] = [
                MSG_STEP_ERROR % {"number": index, "name": step.name, "message": message}
                for message in exc.messages
            ]
            continue
        step.save()
    if errors:
        raise ValidationError(errors)
    return flow


MSG_STEP_ERROR = gettext_lazy("Step %(number)s (%(name)s): %(message)s")
MSG_STEP_NEEDS = {
    "user": gettext_lazy("Choose the user for this step."),
    "role": gettext_lazy("Choose the role for this step."),
    "named_head": gettext_lazy("Choose the unit whose head approves."),
    "ratio": gettext_lazy("Give the share needed, between 0.01 and 1."),
}


def _check_step(step: ApprovalStep) -> None:
    if step.approver_kind == "user" and not step.user_id:
        raise ValidationError(MSG_STEP_NEEDS["user"])
    if step.approver_kind == "role" and not step.role_id:
        raise ValidationError(MSG_STEP_NEEDS["role"])
    if step.approver_kind == "named_head" and not step.department_id:
        raise ValidationError(MSG_STEP_NEEDS["named_head"])
    if step.mode == StepMode.RATIO and not step.pass_ratio:
        raise ValidationError(MSG_STEP_NEEDS["ratio"])


@transaction.atomic
def delegation_create(
    *, actor, delegate, start_date: datetime.date, end_date: datetime.date, reason: str = ""
) -> Delegation:
    delegation = Delegation(
        user=actor,
        delegate=delegate,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        created_by=actor,
        updated_by=actor,
    )
    delegation.full_clean()
    delegation.save()
    return delegation


@transaction.atomic
def delegation_end(*, actor, delegation: Delegation) -> Delegation:
    if delegation.user_id != actor.pk:
        raise PermissionDenied(MSG_NO_PERMISSION)
    delegation.active = False
    delegation.updated_by = actor
    delegation.save(update_fields=["active", "updated_by", "updated_at"])
    return delegation
