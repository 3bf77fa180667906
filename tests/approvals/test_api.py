"""The approval API: the same rules and data scope as the pages, per role, the error shape
{code, message, fields}, and the OpenAPI schema."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema

from marketdesk.approvals import services
from marketdesk.approvals.models import ApprovalFlow, ApprovalRequest, GeneralRequest, RequestStatus

from .helpers import task_of, waiting_approvers

pytestmark = pytest.mark.django_db

API = "/api/v1/approvals"


def assert_error_shape(response, code: str) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    return body


class TestTasks:
    def test_the_waiting_list_is_the_callers(self, personas, authority_flow, submit, api_for):
        request = submit(personas.sales1)
        rows = api_for(personas.leader1).get(f"{API}/tasks/").json()["results"]
        assert [row["number"] for row in rows] == [request.number]
        assert api_for(personas.manager).get(f"{API}/tasks/").json()["results"] == []

    @pytest.mark.parametrize("who", ["sales1", "admin", "manager", "leader2"])
    def test_nobody_but_the_current_approver_acts(
        self, personas, authority_flow, submit, api_for, who
    ):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        client = api_for(getattr(personas, who))
        for action in ("approve", "reject", "return", "transfer", "add-approver"):
            response = client.post(
                f"{API}/tasks/{task.pk}/{action}/", {"reason": "x", "user": personas.promo.pk}
            )
            assert response.status_code == 404
            assert_error_shape(response, "not_found")
        assert waiting_approvers(request) == ["leader1"]

    def test_approve(self, personas, authority_flow, submit, api_for):
        request = submit(personas.sales1)
        response = api_for(personas.leader1).post(
            f"{API}/tasks/{task_of(request, personas.leader1).pk}/approve/", {"comment": "同意"}
        )
        assert response.status_code == 200
        assert response.json()["current_index"] == 1
        assert waiting_approvers(request) == ["manager"]

    def test_approving_twice_is_a_400(self, personas, authority_flow, submit, api_for):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        client = api_for(personas.leader1)
        client.post(f"{API}/tasks/{task.pk}/approve/")
        assert_error_shape(client.post(f"{API}/tasks/{task.pk}/approve/"), "invalid")

    def test_reject_without_a_reason_names_the_field(
        self, personas, authority_flow, submit, api_for
    ):
        request = submit(personas.sales1)
        response = api_for(personas.leader1).post(
            f"{API}/tasks/{task_of(request, personas.leader1).pk}/reject/", {"reason": ""}
        )
        assert response.status_code == 400
        body = assert_error_shape(response, "invalid")
        assert list(body["fields"]) == ["reason"]
        assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.IN_PROGRESS

    def test_transfer_to_the_submitter_names_the_field(
        self, personas, authority_flow, submit, api_for
    ):
        request = submit(personas.sales1)
        response = api_for(personas.leader1).post(
            f"{API}/tasks/{task_of(request, personas.leader1).pk}/transfer/",
            {"user": personas.sales1.pk},
        )
        assert response.status_code == 400
        assert "user" in assert_error_shape(response, "invalid")["fields"]

    def test_bulk_approve_reports_each_failure(self, personas, authority_flow, submit, api_for):
        first, second = submit(personas.sales1), submit(personas.sales1b)
        services.request_withdraw(actor=personas.sales1b, request=second)
        ok = task_of(first, personas.leader1).pk
        gone = second.tasks.get().pk
        other = task_of(submit(personas.sales2), personas.leader2).pk
        response = api_for(personas.leader1).post(
            f"{API}/tasks/bulk-approve/", {"ids": [ok, gone, other]}, format="json"
        )
        body = response.json()
        assert body["approved"] == [ok]
        assert set(body["errors"]) == {str(gone), str(other)}
        assert waiting_approvers(first) == ["manager"]


class TestRequests:
    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("sales1", 200),
            ("leader1", 200),
            ("manager", 200),
            ("management", 200),
            ("sales1b", 404),
            ("sales2", 404),
            ("leader2", 404),
            ("outsider", 404),
        ],
    )
    def test_detail_by_data_scope(self, personas, authority_flow, submit, api_for, who, status):
        request = submit(personas.sales1)
        response = api_for(getattr(personas, who)).get(f"{API}/requests/{request.pk}/")
        assert response.status_code == status
        if status == 404:
            assert_error_shape(response, "not_found")

    def test_the_list_is_scoped(self, personas, authority_flow, submit, api_for):
        mine, theirs = submit(personas.sales1), submit(personas.sales2)

        def numbers(user):
            return {
                row["number"] for row in api_for(user).get(f"{API}/requests/").json()["results"]
            }

        assert numbers(personas.sales1) == {mine.number}
        assert numbers(personas.leader2) == {theirs.number}
        assert numbers(personas.manager) == {mine.number, theirs.number}

    def test_only_the_submitter_withdraws(self, personas, authority_flow, submit, api_for):
        request = submit(personas.sales1)
        response = api_for(personas.leader1).post(f"{API}/requests/{request.pk}/withdraw/")
        assert response.status_code == 403
        assert_error_shape(response, "permission_denied")
        response = api_for(personas.sales1).post(f"{API}/requests/{request.pk}/withdraw/")
        assert response.json()["status"] == RequestStatus.WITHDRAWN


STEPS = [{"name": "直属上级", "approver_kind": "supervisor", "mode": "any"}]


def flow_body(**values) -> dict:
    return {"name": "API 流程", "doc_type": "approvals.general", "steps": STEPS, **values}


class TestFlows:
    @pytest.mark.parametrize(
        ("who", "read", "create"),
        [("admin", 200, 201), ("manager", 200, 403), ("sales1", 403, 403), ("leader1", 403, 403)],
    )
    def test_permissions(self, personas, api_for, who, read, create):
        client = api_for(getattr(personas, who))
        assert client.get(f"{API}/flows/").status_code == read
        response = client.post(f"{API}/flows/", flow_body(), format="json")
        assert response.status_code == create
        if create == 403:
            assert_error_shape(response, "permission_denied")

    def test_change_needs_change_approvalflow(self, personas, authority_flow, api_for):
        url = f"{API}/flows/{authority_flow.pk}/"
        assert (
            api_for(personas.manager).patch(url, {"priority": 1}, format="json").status_code == 403
        )
        response = api_for(personas.admin).patch(url, {"priority": 1}, format="json")
        assert response.status_code == 200
        assert len(response.json()["steps"]) == 3  # steps kept when not sent

    def test_a_bad_step_names_the_step_and_saves_nothing(self, personas, api_for):
        steps = [*STEPS, {"name": "指定审批人", "approver_kind": "user", "mode": "any"}]
        response = api_for(personas.admin).post(
            f"{API}/flows/", flow_body(steps=steps), format="json"
        )
        assert response.status_code == 400
        assert "steps[2]" in assert_error_shape(response, "invalid")["fields"]
        assert not ApprovalFlow.objects.exists()


class TestGeneralRequests:
    def test_create_and_submit(self, personas, authority_flow, api_for):
        client = api_for(personas.sales1)
        response = client.post(
            f"{API}/general-requests/", {"title": "展位", "kind": "event", "amount": "12000.00"}
        )
        assert response.status_code == 201
        pk = response.json()["id"]
        response = client.post(f"{API}/general-requests/{pk}/submit/")
        assert response.status_code == 201
        assert response.json()["status"] == RequestStatus.IN_PROGRESS
        response = client.patch(f"{API}/general-requests/{pk}/", {"amount": "1.00"})
        assert response.status_code == 400
        assert_error_shape(response, "invalid")

    def test_a_negative_amount_names_the_field(self, personas, api_for):
        response = api_for(personas.sales1).post(
            f"{API}/general-requests/", {"title": "负数", "kind": "general", "amount": "-1.00"}
        )
        assert response.status_code == 400
        assert "amount" in assert_error_shape(response, "invalid")["fields"]
        assert not GeneralRequest.objects.exists()

    def test_another_groups_request_is_not_found(self, personas, new_doc, api_for):
        document = new_doc(personas.sales1)
        assert (
            api_for(personas.sales2).get(f"{API}/general-requests/{document.pk}/").status_code
            == 404
        )
        assert (
            api_for(personas.leader1).get(f"{API}/general-requests/{document.pk}/").status_code
            == 200
        )


def test_the_openapi_schema_has_the_approval_endpoints(personas, api_for):
    GENERATOR_STATS.reset()
    response = api_for(personas.admin).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    validate_schema(response.json())
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
    paths = response.json()["paths"]
    for path in (
        "/api/v1/approvals/tasks/",
        "/api/v1/approvals/tasks/{id}/approve/",
        "/api/v1/approvals/tasks/{id}/reject/",
        "/api/v1/approvals/tasks/{id}/return/",
        "/api/v1/approvals/tasks/{id}/transfer/",
        "/api/v1/approvals/tasks/{id}/add-approver/",
        "/api/v1/approvals/tasks/bulk-approve/",
        "/api/v1/approvals/requests/{id}/withdraw/",
        "/api/v1/approvals/flows/",
        "/api/v1/approvals/delegations/",
        "/api/v1/approvals/general-requests/{id}/submit/",
        "/api/v1/approvals/general-requests/{id}/reopen/",
    ):
        assert path in paths, path
