"""Fixtures of the approval tests: flows are set up through services.flow_save as the
administrator, documents are general requests created and submitted through their services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketdesk.approvals import general, services
from marketdesk.approvals.models import ApprovalRequest, ApproverKind, NoApprover, SelfApproval

from .helpers import DOC_TYPE, step


@pytest.fixture
def make_flow(personas):
    """make_flow(steps, **flow fields) -> an active flow for general requests."""

    def make(steps, *, departments=(), cc_users=(), **fields):
        values = {
            "name": fields.pop("name", "测试流程"),
            "doc_type": DOC_TYPE,
            "priority": 100,
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 0,
            **fields,
        }
        return services.flow_save(
            actor=personas.admin,
            flow=None,
            fields=values,
            departments=list(departments),
            cc_users=list(cc_users),
            steps=steps,
        )

    return make


@pytest.fixture
def authority_flow(personas, make_flow):
    """R7.2.2 authority levels in one flow: up to ¥5,000 the group leader (supervisor); up to
    ¥50,000 also the marketing manager; above that also management."""
    return make_flow(
        [
            step("直属上级", ApproverKind.SUPERVISOR),
            step(
                "营销部经理",
                ApproverKind.NAMED_DEPARTMENT_HEAD,
                department=personas.units["MKT"],
                min_amount=Decimal("5000.01"),
            ),
            step(
                "总经理",
                ApproverKind.NAMED_DEPARTMENT_HEAD,
                department=personas.units["GM"],
                min_amount=Decimal("50000.01"),
            ),
        ],
        name="通用审批（按金额分级）",
    )


@pytest.fixture
def new_doc():
    """new_doc(owner, amount="12000.00", kind="general") -> a draft general request."""

    def make(owner, amount: str | None = "12000.00", kind: str = "general", title: str = ""):
        return general.general_request_create(
            actor=owner,
            title=title or f"{owner.name}的申请",
            kind=kind,
            amount=Decimal(amount) if amount is not None else None,
            description="测试",
        )

    return make


@pytest.fixture
def submit(new_doc):
    """submit(owner, amount=..., kind=...) -> the ApprovalRequest of a new, submitted document."""

    def make(owner, amount: str | None = "12000.00", kind: str = "general") -> ApprovalRequest:
        document = new_doc(owner, amount, kind)
        return general.general_request_submit(actor=owner, request=document)

    return make
