"""Export requests (R5.1.3): a bulk export of customers over the configured size needs an
approved `crm.customer_export` document; the approval engine sets its status; it is used once."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import ApproverKind, NoApprover, SelfApproval
from marketdesk.crm import selectors, services
from marketdesk.crm.models import ExportRequestStatus

from ..approvals.helpers import step, task_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def export_flow(personas):
    """Export requests are approved by the requester's supervisor (the manager for leader1)."""
    return approvals.flow_save(
        actor=personas.admin,
        flow=None,
        fields={
            "name": "客户导出审批",
            "doc_type": "crm.customer_export",
            "priority": 100,
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 0,
        },
        departments=[],
        cc_users=[],
        steps=[step("直属上级", ApproverKind.SUPERVISOR)],
    )


QUERY = "scene=all&level=A"


@pytest.fixture
def submitted(personas, export_flow):
    request = services.export_request_create(
        actor=personas.leader1, query=QUERY, row_count=1500, reason="年度拜访计划"
    )
    return request, services.export_request_submit(actor=personas.leader1, request=request)


def status_of(request) -> str:
    request.refresh_from_db()
    return request.status


class TestExportRequestCreate:
    def test_a_group_leader_asks_for_an_export(self, personas):
        request = services.export_request_create(
            actor=personas.leader1, query="level=A", row_count=1500, reason=" 年度计划 "
        )
        assert (request.status, request.department, request.reason) == (
            ExportRequestStatus.DRAFT,
            personas.units["S1"],
            "年度计划",
        )
        assert request.number.startswith("CEX")

    def test_a_reason_is_required(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.export_request_create(
                actor=personas.leader1, query="", row_count=1500, reason=""
            )
        assert exc.value.message_dict == {"reason": ["Give a reason."]}

    @pytest.mark.parametrize("who", ["sales1", "promo", "finance", "outsider"])
    def test_people_without_the_permission_may_not_ask(self, personas, who):
        with pytest.raises(PermissionDenied):
            services.export_request_create(
                actor=getattr(personas, who), query="", row_count=1500, reason="导出"
            )


@pytest.fixture
def decide(django_capture_on_commit_callbacks):
    """decide(call) runs an approval action and the document hooks it defers to the commit."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


class TestExportApproval:
    def test_the_supervisor_approves_and_the_request_is_used_once(
        self, personas, submitted, decide
    ):
        request, approval = submitted
        assert (
            selectors.approved_export(actor=personas.leader1, row_count=1500, query=QUERY) is None
        )
        decide(
            lambda: approvals.task_approve(
                actor=personas.manager, task=task_of(approval, personas.manager)
            )
        )
        assert status_of(request) == ExportRequestStatus.APPROVED
        assert (
            selectors.approved_export(actor=personas.leader1, row_count=1500, query=QUERY)
            == request
        )
        assert (
            selectors.approved_export(actor=personas.leader1, row_count=1501, query=QUERY) is None
        )
        assert selectors.approved_export(actor=personas.leader2, row_count=10, query=QUERY) is None
        services.export_request_use(actor=personas.leader1, request=request)
        assert status_of(request) == ExportRequestStatus.USED
        assert (
            selectors.approved_export(actor=personas.leader1, row_count=1500, query=QUERY) is None
        )
        with pytest.raises(ValidationError):
            services.export_request_use(actor=personas.leader1, request=request)

    def test_a_submitted_request_is_in_approval(self, personas, submitted):
        request, _approval = submitted
        assert status_of(request) == ExportRequestStatus.PENDING

    def test_a_rejected_request_sent_again_is_in_approval_again(self, personas, submitted, decide):
        request, approval = submitted
        decide(
            lambda: approvals.task_reject(
                actor=personas.manager, task=task_of(approval, personas.manager), reason="范围太大"
            )
        )
        services.export_request_submit(actor=personas.leader1, request=request)
        assert status_of(request) == ExportRequestStatus.PENDING

    def test_a_rejected_request_cannot_be_used(self, personas, submitted, decide):
        request, approval = submitted
        decide(
            lambda: approvals.task_reject(
                actor=personas.manager, task=task_of(approval, personas.manager), reason="范围太大"
            )
        )
        assert status_of(request) == ExportRequestStatus.REJECTED
        with pytest.raises(ValidationError):
            services.export_request_use(actor=personas.leader1, request=request)

    def test_a_withdrawn_request_is_a_draft_again(self, personas, submitted, decide):
        request, approval = submitted
        decide(lambda: approvals.request_withdraw(actor=personas.leader1, request=approval))
        assert status_of(request) == ExportRequestStatus.DRAFT

    def test_only_the_requester_uses_it(self, personas, submitted, decide):
        request, approval = submitted
        decide(
            lambda: approvals.task_approve(
                actor=personas.manager, task=task_of(approval, personas.manager)
            )
        )
        with pytest.raises(PermissionDenied):
            services.export_request_use(actor=personas.manager, request=request)

    def test_other_groups_do_not_see_the_request(self, personas, submitted):
        request, _approval = submitted
        assert list(selectors.export_request_list(actor=personas.leader2)) == []
        assert list(selectors.export_request_list(actor=personas.manager)) == [request]
