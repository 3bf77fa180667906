"""Who approves (resolution.py): every approver kind, step conditions by amount (one flow
expresses the authority levels of R7.2.2), the flow chosen for a document, the approver who
is the submitter, no approver found, and the same approver twice in a row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import translation

from marketdesk.approvals import general
from marketdesk.approvals.models import (
    ApprovalEvent,
    ApprovalRequest,
    ApproverKind,
    EventAction,
    NoApprover,
    RequestStatus,
    SelfApproval,
    StepMode,
)
from marketdesk.approvals.resolution import build_plan, describe_plan, flow_for
from marketdesk.org import services as org_services
from marketdesk.org.models import Department, Role

from .helpers import DOC_TYPE, step, waiting_approvers

pytestmark = pytest.mark.django_db


def system_user():
    return get_user_model().objects.get(username="system")


def chain(personas, flow, submitter, amount="0") -> list[list[str]]:
    """The planned approvers of each step, as persona keys."""
    names = {p.user.pk: key for key, p in personas.employees.items()}
    unit = Department.objects.get(employees__user=submitter)  # fresh: heads were set later
    plan = build_plan(
        flow=flow,
        submitter=submitter,
        department=unit,
        amount=Decimal(amount) if amount is not None else None,
    )
    return [[names[i] for i in planned.approvers] for planned in plan.steps]


class TestApproverKinds:
    def test_a_named_user(self, personas, make_flow):
        flow = make_flow([step("财务", ApproverKind.USER, user=personas.finance)])
        assert chain(personas, flow, personas.sales1) == [["finance"]]

    def test_everyone_with_a_role(self, personas, make_flow):
        leaders = Role.objects.get(code="group_leader")
        flow = make_flow([step("组长", ApproverKind.ROLE, role=leaders)])
        assert chain(personas, flow, personas.promo) == [["leader1", "leader2"]]

    def test_a_role_leaves_out_employees_who_have_left(self, personas, make_flow):
        leaders = Role.objects.get(code="group_leader")
        org_services.employee_leave(actor=system_user(), employee=personas.emp("leader2"))
        flow = make_flow([step("组长", ApproverKind.ROLE, role=leaders)])
        assert chain(personas, flow, personas.promo) == [["leader1"]]

    def test_the_submitters_supervisor(self, personas, make_flow):
        flow = make_flow([step("直属上级", ApproverKind.SUPERVISOR)])
        assert chain(personas, flow, personas.sales1) == [["leader1"]]
        assert chain(personas, flow, personas.sales2) == [["leader2"]]
        assert chain(personas, flow, personas.leader1) == [["manager"]]

    def test_supervisors_level_by_level_make_one_step_per_level(self, personas, make_flow):
        flow = make_flow([step("逐级审批", ApproverKind.SUPERVISOR_LEVELS, levels=3)])
        plan = build_plan(
            flow=flow, submitter=personas.sales1, department=personas.units["S1"], amount=None
        )
        assert [s.name for s in plan.steps] == [
            "逐级审批 (1/3)",
            "逐级审批 (2/3)",
            "逐级审批 (3/3)",
        ]
        assert chain(personas, flow, personas.sales1) == [["leader1"], ["manager"], ["management"]]

    def test_levels_stop_at_the_top_of_the_chain(self, personas, make_flow):
        flow = make_flow([step("逐级审批", ApproverKind.SUPERVISOR_LEVELS, levels=5)])
        assert chain(personas, flow, personas.leader1) == [["manager"], ["management"]]

    def test_levels_are_asked_one_after_the_other(self, personas, make_flow, submit):
        make_flow([step("逐级审批", ApproverKind.SUPERVISOR_LEVELS, levels=2)])
        request = submit(personas.sales1)
        assert waiting_approvers(request) == ["leader1"]

    def test_the_head_of_the_submitters_unit(self, personas, make_flow):
        flow = make_flow([step("部门负责人", ApproverKind.DEPARTMENT_HEAD)])
        assert chain(personas, flow, personas.sales2) == [["leader2"]]

    def test_a_unit_without_a_head_falls_back_to_the_nearest_head_above(self, personas, make_flow):
        flow = make_flow([step("部门负责人", ApproverKind.DEPARTMENT_HEAD)])
        # 市场推广组 has no head; 营销部 above it is headed by 张伟
        assert chain(personas, flow, personas.promo) == [["manager"]]

    def test_the_head_of_a_named_unit(self, personas, make_flow):
        flow = make_flow(
            [step("总经理", ApproverKind.NAMED_DEPARTMENT_HEAD, department=personas.units["GM"])]
        )
        assert chain(personas, flow, personas.sales1) == [["management"]]

    def test_a_named_unit_without_a_head_falls_back_to_the_head_above(self, personas, make_flow):
        flow = make_flow(
            [
                step(
                    "推广负责人",
                    ApproverKind.NAMED_DEPARTMENT_HEAD,
                    department=personas.units["PRO"],
                )
            ]
        )
        assert chain(personas, flow, personas.sales1) == [["manager"]]


class TestAuthorityLevelsByAmount:
    """≤¥5,000 the group leader; ≤¥50,000 also the marketing manager; above also management."""

    @pytest.mark.parametrize(
        ("amount", "expected"),
        [
            ("0.00", [["leader1"]]),
            ("5000.00", [["leader1"]]),
            ("5000.01", [["leader1"], ["manager"]]),
            ("12000.00", [["leader1"], ["manager"]]),
            ("50000.00", [["leader1"], ["manager"]]),
            ("50000.01", [["leader1"], ["manager"], ["management"]]),
            ("980000.00", [["leader1"], ["manager"], ["management"]]),
        ],
    )
    def test_steps_apply_by_amount(self, personas, authority_flow, amount, expected):
        assert chain(personas, authority_flow, personas.sales1, amount) == expected

    def test_a_document_without_an_amount_counts_as_zero(self, personas, authority_flow):
        assert chain(personas, authority_flow, personas.sales1, None) == [["leader1"]]

    def test_the_preview_text_names_the_approvers_in_order(self, personas, authority_flow):
        plan = build_plan(
            flow=authority_flow,
            submitter=personas.sales1,
            department=personas.units["S1"],
            amount=Decimal("12000"),
        )
        text = describe_plan(plan)
        assert text.index("李强") < text.index("张伟")
        assert "刘总" not in text


class TestFlowChoice:
    def choose(self, personas, *, amount="100", category="general", unit="S1"):
        return flow_for(
            doc_type=DOC_TYPE,
            amount=Decimal(amount),
            category=category,
            department=personas.units[unit],
        )

    def test_by_amount_range(self, personas, make_flow):
        small = make_flow(
            [step("a", ApproverKind.SUPERVISOR)], name="小额", max_amount=Decimal("5000")
        )
        large = make_flow(
            [step("a", ApproverKind.SUPERVISOR)], name="大额", min_amount=Decimal("5000.01")
        )
        assert self.choose(personas, amount="5000") == small
        assert self.choose(personas, amount="5000.01") == large

    def test_by_category(self, personas, make_flow):
        seal = make_flow(
            [step("a", ApproverKind.SUPERVISOR)], name="用印", categories="seal，contract"
        )
        anything = make_flow([step("a", ApproverKind.SUPERVISOR)], name="其他", priority=200)
        assert self.choose(personas, category="seal") == seal
        assert self.choose(personas, category="contract") == seal
        assert self.choose(personas, category="event") == anything

    def test_by_department_including_its_sub_units(self, personas, make_flow):
        marketing = make_flow(
            [step("a", ApproverKind.SUPERVISOR)],
            name="营销部",
            departments=[personas.units["MKT"]],
        )
        group_two = make_flow(
            [step("a", ApproverKind.SUPERVISOR)],
            name="销售二组",
            departments=[personas.units["S2"]],
            priority=50,
        )
        assert self.choose(personas, unit="S1") == marketing  # 销售一组 is under 营销部
        assert self.choose(personas, unit="S2") == group_two
        assert self.choose(personas, unit="FIN") is None

    def test_lower_priority_numbers_are_tried_first(self, personas, make_flow):
        make_flow([step("a", ApproverKind.SUPERVISOR)], name="后", priority=20)
        first = make_flow([step("a", ApproverKind.SUPERVISOR)], name="先", priority=10)
        assert self.choose(personas) == first

    def test_inactive_flows_are_not_chosen(self, personas, make_flow):
        make_flow([step("a", ApproverKind.SUPERVISOR)], active=False)
        assert self.choose(personas) is None

    def test_no_flow_is_a_clear_error_and_nothing_is_created(self, personas, new_doc):
        document = new_doc(personas.sales1)
        with translation.override("en"), pytest.raises(ValidationError) as caught:
            general.general_request_submit(actor=personas.sales1, request=document)
        assert "No approval flow is set up for General request" in caught.value.messages[0]
        assert ApprovalRequest.objects.count() == 0


class TestApproverIsTheSubmitter:
    """No path lets anyone approve their own document."""

    def flow(self, make_flow, personas, policy):
        return make_flow(
            [
                step("组长", ApproverKind.USER, user=personas.leader1),
                step("经理", ApproverKind.USER, user=personas.manager),
            ],
            self_approval=policy,
        )

    def test_skip_leaves_the_submitter_out(self, personas, make_flow, submit):
        self.flow(make_flow, personas, SelfApproval.SKIP)
        request = submit(personas.leader1)
        assert waiting_approvers(request) == ["manager"]
        assert ApprovalEvent.objects.filter(
            request=request, action=EventAction.SKIPPED, step_name="组长"
        ).exists()

    def test_pass_to_the_supervisor(self, personas, make_flow, submit):
        make_flow(
            [step("推广负责人", ApproverKind.USER, user=personas.promo)],
            self_approval=SelfApproval.SUPERVISOR,
        )
        request = submit(personas.promo)
        assert waiting_approvers(request) == ["manager"]  # 赵磊's supervisor

    def test_passing_to_a_supervisor_who_is_next_anyway_asks_once(
        self, personas, make_flow, submit
    ):
        self.flow(make_flow, personas, SelfApproval.SUPERVISOR)
        request = submit(personas.leader1)  # 李强's supervisor is 张伟, the next step
        assert len(request.plan) == 1
        assert waiting_approvers(request) == ["manager"]

    def test_forbid_refuses_the_submission(self, personas, make_flow, new_doc):
        self.flow(make_flow, personas, SelfApproval.FORBID)
        document = new_doc(personas.leader1)
        with pytest.raises(ValidationError) as caught:
            general.general_request_submit(actor=personas.leader1, request=document)
        assert "组长" in " ".join(caught.value.messages)
        assert ApprovalRequest.objects.count() == 0

    def test_skip_in_a_group_step_keeps_the_others(self, personas, make_flow, submit):
        leaders = Role.objects.get(code="group_leader")
        make_flow([step("组长会签", ApproverKind.ROLE, role=leaders, mode=StepMode.ALL)])
        request = submit(personas.leader1)
        assert waiting_approvers(request) == ["leader2"]

    @pytest.mark.parametrize("policy", [SelfApproval.SKIP, SelfApproval.SUPERVISOR])
    def test_skipping_every_step_does_not_approve_the_document_by_itself(
        self, personas, make_flow, submit, policy
    ):
        """Skipping the only step would leave nobody but the submitter: the supervisor decides."""
        make_flow(
            [step("组长", ApproverKind.DEPARTMENT_HEAD)],
            self_approval=policy,
            no_approver=NoApprover.AUTO_APPROVE,
        )
        request = submit(personas.leader1)  # 李强 heads 销售一组
        assert request.status == RequestStatus.IN_PROGRESS
        assert waiting_approvers(request) == ["manager"]

    def test_the_top_of_the_company_goes_to_the_administrators(self, personas, make_flow, submit):
        make_flow(
            [step("总经理", ApproverKind.NAMED_DEPARTMENT_HEAD, department=personas.units["GM"])]
        )
        request = submit(personas.management)  # 刘总 has no supervisor
        assert request.status == RequestStatus.IN_PROGRESS
        assert waiting_approvers(request) == ["admin"]

    def test_nobody_else_at_all_refuses_the_submission(self, personas, make_flow, new_doc):
        make_flow([step("管理员", ApproverKind.USER, user=personas.admin)])
        org_services.employee_update(
            actor=system_user(),
            employee=personas.emp("admin"),
            supervisor=None,
        )
        document = new_doc(personas.admin)
        with pytest.raises(ValidationError):
            general.general_request_submit(actor=personas.admin, request=document)
        assert ApprovalRequest.objects.count() == 0


class TestNoApproverFound:
    def flow(self, make_flow, policy):
        # 财务部 has no head and no unit above it
        return make_flow([step("部门负责人", ApproverKind.DEPARTMENT_HEAD)], no_approver=policy)

    def test_auto_approve_the_step(self, personas, make_flow, submit):
        self.flow(make_flow, NoApprover.AUTO_APPROVE)
        request = submit(personas.finance)
        assert request.status == RequestStatus.APPROVED
        assert ApprovalEvent.objects.filter(
            request=request, action=EventAction.AUTO_APPROVED, step_name="部门负责人"
        ).exists()

    def test_send_to_the_administrators(self, personas, make_flow, submit):
        self.flow(make_flow, NoApprover.ADMINISTRATOR)
        request = submit(personas.finance)
        assert waiting_approvers(request) == ["admin"]

    def test_no_administrator_to_send_to_refuses_the_submission(self, personas, make_flow, new_doc):
        self.flow(make_flow, NoApprover.ADMINISTRATOR)
        document = new_doc(personas.admin)  # the only administrator is the submitter
        org_services.employee_update(
            actor=system_user(),
            employee=personas.emp("admin"),
            department=personas.units["FIN"],
        )
        document.department = personas.units["FIN"]
        document.save(update_fields=["department"])
        with pytest.raises(ValidationError):
            general.general_request_submit(actor=personas.admin, request=document)
        assert ApprovalRequest.objects.count() == 0


class TestSameApproverTwiceInARow:
    def test_is_asked_once(self, personas, make_flow, submit):
        make_flow(
            [
                step("直属上级", ApproverKind.SUPERVISOR),
                step("部门负责人", ApproverKind.DEPARTMENT_HEAD),  # 李强 again
                step("经理", ApproverKind.USER, user=personas.manager),
            ]
        )
        request = submit(personas.sales1)
        assert [s["name"] for s in request.plan] == ["直属上级", "经理"]

    def test_not_when_someone_else_comes_between(self, personas, make_flow, submit):
        make_flow(
            [
                step("直属上级", ApproverKind.SUPERVISOR),
                step("经理", ApproverKind.USER, user=personas.manager),
                step("组长复核", ApproverKind.USER, user=personas.leader1),
            ]
        )
        request = submit(personas.sales1)
        assert len(request.plan) == 3

    def test_a_one_person_all_step_after_the_same_person_is_asked_once(
        self, personas, make_flow, submit
    ):
        make_flow(
            [
                step("直属上级", ApproverKind.SUPERVISOR),
                step("组长会签", ApproverKind.USER, user=personas.leader1, mode=StepMode.ALL),
            ]
        )
        request = submit(personas.sales1)
        assert len(request.plan) == 1
