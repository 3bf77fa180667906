"""The dashboard selector per role (company, unit, self), achievement, month-on-month and
year-on-year; rankings with a salesperson seeing only their own figures; the funnel hook; and
the `sales.order_amount` business metric that finance reads."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from marketdesk.core import metrics
from marketdesk.crm import services as crm_services
from marketdesk.crm.models import Customer
from marketdesk.sales import selectors_targets as selectors
from marketdesk.sales.models import TargetMetric, TargetSubject
from marketdesk.sales.services import targets as services

from .test_targets_rollups import make_order, make_receipt

pytestmark = pytest.mark.django_db
D = Decimal
EVEN = [D("1000.00")] * 12


@pytest.fixture
def figures(sales_personas, customer):
    """Targets of 1,000 a month for the company, both groups and three salespeople; orders in
    March 2026 (sales1 1,000 on the 4th, sales1b 500 and sales2 2,000 on the 20th), February
    2026 (sales1 500) and March 2025 (sales1 800); a receipt of 300 by sales1 in March."""
    p = sales_personas
    manager = p.manager

    def target(subject, **kw):
        for metric in TargetMetric.values:
            services.target_create(
                actor=manager, year=2026, metric=metric, subject=subject, months=EVEN, **kw
            )

    target(TargetSubject.COMPANY)
    target(TargetSubject.DEPARTMENT, department=p.units["S1"])
    target(TargetSubject.DEPARTMENT, department=p.units["S2"])
    for who in ("sales1", "sales1b", "sales2"):
        target(TargetSubject.PERSON, user=getattr(p, who))
    s1, s2 = p.units["S1"], p.units["S2"]
    first = make_order(
        customer=customer,
        owner=p.sales1,
        department=s1,
        order_date=datetime.date(2026, 3, 4),
        total="1000.00",
    )
    for owner, unit, day, total in [
        (p.sales1b, s1, datetime.date(2026, 3, 20), "500.00"),
        (p.sales2, s2, datetime.date(2026, 3, 20), "2000.00"),
        (p.sales1, s1, datetime.date(2026, 2, 10), "500.00"),
        (p.sales1, s1, datetime.date(2025, 3, 10), "800.00"),
    ]:
        make_order(customer=customer, owner=owner, department=unit, order_date=day, total=total)
    make_receipt(order=first, amount="300.00", received_on=datetime.date(2026, 3, 25))
    services.rollups_process()
    return p


def board(data, key):
    return next(b for b in data["rankings"]["boards"] if b["key"] == key)


class TestDashboardByRole:
    def test_management_sees_the_company_against_the_company_target(self, figures):
        data = selectors.dashboard(actor=figures.management, year=2026, month=3)
        assert data["level"] == "company"
        orders = data["kpis"][0]
        assert orders["metric"] == "orders"
        assert orders["month_actual"] == D("3500.00")
        assert orders["month_target"] == D("1000.00")
        assert orders["month_rate"] == D("350.0")
        assert orders["previous_month"] == D("500.00")
        assert orders["mom"] == D("600.0")
        assert orders["last_year_month"] == D("800.00")
        assert orders["yoy"] == D("337.5")
        assert orders["ytd_actual"] == D("4000.00") and orders["ytd_target"] == D("3000.00")
        assert orders["year_target"] == D("12000.00")
        receipts = data["kpis"][1]
        assert receipts["month_actual"] == D("300.00") and receipts["month_rate"] == D("30.0")

    def test_the_manager_sees_the_groups_against_their_targets(self, figures):
        data = selectors.dashboard(actor=figures.manager, year=2026, month=3)
        assert data["level"] == "unit"
        rows = {row["label"]: row for row in data["rows"]}
        # 营销部 (the manager's unit, no figures or target of its own) sums the groups below
        assert [row["label"] for row in data["rows"]] == ["营销部", "销售一组", "销售二组"]
        assert rows["营销部"]["months"][2] == {
            "target": D("0.00"),
            "actual": D("3500.00"),
            "rate": None,
        }
        assert rows["营销部"]["children"] == 2 and rows["销售一组"]["parent"] == "unit-" + str(
            figures.units["MKT"].pk
        )
        assert rows["销售一组"]["months"][2] == {
            "target": D("1000.00"),
            "actual": D("1500.00"),
            "rate": D("150.0"),
        }
        assert rows["销售二组"]["months"][2]["actual"] == D("2000.00")
        assert rows["销售一组"]["mom"] == D("200.0")
        # the total's target: the groups' targets (营销部 has none of its own)
        assert data["total"]["months"][2]["target"] == D("2000.00")
        assert data["total"]["months"][2]["actual"] == D("3500.00")

    def test_by_person_lists_each_salesperson(self, figures):
        data = selectors.dashboard(actor=figures.manager, year=2026, month=3, by="person")
        rows = {row["label"]: row["months"][2]["actual"] for row in data["rows"]}
        assert rows == {"王芳": D("1000.00"), "孙浩": D("500.00"), "吴涛": D("2000.00")}

    def test_the_page_shows_one_page_of_people(self, figures, monkeypatch):
        monkeypatch.setattr(selectors, "PERSON_PAGE_SIZE", 2)

        def page(number):
            return selectors.dashboard(
                actor=figures.manager,
                year=2026,
                month=3,
                by="person",
                grid=selectors.GRID_TOP,
                page=number,
            )

        first, second = page(1), page(2)
        assert [row["label"] for row in first["rows"]] == ["吴涛", "孙浩"]  # by name
        assert [row["label"] for row in second["rows"]] == ["王芳"]
        assert first["person_page"] == {"number": 1, "pages": 2, "count": 3}
        assert page(99)["person_page"]["number"] == 2  # past the end: the last page
        everyone = selectors.dashboard(actor=figures.manager, year=2026, month=3, by="person")
        assert everyone["rows"] == first["rows"] + second["rows"]  # same rows, same numbers
        assert first["total"] == second["total"] == everyone["total"]
        assert first["kpis"] == everyone["kpis"]

    def test_a_leader_sees_only_the_group(self, figures):
        data = selectors.dashboard(actor=figures.leader1, year=2026, month=3)
        assert [row["label"] for row in data["rows"]] == ["销售一组"]
        assert data["total"]["months"][2] == {
            "target": D("1000.00"),
            "actual": D("1500.00"),
            "rate": D("150.0"),
        }

    def test_a_leaders_own_order_booked_outside_the_group_counts_in_their_view(
        self, figures, customer
    ):
        make_order(
            customer=customer,
            owner=figures.leader1,
            department=figures.units["LOG"],
            order_date=datetime.date(2026, 3, 5),
            total="70.00",
        )
        services.rollups_process()
        data = selectors.dashboard(actor=figures.leader1, year=2026, month=3)
        assert data["total"]["months"][2]["actual"] == D("1570.00")
        by_person = selectors.dashboard(actor=figures.leader1, year=2026, month=3, by="person")
        assert by_person["total"]["months"][2]["actual"] == D("1570.00")
        paged = selectors.dashboard(
            actor=figures.leader1, year=2026, month=3, by="person", grid=selectors.GRID_TOP
        )
        assert paged["total"] == by_person["total"] and paged["rows"] == by_person["rows"]
        company = selectors.dashboard(actor=figures.management, year=2026, month=3)
        assert company["total"]["months"][2]["actual"] == D("3570.00")

    def test_a_salesperson_sees_only_their_own_figures(self, figures):
        data = selectors.dashboard(actor=figures.sales1, year=2026, month=3, by="unit")
        assert data["level"] == "self" and data["by"] == "person"
        assert [row["label"] for row in data["rows"]] == ["王芳"]
        assert data["kpis"][0]["month_actual"] == D("1000.00")
        assert data["kpis"][0]["month_rate"] == D("100.0")
        assert data["kpis"][1]["month_actual"] == D("300.00")

    def test_the_receipts_grid(self, figures):
        data = selectors.dashboard(
            actor=figures.management, year=2026, month=3, metric=TargetMetric.RECEIPTS
        )
        assert data["total"]["months"][2]["actual"] == D("300.00")
        assert data["trend"]["actual"][2] == D("300.00")

    def test_no_dashboard_without_the_permission(self, figures):
        data = selectors.dashboard(actor=figures.outsider, year=2026, month=3)
        assert data["rows"] == [] and data["kpis"][0]["month_actual"] == D("0.00")

    def test_january_compares_with_last_december(self, figures, customer):
        make_order(
            customer=customer,
            owner=figures.sales1,
            department=figures.units["S1"],
            order_date=datetime.date(2025, 12, 5),
            total="400.00",
        )
        make_order(
            customer=customer,
            owner=figures.sales1,
            department=figures.units["S1"],
            order_date=datetime.date(2026, 1, 5),
            total="100.00",
        )
        services.rollups_process()
        data = selectors.dashboard(actor=figures.management, year=2026, month=1)
        assert data["kpis"][0]["previous_month"] == D("400.00")
        assert data["kpis"][0]["mom"] == D("-75.0")


class TestUnitGrid:
    """The unit grid is a tree: the page shows the viewer's top units and the level below;
    a unit's children come from `dashboard_unit_rows`, within the viewer's scope."""

    def rows(self, data_rows):
        return {row["label"]: row for row in data_rows}

    def test_the_manager_starts_with_their_unit_and_the_level_below(self, figures, region_tree):
        data = selectors.dashboard(
            actor=figures.manager, year=2026, month=3, grid=selectors.GRID_TOP
        )
        rows = self.rows(data["rows"])
        assert set(rows) == {"营销部", "华东大区", "销售一组", "销售二组"}
        assert rows["营销部"]["months"][2]["actual"] == D("3900.00")
        assert rows["营销部"]["open"] and rows["营销部"]["children"] == 3
        region = rows["华东大区"]
        assert region["months"][2]["actual"] == D("400.00")
        assert region["children"] == 1 and not region["open"]
        assert region["parent"] == f"unit-{figures.units['MKT'].pk}"
        assert data["total"]["months"][2]["actual"] == D("3900.00")

    def test_every_row_keeps_its_numbers_in_the_whole_grid(self, figures, region_tree):
        top = selectors.dashboard(
            actor=figures.manager, year=2026, month=3, grid=selectors.GRID_TOP
        )
        whole = selectors.dashboard(actor=figures.manager, year=2026, month=3)
        every = self.rows(whole["rows"])
        # tree order, siblings as created (by id, not by the path's text: "/2/10/" < "/2/4/")
        assert list(every) == [
            "营销部",
            "销售一组",
            "销售二组",
            "华东大区",
            "上海分公司",
            "销售三组",
        ]
        for label, row in self.rows(top["rows"]).items():
            assert every[label]["months"] == row["months"]
            assert every[label]["year"] == row["year"]
        assert every["上海分公司"]["months"][2] == {
            "target": D("100.00"),
            "actual": D("400.00"),
            "rate": D("400.0"),
        }
        assert whole["total"] == top["total"] and whole["kpis"] == top["kpis"]

    def test_opening_a_unit_gives_its_children(self, figures, region_tree):
        units = region_tree
        (branch,) = selectors.dashboard_unit_rows(
            actor=figures.manager, unit_id=units["region"].pk, year=2026, month=3
        )
        assert branch["label"] == "上海分公司" and branch["children"] == 1
        assert branch["months"][2]["target"] == D("100.00")
        (group,) = selectors.dashboard_unit_rows(
            actor=figures.manager, unit_id=units["branch"].pk, year=2026, month=3
        )
        assert group["label"] == "销售三组" and group["children"] == 0
        assert group["months"][2]["actual"] == D("400.00")
        assert group["months"][2]["target"] == D("0.00")
        management = selectors.dashboard_unit_rows(
            actor=figures.management, unit_id=units["region"].pk, year=2026, month=3
        )
        assert [row["label"] for row in management] == ["上海分公司"]
        receipts = selectors.dashboard_unit_rows(
            actor=figures.manager,
            unit_id=units["branch"].pk,
            year=2026,
            month=3,
            metric=TargetMetric.RECEIPTS,
        )
        assert receipts[0]["months"][2]["actual"] == D("0.00")

    @pytest.mark.parametrize(
        ("who", "unit"),
        [
            ("leader1", "region"),  # outside the group leader's scope
            ("sales1", "region"),  # a salesperson has no unit grid
            ("sales1", "S1"),
            ("manager", "GM"),  # outside the manager's scope
            ("manager", "PRO"),  # in scope, but no figures: not a row
            ("outsider", "S1"),  # no dashboard permission
        ],
    )
    def test_a_unit_that_is_not_a_row_of_the_viewer_is_404(self, figures, region_tree, who, unit):
        units = {**figures.units, **region_tree}
        with pytest.raises(Http404):
            selectors.dashboard_unit_rows(
                actor=getattr(figures, who), unit_id=units[unit].pk, year=2026, month=3
            )

    def test_an_unknown_unit_is_404(self, figures):
        with pytest.raises(Http404):
            selectors.dashboard_unit_rows(actor=figures.manager, unit_id=10**9, year=2026, month=3)

    def test_a_leader_opens_their_group_to_nothing(self, figures, region_tree):
        rows = selectors.dashboard_unit_rows(
            actor=figures.leader1, unit_id=figures.units["S1"].pk, year=2026, month=3
        )
        assert rows == []


class TestRankings:
    @pytest.fixture
    def activity(self, figures, customer):
        Customer.objects.filter(pk=customer.pk).update(
            won_at=timezone.make_aware(datetime.datetime(2026, 3, 10, 10))
        )
        for day in (5, 6):
            crm_services.follow_up_create(
                actor=figures.sales1,
                customer=customer,
                kind="phone",
                content="电话沟通需求",
                at=timezone.make_aware(datetime.datetime(2026, 3, day, 9)),
            )
        return figures

    def test_management_ranks_everyone(self, activity):
        data = selectors.dashboard(actor=activity.management, year=2026, month=3)
        orders = board(data, "orders")
        assert [(r["name"], r["position"], r["value"]) for r in orders["rows"]] == [
            ("吴涛", 1, D("2000.00")),
            ("王芳", 2, D("1000.00")),
            ("孙浩", 3, D("500.00")),
        ]
        assert [(r["name"], r["value"]) for r in board(data, "new_customers")["rows"]] == [
            ("王芳", 1)
        ]
        assert [(r["name"], r["value"]) for r in board(data, "follow_ups")["rows"]] == [("王芳", 2)]
        assert board(data, "receipts")["rows"][0]["value"] == D("300.00")

    def test_a_salesperson_sees_positions_in_the_group_but_only_their_figures(self, activity):
        data = selectors.rankings(actor=activity.sales1b, year=2026, month=3)
        orders = board({"rankings": data}, "orders")
        assert [(r["name"], r["position"], r["value"]) for r in orders["rows"]] == [
            ("王芳", 1, None),
            ("孙浩", 2, D("500.00")),
        ]
        assert orders["me"]["position"] == 2 and orders["count"] == 2  # 吴涛 is in 销售二组
        assert all(r["masked"] for r in orders["rows"] if not r["me"])

    def test_a_leader_ranks_the_group(self, activity):
        data = selectors.rankings(actor=activity.leader2, year=2026, month=3)
        orders = board({"rankings": data}, "orders")
        assert [(r["name"], r["value"]) for r in orders["rows"]] == [("吴涛", D("2000.00"))]
        assert board({"rankings": data}, "follow_ups")["rows"] == []

    def test_the_year_and_ties(self, activity, customer):
        make_order(
            customer=customer,
            owner=activity.sales1b,
            department=activity.units["S1"],
            order_date=datetime.date(2026, 5, 1),
            total="1000.00",
        )
        services.rollups_process()
        data = selectors.rankings(actor=activity.management, year=2026)
        orders = board({"rankings": data}, "orders")
        assert [(r["name"], r["position"]) for r in orders["rows"]] == [
            ("吴涛", 1),
            ("孙浩", 2),
            ("王芳", 2),
        ] or [(r["name"], r["position"]) for r in orders["rows"]] == [
            ("吴涛", 1),
            ("王芳", 2),
            ("孙浩", 2),
        ]


@pytest.fixture
def fake_opportunities(monkeypatch):
    """Stand in for the opportunities part's selectors (its own tests cover the funnel)."""
    import sys
    import types

    import marketdesk.sales as sales_package

    def install(funnel):
        fake = types.SimpleNamespace(funnel=funnel, stage_group_for_user=lambda user: "group")
        monkeypatch.setitem(sys.modules, "marketdesk.sales.selectors_opportunities", fake)
        monkeypatch.setattr(sales_package, "selectors_opportunities", fake, raising=False)

    return install


class TestFunnel:
    def test_the_funnel_of_the_period_comes_from_the_opportunities_part(
        self, figures, fake_opportunities
    ):
        import types

        calls = []

        def funnel(*, actor, stage_group, start, end):
            calls.append((stage_group, start, end))
            return [
                types.SimpleNamespace(label="初步接触", count=4, amount=D("10.00"), conversion=50),
                types.SimpleNamespace(label="Won", count=2, amount=D("5.00"), conversion=None),
            ]

        fake_opportunities(funnel)
        data = selectors.dashboard(actor=figures.manager, year=2026, month=2)
        assert calls == [("group", datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))]
        assert data["funnel"][0] == {
            "name": "初步接触",
            "count": 4,
            "amount": D("10.00"),
            "conversion": 50,
        }

    def test_an_empty_funnel_shows_nothing(self, figures, fake_opportunities):
        fake_opportunities(lambda **kw: [])
        assert selectors.funnel(actor=figures.manager, year=2026) is None


class TestOrderAmountMetric:
    def test_it_is_registered_for_finance(self):
        assert metrics.has_metric(metrics.ORDER_AMOUNT)

    def test_whole_months_per_unit_with_sub_units(self, figures):
        u = figures.units
        values = metrics.metric(
            metrics.ORDER_AMOUNT,
            department_ids=[u["S1"].pk, u["S2"].pk, u["MKT"].pk, u["FIN"].pk],
            start=datetime.date(2026, 3, 1),
            end=datetime.date(2026, 3, 31),
        )
        assert values == {
            u["S1"].pk: D("1500.00"),
            u["S2"].pk: D("2000.00"),
            u["MKT"].pk: D("3500.00"),
            u["FIN"].pk: D("0.00"),
        }

    def test_part_months_come_from_the_orders(self, figures):
        u = figures.units
        values = selectors.order_amount_metric(
            department_ids=[u["S1"].pk, u["MKT"].pk],
            start=datetime.date(2026, 2, 15),
            end=datetime.date(2026, 3, 19),
        )
        assert values == {u["S1"].pk: D("1000.00"), u["MKT"].pk: D("1000.00")}
        values = selectors.order_amount_metric(
            department_ids=[u["MKT"].pk],
            start=datetime.date(2026, 1, 20),
            end=datetime.date(2026, 3, 31),
        )
        assert values == {u["MKT"].pk: D("4000.00")}


class TestHelpers:
    def test_top_units_skip_targets_below_a_chosen_unit_only(self):
        def target(path):
            return selectors._Target("orders", "department", 1, None, path, (D("1"),) * 12)

        chosen = selectors._top_units(
            [target("/1/4/9/"), target("/1/40/"), target("/1/4/"), target("/2/")]
        )
        assert [t.path for t in chosen] == ["/1/4/", "/1/40/", "/2/"]

    def test_a_board_shows_the_top_with_ties_and_the_actors_own_place(self):
        import types

        actor = types.SimpleNamespace(pk=9)
        values = {1: D("50"), 2: D("80"), 3: D("80"), 4: D("10"), 9: D("5"), 5: D("0")}
        board = selectors._board(
            "orders", "x", "amount", values, actor=actor, level="unit", limit=2
        )
        assert [(r["user_id"], r["position"]) for r in board["rows"]] == [(2, 1), (3, 1), (9, 5)]
        assert board["me"] == {"position": 5, "user_id": 9, "value": D("5")}
        assert board["count"] == 5  # nobody with 0
        own = selectors._board("orders", "x", "amount", values, actor=actor, level="self", limit=2)
        assert len(own["rows"]) == 5
