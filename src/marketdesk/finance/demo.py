"""Demo budgets and expenses of 华东智联科技 (R7): approval flows, the FY2026 budget of each
marketing unit and of customer service, supplements and transfers, expense requests, and
claims in every state, with one line above 90 % of its budget."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import (
    ApprovalFlow,
    ApprovalTask,
    ApproverKind,
    NoApprover,
    SelfApproval,
    StepMode,
    TaskStatus,
)
from marketdesk.core.demo import DemoStep, register_demo_step
from marketdesk.org.models import Department

from . import services
from .models import AdjustmentKind, Budget, ControlMode, ExpenseCategory

YEAR = 2026
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# unit code, owner, {category code: [Q1, Q2, Q3, Q4]}
BUDGETS = [
    (
        "MKT-PRO",
        "zhangwei",
        {
            "advertising": [60000, 80000, 60000, 90000],
            "events": [30000, 50000, 40000, 60000],
            "pr": [10000, 10000, 10000, 15000],
            "materials": [8000, 8000, 8000, 10000],
        },
    ),
    (
        "MKT-S1",
        "zhangwei",
        {
            "travel": [15000, 18000, 18000, 20000],
            "entertainment": [8000, 8000, 8000, 8000],
            "samples": [5000, 5000, 5000, 5000],
        },
    ),
    (
        "MKT-S2",
        "zhangwei",
        {
            "travel": [12000, 15000, 15000, 16000],
            "entertainment": [6000, 6000, 6000, 6000],
            "samples": [6000, 6000, 6000, 6000],
        },
    ),
    (
        "CS",
        "malihua",
        {
            "care-gifts": [5000, 5000, 8000, 20000],
            "hotline": [12000, 12000, 12000, 12000],
            "after-sales": [6000, 6000, 6000, 6000],
        },
    ),
]


def _flow(system, doc_type: str, name: str, description: str, steps: list[dict]) -> None:
    approvals.flow_save(
        actor=system,
        flow=None,
        fields={
            "name": name,
            "doc_type": doc_type,
            "priority": 10,
            "description": description,
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 24,
        },
        departments=[],
        cc_users=[],
        steps=steps,
    )


def _step(name: str, kind: str, **fields) -> dict:
    return {"name": name, "approver_kind": kind, "mode": StepMode.ANY, **fields}


def _settle(document) -> None:
    """The demo runs in one transaction, so approval hooks (after commit) would run only at
    the very end; run the finished request's hook now (hooks are idempotent)."""
    latest = approvals.latest_request(document)
    document.refresh_from_db()
    if latest is None:
        return
    hooks = {
        "approved": "on_approved",
        "rejected": "on_rejected",
        "returned": "on_returned",
        "withdrawn": "on_withdrawn",
    }
    from marketdesk.approvals.registry import document_type_for

    name = hooks.get(latest.status)
    hook = getattr(document_type_for(document), name, None) if name else None
    if hook is not None:
        hook(document, latest)
        document.refresh_from_db()


def _decide(request, steps: int | None = None, *, how: str = "approve", reason: str = "") -> None:
    """Approve the next `steps` steps (all when None), or reject/return the current one."""
    done = 0
    while steps is None or done < steps:
        request.refresh_from_db()
        if request.status != "in_progress":
            break
        task = ApprovalTask.objects.filter(
            request=request, status=TaskStatus.WAITING, step_index=request.current_index
        ).first()
        if how == "approve":
            approvals.task_approve(actor=task.approver, task=task, comment="同意")
        elif how == "return":
            approvals.task_return(actor=task.approver, task=task, reason=reason)
            break
        else:
            approvals.task_reject(actor=task.approver, task=task, reason=reason)
            break
        done += 1
    _settle(request.document)


def _ensure_default_categories() -> None:
    """The category tree is seeded by migration 0002; a database whose rows were flushed since
    (a test database after a transactional test) gets it again, idempotently."""
    import importlib

    from django.apps import apps

    importlib.import_module("marketdesk.finance.migrations.0002_categories").create(apps, None)


def build_finance() -> str:
    users = {u.username: u for u in get_user_model().objects.all()}
    if "wangfang" not in users or Budget.objects.exists():
        return "skipped"
    if ApprovalFlow.objects.filter(doc_type__startswith="finance.").exists():
        return "skipped"
    system = users["system"]
    units = {d.code: d for d in Department.objects.all()}
    _ensure_default_categories()
    categories = {c.code: c for c in ExpenseCategory.objects.all()}

    to_gm = [_step("总经理审批", ApproverKind.NAMED_DEPARTMENT_HEAD, department=units["GM"])]
    _flow(
        system, "finance.budget", "营销费用预算审批", "年度营销费用预算由总经理审批（R7.1）", to_gm
    )
    _flow(
        system,
        "finance.budget_adjustment",
        "追加预算 / 调剂审批",
        "营销部经理审核，总经理批准；批准前不得超预算支出（R7.2.1）",
        [
            _step("营销部经理", ApproverKind.NAMED_DEPARTMENT_HEAD, department=units["MKT"]),
            *to_gm,
        ],
    )
    authority = [
        _step("直属上级", ApproverKind.SUPERVISOR),
        _step("营销部经理", ApproverKind.NAMED_DEPARTMENT_HEAD, department=units["MKT"]),
        _step(
            "总经理",
            ApproverKind.NAMED_DEPARTMENT_HEAD,
            department=units["GM"],
            min_amount=Decimal("5000.01"),
        ),
    ]
    note = "≤¥5,000 组长 → 营销部经理；以上加总经理（R7.2.2 分级审批权限）"
    _flow(system, "finance.expense_claim", "费用报销审批（分级）", note, authority)
    _flow(system, "finance.expense_request", "事前申请审批（分级）", note, authority)

    # Budgets, approved by 刘建国 --------------------------------------------------------------
    budgets = {}
    for code, owner, amounts in BUDGETS:
        budget = services.budget_create(
            actor=users[owner],
            fiscal_year=YEAR,
            department=units[code],
            notes="依据 2026 年度营销计划编制（R7.1）",
        )
        for category, values in amounts.items():
            services.budget_category_set(
                actor=users[owner],
                budget=budget,
                category=categories[category],
                amounts=[Decimal(v) for v in values],
                mode=ControlMode.WARN if category == "care-gifts" else ControlMode.BLOCK,
            )
        _decide(services.budget_submit(actor=users[owner], budget=budget))
        budget.refresh_from_db()
        budgets[code] = budget
    next_year = services.budget_copy(
        actor=users["zhangwei"],
        source=budgets["MKT-S1"],
        fiscal_year=YEAR + 1,
        percent=Decimal("8"),
    )

    def line(unit: str, category: str, quarter: int):
        return budgets[unit].lines.get(category=categories[category], period=quarter)

    # Adjustments: an approved supplement, a transfer in approval ----------------------------------
    supplement = services.adjustment_create(
        actor=users["liqiang"],
        kind=AdjustmentKind.SUPPLEMENT,
        line=line("MKT-S1", "travel", 4),
        amount=Decimal("5000"),
        reason="四季度新增苏州、无锡两地重点客户拜访，差旅预算不足。",
    )
    _decide(services.adjustment_submit(actor=users["liqiang"], adjustment=supplement))
    transfer = services.adjustment_create(
        actor=users["zhangwei"],
        kind=AdjustmentKind.TRANSFER,
        line=line("MKT-PRO", "events", 4),
        from_line=line("MKT-PRO", "advertising", 4),
        amount=Decimal("15000"),
        reason="双十二线下路演场次增加，由四季度广告费调剂。",
    )
    services.adjustment_submit(actor=users["zhangwei"], adjustment=transfer)  # waits for 刘建国

    # Claims in every state ---------------------------------------------------------------------
    counter = {"n": 0}

    def claim(user, title, rows, *, request=None, contract=None):
        made = services.claim_create(
            actor=users[user],
            title=title,
            expense_request=request,
            lines=[
                {
                    "spent_on": day,
                    "category": categories[cat],
                    "budget_line": line(unit, cat, (day.month - 1) // 3 + 1),
                    "amount": Decimal(amount),
                    "description": text,
                }
                for unit, cat, day, amount, text in rows
            ],
        )
        for claim_line in made.lines.all():
            counter["n"] += 1
            services.voucher_add(
                actor=users[user],
                claim=made,
                line=claim_line,
                code="031002500111",
                number=f"{24150000 + counter['n']:08d}",
                issued_on=claim_line.spent_on,
                amount=claim_line.amount,
                tax=(claim_line.amount * Decimal("0.06") / Decimal("1.06")).quantize(
                    Decimal("0.01")
                ),
                upload=SimpleUploadedFile(
                    f"发票-{counter['n']}.pdf", PDF, content_type="application/pdf"
                ),
            )
            if contract and claim_line.category.requires_contract:
                services.voucher_add(
                    actor=users[user],
                    claim=made,
                    line=claim_line,
                    kind="contract",
                    number=contract,
                )
        return made

    d = datetime.date
    paid = claim(
        "wangfang",
        "杭州、宁波客户拜访差旅费",
        [
            (
                "MKT-S1",
                "travel",
                d(2026, 9, 8),
                "1860.00",
                "上海—杭州高铁及两晚住宿，拜访杭州恒达电子",
            ),
            ("MKT-S1", "travel", d(2026, 9, 10), "1000.00", "杭州—宁波往返，拜访宁波甬兴机电"),
        ],
    )
    _decide(services.claim_submit(actor=users["wangfang"], claim=paid))
    services.claim_review(actor=users["malihua"], claim=paid)
    services.claim_post(
        actor=users["malihua"], claim=paid, voucher_no="记-2026-09-0312", account="6601.21"
    )
    services.claim_pay(actor=users["malihua"], claim=paid, paid_on=d(2026, 9, 25))

    posted = claim(
        "sunhao",
        "苏州老客户答谢晚宴",
        [
            (
                "MKT-S1",
                "entertainment",
                d(2026, 10, 16),
                "3500.00",
                "金鸡湖畔酒店包间两桌，A 类客户 12 家",
            )
        ],
    )
    _decide(services.claim_submit(actor=users["sunhao"], claim=posted))
    services.claim_review(
        actor=users["malihua"],
        claim=posted,
        approved={posted.lines.get().pk: Decimal("3200.00")},
        note="酒水超出招待标准部分 300 元不予报销",
    )
    services.claim_post(
        actor=users["malihua"], claim=posted, voucher_no="记-2026-11-0088", account="6601.22"
    )

    near = claim(
        "wangfang",
        "无锡项目招待及样品",
        [
            ("MKT-S1", "entertainment", d(2026, 11, 12), "4100.00", "无锡新区客户技术交流晚餐"),
            ("MKT-S1", "samples", d(2026, 11, 12), "1200.00", "演示样机两台寄送"),
        ],
    )
    _decide(
        services.claim_submit(actor=users["wangfang"], claim=near)
    )  # 招待费 Q4: 7,300 / 8,000 (> 90 %)

    waiting_leader = claim(
        "zhengli",
        "温州、台州客户走访差旅",
        [("MKT-S2", "travel", d(2026, 11, 18), "1450.00", "动车及一晚住宿，走访台州三家经销商")],
    )
    services.claim_submit(actor=users["zhengli"], claim=waiting_leader)

    waiting_manager = claim(
        "zhaolei",
        "双十一促销宣传物料",
        [("MKT-PRO", "materials", d(2026, 11, 5), "4200.00", "易拉宝 20 个、海报 500 张")],
    )
    _decide(services.claim_submit(actor=users["zhaolei"], claim=waiting_manager), steps=1)

    returned = claim(
        "wutao",
        "宁波展会样品费",
        [("MKT-S2", "samples", d(2026, 10, 22), "2300.00", "宁波工博会展示样品")],
    )
    _decide(
        services.claim_submit(actor=users["wutao"], claim=returned),
        how="return",
        reason="请补充样品领用单",
    )

    request = services.expense_request_create(
        actor=users["zhaolei"],
        title="上海国际工业博览会展位及搭建",
        line=line("MKT-PRO", "events", 4),
        amount=Decimal("38000"),
        expected_on=d(2026, 11, 20),
        description="9 号馆 54㎡ 特装展位，含设计搭建与物料。",
    )
    _decide(services.expense_request_submit(actor=users["zhaolei"], request=request))
    big = claim(
        "zhaolei",
        "上海工博会展位费",
        [("MKT-PRO", "events", d(2026, 11, 21), "36500.00", "展位费及特装搭建")],
        request=request,
        contract="HT-2026-EX-017",
    )
    _decide(services.claim_submit(actor=users["zhaolei"], claim=big))

    claim(
        "wangfang",
        "客户拜访打车费",
        [("MKT-S1", "travel", d(2026, 11, 24), "186.00", "虹桥—漕河泾往返")],
    )
    return (
        f"4 flows, {len(budgets)} approved budgets + 1 draft ({next_year.number}), "
        "2 adjustments, 1 expense request, 8 claims"
    )


register_demo_step(DemoStep(40, "finance", build_finance))
