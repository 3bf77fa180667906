"""A sales order in the browser, end to end (issue 5, R4.2.2): 王芳 enters an order whose
discount is above her authority and submits it; 李强 approves it in his inbox and 张伟 on the
order page, so it is confirmed and the production and logistics tasks appear; 何晓东 of 物流部
ships it in two parts (partly shipped, then shipped); 王芳 registers a receipt; and her 2026
targets show this month's order amount and receipts achieved once the `sales.rollups` job has
run."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import (
    ApprovalRequest,
    ApproverKind,
    NoApprover,
    SelfApproval,
    StepMode,
)
from marketdesk.crm import services as crm_services
from marketdesk.org import services as org_services
from marketdesk.org.models import Role
from marketdesk.sales.models import (
    OrderStatus,
    Product,
    ProductCategory,
    Receipt,
    SalesOrder,
    SalesSettings,
    TargetMetric,
    TargetSubject,
)
from marketdesk.sales.rollups import rollups_process
from marketdesk.sales.services import targets as target_services
from tests.conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips these tests and says why
    expect = None

pytestmark = pytest.mark.browser

CUSTOMER = "杭州西湖数码科技有限公司"
ORDER_TARGET = Decimal("50000.00")  # a month, for order amount
RECEIPT_TARGET = Decimal("40000.00")  # a month, for receipts


@pytest.fixture
def sales_setup(e2e_personas):
    """物流部 with its coordinator 何晓东, two products, 王芳's A customer, receipts without
    approval, the order approval flow (group leader, then the marketing manager) and 王芳's
    person targets of this year."""
    people, units = e2e_personas, e2e_personas.units
    root = people.management.__class__.objects.get(username="system")
    units["LOG"] = org_services.department_create(
        actor=root, name="物流部", code="LOG", kind="department", parent=None
    )
    people.employees["log_coord"] = org_services.employee_create(
        actor=root,
        username="log_coord",
        name="何晓东",
        department=units["LOG"],
        mobile="13900000022",
        password=PASSWORD,
        roles=[Role.objects.get(code="coordinator")],
        supervisor=people.employees["management"],
        hire_date=datetime.date(2021, 5, 1),
    )
    devices = ProductCategory.objects.create(code="devices", name="智能终端")
    products = {
        "terminal": Product.objects.create(
            code="ZT-100",
            name="智联终端 ZT-100",
            category=devices,
            unit="台",
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
    }
    settings = SalesSettings.objects.get_or_create(pk=1)[0]
    settings.receipt_approval = False
    settings.save()
    customer = crm_services.customer_create(
        actor=people.sales1,
        kind="company",
        name=CUSTOMER,
        level="A",
        province="浙江省",
        city="杭州市",
        source="exhibition",
    )
    crm_services.contact_create(
        actor=people.sales1, customer=customer, name="钱进", mobile="13812345678", is_primary=True
    )
    approvals.flow_save(
        actor=people.admin,
        flow=None,
        fields={
            "name": "销售订单审批",
            "doc_type": "sales.order",
            "priority": 10,
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 0,
        },
        departments=[],
        cc_users=[],
        steps=[
            {"name": "组长", "approver_kind": ApproverKind.SUPERVISOR, "mode": StepMode.ANY},
            {
                "name": "营销部经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["MKT"],
                "mode": StepMode.ANY,
            },
        ],
    )
    year = timezone.localdate().year
    targets = {
        metric: target_services.target_create(
            actor=people.manager,
            year=year,
            metric=metric,
            subject=TargetSubject.PERSON,
            user=people.sales1,
            months=[amount] * 12,
        )
        for metric, amount in [
            (TargetMetric.ORDER_AMOUNT, ORDER_TARGET),
            (TargetMetric.RECEIPTS, RECEIPT_TARGET),
        ]
    }
    return {"customer": customer, "products": products, "targets": targets}


def month_row(page, target):
    """The row of this month on a target's page: month, target, actual, achievement."""
    page.goto(f"/sales/targets/{target.pk}/")
    expect(page.locator('main[data-view="sales:target_detail"]')).to_be_visible()
    return page.locator("#md-target-months tbody tr").nth(timezone.localdate().month - 1)


def expect_month(page, target, actual: str, achievement: str) -> None:
    cells = month_row(page, target).locator("td")
    expect(cells.nth(2)).to_have_text(actual)
    expect(cells.nth(3)).to_have_text(achievement)


def expect_status(page, status: str) -> None:
    expect(page.locator("#md-order-status")).to_have_attribute("data-status", status)


def ship(page, order, quantities: dict) -> None:
    """Record a delivery from the order page: {order line: quantity or "" to leave it}."""
    page.goto(f"/sales/orders/{order.pk}/")
    page.click("#md-ship-order")
    expect(page.locator("#md-delivery-form")).to_be_visible()
    for line, quantity in quantities.items():
        page.fill(f"#id_line_{line.pk}", quantity)
    page.fill("#id_carrier", "顺丰")
    page.click("#md-save-delivery")
    expect(page.locator('main[data-view="sales:delivery_detail"]')).to_be_visible()


def test_an_order_is_approved_shipped_in_two_parts_and_paid(
    open_page, e2e_personas, sales_setup, sign_in
):
    customer, products = sales_setup["customer"], sales_setup["products"]
    order_target = sales_setup["targets"][TargetMetric.ORDER_AMOUNT]
    receipt_target = sales_setup["targets"][TargetMetric.RECEIPTS]

    # 王芳 reads her targets for this month: nothing achieved yet
    sales = open_page()
    sign_in(sales, "sales1")
    expect_month(sales, order_target, "0.00", "0.0%")
    expect_month(sales, receipt_target, "0.00", "0.0%")

    # ... enters an order with 8 % off the terminals (her authority is 5 %) and submits it
    sales.goto("/sales/orders/new/")
    expect(sales.locator("#md-order-form")).to_be_visible()
    sales.select_option("#id_customer", str(customer.pk))
    expect(sales.locator("#id_contact option", has_text="钱进")).to_have_count(1)
    sales.fill("#id_title", "西湖数码 2026 年终端采购")
    sales.select_option("#id_lines-0-product", str(products["terminal"].pk))
    sales.fill("#id_lines-0-quantity", "2")
    sales.fill("#id_lines-0-discount", "8")
    sales.click("#md-add-line")
    sales.select_option("#id_lines-1-product", str(products["gateway"].pk))
    sales.fill("#id_lines-1-quantity", "4")
    sales.fill("#id_lines-1-discount", "0")
    expect(sales.locator("#md-total")).to_have_text("36,080.00")
    expect(sales.locator(".md-order-line .md-line-over").first).to_be_visible()
    expect(sales.locator("#md-approval-hint")).to_be_visible()
    sales.click("#md-save-submit-order")
    expect(sales.locator('main[data-view="sales:order_detail"]')).to_be_visible()
    expect_status(sales, OrderStatus.IN_APPROVAL)
    expect(sales.locator("#md-approval-reasons")).to_be_visible()
    expect(sales.locator("#md-order-total")).to_have_text("¥36,080.00")
    order = SalesOrder.objects.get(customer=customer)
    assert order.total == Decimal("36080.00")
    approval = ApprovalRequest.objects.get(object_id=order.pk, content_type__model="salesorder")

    # 李强 (group leader) approves it in his inbox row
    leader = open_page()
    sign_in(leader, "leader1")
    leader.goto("/approvals/")
    expect(leader.locator('main[data-view="approvals:inbox"]')).to_be_visible()
    task = approval.tasks.get(approver=e2e_personas.leader1)
    row = leader.locator(f"#task-{task.pk}")
    expect(row).to_contain_text(order.number)
    row.locator("button[data-action=approve]").click()
    expect(leader.locator(f"#task-{task.pk}[data-outcome=approved]")).to_be_visible()

    # 张伟 (marketing manager) decides from the order page; the order is confirmed and the
    # tasks to 生产部 and 物流部 appear
    manager = open_page()
    sign_in(manager, "manager")
    manager.goto(f"/sales/orders/{order.pk}/")
    expect_status(manager, OrderStatus.IN_APPROVAL)
    manager.click(f"#md-order-actions a[href='/approvals/requests/{approval.pk}/']")
    expect(manager.locator("#decide")).to_contain_text("营销部经理")
    manager.fill("#decide textarea[name=comment]", "折扣合理，同意")
    manager.click("#md-approve")
    expect(manager.locator("#md-request-status .badge")).to_have_class("badge text-bg-success")
    manager.goto(f"/sales/orders/{order.pk}/")
    expect_status(manager, OrderStatus.CONFIRMED)
    manager.click("button[data-bs-target='#tab-tasks']")
    expect(manager.locator("#tab-tasks a.list-group-item")).to_have_count(2)
    expect(manager.locator("#tab-tasks")).to_contain_text("物流部")

    # 何晓东 (物流部) finds the logistics task and ships the terminals, then the gateways
    logistics = open_page()
    sign_in(logistics, "log_coord")
    logistics.goto("/sales/tasks/")
    expect(logistics.locator("#md-task-table tbody")).to_contain_text(order.number)
    terminals, gateways = order.lines.order_by("line_no")
    ship(logistics, order, {terminals: "2", gateways: ""})
    logistics.goto(f"/sales/orders/{order.pk}/")
    expect_status(logistics, OrderStatus.PARTLY_SHIPPED)
    ship(logistics, order, {gateways: "4"})
    logistics.goto(f"/sales/orders/{order.pk}/")
    expect_status(logistics, OrderStatus.SHIPPED)
    logistics.click("button[data-bs-target='#tab-deliveries']")
    expect(logistics.locator("#tab-deliveries a.list-group-item")).to_have_count(2)

    # 王芳 registers the customer's first payment on the order
    sales.goto(f"/sales/orders/{order.pk}/")
    sales.click("#md-tab-receipts")
    sales.click("#md-register-receipt")
    expect(sales.locator("#md-receipt-form")).to_be_visible()
    sales.fill("#id_amount", "20000")
    sales.fill("#id_reference", "ICBC-20261128-0001")
    sales.click("#md-save-receipt")
    expect(sales.locator("#md-receipt-status")).to_have_attribute("data-status", "confirmed")
    assert Receipt.objects.get(order=order).amount == Decimal("20000.00")

    # The `sales.rollups` job runs (every minute in production); her targets have moved
    rollups_process()
    expect_month(sales, order_target, "36,080.00", "72.2%")
    expect_month(sales, receipt_target, "20,000.00", "50.0%")
    sales.goto("/sales/dashboard/")
    expect(sales.locator("#md-kpi-orders")).to_contain_text("¥36,080.00")
    expect(sales.locator("#md-kpi-receipts")).to_contain_text("¥20,000.00")


PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def test_the_manager_opens_and_closes_units_of_the_dashboard_grid_on_a_phone(
    open_page, e2e_personas, sign_in, results_dir
):
    """张伟's grid starts with 营销部 and the level below; tapping the arrow of 华东大区 loads
    上海分公司 (htmx), whose arrow loads 销售三组; closing the region hides both, opening it
    again shows only the branch. The page itself never scrolls sideways (the grid does)."""
    from tests.sales.test_targets_rollups import make_order

    people, units = e2e_personas, e2e_personas.units
    root = people.management.__class__.objects.get(username="system")
    parent = units["MKT"]
    for key, name, code in [("EAST", "华东大区", "EAST"), ("SH", "上海分公司", "SH")]:
        parent = units[key] = org_services.department_create(
            actor=root, name=name, code=code, kind="department", parent=parent
        )
    units["SH3"] = org_services.department_create(
        actor=root, name="销售三组", code="SH-S3", kind="group", parent=parent
    )
    customer = crm_services.customer_create(
        actor=people.sales2, kind="company", name=CUSTOMER, level="B", source="exhibition"
    )
    today = timezone.localdate()
    make_order(
        customer=customer,
        owner=people.sales2,
        department=units["SH3"],
        order_date=today,
        total="400.00",
    )
    rollups_process()

    page = open_page(**PHONE)
    sign_in(page, "manager")
    page.goto("/sales/dashboard/")
    grid = page.locator("#md-grid")
    region = grid.locator(f"tr[data-row='unit-{units['EAST'].pk}']")
    branch = grid.locator(f"tr[data-row='unit-{units['SH'].pk}']")
    group = grid.locator(f"tr[data-row='unit-{units['SH3'].pk}']")
    expect(region).to_contain_text("400.00")
    expect(branch).to_have_count(0)

    region.locator("[data-md-grid-toggle]").tap()
    expect(branch).to_be_visible()
    expect(branch).to_contain_text("上海分公司")
    expect(region.locator("[data-md-grid-toggle]")).to_have_attribute("aria-expanded", "true")
    branch.locator("[data-md-grid-toggle]").tap()
    expect(group).to_be_visible()
    expect(group).to_contain_text("400.00")
    page.screenshot(path=str(results_dir / "mobile-sales-dashboard-grid.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    if today.month > 2:  # the grid starts scrolled to this month, not January
        assert page.evaluate("document.querySelector('#md-grid').parentElement.scrollLeft") > 0

    region.locator("[data-md-grid-toggle]").tap()
    expect(branch).to_be_hidden()
    expect(group).to_be_hidden()
    region.locator("[data-md-grid-toggle]").tap()
    expect(branch).to_be_visible()
    expect(group).to_be_hidden()
    expect(branch).to_have_count(1)  # shown again, not loaded twice
