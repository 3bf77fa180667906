"""Fixtures of the opportunity tests (imported by the test_opportunities_* modules): the company
default stage group and 销售二组's own group, four competitors, a customer per salesperson, and
`make_opp` to open an opportunity as a persona through the service."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from marketdesk.crm import services as crm_services
from marketdesk.sales.models import Stage, StageGroup
from marketdesk.sales.services import opportunities as services

DEFAULT_STAGES = [
    ("初步接洽", 10),
    ("需求确认", 30),
    ("方案报价", 50),
    ("商务谈判", 70),
    ("合同签订", 90),
]
S2_STAGES = [("线索确认", 10), ("方案报价", 40), ("招投标", 60), ("商务谈判", 80)]


def stage_rows(rows):
    return [
        {"name": name, "win_percent": percent, "sort_order": index}
        for index, (name, percent) in enumerate(rows, start=1)
    ]


def stage(group: StageGroup, name: str) -> Stage:
    return group.stages.get(name=name)


@pytest.fixture
def root(sales_personas):
    return get_user_model().objects.get(username="system")


@pytest.fixture
def groups(sales_personas, root) -> dict[str, StageGroup]:
    default = services.stage_group_save(
        actor=root, name="标准销售阶段", department=None, stages=stage_rows(DEFAULT_STAGES)
    )
    s2 = services.stage_group_save(
        actor=root,
        name="项目型（二组）",
        department=sales_personas.units["S2"],
        stages=stage_rows(S2_STAGES),
    )
    return {"default": default, "s2": s2}


@pytest.fixture
def rivals(root):
    return {
        name: services.competitor_save(actor=root, name=name)
        for name in ("华为", "新华三", "浪潮", "锐捷")
    }


def _customer(owner, name, mobile):
    made = crm_services.customer_create(
        actor=owner, kind="company", name=name, level="B", province="上海市", city="上海市"
    )
    crm_services.contact_create(
        actor=owner, customer=made, name=f"{name[:2]}联系人", mobile=mobile, is_primary=True
    )
    return made


@pytest.fixture
def customers(customer, sales_personas):
    """One customer per salesperson: s1 (王芳, the conftest customer), s1b (孙浩), s2 (吴涛)."""
    return {
        "s1": customer,
        "s1b": _customer(sales_personas.sales1b, "苏州恒通精密机械有限公司", "13911112222"),
        "s2": _customer(sales_personas.sales2, "宁波博远电子科技有限公司", "13933334444"),
    }


CUSTOMER_OF = {
    "sales1": "s1",
    "leader1": "s1",
    "manager": "s1",
    "sales1b": "s1b",
    "sales2": "s2",
    "leader2": "s2",
}


@pytest.fixture
def make_opp(sales_personas, groups, customers):
    """make_opp(who="sales1", amount="100000.00", **fields) -> an opportunity made by `who` on
    their group's customer."""

    def make(who: str = "sales1", amount: str = "100000.00", **fields):
        actor = getattr(sales_personas, who)
        fields.setdefault("customer", customers[CUSTOMER_OF[who]])
        fields.setdefault("name", f"{who} 的商机")
        return services.opportunity_create(actor=actor, expected_amount=Decimal(amount), **fields)

    return make
