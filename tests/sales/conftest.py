"""Fixtures of the sales tests. The shared personas (tests/conftest.py) plus 物流部 (LOG) with a
coordinator, and 生产部's coordinator; a product catalogue, a price list for A customers and a
customer owned by sales1 (王芳, 销售一组). Each part's tests may add local fixtures in their own
files; keep this file for what several parts share."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from marketdesk.crm import services as crm_services
from marketdesk.org import services as org_services
from marketdesk.org.models import Role
from marketdesk.sales.models import (
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    SalesSettings,
)

TODAY = datetime.date(2026, 3, 4)


@pytest.fixture
def english():
    translation.activate("en")


@pytest.fixture
def sales_personas(personas):
    """personas plus units LOG (物流部) and coordinators prd_coord (生产部) / log_coord (物流部)."""
    root = personas.management.__class__.objects.get(username="system")
    personas.units["LOG"] = org_services.department_create(
        actor=root, name="物流部", code="LOG", kind="department", parent=None
    )
    coordinator = Role.objects.get(code="coordinator")
    for key, name, unit, mobile in [
        ("prd_coord", "陈建国", "PRD", "13900000021"),
        ("log_coord", "何晓东", "LOG", "13900000022"),
    ]:
        personas.employees[key] = org_services.employee_create(
            actor=root,
            username=key,
            name=name,
            department=personas.units[unit],
            mobile=mobile,
            password="Persona-pass-2026",
            roles=[coordinator],
            supervisor=personas.employees["management"],
            hire_date=datetime.date(2021, 5, 1),
        )
    return personas


@pytest.fixture
def catalogue(db):
    """Two categories, three products, and a price list for A-level direct customers."""
    devices = ProductCategory.objects.create(code="devices", name="智能终端")
    software = ProductCategory.objects.create(code="software", name="软件服务")
    products = {
        "terminal": Product.objects.create(
            code="ZT-100",
            name="智联终端 ZT-100",
            category=devices,
            unit="台",
            spec="8 核 / 16 GB",
            list_price=Decimal("12000.00"),
            cost=Decimal("7000.00"),
        ),
        "gateway": Product.objects.create(
            code="GW-20",
            name="边缘网关 GW-20",
            category=devices,
            unit="台",
            list_price=Decimal("3500.00"),
            cost=Decimal("1800.00"),
        ),
        "platform": Product.objects.create(
            code="SaaS-Y",
            name="云平台年费",
            category=software,
            unit="套",
            list_price=Decimal("50000.00"),
            cost=Decimal("10000.00"),
        ),
    }
    key_accounts = PriceList.objects.create(
        name="A 类客户价 2026",
        customer_level="A",
        channel_tier="direct",
        valid_from=datetime.date(2026, 1, 1),
        valid_to=datetime.date(2026, 12, 31),
        priority=20,
    )
    PriceListItem.objects.create(
        price_list=key_accounts, product=products["terminal"], price=Decimal("11000.00")
    )
    PriceListItem.objects.create(
        price_list=key_accounts,
        product=products["terminal"],
        min_quantity=Decimal("10"),
        price=Decimal("10500.00"),
    )
    products["key_accounts"] = key_accounts
    return products


@pytest.fixture
def sales_settings(db) -> SalesSettings:
    return SalesSettings.objects.get_or_create(pk=1)[0]


@pytest.fixture
def customer(sales_personas):
    """An A-level company customer owned by sales1 (王芳, 销售一组), with a primary contact."""
    customer = crm_services.customer_create(
        actor=sales_personas.sales1,
        kind="company",
        name="杭州西湖数码科技有限公司",
        level="A",
        province="浙江省",
        city="杭州市",
        source="exhibition",
    )
    crm_services.contact_create(
        actor=sales_personas.sales1,
        customer=customer,
        name="钱进",
        mobile="13812345678",
        is_primary=True,
    )
    return customer


@pytest.fixture
def region_tree(sales_personas, customer):
    """A deeper branch of 营销部 for the dashboard's unit grid: 华东大区 > 上海分公司 > 销售三组,
    with an order of 400.00 by sales2 (吴涛) booked in 销售三组 in March 2026 and a 2026
    order-amount target of 100.00 a month for 上海分公司. Returns the three units by key."""
    from marketdesk.sales.models import TargetMetric, TargetSubject
    from marketdesk.sales.services import targets as target_services

    from .test_targets_rollups import make_order

    root = sales_personas.management.__class__.objects.get(username="system")
    units = {}
    parent = sales_personas.units["MKT"]
    for key, name, code, kind in [
        ("region", "华东大区", "EAST", "department"),
        ("branch", "上海分公司", "SH", "department"),
        ("group", "销售三组", "SH-S3", "group"),
    ]:
        parent = units[key] = org_services.department_create(
            actor=root, name=name, code=code, kind=kind, parent=parent
        )
    for employee in sales_personas.employees.values():
        employee.user.__dict__.pop("_scope_cache", None)  # scopes now cover the new units
    make_order(
        customer=customer,
        owner=sales_personas.sales2,
        department=units["group"],
        order_date=datetime.date(2026, 3, 12),
        total="400.00",
    )
    target_services.target_create(
        actor=sales_personas.manager,
        year=2026,
        metric=TargetMetric.ORDER_AMOUNT,
        subject=TargetSubject.DEPARTMENT,
        department=units["branch"],
        months=[Decimal("100.00")] * 12,
    )
    target_services.rollups_process()
    return units
