"""The writes of products and prices (sales/services/products.py) and the selectors the
orders part relies on: who may, every rule, and that a refused write changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.core.timeline import timeline_entries
from marketdesk.org.models import Role
from marketdesk.sales import selectors_products as selectors
from marketdesk.sales.models import (
    DiscountAuthority,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    ProductStatus,
    SalesSettings,
)
from marketdesk.sales.services import products as services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

D = datetime.date


def fields_of(exc: ValidationError) -> dict:
    return exc.value.message_dict


def new_product(actor, category, **overrides):
    values = {
        "code": "ZT-300",
        "name": "智联工业平板 ZT-300",
        "category": category,
        "unit": "台",
        "spec": "12 英寸",
        "list_price": Decimal("9800.00"),
        "cost": Decimal("6000.00"),
    }
    values.update(overrides)
    return services.product_create(actor=actor, **values)


@pytest.fixture
def devices(catalogue):
    return catalogue["terminal"].category


class TestProductCreate:
    def test_the_marketing_manager_creates_a_product(self, personas, devices):
        product = new_product(personas.manager, devices)
        assert product.pk and product.status == ProductStatus.ACTIVE
        assert product.created_by == personas.manager
        assert product.history.first().history_user == personas.manager

    @pytest.mark.parametrize("who", ["sales1", "leader1", "finance", "management", "outsider"])
    def test_others_may_not(self, personas, devices, who):
        with pytest.raises(PermissionDenied):
            new_product(getattr(personas, who), devices)
        assert not Product.objects.filter(code="ZT-300").exists()

    def test_a_product_code_is_unique_with_a_clear_error(self, personas, catalogue, devices):
        with pytest.raises(ValidationError) as exc:
            new_product(personas.manager, devices, code="zt-100")  # any case
        assert fields_of(exc) == {
            "code": ['The product code "zt-100" is already used by 智联终端 ZT-100.']
        }
        assert Product.objects.count() == 3

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("list_price", Decimal("-1"), "Enter an amount of zero or more."),
            ("cost", Decimal("-0.01"), "Enter an amount of zero or more."),
            ("list_price", Decimal("1.005"), "Enter an amount with at most two decimal places."),
            ("list_price", "abc", "Enter a number."),
            ("list_price", None, "This field is required."),
        ],
    )
    def test_prices_are_decimals_of_zero_or_more(self, personas, devices, field, value, message):
        with pytest.raises(ValidationError) as exc:
            new_product(personas.manager, devices, **{field: value})
        assert fields_of(exc) == {field: [message]}
        assert not Product.objects.filter(code="ZT-300").exists()

    def test_prices_are_stored_as_decimals_with_two_places(self, personas, devices):
        product = new_product(personas.manager, devices, list_price="12,800", cost=0.1)
        product.refresh_from_db()
        assert product.list_price == Decimal("12800.00") and product.cost == Decimal("0.10")
        assert isinstance(product.list_price, Decimal)

    def test_a_free_product_is_allowed(self, personas, devices):
        assert new_product(personas.manager, devices, list_price=0).list_price == 0

    def test_blank_required_fields_name_the_field(self, personas, devices):
        with pytest.raises(ValidationError) as exc:
            new_product(personas.manager, devices, name="  ", unit="")
        assert set(fields_of(exc)) == {"name", "unit"}

    def test_an_inactive_category_is_refused(self, personas, devices):
        devices.active = False
        devices.save()
        with pytest.raises(ValidationError) as exc:
            new_product(personas.manager, devices)
        assert "category" in fields_of(exc)


class TestProductUpdate:
    def test_it_changes_fields_and_keeps_history(self, personas, catalogue):
        product = services.product_update(
            actor=personas.manager, product=catalogue["gateway"], list_price=Decimal("3600")
        )
        assert product.list_price == Decimal("3600.00")
        assert product.history.first().history_user == personas.manager

    def test_changing_to_a_used_code_is_refused(self, personas, catalogue):
        with pytest.raises(ValidationError) as exc:
            services.product_update(
                actor=personas.manager, product=catalogue["gateway"], code="ZT-100"
            )
        assert "code" in fields_of(exc)
        catalogue["gateway"].refresh_from_db()
        assert catalogue["gateway"].code == "GW-20"

    def test_an_unknown_field_is_refused(self, personas, catalogue):
        with pytest.raises(ValidationError) as exc:
            services.product_update(
                actor=personas.manager, product=catalogue["gateway"], created_by=None
            )
        assert "created_by" in fields_of(exc)

    def test_a_salesperson_may_not_change_a_product(self, personas, catalogue):
        with pytest.raises(PermissionDenied):
            services.product_update(
                actor=personas.sales1, product=catalogue["gateway"], list_price=Decimal("1")
            )

    def test_discontinuing_takes_the_product_off_new_orders(self, personas, catalogue):
        services.product_set_status(
            actor=personas.manager, product=catalogue["gateway"], status="discontinued"
        )
        offered = selectors.orderable_products(personas.sales1)
        assert set(offered.values_list("code", flat=True)) == {"ZT-100", "SaaS-Y"}
        assert not selectors.is_orderable(catalogue["gateway"])
        assert selectors.is_orderable(catalogue["terminal"])


class TestOrderableProducts:
    def test_only_products_on_sale_in_an_active_category(self, personas, catalogue):
        services.product_set_status(
            actor=personas.manager, product=catalogue["gateway"], status="inactive"
        )
        software = catalogue["platform"].category
        services.category_update(actor=personas.manager, category=software, active=False)
        assert list(selectors.orderable_products(personas.sales1)) == [catalogue["terminal"]]

    def test_someone_without_product_or_order_rights_gets_nothing(self, personas, catalogue):
        assert not selectors.orderable_products(personas.outsider).exists()

    def test_the_picker_search_matches_code_name_and_spec(self, personas, catalogue):
        def codes(text):
            found = selectors.product_search(actor=personas.sales1, text=text)
            return [p.code for p in found]

        assert codes("zt-1") == ["ZT-100"]
        assert codes("网关") == ["GW-20"]
        assert codes("16 GB") == ["ZT-100"]
        assert codes("") == ["GW-20", "SaaS-Y", "ZT-100"]


class TestCategories:
    def test_create_and_a_clear_error_for_a_used_code(self, personas, catalogue):
        services.category_create(actor=personas.manager, code="network", name="网络设备")
        with pytest.raises(ValidationError) as exc:
            services.category_create(actor=personas.manager, code="Network", name="另一个")
        assert fields_of(exc) == {
            "code": ['The category code "Network" is already used by 网络设备.']
        }

    def test_a_category_cannot_sit_inside_its_own_sub_category(self, personas, catalogue):
        parent = catalogue["terminal"].category
        child = services.category_create(
            actor=personas.manager, code="tablets", name="平板", parent=parent
        )
        with pytest.raises(ValidationError) as exc:
            services.category_update(actor=personas.manager, category=parent, parent=child)
        assert "parent" in fields_of(exc)
        parent.refresh_from_db()
        assert parent.parent is None

    def test_a_salesperson_may_not_create_categories(self, personas, catalogue):
        with pytest.raises(PermissionDenied):
            services.category_create(actor=personas.sales1, code="x", name="X")


class TestPriceLists:
    def test_the_manager_creates_a_dated_list(self, personas):
        price_list = services.price_list_create(
            actor=personas.manager,
            name="2026 年中促销价",
            valid_from=D(2026, 6, 1),
            valid_to=D(2026, 7, 31),
            priority=30,
        )
        assert price_list.history.first().history_user == personas.manager

    def test_the_end_cannot_be_before_the_start(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.price_list_create(
                actor=personas.manager,
                name="错误",
                valid_from=D(2026, 6, 1),
                valid_to=D(2026, 5, 31),
            )
        assert fields_of(exc) == {"valid_to": ["The end date cannot be before the start date."]}
        assert not PriceList.objects.filter(name="错误").exists()

    def test_a_one_day_list_is_fine(self, personas):
        services.price_list_create(
            actor=personas.manager,
            name="双十一",
            valid_from=D(2026, 11, 11),
            valid_to=D(2026, 11, 11),
        )

    def test_updating_dates_is_checked_too(self, personas, catalogue):
        with pytest.raises(ValidationError) as exc:
            services.price_list_update(
                actor=personas.manager,
                price_list=catalogue["key_accounts"],
                valid_to=D(2025, 12, 31),
            )
        assert "valid_to" in fields_of(exc)

    @pytest.mark.parametrize("who", ["sales1", "leader1", "promo", "finance", "admin"])
    def test_only_price_list_managers_change_lists(self, personas, who):
        with pytest.raises(PermissionDenied):
            services.price_list_create(
                actor=getattr(personas, who), name="X", valid_from=D(2026, 1, 1)
            )


class TestPriceListItems:
    def test_an_item_is_unique_per_list_product_and_from_quantity(self, personas, catalogue):
        with pytest.raises(ValidationError) as exc:
            services.price_list_item_save(
                actor=personas.manager,
                price_list=catalogue["key_accounts"],
                product=catalogue["terminal"],
                min_quantity=Decimal("10"),
                price=Decimal("9999"),
            )
        assert fields_of(exc) == {
            "min_quantity": [
                "This price list already has a price for ZT-100 智联终端 ZT-100 from quantity 10."
            ]
        }
        assert catalogue["terminal"].prices.get(min_quantity=10).price == Decimal("10500.00")

    def test_another_from_quantity_is_a_new_break(self, personas, catalogue):
        item = services.price_list_item_save(
            actor=personas.manager,
            price_list=catalogue["key_accounts"],
            product=catalogue["terminal"],
            min_quantity=Decimal("50"),
            price=Decimal("9800"),
        )
        assert item.pk and catalogue["terminal"].prices.count() == 3

    def test_changing_an_items_price(self, personas, catalogue):
        item = catalogue["terminal"].prices.get(min_quantity=1)
        services.price_list_item_save(
            actor=personas.manager,
            price_list=catalogue["key_accounts"],
            product=catalogue["terminal"],
            item=item,
            price=Decimal("10900"),
        )
        item.refresh_from_db()
        assert item.price == Decimal("10900.00")

    @pytest.mark.parametrize(
        ("field", "value"),
        [("price", Decimal("-1")), ("min_quantity", Decimal("0")), ("price", "12.345")],
    )
    def test_bad_values_name_the_field(self, personas, catalogue, field, value):
        values = {"price": Decimal("100"), "min_quantity": Decimal("5"), field: value}
        with pytest.raises(ValidationError) as exc:
            services.price_list_item_save(
                actor=personas.manager,
                price_list=catalogue["key_accounts"],
                product=catalogue["gateway"],
                **values,
            )
        assert list(fields_of(exc)) == [field]
        assert not catalogue["gateway"].prices.exists()

    def test_a_discontinued_product_gets_no_new_price(self, personas, catalogue):
        services.product_set_status(
            actor=personas.manager, product=catalogue["gateway"], status="discontinued"
        )
        with pytest.raises(ValidationError) as exc:
            services.price_list_item_save(
                actor=personas.manager,
                price_list=catalogue["key_accounts"],
                product=catalogue["gateway"],
                price=Decimal("3000"),
            )
        assert "product" in fields_of(exc)

    def test_item_changes_show_on_the_price_lists_timeline(self, personas, catalogue):
        price_list = catalogue["key_accounts"]
        item = services.price_list_item_save(
            actor=personas.manager,
            price_list=price_list,
            product=catalogue["gateway"],
            price=Decimal("3300"),
        )
        services.price_list_item_save(
            actor=personas.manager,
            price_list=price_list,
            product=catalogue["gateway"],
            item=item,
            price=Decimal("3200"),
        )
        services.price_list_item_delete(actor=personas.manager, item=item)
        changes = [
            (entry.who, change)
            for entry in timeline_entries(price_list)
            if entry.kind == "changed"
            for change in entry.changes
        ]
        assert (personas.manager, ("Price GW-20 ≥1", "—", "¥3,300.00")) in changes
        assert (personas.manager, ("Price GW-20 ≥1", "¥3,300.00", "¥3,200.00")) in changes
        assert (personas.manager, ("Price GW-20 ≥1", "¥3,200.00", "—")) in changes

    def test_a_salesperson_may_not_change_prices(self, personas, catalogue):
        item = catalogue["terminal"].prices.first()
        with pytest.raises(PermissionDenied):
            services.price_list_item_delete(actor=personas.sales1, item=item)
        assert PriceListItem.objects.filter(pk=item.pk).exists()


class TestPriceListCopy:
    def test_a_copy_has_every_price_changed_and_starts_inactive(self, personas, catalogue):
        copy = services.price_list_copy(
            actor=personas.manager,
            source=catalogue["key_accounts"],
            name="2027 A 类客户价",
            valid_from=D(2027, 1, 1),
            valid_to=D(2027, 12, 31),
            percent=Decimal("3"),
        )
        assert not copy.active and copy.customer_level == "A" and copy.priority == 20
        prices = sorted(copy.items.values_list("min_quantity", "price"))
        assert prices == [
            (Decimal("1.00"), Decimal("11330.00")),
            (Decimal("10.00"), Decimal("10815.00")),
        ]

    def test_an_absurd_change_is_refused(self, personas, catalogue):
        with pytest.raises(ValidationError) as exc:
            services.price_list_copy(
                actor=personas.manager,
                source=catalogue["key_accounts"],
                name="X",
                valid_from=D(2027, 1, 1),
                percent=Decimal("-95"),
            )
        assert "percent" in fields_of(exc)
        assert PriceList.objects.count() == 1


class TestDiscountAuthority:
    def test_the_administrator_sets_a_roles_authority_once(self, personas):
        role = Role.objects.get(code="salesperson")
        services.discount_authority_save(actor=personas.admin, role=role, max_discount=5)
        services.discount_authority_save(actor=personas.admin, role=role, max_discount="6.5")
        assert DiscountAuthority.objects.get().max_discount == Decimal("6.50")

    def test_a_person_row(self, personas):
        row = services.discount_authority_save(
            actor=personas.manager, user=personas.sales1, max_discount=Decimal("8")
        )
        assert row.user == personas.sales1 and row.role is None

    @pytest.mark.parametrize("value", [Decimal("-1"), Decimal("100.01"), "x"])
    def test_the_percentage_is_between_0_and_100(self, personas, value):
        with pytest.raises(ValidationError) as exc:
            services.discount_authority_save(
                actor=personas.admin, user=personas.sales1, max_discount=value
            )
        assert "max_discount" in fields_of(exc)

    def test_a_role_or_a_person_not_both(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.discount_authority_save(
                actor=personas.admin,
                user=personas.sales1,
                role=Role.objects.get(code="salesperson"),
                max_discount=Decimal("5"),
            )
        assert "role" in fields_of(exc)
        with pytest.raises(ValidationError):
            services.discount_authority_save(actor=personas.admin, max_discount=Decimal("5"))

    @pytest.mark.parametrize("who", ["sales1", "leader1", "finance"])
    def test_others_may_not(self, personas, who):
        with pytest.raises(PermissionDenied):
            services.discount_authority_save(
                actor=getattr(personas, who), user=personas.sales1, max_discount=Decimal("50")
            )

    def test_delete(self, personas):
        row = services.discount_authority_save(
            actor=personas.admin, user=personas.sales1, max_discount=Decimal("8")
        )
        services.discount_authority_delete(actor=personas.admin, authority=row)
        assert not DiscountAuthority.objects.exists()


class TestSalesSettings:
    def test_the_administrator_changes_the_settings(self, personas, sales_settings):
        row = services.sales_settings_update(
            actor=personas.admin,
            default_max_discount=Decimal("4"),
            approval_amount=Decimal("300000"),
            receipt_approval=True,
            credit_mode="block",
            delivery_alert_days=5,
        )
        assert (row.default_max_discount, row.approval_amount, row.credit_mode) == (
            Decimal("4.00"),
            Decimal("300000.00"),
            "block",
        )
        assert row.receipt_approval and row.delivery_alert_days == 5

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("default_max_discount", Decimal("101")),
            ("approval_amount", Decimal("-1")),
            ("credit_mode", "maybe"),
            ("pk", 2),
        ],
    )
    def test_bad_values_change_nothing(self, personas, sales_settings, field, value):
        with pytest.raises(ValidationError) as exc:
            services.sales_settings_update(
                actor=personas.manager, delivery_alert_days=9, **{field: value}
            )
        assert field in fields_of(exc)
        assert SalesSettings.objects.get().delivery_alert_days == 3

    def test_a_salesperson_may_not(self, personas, sales_settings):
        with pytest.raises(PermissionDenied):
            services.sales_settings_update(actor=personas.sales1, delivery_alert_days=1)


class TestVisibility:
    @pytest.mark.parametrize(
        ("who", "products", "prices", "cost"),
        [
            ("sales1", True, True, False),
            ("leader1", True, True, False),
            ("manager", True, True, True),
            ("finance", True, False, False),
            ("promo", True, True, False),
            ("service", True, False, False),
            ("management", True, True, False),
            ("outsider", False, False, False),
        ],
    )
    def test_who_sees_products_prices_and_cost(
        self, personas, catalogue, who, products, prices, cost
    ):
        actor = getattr(personas, who)
        assert selectors.product_list(actor=actor).exists() is products
        assert selectors.price_list_list(actor=actor).exists() is prices
        assert selectors.can_see_cost(actor) is cost

    def test_categories_need_the_view_permission(self, personas, catalogue):
        assert ProductCategory.objects.count() == 2
        assert not selectors.category_list(actor=personas.outsider).exists()
        assert selectors.category_list(actor=personas.sales1).count() == 2
