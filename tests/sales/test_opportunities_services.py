"""The opportunity services: which stage group a new opportunity gets, the stage rule shared by
the form and the board, the customer / contact / owner rules, every move and end recorded for
the funnel, reasons for lost and invalid, reopen by the owner or a leader, conversion to an
order, competitors, the moves when a customer changes hands or an employee leaves, stage
groups and competitors."""

# ruff: noqa: F811  (the fixtures imported from test_opportunities_fixtures)
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from marketdesk.core import services as core_services
from marketdesk.crm import services as crm_services
from marketdesk.org import services as org_services
from marketdesk.sales import selectors_opportunities as selectors
from marketdesk.sales.models import (
    Opportunity,
    OpportunityCompetitor,
    OpportunityStageChange,
    OpportunityStatus,
    StageGroup,
)
from marketdesk.sales.services import opportunities as services

from .test_opportunities_fixtures import (  # noqa: F401
    customers,
    groups,
    make_opp,
    rivals,
    root,
    stage,
    stage_rows,
)

pytestmark = pytest.mark.django_db
D = Decimal


def fresh(opportunity) -> Opportunity:
    return Opportunity.objects.get(pk=opportunity.pk)


def changes(opportunity) -> list[tuple]:
    return [
        (
            c.from_stage.name if c.from_stage else None,
            c.to_stage.name if c.to_stage else None,
            c.status,
        )
        for c in OpportunityStageChange.objects.filter(opportunity=opportunity).order_by("pk")
    ]


def field_errors(exc) -> dict:
    return exc.value.message_dict


class TestCreate:
    def test_it_takes_the_company_default_group_and_its_first_stage(self, make_opp, groups):
        opportunity = make_opp("sales1")
        assert opportunity.stage_group == groups["default"]
        assert opportunity.stage.name == "初步接洽"
        assert opportunity.status == OpportunityStatus.OPEN
        assert opportunity.department.code == "S1"
        assert opportunity.number.startswith(f"SJ-{timezone.localdate():%Y}-")
        assert changes(opportunity) == [(None, "初步接洽", "open")]

    def test_an_owner_in_a_unit_with_its_own_group_gets_that_group(self, make_opp, groups):
        opportunity = make_opp("sales2")
        assert opportunity.stage_group == groups["s2"]
        assert opportunity.stage.name == "线索确认"

    def test_a_group_of_a_parent_unit_applies_to_the_units_below(
        self, make_opp, root, sales_personas, groups
    ):
        marketing = services.stage_group_save(
            actor=root,
            name="营销部阶段",
            department=sales_personas.units["MKT"],
            stages=stage_rows([("接洽", 20), ("成交前", 80)]),
        )
        assert make_opp("sales1").stage_group == marketing  # 销售一组 is under 营销部
        assert make_opp("sales2").stage_group == groups["s2"]  # its own group is nearer

    def test_without_any_stage_group_it_says_so_on_the_stage(self, sales_personas, customers):
        with pytest.raises(ValidationError) as exc:
            services.opportunity_create(
                actor=sales_personas.sales1, name="无阶段", customer=customers["s1"]
            )
        assert "stage" in field_errors(exc)
        assert not Opportunity.objects.exists()

    def test_a_stage_of_another_group_is_refused(self, make_opp, groups):
        with pytest.raises(ValidationError) as exc:
            make_opp("sales1", stage=stage(groups["s2"], "招投标"))
        assert "stage" in field_errors(exc)
        assert not Opportunity.objects.exists()

    def test_it_may_start_in_a_later_stage_of_its_group(self, make_opp, groups):
        opportunity = make_opp("sales1", stage=stage(groups["default"], "方案报价"))
        assert opportunity.stage.name == "方案报价"

    def test_the_amount_may_not_be_negative(self, make_opp):
        with pytest.raises(ValidationError) as exc:
            make_opp("sales1", amount="-1.00")
        assert "expected_amount" in field_errors(exc)
        assert not Opportunity.objects.exists()

    def test_the_name_is_required(self, make_opp):
        with pytest.raises(ValidationError) as exc:
            make_opp("sales1", name="  ")
        assert "name" in field_errors(exc)


class TestCustomerContactOwnerRules:
    def test_a_salesperson_cannot_use_another_salespersons_customer(self, make_opp, customers):
        with pytest.raises(ValidationError) as exc:
            make_opp("sales1", customer=customers["s1b"])
        assert "customer" in field_errors(exc)

    def test_the_group_leader_may_use_a_customer_of_the_group(self, make_opp, customers):
        assert make_opp("leader1", customer=customers["s1b"]).customer == customers["s1b"]

    def test_a_leader_may_not_use_another_groups_customer(self, make_opp, customers):
        with pytest.raises(ValidationError):
            make_opp("leader1", customer=customers["s2"])

    def test_a_pool_customer_is_claimed_first(self, make_opp, sales_personas):
        from marketdesk.crm.models import CustomerPool

        CustomerPool.objects.create(
            name="华东公海", department=sales_personas.units["MKT"], is_default=True
        )
        pooled = crm_services.customer_create(
            actor=sales_personas.sales1, to_pool=True, kind="company", name="公海里的客户有限公司"
        )
        with pytest.raises(ValidationError) as exc:
            make_opp("sales1", customer=pooled)
        assert "customer" in field_errors(exc)

    def test_a_team_member_needs_write_access(self, make_opp, sales_personas, customers):
        core_services.record_share(
            actor=sales_personas.sales1b,
            record=customers["s1b"],
            user=sales_personas.sales1,
            access="read",
        )
        with pytest.raises(ValidationError):
            make_opp("sales1", customer=customers["s1b"])
        core_services.record_share(
            actor=sales_personas.sales1b,
            record=customers["s1b"],
            user=sales_personas.sales1,
            access="write",
        )
        assert make_opp("sales1", customer=customers["s1b"]).customer == customers["s1b"]

    def test_the_contact_must_belong_to_the_customer(self, make_opp, customers):
        with pytest.raises(ValidationError) as exc:
            make_opp("sales1", contact=customers["s1b"].contacts.first())
        assert "contact" in field_errors(exc)
        opportunity = make_opp("sales1", contact=customers["s1"].contacts.first())
        assert opportunity.contact.name == "钱进"

    def test_a_leader_may_open_one_for_a_salesperson_of_the_group(self, make_opp, sales_personas):
        opportunity = make_opp("leader1", owner=sales_personas.sales1)
        assert opportunity.owner == sales_personas.sales1
        assert opportunity.created_by == sales_personas.leader1

    def test_a_salesperson_cannot_give_one_to_a_colleague(self, make_opp, sales_personas):
        with pytest.raises(ValidationError) as exc:
            make_opp("sales1", owner=sales_personas.sales1b)
        assert "owner" in field_errors(exc)

    def test_a_leader_cannot_give_one_to_another_group(self, make_opp, sales_personas):
        with pytest.raises(ValidationError) as exc:
            make_opp("leader1", owner=sales_personas.sales2)
        assert "owner" in field_errors(exc)

    @pytest.mark.parametrize("who", ["management", "finance", "service", "outsider", "promo"])
    def test_roles_without_the_permission_cannot_open_one(
        self, sales_personas, customers, groups, who
    ):
        with pytest.raises(PermissionDenied):
            services.opportunity_create(
                actor=getattr(sales_personas, who), name="x", customer=customers["s1"]
            )


class TestMoves:
    def test_every_move_is_recorded_with_who_and_when(self, make_opp, groups, sales_personas):
        opportunity = make_opp("sales1")
        services.opportunity_move(
            actor=sales_personas.sales1,
            opportunity=opportunity,
            stage=stage(groups["default"], "需求确认"),
        )
        services.opportunity_move(
            actor=sales_personas.leader1,
            opportunity=opportunity,
            stage=stage(groups["default"], "商务谈判"),
        )
        assert changes(opportunity) == [
            (None, "初步接洽", "open"),
            ("初步接洽", "需求确认", "open"),
            ("需求确认", "商务谈判", "open"),
        ]
        last = OpportunityStageChange.objects.filter(opportunity=opportunity).last()
        assert last.by == sales_personas.leader1
        assert fresh(opportunity).stage.name == "商务谈判"

    def test_moving_to_the_same_stage_records_nothing(self, make_opp, groups, sales_personas):
        opportunity = make_opp("sales1")
        services.opportunity_move(
            actor=sales_personas.sales1,
            opportunity=opportunity,
            stage=stage(groups["default"], "初步接洽"),
        )
        assert len(changes(opportunity)) == 1

    def test_a_stage_of_another_group_is_refused_and_nothing_changes(
        self, make_opp, groups, sales_personas
    ):
        opportunity = make_opp("sales1")
        with pytest.raises(ValidationError) as exc:
            services.opportunity_move(
                actor=sales_personas.sales1,
                opportunity=opportunity,
                stage=stage(groups["s2"], "招投标"),
            )
        assert "stage" in field_errors(exc)
        assert fresh(opportunity).stage.name == "初步接洽"
        assert len(changes(opportunity)) == 1

    @pytest.mark.parametrize("who", ["sales1b", "sales2", "leader2", "management"])
    def test_only_the_owner_and_leaders_may_move_it(self, make_opp, groups, sales_personas, who):
        opportunity = make_opp("sales1")
        with pytest.raises(PermissionDenied):
            services.opportunity_move(
                actor=getattr(sales_personas, who),
                opportunity=opportunity,
                stage=stage(groups["default"], "需求确认"),
            )
        assert fresh(opportunity).stage.name == "初步接洽"

    @pytest.mark.parametrize("who", ["leader1", "manager"])
    def test_leaders_over_the_unit_may_move_it(self, make_opp, groups, sales_personas, who):
        opportunity = make_opp("sales1")
        services.opportunity_move(
            actor=getattr(sales_personas, who),
            opportunity=opportunity,
            stage=stage(groups["default"], "需求确认"),
        )
        assert fresh(opportunity).stage.name == "需求确认"

    def test_the_edit_form_moves_by_the_same_rule(self, make_opp, groups, sales_personas):
        opportunity = make_opp("sales1")
        with pytest.raises(ValidationError) as exc:
            services.opportunity_update(
                actor=sales_personas.sales1,
                opportunity=opportunity,
                name="改名",
                stage=stage(groups["s2"], "招投标"),
            )
        assert "stage" in field_errors(exc)
        assert fresh(opportunity).name == "sales1 的商机"  # nothing saved
        services.opportunity_update(
            actor=sales_personas.sales1,
            opportunity=opportunity,
            name="改名",
            stage=stage(groups["default"], "方案报价"),
            expected_amount=D("250000.00"),
        )
        opportunity = fresh(opportunity)
        assert (opportunity.name, opportunity.stage.name) == ("改名", "方案报价")
        assert changes(opportunity)[-1] == ("初步接洽", "方案报价", "open")

    @pytest.mark.parametrize("end", ["win", "lose", "invalidate"])
    def test_a_closed_opportunity_cannot_be_moved_or_edited(
        self, make_opp, groups, sales_personas, end
    ):
        opportunity = make_opp("sales1")
        getattr(services, f"opportunity_{end}")(
            actor=sales_personas.sales1, opportunity=opportunity, reason="原因"
        )
        with pytest.raises(ValidationError) as exc:
            services.opportunity_move(
                actor=sales_personas.sales1,
                opportunity=opportunity,
                stage=stage(groups["default"], "需求确认"),
            )
        assert exc.value.code == "closed"
        with pytest.raises(ValidationError):
            services.opportunity_update(
                actor=sales_personas.sales1, opportunity=opportunity, name="新名字"
            )
        assert fresh(opportunity).stage.name == "初步接洽"

    def test_the_weighted_amount_follows_the_stage(self, make_opp, groups, sales_personas):
        opportunity = make_opp("sales1", amount="123456.78")
        assert opportunity.weighted_amount == D("12345.68")  # 10 %
        services.opportunity_move(
            actor=sales_personas.sales1,
            opportunity=opportunity,
            stage=stage(groups["default"], "商务谈判"),
        )
        assert fresh(opportunity).weighted_amount == D("86419.75")  # 70 %
        services.opportunity_lose(
            actor=sales_personas.sales1, opportunity=opportunity, reason="预算取消"
        )
        assert fresh(opportunity).weighted_amount == D("0.00")


class TestEndStates:
    def test_winning_records_the_end(self, make_opp, sales_personas):
        opportunity = services.opportunity_win(
            actor=sales_personas.sales1, opportunity=make_opp("sales1"), reason="方案获认可"
        )
        opportunity = fresh(opportunity)
        assert opportunity.status == OpportunityStatus.WON
        assert opportunity.closed_at is not None
        assert opportunity.end_reason == "方案获认可"
        assert changes(opportunity)[-1] == ("初步接洽", None, "won")

    def test_lost_needs_a_reason(self, make_opp, sales_personas):
        opportunity = make_opp("sales1")
        with pytest.raises(ValidationError) as exc:
            services.opportunity_lose(
                actor=sales_personas.sales1, opportunity=opportunity, reason=" "
            )
        assert "reason" in field_errors(exc)
        assert fresh(opportunity).status == OpportunityStatus.OPEN
        assert len(changes(opportunity)) == 1

    def test_lost_may_name_the_competitor_who_is_then_on_the_deal(
        self, make_opp, sales_personas, rivals
    ):
        opportunity = services.opportunity_lose(
            actor=sales_personas.sales1,
            opportunity=make_opp("sales1"),
            reason="价格高出 12%",
            competitor=rivals["华为"],
        )
        opportunity = fresh(opportunity)
        assert opportunity.status == OpportunityStatus.LOST
        assert opportunity.lost_to == rivals["华为"]
        assert list(opportunity.competitors.all()) == [rivals["华为"]]
        assert changes(opportunity)[-1] == ("初步接洽", None, "lost")
        with pytest.raises(ValidationError):  # who won the deal stays on it
            services.opportunity_competitor_remove(
                actor=sales_personas.sales1, opportunity=opportunity, competitor=rivals["华为"]
            )

    def test_invalid_needs_a_reason(self, make_opp, sales_personas):
        opportunity = make_opp("sales1")
        with pytest.raises(ValidationError) as exc:
            services.opportunity_invalidate(
                actor=sales_personas.sales1, opportunity=opportunity, reason=""
            )
        assert "reason" in field_errors(exc)
        services.opportunity_invalidate(
            actor=sales_personas.sales1, opportunity=opportunity, reason="重复商机"
        )
        assert fresh(opportunity).status == OpportunityStatus.INVALID

    def test_an_ended_opportunity_cannot_end_again(self, make_opp, sales_personas):
        opportunity = make_opp("sales1")
        services.opportunity_win(actor=sales_personas.sales1, opportunity=opportunity)
        with pytest.raises(ValidationError):
            services.opportunity_lose(
                actor=sales_personas.sales1, opportunity=opportunity, reason="改主意"
            )
        assert fresh(opportunity).status == OpportunityStatus.WON

    def test_the_database_refuses_a_lost_row_without_a_reason(self, make_opp):
        from django.db import IntegrityError, transaction

        opportunity = make_opp("sales1")
        with pytest.raises(IntegrityError), transaction.atomic():
            Opportunity.objects.filter(pk=opportunity.pk).update(status="lost", end_reason="")


class TestReopen:
    @pytest.mark.parametrize("who", ["sales1", "leader1", "manager"])
    def test_the_owner_or_a_leader_reopens(self, make_opp, sales_personas, rivals, who):
        opportunity = services.opportunity_lose(
            actor=sales_personas.sales1,
            opportunity=make_opp("sales1"),
            reason="价格",
            competitor=rivals["浪潮"],
        )
        services.opportunity_reopen(actor=getattr(sales_personas, who), opportunity=opportunity)
        opportunity = fresh(opportunity)
        assert opportunity.status == OpportunityStatus.OPEN
        assert (opportunity.end_reason, opportunity.lost_to, opportunity.closed_at) == (
            "",
            None,
            None,
        )
        assert changes(opportunity)[-1] == (None, "初步接洽", "open")

    def test_a_team_member_with_write_access_may_not_reopen(self, make_opp, sales_personas):
        opportunity = make_opp("sales1")
        core_services.record_share(
            actor=sales_personas.sales1,
            record=opportunity,
            user=sales_personas.sales1b,
            access="write",
        )
        services.opportunity_move(  # but may move it while open
            actor=sales_personas.sales1b,
            opportunity=opportunity,
            stage=opportunity.stage_group.stages.get(sort_order=2),
        )
        services.opportunity_win(actor=sales_personas.sales1, opportunity=opportunity)
        with pytest.raises(PermissionDenied):
            services.opportunity_reopen(actor=sales_personas.sales1b, opportunity=opportunity)
        assert fresh(opportunity).status == OpportunityStatus.WON

    @pytest.mark.parametrize("who", ["sales1b", "leader2", "management"])
    def test_others_may_not_reopen(self, make_opp, sales_personas, who):
        opportunity = make_opp("sales1")
        services.opportunity_invalidate(
            actor=sales_personas.sales1, opportunity=opportunity, reason="重复"
        )
        with pytest.raises(PermissionDenied):
            services.opportunity_reopen(actor=getattr(sales_personas, who), opportunity=opportunity)

    def test_an_open_opportunity_is_not_reopened(self, make_opp, sales_personas):
        with pytest.raises(ValidationError):
            services.opportunity_reopen(actor=sales_personas.sales1, opportunity=make_opp("sales1"))


class TestConvert:
    def test_an_open_opportunity_is_won_when_converted(self, make_opp, sales_personas):
        opportunity = services.opportunity_convert(
            actor=sales_personas.sales1, opportunity=make_opp("sales1")
        )
        assert fresh(opportunity).status == OpportunityStatus.WON
        assert changes(opportunity)[-1][2] == "won"
        url = selectors.order_create_url(opportunity)
        assert url.startswith("/sales/orders/new/")
        assert url.endswith(f"?opportunity={opportunity.pk}")

    def test_a_won_opportunity_converts_again_without_a_new_change(self, make_opp, sales_personas):
        opportunity = make_opp("sales1")
        services.opportunity_win(actor=sales_personas.sales1, opportunity=opportunity)
        services.opportunity_convert(actor=sales_personas.sales1, opportunity=opportunity)
        assert [c[2] for c in changes(opportunity)] == ["open", "won"]

    def test_a_lost_opportunity_cannot_be_converted(self, make_opp, sales_personas):
        opportunity = make_opp("sales1")
        services.opportunity_lose(actor=sales_personas.sales1, opportunity=opportunity, reason="丢")
        with pytest.raises(ValidationError):
            services.opportunity_convert(actor=sales_personas.sales1, opportunity=opportunity)

    @pytest.mark.parametrize("who", ["sales1b", "management"])
    def test_only_who_may_edit_it_converts(self, make_opp, sales_personas, who):
        opportunity = make_opp("sales1")
        with pytest.raises(PermissionDenied):
            services.opportunity_convert(
                actor=getattr(sales_personas, who), opportunity=opportunity
            )
        assert fresh(opportunity).status == OpportunityStatus.OPEN


class TestCompetitorsOnTheDeal:
    def test_the_form_sets_the_competitors_and_keeps_their_details(
        self, make_opp, sales_personas, rivals
    ):
        opportunity = make_opp("sales1", competitors=[rivals["华为"], rivals["浪潮"]])
        services.opportunity_competitor_save(
            actor=sales_personas.sales1,
            opportunity=opportunity,
            competitor=rivals["华为"],
            their_price=D("98000.00"),
            notes="报价含三年维保",
        )
        services.opportunity_update(
            actor=sales_personas.sales1,
            opportunity=opportunity,
            competitors=[rivals["华为"], rivals["锐捷"]],
        )
        rows = {
            r.competitor.name: r
            for r in OpportunityCompetitor.objects.filter(opportunity=opportunity)
        }
        assert set(rows) == {"华为", "锐捷"}
        assert rows["华为"].their_price == D("98000.00")

    def test_a_negative_price_names_the_field(self, make_opp, sales_personas, rivals):
        with pytest.raises(ValidationError) as exc:
            services.opportunity_competitor_save(
                actor=sales_personas.sales1,
                opportunity=make_opp("sales1"),
                competitor=rivals["华为"],
                their_price=D("-5"),
            )
        assert "their_price" in field_errors(exc)

    def test_someone_else_cannot_add_competitors(self, make_opp, sales_personas, rivals):
        with pytest.raises(PermissionDenied):
            services.opportunity_competitor_save(
                actor=sales_personas.sales2,
                opportunity=make_opp("sales1"),
                competitor=rivals["华为"],
            )


class TestCustomerTransferAndHandover:
    def test_a_cascading_transfer_moves_the_previous_owners_open_opportunities(
        self, make_opp, sales_personas, customers
    ):
        open_one = make_opp("sales1")
        won = make_opp("sales1")
        services.opportunity_win(actor=sales_personas.sales1, opportunity=won)
        leaders = make_opp("leader1")  # on the same customer, owned by the leader
        crm_services.customer_assign(
            actor=sales_personas.leader1,
            customer=customers["s1"],
            to_user=sales_personas.sales1b,
            cascade=True,
        )
        assert fresh(open_one).owner == sales_personas.sales1b
        assert fresh(open_one).department.code == "S1"
        assert fresh(won).owner == sales_personas.sales1  # closed deals keep their owner
        assert fresh(leaders).owner == sales_personas.leader1

    def test_without_cascade_the_opportunities_stay(self, make_opp, sales_personas, customers):
        opportunity = make_opp("sales1")
        crm_services.customer_assign(
            actor=sales_personas.leader1,
            customer=customers["s1"],
            to_user=sales_personas.sales1b,
            cascade=False,
        )
        assert fresh(opportunity).owner == sales_personas.sales1

    def test_a_handover_moves_the_open_opportunities(self, make_opp, sales_personas, root):
        open_one = make_opp("sales1")
        lost = make_opp("sales1")
        services.opportunity_lose(actor=sales_personas.sales1, opportunity=lost, reason="丢单")
        org_services.employee_handover(
            actor=root,
            from_employee=sales_personas.emp("sales1"),
            to_employee=sales_personas.emp("sales1b"),
        )
        assert fresh(open_one).owner == sales_personas.sales1b
        assert fresh(lost).owner == sales_personas.sales1


class TestStageGroups:
    def test_one_active_group_per_unit(self, groups, root, sales_personas):
        with pytest.raises(ValidationError) as exc:
            services.stage_group_save(
                actor=root,
                name="第二个二组阶段",
                department=sales_personas.units["S2"],
                stages=stage_rows([("一", 10)]),
            )
        assert "department" in field_errors(exc)
        inactive = services.stage_group_save(
            actor=root,
            name="备用",
            department=sales_personas.units["S2"],
            active=False,
            stages=stage_rows([("一", 10)]),
        )
        assert not inactive.active

    def test_one_active_company_default(self, groups, root):
        with pytest.raises(ValidationError) as exc:
            services.stage_group_save(
                actor=root, name="另一个默认", department=None, stages=stage_rows([("一", 10)])
            )
        assert "department" in field_errors(exc)

    def test_stage_rows_are_checked_and_named(self, root):
        with pytest.raises(ValidationError) as exc:
            services.stage_group_save(
                actor=root,
                name="错误",
                stages=[
                    {"name": "A", "win_percent": 120, "sort_order": 1},
                    {"name": "A", "win_percent": 10, "sort_order": 1},
                ],
            )
        errors = field_errors(exc)
        assert {"stages[1].win_percent", "stages[2].name", "stages[2].sort_order"} <= set(errors)
        assert not StageGroup.objects.exists()

    def test_stages_can_swap_their_order(self, groups, root):
        group = groups["default"]
        rows = [
            {"id": s.pk, "name": s.name, "win_percent": s.win_percent, "sort_order": s.sort_order}
            for s in group.stages.order_by("sort_order")
        ]
        rows[0]["sort_order"], rows[1]["sort_order"] = 2, 1
        services.stage_group_save(actor=root, group=group, name=group.name, stages=rows)
        assert [s.name for s in group.stages.order_by("sort_order")][:2] == ["需求确认", "初步接洽"]

    def test_a_stage_in_use_cannot_be_removed(self, make_opp, groups, root):
        make_opp("sales1")
        group = groups["default"]
        rows = [
            {"id": s.pk, "name": s.name, "win_percent": s.win_percent, "sort_order": s.sort_order}
            for s in group.stages.order_by("sort_order")
        ][1:]
        with pytest.raises(ValidationError) as exc:
            services.stage_group_save(actor=root, group=group, name=group.name, stages=rows)
        assert "stages" in field_errors(exc)
        assert group.stages.count() == 5

    def test_an_unused_stage_is_removed_and_a_new_one_added(self, groups, root):
        group = groups["s2"]
        rows = [
            {"id": s.pk, "name": s.name, "win_percent": s.win_percent, "sort_order": s.sort_order}
            for s in group.stages.order_by("sort_order")
        ]
        rows = rows[:-1] + [{"name": "合同签订", "win_percent": 95, "sort_order": 9}]
        services.stage_group_save(
            actor=root, group=group, name=group.name, department=group.department, stages=rows
        )
        assert [s.name for s in group.stages.order_by("sort_order")] == [
            "线索确认",
            "方案报价",
            "招投标",
            "合同签订",
        ]

    @pytest.mark.parametrize("who", ["sales1", "leader1", "management"])
    def test_only_the_administrator_or_manager_changes_them(self, sales_personas, who):
        with pytest.raises(PermissionDenied):
            services.stage_group_save(
                actor=getattr(sales_personas, who), name="x", stages=stage_rows([("一", 10)])
            )

    def test_the_administrator_and_the_manager_may(self, sales_personas):
        services.stage_group_save(
            actor=sales_personas.admin, name="默认", stages=stage_rows([("一", 10)])
        )
        services.stage_group_save(
            actor=sales_personas.manager,
            name="一组",
            department=sales_personas.units["S1"],
            stages=stage_rows([("一", 10)]),
        )
        assert StageGroup.objects.count() == 2


class TestCompetitors:
    def test_names_are_unique(self, rivals, root):
        with pytest.raises(ValidationError) as exc:
            services.competitor_save(actor=root, name=" 华为 ")
        assert "name" in field_errors(exc)

    def test_a_web_address_gets_its_scheme_and_scripts_are_refused(self, root):
        made = services.competitor_save(actor=root, name="中兴", website="www.zte.com.cn")
        assert made.website == "https://www.zte.com.cn"
        with pytest.raises(ValidationError) as exc:
            services.competitor_save(actor=root, name="坏链接", website="javascript://x%0aalert(1)")
        assert "website" in field_errors(exc)

    @pytest.mark.parametrize("who", ["sales1", "leader1", "admin"])
    def test_only_the_manager_keeps_the_list(self, sales_personas, who):
        with pytest.raises(PermissionDenied):
            services.competitor_save(actor=getattr(sales_personas, who), name="中兴")
        services.competitor_save(actor=sales_personas.manager, name="中兴")
