"""The opportunity pages per role: who lists what, 404 for ids out of scope, pages in zh-Hans
and English, form errors, the board's move endpoint (JSON for drag and drop, a redirect for the
plain "move to" form) with the same rules as the form, end states, conversion to an order,
exports, stage groups, competitors, and the customer 360 panel."""

# ruff: noqa: F811  (the fixtures imported from test_opportunities_fixtures)
from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings

from marketdesk.sales.models import Competitor, Opportunity, OpportunityStatus, StageGroup
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


@pytest.fixture
def as_user(client_for):
    def make(user, language="en"):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return make


@pytest.fixture
def spread(make_opp):
    return {who: make_opp(who, name=f"{who} 项目") for who in ("sales1", "sales1b", "sales2")}


def fresh(opportunity) -> Opportunity:
    return Opportunity.objects.get(pk=opportunity.pk)


VISIBLE = {
    "sales1": {"sales1"},
    "sales1b": {"sales1b"},
    "leader1": {"sales1", "sales1b"},
    "leader2": {"sales2"},
    "manager": {"sales1", "sales1b", "sales2"},
    "management": {"sales1", "sales1b", "sales2"},
}


class TestListAndScope:
    @pytest.mark.parametrize("who", sorted(VISIBLE))
    def test_each_role_lists_what_its_scope_allows(self, sales_personas, spread, as_user, who):
        page = as_user(getattr(sales_personas, who)).get("/sales/opportunities/").content.decode()
        seen = {owner for owner, o in spread.items() if o.number in page}
        assert seen == VISIBLE[who]

    @pytest.mark.parametrize("who", ["finance", "service", "promo", "outsider", "admin"])
    def test_roles_without_the_permission_get_403(self, sales_personas, spread, as_user, who):
        client = as_user(getattr(sales_personas, who))
        assert client.get("/sales/opportunities/").status_code == 403
        assert client.get("/sales/opportunities/board/").status_code == 403
        assert client.get(f"/sales/opportunities/{spread['sales1'].pk}/").status_code == 403

    @pytest.mark.parametrize("who", ["sales1b", "sales2", "leader2"])
    def test_an_out_of_scope_id_is_a_404_everywhere(self, sales_personas, spread, as_user, who):
        client = as_user(getattr(sales_personas, who))
        pk = spread["sales1"].pk
        assert client.get(f"/sales/opportunities/{pk}/").status_code == 404
        assert client.get(f"/sales/opportunities/{pk}/edit/").status_code == 404
        assert client.post(f"/sales/opportunities/{pk}/move/", {"stage": 1}).status_code == 404
        assert client.post(f"/sales/opportunities/{pk}/do/win/").status_code == 404
        assert client.post(f"/sales/opportunities/{pk}/convert/").status_code == 404
        assert fresh(spread["sales1"]).status == OpportunityStatus.OPEN

    def test_filters_search_and_sorting(self, sales_personas, spread, as_user, groups):
        client = as_user(sales_personas.manager)
        page = client.get("/sales/opportunities/", {"q": "sales2 项目"}).content.decode()
        assert spread["sales2"].number in page and spread["sales1"].number not in page
        page = client.get(
            "/sales/opportunities/", {"stage_group": groups["s2"].pk, "sort": "-amount"}
        ).content.decode()
        assert spread["sales2"].number in page and spread["sales1"].number not in page
        page = client.get("/sales/opportunities/", {"scene": "mine"}).content.decode()
        assert spread["sales1"].number not in page
        page = client.get("/sales/opportunities/", {"close_month": "2026-13"}).content.decode()
        assert "YYYY-MM" in page and spread["sales1"].number not in page  # an error, no rows


class TestPagesInBothLanguages:
    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    def test_every_page_renders(self, sales_personas, spread, as_user, language, rivals):
        client = as_user(sales_personas.manager, language)
        pk = spread["sales1"].pk
        for url in [
            "/sales/opportunities/",
            "/sales/opportunities/board/",
            "/sales/opportunities/funnel/",
            "/sales/opportunities/new/",
            f"/sales/opportunities/{pk}/",
            f"/sales/opportunities/{pk}/edit/",
            "/sales/stage-groups/",
            "/sales/stage-groups/new/",
            "/sales/competitors/",
            "/sales/competitors/new/",
            f"/sales/competitors/{rivals['华为'].pk}/",
        ]:
            response = client.get(url)
            assert response.status_code == 200, url
            assert f'<html lang="{language}">' in response.content.decode(), url

    def test_the_english_detail_page_has_its_labels(self, sales_personas, spread, as_user):
        page = (
            as_user(sales_personas.sales1)
            .get(f"/sales/opportunities/{spread['sales1'].pk}/")
            .content.decode()
        )
        for text in ("Stage history", "Convert to order", "Weighted amount", "初步接洽"):
            assert text in page


class TestForm:
    def post(self, client, data, url="/sales/opportunities/new/"):
        return client.post(url, data)

    def test_a_salesperson_opens_one(self, sales_personas, customers, groups, as_user, rivals):
        client = as_user(sales_personas.sales1)
        response = self.post(
            client,
            {
                "name": "杭州智能产线项目",
                "customer": customers["s1"].pk,
                "contact": customers["s1"].contacts.first().pk,
                "owner": sales_personas.sales1.pk,
                "expected_amount": "380000.00",
                "expected_close_date": "2026-06-30",
                "competitors": [rivals["华为"].pk, rivals["锐捷"].pk],
            },
        )
        opportunity = Opportunity.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/sales/opportunities/{opportunity.pk}/"
        assert opportunity.stage.name == "初步接洽"
        assert opportunity.expected_amount == Decimal("380000.00")
        assert opportunity.competitors.count() == 2

    def test_errors_are_shown_on_their_fields_and_nothing_is_saved(
        self, sales_personas, customers, groups, as_user
    ):
        client = as_user(sales_personas.sales1)
        page = self.post(
            client,
            {
                "name": "",
                "customer": customers["s1b"].pk,  # not one of sales1's customers
                "owner": sales_personas.sales1.pk,
                "expected_amount": "-5",
            },
        ).content.decode()
        assert 'data-field="name"' in page
        assert 'data-field="customer"' in page
        assert 'data-field="expected_amount"' in page
        page = self.post(
            client,
            {
                "name": "联系人不对",
                "customer": customers["s1"].pk,
                "contact": customers["s2"].contacts.first().pk,
                "owner": sales_personas.sales1.pk,
                "expected_amount": "1",
            },
        ).content.decode()
        assert 'data-field="contact"' in page
        assert not Opportunity.objects.exists()

    def test_the_service_error_on_the_stage_shows_on_the_field(
        self, sales_personas, customers, groups, as_user
    ):
        client = as_user(sales_personas.leader1)
        page = self.post(
            client,
            {
                "name": "给二组的人",
                "customer": customers["s1"].pk,
                "owner": sales_personas.sales1b.pk,
                "expected_amount": "1",
                "stage": stage(groups["default"], "需求确认").pk,
            },
        )
        assert page.status_code == 302  # a leader opens one for a salesperson of the group
        assert Opportunity.objects.get().owner == sales_personas.sales1b

    def test_editing_moves_by_the_same_rule(self, sales_personas, spread, groups, as_user):
        opportunity = spread["sales1"]
        client = as_user(sales_personas.sales1)
        data = {
            "name": "改过的名字",
            "customer": opportunity.customer_id,
            "owner": sales_personas.sales1.pk,
            "stage": stage(groups["default"], "方案报价").pk,
            "expected_amount": "120000",
        }
        response = self.post(client, data, f"/sales/opportunities/{opportunity.pk}/edit/")
        assert response.status_code == 302
        assert fresh(opportunity).stage.name == "方案报价"
        data["stage"] = stage(groups["s2"], "招投标").pk  # not offered: another group's stage
        page = self.post(client, data, f"/sales/opportunities/{opportunity.pk}/edit/")
        assert 'data-field="stage"' in page.content.decode()

    def test_a_closed_opportunity_is_not_edited(self, sales_personas, spread, as_user):
        services.opportunity_win(actor=sales_personas.sales1, opportunity=spread["sales1"])
        client = as_user(sales_personas.sales1)
        assert client.get(f"/sales/opportunities/{spread['sales1'].pk}/edit/").status_code == 403

    def test_management_may_read_but_not_open(self, sales_personas, spread, as_user):
        client = as_user(sales_personas.management)
        assert client.get("/sales/opportunities/new/").status_code == 403
        page = client.get(f"/sales/opportunities/{spread['sales1'].pk}/").content.decode()
        assert "md-edit-opportunity" not in page and "md-convert" not in page

    def test_the_customer_and_contact_options(self, sales_personas, customers, groups, as_user):
        client = as_user(sales_personas.sales1)
        options = client.get(
            "/sales/opportunities/options/customers/", {"q": "西湖"}
        ).content.decode()
        assert customers["s1"].name in options and customers["s1b"].name not in options
        contacts = client.get(
            "/sales/opportunities/options/contacts/", {"customer": customers["s1"].pk}
        ).content.decode()
        assert "钱进" in contacts
        others = client.get(
            "/sales/opportunities/options/contacts/", {"customer": customers["s2"].pk}
        ).content.decode()
        assert "option" in others and customers["s2"].contacts.first().name not in others


class TestBoard:
    def test_the_board_shows_columns_cards_and_move_lists(self, sales_personas, spread, as_user):
        page = as_user(sales_personas.leader1).get("/sales/opportunities/board/").content.decode()
        assert "data-md-board" in page
        assert f'id="card-{spread["sales1"].pk}"' in page
        assert f'id="card-{spread["sales1b"].pk}"' in page
        assert f'id="card-{spread["sales2"].pk}"' not in page  # another group, another board
        assert 'draggable="true">' in page and 'name="stage"' in page
        assert "sales/board.js" in page

    def test_read_only_roles_get_no_draggable_cards(self, sales_personas, spread, as_user):
        page = (
            as_user(sales_personas.management).get("/sales/opportunities/board/").content.decode()
        )
        assert f'id="card-{spread["sales1"].pk}"' in page
        assert 'draggable="true">' not in page and "data-md-move" not in page

    def test_the_board_of_another_group_and_its_filters(
        self, sales_personas, spread, as_user, groups
    ):
        client = as_user(sales_personas.manager)
        page = client.get(
            "/sales/opportunities/board/", {"group": groups["s2"].pk}
        ).content.decode()
        assert f'id="card-{spread["sales2"].pk}"' in page and "招投标" in page
        page = client.get(
            "/sales/opportunities/board/", {"owner": sales_personas.sales1b.pk}
        ).content.decode()
        assert f'id="card-{spread["sales1b"].pk}"' in page
        assert f'id="card-{spread["sales1"].pk}"' not in page

    def test_a_drag_and_drop_move_answers_json_with_the_new_totals(
        self, sales_personas, spread, groups, as_user
    ):
        target = stage(groups["default"], "商务谈判")
        response = as_user(sales_personas.sales1).post(
            f"/sales/opportunities/{spread['sales1'].pk}/move/",
            {"stage": target.pk},
            HTTP_ACCEPT="application/json",
        )
        body = response.json()
        assert response.status_code == 200 and body["ok"] and body["stage"] == target.pk
        assert body["columns"][str(target.pk)] == {
            "count": 1,
            "amount": "100,000.00",
            "weighted": "70,000.00",
        }
        assert fresh(spread["sales1"]).stage == target

    def test_a_closed_card_cannot_be_moved_and_the_error_comes_back(
        self, sales_personas, spread, groups, as_user
    ):
        services.opportunity_lose(
            actor=sales_personas.sales1, opportunity=spread["sales1"], reason="预算取消"
        )
        response = as_user(sales_personas.sales1, "en").post(
            f"/sales/opportunities/{spread['sales1'].pk}/move/",
            {"stage": stage(groups["default"], "需求确认").pk},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 400
        assert not response.json()["ok"]
        assert "reopen it first" in response.json()["message"]
        assert fresh(spread["sales1"]).stage.name == "初步接洽"

    def test_a_stage_of_another_group_is_refused(self, sales_personas, spread, groups, as_user):
        response = as_user(sales_personas.sales1).post(
            f"/sales/opportunities/{spread['sales1'].pk}/move/",
            {"stage": stage(groups["s2"], "招投标").pk},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 400 and "招投标" in response.json()["message"]

    def test_someone_who_sees_it_but_may_not_move_it_gets_403(
        self, sales_personas, spread, groups, as_user
    ):
        response = as_user(sales_personas.management).post(
            f"/sales/opportunities/{spread['sales1'].pk}/move/",
            {"stage": stage(groups["default"], "需求确认").pk},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 403 and not response.json()["ok"]

    def test_the_plain_move_to_form_redirects_back_to_the_board(
        self, sales_personas, spread, groups, as_user
    ):
        response = as_user(sales_personas.sales1).post(
            f"/sales/opportunities/{spread['sales1'].pk}/move/",
            {
                "stage": stage(groups["default"], "需求确认").pk,
                "next": "/sales/opportunities/board/?scene=mine",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == "/sales/opportunities/board/?scene=mine"
        assert fresh(spread["sales1"]).stage.name == "需求确认"
        response = as_user(sales_personas.sales1).post(
            f"/sales/opportunities/{spread['sales1'].pk}/move/",
            {"stage": "1", "next": "https://evil.example.com/"},
        )
        assert response["Location"] == f"/sales/opportunities/{spread['sales1'].pk}/"

    def test_the_move_needs_a_post(self, sales_personas, spread, as_user):
        response = as_user(sales_personas.sales1).get(
            f"/sales/opportunities/{spread['sales1'].pk}/move/"
        )
        assert response.status_code == 405


class TestActions:
    def test_lost_without_a_reason_is_refused(self, sales_personas, spread, as_user):
        client = as_user(sales_personas.sales1)
        response = client.post(
            f"/sales/opportunities/{spread['sales1'].pk}/do/lose/", {"reason": ""}, follow=True
        )
        assert "Give the reason the deal was lost." in response.content.decode()
        assert fresh(spread["sales1"]).status == OpportunityStatus.OPEN

    def test_lost_to_a_competitor_then_reopened(self, sales_personas, spread, rivals, as_user):
        client = as_user(sales_personas.sales1)
        pk = spread["sales1"].pk
        client.post(
            f"/sales/opportunities/{pk}/do/lose/",
            {"reason": "对方价格低 15%", "competitor": rivals["新华三"].pk},
        )
        opportunity = fresh(spread["sales1"])
        assert (opportunity.status, opportunity.lost_to) == ("lost", rivals["新华三"])
        page = client.get(f"/sales/opportunities/{pk}/").content.decode()
        assert "md-reopen" in page and "新华三" in page
        client.post(f"/sales/opportunities/{pk}/do/reopen/")
        assert fresh(spread["sales1"]).status == OpportunityStatus.OPEN

    def test_win_and_invalidate(self, sales_personas, spread, as_user):
        client = as_user(sales_personas.sales1)
        client.post(f"/sales/opportunities/{spread['sales1'].pk}/do/win/", {"reason": "签约"})
        assert fresh(spread["sales1"]).status == OpportunityStatus.WON
        client = as_user(sales_personas.sales1b)
        client.post(
            f"/sales/opportunities/{spread['sales1b'].pk}/do/invalidate/", {"reason": "重复"}
        )
        assert fresh(spread["sales1b"]).status == OpportunityStatus.INVALID

    def test_an_unknown_action_is_a_404(self, sales_personas, spread, as_user):
        client = as_user(sales_personas.sales1)
        assert (
            client.post(f"/sales/opportunities/{spread['sales1'].pk}/do/delete/").status_code == 404
        )

    def test_convert_to_order_wins_and_opens_the_order_form(self, sales_personas, spread, as_user):
        pk = spread["sales1"].pk
        response = as_user(sales_personas.sales1).post(f"/sales/opportunities/{pk}/convert/")
        assert response.status_code == 302
        assert response["Location"].startswith("/sales/orders/new/")
        assert response["Location"].endswith(f"?opportunity={pk}")
        assert fresh(spread["sales1"]).status == OpportunityStatus.WON

    def test_a_lost_opportunity_is_not_converted(self, sales_personas, spread, as_user):
        services.opportunity_lose(
            actor=sales_personas.sales1, opportunity=spread["sales1"], reason="丢"
        )
        response = as_user(sales_personas.sales1).post(
            f"/sales/opportunities/{spread['sales1'].pk}/convert/"
        )
        assert response["Location"] == f"/sales/opportunities/{spread['sales1'].pk}/"

    def test_competitors_on_the_deal(self, sales_personas, spread, rivals, as_user):
        client = as_user(sales_personas.sales1)
        pk = spread["sales1"].pk
        client.post(
            f"/sales/opportunities/{pk}/competitors/",
            {"competitor": rivals["浪潮"].pk, "their_price": "88000", "notes": "含安装"},
        )
        rival = spread["sales1"].rivals.get()
        assert (rival.competitor, rival.their_price) == (rivals["浪潮"], Decimal("88000.00"))
        client.post(f"/sales/opportunities/{pk}/competitors/{rivals['浪潮'].pk}/remove/")
        assert not spread["sales1"].rivals.exists()


class TestExport:
    @pytest.mark.parametrize("fmt", ["xlsx", "csv"])
    def test_the_manager_exports_the_filtered_rows(self, sales_personas, spread, as_user, fmt):
        response = as_user(sales_personas.manager).get(
            "/sales/opportunities/export/", {"format": fmt, "owner": sales_personas.sales1.pk}
        )
        assert response.status_code == 200
        if fmt == "csv":
            body = b"".join(response.streaming_content).decode("utf-8-sig")
            assert spread["sales1"].number in body and spread["sales2"].number not in body
        else:
            assert response["Content-Type"].startswith("application/vnd.openxmlformats")

    def test_a_salesperson_without_export_rights_cannot(self, sales_personas, spread, as_user):
        assert as_user(sales_personas.sales1).get("/sales/opportunities/export/").status_code == 403


class TestStageGroupPages:
    def post_group(self, client, data, url="/sales/stage-groups/new/"):
        rows = data.pop("rows")
        body = {
            "stages-TOTAL_FORMS": str(len(rows)),
            "stages-INITIAL_FORMS": "0",
            "stages-MIN_NUM_FORMS": "0",
            "stages-MAX_NUM_FORMS": "1000",
            **data,
        }
        for index, (name, percent, order) in enumerate(rows):
            body[f"stages-{index}-name"] = name
            body[f"stages-{index}-win_percent"] = percent
            body[f"stages-{index}-sort_order"] = order
        return client.post(url, body)

    def test_the_administrator_creates_a_group(self, sales_personas, as_user):
        response = self.post_group(
            as_user(sales_personas.admin),
            {"name": "默认阶段", "active": "on", "rows": [("接洽", 10, 1), ("报价", 50, 2)]},
        )
        assert response.status_code == 302
        group = StageGroup.objects.get()
        assert [s.name for s in group.stages.order_by("sort_order")] == ["接洽", "报价"]

    def test_errors_show_on_the_rows(self, sales_personas, groups, as_user):
        page = self.post_group(
            as_user(sales_personas.admin),
            {"name": "第二个默认", "active": "on", "rows": [("接洽", 10, 1), ("接洽", 20, 2)]},
        ).content.decode()
        assert 'data-field="department"' in page or 'data-field="name"' in page
        assert StageGroup.objects.count() == 2

    def test_salespeople_read_but_do_not_change_them(self, sales_personas, groups, as_user):
        client = as_user(sales_personas.sales1)
        page = client.get("/sales/stage-groups/").content.decode()
        assert "标准销售阶段" in page and "md-new-stage-group" not in page
        assert client.get("/sales/stage-groups/new/").status_code == 403
        assert client.get(f"/sales/stage-groups/{groups['default'].pk}/").status_code == 403


class TestCompetitorPages:
    def test_the_manager_adds_one_and_errors_name_the_field(self, sales_personas, rivals, as_user):
        client = as_user(sales_personas.manager)
        assert (
            client.post("/sales/competitors/new/", {"name": "中兴通讯", "active": "on"}).status_code
            == 302
        )
        page = client.post("/sales/competitors/new/", {"name": "华为"}).content.decode()
        assert 'data-field="name"' in page
        assert Competitor.objects.filter(name="华为").count() == 1

    def test_salespeople_see_the_list_with_their_counts(
        self, sales_personas, spread, rivals, as_user
    ):
        services.opportunity_lose(
            actor=sales_personas.sales1,
            opportunity=spread["sales1"],
            reason="价格",
            competitor=rivals["华为"],
        )
        client = as_user(sales_personas.sales1)
        page = client.get("/sales/competitors/").content.decode()
        assert "华为" in page and "md-new-competitor" not in page
        assert client.get("/sales/competitors/new/").status_code == 403
        huawei = next(
            c
            for c in __import__(
                "marketdesk.sales.selectors_opportunities", fromlist=["x"]
            ).competitor_list(actor=sales_personas.sales1)
            if c.name == "华为"
        )
        assert (huawei.deals, huawei.lost_to_them, huawei.won_against) == (1, 1, 0)


class TestCustomerPanel:
    def test_the_customer_page_lists_its_opportunities(
        self, sales_personas, spread, customers, as_user
    ):
        page = (
            as_user(sales_personas.sales1)
            .get(f"/crm/customers/{customers['s1'].pk}/")
            .content.decode()
        )
        assert "md-customer-opportunities" in page
        assert spread["sales1"].number in page
        assert f"/sales/opportunities/new/?customer={customers['s1'].pk}" in page

    def test_the_new_form_starts_with_the_customer(
        self, sales_personas, customers, groups, as_user
    ):
        page = (
            as_user(sales_personas.sales1)
            .get("/sales/opportunities/new/", {"customer": customers["s1"].pk})
            .content.decode()
        )
        assert f'<option value="{customers["s1"].pk}" selected>' in page
        assert "钱进" in page  # its contacts are offered


class TestFunnelPage:
    def test_the_funnel_page_shows_the_rows_and_pipeline(self, sales_personas, spread, as_user):
        page = as_user(sales_personas.manager).get("/sales/opportunities/funnel/").content.decode()
        assert 'id="md-funnel"' in page and "初步接洽" in page and 'id="md-pipeline"' in page
