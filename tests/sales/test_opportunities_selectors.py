"""The opportunity reads: who sees which opportunities (data scope), the funnel by stage with
conversion rates and the pipeline the dashboard reads, the board's columns, the workbench
reminders, global search, the registrations, and the demo step."""

# ruff: noqa: F811  (the fixtures imported from test_opportunities_fixtures)
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from marketdesk.core.registry import global_search, nav_items, record_type_for, todo_items
from marketdesk.sales import selectors_opportunities as selectors
from marketdesk.sales.models import OpportunityStageChange
from marketdesk.sales.services import opportunities as services

from .test_opportunities_fixtures import (  # noqa: F401
    customers,
    groups,
    make_opp,
    rivals,
    root,
    stage,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
D = Decimal


@pytest.fixture
def spread(make_opp):
    """One opportunity each of sales1, sales1b, leader1 (销售一组) and sales2 (销售二组)."""
    return {who: make_opp(who) for who in ("sales1", "sales1b", "leader1", "sales2")}


VISIBLE = {
    "sales1": {"sales1"},
    "sales1b": {"sales1b"},
    "sales2": {"sales2"},
    "leader1": {"sales1", "sales1b", "leader1"},
    "leader2": {"sales2"},
    "manager": {"sales1", "sales1b", "leader1", "sales2"},
    "management": {"sales1", "sales1b", "leader1", "sales2"},
    "finance": set(),
    "service": set(),
    "promo": set(),
    "admin": set(),
    "outsider": set(),
}


class TestScope:
    @pytest.mark.parametrize("who", sorted(VISIBLE))
    def test_each_role_sees_what_its_scope_allows(self, sales_personas, spread, who):
        seen = set(
            selectors.opportunity_list(actor=getattr(sales_personas, who)).values_list(
                "pk", flat=True
            )
        )
        assert seen == {spread[owner].pk for owner in VISIBLE[who]}

    def test_a_shared_opportunity_is_seen_by_the_team_member(self, sales_personas, spread):
        from marketdesk.core import services as core_services

        core_services.record_share(
            actor=sales_personas.sales1,
            record=spread["sales1"],
            user=sales_personas.sales2,
            access="read",
        )
        assert spread["sales1"] in selectors.opportunity_list(actor=sales_personas.sales2)
        assert not selectors.can_edit_opportunity(
            actor=sales_personas.sales2, opportunity=spread["sales1"]
        )

    def test_the_board_knows_which_cards_the_actor_may_move(self, sales_personas, spread):
        cards = list(selectors.opportunity_list(actor=sales_personas.manager))
        assert selectors.editable_ids(actor=sales_personas.leader1, opportunities=cards) == {
            spread[w].pk for w in ("sales1", "sales1b", "leader1")
        }
        assert selectors.editable_ids(actor=sales_personas.sales1, opportunities=cards) == {
            spread["sales1"].pk
        }
        assert selectors.editable_ids(actor=sales_personas.management, opportunities=cards) == set()


@pytest.fixture
def funnel_deals(make_opp, groups, sales_personas, rivals):
    """Five deals of 销售一组 in the default group (see the test for where each got to)."""
    s1 = sales_personas.sales1
    g = groups["default"]

    def to(opportunity, name):
        return services.opportunity_move(actor=s1, opportunity=opportunity, stage=stage(g, name))

    a = make_opp("sales1", amount="100000.00")
    to(a, "需求确认")
    to(a, "方案报价")
    b = make_opp("sales1", amount="200000.00")
    to(b, "需求确认")
    services.opportunity_win(actor=s1, opportunity=b)
    c = make_opp("sales1", amount="300000.00")
    to(c, "需求确认")
    services.opportunity_lose(actor=s1, opportunity=c, reason="价格", competitor=rivals["华为"])
    d = make_opp("sales1", amount="400000.00")
    services.opportunity_invalidate(actor=s1, opportunity=d, reason="重复")
    e = make_opp("sales1", amount="500000.00", stage=stage(g, "商务谈判"))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


class TestFunnel:
    def rows(self, actor, group, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault("start", today.replace(month=1, day=1))
        kwargs.setdefault("end", today)
        return selectors.funnel(actor=actor, stage_group=group, **kwargs)

    def test_counts_amounts_and_conversion_by_stage(self, sales_personas, groups, funnel_deals):
        rows = self.rows(sales_personas.leader1, groups["default"])
        assert [(r.label, r.count) for r in rows] == [
            ("初步接洽", 5),
            ("需求确认", 4),  # a, b, c, e (e started beyond it)
            ("方案报价", 3),  # a, b (won), e
            ("商务谈判", 2),
            ("合同签订", 1),  # only the won deal b
            ("Won", 1),
        ]
        assert [r.conversion for r in rows] == [
            D("80.0"),
            D("75.0"),
            D("66.7"),
            D("50.0"),
            D("100.0"),
            None,
        ]
        assert rows[0].amount == D("1500000.00")
        assert rows[1].amount == D("1100000.00")
        assert rows[-1].amount == D("200000.00")
        assert rows[-1].stage is None and rows[-1].is_won

    def test_a_reopened_win_is_no_longer_won(self, sales_personas, groups, funnel_deals):
        services.opportunity_reopen(actor=sales_personas.sales1, opportunity=funnel_deals["b"])
        rows = self.rows(sales_personas.sales1, groups["default"])
        assert rows[-1].count == 0
        assert rows[1].count == 4  # b still reached 需求确认

    def test_only_deals_with_a_change_in_the_period_count(
        self, sales_personas, groups, funnel_deals
    ):
        old = funnel_deals["a"]
        OpportunityStageChange.objects.filter(opportunity=old).update(
            at=timezone.make_aware(datetime.datetime(2025, 6, 1, 10, 0))
        )
        this_year = self.rows(sales_personas.sales1, groups["default"])
        assert this_year[0].count == 4
        last_year = self.rows(
            sales_personas.sales1,
            groups["default"],
            start=datetime.date(2025, 1, 1),
            end=datetime.date(2025, 12, 31),
        )
        assert [r.count for r in last_year] == [1, 1, 1, 0, 0, 0]

    def test_changes_after_the_end_do_not_count(self, sales_personas, groups, funnel_deals):
        later = timezone.now() + datetime.timedelta(days=3)
        OpportunityStageChange.objects.filter(
            opportunity=funnel_deals["a"], to_stage__name="方案报价"
        ).update(at=later)
        rows = self.rows(sales_personas.sales1, groups["default"])
        assert rows[2].count == 2  # a has not reached 方案报价 by today

    def test_the_funnel_is_limited_to_the_actors_scope_and_units(
        self, sales_personas, groups, funnel_deals, make_opp
    ):
        make_opp("sales1b", amount="1.00")
        assert self.rows(sales_personas.sales2, groups["default"])[0].count == 0
        assert self.rows(sales_personas.sales1b, groups["default"])[0].count == 1
        manager = sales_personas.manager
        units = sales_personas.units
        assert self.rows(manager, groups["default"])[0].count == 6
        assert self.rows(manager, groups["default"], department_ids=[units["MKT"].pk])[0].count == 6
        assert self.rows(manager, groups["default"], department_ids=[units["S2"].pk])[0].count == 0

    def test_an_empty_funnel_has_no_conversion(self, sales_personas, groups):
        rows = self.rows(sales_personas.manager, groups["s2"])
        assert [r.count for r in rows] == [0, 0, 0, 0, 0]
        assert all(r.conversion is None for r in rows)


class TestPipeline:
    def test_open_deals_weighted_by_their_stage(self, sales_personas, funnel_deals):
        summary = selectors.pipeline_summary(actor=sales_personas.sales1)
        # a: 100,000 at 50 %, e: 500,000 at 70 %
        assert summary.count == 2
        assert summary.amount == D("600000.00")
        assert summary.weighted_amount == D("400000.00")

    def test_scope_and_units(self, sales_personas, funnel_deals, make_opp):
        make_opp("sales2", amount="80000.00")  # 线索确认 10 %
        assert selectors.pipeline_summary(actor=sales_personas.sales2).weighted_amount == D(
            "8000.00"
        )
        manager = selectors.pipeline_summary(actor=sales_personas.manager)
        assert (manager.count, manager.amount) == (3, D("680000.00"))
        only_s1 = selectors.pipeline_summary(
            actor=sales_personas.manager, department_ids=[sales_personas.units["S1"].pk]
        )
        assert only_s1.count == 2
        assert selectors.pipeline_summary(actor=sales_personas.outsider).count == 0


class TestBoard:
    def test_columns_have_cards_and_totals(self, sales_personas, groups, funnel_deals):
        queryset = selectors.opportunity_list(actor=sales_personas.leader1)
        columns = selectors.board(
            group=groups["default"], opportunities=queryset.filter(status="open")
        )
        by_name = {c.stage.name: c for c in columns}
        assert list(by_name) == ["初步接洽", "需求确认", "方案报价", "商务谈判", "合同签订"]
        assert by_name["方案报价"].count == 1
        assert by_name["方案报价"].weighted == D("50000.00")
        assert by_name["商务谈判"].amount == D("500000.00")
        assert by_name["商务谈判"].weighted == D("350000.00")
        assert [c.pk for c in by_name["商务谈判"].cards] == [funnel_deals["e"].pk]
        assert by_name["初步接洽"].count == 0

    def test_a_column_shows_a_limited_number_of_cards(self, sales_personas, groups, make_opp):
        for _ in range(3):
            make_opp("sales1")
        columns = selectors.board(
            group=groups["default"],
            opportunities=selectors.opportunity_list(actor=sales_personas.sales1),
            per_column=2,
        )
        assert (len(columns[0].cards), columns[0].count, columns[0].more) == (2, 3, 1)


class TestWorkbenchSearchRegistrations:
    def test_closing_this_week_and_overdue(self, sales_personas, make_opp):
        today = timezone.localdate()
        make_opp("sales1", expected_close_date=today - datetime.timedelta(days=3))
        make_opp("sales1", expected_close_date=today)
        make_opp("sales1", expected_close_date=today + datetime.timedelta(days=40))
        won = make_opp("sales1", expected_close_date=today - datetime.timedelta(days=1))
        services.opportunity_win(actor=sales_personas.sales1, opportunity=won)
        found = selectors.closing(actor=sales_personas.sales1)
        assert (found["overdue"].count(), found["this_week"].count()) == (1, 1)
        items = {item.key: item.count for item in todo_items(sales_personas.sales1)}
        assert items["sales.opportunities_overdue"] == 1
        assert items["sales.opportunities_this_week"] == 1
        keys = {item.key for item in todo_items(sales_personas.sales1b)}
        assert "sales.opportunities_overdue" not in keys

    def test_global_search_finds_by_number_and_name_within_scope(self, sales_personas, make_opp):
        opportunity = make_opp("sales1", name="苏州工厂数据采集")
        hits = global_search(sales_personas.sales1, opportunity.number)
        assert any(hit.url == opportunity.get_absolute_url() for hit in hits)
        assert any(
            "苏州工厂" in hit.title for hit in global_search(sales_personas.leader1, "苏州工厂")
        )
        assert not any(
            "苏州工厂" in hit.title for hit in global_search(sales_personas.sales2, "苏州工厂")
        )

    def test_the_registrations(self, sales_personas, make_opp):
        record_type = record_type_for("sales.opportunity")
        opportunity = make_opp("sales1")
        assert record_type.editable(sales_personas.sales1, opportunity)
        assert not record_type.editable(sales_personas.sales1b, opportunity)
        assert list(record_type.visible(sales_personas.sales1b)) == []
        keys = {item.key: item for item in nav_items()}
        assert keys["sales.opportunities"].url_name == "sales:opportunity_list"
        assert 310 <= keys["sales.opportunity_board"].order <= 319
        assert str(keys["sales.opportunities"].group) in ("Sales", "销售")


class TestDemo:
    def test_the_demo_builds_groups_competitors_and_opportunities_in_every_state(self):
        from marketdesk.crm.demo import build_crm
        from marketdesk.org.demo import build_org
        from marketdesk.sales.demo.opportunities import build_opportunities
        from marketdesk.sales.models import Competitor, Opportunity, StageGroup

        build_org()
        build_crm()
        assert "opportunities" in build_opportunities()
        assert StageGroup.objects.filter(department__isnull=True, active=True).count() == 1
        assert StageGroup.objects.filter(department__code="MKT-S2").exists()
        assert set(Competitor.objects.values_list("name", flat=True)) == {
            "华为",
            "新华三",
            "浪潮",
            "锐捷",
        }
        assert 36 <= Opportunity.objects.count() <= 44
        statuses = set(Opportunity.objects.values_list("status", flat=True))
        assert statuses == {"open", "won", "lost", "invalid"}
        for opportunity in Opportunity.objects.exclude(status__in=["open", "won"]):
            assert opportunity.end_reason
        for opportunity in Opportunity.objects.select_related("stage", "customer"):
            assert opportunity.stage.group_id == opportunity.stage_group_id
            assert opportunity.customer.owner_id == opportunity.owner_id
            assert opportunity.stage_changes.exists()
        assert build_opportunities() == "skipped"  # idempotent
