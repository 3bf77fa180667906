"""The finance pages per role: who sees which claims (data scope), 404 for ids out of scope,
who may open budgets, accounting and analysis, and the pages' own flows (over budget offers
a supplementary request, vouchers, finance actions, exports)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from marketdesk.finance import services
from marketdesk.finance.models import ClaimStatus, ExpenseClaim, FinanceSettings

from .conftest import DAY, PDF, approve_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client_for):
    def make(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def claims(personas, make_claim, make_budget):
    """A claim by sales1 (销售一组), sales2 (销售二组) and promo (推广组), all submitted."""
    made = {}
    for who in ("sales1", "sales2", "promo"):
        claim = make_claim(getattr(personas, who), "100.00", title=f"{who} 的报销")
        services.claim_submit(actor=getattr(personas, who), claim=claim)
        made[who] = claim
    return made


VISIBLE = {
    "sales1": {"sales1"},
    "sales2": {"sales2"},
    "leader1": {"sales1"},  # own group
    "leader2": {"sales2"},
    "manager": {"sales1", "sales2", "promo"},  # marketing department and below
    "finance": {"sales1", "sales2", "promo"},
    "management": {"sales1", "sales2", "promo"},
    "sales1b": set(),
    "service": set(),
}


class TestClaimScope:
    @pytest.mark.parametrize("who", sorted(VISIBLE))
    def test_each_role_lists_what_its_scope_allows(self, personas, claims, as_user, who):
        response = as_user(getattr(personas, who)).get("/finance/claims/")
        assert response.status_code == 200
        page = response.content.decode()
        seen = {owner for owner, claim in claims.items() if claim.number in page}
        assert seen == VISIBLE[who]

    @pytest.mark.parametrize("who", ["sales1b", "sales2", "leader2", "service", "promo"])
    def test_an_out_of_scope_id_is_a_404(self, personas, claims, as_user, who):
        response = as_user(getattr(personas, who)).get(f"/finance/claims/{claims['sales1'].pk}/")
        assert response.status_code == 404

    def test_an_outsider_has_no_finance_pages(self, personas, claims, as_user):
        client = as_user(personas.outsider)
        assert client.get("/finance/claims/").status_code == 403
        assert client.get(f"/finance/claims/{claims['sales1'].pk}/").status_code == 404

    def test_the_approver_sees_the_claim_and_who_holds_it(self, personas, claims, as_user):
        response = as_user(personas.sales1).get(f"/finance/claims/{claims['sales1'].pk}/")
        assert "Waiting for" in response.content.decode()
        assert "李强" in response.content.decode()  # the group leader holds it


class TestPagePermissions:
    @pytest.mark.parametrize(
        "url,allowed",
        [
            ("/finance/budgets/", {"manager", "finance", "management"}),
            ("/finance/budgets/new/", {"manager", "finance"}),
            ("/finance/accounting/", {"finance", "management"}),
            ("/finance/analysis/", {"manager", "finance", "management"}),
            (
                "/finance/claims/new/",
                {"sales1", "leader1", "manager", "promo", "service", "finance"},
            ),
        ],
    )
    def test_who_may_open_it(self, personas, as_user, budget, url, allowed):
        for who in (
            "sales1",
            "leader1",
            "manager",
            "promo",
            "service",
            "finance",
            "management",
            "outsider",
        ):
            status = as_user(getattr(personas, who)).get(url).status_code
            assert (status == 200) == (who in allowed), (who, status)

    def test_a_salesperson_cannot_post_a_claim(
        self, personas, claims, as_user, django_capture_on_commit_callbacks
    ):
        approve_all(
            _latest(claims["sales1"]),
            personas,
            django_capture_on_commit_callbacks,
        )
        claim = ExpenseClaim.objects.get(pk=claims["sales1"].pk)
        assert claim.status == ClaimStatus.APPROVED
        as_user(personas.sales1).post(f"/finance/claims/{claim.pk}/review/", {"note": ""})
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.APPROVED


def _latest(claim):
    from marketdesk.approvals.services import latest_request

    return latest_request(claim)


class TestClaimPages:
    def test_create_add_an_invoice_and_submit(self, personas, as_user, line_of, category, flows):
        client = as_user(personas.sales1)
        response = client.post(
            "/finance/claims/new/",
            {
                "title": "杭州出差",
                "expense_request": "",
                "lines-TOTAL_FORMS": "1",
                "lines-INITIAL_FORMS": "0",
                "lines-MIN_NUM_FORMS": "1",
                "lines-MAX_NUM_FORMS": "1000",
                "lines-0-spent_on": DAY.isoformat(),
                "lines-0-category": category("travel").pk,
                "lines-0-budget_line": line_of().pk,
                "lines-0-amount": "880.00",
                "lines-0-description": "高铁",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        claim = ExpenseClaim.objects.get(title="杭州出差")
        response = client.post(
            f"/finance/claims/{claim.pk}/vouchers/",
            {
                "line": claim.lines.get().pk,
                "kind": "invoice",
                "code": "031002400111",
                "number": "77001234",
                "issued_on": DAY.isoformat(),
                "amount": "880.00",
                "tax": "0",
                "file": SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"),
            },
        )
        assert response.status_code == 302
        assert claim.vouchers.get().attachment is not None
        client.post(f"/finance/claims/{claim.pk}/submit/")
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.SUBMITTED
        assert line_of().committed == Decimal("880.00")

    def test_bad_line_input_changes_nothing_and_names_the_field(
        self, personas, as_user, line_of, category
    ):
        response = as_user(personas.sales1).post(
            "/finance/claims/new/",
            {
                "title": "x",
                "lines-TOTAL_FORMS": "1",
                "lines-INITIAL_FORMS": "0",
                "lines-0-spent_on": DAY.replace(month=6).isoformat(),  # Q2, the line is Q1
                "lines-0-category": category("travel").pk,
                "lines-0-budget_line": line_of().pk,
                "lines-0-amount": "10",
                "lines-0-description": "x",
            },
        )
        assert response.status_code == 200
        assert 'data-field="spent_on"' in response.content.decode()
        assert not ExpenseClaim.objects.exists()

    def test_over_budget_offers_a_prefilled_supplementary_request(
        self, personas, as_user, make_claim, line_of
    ):
        FinanceSettings.objects.update(request_threshold=Decimal("99999"))
        claim = make_claim(personas.sales1, "10500.00")
        client = as_user(personas.sales1)
        client.post(f"/finance/claims/{claim.pk}/submit/")
        page = client.get(f"/finance/claims/{claim.pk}/").content.decode()
        assert 'id="md-ask-supplement"' in page
        assert f"line={line_of().pk}" in page and "amount=500.00" in page
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.DRAFT
        form = client.get(
            f"/finance/adjustments/new/?kind=supplement&line={line_of().pk}&amount=500.00"
        )
        assert form.status_code == 200
        assert 'value="500.00"' in form.content.decode()

    def test_finance_reviews_posts_and_pays_on_the_page(
        self, personas, as_user, make_claim, line_of, django_capture_on_commit_callbacks
    ):
        claim = make_claim(personas.sales1, "300.00")
        approve_all(
            services.claim_submit(actor=personas.sales1, claim=claim),
            personas,
            django_capture_on_commit_callbacks,
        )
        client = as_user(personas.finance)
        line = claim.lines.get()
        client.post(
            f"/finance/claims/{claim.pk}/review/", {f"line_{line.pk}": "300.00", "note": ""}
        )
        client.post(
            f"/finance/claims/{claim.pk}/post/",
            {"voucher_no": "记-0001", "posted_on": "2026-03-01", "account": "6601.21"},
        )
        client.post(f"/finance/claims/{claim.pk}/pay/", {"paid_on": "2026-03-05", "method": "bank"})
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PAID and claim.voucher_no == "记-0001"
        export = client.get(
            "/finance/accounting/", {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"}
        )
        assert "记-0001" in b"".join(export.streaming_content).decode("utf-8-sig")


class TestBudgetPages:
    def test_the_manager_builds_and_submits_a_budget(self, personas, as_user, category, flows):
        client = as_user(personas.manager)
        response = client.post(
            "/finance/budgets/new/",
            {
                "fiscal_year": "2026",
                "department": personas.units["S2"].pk,
                "name": "",
                "period_kind": "quarter",
            },
        )
        assert response.status_code == 302
        pk = int(response["Location"].rstrip("/").split("/")[-1])
        client.post(
            f"/finance/budgets/{pk}/lines/",
            {
                "category": category("travel").pk,
                "mode": "block",
                "p1": "1000",
                "p2": "1000",
                "p3": "1000",
                "p4": "1000",
            },
        )
        client.post(f"/finance/budgets/{pk}/submit/")
        page = client.get(f"/finance/budgets/{pk}/").content.decode()
        assert "In approval" in page and "4,000.00" in page

    def test_analysis_shows_a_dash_without_a_metric_provider(
        self, personas, as_user, make_claim, django_capture_on_commit_callbacks
    ):
        claim = make_claim(personas.sales1, "300.00")
        approve_all(
            services.claim_submit(actor=personas.sales1, claim=claim),
            personas,
            django_capture_on_commit_callbacks,
        )
        page = (
            as_user(personas.manager).get("/finance/analysis/?year=2026&by=family").content.decode()
        )
        assert "md-chart-trend" in page
        assert "Sales costs" in page
        assert "—" in page.split('id="md-results"')[1]

    def test_the_workbench_shows_finance_to_dos(
        self, personas, as_user, make_claim, django_capture_on_commit_callbacks
    ):
        claim = make_claim(personas.sales1, "300.00")
        approve_all(
            services.claim_submit(actor=personas.sales1, claim=claim),
            personas,
            django_capture_on_commit_callbacks,
        )
        page = as_user(personas.finance).get("/").content.decode()
        assert "Claims waiting for finance review" in page

    def test_search_finds_a_claim_by_number_in_scope_only(self, personas, as_user, claims):
        number, url = claims["sales1"].number, f"/finance/claims/{claims['sales1'].pk}/"
        assert url in as_user(personas.leader1).get("/search/", {"q": number}).content.decode()
        assert url not in as_user(personas.sales2).get("/search/", {"q": number}).content.decode()
