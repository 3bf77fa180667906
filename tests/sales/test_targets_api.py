"""The targets API (/api/v1/sales/targets|dashboard|rankings|rfm/): the same services, scope and
permissions as the pages; errors name the field; money as strings with two places."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from marketdesk.sales.models import SalesTarget, TargetMetric, TargetSubject
from marketdesk.sales.services import targets as services

from .test_targets_rollups import make_order

pytestmark = pytest.mark.django_db
EVEN = [Decimal("1000.00")] * 12
MONTHS = ["100.00"] * 12


@pytest.fixture
def targets(sales_personas, customer):
    p = sales_personas
    made = {}
    for key, who in (("sales1", p.sales1), ("sales2", p.sales2)):
        made[key] = services.target_create(
            actor=p.manager,
            year=2026,
            metric=TargetMetric.ORDER_AMOUNT,
            subject=TargetSubject.PERSON,
            user=who,
            months=EVEN,
        )
    make_order(
        customer=customer,
        owner=p.sales1,
        department=p.units["S1"],
        order_date=datetime.date(2026, 3, 4),
        total="1500.00",
    )
    services.rollups_process()
    return made


class TestTargetsApi:
    def test_list_is_scoped(self, targets, sales_personas, api_for):
        body = api_for(sales_personas.sales1).get("/api/v1/sales/targets/").json()
        assert [row["who"] for row in body["results"]] == ["王芳"]
        assert body["results"][0]["months"][0] == "1000.00"
        assert body["results"][0]["annual"] == "12000.00"
        everyone = api_for(sales_personas.management).get("/api/v1/sales/targets/").json()
        assert everyone["count"] == 2

    def test_filters(self, targets, sales_personas, api_for):
        api = api_for(sales_personas.manager)
        assert api.get("/api/v1/sales/targets/", {"year": 2025}).json()["count"] == 0
        assert api.get("/api/v1/sales/targets/", {"subject": "person"}).json()["count"] == 2

    def test_an_out_of_scope_id_is_a_404(self, targets, sales_personas, api_for):
        response = api_for(sales_personas.sales1).get(
            f"/api/v1/sales/targets/{targets['sales2'].pk}/"
        )
        assert response.status_code == 404

    def test_the_manager_creates_a_target(self, sales_personas, api_for):
        response = api_for(sales_personas.manager).post(
            "/api/v1/sales/targets/",
            {
                "year": 2026,
                "metric": "receipts",
                "subject": "department",
                "department": sales_personas.units["S2"].pk,
                "months": MONTHS,
                "annual": "1200.00",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["annual"] == "1200.00"
        assert response.json()["who"] == "销售二组"

    def test_errors_name_the_field_and_save_nothing(self, sales_personas, api_for):
        api = api_for(sales_personas.manager)
        response = api.post(
            "/api/v1/sales/targets/",
            {
                "year": 2026,
                "metric": "orders",
                "subject": "company",
                "months": MONTHS,
                "annual": "5.00",
            },
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid" and "annual" in response.json()["fields"]
        response = api.post(
            "/api/v1/sales/targets/",
            {"year": 2026, "metric": "orders", "subject": "company", "months": MONTHS[:11]},
            format="json",
        )
        assert "months" in response.json()["fields"]
        response = api.post(
            "/api/v1/sales/targets/",
            {
                "year": 2026,
                "metric": "orders",
                "subject": "department",
                "department": sales_personas.units["FIN"].pk,
                "months": MONTHS,
            },
            format="json",
        )
        assert "department" in response.json()["fields"]
        assert not SalesTarget.objects.exists()

    @pytest.mark.parametrize("who", ["sales1", "leader1", "management", "outsider"])
    def test_others_may_not_create(self, sales_personas, api_for, who):
        response = api_for(getattr(sales_personas, who)).post(
            "/api/v1/sales/targets/",
            {"year": 2026, "metric": "orders", "subject": "company", "months": MONTHS},
            format="json",
        )
        assert response.status_code == 403

    def test_patch_split_actuals_and_delete(self, targets, sales_personas, api_for):
        api = api_for(sales_personas.manager)
        url = f"/api/v1/sales/targets/{targets['sales1'].pk}/"
        response = api.patch(url, {"months": MONTHS}, format="json")
        assert response.status_code == 200 and response.json()["annual"] == "1200.00"
        response = api.patch(url, {"months": MONTHS, "annual": "1.00"}, format="json")
        assert response.status_code == 400 and "annual" in response.json()["fields"]
        response = api.post(f"{url}split/", {"mode": "even", "annual": "1000"}, format="json")
        assert "months" in response.json(), response.json()
        assert response.json()["months"][0] == "83.34"
        response = api.post(f"{url}split/", {"mode": "sideways"}, format="json")
        assert response.status_code == 400 and "mode" in response.json()["fields"]
        actuals = api.get(f"{url}actuals/").json()
        assert actuals["months"][2]["actual"] == "1500.00" and actuals["actual"] == "1500.00"
        assert api_for(sales_personas.sales1).delete(url).status_code == 403
        assert api.delete(url).status_code == 204

    def test_copy(self, targets, sales_personas, api_for):
        api = api_for(sales_personas.manager)
        response = api.post(
            "/api/v1/sales/targets/copy/", {"year": 2027, "percent": "-10"}, format="json"
        )
        assert response.status_code == 201 and len(response.json()) == 2
        assert response.json()[0]["months"][0] == "900.00"
        response = api.post("/api/v1/sales/targets/copy/", {"year": 2031}, format="json")
        assert response.status_code == 400 and "year" in response.json()["fields"]


class TestDashboardApi:
    def test_the_manager_gets_the_figures(self, targets, sales_personas, api_for):
        body = (
            api_for(sales_personas.manager)
            .get("/api/v1/sales/dashboard/", {"year": 2026, "month": 3, "by": "person"})
            .json()
        )
        assert body["level"] == "unit"
        assert body["kpis"][0]["month_actual"] == "1500.00"
        rows = {row["label"]: row for row in body["rows"]}
        assert rows["王芳"]["months"][2]["rate"] == "150.0"
        assert body["rankings"]["boards"][0]["rows"][0]["name"] == "王芳"

    def test_a_salesperson_sees_own_figures_only(self, targets, sales_personas, api_for):
        body = api_for(sales_personas.sales2).get("/api/v1/sales/dashboard/").json()
        assert body["level"] == "self" and [r["label"] for r in body["rows"]] == ["吴涛"]

    def test_forbidden_without_the_permission(self, sales_personas, api_for):
        assert api_for(sales_personas.promo).get("/api/v1/sales/dashboard/").status_code == 403
        assert api_for(sales_personas.outsider).get("/api/v1/sales/rankings/").status_code == 403
        assert (
            api_for(sales_personas.leader1).post("/api/v1/sales/dashboard/rebuild/").status_code
            == 403
        )

    def test_rebuild(self, targets, sales_personas, api_for):
        response = api_for(sales_personas.manager).post("/api/v1/sales/dashboard/rebuild/")
        assert response.status_code == 200 and response.json()["cells"] == 1

    def test_rankings(self, targets, sales_personas, api_for):
        body = (
            api_for(sales_personas.sales1b)
            .get("/api/v1/sales/rankings/", {"year": 2026, "month": 3})
            .json()
        )
        orders = body["boards"][0]
        assert orders["key"] == "orders"
        assert orders["rows"] == [
            {
                "position": 1,
                "user_id": sales_personas.sales1.pk,
                "value": None,
                "name": "王芳",
                "unit": "销售一组",
                "me": False,
                "masked": True,
            }
        ]


class TestRfmApi:
    def test_list_summary_and_compute(self, targets, sales_personas, api_for, customer):
        api = api_for(sales_personas.manager)
        assert api.post("/api/v1/sales/rfm/compute/").json()["scored"] == 1
        body = api.get("/api/v1/sales/rfm/").json()
        assert body["results"][0]["customer_name"] == customer.name
        assert body["results"][0]["order_amount"] == "1500.00"
        summary = api.get("/api/v1/sales/rfm/summary/").json()
        assert len(summary) == 8 and sum(row["count"] for row in summary) == 1
        assert api.get("/api/v1/sales/rfm/", {"segment": "important_value"}).json()["count"] == 0
        assert api_for(sales_personas.sales2).get("/api/v1/sales/rfm/").json()["count"] == 0
        assert api_for(sales_personas.sales1).post("/api/v1/sales/rfm/compute/").status_code == 403
