"""The opportunities REST API: the same scope and rules as the pages, an opportunity from open
to won through moves, errors in the API's error shape, 404 for ids out of scope, the funnel and
pipeline, stage groups and competitors with their permissions, and the schema."""

# ruff: noqa: F811  (the fixtures imported from test_opportunities_fixtures)
from __future__ import annotations

import pytest
from drf_spectacular.validation import validate_schema

from marketdesk.sales.models import Opportunity, OpportunityStatus, StageGroup
from marketdesk.sales.services import opportunities as services

from .test_opportunities_fixtures import (  # noqa: F401
    customers,
    groups,
    make_opp,
    rivals,
    root,
    stage,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/sales/opportunities/"


@pytest.fixture
def api(api_for):
    def make(user):
        client = api_for(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        return client

    return make


class TestOpportunities:
    def test_open_move_and_win(self, sales_personas, customers, groups, rivals, api):
        client = api(sales_personas.sales1)
        response = client.post(
            BASE,
            {
                "name": "API 商机",
                "customer": customers["s1"].pk,
                "contact": customers["s1"].contacts.first().pk,
                "expected_amount": "200000.00",
                "expected_close_date": "2026-05-31",
                "competitors": [rivals["华为"].pk],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["number"].startswith("SJ-")
        assert (body["stage_name"], body["win_percent"], body["weighted_amount"]) == (
            "初步接洽",
            10,
            "20000.00",
        )
        assert body["competitors"][0]["name"] == "华为"
        url = f"{BASE}{body['id']}/"
        response = client.post(
            f"{url}move/", {"stage": stage(groups["default"], "商务谈判").pk}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["weighted_amount"] == "140000.00"
        response = client.post(f"{url}win/", {"reason": "签约"}, format="json")
        assert response.json()["status"] == "won"
        response = client.post(
            f"{url}move/", {"stage": stage(groups["default"], "需求确认").pk}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert "reopen it first" in response.json()["message"]
        response = client.post(f"{url}reopen/", {}, format="json")
        assert response.json()["status"] == "open"

    def test_errors_name_the_fields(self, sales_personas, customers, groups, api):
        client = api(sales_personas.sales1)
        response = client.post(
            BASE,
            {"name": "x", "customer": customers["s1b"].pk, "expected_amount": "-1"},
            format="json",
        )
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"customer", "expected_amount"}
        response = client.post(
            BASE,
            {
                "name": "x",
                "customer": customers["s1"].pk,
                "contact": customers["s2"].contacts.first().pk,
            },
            format="json",
        )
        assert response.json()["fields"] == {
            "contact": ["This contact belongs to another customer."]
        }
        response = client.post(
            BASE,
            {
                "name": "x",
                "customer": customers["s1"].pk,
                "stage": stage(groups["s2"], "招投标").pk,
            },
            format="json",
        )
        assert "stage" in response.json()["fields"]
        assert not Opportunity.objects.exists()

    def test_lost_needs_a_reason_and_may_name_the_competitor(
        self, sales_personas, make_opp, rivals, api
    ):
        opportunity = make_opp("sales1")
        client = api(sales_personas.sales1)
        response = client.post(f"{BASE}{opportunity.pk}/lose/", {"reason": ""}, format="json")
        assert response.status_code == 400 and "reason" in response.json()["fields"]
        response = client.post(
            f"{BASE}{opportunity.pk}/lose/",
            {"reason": "价格", "competitor": rivals["浪潮"].pk},
            format="json",
        )
        assert (response.json()["status"], response.json()["lost_to"]) == (
            "lost",
            rivals["浪潮"].pk,
        )

    def test_invalidate_and_patch(self, sales_personas, make_opp, groups, api):
        opportunity = make_opp("sales1")
        client = api(sales_personas.sales1)
        response = client.patch(
            f"{BASE}{opportunity.pk}/",
            {"expected_amount": "5000.00", "stage": stage(groups["default"], "方案报价").pk},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert (response.json()["expected_amount"], response.json()["stage_name"]) == (
            "5000.00",
            "方案报价",
        )
        assert opportunity.stage_changes.count() == 2
        response = client.post(f"{BASE}{opportunity.pk}/invalidate/", {}, format="json")
        assert response.status_code == 400
        response = client.post(
            f"{BASE}{opportunity.pk}/invalidate/", {"reason": "重复"}, format="json"
        )
        assert response.json()["status"] == "invalid"

    def test_convert_gives_the_order_form_address(self, sales_personas, make_opp, api):
        opportunity = make_opp("sales1")
        response = api(sales_personas.sales1).post(f"{BASE}{opportunity.pk}/convert/")
        assert response.status_code == 200
        assert response.json()["order_url"].startswith("/sales/orders/new/?opportunity=")
        assert response.json()["opportunity"]["status"] == OpportunityStatus.WON

    def test_scope_and_404(self, sales_personas, make_opp, groups, api):
        mine = make_opp("sales1")
        theirs = make_opp("sales2")
        listed = api(sales_personas.leader1).get(BASE).json()
        assert [row["id"] for row in listed["results"]] == [mine.pk]
        client = api(sales_personas.sales1b)
        assert client.get(f"{BASE}{mine.pk}/").status_code == 404
        assert (
            client.post(
                f"{BASE}{mine.pk}/move/",
                {"stage": stage(groups["default"], "需求确认").pk},
                format="json",
            ).status_code
            == 404
        )
        assert api(sales_personas.manager).get(f"{BASE}{theirs.pk}/").status_code == 200

    def test_read_only_and_no_access_roles(self, sales_personas, make_opp, customers, api):
        opportunity = make_opp("sales1")
        management = api(sales_personas.management)
        assert management.get(f"{BASE}{opportunity.pk}/").status_code == 200
        assert management.post(f"{BASE}{opportunity.pk}/win/", {}, format="json").status_code == 403
        assert (
            management.post(
                BASE, {"name": "x", "customer": customers["s1"].pk}, format="json"
            ).status_code
            == 403
        )
        assert api(sales_personas.finance).get(BASE).status_code == 403
        assert api(sales_personas.outsider).get(BASE).status_code == 403

    def test_filters(self, sales_personas, make_opp, api, rivals):
        won = make_opp("sales1", competitors=[rivals["锐捷"]])
        services.opportunity_win(actor=sales_personas.sales1, opportunity=won)
        make_opp("sales1")
        client = api(sales_personas.sales1)
        assert client.get(BASE, {"status": "won"}).json()["count"] == 1
        assert client.get(BASE, {"competitor": rivals["锐捷"].pk}).json()["count"] == 1
        assert client.get(BASE, {"search": won.number}).json()["count"] == 1

    def test_pipeline_and_funnel(self, sales_personas, make_opp, groups, api):
        opportunity = make_opp("sales1", amount="100000.00")
        services.opportunity_move(
            actor=sales_personas.sales1,
            opportunity=opportunity,
            stage=stage(groups["default"], "方案报价"),
        )
        client = api(sales_personas.sales1)
        assert client.get(f"{BASE}pipeline/").json() == {
            "count": 1,
            "amount": "100000.00",
            "weighted_amount": "50000.00",
        }
        rows = client.get(f"{BASE}funnel/", {"stage_group": groups["default"].pk}).json()
        assert [row["count"] for row in rows] == [1, 1, 1, 0, 0, 0]
        assert rows[1]["conversion"] == "100.0" and rows[2]["conversion"] == "0.0"
        assert rows[-1]["stage"] is None
        bad = client.get(f"{BASE}funnel/", {"start": "2026-02-30"})
        assert bad.status_code == 400 and "start" in bad.json()["fields"]


class TestStageGroupsAndCompetitors:
    def test_stage_groups_are_read_by_sellers_and_changed_by_the_administrator(
        self, sales_personas, groups, api
    ):
        assert len(api(sales_personas.sales1).get("/api/v1/sales/stage-groups/").json()) == 2
        body = {
            "name": "一组阶段",
            "department": sales_personas.units["S1"].pk,
            "active": True,
            "stages": [
                {"name": "接洽", "win_percent": 10, "sort_order": 1},
                {"name": "报价", "win_percent": 60, "sort_order": 2},
            ],
        }
        assert (
            api(sales_personas.sales1)
            .post("/api/v1/sales/stage-groups/", body, format="json")
            .status_code
            == 403
        )
        response = api(sales_personas.admin).post(
            "/api/v1/sales/stage-groups/", body, format="json"
        )
        assert response.status_code == 201, response.json()
        assert [s["name"] for s in response.json()["stages"]] == ["接洽", "报价"]
        response = api(sales_personas.admin).post(
            "/api/v1/sales/stage-groups/", body, format="json"
        )
        assert response.status_code == 400 and "department" in response.json()["fields"]
        group_id = StageGroup.objects.get(name="一组阶段").pk
        response = api(sales_personas.admin).patch(
            f"/api/v1/sales/stage-groups/{group_id}/", {"active": False}, format="json"
        )
        assert response.json()["active"] is False
        assert len(response.json()["stages"]) == 2

    def test_competitors(self, sales_personas, rivals, api):
        listed = api(sales_personas.sales1).get("/api/v1/sales/competitors/").json()
        assert {row["name"] for row in listed} == {"华为", "新华三", "浪潮", "锐捷"}
        assert (
            api(sales_personas.sales1)
            .post("/api/v1/sales/competitors/", {"name": "中兴"}, format="json")
            .status_code
            == 403
        )
        manager = api(sales_personas.manager)
        response = manager.post("/api/v1/sales/competitors/", {"name": "华为"}, format="json")
        assert response.status_code == 400 and "name" in response.json()["fields"]
        response = manager.post(
            "/api/v1/sales/competitors/", {"name": "中兴", "website": "zte.com.cn"}, format="json"
        )
        assert response.status_code == 201 and response.json()["website"] == "https://zte.com.cn"
        response = manager.patch(
            f"/api/v1/sales/competitors/{response.json()['id']}/", {"active": False}, format="json"
        )
        assert response.json()["active"] is False and response.json()["name"] == "中兴"


class TestSchema:
    def test_the_opportunity_endpoints_are_in_the_schema_without_warnings(
        self, sales_personas, api
    ):
        from drf_spectacular.drainage import GENERATOR_STATS

        GENERATOR_STATS.reset()
        schema = api(sales_personas.admin).get("/api/schema/", {"format": "json"}).json()
        validate_schema(schema)
        ours = [
            message
            for message in list(GENERATOR_STATS._warn_cache) + list(GENERATOR_STATS._error_cache)
            if "pportunit" in str(message)
            or "StageGroup" in str(message)
            or "ompetitor" in str(message)
        ]
        assert not ours, ours
        for path in (
            "/api/v1/sales/opportunities/",
            "/api/v1/sales/opportunities/{id}/move/",
            "/api/v1/sales/opportunities/{id}/win/",
            "/api/v1/sales/opportunities/{id}/lose/",
            "/api/v1/sales/opportunities/{id}/invalidate/",
            "/api/v1/sales/opportunities/{id}/reopen/",
            "/api/v1/sales/opportunities/funnel/",
            "/api/v1/sales/stage-groups/",
            "/api/v1/sales/competitors/",
        ):
            assert path in schema["paths"], path
