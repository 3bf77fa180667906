"""An approval in the browser, end to end: 王芳 submits a ¥12,000 general request, 李强
approves it in his inbox row, 张伟 approves it on the request page, and 王芳 sees it approved."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from marketdesk.approvals import services
from marketdesk.approvals.models import (
    ApprovalRequest,
    ApproverKind,
    GeneralRequest,
    NoApprover,
    RequestStatus,
    SelfApproval,
    StepMode,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips these tests and says why
    expect = None

pytestmark = pytest.mark.browser


@pytest.fixture
def authority_flow(e2e_personas):
    """≤¥5,000 the group leader; ≤¥50,000 also the marketing manager; above also management."""
    units = e2e_personas.units
    return services.flow_save(
        actor=e2e_personas.admin,
        flow=None,
        fields={
            "name": "通用审批（按金额分级）",
            "doc_type": "approvals.general",
            "priority": 10,
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 24,
        },
        departments=[],
        cc_users=[],
        steps=[
            {"name": "直属上级", "approver_kind": ApproverKind.SUPERVISOR, "mode": StepMode.ANY},
            {
                "name": "营销部经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["MKT"],
                "mode": StepMode.ANY,
                "min_amount": Decimal("5000.01"),
            },
            {
                "name": "总经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["GM"],
                "mode": StepMode.ANY,
                "min_amount": Decimal("50000.01"),
            },
        ],
    )


def sign_out(page) -> None:
    page.click("#md-user-menu")
    page.click("#md-logout")
    expect(page.locator('main[data-view="core:login"]')).to_be_visible()


def test_a_general_request_goes_through_two_approvers(page, e2e_personas, authority_flow, sign_in):
    # 王芳 fills in the form and sends it with "Save and submit"
    sign_in(page, "sales1")
    page.goto("/approvals/general/new/")
    expect(page.locator('main[data-view="approvals:general_create"]')).to_be_visible()
    page.fill("#id_title", "上海国际车展展位租赁")
    page.select_option("#id_kind", "event")
    page.fill("#id_amount", "12000")
    page.fill("#id_description", "9号馆 36㎡ 标准展位")
    page.click("#md-save-submit")
    expect(page.locator('main[data-view="approvals:general_detail"]')).to_be_visible()
    document = GeneralRequest.objects.get(title="上海国际车展展位租赁")
    approval = ApprovalRequest.objects.get(object_id=document.pk)
    assert approval.amount == Decimal("12000.00")
    assert [step["name"] for step in approval.plan] == ["直属上级", "营销部经理"]
    expect(page.locator("main h1 .badge")).to_have_class("badge text-bg-primary")
    sign_out(page)

    # 李强 approves in his inbox, in the row (htmx swaps the row)
    sign_in(page, "leader1")
    page.click("#md-sidebar a[href='/approvals/']")
    expect(page.locator('main[data-view="approvals:inbox"]')).to_be_visible()
    task = approval.tasks.get()
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("上海国际车展展位租赁")
    expect(row).to_contain_text(re.compile(r"¥12,?000"))  # zh-Hans formats have no grouping
    row.locator("button[data-action=approve]").click()
    expect(page.locator(f"#task-{task.pk}[data-outcome=approved]")).to_be_visible()
    sign_out(page)

    # 张伟 approves on the request page
    sign_in(page, "manager")
    page.goto(f"/approvals/requests/{approval.pk}/")
    expect(page.locator("#decide")).to_contain_text("营销部经理")
    page.fill("#decide textarea[name=comment]", "预算内，同意")
    page.click("#md-approve")
    expect(page.locator("#md-request-status .badge")).to_have_class("badge text-bg-success")
    expect(page.locator("#decide")).to_have_count(0)
    sign_out(page)

    # 王芳 sees it approved on her request's page
    sign_in(page, "sales1")
    page.goto(f"/approvals/general/{document.pk}/")
    expect(page.locator("main h1 .badge")).to_have_class("badge text-bg-success")
    expect(page.locator("main h1 .bi-lock-fill")).to_be_visible()  # approved: locked
    approval.refresh_from_db()
    assert approval.status == RequestStatus.APPROVED
