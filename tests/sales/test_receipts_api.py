"""The receipts REST API: the same rules, permissions and data scope as the pages; errors in
the API's shape ({code, message, fields}); the OpenAPI schema."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketdesk.sales.models import Receipt, ReceiptPlan, ReceiptStatus

from . import test_receipts_helpers as h
from .test_receipts_helpers import days, plan, receive, set_receipt_approval, today

pytestmark = pytest.mark.django_db

order_for = h.order_for
order = h.order


@pytest.fixture
def api(api_for):
    def make(user):
        client = api_for(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        return client

    return make


class TestReceiptsApi:
    def test_register_approve_and_read(self, sales_personas, order, api):
        set_receipt_approval(True)
        (first,) = plan(sales_personas.sales1, order, (days(-3), "40000"))
        response = api(sales_personas.sales1).post(
            "/api/v1/sales/receipts/",
            {
                "order": order.pk,
                "plan": first.pk,
                "amount": "40000.00",
                "received_on": today().isoformat(),
                "reference": "ICBC-7788",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "pending" and body["instalment"] == 1
        assert body["customer"] == order.customer_id and body["order_number"] == order.number
        receipt_id = body["id"]
        refused = api(sales_personas.sales1).post(f"/api/v1/sales/receipts/{receipt_id}/approve/")
        assert refused.status_code == 403
        approved = api(sales_personas.finance).post(f"/api/v1/sales/receipts/{receipt_id}/approve/")
        assert approved.status_code == 200, approved.json()
        assert approved.json()["status"] == "confirmed"
        assert approved.json()["decided_by"] == "马丽华"
        order.refresh_from_db()
        assert order.received_amount == Decimal("40000.00")

    def test_too_much_is_a_field_error(self, sales_personas, order, api):
        response = api(sales_personas.sales1).post(
            "/api/v1/sales/receipts/",
            {"order": order.pk, "amount": "100000.01", "received_on": today().isoformat()},
            format="json",
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid" and list(body["fields"]) == ["amount"]
        assert "100,000.00" in body["fields"]["amount"][0]
        assert not Receipt.objects.exists()

    def test_an_order_out_of_scope_does_not_exist(self, sales_personas, order, api):
        response = api(sales_personas.sales2).post(
            "/api/v1/sales/receipts/",
            {"order": order.pk, "amount": "1", "received_on": today().isoformat()},
            format="json",
        )
        assert response.status_code == 400 and "order" in response.json()["fields"]

    def test_reject_needs_a_reason(self, sales_personas, order, api):
        set_receipt_approval(True)
        receipt = receive(sales_personas.sales1, order, "100")
        client = api(sales_personas.finance)
        response = client.post(f"/api/v1/sales/receipts/{receipt.pk}/reject/", {}, format="json")
        assert response.status_code == 400 and "reason" in response.json()["fields"]
        response = client.post(
            f"/api/v1/sales/receipts/{receipt.pk}/reject/", {"reason": "未到账"}, format="json"
        )
        assert response.json()["status"] == "rejected"

    def test_cancel(self, sales_personas, order, api):
        receipt = receive(sales_personas.sales1, order, "100")
        refused = api(sales_personas.sales1).post(
            f"/api/v1/sales/receipts/{receipt.pk}/cancel/", {"reason": "x"}, format="json"
        )
        assert refused.status_code == 403
        response = api(sales_personas.finance).post(
            f"/api/v1/sales/receipts/{receipt.pk}/cancel/", {"reason": "支票退票"}, format="json"
        )
        assert response.json()["status"] == ReceiptStatus.CANCELLED

    @pytest.mark.parametrize(
        "who,count",
        [("sales1", 1), ("sales1b", 0), ("leader1", 1), ("sales2", 0), ("finance", 1)],
    )
    def test_scope(self, sales_personas, order, api, who, count):
        receipt = receive(sales_personas.sales1, order, "100")
        client = api(getattr(sales_personas, who))
        assert client.get("/api/v1/sales/receipts/").json()["count"] == count
        status = client.get(f"/api/v1/sales/receipts/{receipt.pk}/").status_code
        assert status == (200 if count else 404)

    def test_roles_without_the_permission(self, sales_personas, api):
        assert api(sales_personas.service).get("/api/v1/sales/receipts/").status_code == 403
        assert api(sales_personas.outsider).get("/api/v1/sales/aging/").status_code == 403

    def test_filters(self, sales_personas, order, api):
        receive(sales_personas.sales1, order, "100", reference="ABC-1")
        client = api(sales_personas.finance)
        assert client.get("/api/v1/sales/receipts/?search=ABC-1").json()["count"] == 1
        assert client.get("/api/v1/sales/receipts/?status=pending").json()["count"] == 0
        assert client.get(f"/api/v1/sales/receipts/?order={order.pk}").json()["count"] == 1


class TestPlansApi:
    def test_create_update_delete(self, sales_personas, order, api):
        client = api(sales_personas.sales1)
        response = client.post(
            "/api/v1/sales/receipt-plans/",
            {"order": order.pk, "due_date": days(10).isoformat(), "amount": "30000"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["instalment"] == 1
        plan_id = response.json()["id"]
        response = client.post(
            "/api/v1/sales/receipt-plans/",
            {"order": order.pk, "due_date": days(40).isoformat(), "amount": "70000.01"},
            format="json",
        )
        assert response.status_code == 400
        assert "Instalment 2" in response.json()["fields"]["amount"][0]
        response = client.patch(
            f"/api/v1/sales/receipt-plans/{plan_id}/",
            {"amount": "35000", "method": "cheque"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["amount"] == "35000.00" and response.json()["method"] == "cheque"
        assert client.get(f"/api/v1/sales/receipt-plans/?order={order.pk}").json()["count"] == 1
        assert client.delete(f"/api/v1/sales/receipt-plans/{plan_id}/").status_code == 204
        assert not ReceiptPlan.objects.exists()

    def test_a_plan_with_receipts_cannot_be_deleted(self, sales_personas, order, api):
        (first,) = plan(sales_personas.sales1, order, (days(-3), "40000"))
        receive(sales_personas.sales1, order, "100", plan=first)
        response = api(sales_personas.sales1).delete(f"/api/v1/sales/receipt-plans/{first.pk}/")
        assert response.status_code == 400 and "Instalment 1" in response.json()["message"] + str(
            response.json()["fields"]
        )

    def test_scope(self, sales_personas, order, api):
        (first,) = plan(sales_personas.sales1, order, (days(-3), "40000"))
        client = api(sales_personas.sales2)
        assert client.get(f"/api/v1/sales/receipt-plans/{first.pk}/").status_code == 404
        assert client.patch(
            f"/api/v1/sales/receipt-plans/{first.pk}/", {"amount": "1"}, format="json"
        ).status_code in (403, 404)
        assert api(sales_personas.management).post(
            "/api/v1/sales/receipt-plans/",
            {"order": order.pk, "due_date": days(10).isoformat(), "amount": "1"},
            format="json",
        ).status_code in (400, 403)
        assert not ReceiptPlan.objects.exclude(pk=first.pk).exists()


class TestAgingApi:
    def test_report_and_instalments(self, sales_personas, order_for, api):
        order = order_for(total="10000", order_date=days(-200), promised_date=days(-100))
        plan(sales_personas.sales1, order, (days(-95), "4000"), (days(5), "5000"))
        client = api(sales_personas.finance)
        body = client.get("/api/v1/sales/aging/?by=owner").json()
        assert body["by"] == "owner"
        assert [b["key"] for b in body["buckets"]] == [
            "not_due",
            "d0_30",
            "d31_60",
            "d61_90",
            "d90_plus",
        ]
        assert body["totals"]["d90_plus"] == "5000.00"  # 4,000 + 1,000 outside the plan
        assert body["totals"]["not_due"] == "5000.00"
        assert body["rows"][0]["name"] == "王芳"
        rows = client.get("/api/v1/sales/aging/instalments/?overdue=1").json()
        assert rows["count"] == 2
        assert {r["instalment"] for r in rows["results"]} == {0, 1}
        assert api(sales_personas.sales2).get("/api/v1/sales/aging/").json()["rows"] == []
        unit = sales_personas.units["S2"].pk
        assert client.get(f"/api/v1/sales/aging/?department={unit}").json()["rows"] == []


class TestCustomerAccountsApi:
    def test_finance_sets_the_limit_and_tier(self, sales_personas, customer, order, api):
        client = api(sales_personas.finance)
        response = client.patch(
            f"/api/v1/sales/customer-accounts/{customer.pk}/",
            {"credit_limit": "50000", "channel_tier": "tier2"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["credit_limit"] == "50000.00" and body["channel_tier"] == "tier2"
        assert body["open_receivables"] == "100000.00" and body["available"] == "-50000.00"
        assert client.get("/api/v1/sales/customer-accounts/?state=over").json()["count"] == 1
        response = client.patch(
            f"/api/v1/sales/customer-accounts/{customer.pk}/", {"credit_limit": None}, format="json"
        )
        assert response.json()["credit_limit"] is None

    def test_negative_limit_is_a_field_error(self, sales_personas, customer, api):
        response = api(sales_personas.finance).patch(
            f"/api/v1/sales/customer-accounts/{customer.pk}/", {"credit_limit": "-1"}, format="json"
        )
        assert response.status_code == 400 and "credit_limit" in response.json()["fields"]

    def test_a_salesperson_reads_but_cannot_change(self, sales_personas, customer, api):
        client = api(sales_personas.sales1)
        assert client.get(f"/api/v1/sales/customer-accounts/{customer.pk}/").status_code == 200
        response = client.patch(
            f"/api/v1/sales/customer-accounts/{customer.pk}/", {"credit_limit": "1"}, format="json"
        )
        assert response.status_code == 403
        other = api(sales_personas.sales2)
        assert other.get(f"/api/v1/sales/customer-accounts/{customer.pk}/").status_code == 404


def test_the_schema_documents_the_receipts_api(client, sales_personas):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in (
        "/api/v1/sales/receipts/",
        "/api/v1/sales/receipts/{id}/approve/",
        "/api/v1/sales/receipts/{id}/reject/",
        "/api/v1/sales/receipts/{id}/cancel/",
        "/api/v1/sales/receipt-plans/",
        "/api/v1/sales/aging/",
        "/api/v1/sales/aging/instalments/",
        "/api/v1/sales/customer-accounts/{id}/",
    ):
        assert path in schema["paths"], path
