"""The price an order line gets (`pricing.price_for`) and the discount a person may give
without approval (`pricing.max_discount_for`): the rules of issue 5, one test each."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdesk.org.models import Role
from marketdesk.sales import pricing
from marketdesk.sales.models import DiscountAuthority, PriceList, PriceListItem

from .conftest import TODAY

pytestmark = pytest.mark.django_db

D = datetime.date


def make_list(name="L", *, level="", tier="", start=None, end=None, priority=10, active=True):
    return PriceList.objects.create(
        name=name,
        customer_level=level,
        channel_tier=tier,
        valid_from=start or D(2026, 1, 1),
        valid_to=end,
        priority=priority,
        active=active,
    )


def add(price_list, product, price, quantity="1"):
    return PriceListItem.objects.create(
        price_list=price_list, product=product, min_quantity=Decimal(quantity), price=Decimal(price)
    )


def quote(product, *, level="A", tier="direct", on=TODAY, quantity="1"):
    return pricing.price_for(
        product=product,
        customer_level=level,
        channel_tier=tier,
        on=on,
        quantity=Decimal(quantity),
    )


class TestPriceFor:
    def test_a_matching_level_and_tier_list_gives_its_price(self, catalogue):
        price = quote(catalogue["terminal"])
        assert price.unit_price == Decimal("11000.00")
        assert price.list_price == Decimal("12000.00")
        assert price.price_list == catalogue["key_accounts"]

    def test_another_level_does_not_get_the_a_list(self, catalogue):
        price = quote(catalogue["terminal"], level="B")
        assert price.unit_price == Decimal("12000.00")
        assert price.price_list is None

    def test_another_tier_does_not_get_the_direct_list(self, catalogue):
        assert quote(catalogue["terminal"], tier="tier1").price_list is None

    def test_a_blank_level_and_tier_list_applies_to_anyone(self, catalogue):
        standard = make_list("标准价")
        add(standard, catalogue["gateway"], "3300")
        for level, tier in [("A", "direct"), ("C", "tier2"), ("", "retail")]:
            assert quote(catalogue["gateway"], level=level, tier=tier).unit_price == Decimal("3300")

    def test_a_blank_customer_level_only_gets_lists_open_to_any_level(self, catalogue):
        assert quote(catalogue["terminal"], level="").price_list is None

    def test_the_higher_priority_wins(self, catalogue):
        promo = make_list("促销", priority=30)
        add(promo, catalogue["terminal"], "10000")
        assert quote(catalogue["terminal"]).unit_price == Decimal("10000")

    def test_at_equal_priority_the_more_specific_list_wins(self, catalogue):
        general = make_list("通用", priority=20, start=D(2026, 2, 1))  # newer, less specific
        add(general, catalogue["terminal"], "11500")
        assert quote(catalogue["terminal"]).price_list == catalogue["key_accounts"]

    def test_at_equal_priority_and_specificity_the_newest_wins(self, catalogue):
        newer = make_list("新 A 价", level="A", tier="direct", priority=20, start=D(2026, 2, 1))
        add(newer, catalogue["terminal"], "10800")
        assert quote(catalogue["terminal"]).unit_price == Decimal("10800")

    def test_a_list_outside_its_dates_is_ignored(self, catalogue):
        summer = make_list("年中促销", priority=30, start=D(2026, 6, 1), end=D(2026, 7, 31))
        add(summer, catalogue["terminal"], "9900")
        assert quote(catalogue["terminal"], on=D(2026, 5, 31)).unit_price == Decimal("11000")
        assert quote(catalogue["terminal"], on=D(2026, 6, 1)).unit_price == Decimal("9900")
        assert quote(catalogue["terminal"], on=D(2026, 7, 31)).unit_price == Decimal("9900")
        assert quote(catalogue["terminal"], on=D(2026, 8, 1)).unit_price == Decimal("11000")

    def test_quantity_breaks_take_the_largest_from_quantity_reached(self, catalogue):
        assert quote(catalogue["terminal"], quantity="9").unit_price == Decimal("11000")
        assert quote(catalogue["terminal"], quantity="10").unit_price == Decimal("10500")
        assert quote(catalogue["terminal"], quantity="500").unit_price == Decimal("10500")

    def test_a_list_without_a_price_at_this_quantity_lets_the_next_list_apply(self, catalogue):
        bulk = make_list("大客户批量", priority=40)
        add(bulk, catalogue["terminal"], "9000", quantity="100")
        assert quote(catalogue["terminal"], quantity="5").unit_price == Decimal("11000")
        assert quote(catalogue["terminal"], quantity="100").unit_price == Decimal("9000")

    def test_a_list_without_the_product_lets_the_next_list_apply(self, catalogue):
        promo = make_list("促销", priority=30)
        add(promo, catalogue["gateway"], "3000")
        assert quote(catalogue["terminal"]).price_list == catalogue["key_accounts"]

    def test_an_inactive_list_is_ignored(self, catalogue):
        catalogue["key_accounts"].active = False
        catalogue["key_accounts"].save()
        assert quote(catalogue["terminal"]).unit_price == Decimal("12000")

    def test_without_any_item_the_list_price_applies(self, catalogue):
        price = quote(catalogue["platform"])
        assert price == pricing.Price(Decimal("50000.00"), Decimal("50000.00"), None)

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(quantity=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2))
    def test_any_quantity_gets_its_break_or_the_list_price(self, catalogue, quantity):
        """Read-only, so the fixture may be shared between examples."""
        price = quote(catalogue["terminal"], quantity=str(quantity)).unit_price
        if quantity >= 10:
            assert price == Decimal("10500")
        elif quantity >= 1:
            assert price == Decimal("11000")
        else:  # below the first break no item applies
            assert price == Decimal("12000")


class TestMaxDiscountFor:
    def test_without_any_row_the_settings_default_applies(self, personas, sales_settings):
        sales_settings.default_max_discount = Decimal("3.00")
        sales_settings.save()
        assert pricing.max_discount_for(personas.sales1) == Decimal("3.00")
        assert pricing.authority_for(personas.sales1).source == "default"

    def test_a_role_row_applies_to_its_holders(self, personas):
        DiscountAuthority.objects.create(
            role=Role.objects.get(code="salesperson"), max_discount=Decimal("5")
        )
        assert pricing.max_discount_for(personas.sales1) == Decimal("5")
        assert pricing.max_discount_for(personas.finance) == Decimal("5.00")  # default

    def test_the_best_of_several_roles_applies(self, personas):
        DiscountAuthority.objects.create(
            role=Role.objects.get(code="salesperson"), max_discount=Decimal("5")
        )
        DiscountAuthority.objects.create(
            role=Role.objects.get(code="group_leader"), max_discount=Decimal("10")
        )
        authority = pricing.authority_for(personas.leader1)  # leader and salesperson
        assert authority.max_discount == Decimal("10")
        assert authority.source == "role"

    def test_a_persons_own_row_wins_over_their_roles(self, personas):
        DiscountAuthority.objects.create(
            role=Role.objects.get(code="group_leader"), max_discount=Decimal("10")
        )
        DiscountAuthority.objects.create(user=personas.leader1, max_discount=Decimal("2"))
        assert pricing.max_discount_for(personas.leader1) == Decimal("2")
        assert pricing.authority_for(personas.leader1).source == "user"

    def test_a_role_of_someone_who_left_no_longer_counts(self, personas):
        DiscountAuthority.objects.create(
            role=Role.objects.get(code="salesperson"), max_discount=Decimal("8")
        )
        employee = personas.emp("sales1b")
        employee.status = "left"
        employee.save()
        assert pricing.max_discount_for(personas.sales1b) == Decimal("5.00")

    def test_an_anonymous_user_gets_the_default(self, db):
        from django.contrib.auth.models import AnonymousUser

        assert pricing.max_discount_for(AnonymousUser()) == Decimal("5.00")
