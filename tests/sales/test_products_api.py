"""The products and prices API (/api/v1/sales/...): the same permissions and rules as the
pages, cost only for those who may change products, the price quote, discount authority and
the settings; errors in the project's shape {code, message, fields}."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketdesk.org.models import Role
from marketdesk.sales.models import DiscountAuthority, PriceList, Product, SalesSettings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

API = "/api/v1/sales"


def assert_invalid(response, fields: set[str]) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and set(body["fields"]) == fields, body
    return body


class TestProducts:
    def test_a_salesperson_lists_products_without_cost(self, personas, catalogue, api_for):
        response = api_for(personas.sales1).get(f"{API}/products/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [r["code"] for r in rows] == ["GW-20", "SaaS-Y", "ZT-100"]
        assert all("cost" not in row for row in rows)
        assert rows[2]["list_price"] == "12000.00" and rows[2]["category_name"] == "智能终端"

    def test_the_manager_sees_cost(self, personas, catalogue, api_for):
        row = api_for(personas.manager).get(f"{API}/products/{catalogue['terminal'].pk}/").json()
        assert row["cost"] == "7000.00"

    def test_outsiders_are_refused(self, personas, catalogue, api_for):
        assert api_for(personas.outsider).get(f"{API}/products/").status_code == 403
        assert api_for(personas.outsider).get(f"{API}/product-categories/").status_code == 403

    def test_search_and_orderable(self, personas, catalogue, api_for):
        catalogue["gateway"].status = "discontinued"
        catalogue["gateway"].save()
        client = api_for(personas.sales1)
        codes = [r["code"] for r in client.get(f"{API}/products/?search=网关").json()["results"]]
        assert codes == ["GW-20"]
        rows = client.get(f"{API}/products/?orderable=true").json()["results"]
        assert [r["code"] for r in rows] == ["SaaS-Y", "ZT-100"]
        rows = client.get(f"{API}/products/?status=discontinued").json()["results"]
        assert [r["code"] for r in rows] == ["GW-20"]

    def test_the_manager_creates_and_updates_a_product(self, personas, catalogue, api_for):
        client = api_for(personas.manager)
        response = client.post(
            f"{API}/products/",
            {
                "code": "GW-50",
                "name": "边缘计算网关 GW-50",
                "category": catalogue["gateway"].category_id,
                "unit": "台",
                "list_price": "8900.00",
                "cost": "5200.00",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        product = Product.objects.get(code="GW-50")
        assert product.created_by == personas.manager
        response = client.patch(
            f"{API}/products/{product.pk}/", {"status": "discontinued"}, format="json"
        )
        assert response.json()["status"] == "discontinued"

    def test_a_used_code_and_a_negative_price_are_field_errors(self, personas, catalogue, api_for):
        client = api_for(personas.manager)
        body = {
            "code": "ZT-100",
            "name": "重复",
            "category": catalogue["gateway"].category_id,
            "unit": "台",
            "list_price": "1.00",
        }
        response = client.post(f"{API}/products/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        result = assert_invalid(response, {"code"})
        assert result["fields"]["code"] == [
            'The product code "ZT-100" is already used by 智联终端 ZT-100.'
        ]
        body.update(code="NEW", list_price="-1")
        assert_invalid(client.post(f"{API}/products/", body, format="json"), {"list_price"})
        assert Product.objects.count() == 3

    def test_a_salesperson_may_not_write(self, personas, catalogue, api_for):
        client = api_for(personas.sales1)
        response = client.patch(
            f"{API}/products/{catalogue['terminal'].pk}/", {"list_price": "1"}, format="json"
        )
        assert response.status_code == 403
        assert (
            client.post(f"{API}/product-categories/", {"code": "x", "name": "x"}).status_code == 403
        )

    def test_categories(self, personas, catalogue, api_for):
        client = api_for(personas.manager)
        response = client.post(
            f"{API}/product-categories/", {"code": "network", "name": "网络设备"}, format="json"
        )
        assert response.status_code == 201 and response.json()["product_count"] == 0
        assert_invalid(
            client.post(f"{API}/product-categories/", {"code": "network", "name": "X"}),
            {"code"},
        )
        rows = api_for(personas.sales1).get(f"{API}/product-categories/").json()
        assert [r["code"] for r in rows] == ["devices", "network", "software"]


class TestPriceLists:
    def test_a_salesperson_reads_lists_with_items(self, personas, catalogue, api_for):
        client = api_for(personas.sales1)
        rows = client.get(f"{API}/price-lists/").json()["results"]
        assert rows[0]["name"] == "A 类客户价 2026" and rows[0]["item_count"] == 2
        detail = client.get(f"{API}/price-lists/{catalogue['key_accounts'].pk}/").json()
        assert [(i["product_code"], i["min_quantity"], i["price"]) for i in detail["items"]] == [
            ("ZT-100", "1.00", "11000.00"),
            ("ZT-100", "10.00", "10500.00"),
        ]

    def test_finance_sees_products_but_not_price_lists(self, personas, catalogue, api_for):
        assert api_for(personas.finance).get(f"{API}/price-lists/").status_code == 403

    def test_create_with_bad_dates(self, personas, api_for):
        response = api_for(personas.manager).post(
            f"{API}/price-lists/",
            {"name": "X", "valid_from": "2026-06-01", "valid_to": "2026-05-01"},
            format="json",
        )
        assert_invalid(response, {"valid_to"})
        assert not PriceList.objects.exists()

    def test_items_add_change_remove(self, personas, catalogue, api_for):
        client = api_for(personas.manager)
        price_list = catalogue["key_accounts"]
        url = f"{API}/price-lists/{price_list.pk}/items/"
        response = client.post(
            url, {"product": catalogue["gateway"].pk, "price": "3300.00"}, format="json"
        )
        assert response.status_code == 201, response.content
        item_id = response.json()["id"]
        assert_invalid(
            client.post(url, {"product": catalogue["gateway"].pk, "price": "3200"}, format="json"),
            {"min_quantity"},
        )
        response = client.patch(f"{url}{item_id}/", {"price": "3250.00"}, format="json")
        assert response.json()["price"] == "3250.00"
        assert client.delete(f"{url}{item_id}/").status_code == 204
        assert price_list.items.count() == 2

    def test_an_item_of_another_list_is_not_found(self, personas, catalogue, api_for):
        other = PriceList.objects.create(name="其他", valid_from="2026-01-01")
        item = catalogue["terminal"].prices.first()
        response = api_for(personas.manager).delete(
            f"{API}/price-lists/{other.pk}/items/{item.pk}/"
        )
        assert response.status_code == 404

    def test_a_salesperson_may_not_change_prices(self, personas, catalogue, api_for):
        url = f"{API}/price-lists/{catalogue['key_accounts'].pk}/items/"
        response = api_for(personas.sales1).post(
            url, {"product": catalogue["gateway"].pk, "price": "1"}, format="json"
        )
        assert response.status_code == 403

    def test_copy(self, personas, catalogue, api_for):
        response = api_for(personas.manager).post(
            f"{API}/price-lists/{catalogue['key_accounts'].pk}/copy/",
            {"name": "2027 A 类客户价", "valid_from": "2027-01-01", "percent": "-10"},
            format="json",
        )
        assert response.status_code == 201
        assert response.json()["active"] is False and response.json()["item_count"] == 2


class TestPriceQuote:
    def test_the_quote_for_a_customer(self, personas, catalogue, customer, api_for):
        DiscountAuthority.objects.create(
            role=Role.objects.get(code="salesperson"), max_discount=Decimal("5")
        )
        response = api_for(personas.sales1).get(
            f"{API}/price-quote/",
            {
                "product": catalogue["terminal"].pk,
                "customer": customer.pk,
                "date": "2026-03-04",
                "quantity": "10",
            },
        )
        assert response.status_code == 200, response.content
        assert response.json() == {
            "product": catalogue["terminal"].pk,
            "customer_level": "A",
            "channel_tier": "direct",
            "date": "2026-03-04",
            "quantity": "10.00",
            "unit_price": "10500.00",
            "list_price": "12000.00",
            "price_list": catalogue["key_accounts"].pk,
            "price_list_name": "A 类客户价 2026",
            "amount": "105000.00",
            "max_discount": "5.00",
            "max_discount_source": "role",
        }

    def test_by_level_and_tier_without_a_customer(self, personas, catalogue, api_for):
        response = api_for(personas.manager).get(
            f"{API}/price-quote/",
            {
                "product": catalogue["terminal"].pk,
                "customer_level": "A",
                "channel_tier": "tier1",
                "date": "2026-03-04",
            },
        )
        body = response.json()
        assert body["unit_price"] == "12000.00" and body["price_list"] is None
        assert body["max_discount_source"] == "default"

    def test_a_customer_out_of_scope_or_a_discontinued_product_is_refused(
        self, personas, catalogue, customer, api_for
    ):
        catalogue["gateway"].status = "discontinued"
        catalogue["gateway"].save()
        response = api_for(personas.sales2).get(
            f"{API}/price-quote/", {"product": catalogue["gateway"].pk, "customer": customer.pk}
        )
        assert_invalid(response, {"product", "customer"})

    def test_outsiders_are_refused(self, personas, catalogue, api_for):
        response = api_for(personas.outsider).get(
            f"{API}/price-quote/", {"product": catalogue["terminal"].pk}
        )
        assert response.status_code == 403


class TestDiscountAuthorities:
    def test_the_administrator_manages_rows(self, personas, api_for):
        client = api_for(personas.admin)
        role = Role.objects.get(code="group_leader")
        response = client.post(
            f"{API}/discount-authorities/", {"role": role.pk, "max_discount": "10"}, format="json"
        )
        assert response.status_code == 201, response.content
        row_id = response.json()["id"]
        assert response.json()["role_name"] in ("Group leader", "组长")  # the user's language
        response = client.patch(
            f"{API}/discount-authorities/{row_id}/", {"max_discount": "12.5"}, format="json"
        )
        assert response.json()["max_discount"] == "12.50"
        assert [r["id"] for r in client.get(f"{API}/discount-authorities/").json()] == [row_id]
        assert client.delete(f"{API}/discount-authorities/{row_id}/").status_code == 204
        assert not DiscountAuthority.objects.exists()

    def test_bad_rows_are_field_errors(self, personas, api_for):
        client = api_for(personas.admin)
        assert_invalid(
            client.post(f"{API}/discount-authorities/", {"max_discount": "5"}, format="json"),
            {"role"},
        )
        assert_invalid(
            client.post(
                f"{API}/discount-authorities/",
                {"user": personas.sales1.pk, "max_discount": "101"},
                format="json",
            ),
            {"max_discount"},
        )

    @pytest.mark.parametrize("who", ["sales1", "leader1", "finance"])
    def test_others_are_refused(self, personas, api_for, who):
        assert (
            api_for(getattr(personas, who)).get(f"{API}/discount-authorities/").status_code == 403
        )


class TestSettings:
    def test_read_and_change(self, personas, sales_settings, api_for):
        client = api_for(personas.admin)
        body = client.get(f"{API}/settings/").json()
        assert body == {
            "default_max_discount": "5.00",
            "approval_amount": "200000.00",
            "receipt_approval": False,
            "credit_mode": "warn",
            "delivery_alert_days": 3,
        }
        response = client.patch(
            f"{API}/settings/current/",
            {"receipt_approval": True, "credit_mode": "block"},
            format="json",
        )
        assert response.status_code == 200, response.content
        row = SalesSettings.objects.get()
        assert row.receipt_approval and row.credit_mode == "block"

    def test_bad_values_are_field_errors(self, personas, sales_settings, api_for):
        response = api_for(personas.admin).patch(
            f"{API}/settings/current/", {"default_max_discount": "150"}, format="json"
        )
        assert_invalid(response, {"default_max_discount"})

    @pytest.mark.parametrize("who", ["sales1", "finance", "management"])
    def test_others_are_refused(self, personas, sales_settings, api_for, who):
        client = api_for(getattr(personas, who))
        assert client.get(f"{API}/settings/").status_code == 403
        assert (
            client.patch(f"{API}/settings/current/", {"delivery_alert_days": 1}).status_code == 403
        )
