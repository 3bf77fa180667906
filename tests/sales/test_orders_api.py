"""The order API (/api/v1/sales/orders|tasks|deliveries): the same scope, permissions and rules
as the pages; errors in the one shape {code, message, fields} naming the line."""

# ruff: noqa: F811  (the fixtures imported from test_orders_fixtures)
from __future__ import annotations

from decimal import Decimal

import pytest

from marketdesk.sales.models import OrderStatus, SalesOrder

from .test_orders_fixtures import (  # noqa: F401
    ORDER_DAY,
    confirm,
    confirmed,
    future,
    make_order,
    new_customer,
    order_flow,
    ship,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
BASE = "/api/v1/sales/"


@pytest.fixture
def api_for(api_for):
    """The shared api_for, asking for English (the messages below are the English ones; without
    the header the API answers in the company language, zh-Hans)."""

    def make(user):
        client = api_for(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        return client

    return make


def body(customer, catalogue, *lines, **extra):
    return {
        "customer": customer.pk,
        "order_date": ORDER_DAY.isoformat(),
        "promised_date": future().isoformat(),
        "lines": [
            {"product": catalogue[key].pk, "quantity": quantity, "discount": discount}
            for key, quantity, discount in lines
        ],
        **extra,
    }


class TestOrders:
    def test_create_prices_the_lines(
        self, sales_personas, customer, catalogue, api_for, sales_settings
    ):
        response = api_for(sales_personas.sales1).post(
            BASE + "orders/",
            body(customer, catalogue, ("terminal", "10", "0"), ("gateway", "2", "5")),
            format="json",
        )
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["number"].startswith("XS-") and data["status"] == "draft"
        assert data["lines"][0]["unit_price"] == "10500.00"
        assert data["lines"][1]["amount"] == "6650.00"
        assert data["total"] == "111650.00"

    def test_a_bad_line_is_named_in_the_error(
        self, sales_personas, customer, catalogue, api_for, sales_settings
    ):
        response = api_for(sales_personas.sales1).post(
            BASE + "orders/",
            body(customer, catalogue, ("terminal", "1", "0"), ("gateway", "0", "0")),
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["fields"] == {
            "lines[2].quantity": ["Line 2: the quantity must be positive."]
        }
        assert not SalesOrder.objects.exists()

    def test_a_customer_out_of_scope_does_not_exist(
        self, sales_personas, catalogue, api_for, sales_settings
    ):
        theirs = new_customer(sales_personas.sales2, "南京长江物流有限公司")
        response = api_for(sales_personas.sales1).post(
            BASE + "orders/", body(theirs, catalogue, ("terminal", "1", "0")), format="json"
        )
        assert response.status_code == 400 and "customer" in response.json()["fields"]

    def test_update_replaces_the_lines(self, make_order, sales_personas, catalogue, api_for):
        order = make_order()
        response = api_for(sales_personas.sales1).patch(
            f"{BASE}orders/{order.pk}/",
            {"lines": [{"product": catalogue["gateway"].pk, "quantity": "3"}], "title": "改单"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["total"] == "10500.00" and response.json()["title"] == "改单"
        other = api_for(sales_personas.sales1b).patch(
            f"{BASE}orders/{order.pk}/", {"title": "x"}, format="json"
        )
        assert other.status_code == 404

    def test_list_and_detail_follow_the_scope(self, confirmed, sales_personas, api_for):
        for who, seen in [
            ("sales1", 1),
            ("sales1b", 0),
            ("leader1", 1),
            ("leader2", 0),
            ("prd_coord", 1),
            ("finance", 1),
        ]:
            api = api_for(getattr(sales_personas, who))
            assert api.get(BASE + "orders/").json()["count"] == seen, who
            assert api.get(f"{BASE}orders/{confirmed.pk}/").status_code == (200 if seen else 404)
        assert api_for(sales_personas.promo).get(BASE + "orders/").status_code == 403

    def test_submit_confirms_or_sends_for_approval(
        self, make_order, sales_personas, api_for, order_flow
    ):
        api = api_for(sales_personas.sales1)
        plain, discounted = make_order(), make_order(lines=(("terminal", "1", "8"),))
        data = api.post(f"{BASE}orders/{plain.pk}/submit/", {}, format="json").json()
        assert data["status"] == "confirmed" and data["approval_request"] is None
        data = api.post(
            f"{BASE}orders/{discounted.pk}/submit/", {"comment": "战略客户"}, format="json"
        ).json()
        assert data["status"] == "in_approval" and data["approval_request"]
        assert "8.00 %" in data["approval_reasons"]

    def test_actions_check_who_may(self, confirmed, sales_personas, api_for):
        url = f"{BASE}orders/{confirmed.pk}/"
        assert api_for(sales_personas.sales1).post(url + "start-production/").status_code == 403
        assert api_for(sales_personas.log_coord).post(url + "start-production/").status_code == 403
        response = api_for(sales_personas.prd_coord).post(url + "start-production/")
        assert response.status_code == 200 and response.json()["status"] == "in_production"
        assert api_for(sales_personas.prd_coord).post(url + "ready/").json()["status"] == "ready"
        assert (
            api_for(sales_personas.sales1).post(url + "cancel/", {"reason": "x"}).status_code == 403
        )
        bad = api_for(sales_personas.leader1).post(url + "cancel/", {"reason": ""}, format="json")
        assert bad.status_code == 400 and "reason" in bad.json()["fields"]
        done = api_for(sales_personas.leader1).post(
            url + "cancel/", {"reason": "客户取消"}, format="json"
        )
        assert done.json()["status"] == "cancelled"

    def test_confirm_and_complete(self, make_order, sales_personas, api_for):
        order = make_order()
        assert (
            api_for(sales_personas.sales1).post(f"{BASE}orders/{order.pk}/confirm/").status_code
            == 403
        )
        data = api_for(sales_personas.leader1).post(f"{BASE}orders/{order.pk}/confirm/").json()
        assert data["status"] == "confirmed"
        order.refresh_from_db()
        delivery = ship(order, sales_personas.log_coord)
        api_for(sales_personas.log_coord).post(
            f"{BASE}deliveries/{delivery.pk}/sign/",
            {"signed_on": ORDER_DAY.isoformat()},
            format="json",
        )
        data = api_for(sales_personas.leader1).post(f"{BASE}orders/{order.pk}/complete/").json()
        assert data["status"] == "completed"

    def test_price_and_on_time(self, confirmed, sales_personas, customer, catalogue, api_for):
        api = api_for(sales_personas.sales1)
        data = api.get(
            BASE + "orders/price/",
            {"product": catalogue["terminal"].pk, "customer": customer.pk, "on": "2026-03-04"},
        ).json()
        assert data["unit_price"] == "11000.00" and data["price_list"] == "A 类客户价 2026"
        delivery = ship(confirmed, sales_personas.log_coord)
        api_for(sales_personas.log_coord).post(
            f"{BASE}deliveries/{delivery.pk}/sign/", {"signed_on": "2026-03-05"}, format="json"
        )
        rows = (
            api_for(sales_personas.manager)
            .get(
                BASE + "orders/on-time/",
                {"start": "2026-01-01", "end": "2026-12-31", "by": "owner"},
            )
            .json()
        )
        assert rows == [
            {
                "id": sales_personas.sales1.pk,
                "label": "王芳",
                "delivered": 1,
                "on_time": 1,
                "late": 0,
                "rate": "100.0",
            }
        ]
        assert api.get(BASE + "orders/on-time/", {"by": "x"}).status_code == 400


class TestTasks:
    def test_a_coordinator_works_on_the_units_tasks(self, confirmed, sales_personas, api_for):
        api = api_for(sales_personas.prd_coord)
        tasks = api.get(BASE + "tasks/").json()["results"]
        production = next(t for t in tasks if t["kind"] == "production")
        assert api.post(f"{BASE}tasks/{production['id']}/start/").json()["status"] == "in_progress"
        data = api.post(
            f"{BASE}tasks/{production['id']}/done/", {"note": "完工"}, format="json"
        ).json()
        assert data["status"] == "done"
        assert SalesOrder.objects.get(pk=confirmed.pk).status == OrderStatus.READY
        response = api.patch(
            f"{BASE}tasks/{production['id']}/",
            {"owner": sales_personas.prd_coord.pk},
            format="json",
        )
        assert (
            response.status_code == 200 and response.json()["owner"] == sales_personas.prd_coord.pk
        )

    def test_a_salesperson_reads_but_does_not_change_tasks(
        self, confirmed, sales_personas, api_for
    ):
        api = api_for(sales_personas.sales1)
        tasks = api.get(BASE + "tasks/").json()["results"]
        assert len(tasks) == 2
        assert api.post(f"{BASE}tasks/{tasks[0]['id']}/start/").status_code == 403
        assert (
            api_for(sales_personas.sales2).get(f"{BASE}tasks/{tasks[0]['id']}/").status_code == 404
        )


class TestDeliveries:
    def test_partial_delivery_over_shipping_and_signing(self, confirmed, sales_personas, api_for):
        api = api_for(sales_personas.log_coord)
        lines = {line.line_no: line.pk for line in confirmed.lines.all()}
        response = api.post(
            BASE + "deliveries/",
            {
                "order": confirmed.pk,
                "shipped_on": ORDER_DAY.isoformat(),
                "carrier": "顺丰",
                "lines": [{"order_line": lines[1], "quantity": "1"}],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert SalesOrder.objects.get(pk=confirmed.pk).status == OrderStatus.PARTLY_SHIPPED
        over = api.post(
            BASE + "deliveries/",
            {
                "order": confirmed.pk,
                "shipped_on": ORDER_DAY.isoformat(),
                "lines": [{"order_line": lines[1], "quantity": "2"}],
            },
            format="json",
        )
        assert over.status_code == 400
        assert over.json()["fields"] == {
            "lines[1].quantity": ["Line 1: only 1 台 are still to ship."]
        }
        delivery = response.json()["id"]
        signed = api.post(
            f"{BASE}deliveries/{delivery}/sign/",
            {"signed_on": "2026-03-05", "signed_by": "钱进"},
            format="json",
        )
        assert signed.json()["status"] == "signed"
        assert (
            api_for(sales_personas.sales1)
            .post(
                BASE + "deliveries/",
                {"order": confirmed.pk, "lines": [{"order_line": lines[2], "quantity": "1"}]},
                format="json",
            )
            .status_code
            == 403
        )

    def test_cancel_and_scope(self, confirmed, sales_personas, api_for):
        delivery = ship(confirmed, sales_personas.log_coord, {1: "1"})
        assert (
            api_for(sales_personas.sales2).get(f"{BASE}deliveries/{delivery.pk}/").status_code
            == 404
        )
        data = (
            api_for(sales_personas.leader1)
            .post(f"{BASE}deliveries/{delivery.pk}/cancel/", {"reason": "填错"}, format="json")
            .json()
        )
        assert data["status"] == "cancelled"
        assert SalesOrder.objects.get(pk=confirmed.pk).status == OrderStatus.READY
        assert Decimal(confirmed.lines.get(line_no=1).delivered_quantity) == 0
