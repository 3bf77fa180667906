"""The actions of the approval engine (services.py, general.py): each action with its event and
notification, modes, delegation, CC, resubmission, locking and revisions, document hooks,
reminders and escalation."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from marketdesk.approvals import general, registry, services
from marketdesk.approvals.models import (
    ApprovalCC,
    ApprovalEvent,
    ApprovalRequest,
    ApprovalTask,
    ApproverKind,
    EventAction,
    GeneralRequest,
    RequestStatus,
    ResubmitFrom,
    StepMode,
    TaskStatus,
)
from marketdesk.core.models import Notification
from marketdesk.org.models import Role

from .helpers import DOC_TYPE, step, task_of, waiting_approvers

pytestmark = pytest.mark.django_db


def events(request: ApprovalRequest) -> list[str]:
    return list(request.events.order_by("at", "pk").values_list("action", flat=True))


def notified(user, kind: str) -> int:
    return Notification.objects.filter(recipient=user, kind=kind).count()


def fresh(request: ApprovalRequest) -> ApprovalRequest:
    return ApprovalRequest.objects.get(pk=request.pk)


class TestSubmit:
    def test_it_opens_the_first_step_records_the_event_and_notifies(
        self, personas, authority_flow, submit
    ):
        request = submit(personas.sales1)
        assert request.status == RequestStatus.IN_PROGRESS
        assert request.number.startswith("APR")
        assert request.amount == Decimal("12000.00")
        assert request.department == personas.units["S1"]
        assert waiting_approvers(request) == ["leader1"]
        assert events(request) == [EventAction.SUBMITTED]
        assert notified(personas.leader1, "approval.waiting") == 1
        assert notified(personas.manager, "approval.waiting") == 0  # not yet

    def test_only_the_submitter_submits(self, personas, authority_flow, new_doc):
        document = new_doc(personas.sales1)
        with pytest.raises(PermissionDenied):
            general.general_request_submit(actor=personas.leader1, request=document)
        assert ApprovalRequest.objects.count() == 0

    def test_a_document_in_approval_cannot_be_submitted_again(
        self, personas, authority_flow, new_doc
    ):
        document = new_doc(personas.sales1)
        general.general_request_submit(actor=personas.sales1, request=document)
        with pytest.raises(ValidationError):
            general.general_request_submit(actor=personas.sales1, request=document)
        assert ApprovalRequest.objects.count() == 1

    def test_cc_users_get_a_row_and_a_notification(self, personas, make_flow, submit):
        make_flow(
            [step("直属上级", ApproverKind.SUPERVISOR)],
            cc_users=[personas.finance, personas.promo],
        )
        request = submit(personas.sales1)
        assert set(
            ApprovalCC.objects.filter(request=request).values_list("user__username", flat=True)
        ) == {
            "finance",
            "promo",
        }
        assert notified(personas.finance, "approval.cc") == 1
        assert notified(personas.promo, "approval.cc") == 1

    def test_a_negative_amount_is_refused(self, personas, authority_flow):
        with pytest.raises(ValidationError) as caught:
            general.general_request_create(
                actor=personas.sales1, title="负数", kind="general", amount=Decimal("-1.00")
            )
        assert "amount" in caught.value.message_dict
        assert GeneralRequest.objects.count() == 0


class TestApprove:
    def test_each_step_in_turn_then_approved(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        services.task_approve(
            actor=personas.leader1, task=task_of(request, personas.leader1), comment="同意"
        )
        assert waiting_approvers(request) == ["manager"]
        assert fresh(request).current_index == 1
        assert notified(personas.manager, "approval.waiting") == 1
        services.task_approve(actor=personas.manager, task=task_of(request, personas.manager))
        request = fresh(request)
        assert request.status == RequestStatus.APPROVED
        assert request.finished_at is not None
        assert events(request) == [
            EventAction.SUBMITTED,
            EventAction.APPROVED,
            EventAction.APPROVED,
            EventAction.FINISHED,
        ]
        assert request.events.filter(action=EventAction.APPROVED).first().comment == "同意"
        assert notified(personas.sales1, "approval.approved") == 1

    def test_the_approver_of_a_later_step_cannot_act_yet(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        for outsider in (personas.manager, personas.admin, personas.sales1, personas.leader2):
            with pytest.raises(PermissionDenied):
                services.task_approve(actor=outsider, task=task)
        assert waiting_approvers(request) == ["leader1"]

    def test_a_decided_task_cannot_be_decided_again(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        services.task_approve(actor=personas.leader1, task=task)
        with pytest.raises(ValidationError):
            services.task_approve(actor=personas.leader1, task=task)
        with pytest.raises(ValidationError):
            services.task_reject(actor=personas.leader1, task=task, reason="改主意了")
        assert fresh(request).status == RequestStatus.IN_PROGRESS


class TestModes:
    def test_any_one_approves_for_the_step(self, personas, make_flow, submit):
        leaders = Role.objects.get(code="group_leader")
        make_flow(
            [
                step("组长或签", ApproverKind.ROLE, role=leaders, mode=StepMode.ANY),
                step("经理", ApproverKind.USER, user=personas.manager),
            ]
        )
        request = submit(personas.promo)
        assert waiting_approvers(request) == ["leader1", "leader2"]
        services.task_approve(actor=personas.leader2, task=task_of(request, personas.leader2))
        assert waiting_approvers(request) == ["manager"]
        assert ApprovalTask.objects.get(request=request, approver=personas.leader1).status == (
            TaskStatus.CANCELLED
        )

    def test_any_one_rejects_for_the_step(self, personas, make_flow, submit):
        leaders = Role.objects.get(code="group_leader")
        make_flow([step("组长或签", ApproverKind.ROLE, role=leaders, mode=StepMode.ANY)])
        request = submit(personas.promo)
        services.task_reject(
            actor=personas.leader1, task=task_of(request, personas.leader1), reason="不行"
        )
        assert fresh(request).status == RequestStatus.REJECTED
        assert waiting_approvers(request) == []

    def test_all_must_approve(self, personas, make_flow, submit):
        leaders = Role.objects.get(code="group_leader")
        make_flow(
            [
                step("组长会签", ApproverKind.ROLE, role=leaders, mode=StepMode.ALL),
                step("经理", ApproverKind.USER, user=personas.manager),
            ]
        )
        request = submit(personas.promo)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        assert waiting_approvers(request) == ["leader2"]
        services.task_approve(actor=personas.leader2, task=task_of(request, personas.leader2))
        assert waiting_approvers(request) == ["manager"]

    def test_all_one_rejection_rejects(self, personas, make_flow, submit):
        leaders = Role.objects.get(code="group_leader")
        make_flow([step("组长会签", ApproverKind.ROLE, role=leaders, mode=StepMode.ALL)])
        request = submit(personas.promo)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        services.task_reject(
            actor=personas.leader2, task=task_of(request, personas.leader2), reason="超预算"
        )
        assert fresh(request).status == RequestStatus.REJECTED

    def ratio_flow(self, make_flow, personas):
        # 销售 role: 李强, 王芳, 孙浩, 周敏, 吴涛; three of five (0.6) carry the step
        salespeople = Role.objects.get(code="salesperson")
        return make_flow(
            [
                step(
                    "销售评议",
                    ApproverKind.ROLE,
                    role=salespeople,
                    mode=StepMode.RATIO,
                    pass_ratio=Decimal("0.60"),
                ),
                step("经理", ApproverKind.USER, user=personas.manager),
            ]
        )

    def test_a_ratio_is_carried_when_enough_approve(self, personas, make_flow, submit):
        self.ratio_flow(make_flow, personas)
        request = submit(personas.promo)
        assert len(waiting_approvers(request)) == 5
        services.task_reject(
            actor=personas.sales2, task=task_of(request, personas.sales2), reason="不同意"
        )
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        services.task_approve(actor=personas.sales1, task=task_of(request, personas.sales1))
        assert fresh(request).current_index == 0
        services.task_approve(actor=personas.sales1b, task=task_of(request, personas.sales1b))
        assert waiting_approvers(request) == ["manager"]
        assert ApprovalTask.objects.get(request=request, approver=personas.leader2).status == (
            TaskStatus.CANCELLED
        )

    def test_a_ratio_that_can_no_longer_be_reached_rejects(self, personas, make_flow, submit):
        self.ratio_flow(make_flow, personas)
        request = submit(personas.promo)
        services.task_reject(
            actor=personas.sales2, task=task_of(request, personas.sales2), reason="一"
        )
        services.task_reject(
            actor=personas.leader2, task=task_of(request, personas.leader2), reason="二"
        )
        assert fresh(request).status == RequestStatus.IN_PROGRESS  # 3 of 5 still possible
        services.task_reject(
            actor=personas.sales1, task=task_of(request, personas.sales1), reason="三"
        )
        request = fresh(request)
        assert request.status == RequestStatus.REJECTED  # at most 2 of 5 now
        assert waiting_approvers(request) == []
        assert notified(personas.promo, "approval.rejected") == 1


class TestRejectAndReturn:
    def test_reject_needs_a_reason_and_changes_nothing_without_one(
        self, personas, authority_flow, submit
    ):
        request = submit(personas.sales1)
        with pytest.raises(ValidationError) as caught:
            services.task_reject(
                actor=personas.leader1, task=task_of(request, personas.leader1), reason="  "
            )
        assert "reason" in caught.value.message_dict
        assert fresh(request).status == RequestStatus.IN_PROGRESS
        assert waiting_approvers(request) == ["leader1"]

    def test_reject_ends_the_request_records_and_notifies(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        services.task_reject(
            actor=personas.leader1, task=task_of(request, personas.leader1), reason="预算不足"
        )
        request = fresh(request)
        assert request.status == RequestStatus.REJECTED
        assert events(request)[-1] == EventAction.REJECTED
        assert request.events.get(action=EventAction.REJECTED).comment == "预算不足"
        assert notified(personas.sales1, "approval.rejected") == 1

    def test_return_sends_it_back_to_the_submitter(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        services.task_return(
            actor=personas.leader1, task=task_of(request, personas.leader1), reason="补充比价单"
        )
        request = fresh(request)
        assert request.status == RequestStatus.RETURNED
        assert events(request)[-1] == EventAction.RETURNED
        assert notified(personas.sales1, "approval.returned") == 1
        assert not services.is_locked(request.document)

    def test_return_needs_a_reason(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        with pytest.raises(ValidationError):
            services.task_return(
                actor=personas.leader1, task=task_of(request, personas.leader1), reason=""
            )


class TestWithdraw:
    def test_the_submitter_withdraws_before_the_first_decision(
        self, personas, authority_flow, submit
    ):
        request = submit(personas.sales1)
        services.request_withdraw(actor=personas.sales1, request=request, reason="写错了")
        request = fresh(request)
        assert request.status == RequestStatus.WITHDRAWN
        assert events(request)[-1] == EventAction.WITHDRAWN
        assert waiting_approvers(request) == []
        assert notified(personas.leader1, "approval.withdrawn") == 1
        assert not services.is_locked(request.document)

    def test_only_the_submitter(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        for someone in (personas.leader1, personas.admin, personas.sales1b):
            with pytest.raises(PermissionDenied):
                services.request_withdraw(actor=someone, request=request)
        assert fresh(request).status == RequestStatus.IN_PROGRESS

    def test_not_after_the_first_decision(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        with pytest.raises(ValidationError):
            services.request_withdraw(actor=personas.sales1, request=request)
        assert fresh(request).status == RequestStatus.IN_PROGRESS


class TestResubmit:
    def rejected_by_the_manager(self, personas, submit) -> ApprovalRequest:
        request = submit(personas.sales1)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        services.task_reject(
            actor=personas.manager, task=task_of(request, personas.manager), reason="再议"
        )
        return fresh(request)

    def test_from_the_first_step(self, personas, authority_flow, submit):
        old = self.rejected_by_the_manager(personas, submit)
        new = general.general_request_submit(actor=personas.sales1, request=old.document)
        assert new.pk != old.pk
        assert new.revision == old.revision == 1
        assert new.current_index == 0
        assert waiting_approvers(new) == ["leader1"]
        assert fresh(old).status == RequestStatus.REJECTED  # the old request is kept

    def test_from_the_step_that_rejected(self, personas, authority_flow, submit):
        authority_flow.resubmit_from = ResubmitFrom.REJECTED
        authority_flow.save()
        old = self.rejected_by_the_manager(personas, submit)
        new = general.general_request_submit(actor=personas.sales1, request=old.document)
        assert new.current_index == 1
        assert waiting_approvers(new) == ["manager"]

    def test_from_the_step_that_returned(self, personas, authority_flow, submit):
        authority_flow.resubmit_from = ResubmitFrom.REJECTED
        authority_flow.save()
        request = submit(personas.sales1)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        services.task_return(
            actor=personas.manager, task=task_of(request, personas.manager), reason="补材料"
        )
        new = general.general_request_submit(actor=personas.sales1, request=request.document)
        assert waiting_approvers(new) == ["manager"]

    def test_from_the_rejecting_step_even_after_an_added_approver(
        self, personas, authority_flow, submit
    ):
        """An approver added (加签) in the old request shifts its steps; the new plan has no such step."""
        authority_flow.resubmit_from = ResubmitFrom.REJECTED
        authority_flow.save()
        request = submit(personas.sales1)
        services.task_add_approver(
            actor=personas.leader1, task=task_of(request, personas.leader1), user=personas.finance
        )
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        services.task_approve(actor=personas.finance, task=task_of(request, personas.finance))
        services.task_reject(
            actor=personas.manager, task=task_of(request, personas.manager), reason="再议"
        )
        new = general.general_request_submit(actor=personas.sales1, request=request.document)
        assert waiting_approvers(new) == ["manager"]

    def test_after_a_withdrawal_from_the_first_step(self, personas, authority_flow, submit):
        authority_flow.resubmit_from = ResubmitFrom.REJECTED
        authority_flow.save()
        request = submit(personas.sales1)
        services.request_withdraw(actor=personas.sales1, request=request)
        new = general.general_request_submit(actor=personas.sales1, request=request.document)
        assert waiting_approvers(new) == ["leader1"]


class TestTransferAndAdd:
    def test_transfer_to_another_approver(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        new_task = services.task_transfer(
            actor=personas.leader1, task=task, to_user=personas.leader2, comment="出差"
        )
        assert ApprovalTask.objects.get(pk=task.pk).status == TaskStatus.TRANSFERRED
        assert new_task.approver == personas.leader2
        assert new_task.on_behalf_of == personas.leader1
        assert events(request)[-1] == EventAction.TRANSFERRED
        assert notified(personas.leader2, "approval.waiting") == 1
        with pytest.raises(ValidationError):
            services.task_approve(actor=personas.leader1, task=task)
        services.task_approve(actor=personas.leader2, task=new_task)
        assert waiting_approvers(request) == ["manager"]

    def test_never_to_the_submitter(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        with pytest.raises(ValidationError):
            services.task_transfer(
                actor=personas.leader1,
                task=task_of(request, personas.leader1),
                to_user=personas.sales1,
            )
        assert waiting_approvers(request) == ["leader1"]

    def test_never_to_someone_who_already_approved_this_all_step(self, personas, make_flow, submit):
        """会签 needs each approver once; a transfer must not give one person two votes."""
        leaders = Role.objects.get(code="group_leader")
        make_flow([step("组长会签", ApproverKind.ROLE, role=leaders, mode=StepMode.ALL)])
        request = submit(personas.promo)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        with pytest.raises(ValidationError):
            services.task_transfer(
                actor=personas.leader2,
                task=task_of(request, personas.leader2),
                to_user=personas.leader1,
            )
        assert fresh(request).status == RequestStatus.IN_PROGRESS

    def test_add_an_approver_after_the_current_step(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        services.task_add_approver(
            actor=personas.leader1,
            task=task_of(request, personas.leader1),
            user=personas.finance,
            comment="请财务看看",
        )
        assert events(fresh(request))[-1] == EventAction.ADDED_APPROVER
        assert waiting_approvers(request) == ["leader1"]  # the current approver still decides
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        assert waiting_approvers(request) == ["finance"]
        services.task_approve(actor=personas.finance, task=task_of(request, personas.finance))
        assert waiting_approvers(request) == ["manager"]

    def test_the_submitter_cannot_be_added(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        with pytest.raises(ValidationError):
            services.task_add_approver(
                actor=personas.leader1,
                task=task_of(request, personas.leader1),
                user=personas.sales1,
            )
        assert len(fresh(request).plan) == 2


class TestBulkApprove:
    def test_one_failure_does_not_stop_the_others(self, personas, authority_flow, submit):
        first = submit(personas.sales1)
        second = submit(personas.sales1b)
        third = submit(personas.sales1)
        services.request_withdraw(actor=personas.sales1b, request=second)
        tasks = [
            task_of(first, personas.leader1),
            ApprovalTask.objects.get(request=second, approver=personas.leader1),
            task_of(third, personas.leader1),
        ]
        done, errors = services.tasks_bulk_approve(actor=personas.leader1, tasks=tasks)
        assert done == [tasks[0].pk, tasks[2].pk]
        assert list(errors) == [tasks[1].pk]
        assert waiting_approvers(first) == waiting_approvers(third) == ["manager"]


class TestDelegation:
    def test_new_tasks_go_to_the_delegate_while_away(self, personas, authority_flow, submit):
        today = timezone.localdate()
        services.delegation_create(
            actor=personas.leader1, delegate=personas.leader2, start_date=today, end_date=today
        )
        request = submit(personas.sales1)
        task = ApprovalTask.objects.get(request=request, status=TaskStatus.WAITING)
        assert task.approver == personas.leader2
        assert task.on_behalf_of == personas.leader1
        services.task_approve(actor=personas.leader2, task=task)
        assert waiting_approvers(request) == ["manager"]

    @pytest.mark.parametrize(("start", "end"), [(-3, -1), (1, 3)])
    def test_not_outside_the_dates(self, personas, authority_flow, submit, start, end):
        today = timezone.localdate()
        services.delegation_create(
            actor=personas.leader1,
            delegate=personas.leader2,
            start_date=today + datetime.timedelta(days=start),
            end_date=today + datetime.timedelta(days=end),
        )
        assert waiting_approvers(submit(personas.sales1)) == ["leader1"]

    def test_an_ended_delegation_no_longer_applies(self, personas, authority_flow, submit):
        today = timezone.localdate()
        delegation = services.delegation_create(
            actor=personas.leader1, delegate=personas.leader2, start_date=today, end_date=today
        )
        services.delegation_end(actor=personas.leader1, delegation=delegation)
        assert waiting_approvers(submit(personas.sales1)) == ["leader1"]

    def test_it_applies_when_the_step_opens_not_at_submission(
        self, personas, authority_flow, submit
    ):
        request = submit(personas.sales1)
        today = timezone.localdate()
        services.delegation_create(
            actor=personas.manager, delegate=personas.management, start_date=today, end_date=today
        )
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        assert waiting_approvers(request) == ["management"]

    def test_a_delegation_to_the_submitter_keeps_the_approver(
        self, personas, authority_flow, submit
    ):
        today = timezone.localdate()
        services.delegation_create(
            actor=personas.leader1, delegate=personas.sales1, start_date=today, end_date=today
        )
        request = submit(personas.sales1)
        assert waiting_approvers(request) == ["leader1"]  # never the submitter, never skipped
        assert len(request.plan) == 2

    def test_nobody_delegates_to_themselves(self, personas):
        today = timezone.localdate()
        with pytest.raises(ValidationError):
            services.delegation_create(
                actor=personas.leader1, delegate=personas.leader1, start_date=today, end_date=today
            )


class TestLockingAndRevisions:
    def test_a_draft_is_editable(self, personas, new_doc):
        document = new_doc(personas.sales1)
        assert not services.is_locked(document)
        services.assert_editable(document)
        general.general_request_update(actor=personas.sales1, request=document, title="改过的")

    def test_locked_while_in_approval(self, personas, authority_flow, submit):
        request = submit(personas.sales1)
        document = request.document
        assert services.is_locked(document)
        with pytest.raises(ValidationError):
            services.assert_editable(document)
        with pytest.raises(ValidationError):
            general.general_request_update(
                actor=personas.sales1, request=document, amount=Decimal("1.00")
            )
        assert GeneralRequest.objects.get(pk=document.pk).amount == Decimal("12000.00")

    def test_locked_after_approval(self, personas, authority_flow, submit):
        request = submit(personas.sales1, amount="3000.00")
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        assert fresh(request).status == RequestStatus.APPROVED
        with pytest.raises(ValidationError):
            general.general_request_update(
                actor=personas.sales1, request=request.document, title="x"
            )
        with pytest.raises(ValidationError):
            general.general_request_submit(actor=personas.sales1, request=request.document)

    def test_only_the_owner_changes_a_draft(self, personas, new_doc):
        document = new_doc(personas.sales1)
        with pytest.raises(PermissionDenied):
            general.general_request_update(actor=personas.leader1, request=document, title="x")

    def test_reopen_makes_a_new_revision_that_needs_approval_again(
        self, personas, authority_flow, submit
    ):
        first = submit(personas.sales1, amount="3000.00")
        services.task_approve(actor=personas.leader1, task=task_of(first, personas.leader1))
        document = GeneralRequest.objects.get(pk=first.object_id)
        with pytest.raises(PermissionDenied):
            services.request_reopen(actor=personas.leader1, document=document)
        services.request_reopen(actor=personas.sales1, document=document)
        assert not services.is_locked(document)
        general.general_request_update(
            actor=personas.sales1, request=document, amount=Decimal("8000.00")
        )
        second = general.general_request_submit(actor=personas.sales1, request=document)
        assert second.revision == 2
        assert second.status == RequestStatus.IN_PROGRESS
        assert second.amount == Decimal("8000.00")
        assert [s["name"] for s in second.plan] == ["直属上级", "营销部经理"]
        old = fresh(first)
        assert old.status == RequestStatus.APPROVED
        assert old.amount == Decimal("3000.00")
        assert old.snapshot["amount"] == "3000.00"
        assert old.reopened_at is not None
        assert services.is_locked(document)

    def test_reopen_only_an_approved_document_once(self, personas, authority_flow, submit):
        request = submit(personas.sales1, amount="3000.00")
        with pytest.raises(ValidationError):
            services.request_reopen(actor=personas.sales1, document=request.document)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        services.request_reopen(actor=personas.sales1, document=request.document)
        with pytest.raises(ValidationError):
            services.request_reopen(actor=personas.sales1, document=request.document)


@pytest.fixture
def hooks():
    """The general request's registered type with mock hooks, restored afterwards."""
    original = registry._documents[DOC_TYPE]
    mocks = {
        name: mock.Mock(name=name)
        for name in ("on_approved", "on_rejected", "on_returned", "on_withdrawn")
    }
    with mock.patch.dict(registry._documents, {DOC_TYPE: dataclasses.replace(original, **mocks)}):
        yield mocks


class TestHooks:
    def test_on_approved_runs_once_after_commit(
        self, personas, authority_flow, submit, hooks, django_capture_on_commit_callbacks
    ):
        request = submit(personas.sales1, amount="3000.00")
        with django_capture_on_commit_callbacks(execute=True):
            services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
            hooks["on_approved"].assert_not_called()  # not before the commit
        hooks["on_approved"].assert_called_once()
        document, approval = hooks["on_approved"].call_args.args
        assert document == request.document
        assert approval.pk == request.pk and approval.status == RequestStatus.APPROVED
        hooks["on_rejected"].assert_not_called()

    def test_a_step_that_is_not_the_last_runs_no_hook(
        self, personas, authority_flow, submit, hooks, django_capture_on_commit_callbacks
    ):
        request = submit(personas.sales1)
        with django_capture_on_commit_callbacks(execute=True):
            services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        hooks["on_approved"].assert_not_called()

    @pytest.mark.parametrize(
        ("action", "hook"),
        [("reject", "on_rejected"), ("return", "on_returned"), ("withdraw", "on_withdrawn")],
    )
    def test_the_other_endings_run_their_hook_once(
        self,
        personas,
        authority_flow,
        submit,
        hooks,
        django_capture_on_commit_callbacks,
        action,
        hook,
    ):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        with django_capture_on_commit_callbacks(execute=True):
            if action == "reject":
                services.task_reject(actor=personas.leader1, task=task, reason="不行")
            elif action == "return":
                services.task_return(actor=personas.leader1, task=task, reason="补充")
            else:
                services.request_withdraw(actor=personas.sales1, request=request)
            hooks[hook].assert_not_called()
        hooks[hook].assert_called_once()
        assert all(m.call_count == 0 for name, m in hooks.items() if name != hook)

    def test_a_failed_action_runs_no_hook(
        self, personas, authority_flow, submit, hooks, django_capture_on_commit_callbacks
    ):
        request = submit(personas.sales1, amount="3000.00")
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(PermissionDenied),
        ):
            services.task_approve(actor=personas.leader2, task=task_of(request, personas.leader1))
        assert callbacks == []
        hooks["on_approved"].assert_not_called()


class TestRemindersAndEscalation:
    def test_remind_once_per_period(self, personas, authority_flow, submit):
        authority_flow.reminder_hours = 24
        authority_flow.save()
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        start = task.created_at
        services.send_reminders(now=start + datetime.timedelta(hours=23))
        assert notified(personas.leader1, "approval.reminder") == 0
        later = start + datetime.timedelta(hours=25)
        services.send_reminders(now=later)
        services.send_reminders(now=later)  # idempotent
        services.send_reminders(now=later + datetime.timedelta(hours=1))
        assert notified(personas.leader1, "approval.reminder") == 1
        assert (
            ApprovalEvent.objects.filter(request=request, action=EventAction.REMINDED).count() == 1
        )
        services.send_reminders(now=later + datetime.timedelta(hours=24))
        assert notified(personas.leader1, "approval.reminder") == 2

    def test_no_reminder_when_turned_off_or_decided(self, personas, authority_flow, submit):
        request = submit(personas.sales1)  # reminder_hours=0 in make_flow
        services.send_reminders(now=timezone.now() + datetime.timedelta(days=30))
        assert notified(personas.leader1, "approval.reminder") == 0
        authority_flow.reminder_hours = 1
        authority_flow.save()
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        services.send_reminders(now=timezone.now() + datetime.timedelta(hours=2))
        assert notified(personas.leader1, "approval.reminder") == 0
        assert notified(personas.manager, "approval.reminder") == 1

    def test_escalate_once_after_the_escalation_time(self, personas, authority_flow, submit):
        authority_flow.escalate_hours = 48
        authority_flow.escalate_to = personas.management
        authority_flow.save()
        request = submit(personas.sales1)
        start = task_of(request, personas.leader1).created_at
        services.send_reminders(now=start + datetime.timedelta(hours=47))
        assert waiting_approvers(request) == ["leader1"]
        services.send_reminders(now=start + datetime.timedelta(hours=49))
        services.send_reminders(now=start + datetime.timedelta(hours=49))
        assert waiting_approvers(request) == ["leader1", "management"]
        assert notified(personas.management, "approval.escalated") == 1
        assert (
            ApprovalEvent.objects.filter(request=request, action=EventAction.ESCALATED).count() == 1
        )
        # the escalated task itself is not escalated again, days later
        services.send_reminders(now=start + datetime.timedelta(hours=200))
        assert (
            ApprovalEvent.objects.filter(request=request, action=EventAction.ESCALATED).count() == 1
        )
        services.task_approve(actor=personas.management, task=task_of(request, personas.management))
        assert waiting_approvers(request) == ["manager"]

    def test_the_job_is_registered(self):
        from marketdesk.core.jobs import registered_jobs

        assert any(job.name == "approvals.reminders" for job in registered_jobs())


class TestCC:
    def test_a_cc_user_sees_the_request_and_reading_it_is_recorded(
        self, personas, make_flow, submit
    ):
        from marketdesk.approvals import selectors

        make_flow(
            [step("直属上级", ApproverKind.SUPERVISOR)],
            cc_users=[personas.finance, personas.sales2],
        )
        request = submit(personas.sales1)
        assert selectors.request_get(actor=personas.sales2, pk=request.pk) == request
        services.cc_mark_read(actor=personas.sales2, request=request)
        assert ApprovalCC.objects.get(request=request, user=personas.sales2).read_at is not None


def test_the_submitter_is_never_cc_d_on_their_own_request(personas, make_flow, submit):
    make_flow([step("直属上级", ApproverKind.SUPERVISOR)], cc_users=[personas.sales1])
    request = submit(personas.sales1)
    assert not ApprovalCC.objects.filter(request=request).exists()


class TestHandover:
    def test_waiting_approvals_pass_to_the_successor(self, personas, authority_flow, submit):
        from marketdesk.org import services as org_services

        request = submit(personas.sales1)
        org_services.employee_handover(
            actor=personas.admin,
            from_employee=personas.emp("leader1"),
            to_employee=personas.emp("leader2"),
        )
        task = ApprovalTask.objects.get(request=request, status=TaskStatus.WAITING)
        assert (task.approver, task.on_behalf_of) == (personas.leader2, personas.leader1)

    def test_never_a_second_vote_in_the_same_step(self, personas, make_flow, submit):
        from marketdesk.org import services as org_services

        leaders = Role.objects.get(code="group_leader")
        make_flow([step("组长会签", ApproverKind.ROLE, role=leaders, mode=StepMode.ALL)])
        request = submit(personas.promo)
        services.task_approve(actor=personas.leader2, task=task_of(request, personas.leader2))
        org_services.employee_handover(
            actor=personas.admin,
            from_employee=personas.emp("leader1"),
            to_employee=personas.emp("leader2"),
        )
        assert waiting_approvers(request) == ["leader1"]
        assert fresh(request).status == RequestStatus.IN_PROGRESS
