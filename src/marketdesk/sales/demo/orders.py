"""The demo company's orders (sales step 52, R4.2.2): the order approval flow, production and
logistics coordinators, and about 60 orders of the last 14 months for the demo customers and
salespeople in every state: drafts, in approval, confirmed, in production, ready, partly
shipped, shipped, delivered (some late), completed, cancelled, with their coordination tasks
and deliveries. Everything goes through the services, then the dates are moved into the past
(the services stamp "now")."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Max, Min
from django.utils import timezone

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import (
    ApprovalFlow,
    ApprovalTask,
    ApproverKind,
    NoApprover,
    SelfApproval,
    StepMode,
)
from marketdesk.approvals.models import TaskStatus as ApprovalTaskStatus
from marketdesk.core.demo import DemoStep, register_demo_step
from marketdesk.crm.models import Customer
from marketdesk.org import services as org_services
from marketdesk.org.models import Department, Employee, Role

from ..models import CoordinationTask, Delivery, OrderStatus, PaymentTerms, Product, SalesOrder
from ..services import deliveries as delivery_services
from ..services import orders as services

SELLERS = ["wangfang", "sunhao", "liqiang", "wutao", "zhengli", "zhoumin"]
LEADER = {"MKT-S1": "liqiang", "MKT-S2": "zhoumin"}
COORDINATORS = [
    # username, name, unit code, mobile
    ("chenjg", "陈建国", "PRD", "13901210021"),
    ("hexd", "何晓东", "LOG", "13901210022"),
]
CARRIERS = ["顺丰速运", "德邦物流", "京东物流", "安能物流", "自有车辆"]
# Bundles a customer buys: (product code, low, high quantity)
BUNDLES = [
    [("ZT-100", 5, 20), ("GW-20", 2, 6)],
    [("ZK-10", 10, 40), ("SW-24", 2, 6), ("SS-INST", 1, 2)],
    [("YP-STD", 1, 1), ("GW-20", 2, 4)],
    [("ZS-300", 2, 6), ("SS-INST", 1, 1)],
    [("ZT-200", 4, 12), ("SS-TRAIN", 1, 1)],
    [("GW-50", 2, 5), ("SW-24", 2, 4), ("SS-MAINT", 1, 1)],
    [("YP-PRO", 1, 1), ("SS-TRAIN", 1, 1)],
    [("ZK-10", 20, 50), ("GW-20", 3, 8)],
    [("SS-MAINT", 1, 1)],
]
BIG_BUNDLE = [("MES-L", 1, 1), ("YP-PRO", 1, 1), ("SS-INST", 2, 3), ("SS-TRAIN", 1, 1)]
TITLES = [
    "产线数据采集一期",
    "车间看板升级",
    "边缘网关扩容",
    "云平台年度订阅",
    "仓储终端更换",
    "设备联网改造",
    "能耗监测项目",
    "维保续约",
    "新厂区网络建设",
]
CANCEL_REASONS = [
    "客户项目预算冻结，双方协商取消合同。",
    "客户改为集团统一采购，本单作废。",
    "报价有误，重新签订合同，本单取消。",
]
# The plan: (days ago ordered, final state, how). Oldest first; about 60 orders.
PLAN: list[tuple[int, str, str]] = []
for _i, _ago in enumerate(range(420, 75, -9)):  # 39 orders from 14 months to 2.5 months ago
    if _i in (6, 22):
        PLAN.append((_ago, "cancelled", "confirmed"))
    elif _i in (2, 9, 15, 28):
        PLAN.append((_ago, "completed", "on_time"))
    elif _i in (4, 12, 19, 26, 33):
        PLAN.append((_ago, "delivered", "late"))
    elif _i in (7, 24):
        PLAN.append((_ago, "delivered", "big"))
    elif _i % 5 == 3:
        PLAN.append((_ago, "delivered", "partial_on_time"))
    else:
        PLAN.append((_ago, "delivered", "on_time"))
PLAN += [
    (70, "shipped", "late"),  # shipped, waiting for signature, promised date passed
    (64, "partly_shipped", "late"),
    (58, "delivered", "on_time"),
    (52, "partly_shipped", "late"),
    (47, "shipped", ""),
    (41, "delivered", "on_time"),
    (36, "partly_shipped", ""),
    (31, "ready", "late"),
    (27, "ready", ""),
    (23, "in_production", ""),
    (19, "in_production", ""),
    (16, "partly_shipped", ""),
    (13, "confirmed", ""),
    (9, "confirmed", "big"),
    (6, "in_production", ""),
    (4, "in_approval", "discount"),
    (3, "in_approval", "big"),
    (2, "confirmed", ""),
    (2, "draft", ""),
    (1, "draft", "discount"),
    (0, "draft", ""),
    (5, "cancelled", "draft"),
]


def _ensure_coordinators(system, units: dict) -> list:
    """生产部 and 物流部 exist with a coordinator each; the units' heads also get the role, so
    the tasks they own by default are theirs to work on."""
    from marketdesk.org.demo import DEMO_PASSWORD

    role = Role.objects.get(code="coordinator")
    if "LOG" not in units:
        units["LOG"] = org_services.department_create(
            actor=system, name="物流部", code="LOG", kind="department", parent=None
        )
    if "PRD" not in units:
        units["PRD"] = org_services.department_create(
            actor=system, name="生产部", code="PRD", kind="department", parent=None
        )
    users = {u.username: u for u in get_user_model().objects.all()}
    made = []
    for username, name, unit, mobile in COORDINATORS:
        if username in users:
            continue
        head = units[unit].head
        employee = org_services.employee_create(
            actor=system,
            username=username,
            name=name,
            department=units[unit],
            mobile=mobile,
            password=DEMO_PASSWORD,
            roles=[role],
            supervisor=head,
            hire_date=datetime.date(2022, 3, 1),
            email=f"{username}@hdzl.example.cn",
        )
        made.append(employee)
        if head is None:
            org_services.department_update(actor=system, department=units[unit], head=employee)
    for unit in ("PRD", "LOG"):
        head = Department.objects.get(pk=units[unit].pk).head
        if head is not None and not head.roles.filter(pk=role.pk).exists():
            org_services.employee_update(
                actor=system, employee=head, roles=[*head.roles.all(), role]
            )
    return made


def _flow(system, units: dict) -> None:
    if ApprovalFlow.objects.filter(doc_type="sales.order").exists():
        return
    approvals.flow_save(
        actor=system,
        flow=None,
        fields={
            "name": "销售订单审批（超折扣权限或超金额）",
            "doc_type": "sales.order",
            "priority": 10,
            "description": "组长审核 → 营销部经理批准；合同额 50 万以上加总经理（R4.2.2）",
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 24,
        },
        departments=[],
        cc_users=[],
        steps=[
            {"name": "组长审核", "approver_kind": ApproverKind.SUPERVISOR, "mode": StepMode.ANY},
            {
                "name": "营销部经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["MKT"],
                "mode": StepMode.ANY,
            },
            {
                "name": "总经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["GM"],
                "mode": StepMode.ANY,
                "min_amount": Decimal("500000.01"),
            },
        ],
    )


def _approve(order: SalesOrder) -> None:
    """Approve every step as whoever waits, then run the hook (the demo is one transaction, so
    hooks queued for after the commit would run only at the very end)."""
    request = approvals.latest_request(order)
    for _ in range(10):
        request.refresh_from_db()
        if request.status != "in_progress":
            break
        task = ApprovalTask.objects.filter(
            request=request, status=ApprovalTaskStatus.WAITING, step_index=request.current_index
        ).first()
        approvals.task_approve(actor=task.approver, task=task, comment="同意，注意回款节点。")
    services.order_on_approved(order)


def build_orders() -> str:
    users = {u.username: u for u in get_user_model().objects.all()}
    if "wangfang" not in users or SalesOrder.objects.exists():
        return "skipped"
    products = {p.code: p for p in Product.objects.filter(status="active")}
    if not products:
        return "skipped (no products)"
    system = users["system"]
    units = {d.code: d for d in Department.objects.all()}
    _ensure_coordinators(system, units)
    users = {u.username: u for u in get_user_model().objects.all()}
    _flow(system, units)
    rng = random.Random(52)
    today = timezone.localdate()
    customers = {
        seller: list(
            Customer.objects.filter(owner=users[seller]).prefetch_related("contacts").order_by("pk")
        )
        for seller in SELLERS
    }
    prd = users.get("chenjg") or system
    log = users.get("hexd") or system
    counts: dict[str, int] = {}
    for index, (ago, state, how) in enumerate(PLAN):
        seller = SELLERS[index % len(SELLERS)]
        owner = users[seller]
        pool = customers[seller] or customers["wangfang"]
        customer = pool[(index * 7) % len(pool)]
        order_date = today - datetime.timedelta(days=ago)
        lead = rng.choice([15, 20, 25, 30, 35, 45])
        promised = order_date + datetime.timedelta(days=lead)
        bundle = BIG_BUNDLE if how == "big" else BUNDLES[(index * 5) % len(BUNDLES)]
        lines = []
        for code, low, high in bundle:
            if code not in products:
                continue
            discount = Decimal(rng.choice(["0", "0", "2", "3", "5"]))
            if how == "discount" and not lines:
                discount = Decimal("12")
            lines.append(
                {
                    "product": products[code],
                    "quantity": Decimal(rng.randint(low, high)),
                    "discount": discount,
                    "description": "",
                }
            )
        contact = next(iter(customer.contacts.all()), None)
        order = services.order_create(
            actor=owner,
            customer=customer,
            contact=contact,
            title=TITLES[index % len(TITLES)],
            order_date=order_date,
            promised_date=promised,
            payment_terms=rng.choice(
                [
                    PaymentTerms.NET30,
                    PaymentTerms.NET30,
                    PaymentTerms.PREPAID,
                    PaymentTerms.INSTALMENTS,
                ]
            ),
            lines=lines,
        )
        counts[state] = counts.get(state, 0) + 1
        if state == "draft":
            continue
        if state == "cancelled" and how == "draft":
            services.order_cancel(actor=owner, order=order, reason=CANCEL_REASONS[2])
            continue
        approval = services.order_submit(actor=owner, order=order, comment="请审批")
        if approval is not None:
            if state == "in_approval":
                continue
            _approve(order)
        order.refresh_from_db()
        _backdate_confirmation(order)
        leader = users[LEADER.get(units_code(order), "liqiang")]
        if state == "cancelled":
            services.order_cancel(actor=leader, order=order, reason=CANCEL_REASONS[index % 2])
            continue
        if state == "confirmed":
            continue
        production = order.tasks.filter(kind="production").first()
        services.task_start(actor=prd, task=production)
        if state == "in_production":
            continue
        services.task_done(actor=prd, task=production, note="已完工，入成品库待发。")
        if state == "ready":
            continue
        _ship(order, state, how, log, rng, today)
        if state == "completed":
            services.order_complete(actor=leader, order=order)
    _backdate_tasks(today)
    alerts = services.delivery_alerts(today=today)
    summary = ", ".join(f"{counts[k]} {k}" for k in sorted(counts))
    return f"{sum(counts.values())} orders ({summary}), {Delivery.objects.count()} deliveries; alerts: {alerts}"


def units_code(order: SalesOrder) -> str:
    return order.department.code if order.department else ""


def _backdate_confirmation(order: SalesOrder) -> None:
    if order.status in (OrderStatus.DRAFT, OrderStatus.IN_APPROVAL):
        return
    stamp = timezone.make_aware(
        datetime.datetime.combine(order.order_date, datetime.time(10, 30))
    ) + datetime.timedelta(days=1)
    SalesOrder.objects.filter(pk=order.pk).update(
        confirmed_at=min(stamp, timezone.now()),
        created_at=stamp - datetime.timedelta(days=1, hours=1),
    )


def _ship(order: SalesOrder, state: str, how: str, log, rng, today) -> None:
    """Deliveries: on time or late, in one go or in two parts; signed for unless the order is
    to stay shipped or partly shipped."""
    order.refresh_from_db()
    lines = list(order.lines.order_by("line_no"))
    late = how == "late"
    first_day = order.promised_date + datetime.timedelta(
        days=rng.randint(2, 9) if late else -rng.randint(5, 10)
    )
    first_day = max(order.order_date + datetime.timedelta(days=1), min(first_day, today))
    partial = state == "partly_shipped" or how.startswith("partial")
    if partial:
        # half of the largest line now (the rest of the order later)
        biggest = max(lines, key=lambda line: line.quantity)
        half = (biggest.quantity / 2).to_integral_value(rounding="ROUND_FLOOR")
        quantities = {biggest.pk: half} if half >= 1 else {lines[0].pk: lines[0].quantity}
    else:
        quantities = {line.pk: line.quantity for line in lines}
    first = delivery_services.delivery_create(
        actor=log,
        order=order,
        quantities=quantities,
        shipped_on=first_day,
        carrier=rng.choice(CARRIERS),
        shipment_no=f"SF{rng.randint(10**11, 10**12 - 1)}",
    )
    deliveries = [first]
    order.refresh_from_db()
    rest = {line.pk: line.open_quantity for line in order.lines.all() if line.open_quantity > 0}
    if partial and rest and state != "partly_shipped":
        gap = rng.randint(3, 6) if late else rng.randint(1, 2)
        second_day = min(first_day + datetime.timedelta(days=gap), today)
        deliveries.append(
            delivery_services.delivery_create(
                actor=log,
                order=order,
                quantities=rest,
                shipped_on=second_day,
                carrier=rng.choice(CARRIERS),
                shipment_no=f"DB{rng.randint(10**9, 10**10 - 1)}",
            )
        )
    if state in ("shipped", "partly_shipped"):
        if state == "partly_shipped":
            delivery_services.delivery_sign(
                actor=log,
                delivery=first,
                signed_on=min(first.shipped_on + datetime.timedelta(days=2), today),
                signed_by=order.contact.name if order.contact else "前台代收",
            )
        return
    for delivery in deliveries:
        delivery.refresh_from_db()
        delivery_services.delivery_sign(
            actor=log,
            delivery=delivery,
            signed_on=min(
                delivery.shipped_on + datetime.timedelta(days=rng.randint(1, 3) if late else 1),
                today,
            ),
            signed_by=order.contact.name if order.contact else "仓库签收",
        )


def _backdate_tasks(today: datetime.date) -> None:
    """Tasks were created "today"; give them the due dates and done times they would have had."""
    for task in CoordinationTask.objects.select_related("order"):
        order = task.order
        due = (
            order.promised_date - datetime.timedelta(days=services.PRODUCTION_LEAD_DAYS)
            if task.kind == "production"
            else order.promised_date
        )
        done_at = task.done_at
        if done_at is not None:
            shipped = order.deliveries.aggregate(first=Min("shipped_on"), last=Max("shipped_on"))
            day = min(shipped["first" if task.kind == "production" else "last"] or due, today)
            done_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(17, 0)))
        CoordinationTask.objects.filter(pk=task.pk).update(
            due_date=max(due, order.order_date), done_at=done_at
        )


def _logins() -> list[tuple[str, str, str]]:
    rows = (
        Employee.objects.filter(user__username__in=[c[0] for c in COORDINATORS])
        .select_related("user", "department")
        .order_by("user__username")
    )
    return [(e.user.username, e.user.name, f"{e.department.name} · 生产/物流协调") for e in rows]


def _password() -> str:
    from marketdesk.org.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


register_demo_step(DemoStep(52, "sales.orders", build_orders, logins=_logins, password=_password()))
