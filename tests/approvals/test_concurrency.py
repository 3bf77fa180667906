"""Races, with real threads and one connection each (select_for_update on PostgreSQL, BEGIN
IMMEDIATE on SQLite): every race ends in exactly one outcome and document hooks run once."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from marketdesk.approvals import general, registry, services
from marketdesk.approvals.models import (
    ApprovalEvent,
    ApprovalRequest,
    ApprovalTask,
    ApproverKind,
    EventAction,
    RequestStatus,
    TaskStatus,
)
from marketdesk.org.models import Role

from .helpers import DOC_TYPE, step, task_of, waiting_approvers

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the calls in threads released together; ("ok", result) or ("refused", error) each."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object]] = [("not run", None)] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", call())
        except (ValidationError, PermissionDenied) as exc:
            results[index] = ("refused", exc)
        except BaseException as exc:  # reported by the test, never swallowed
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    errors = [value for outcome, value in results if outcome != "ok" and outcome != "refused"]
    assert errors == [], errors
    return results


def outcomes(results) -> list[str]:
    return sorted(outcome for outcome, _value in results)


@pytest.fixture
def hooks():
    original = registry._documents[DOC_TYPE]
    mocks = {name: mock.Mock(name=name) for name in ("on_approved", "on_withdrawn")}
    with mock.patch.dict(registry._documents, {DOC_TYPE: dataclasses.replace(original, **mocks)}):
        yield mocks


@pytest.fixture
def leaders_any(make_flow, personas):
    """一 step, 或签 by both group leaders (promo submits, so neither is the submitter)."""

    def make(*, then_manager: bool = False):
        steps = [step("组长或签", ApproverKind.ROLE, role=Role.objects.get(code="group_leader"))]
        if then_manager:
            steps.append(step("经理", ApproverKind.USER, user=personas.manager))
        return make_flow(steps)

    return make


def test_two_approvers_of_an_any_step_approve_at_once(personas, leaders_any, submit, hooks):
    leaders_any()
    request = submit(personas.promo)
    one, two = task_of(request, personas.leader1), task_of(request, personas.leader2)
    results = at_once(
        lambda: services.task_approve(actor=personas.leader1, task=one),
        lambda: services.task_approve(actor=personas.leader2, task=two),
    )
    assert outcomes(results) == ["ok", "refused"]
    request = ApprovalRequest.objects.get(pk=request.pk)
    assert request.status == RequestStatus.APPROVED
    assert ApprovalEvent.objects.filter(request=request, action=EventAction.APPROVED).count() == 1
    assert ApprovalEvent.objects.filter(request=request, action=EventAction.FINISHED).count() == 1
    statuses = sorted(ApprovalTask.objects.filter(request=request).values_list("status", flat=True))
    assert statuses == [TaskStatus.APPROVED, TaskStatus.CANCELLED]
    assert hooks["on_approved"].call_count == 1


def test_two_approvers_racing_advance_the_request_once(personas, leaders_any, submit):
    leaders_any(then_manager=True)
    request = submit(personas.promo)
    one, two = task_of(request, personas.leader1), task_of(request, personas.leader2)
    results = at_once(
        lambda: services.task_approve(actor=personas.leader1, task=one),
        lambda: services.task_approve(actor=personas.leader2, task=two),
    )
    assert outcomes(results) == ["ok", "refused"]
    request = ApprovalRequest.objects.get(pk=request.pk)
    assert request.current_index == 1
    assert waiting_approvers(request) == ["manager"]
    assert ApprovalTask.objects.filter(request=request, step_index=1).count() == 1
    assert ApprovalEvent.objects.filter(request=request, action=EventAction.APPROVED).count() == 1


def test_the_same_approval_sent_twice_at_once(personas, authority_flow, submit, hooks):
    request = submit(personas.sales1, amount="3000.00")
    task = task_of(request, personas.leader1)
    results = at_once(
        lambda: services.task_approve(actor=personas.leader1, task=task),
        lambda: services.task_approve(actor=personas.leader1, task=task),
    )
    assert outcomes(results) == ["ok", "refused"]
    refused = next(value for outcome, value in results if outcome == "refused")
    assert isinstance(refused, ValidationError)
    assert ApprovalEvent.objects.filter(request=request, action=EventAction.APPROVED).count() == 1
    assert hooks["on_approved"].call_count == 1


def test_an_approval_racing_a_withdrawal_has_one_outcome(personas, authority_flow, submit, hooks):
    request = submit(personas.sales1, amount="3000.00")
    task = task_of(request, personas.leader1)
    results = at_once(
        lambda: services.task_approve(actor=personas.leader1, task=task),
        lambda: services.request_withdraw(actor=personas.sales1, request=request),
    )
    assert outcomes(results) == ["ok", "refused"]
    request = ApprovalRequest.objects.get(pk=request.pk)
    approved, withdrawn = (outcome == "ok" for outcome, _value in results)
    assert approved != withdrawn
    assert request.status == (RequestStatus.APPROVED if approved else RequestStatus.WITHDRAWN)
    actions = set(request.events.values_list("action", flat=True))
    assert (EventAction.APPROVED in actions) == approved
    assert (EventAction.WITHDRAWN in actions) == withdrawn
    assert hooks["on_approved"].call_count == int(approved)
    assert hooks["on_withdrawn"].call_count == int(withdrawn)


def test_two_submissions_of_one_document_at_once_make_one_request(
    personas, authority_flow, new_doc
):
    document = new_doc(personas.sales1)
    results = at_once(
        lambda: general.general_request_submit(actor=personas.sales1, request=document),
        lambda: general.general_request_submit(actor=personas.sales1, request=document),
    )
    assert outcomes(results) == ["ok", "refused"]
    assert ApprovalRequest.objects.filter(object_id=document.pk).count() == 1
    assert ApprovalTask.objects.count() == 1
