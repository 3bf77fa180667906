"""Fixtures of the finance tests: an approved FY budget for 营销部 (set up through the services
and the approval engine, as the product does), the claim approval flow of the demo (group
leader → marketing manager; management above ¥5,000), and helpers to make claims."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import (
    ApprovalTask,
    ApproverKind,
    NoApprover,
    SelfApproval,
    StepMode,
    TaskStatus,
)
from marketdesk.finance import services
from marketdesk.finance.models import ControlMode, ExpenseCategory

YEAR = 2026
DAY = datetime.date(2026, 2, 10)  # Q1
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def step(name, kind, **fields):
    return {"name": name, "approver_kind": kind, "mode": StepMode.ANY, **fields}


def run_hooks(capture, fn):
    """Run fn and then the approval hooks it queued (they run after commit in production)."""
    with capture(execute=True):
        return fn()


def approve_all(request, personas, capture) -> None:
    """Approve every step of an approval request, as whoever waits."""
    for _ in range(10):
        request.refresh_from_db()
        if request.status != "in_progress":
            return
        task = ApprovalTask.objects.filter(
            request=request, status=TaskStatus.WAITING, step_index=request.current_index
        ).first()
        run_hooks(capture, lambda t=task: approvals.task_approve(actor=t.approver, task=t))


def pending_task(request):
    request.refresh_from_db()
    return ApprovalTask.objects.filter(
        request=request, status=TaskStatus.WAITING, step_index=request.current_index
    ).first()


@pytest.fixture
def flows(personas):
    """One flow per finance document type: budgets and adjustments to management; claims and
    requests by authority level (leader → manager; management above ¥5,000)."""
    admin = personas.admin
    units = personas.units

    def flow(doc_type, steps, name):
        return approvals.flow_save(
            actor=admin,
            flow=None,
            fields={
                "name": name,
                "doc_type": doc_type,
                "priority": 10,
                "self_approval": SelfApproval.SKIP,
                "no_approver": NoApprover.ADMINISTRATOR,
                "reminder_hours": 0,
            },
            departments=[],
            cc_users=[],
            steps=steps,
        )

    to_management = [step("总经理", ApproverKind.NAMED_DEPARTMENT_HEAD, department=units["GM"])]
    authority = [
        step("直属上级", ApproverKind.SUPERVISOR),
        step("营销部经理", ApproverKind.NAMED_DEPARTMENT_HEAD, department=units["MKT"]),
        step(
            "总经理",
            ApproverKind.NAMED_DEPARTMENT_HEAD,
            department=units["GM"],
            min_amount=Decimal("5000.01"),
        ),
    ]
    return {
        "budget": flow("finance.budget", to_management, "预算审批"),
        "adjustment": flow("finance.budget_adjustment", to_management, "预算调整审批"),
        "request": flow("finance.expense_request", authority, "事前申请审批"),
        "claim": flow("finance.expense_claim", authority, "报销审批（分级）"),
    }


def ensure_categories() -> None:
    """The category tree comes from a data migration; transactional tests flush it away
    after each test, so put it back when it is missing."""
    if not ExpenseCategory.objects.exists():
        from django.apps import apps

        seed = importlib.import_module("marketdesk.finance.migrations.0002_categories")
        seed.create(apps, None)


@pytest.fixture
def category():
    ensure_categories()
    return lambda code: ExpenseCategory.objects.get(code=code)


@pytest.fixture
def make_budget(personas, flows, category, django_capture_on_commit_callbacks):
    """make_budget(amounts={code: [q1..q4]}, unit="MKT", mode=block) -> an approved budget."""

    def make(amounts=None, unit="MKT", mode=ControlMode.BLOCK, year=YEAR, approve=True):
        amounts = amounts or {"travel": ["10000", "10000", "10000", "10000"]}
        budget = services.budget_create(
            actor=personas.manager, fiscal_year=year, department=personas.units[unit]
        )
        for code, values in amounts.items():
            services.budget_category_set(
                actor=personas.manager,
                budget=budget,
                category=category(code),
                amounts=[Decimal(v) for v in values],
                mode=mode,
            )
        if approve:
            request = services.budget_submit(actor=personas.manager, budget=budget)
            approve_all(request, personas, django_capture_on_commit_callbacks)
        budget.refresh_from_db()
        return budget

    return make


@pytest.fixture
def budget(make_budget):
    return make_budget()


@pytest.fixture
def line_of(budget, category):
    """line_of(code="travel", period=1) -> the budget line."""

    def get(code="travel", period=1, of=None):
        return (of or budget).lines.get(category=category(code), period=period)

    return get


_invoice_counter = {"n": 0}


@pytest.fixture
def make_claim(personas, line_of, category):
    """make_claim(user, amount, code="travel", invoice=True) -> a draft claim with one line
    and (when the category asks) an invoice with its scan."""

    def make(
        user,
        amount="1000.00",
        code="travel",
        line=None,
        invoice=True,
        request=None,
        day=DAY,
        title="差旅报销",
    ):
        line = line or line_of(code)
        claim = services.claim_create(
            actor=user,
            title=title,
            expense_request=request,
            lines=[
                {
                    "spent_on": day,
                    "category": category(code),
                    "budget_line": line,
                    "amount": Decimal(amount),
                    "description": "上海—杭州 客户拜访",
                }
            ],
        )
        if invoice:
            _invoice_counter["n"] += 1
            services.voucher_add(
                actor=user,
                claim=claim,
                line=claim.lines.get(),
                number=f"{_invoice_counter['n']:08d}",
                code="031002400111",
                issued_on=day,
                amount=Decimal(amount),
                tax=Decimal("0"),
                upload=SimpleUploadedFile("发票.pdf", PDF, content_type="application/pdf"),
            )
        return claim

    return make
