"""Reads of the approval engine, limited to what the asking user may see."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404

from marketdesk.core.scope import scoped

from .models import (
    ApprovalCC,
    ApprovalFlow,
    ApprovalRequest,
    ApprovalTask,
    Delegation,
    GeneralRequest,
    RequestStatus,
    TaskStatus,
)
from .permissions import ApprovalPerm


def request_list(*, actor) -> QuerySet[ApprovalRequest]:
    """Requests the actor submitted, acts or acted on, is CC'd on, or may see by data scope."""
    base = ApprovalRequest.objects.select_related("submitter", "department", "flow")
    mine = (
        Q(submitter=actor)
        | Q(pk__in=ApprovalTask.objects.filter(approver=actor).values("request_id"))
        | Q(pk__in=ApprovalCC.objects.filter(user=actor).values("request_id"))
    )
    in_scope = scoped(
        ApprovalRequest.objects.all(),
        actor=actor,
        perm=ApprovalPerm.VIEW_REQUEST,
        owner_field="submitter",
        department_field="department",
        shared=False,
    )
    return base.filter(mine | Q(pk__in=in_scope.values("pk"))).distinct()


def request_get(*, actor, pk: int) -> ApprovalRequest:
    request = request_list(actor=actor).filter(pk=pk).first()
    if request is None:
        raise Http404
    return request


def waiting_tasks(*, actor) -> QuerySet[ApprovalTask]:
    """待我审批: tasks waiting for the actor at the request's current step."""
    return (
        ApprovalTask.objects.filter(
            approver=actor,
            status=TaskStatus.WAITING,
            request__status=RequestStatus.IN_PROGRESS,
            step_index=F("request__current_index"),
        )
        .select_related("request__submitter", "request__department")
        .order_by("created_at", "pk")
    )


def decided_tasks(*, actor) -> QuerySet[ApprovalTask]:
    """我已审批."""
    return (
        ApprovalTask.objects.filter(
            approver=actor,
            status__in=[
                TaskStatus.APPROVED,
                TaskStatus.REJECTED,
                TaskStatus.RETURNED,
                TaskStatus.TRANSFERRED,
            ],
        )
        .select_related("request__submitter", "request__department")
        .order_by("-decided_at", "-pk")
    )


def submitted_requests(*, actor) -> QuerySet[ApprovalRequest]:
    """我发起的."""
    return (
        ApprovalRequest.objects.filter(submitter=actor)
        .select_related("department")
        .order_by("-submitted_at", "-pk")
    )


def cc_requests(*, actor) -> QuerySet[ApprovalCC]:
    """抄送我的."""
    return (
        ApprovalCC.objects.filter(user=actor)
        .select_related("request__submitter")
        .order_by("-created_at", "-pk")
    )


def waiting_count(*, actor) -> int:
    return waiting_tasks(actor=actor).count()


def task_get(*, actor, pk: int) -> ApprovalTask:
    task = ApprovalTask.objects.select_related("request").filter(pk=pk, approver=actor).first()
    if task is None:
        raise Http404
    return task


def tasks_of(*, actor, ids: list[int]) -> list[ApprovalTask]:
    """The actor's own tasks among `ids` (others' ids are silently not found)."""
    return list(
        ApprovalTask.objects.filter(pk__in=ids, approver=actor)
        .select_related("request")
        .order_by("pk")
    )


def my_waiting_task(*, actor, request: ApprovalRequest) -> ApprovalTask | None:
    return waiting_tasks(actor=actor).filter(request=request).first()


def requests_for_document(document: Model) -> QuerySet[ApprovalRequest]:
    return (
        ApprovalRequest.objects.filter(
            content_type=ContentType.objects.get_for_model(document), object_id=document.pk
        )
        .select_related("submitter")
        .order_by("-submitted_at", "-pk")
    )


def latest_requests(model: type[Model], ids: list[int]) -> dict[int, ApprovalRequest]:
    """{document id: its latest request} for one page of documents (the caller has already
    limited the documents to what its user may see)."""
    rows = ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=ids
    ).order_by("submitted_at", "pk")
    return {row.object_id: row for row in rows}


def flow_list(*, actor) -> QuerySet[ApprovalFlow]:
    if not actor.has_perm(ApprovalPerm.VIEW_FLOW):
        return ApprovalFlow.objects.none()
    return ApprovalFlow.objects.prefetch_related("steps").order_by("doc_type", "priority", "pk")


def flow_get(*, actor, pk: int) -> ApprovalFlow:
    flow = flow_list(actor=actor).filter(pk=pk).first()
    if flow is None:
        raise Http404
    return flow


def delegation_list(*, actor) -> QuerySet[Delegation]:
    return Delegation.objects.filter(Q(user=actor) | Q(delegate=actor)).select_related(
        "user", "delegate"
    )


def general_request_list(*, actor) -> QuerySet[GeneralRequest]:
    queryset = GeneralRequest.objects.select_related("owner", "department")
    visible = scoped(
        queryset,
        actor=actor,
        perm=ApprovalPerm.VIEW_GENERAL,
        owner_field="owner",
        department_field="department",
    )
    approver_of = ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(GeneralRequest),
        pk__in=ApprovalTask.objects.filter(approver=actor).values("request_id"),
    ).values("object_id")
    return queryset.filter(Q(owner=actor) | Q(pk__in=visible.values("pk")) | Q(pk__in=approver_of))


def general_request_get(*, actor, pk: int) -> GeneralRequest:
    request = general_request_list(actor=actor).filter(pk=pk).first()
    if request is None:
        raise Http404
    return request
