"""The products and prices pages per role: who may open and change what, cost shown only to
those who may change products, pages in zh-Hans and English, forms that show their errors,
the product picker and the price lookup the order form uses, exports."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from marketdesk.org.models import Role
from marketdesk.sales.models import DiscountAuthority, PriceList, Product, SalesSettings
from marketdesk.sales.services import products as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client_for):
    def make(user, language="en"):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return make


def text(response) -> str:
    return response.content.decode()


def response_ok(page: str) -> bool:
    """A page rendered in Chinese (the new strings' translations are merged by the lead from
    /work/zh/products.json, so only the language and the data are checked here)."""
    return 'lang="zh-hans"' in page


PRODUCT_READERS = {"sales1", "leader1", "manager", "finance", "service", "management", "promo"}
PRICE_READERS = {"sales1", "leader1", "manager", "management", "promo"}
# page -> who may open it (the shipped roles' permissions)
ALLOWED = {
    "sales:product_list": PRODUCT_READERS,
    "sales:category_list": PRODUCT_READERS,
    "sales:price_list_list": PRICE_READERS,
    "sales:price_quote": PRICE_READERS,
    "sales:product_create": {"manager"},
    "sales:price_list_create": {"manager"},
    "sales:discount_authorities": {"manager", "admin"},
    "sales:sales_settings": {"manager", "admin"},
}
WHO = ["sales1", "leader1", "manager", "finance", "service", "management", "promo", "admin"]


class TestWhoMayOpen:
    @pytest.mark.parametrize("who", [*WHO, "outsider"])
    def test_each_page_per_role(self, personas, catalogue, as_user, who):
        client = as_user(getattr(personas, who))
        got = {page: client.get(reverse(page)).status_code for page in ALLOWED}
        assert got == {page: 200 if who in allowed else 403 for page, allowed in ALLOWED.items()}

    def test_a_detail_without_the_view_permission_is_a_404(self, personas, catalogue, as_user):
        client = as_user(personas.outsider)
        assert (
            client.get(reverse("sales:product_detail", args=[catalogue["terminal"].pk])).status_code
            == 404
        )
        price_list = catalogue["key_accounts"]
        assert (
            client.get(reverse("sales:price_list_detail", args=[price_list.pk])).status_code == 404
        )
        finance = as_user(personas.finance)  # products but not price lists
        assert (
            finance.get(reverse("sales:price_list_detail", args=[price_list.pk])).status_code == 404
        )

    def test_an_unknown_id_is_a_404(self, personas, catalogue, as_user):
        client = as_user(personas.manager)
        assert client.get(reverse("sales:product_detail", args=[99999])).status_code == 404
        assert client.get(reverse("sales:product_edit", args=[99999])).status_code == 404

    def test_a_salesperson_may_not_post_changes(self, personas, catalogue, as_user):
        client = as_user(personas.sales1)
        product = catalogue["gateway"]
        response = client.post(reverse("sales:product_edit", args=[product.pk]), {"code": "X"})
        assert response.status_code == 403
        response = client.post(
            reverse("sales:product_status", args=[product.pk]), {"status": "discontinued"}
        )
        product.refresh_from_db()
        assert product.status == "active"
        item = catalogue["terminal"].prices.first()
        response = client.post(
            reverse("sales:price_list_item_edit", args=[item.price_list_id, item.pk]),
            {"price": "1"},
        )
        item.refresh_from_db()
        assert item.price == Decimal("11000.00")


class TestProductPages:
    def test_the_list_in_chinese_and_english(self, personas, catalogue, as_user):
        zh = text(as_user(personas.sales1, "zh-hans").get(reverse("sales:product_list")))
        assert 'lang="zh-hans"' in zh and "智联终端 ZT-100" in zh and "共 3 条" in zh
        en = text(as_user(personas.sales1).get(reverse("sales:product_list")))
        assert "List price" in en and "On sale" in en

    def test_salespeople_do_not_see_cost_anywhere(self, personas, catalogue, as_user):
        client = as_user(personas.sales1)
        listing = text(client.get(reverse("sales:product_list")))
        detail = text(client.get(reverse("sales:product_detail", args=[catalogue["terminal"].pk])))
        for page in (listing, detail):
            assert "7,000.00" not in page and "Cost" not in page
            assert "12,000.00" in page

    def test_cost_changes_are_left_out_of_a_salespersons_timeline(
        self, personas, catalogue, as_user
    ):
        product = catalogue["terminal"]
        services.product_update(actor=personas.manager, product=product, cost=Decimal("7100"))
        services.product_update(actor=personas.manager, product=product, spec="8 核 / 32 GB")
        seller = text(
            as_user(personas.sales1).get(reverse("sales:product_detail", args=[product.pk]))
        )
        assert "7100" not in seller and "32 GB" in seller
        manager = text(
            as_user(personas.manager).get(reverse("sales:product_detail", args=[product.pk]))
        )
        assert "7100" in manager and "Gross margin" in manager

    def test_the_manager_sees_cost_and_margin(self, personas, catalogue, as_user):
        page = text(as_user(personas.manager).get(reverse("sales:product_list")))
        assert "7,000.00" in page

    def test_search_filter_and_sort(self, personas, catalogue, as_user):
        client = as_user(personas.sales1)
        page = text(client.get(reverse("sales:product_list"), {"q": "网关"}))
        assert "GW-20" in page and "ZT-100" not in page
        category = catalogue["platform"].category_id
        page = text(client.get(reverse("sales:product_list"), {"category": category}))
        assert "SaaS-Y" in page and "GW-20" not in page
        page = text(client.get(reverse("sales:product_list"), {"sort": "-price"}))
        assert page.index("SaaS-Y") < page.index("GW-20")

    def test_htmx_gets_only_the_results(self, personas, catalogue, as_user):
        response = as_user(personas.sales1).get(
            reverse("sales:product_list"), {"q": "ZT"}, headers={"HX-Request": "true"}
        )
        assert text(response).lstrip().startswith('<div id="list-results">')

    def test_the_manager_creates_a_product(self, personas, catalogue, as_user):
        response = as_user(personas.manager).post(
            reverse("sales:product_create"),
            {
                "code": "GW-50",
                "name": "边缘计算网关 GW-50",
                "category": catalogue["gateway"].category_id,
                "unit": "台",
                "spec": "",
                "list_price": "8900",
                "cost": "5200",
                "status": "active",
            },
        )
        product = Product.objects.get(code="GW-50")
        assert response.status_code == 302 and response.url == product.get_absolute_url()
        assert product.cost == Decimal("5200.00")

    def test_the_form_shows_a_used_code_and_a_negative_price(self, personas, catalogue, as_user):
        response = as_user(personas.manager).post(
            reverse("sales:product_create"),
            {
                "code": "ZT-100",
                "name": "重复",
                "category": catalogue["gateway"].category_id,
                "unit": "台",
                "list_price": "100",
                "status": "active",
            },
        )
        page = text(response)
        assert response.status_code == 200
        assert "is already used by 智联终端 ZT-100" in page and 'data-field="code"' in page
        response = as_user(personas.manager).post(
            reverse("sales:product_create"),
            {
                "code": "NEW",
                "name": "新",
                "category": catalogue["gateway"].category_id,
                "unit": "台",
                "list_price": "-5",
                "status": "active",
            },
        )
        assert 'data-field="list_price"' in text(response)
        assert Product.objects.count() == 3

    def test_the_form_in_chinese(self, personas, catalogue, as_user):
        page = text(as_user(personas.manager, "zh-hans").get(reverse("sales:product_create")))
        assert response_ok(page) and 'name="code"' in page

    def test_edit_and_discontinue(self, personas, catalogue, as_user):
        client = as_user(personas.manager)
        product = catalogue["gateway"]
        response = client.post(
            reverse("sales:product_edit", args=[product.pk]),
            {
                "code": "GW-20",
                "name": "边缘网关 GW-20",
                "category": product.category_id,
                "unit": "台",
                "list_price": "3600",
                "cost": "1800",
                "status": "active",
            },
        )
        assert response.status_code == 302
        client.post(reverse("sales:product_status", args=[product.pk]), {"status": "discontinued"})
        product.refresh_from_db()
        assert (product.list_price, product.status) == (Decimal("3600.00"), "discontinued")
        page = text(client.get(reverse("sales:product_detail", args=[product.pk])))
        assert "not offered on new orders" in page

    def test_export_leaves_cost_out_for_those_who_may_not_see_it(
        self, personas, catalogue, as_user
    ):
        leader = as_user(personas.leader1).get(reverse("sales:product_export"), {"format": "xlsx"})
        sheet = load_workbook(io.BytesIO(leader.content)).active
        header = [cell.value for cell in sheet[1]]
        assert "Cost (CNY)" not in header and sheet.max_row == 4
        manager = as_user(personas.manager).get(reverse("sales:product_export"), {"q": "ZT"})
        sheet = load_workbook(io.BytesIO(manager.content)).active
        assert "Cost (CNY)" in [cell.value for cell in sheet[1]] and sheet.max_row == 2
        assert as_user(personas.sales1).get(reverse("sales:product_export")).status_code == 403


class TestPickerAndPrice:
    def test_the_picker_returns_products_on_sale_as_json(self, personas, catalogue, as_user):
        services.product_set_status(
            actor=personas.manager, product=catalogue["gateway"], status="discontinued"
        )
        response = as_user(personas.sales1).get(reverse("sales:product_search"), {"q": ""})
        results = json.loads(response.content)["results"]
        assert [r["code"] for r in results] == ["SaaS-Y", "ZT-100"]
        assert results[1] == {
            "id": catalogue["terminal"].pk,
            "code": "ZT-100",
            "name": "智联终端 ZT-100",
            "unit": "台",
            "spec": "8 核 / 16 GB",
            "list_price": "12000.00",
            "status": "active",
        }

    def test_the_picker_renders_options_for_htmx(self, personas, catalogue, as_user):
        response = as_user(personas.sales1).get(
            reverse("sales:product_search"), {"q": "ZT"}, headers={"HX-Request": "true"}
        )
        assert f'<option value="{catalogue["terminal"].pk}"' in text(response)

    def test_the_picker_is_closed_to_outsiders(self, personas, catalogue, as_user):
        assert as_user(personas.outsider).get(reverse("sales:product_search")).status_code == 403

    def test_the_price_for_a_customer_uses_its_level(self, personas, catalogue, customer, as_user):
        DiscountAuthority.objects.create(
            role=Role.objects.get(code="salesperson"), max_discount=Decimal("5")
        )
        response = as_user(personas.sales1).get(
            reverse("sales:product_price"),
            {
                "product": catalogue["terminal"].pk,
                "customer": customer.pk,
                "date": "2026-03-04",
                "quantity": "12",
            },
        )
        assert json.loads(response.content) == {
            "product": catalogue["terminal"].pk,
            "unit_price": "10500.00",
            "list_price": "12000.00",
            "price_list": {"id": catalogue["key_accounts"].pk, "name": "A 类客户价 2026"},
            "max_discount": "5.00",
        }

    def test_a_customer_out_of_scope_is_refused(self, personas, catalogue, customer, as_user):
        response = as_user(personas.sales2).get(
            reverse("sales:product_price"),
            {"product": catalogue["terminal"].pk, "customer": customer.pk},
        )
        assert response.status_code == 400
        assert "customer" in json.loads(response.content)["fields"]

    def test_bad_inputs_name_their_field(self, personas, catalogue, as_user):
        response = as_user(personas.sales1).get(
            reverse("sales:product_price"),
            {"product": "x", "date": "tomorrow", "quantity": "-1", "channel_tier": "vip"},
        )
        assert set(json.loads(response.content)["fields"]) == {
            "product",
            "date",
            "quantity",
            "channel_tier",
        }

    def test_the_price_checker_page(self, personas, catalogue, as_user):
        page = text(
            as_user(personas.sales1).get(
                reverse("sales:price_quote"),
                {
                    "product": catalogue["terminal"].pk,
                    "customer_level": "A",
                    "channel_tier": "direct",
                    "on": "2026-03-04",
                    "quantity": "10",
                },
            )
        )
        assert "10,500.00" in page and "A 类客户价 2026" in page and "12.50% off list" in page


class TestCategoryPages:
    def test_create_and_errors(self, personas, catalogue, as_user):
        client = as_user(personas.manager)
        response = client.post(reverse("sales:category_list"), {"code": "devices", "name": "重复"})
        assert "is already used by 智能终端" in text(response)
        response = client.post(
            reverse("sales:category_list"), {"code": "network", "name": "网络设备", "active": "on"}
        )
        assert response.status_code == 302

    def test_a_salesperson_sees_but_cannot_post(self, personas, catalogue, as_user):
        client = as_user(personas.sales1)
        assert "智能终端" in text(client.get(reverse("sales:category_list")))
        assert (
            client.post(reverse("sales:category_list"), {"code": "x", "name": "x"}).status_code
            == 403
        )


class TestPriceListPages:
    def test_list_and_detail_in_both_languages(self, personas, catalogue, as_user):
        price_list = catalogue["key_accounts"]
        for language, words in [("en", "From quantity"), ("zh-hans", 'lang="zh-hans"')]:
            client = as_user(personas.sales1, language)
            assert "A 类客户价 2026" in text(client.get(reverse("sales:price_list_list")))
            page = text(client.get(reverse("sales:price_list_detail", args=[price_list.pk])))
            assert words in page and "10,500.00" in page

    def test_create_with_bad_dates_shows_the_error(self, personas, as_user):
        response = as_user(personas.manager).post(
            reverse("sales:price_list_create"),
            {"name": "错误", "valid_from": "2026-06-01", "valid_to": "2026-05-01", "priority": 10},
        )
        assert "The end date cannot be before the start date." in text(response)
        assert not PriceList.objects.exists()

    def test_create_then_add_prices(self, personas, catalogue, as_user):
        client = as_user(personas.manager)
        response = client.post(
            reverse("sales:price_list_create"),
            {
                "name": "2026 一级经销商价",
                "channel_tier": "tier1",
                "valid_from": "2026-01-01",
                "valid_to": "2026-12-31",
                "priority": 20,
                "active": "on",
            },
        )
        price_list = PriceList.objects.get(name="2026 一级经销商价")
        assert response.url == price_list.get_absolute_url()
        add = reverse("sales:price_list_item_add", args=[price_list.pk])
        client.post(add, {"product": catalogue["gateway"].pk, "min_quantity": "1", "price": "2800"})
        response = client.post(
            add, {"product": catalogue["gateway"].pk, "min_quantity": "1", "price": "2700"}
        )
        assert "already has a price for GW-20" in text(response)
        assert list(price_list.items.values_list("price", flat=True)) == [Decimal("2800.00")]

    def test_inline_price_change_and_removal(self, personas, catalogue, as_user):
        client = as_user(personas.manager)
        item = catalogue["terminal"].prices.get(min_quantity=1)
        url = reverse("sales:price_list_item_edit", args=[item.price_list_id, item.pk])
        client.post(url, {"price": "10999", "min_quantity": "1"})
        item.refresh_from_db()
        assert item.price == Decimal("10999.00")
        response = client.post(url, {"price": "-1", "min_quantity": "1"}, follow=True)
        assert "Enter an amount of zero or more." in text(response)
        client.post(reverse("sales:price_list_item_delete", args=[item.price_list_id, item.pk]))
        assert not type(item).objects.filter(pk=item.pk).exists()

    def test_an_item_of_another_list_is_a_404(self, personas, catalogue, as_user):
        other = services.price_list_create(
            actor=personas.manager, name="其他", valid_from=catalogue["key_accounts"].valid_from
        )
        item = catalogue["terminal"].prices.first()
        url = reverse("sales:price_list_item_delete", args=[other.pk, item.pk])
        assert as_user(personas.manager).post(url).status_code == 404

    def test_copy(self, personas, catalogue, as_user):
        response = as_user(personas.manager).post(
            reverse("sales:price_list_copy", args=[catalogue["key_accounts"].pk]),
            {"name": "2027 A 类客户价", "valid_from": "2027-01-01", "percent": "5"},
        )
        copy = PriceList.objects.get(name="2027 A 类客户价")
        assert response.url == copy.get_absolute_url() and copy.items.count() == 2

    def test_export_of_a_lists_items(self, personas, catalogue, as_user):
        response = as_user(personas.manager).get(
            reverse("sales:price_list_export", args=[catalogue["key_accounts"].pk])
        )
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet.max_row == 3


class TestAuthorityAndSettingsPages:
    def test_the_administrator_sets_a_roles_discount(self, personas, as_user):
        role = Role.objects.get(code="group_leader")
        client = as_user(personas.admin)
        response = client.post(
            reverse("sales:discount_authorities"), {"role": role.pk, "max_discount": "10"}
        )
        assert response.status_code == 302
        assert DiscountAuthority.objects.get(role=role).max_discount == Decimal("10.00")
        page = text(client.get(reverse("sales:discount_authorities")))
        assert "10.00%" in page

    def test_role_and_person_together_is_an_error(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("sales:discount_authorities"),
            {
                "role": Role.objects.get(code="salesperson").pk,
                "user": personas.sales1.pk,
                "max_discount": "10",
            },
        )
        assert "Choose either a role or a person, not both." in text(response)
        response = as_user(personas.admin).post(
            reverse("sales:discount_authorities"),
            {"user": personas.sales1.pk, "max_discount": "120"},
        )
        assert 'data-field="max_discount"' in text(response)
        assert not DiscountAuthority.objects.exists()

    def test_settings_form_saves_and_shows_errors(self, personas, sales_settings, as_user):
        client = as_user(personas.admin)
        values = {
            "default_max_discount": "6",
            "approval_amount": "150000",
            "receipt_approval": "on",
            "credit_mode": "block",
            "delivery_alert_days": "4",
        }
        assert client.post(reverse("sales:sales_settings"), values).status_code == 302
        row = SalesSettings.objects.get()
        assert (row.default_max_discount, row.receipt_approval, row.credit_mode) == (
            Decimal("6.00"),
            True,
            "block",
        )
        response = client.post(reverse("sales:sales_settings"), {**values, "approval_amount": "-1"})
        assert 'data-field="approval_amount"' in text(response)
        zh = text(as_user(personas.admin, "zh-hans").get(reverse("sales:sales_settings")))
        assert 'lang="zh-hans"' in zh and 'name="credit_mode"' in zh
