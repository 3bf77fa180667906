"""Plain helpers of the approval tests (fixtures are in conftest.py)."""

from __future__ import annotations

from marketdesk.approvals.models import ApprovalRequest, ApprovalTask, StepMode, TaskStatus

DOC_TYPE = "approvals.general"


def step(name: str, kind: str, **fields) -> dict:
    """One step of a flow as services.flow_save takes it ('any one approves' unless told)."""
    return {"name": name, "approver_kind": kind, "mode": StepMode.ANY, **fields}


def waiting_approvers(request: ApprovalRequest) -> list[str]:
    return sorted(
        ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).values_list(
            "approver__username", flat=True
        )
    )


def task_of(request: ApprovalRequest, user) -> ApprovalTask:
    return ApprovalTask.objects.get(request=request, approver=user, status=TaskStatus.WAITING)


def plan_approvers(request: ApprovalRequest, personas) -> list[list[str]]:
    names = {personas.employees[key].user.pk: key for key in personas.employees}
    return [[names[i] for i in planned["approvers"]] for planned in request.plan]
