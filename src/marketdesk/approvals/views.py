"""Approval pages: the inbox (待我审批/我已审批/我发起的/抄送我的), a request with its actions,
the flow editor with its preview, delegations, and the general request form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketdesk.org.selectors import employee_for_user

from . import general, selectors, services
from .forms import (
    DecisionForm,
    DelegationForm,
    FlowForm,
    GeneralRequestForm,
    PreviewForm,
    ReasonForm,
    StepFormSet,
    UserChoiceForm,
)
from .models import GeneralRequest, RequestStatus
from .permissions import ApprovalPerm
from .registry import document_type
from .resolution import build_plan, describe_plan, flow_for

BOXES = ("waiting", "done", "mine", "cc")


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def inbox(request):
    box = request.GET.get("box", "waiting")
    box = box if box in BOXES else "waiting"
    actor = request.user
    rows = {
        "waiting": selectors.waiting_tasks(actor=actor),
        "done": selectors.decided_tasks(actor=actor),
        "mine": selectors.submitted_requests(actor=actor),
        "cc": selectors.cc_requests(actor=actor),
    }[box]
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    counts = {"waiting": selectors.waiting_count(actor=actor)}
    return render(request, "approvals/inbox.html", {"box": box, "page": page, "counts": counts})


@login_required
@require_POST
def bulk_approve(request):
    ids = [int(v) for v in request.POST.getlist("task") if v.isdigit()]
    tasks = selectors.tasks_of(actor=request.user, ids=ids)
    done, errors = services.tasks_bulk_approve(
        actor=request.user, tasks=tasks, comment=request.POST.get("comment", "")
    )
    if done:
        messages.success(request, _("%(count)s approved.") % {"count": len(done)})
    for message in errors.values():
        messages.error(request, message)
    return redirect("/approvals/?box=waiting")


@login_required
def request_detail(request, pk: int):
    approval = selectors.request_get(actor=request.user, pk=pk)
    services.cc_mark_read(actor=request.user, request=approval)
    task = selectors.my_waiting_task(actor=request.user, request=approval)
    tasks = list(
        approval.tasks.select_related("approver", "on_behalf_of").order_by("step_index", "pk")
    )
    steps = []
    for index, step in enumerate(approval.plan):
        step_tasks = [t for t in tasks if t.step_index == index]
        state = (
            "done"
            if index < approval.current_index or approval.status == RequestStatus.APPROVED
            else (
                "current"
                if index == approval.current_index and approval.status == RequestStatus.IN_PROGRESS
                else "later"
            )
        )
        steps.append({"step": step, "tasks": step_tasks, "state": state})
    can_withdraw = (
        approval.submitter_id == request.user.pk
        and approval.status == RequestStatus.IN_PROGRESS
        and not any(t.status in ("approved", "rejected", "returned") for t in tasks)
    )
    return render(
        request,
        "approvals/request_detail.html",
        {
            "approval": approval,
            "task": task,
            "steps": steps,
            "events": approval.events.select_related("actor"),
            "can_withdraw": can_withdraw,
            "decision_form": DecisionForm(),
            "reason_form": ReasonForm(),
            "user_form": UserChoiceForm(),
            "doc_label": document_type(approval.doc_type).label,
        },
    )


def _decide(request, task, action: str) -> str:
    """Carry out one decision; returns the success message (services raise on a refusal)."""
    if action == "approve":
        form = DecisionForm(request.POST)
        form.is_valid()
        services.task_approve(
            actor=request.user, task=task, comment=form.cleaned_data.get("comment", "")
        )
        return _("Approved.")
    if action in ("reject", "return"):
        form = ReasonForm(request.POST)
        if not form.is_valid():
            raise ValidationError(services.MSG_REASON_REQUIRED)
        service = services.task_reject if action == "reject" else services.task_return
        service(actor=request.user, task=task, reason=form.cleaned_data["reason"])
        return _("Rejected.") if action == "reject" else _("Returned to the submitter.")
    form = UserChoiceForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Choose a user."))
    user, comment = form.cleaned_data["user"], form.cleaned_data["comment"]
    if action == "transfer":
        services.task_transfer(actor=request.user, task=task, to_user=user, comment=comment)
        return _("Passed on.")
    services.task_add_approver(actor=request.user, task=task, user=user, comment=comment)
    return _("Approver added after this step.")


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _task_action(request, pk: int, action: str):
    task = selectors.task_get(actor=request.user, pk=pk)
    error = ""
    try:
        done = _decide(request, task, action)
    except (ValidationError, PermissionDenied) as exc:
        error = _errors(exc) if isinstance(exc, ValidationError) else str(exc)
    from_inbox = request.htmx and action == "approve" and request.POST.get("from") == "inbox"
    if from_inbox:  # the row is swapped in place: it says what happened, no flash message
        return render(request, "approvals/inbox.html#decided", {"task": task, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(_safe_next(request, f"/approvals/requests/{task.request_id}/"))


@login_required
@require_POST
def task_action(request, pk: int, action: str):
    if action not in ("approve", "reject", "return", "transfer", "add"):
        raise PermissionDenied
    return _task_action(request, pk, action)


@login_required
@require_POST
def request_withdraw(request, pk: int):
    approval = selectors.request_get(actor=request.user, pk=pk)
    try:
        services.request_withdraw(
            actor=request.user, request=approval, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("Withdrawn."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("approvals:request_detail", pk=pk)


# Flows ----------------------------------------------------------------------------------------


@login_required
def flow_list(request):
    if not request.user.has_perm(ApprovalPerm.VIEW_FLOW):
        raise PermissionDenied
    return render(
        request, "approvals/flow_list.html", {"flows": selectors.flow_list(actor=request.user)}
    )


def _step_initial(flow) -> list[dict]:
    fields = [
        "name",
        "approver_kind",
        "user",
        "role",
        "levels",
        "department",
        "mode",
        "pass_ratio",
        "min_amount",
        "max_amount",
    ]
    return [{f: getattr(step, f) for f in fields} for step in flow.steps.order_by("order")]


@login_required
def flow_edit(request, pk: int | None = None):
    flow = selectors.flow_get(actor=request.user, pk=pk) if pk else None
    can_save = request.user.has_perm(ApprovalPerm.CHANGE_FLOW if flow else ApprovalPerm.ADD_FLOW)
    if not can_save and (request.method == "POST" or flow is None):
        raise PermissionDenied
    form = FlowForm(request.POST or None, instance=flow)
    steps = StepFormSet(
        request.POST or None,
        initial=_step_initial(flow)
        if flow
        else [{"name": _("Supervisor"), "approver_kind": "supervisor", "mode": "any"}],
        prefix="steps",
    )
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        data = dict(form.cleaned_data)
        departments, cc_users = data.pop("departments"), data.pop("cc_users")
        step_data = [
            dict(f.cleaned_data)
            for f in steps.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        for item in step_data:
            item.pop("DELETE", None)
        try:
            flow = services.flow_save(
                actor=request.user,
                flow=flow,
                fields=data,
                departments=departments,
                cc_users=cc_users,
                steps=step_data,
            )
            messages.success(request, _("Saved."))
            return redirect("approvals:flow_edit", pk=flow.pk)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
    preview = PreviewForm(initial={"submitter": request.user.pk})
    return render(
        request,
        "approvals/flow_form.html",
        {"form": form, "steps": steps, "flow": flow, "preview_form": preview, "can_save": can_save},
    )


@login_required
def flow_preview(request, pk: int):
    """'An expense of ¥12,000 by 王芳 of 销售一组 goes to 李强 → 张伟 → 刘总'."""
    flow = selectors.flow_get(actor=request.user, pk=pk)
    form = PreviewForm(request.GET or None)
    text, error = "", ""
    if form.is_valid():
        submitter = form.cleaned_data["submitter"]
        employee = employee_for_user(submitter)
        department = employee.department if employee else None
        amount = form.cleaned_data["amount"]
        chosen = flow_for(
            doc_type=flow.doc_type,
            amount=amount,
            category=form.cleaned_data["category"] or "",
            department=department,
        )
        try:
            plan = build_plan(flow=flow, submitter=submitter, department=department, amount=amount)
            text = describe_plan(plan) or _("approved automatically (no step applies)")
        except ValidationError as exc:
            error = _errors(exc)
        if chosen is not None and chosen.pk != flow.pk:
            error = _("Note: with these conditions the flow '%(name)s' is chosen first.") % {
                "name": chosen
            }
        context = {
            "who": submitter,
            "unit": department,
            "amount": amount,
            "label": document_type(flow.doc_type).label,
        }
    else:
        context = {}
        error = _("Choose who submits.")
    return render(
        request, "approvals/flow_form.html#preview", {"text": text, "error": error, **context}
    )


# Delegations ----------------------------------------------------------------------------------


@login_required
def delegations(request):
    form = DelegationForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if request.POST.get("end", "").isdigit():
            delegation = (
                selectors.delegation_list(actor=request.user)
                .filter(pk=int(request.POST["end"]))
                .first()
            )
            if delegation is not None:
                try:
                    services.delegation_end(actor=request.user, delegation=delegation)
                    messages.success(request, _("Delegation ended."))
                except PermissionDenied as exc:
                    messages.error(request, str(exc))
            return redirect("approvals:delegations")
        if form.is_valid():
            try:
                services.delegation_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Saved."))
                return redirect("approvals:delegations")
            except ValidationError as exc:
                form.add_error(None, exc.messages)
    return render(
        request,
        "approvals/delegations.html",
        {"form": form, "delegations": selectors.delegation_list(actor=request.user)},
    )


# General requests -----------------------------------------------------------------------------


@login_required
def general_list(request):
    if not request.user.has_perm(ApprovalPerm.ADD_GENERAL) and not request.user.has_perm(
        ApprovalPerm.VIEW_GENERAL
    ):
        raise PermissionDenied
    from marketdesk.core.listing import list_page

    result = list_page(
        request,
        selectors.general_request_list(actor=request.user),
        sorts={"number": "number", "created": "created_at", "amount": "amount"},
        default_sort="-created",
        search_fields=["number", "title", "owner__name"],
    )
    latest = selectors.latest_requests(GeneralRequest, [row.pk for row in result.rows])
    for row in result.rows:
        row.approval = latest.get(row.pk)
    return render(request, "approvals/general_list.html", {"result": result})


@login_required
def general_form(request, pk: int | None = None):
    document = selectors.general_request_get(actor=request.user, pk=pk) if pk else None
    if document is None and not request.user.has_perm(ApprovalPerm.ADD_GENERAL):
        raise PermissionDenied
    if document is not None and document.owner_id != request.user.pk:
        raise PermissionDenied
    form = GeneralRequestForm(request.POST or None, instance=document)
    if request.method == "POST" and form.is_valid():
        try:
            if document:
                document = general.general_request_update(
                    actor=request.user, request=document, **form.cleaned_data
                )
            else:
                document = general.general_request_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, exc.messages if isinstance(exc, ValidationError) else [str(exc)])
        else:
            # The document is saved now; a refused submission leaves it as a draft (shown on
            # its page), so sending the form again cannot create a second one.
            if request.POST.get("submit") == "1":
                try:
                    general.general_request_submit(actor=request.user, request=document)
                    messages.success(request, _("Submitted for approval."))
                except (ValidationError, PermissionDenied) as exc:
                    messages.error(
                        request, _errors(exc) if isinstance(exc, ValidationError) else str(exc)
                    )
            else:
                messages.success(request, _("Saved as a draft."))
            return redirect("approvals:general_detail", pk=document.pk)
    return render(request, "approvals/general_form.html", {"form": form, "document": document})


@login_required
def general_detail(request, pk: int):
    document = selectors.general_request_get(actor=request.user, pk=pk)
    approvals = list(selectors.requests_for_document(document))
    locked = services.is_locked(document)
    latest = approvals[0] if approvals else None
    return render(
        request,
        "approvals/general_detail.html",
        {
            "document": document,
            "approvals": approvals,
            "latest": latest,
            "locked": locked,
            "is_owner": document.owner_id == request.user.pk,
            "can_attach": document.owner_id == request.user.pk and not locked,
            "can_reopen": document.owner_id == request.user.pk
            and latest is not None
            and latest.status == RequestStatus.APPROVED
            and latest.reopened_at is None,
        },
    )


@login_required
@require_POST
def general_action(request, pk: int, action: str):
    document = selectors.general_request_get(actor=request.user, pk=pk)
    try:
        if action == "submit":
            general.general_request_submit(
                actor=request.user, request=document, comment=request.POST.get("comment", "")
            )
            messages.success(request, _("Submitted for approval."))
        elif action == "reopen":
            services.request_reopen(actor=request.user, document=document)
            messages.success(request, _("Reopened: change it and submit the new revision."))
        else:
            raise PermissionDenied
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("approvals:general_detail", pk=pk)
