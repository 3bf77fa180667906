"""The finance REST API: the same scope and permissions as the pages, a claim from draft to
payment, over-budget and duplicate-invoice errors in the API's error shape, the schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.validation import validate_schema

from marketdesk.finance import services
from marketdesk.finance.models import ClaimStatus, ExpenseClaim, FinanceSettings

from .conftest import DAY, PDF, approve_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_for):
    def make(user):
        client = api_for(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        return client

    return make


def claim_body(line, category, amount="500.00"):
    return {
        "title": "API 报销",
        "lines": [
            {
                "spent_on": DAY.isoformat(),
                "category": category("travel").pk,
                "budget_line": line.pk,
                "amount": amount,
                "description": "出租车",
            }
        ],
    }


class TestClaimsApi:
    def test_a_claim_from_draft_to_payment(
        self, personas, api, line_of, category, flows, django_capture_on_commit_callbacks
    ):
        client = api(personas.sales1)
        response = client.post(
            "/api/v1/finance/claims/", claim_body(line_of(), category), format="json"
        )
        assert response.status_code == 201, response.json()
        claim_id, line_id = response.json()["id"], response.json()["lines"][0]["id"]
        response = client.post(
            f"/api/v1/finance/claims/{claim_id}/vouchers/",
            {
                "line": line_id,
                "kind": "invoice",
                "code": "031002400111",
                "number": "55550001",
                "amount": "500.00",
                "tax": "0",
                "file": SimpleUploadedFile("fp.pdf", PDF, content_type="application/pdf"),
            },
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        response = client.post(f"/api/v1/finance/claims/{claim_id}/submit/", {}, format="json")
        assert response.status_code == 201, response.json()
        assert client.get(f"/api/v1/finance/claims/{claim_id}/").json()["waiting_for"] == ["李强"]
        approve_all(
            services.claims.approvals.latest_request(ExpenseClaim.objects.get(pk=claim_id)),
            personas,
            django_capture_on_commit_callbacks,
        )
        finance = api(personas.finance)
        assert (
            finance.post(
                f"/api/v1/finance/claims/{claim_id}/review/", {}, format="json"
            ).status_code
            == 200
        )
        response = finance.post(
            f"/api/v1/finance/claims/{claim_id}/post/", {"voucher_no": "记-77"}, format="json"
        )
        assert response.status_code == 200 and response.json()["status"] == "posted"
        response = finance.post(f"/api/v1/finance/claims/{claim_id}/pay/", {}, format="json")
        assert response.json()["status"] == ClaimStatus.PAID
        line = api(personas.manager).get(f"/api/v1/finance/budget-lines/{line_of().pk}/").json()
        assert Decimal(line["spent"]) == Decimal("500.00")

    def test_only_finance_may_review(
        self, personas, api, make_claim, django_capture_on_commit_callbacks
    ):
        claim = make_claim(personas.sales1, "100.00")
        approve_all(
            services.claim_submit(actor=personas.sales1, claim=claim),
            personas,
            django_capture_on_commit_callbacks,
        )
        for who in ("sales1", "leader1", "manager", "management"):
            response = api(getattr(personas, who)).post(
                f"/api/v1/finance/claims/{claim.pk}/review/", {}, format="json"
            )
            assert response.status_code == 403, who

    def test_over_budget_is_a_400_naming_the_line(self, personas, api, make_claim):
        FinanceSettings.objects.update(request_threshold=Decimal("99999"))
        claim = make_claim(personas.sales1, "10000.01")
        response = api(personas.sales1).post(
            f"/api/v1/finance/claims/{claim.pk}/submit/", {}, format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid" and "budget_line" in body["fields"]

    def test_a_duplicate_invoice_names_the_earlier_claim(self, personas, api, make_claim):
        first = make_claim(personas.sales1, "100.00")
        invoice = first.vouchers.get()
        second = make_claim(personas.sales1b, "100.00", invoice=False)
        response = api(personas.sales1b).post(
            f"/api/v1/finance/claims/{second.pk}/vouchers/",
            {
                "line": second.lines.get().pk,
                "code": invoice.code,
                "number": invoice.number,
                "amount": "100",
            },
            format="json",
        )
        assert response.status_code == 400
        assert first.number in response.json()["fields"]["number"][0]

    def test_scope_and_no_id_guessing(self, personas, api, make_claim):
        claim = make_claim(personas.sales1, "100.00")
        assert api(personas.sales2).get(f"/api/v1/finance/claims/{claim.pk}/").status_code == 404
        assert api(personas.outsider).get(f"/api/v1/finance/claims/{claim.pk}/").status_code == 403
        ids = [
            row["id"]
            for row in api(personas.leader1).get("/api/v1/finance/claims/").json()["results"]
        ]
        assert ids == [claim.pk]
        assert api(personas.sales2).get("/api/v1/finance/claims/").json()["count"] == 0

    def test_a_line_out_of_reach_cannot_be_charged(self, personas, api, make_budget, category):
        budget = make_budget(unit="S2")
        line = budget.lines.get(category=category("travel"), period=1)
        response = api(personas.sales1).post(
            "/api/v1/finance/claims/", claim_body(line, category), format="json"
        )
        assert response.status_code == 400
        assert any(key.endswith("budget_line") for key in response.json()["fields"])
        assert not ExpenseClaim.objects.exists()


class TestBudgetsApi:
    def test_the_manager_creates_sets_lines_and_submits(self, personas, api, category, flows):
        client = api(personas.manager)
        response = client.post(
            "/api/v1/finance/budgets/",
            {
                "fiscal_year": 2026,
                "department": personas.units["S1"].pk,
                "period_kind": "quarter",
                "name": "销售一组预算",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        pk = response.json()["id"]
        response = client.post(
            f"/api/v1/finance/budgets/{pk}/lines/",
            {"category": category("samples").pk, "amounts": ["100", "100", "100", "100"]},
            format="json",
        )
        assert response.status_code == 200 and len(response.json()) == 4
        assert (
            client.post(f"/api/v1/finance/budgets/{pk}/submit/", {}, format="json").status_code
            == 201
        )
        assert client.get(f"/api/v1/finance/budgets/{pk}/").json()["status"] == "submitted"

    def test_a_salesperson_may_not_create_or_list_budgets(self, personas, api, budget):
        client = api(personas.sales1)
        assert client.get("/api/v1/finance/budgets/").status_code == 403
        response = client.post(
            "/api/v1/finance/budgets/",
            {"fiscal_year": 2027, "department": personas.units["S1"].pk},
            format="json",
        )
        assert response.status_code == 403

    def test_a_duplicate_budget_is_a_field_error(self, personas, api, budget):
        response = api(personas.manager).post(
            "/api/v1/finance/budgets/",
            {"fiscal_year": 2026, "department": personas.units["MKT"].pk},
            format="json",
        )
        assert response.status_code == 400 and "fiscal_year" in response.json()["fields"]

    def test_the_ledger_of_a_line(self, personas, api, make_claim, line_of):
        claim = make_claim(personas.sales1, "100.00")
        services.claim_submit(actor=personas.sales1, claim=claim)
        rows = (
            api(personas.finance)
            .get(f"/api/v1/finance/budget-lines/{line_of().pk}/entries/")
            .json()
        )
        assert [(row["kind"], row["source_label"]) for row in rows] == [("commit", claim.number)]

    def test_a_supplement_request_through_the_api(self, personas, api, line_of, flows):
        response = api(personas.sales1).post(
            "/api/v1/finance/adjustments/",
            {"kind": "supplement", "line": line_of().pk, "amount": "800", "reason": "展会加场"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        pk = response.json()["id"]
        assert (
            api(personas.sales1)
            .post(f"/api/v1/finance/adjustments/{pk}/submit/", {}, format="json")
            .status_code
            == 201
        )

    def test_categories_are_readable_by_anyone_signed_in(self, personas, api, category):
        codes = {
            row["code"] for row in api(personas.outsider).get("/api/v1/finance/categories/").json()
        }
        assert {"promotion", "sales", "service", "travel", "advertising", "care-gifts"} <= codes


class TestSchema:
    def test_the_finance_endpoints_are_in_the_schema_without_warnings(self, personas, api):
        from drf_spectacular.drainage import GENERATOR_STATS

        GENERATOR_STATS.reset()
        response = api(personas.admin).get("/api/schema/", {"format": "json"})
        schema = response.json()
        validate_schema(schema)
        assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
        assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
        for path in (
            "/api/v1/finance/claims/",
            "/api/v1/finance/claims/{id}/submit/",
            "/api/v1/finance/claims/{id}/post/",
            "/api/v1/finance/budgets/{id}/copy/",
            "/api/v1/finance/budget-lines/{id}/entries/",
            "/api/v1/finance/adjustments/",
            "/api/v1/finance/requests/{id}/close/",
        ):
            assert path in schema["paths"], path


class TestCostObjects:
    def test_a_line_for_a_cost_object(self, personas, api, category, flows):
        from django.contrib.contenttypes.models import ContentType

        client = api(personas.manager)
        budget = services.budget_create(
            actor=personas.manager, fiscal_year=2026, department=personas.units["PRO"]
        )
        department_type = ContentType.objects.get(app_label="org", model="department")
        body = {
            "category": category("events").pk,
            "period": 2,
            "amount": "20000",
            "cost_object_type": department_type.pk,
            "cost_object_id": personas.units["S1"].pk,
        }
        response = client.post(
            f"/api/v1/finance/budgets/{budget.pk}/add-line/", body, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["cost_object_id"] == personas.units["S1"].pk
        body["cost_object_id"] = 999999
        response = client.post(
            f"/api/v1/finance/budgets/{budget.pk}/add-line/", body, format="json"
        )
        assert response.status_code == 400 and "cost_object_id" in response.json()["fields"]
