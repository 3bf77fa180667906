"""An expense claim in the browser, end to end (R7.2.2, R7.3.1): 王芳 fills in a claim, adds
the invoice with its scan and submits it; 李强 and 张伟 approve it at two levels; 马丽华 of
finance reviews and posts it; the budget page shows the spent amount changed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import ApproverKind, NoApprover, SelfApproval, StepMode
from marketdesk.finance import services
from marketdesk.finance.models import ClaimStatus, ExpenseCategory, ExpenseClaim
from tests.finance.conftest import ensure_categories

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips these tests and says why
    expect = None

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _flow(admin, doc_type, steps):
    approvals.flow_save(
        actor=admin,
        flow=None,
        fields={
            "name": doc_type,
            "doc_type": doc_type,
            "priority": 10,
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 24,
        },
        departments=[],
        cc_users=[],
        steps=[{"mode": StepMode.ANY, **step} for step in steps],
    )


@pytest.fixture
def approved_budget(e2e_personas):
    """营销部 FY2026, travel ¥10,000 a quarter, approved by 刘总 (hooks run at commit here)."""
    ensure_categories()
    people, units = e2e_personas, e2e_personas.units
    gm = {
        "name": "总经理",
        "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
        "department": units["GM"],
    }
    _flow(people.admin, "finance.budget", [gm])
    _flow(
        people.admin,
        "finance.expense_claim",
        [
            {"name": "直属上级", "approver_kind": ApproverKind.SUPERVISOR},
            {
                "name": "营销部经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["MKT"],
            },
            {**gm, "min_amount": Decimal("5000.01")},
        ],
    )
    budget = services.budget_create(actor=people.manager, fiscal_year=2026, department=units["MKT"])
    travel = ExpenseCategory.objects.get(code="travel")
    services.budget_category_set(
        actor=people.manager, budget=budget, category=travel, amounts=[Decimal("10000")] * 4
    )
    request = services.budget_submit(actor=people.manager, budget=budget)
    approvals.task_approve(actor=people.management, task=request.tasks.get())
    budget.refresh_from_db()
    assert budget.status == "approved"
    return budget


def sign_out(page) -> None:
    page.click("#md-user-menu")
    page.click("#md-logout")
    expect(page.locator('main[data-view="core:login"]')).to_be_visible()


def approve_on_request_page(page, claim) -> None:
    approval = approvals.latest_request(claim)
    page.goto(f"/approvals/requests/{approval.pk}/")
    page.fill("#decide textarea[name=comment]", "同意")
    page.click("#md-approve")
    expect(page.locator("#md-request-status .badge")).to_be_visible()


def test_a_claim_is_approved_at_two_levels_and_posted(page, e2e_personas, approved_budget, sign_in):
    line = approved_budget.lines.get(category__code="travel", period=1)

    # 王芳 fills in the claim
    sign_in(page, "sales1")
    page.goto("/finance/claims/new/")
    expect(page.locator('main[data-view="finance:claim_create"]')).to_be_visible()
    page.fill("#id_title", "杭州客户拜访差旅")
    page.fill("#id_lines-0-spent_on", "2026-02-10")
    page.select_option("#id_lines-0-category", str(line.category_id))
    page.select_option("#id_lines-0-budget_line", str(line.pk))
    page.fill("#id_lines-0-amount", "880")
    page.fill("#id_lines-0-description", "上海—杭州高铁往返及一晚住宿")
    page.click("#md-save-claim")
    expect(page.locator('main[data-view="finance:claim_detail"]')).to_be_visible()
    claim = ExpenseClaim.objects.get(title="杭州客户拜访差旅")

    # ... adds the invoice with its scan, and submits
    page.click("button[data-bs-target='#tab-vouchers']")
    page.fill("#id_code", "031002400111")
    page.fill("#id_number", "20260210")
    page.fill("#id_issued_on", "2026-02-10")
    page.fill("#id_amount", "880")
    page.set_input_files(
        "#id_file", files=[{"name": "发票.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click("#md-add-voucher")
    expect(page.locator("#md-vouchers")).to_contain_text("20260210")
    expect(page.locator("#md-vouchers")).to_contain_text("发票.pdf")
    page.click("#md-submit-claim")
    expect(page.locator("#md-claim-status")).to_have_attribute("data-status", "submitted")
    expect(page.locator("#md-claim-holders")).to_contain_text("李强")
    sign_out(page)

    # 李强 (group leader) and 张伟 (marketing manager) approve
    sign_in(page, "leader1")
    approve_on_request_page(page, claim)
    sign_out(page)
    sign_in(page, "manager")
    approve_on_request_page(page, claim)
    page.goto(f"/finance/budgets/{approved_budget.pk}/")
    expect(page.locator("#md-budget-spent")).to_contain_text("880.00")
    sign_out(page)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED

    # 马丽华 (finance) reviews and posts it
    sign_in(page, "finance")
    page.goto(f"/finance/claims/{claim.pk}/")
    expect(page.locator("#md-review")).to_be_visible()  # waiting for finance review
    page.click("#md-review-claim")
    expect(page.locator("#md-claim-status")).to_have_attribute("data-status", "reviewed")
    page.fill("#md-post input[name=voucher_no]", "记-2026-02-0015")
    page.click("#md-post-claim")
    expect(page.locator("#md-claim-status")).to_have_attribute("data-status", "posted")
    expect(page.locator("#md-voucher-no")).to_have_text("记-2026-02-0015")

    # ... and sees the budget's spent amount changed
    page.goto(f"/finance/lines/{line.pk}/")
    expect(page.locator("#md-line-spent")).to_contain_text("880.00")
    expect(page.locator("#md-line-available")).to_contain_text("9,120.00")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.POSTED


PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


def test_the_claim_pages_fit_a_phone(open_page, e2e_personas, approved_budget, sign_in):
    page = open_page(**PHONE)
    sign_in(page, "sales1")
    for url in ("/finance/claims/", "/finance/claims/new/"):
        page.goto(url)
        expect(page.locator("main h1")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, url
