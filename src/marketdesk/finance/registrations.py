"""What the finance app plugs into the registries (core, org, approvals)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketdesk.approvals.registry import ApprovalDocument, register_document
from marketdesk.approvals.services import is_locked
from marketdesk.core.numbering import SequenceDefault, register_sequence
from marketdesk.core.registry import (
    NavItem,
    RecordType,
    SearchHit,
    TodoItem,
    register_nav,
    register_record_type,
    register_search_provider,
    register_todo_provider,
)
from marketdesk.org.handover import HandoverTarget, register_handover
from marketdesk.org.roles import grant

from . import demo, selectors, services  # noqa: F401  (demo registers its step)
from .models import (
    AdjustmentKind,
    Budget,
    BudgetAdjustment,
    ClaimStatus,
    DocStatus,
    ExpenseClaim,
    ExpenseRequest,
    Family,
)
from .permissions import FinancePerm

register_sequence(SequenceDefault("YS", "Budget", "YS", padding=5))
register_sequence(SequenceDefault("TZ", "Budget adjustment", "TZ", padding=5))
register_sequence(SequenceDefault("SQ", "Expense request", "SQ", padding=5))
register_sequence(SequenceDefault("BX", "Expense claim", "BX", padding=5))


def _money(value) -> str:
    return f"¥{value:,.2f}" if value is not None else "—"


def _claim_family(claim: ExpenseClaim) -> str:
    """The family of the claim's largest line: flows can route by promotion/sales/service."""
    line = claim.lines.select_related("category__parent").order_by("-amount", "pk").first()
    if line is None:
        return ""
    return line.category.family


def _ended(hook_factory):
    return {
        "on_rejected": hook_factory(DocStatus.REJECTED),
        "on_returned": hook_factory(DocStatus.RETURNED),
        "on_withdrawn": hook_factory(DocStatus.WITHDRAWN),
    }


register_document(
    ApprovalDocument(
        key="finance.budget",
        label=_("Marketing budget"),
        model=Budget,
        title=lambda doc: doc.name,
        amount=lambda doc: sum((line.amount for line in doc.lines.all()), 0),
        department=lambda doc: doc.department,
        submitter=lambda doc: doc.owner,
        lines=lambda doc: [
            (_("Number"), doc.number),
            (_("Fiscal year"), doc.fiscal_year),
            (_("Unit"), doc.department.name),
            (_("Lines"), doc.lines.count()),
            (_("Total"), _money(sum((line.amount for line in doc.lines.all()), 0))),
        ],
        snapshot=lambda doc: {
            "fiscal_year": doc.fiscal_year,
            "lines": [
                [line.category_id, line.period, str(line.amount), line.mode]
                for line in doc.lines.all()
            ],
        },
        on_approved=services.budget_on_approved,
        **_ended(services.budget_on_ended),
    )
)

register_document(
    ApprovalDocument(
        key="finance.budget_adjustment",
        label=_("Budget adjustment"),
        model=BudgetAdjustment,
        title=lambda doc: f"{doc.get_kind_display()} {doc.line}",
        amount=lambda doc: doc.amount,
        department=lambda doc: doc.department,
        submitter=lambda doc: doc.owner,
        category=lambda doc: doc.kind,
        lines=lambda doc: [
            (_("Number"), doc.number),
            (_("Kind"), doc.get_kind_display()),
            (_("Line"), str(doc.line)),
            (_("From line"), str(doc.from_line) if doc.from_line_id else "—"),
            (_("Available now"), _money(doc.line.available)),
            (_("Amount"), _money(doc.amount)),
            (_("Reason"), doc.reason[:300]),
        ],
        snapshot=lambda doc: {"amount": str(doc.amount), "line": doc.line_id},
        on_approved=services.adjustment_on_approved,
        categories=list(AdjustmentKind.choices),
        **_ended(services.adjustment_on_ended),
    )
)

register_document(
    ApprovalDocument(
        key="finance.expense_request",
        label=_("Expense request"),
        model=ExpenseRequest,
        title=lambda doc: doc.title,
        amount=lambda doc: doc.amount,
        department=lambda doc: doc.department,
        submitter=lambda doc: doc.owner,
        category=lambda doc: doc.line.category.family,
        lines=lambda doc: [
            (_("Number"), doc.number),
            (_("Budget line"), str(doc.line)),
            (_("Amount"), _money(doc.amount)),
            (_("Expected on"), doc.expected_on or "—"),
            (_("Details"), doc.description[:300]),
        ],
        snapshot=lambda doc: {"amount": str(doc.amount), "line": doc.line_id},
        on_approved=services.expense_request_on_approved,
        categories=list(Family.choices),
        **_ended(services.expense_request_on_ended),
    )
)

register_document(
    ApprovalDocument(
        key="finance.expense_claim",
        label=_("Expense claim"),
        model=ExpenseClaim,
        title=lambda doc: doc.title,
        amount=lambda doc: doc.total,
        department=lambda doc: doc.department,
        submitter=lambda doc: doc.claimant,
        category=_claim_family,
        lines=lambda doc: (
            [
                (_("Number"), doc.number),
                (_("Amount"), _money(doc.total)),
                (
                    _("Expense request"),
                    doc.expense_request.number if doc.expense_request_id else "—",
                ),
            ]
            + [
                (
                    f"{line.spent_on} {line.category.name}",
                    f"{_money(line.amount)} {line.description[:80]}",
                )
                for line in doc.lines.select_related("category")[:10]
            ]
        ),
        snapshot=lambda doc: {
            "total": str(doc.total),
            "lines": [
                [str(line.spent_on), line.category_id, line.budget_line_id, str(line.amount)]
                for line in doc.lines.all()
            ],
        },
        on_approved=services.claim_on_approved,
        categories=list(Family.choices),
        **{
            "on_rejected": services.claim_on_ended(ClaimStatus.REJECTED),
            "on_returned": services.claim_on_ended(ClaimStatus.RETURNED),
            "on_withdrawn": services.claim_on_ended(ClaimStatus.WITHDRAWN),
        },
    )
)

# Attachments, comments and the timeline on every finance document ------------------------------

register_record_type(
    RecordType(
        model=ExpenseClaim,
        visible=lambda actor: selectors.claim_list(actor=actor),
        editable=lambda actor, record: record.claimant_id == actor.pk and record.editable,
    )
)
register_record_type(
    RecordType(
        model=Budget,
        visible=lambda actor: selectors.budget_list(actor=actor),
        editable=lambda actor, record: (
            actor.has_perm(FinancePerm.CHANGE_BUDGET) and not is_locked(record)
        ),
    )
)
register_record_type(
    RecordType(
        model=ExpenseRequest,
        visible=lambda actor: selectors.expense_request_list(actor=actor),
        editable=lambda actor, record: record.owner_id == actor.pk and record.editable,
    )
)
register_record_type(
    RecordType(
        model=BudgetAdjustment,
        visible=lambda actor: selectors.adjustment_list(actor=actor),
        editable=lambda actor, record: record.owner_id == actor.pk and record.editable,
    )
)

# Navigation ---------------------------------------------------------------------------------------

GROUP = _("Budget and expenses")
for item in [
    NavItem(
        "finance.claims",
        _("Expense claims"),
        "finance:claim_list",
        "receipt",
        FinancePerm.ADD_CLAIM,
        GROUP,
        400,
    ),
    NavItem(
        "finance.requests",
        _("Expense requests"),
        "finance:request_list",
        "clipboard-check",
        FinancePerm.ADD_REQUEST,
        GROUP,
        401,
    ),
    NavItem(
        "finance.budgets",
        _("Budgets"),
        "finance:budget_list",
        "piggy-bank",
        FinancePerm.VIEW_BUDGET,
        GROUP,
        402,
    ),
    NavItem(
        "finance.adjustments",
        _("Budget adjustments"),
        "finance:adjustment_list",
        "arrow-left-right",
        FinancePerm.ADD_ADJUSTMENT,
        GROUP,
        403,
    ),
    NavItem(
        "finance.accounting",
        _("Expense accounting"),
        "finance:accounting",
        "journal-text",
        FinancePerm.VIEW_ACCOUNTING,
        GROUP,
        404,
    ),
    NavItem(
        "finance.analysis",
        _("Expense analysis"),
        "finance:analysis",
        "graph-up",
        FinancePerm.VIEW_ANALYSIS,
        GROUP,
        405,
    ),
]:
    register_nav(item)


# Workbench ----------------------------------------------------------------------------------------

FINANCE_STAGES = [
    (FinancePerm.REVIEW_CLAIM, ClaimStatus.APPROVED, _("Claims waiting for finance review")),
    (FinancePerm.POST_CLAIM, ClaimStatus.REVIEWED, _("Claims waiting for posting")),
    (FinancePerm.PAY_CLAIM, ClaimStatus.POSTED, _("Claims waiting for payment")),
]


def _todos(actor):
    for perm, status, label in FINANCE_STAGES:
        if actor.has_perm(perm):
            count = selectors.finance_queue(actor=actor, status=status).count()
            yield TodoItem(
                f"finance.{status}",
                label,
                count,
                reverse("finance:claim_list") + f"?status={status}",
                "warning" if count else "secondary",
            )
    if actor.has_perm(FinancePerm.VIEW_BUDGET):
        count = selectors.near_lines(actor=actor).count()
        if count:
            yield TodoItem(
                "finance.near_budget",
                _("Budget lines near or over budget"),
                count,
                reverse("finance:line_list") + "?alert=1",
                "danger",
            )


register_todo_provider(_todos)


# Global search ------------------------------------------------------------------------------------


def _search(actor, text: str, limit: int):
    text = text.strip()
    if not text:
        return
    for claim in selectors.claim_list(actor=actor).filter(number__icontains=text)[:limit]:
        yield SearchHit(
            kind=_("Expense claim"),
            title=f"{claim.number} {claim.title}",
            subtitle=f"{claim.claimant} · ¥{claim.total:,.2f} · {claim.get_status_display()}",
            url=claim.get_absolute_url(),
        )
    for request in selectors.expense_request_list(actor=actor).filter(number__icontains=text)[
        :limit
    ]:
        yield SearchHit(
            kind=_("Expense request"),
            title=f"{request.number} {request.title}",
            subtitle=f"{request.owner} · ¥{request.amount:,.2f}",
            url=request.get_absolute_url(),
        )
    for budget in selectors.budget_list(actor=actor).filter(number__icontains=text)[:limit]:
        yield SearchHit(
            kind=_("Budget"),
            title=f"{budget.number} {budget.name}",
            subtitle=f"{budget.department} · {budget.fiscal_year}",
            url=budget.get_absolute_url(),
        )


register_search_provider(_search)

register_handover(
    HandoverTarget(
        "finance_claims", _("Draft expense claims and requests"), services.handover_claims
    )
)

# Shipped roles ------------------------------------------------------------------------------------

CLAIMANT = (
    FinancePerm.ADD_CLAIM,
    FinancePerm.VIEW_CLAIM,
    FinancePerm.ADD_REQUEST,
    FinancePerm.VIEW_REQUEST,
    FinancePerm.ADD_ADJUSTMENT,
    FinancePerm.VIEW_ADJUSTMENT,
)
VIEW_ALL = (
    FinancePerm.VIEW_BUDGET,
    FinancePerm.VIEW_ADJUSTMENT,
    FinancePerm.VIEW_REQUEST,
    FinancePerm.VIEW_CLAIM,
    FinancePerm.VIEW_ACCOUNTING,
    FinancePerm.VIEW_ANALYSIS,
)
grant("finance", *FinancePerm)
for role in ("group_leader", "salesperson", "promotion", "customer_service"):
    grant(role, *CLAIMANT)
grant(
    "marketing_manager",
    *CLAIMANT,
    FinancePerm.VIEW_BUDGET,
    FinancePerm.ADD_BUDGET,
    FinancePerm.CHANGE_BUDGET,
    FinancePerm.VIEW_ANALYSIS,
)
grant("management", *VIEW_ALL)
