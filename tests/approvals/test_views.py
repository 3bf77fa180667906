"""The approval pages: who may see and act on what (per role), the inbox with its in-row
approve, the flow editor with its step formset and preview, and the general request form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings

from marketdesk.approvals import services
from marketdesk.approvals.models import (
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStep,
    GeneralRequest,
    RequestStatus,
    TaskStatus,
)

from .helpers import task_of, waiting_approvers

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client_for):
    """A signed-in client that has chosen English pages (the language cookie wins over the
    language saved on the account)."""

    def make(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


def page_text(response) -> str:
    return response.content.decode()


class TestRequestPage:
    url = "/approvals/requests/{}/"

    @pytest.mark.parametrize("who", ["sales1", "leader1", "manager", "management", "admin"])
    def test_the_submitter_the_approver_and_those_in_scope_see_it(
        self, personas, authority_flow, submit, as_user, who
    ):
        request = submit(personas.sales1)
        response = as_user(getattr(personas, who)).get(self.url.format(request.pk))
        assert response.status_code == 200
        assert request.number in page_text(response)

    @pytest.mark.parametrize("who", ["sales1b", "sales2", "leader2", "promo", "outsider"])
    def test_others_get_404_not_a_hint(self, personas, authority_flow, submit, as_user, who):
        request = submit(personas.sales1)
        assert as_user(getattr(personas, who)).get(self.url.format(request.pk)).status_code == 404

    def test_the_group_leader_sees_a_request_of_the_group_that_is_not_theirs_to_approve(
        self, personas, make_flow, submit, as_user
    ):
        from marketdesk.approvals.models import ApproverKind

        from .helpers import step

        make_flow([step("经理", ApproverKind.USER, user=personas.manager)])
        request = submit(personas.sales1)
        assert as_user(personas.leader1).get(self.url.format(request.pk)).status_code == 200
        assert as_user(personas.leader2).get(self.url.format(request.pk)).status_code == 404

    def test_only_the_current_approver_sees_the_decision_form(
        self, personas, authority_flow, submit, as_user
    ):
        request = submit(personas.sales1)
        assert 'id="md-approve"' in page_text(
            as_user(personas.leader1).get(self.url.format(request.pk))
        )
        for who in (personas.sales1, personas.manager, personas.admin):
            assert 'id="md-approve"' not in page_text(as_user(who).get(self.url.format(request.pk)))


class TestTaskActions:
    def url(self, task, action="approve") -> str:
        return f"/approvals/tasks/{task.pk}/{action}/"

    @pytest.mark.parametrize("who", ["sales1", "admin", "manager", "leader2", "sales1b"])
    def test_nobody_but_the_current_approver_acts(
        self, personas, authority_flow, submit, as_user, who
    ):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        for action in ("approve", "reject", "return", "transfer", "add"):
            response = as_user(getattr(personas, who)).post(
                self.url(task, action), {"reason": "x", "user": personas.promo.pk}
            )
            assert response.status_code in (403, 404)
        assert waiting_approvers(request) == ["leader1"]

    def test_the_approver_approves_from_the_request_page(
        self, personas, authority_flow, submit, as_user
    ):
        request = submit(personas.sales1)
        response = as_user(personas.leader1).post(
            self.url(task_of(request, personas.leader1)), {"comment": "同意"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/approvals/requests/{request.pk}/"
        assert waiting_approvers(request) == ["manager"]

    def test_a_reject_without_a_reason_changes_nothing(
        self, personas, authority_flow, submit, as_user
    ):
        request = submit(personas.sales1)
        client = as_user(personas.leader1)
        response = client.post(
            self.url(task_of(request, personas.leader1), "reject"), {"reason": ""}, follow=True
        )
        assert "Give a reason." in page_text(response)
        assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.IN_PROGRESS

    def test_reject_with_a_reason(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1)
        as_user(personas.leader1).post(
            self.url(task_of(request, personas.leader1), "reject"), {"reason": "预算不足"}
        )
        assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.REJECTED

    def test_next_never_leaves_the_site(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1)
        response = as_user(personas.leader1).post(
            self.url(task_of(request, personas.leader1)), {"next": "https://evil.example/"}
        )
        assert response["Location"] == f"/approvals/requests/{request.pk}/"

    def test_approve_in_the_inbox_row_with_htmx(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        client = as_user(personas.leader1)
        inbox = page_text(client.get("/approvals/"))
        assert f'id="task-{task.pk}"' in inbox
        response = client.post(self.url(task), {"from": "inbox"}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert 'data-outcome="approved"' in page_text(response)
        assert waiting_approvers(request) == ["manager"]

    def test_a_refused_approve_in_the_inbox_row_says_so(
        self, personas, authority_flow, submit, as_user
    ):
        request = submit(personas.sales1)
        task = task_of(request, personas.leader1)
        services.request_withdraw(actor=personas.sales1, request=request)
        response = as_user(personas.leader1).post(
            self.url(task), {"from": "inbox"}, headers={"HX-Request": "true"}
        )
        assert 'data-outcome="refused"' in page_text(response)
        assert "no longer in approval" in page_text(response)

    def test_bulk_approve(self, personas, authority_flow, submit, as_user):
        first, second = submit(personas.sales1), submit(personas.sales1b)
        other = submit(personas.sales2)  # someone else's task id in the form is ignored
        ids = [task_of(first, personas.leader1).pk, task_of(second, personas.leader1).pk]
        ids.append(task_of(other, personas.leader2).pk)
        response = as_user(personas.leader1).post("/approvals/bulk-approve/", {"task": ids})
        assert response.status_code == 302
        assert waiting_approvers(first) == waiting_approvers(second) == ["manager"]
        assert waiting_approvers(other) == ["leader2"]

    def test_withdraw_from_the_request_page(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1)
        assert (
            as_user(personas.leader1)
            .post(f"/approvals/requests/{request.pk}/withdraw/")
            .status_code
            == 302
        )
        assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.IN_PROGRESS
        as_user(personas.sales1).post(f"/approvals/requests/{request.pk}/withdraw/")
        assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.WITHDRAWN
        assert (
            as_user(personas.sales2).post(f"/approvals/requests/{request.pk}/withdraw/").status_code
            == 404
        )


class TestInbox:
    def test_each_box(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1)
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        assert request.number in page_text(as_user(personas.manager).get("/approvals/?box=waiting"))
        assert request.number in page_text(as_user(personas.leader1).get("/approvals/?box=done"))
        assert request.number not in page_text(
            as_user(personas.leader1).get("/approvals/?box=waiting")
        )
        assert request.number in page_text(as_user(personas.sales1).get("/approvals/?box=mine"))
        assert request.number not in page_text(as_user(personas.sales2).get("/approvals/?box=mine"))

    def test_anonymous_users_sign_in_first(self, client):
        response = client.get("/approvals/")
        assert response.status_code == 302
        assert "/login/" in response["Location"]


FLOW_FORM = {
    "name": "页面创建的流程",
    "doc_type": "approvals.general",
    "priority": "10",
    "active": "on",
    "description": "",
    "min_amount": "",
    "max_amount": "",
    "categories": "",
    "self_approval": "skip",
    "no_approver": "admin",
    "resubmit_from": "first",
    "reminder_hours": "24",
    "escalate_hours": "0",
    "escalate_to": "",
    "steps-INITIAL_FORMS": "0",
    "steps-MIN_NUM_FORMS": "1",
    "steps-MAX_NUM_FORMS": "1000",
}


def flow_post(personas, steps: list[dict]) -> dict:
    data = dict(FLOW_FORM, **{"steps-TOTAL_FORMS": str(len(steps))})
    for index, values in enumerate(steps):
        row = {
            "name": "",
            "approver_kind": "supervisor",
            "user": "",
            "role": "",
            "levels": "1",
            "department": "",
            "mode": "any",
            "pass_ratio": "",
            "min_amount": "",
            "max_amount": "",
            **values,
        }
        data.update({f"steps-{index}-{key}": value for key, value in row.items()})
    return data


class TestFlowPages:
    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("admin", 200),
            ("manager", 200),
            ("management", 200),
            ("sales1", 403),
            ("leader1", 403),
            ("outsider", 403),
        ],
    )
    def test_the_flow_list(self, personas, as_user, who, status):
        assert as_user(getattr(personas, who)).get("/approvals/flows/").status_code == status

    @pytest.mark.parametrize(("who", "status"), [("admin", 200), ("manager", 403), ("sales1", 403)])
    def test_the_new_flow_page_needs_add_approvalflow(self, personas, as_user, who, status):
        assert as_user(getattr(personas, who)).get("/approvals/flows/new/").status_code == status

    def test_viewing_a_flow_without_change_rights_is_read_only(
        self, personas, authority_flow, as_user
    ):
        url = f"/approvals/flows/{authority_flow.pk}/"
        assert as_user(personas.sales1).get(url).status_code == 404
        assert as_user(personas.manager).get(url).status_code == 200
        data = flow_post(personas, [{"name": "改", "approver_kind": "supervisor"}])
        assert as_user(personas.manager).post(url, data).status_code == 403
        assert authority_flow.steps.count() == 3

    def test_create_a_flow_with_steps(self, personas, as_user):
        data = flow_post(
            personas,
            [
                {"name": "直属上级", "approver_kind": "supervisor"},
                {
                    "name": "营销部经理",
                    "approver_kind": "named_head",
                    "department": personas.units["MKT"].pk,
                    "min_amount": "5000.01",
                },
                {
                    "name": "财务",
                    "approver_kind": "user",
                    "user": personas.finance.pk,
                    "mode": "all",
                },
            ],
        )
        data["cc_users"] = [personas.promo.pk]
        response = as_user(personas.admin).post("/approvals/flows/new/", data)
        flow = ApprovalFlow.objects.get(name="页面创建的流程")
        assert response.status_code == 302
        assert response["Location"] == f"/approvals/flows/{flow.pk}/"
        assert list(flow.steps.values_list("order", "name", "approver_kind")) == [
            (1, "直属上级", "supervisor"),
            (2, "营销部经理", "named_head"),
            (3, "财务", "user"),
        ]
        assert flow.steps.get(order=2).min_amount == Decimal("5000.01")
        assert list(flow.cc_users.all()) == [personas.promo]

    def test_a_user_step_without_a_user_names_the_step_and_saves_nothing(self, personas, as_user):
        data = flow_post(
            personas,
            [
                {"name": "直属上级", "approver_kind": "supervisor"},
                {"name": "指定审批人", "approver_kind": "user"},
            ],
        )
        response = as_user(personas.admin).post("/approvals/flows/new/", data)
        assert response.status_code == 200
        text = page_text(response)
        assert "Step 2 (指定审批人)" in text
        assert "Choose the user for this step." in text
        assert ApprovalFlow.objects.count() == 0
        assert ApprovalStep.objects.count() == 0

    def test_a_failed_edit_keeps_the_old_steps(self, personas, authority_flow, as_user):
        data = flow_post(personas, [{"name": "指定审批人", "approver_kind": "user"}])
        data["name"] = "改名"
        response = as_user(personas.admin).post(f"/approvals/flows/{authority_flow.pk}/", data)
        assert response.status_code == 200
        authority_flow.refresh_from_db()
        assert authority_flow.name == "通用审批（按金额分级）"
        assert authority_flow.steps.count() == 3

    def test_the_preview_names_the_approver_chain(self, personas, authority_flow, as_user):
        url = f"/approvals/flows/{authority_flow.pk}/preview/"
        response = as_user(personas.admin).get(
            url, {"submitter": personas.sales1.pk, "amount": "12000"}
        )
        text = page_text(response)
        assert response.status_code == 200
        assert "王芳" in text
        assert text.index("李强") < text.index("张伟")
        assert "刘总" not in text
        text = page_text(
            as_user(personas.admin).get(url, {"submitter": personas.sales1.pk, "amount": "60000"})
        )
        assert text.index("李强") < text.index("张伟") < text.index("刘总")

    def test_the_preview_needs_view_approvalflow(self, personas, authority_flow, as_user):
        url = f"/approvals/flows/{authority_flow.pk}/preview/?submitter={personas.sales1.pk}"
        assert as_user(personas.sales1).get(url).status_code == 404


class TestGeneralRequestPages:
    def form(self, **values) -> dict:
        return {
            "title": "上海车展展位",
            "kind": "event",
            "amount": "12000.00",
            "description": "",
            **values,
        }

    def test_save_and_submit(self, personas, authority_flow, as_user):
        response = as_user(personas.sales1).post("/approvals/general/new/", self.form(submit="1"))
        document = GeneralRequest.objects.get()
        assert response["Location"] == f"/approvals/general/{document.pk}/"
        assert waiting_approvers(ApprovalRequest.objects.get(object_id=document.pk)) == ["leader1"]

    def test_a_refused_submission_keeps_one_draft(self, personas, as_user):
        client = as_user(personas.sales1)
        response = client.post("/approvals/general/new/", self.form(submit="1"), follow=True)
        assert GeneralRequest.objects.count() == 1  # no flow: saved as a draft, said so
        assert "No approval flow" in page_text(response)
        assert not ApprovalRequest.objects.exists()

    def test_a_negative_amount_is_refused_on_the_field(self, personas, as_user):
        response = as_user(personas.sales1).post("/approvals/general/new/", self.form(amount="-5"))
        assert response.status_code == 200
        assert response.context["form"].errors["amount"]
        assert not GeneralRequest.objects.exists()

    def test_a_locked_request_cannot_be_changed(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1)
        response = as_user(personas.sales1).post(
            f"/approvals/general/{request.object_id}/edit/", self.form(amount="1.00")
        )
        assert response.status_code == 200
        assert GeneralRequest.objects.get(pk=request.object_id).amount == Decimal("12000.00")

    def test_only_the_owner_opens_the_edit_page(self, personas, new_doc, as_user):
        document = new_doc(personas.sales1)
        assert (
            as_user(personas.leader1).get(f"/approvals/general/{document.pk}/edit/").status_code
            == 403
        )
        assert (
            as_user(personas.sales2).get(f"/approvals/general/{document.pk}/edit/").status_code
            == 404
        )
        assert (
            as_user(personas.sales1).get(f"/approvals/general/{document.pk}/edit/").status_code
            == 200
        )

    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("sales1", 200),
            ("leader1", 200),
            ("manager", 200),
            ("sales1b", 404),
            ("sales2", 404),
            ("leader2", 404),
        ],
    )
    def test_the_detail_page_by_data_scope(self, personas, new_doc, as_user, who, status):
        document = new_doc(personas.sales1)
        assert (
            as_user(getattr(personas, who)).get(f"/approvals/general/{document.pk}/").status_code
            == status
        )

    def test_the_list_shows_the_latest_status(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1)
        text = page_text(as_user(personas.sales1).get("/approvals/general/"))
        assert request.title in text
        assert "In approval" in text
        assert request.title not in page_text(as_user(personas.sales2).get("/approvals/general/"))

    def test_reopen_from_the_page(self, personas, authority_flow, submit, as_user):
        request = submit(personas.sales1, amount="100.00")
        services.task_approve(actor=personas.leader1, task=task_of(request, personas.leader1))
        client = as_user(personas.sales1)
        client.post(f"/approvals/general/{request.object_id}/reopen/")
        client.post(
            f"/approvals/general/{request.object_id}/edit/", self.form(amount="200.00", submit="1")
        )
        latest = services.latest_request(GeneralRequest.objects.get(pk=request.object_id))
        assert latest.revision == 2
        assert latest.status == RequestStatus.IN_PROGRESS
        assert latest.tasks.get().status == TaskStatus.WAITING
