"""The demo step of products and prices (sales.products, step 50) on top of the organisation."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from marketdesk.core import demo
from marketdesk.sales import pricing
from marketdesk.sales.models import DiscountAuthority, PriceList, Product, ProductCategory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_and_products_only(monkeypatch):
    wanted = {
        name: step
        for name, step in demo._steps.items()
        if name in ("organisation", "sales.products")
    }
    monkeypatch.setattr(demo, "_steps", wanted)


def test_the_demo_builds_the_catalogue_prices_and_authorities(org_and_products_only):
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "sales.products: 4 categories, 15 products, 6 price lists" in out.getvalue()
    assert set(ProductCategory.objects.values_list("name", flat=True)) == {
        "智能终端",
        "网络设备",
        "软件服务",
        "实施服务",
    }
    assert set(Product.objects.values_list("unit", flat=True)) == {"台", "套", "项", "年"}
    assert Product.objects.filter(status="discontinued").count() == 1
    assert PriceList.objects.filter(
        name="2026 年中促销价", valid_to=datetime.date(2026, 7, 31)
    ).exists()
    assert DiscountAuthority.objects.count() == 3

    terminal = Product.objects.get(code="ZT-100")
    summer = pricing.price_for(
        product=terminal, customer_level="B", channel_tier="direct", on=datetime.date(2026, 6, 18)
    )
    assert (summer.unit_price, summer.price_list.name) == (Decimal("6200.00"), "2026 年中促销价")
    dealer = pricing.price_for(
        product=terminal,
        customer_level="",
        channel_tier="tier1",
        on=datetime.date(2026, 3, 1),
        quantity=Decimal("60"),
    )
    assert dealer.unit_price == Decimal("4900.00")
    users = {u.username: u for u in get_user_model().objects.all()}
    assert pricing.max_discount_for(users["zhangwei"]) == Decimal("20.00")
    assert pricing.max_discount_for(users["wangfang"]) == Decimal("5.00")


def test_running_it_again_changes_nothing(org_and_products_only):
    call_command("demo", stdout=io.StringIO())
    from marketdesk.sales.demo.products import build_products

    assert build_products() == "skipped"
    assert Product.objects.count() == 15
