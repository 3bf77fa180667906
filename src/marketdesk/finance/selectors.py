"""Reads of the finance app, limited to what the asking user may see (data scope), plus the
accounting (R7.3.1) and analysis (R7.3.2) figures."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from marketdesk.approvals.models import ApprovalRequest, ApprovalTask
from marketdesk.core.scope import scoped

from .models import (
    ZERO,
    Budget,
    BudgetAdjustment,
    BudgetEntry,
    BudgetLine,
    ClaimStatus,
    DocStatus,
    ExpenseCategory,
    ExpenseClaim,
    ExpenseClaimLine,
    ExpenseRequest,
    Voucher,
)
from .permissions import FinancePerm
from .services.claims import usable_lines_for

MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)


def _approver_of(actor, model) -> QuerySet:
    """Ids of documents of `model` the actor has an approval task on (approvers see what they
    decide, whatever their data scope)."""
    return ApprovalRequest.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        pk__in=ApprovalTask.objects.filter(approver=actor).values("request_id"),
    ).values("object_id")


def _visible(queryset: QuerySet, *, actor, perm: str, owner_field: str) -> QuerySet:
    in_scope = scoped(
        queryset.model.objects.all(),
        actor=actor,
        perm=perm,
        owner_field=owner_field,
        department_field="department",
    )
    return queryset.filter(
        Q(**{owner_field: actor.pk})
        | Q(pk__in=in_scope.values("pk"))
        | Q(pk__in=_approver_of(actor, queryset.model))
    )


def _get(queryset: QuerySet, pk: int):
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


# Categories ---------------------------------------------------------------------------------------


def category_list(*, active_only: bool = True) -> QuerySet[ExpenseCategory]:
    """The category tree is not confidential: anyone may read it."""
    queryset = ExpenseCategory.objects.select_related("parent")
    if active_only:
        queryset = queryset.filter(active=True)
    return queryset.order_by("family", "sort_order", "code")


# Budgets ------------------------------------------------------------------------------------------


def budget_list(*, actor) -> QuerySet[Budget]:
    queryset = Budget.objects.select_related("department", "owner")
    return _visible(queryset, actor=actor, perm=FinancePerm.VIEW_BUDGET, owner_field="owner")


def budget_get(*, actor, pk: int) -> Budget:
    return _get(budget_list(actor=actor), pk)


def with_figures(queryset: QuerySet[BudgetLine]) -> QuerySet[BudgetLine]:
    total = F("amount") + F("supplement") + F("transfer_in") - F("transfer_out")
    return queryset.annotate(
        total_amount=ExpressionWrapper(total, output_field=MONEY_FIELD),
        available_amount=ExpressionWrapper(
            total - F("committed") - F("spent"), output_field=MONEY_FIELD
        ),
    )


def line_list(*, actor) -> QuerySet[BudgetLine]:
    """Lines of the budgets the actor may see, and the lines the actor may charge."""
    visible = budget_list(actor=actor).values("pk")
    usable = usable_lines_for(actor).values("pk")
    return with_figures(
        BudgetLine.objects.filter(Q(budget__in=visible) | Q(pk__in=usable)).select_related(
            "budget__department", "category__parent", "cost_object_type"
        )
    )


def line_get(*, actor, pk: int) -> BudgetLine:
    return _get(line_list(actor=actor), pk)


def usable_lines(*, actor) -> QuerySet[BudgetLine]:
    """Lines the actor may charge a claim or request to (approved budgets of their unit)."""
    return with_figures(usable_lines_for(actor)).order_by(
        "budget__fiscal_year", "category__family", "category__sort_order", "period"
    )


def entries_for(line: BudgetLine) -> QuerySet[BudgetEntry]:
    return BudgetEntry.objects.filter(line=line).select_related("by").order_by("-at", "-pk")


def near_lines(*, actor) -> QuerySet[BudgetLine]:
    """Lines of visible approved budgets already told as near or over budget."""
    return (
        line_list(actor=actor)
        .filter(budget__status=DocStatus.APPROVED, budget__in=budget_list(actor=actor).values("pk"))
        .filter(alert_level__gte=1)
    )


def previous_budget(budget: Budget) -> Budget | None:
    return (
        Budget.objects.filter(department=budget.department, fiscal_year__lt=budget.fiscal_year)
        .order_by("-fiscal_year")
        .first()
    )


# Adjustments and requests ---------------------------------------------------------------------------


def adjustment_list(*, actor) -> QuerySet[BudgetAdjustment]:
    queryset = BudgetAdjustment.objects.select_related(
        "owner", "department", "line__budget", "line__category", "from_line__category"
    )
    return _visible(queryset, actor=actor, perm=FinancePerm.VIEW_ADJUSTMENT, owner_field="owner")


def adjustment_get(*, actor, pk: int) -> BudgetAdjustment:
    return _get(adjustment_list(actor=actor), pk)


def expense_request_list(*, actor) -> QuerySet[ExpenseRequest]:
    queryset = ExpenseRequest.objects.select_related(
        "owner", "department", "line__budget", "line__category"
    )
    return _visible(queryset, actor=actor, perm=FinancePerm.VIEW_REQUEST, owner_field="owner")


def expense_request_get(*, actor, pk: int) -> ExpenseRequest:
    return _get(expense_request_list(actor=actor), pk)


def open_requests(*, actor) -> QuerySet[ExpenseRequest]:
    """The actor's approved requests with money left, for a claim to consume."""
    return ExpenseRequest.objects.filter(
        owner=actor, status=DocStatus.APPROVED, consumed__lt=F("amount")
    ).select_related("line__category")


# Claims -------------------------------------------------------------------------------------------


def claim_list(*, actor) -> QuerySet[ExpenseClaim]:
    queryset = ExpenseClaim.objects.select_related("claimant", "department")
    return _visible(queryset, actor=actor, perm=FinancePerm.VIEW_CLAIM, owner_field="claimant")


def claim_get(*, actor, pk: int) -> ExpenseClaim:
    return _get(claim_list(actor=actor), pk)


def claim_lines(claim: ExpenseClaim) -> QuerySet[ExpenseClaimLine]:
    return claim.lines.select_related(
        "category__parent", "budget_line__budget__department", "budget_line__category", "link_type"
    ).order_by("pk")


def claim_vouchers(claim: ExpenseClaim) -> QuerySet[Voucher]:
    return claim.vouchers.select_related("attachment", "line").order_by("line_id", "pk")


def claim_holders(claim: ExpenseClaim) -> list:
    """Who holds the claim now: the waiting approvers, or finance at its stage."""
    if claim.status == ClaimStatus.SUBMITTED:
        from marketdesk.approvals.services import latest_request

        latest = latest_request(claim)
        if latest is None:
            return []
        return [
            task.approver
            for task in latest.tasks.filter(
                status="waiting", step_index=latest.current_index
            ).select_related("approver")
        ]
    return []


def finance_queue(*, actor, status: str) -> QuerySet[ExpenseClaim]:
    return claim_list(actor=actor).filter(status=status)


# Accounting (R7.3.1) ------------------------------------------------------------------------------

EFFECTIVE = Coalesce("approved_amount", "amount")
POSTED = [ClaimStatus.POSTED, ClaimStatus.PAID]


def posted_lines(*, actor, start: datetime.date, end: datetime.date) -> QuerySet[ExpenseClaimLine]:
    """Claim lines posted between start and end (by posting date), within the actor's scope."""
    claims = claim_list(actor=actor).filter(
        status__in=POSTED, posted_on__gte=start, posted_on__lte=end
    )
    return (
        ExpenseClaimLine.objects.filter(claim__in=claims.values("pk"))
        .select_related(
            "claim__claimant", "claim__department", "category__parent", "budget_line__budget"
        )
        .annotate(effective=EFFECTIVE)
        .order_by("claim__posted_on", "claim__voucher_no", "pk")
    )


def posted_by_category_and_department(
    *, actor, start: datetime.date, end: datetime.date
) -> list[dict]:
    rows = (
        posted_lines(actor=actor, start=start, end=end)
        .order_by()
        .values("category__name", "category__parent__name", "claim__department__name")
        .annotate(total=Sum(EFFECTIVE))
        .order_by("claim__department__name", "category__parent__name", "category__name")
    )
    return list(rows)


def reconciliation(*, actor, fiscal_year: int) -> list[dict]:
    """Per budget line: spent (approved claims) against posted (in the books); a gap is money
    approved but not yet posted."""
    lines = with_figures(
        BudgetLine.objects.filter(
            budget__in=budget_list(actor=actor).filter(fiscal_year=fiscal_year).values("pk")
        ).select_related("budget__department", "category")
    ).order_by("budget__department__path", "category__family", "category__sort_order", "period")
    posted = dict(
        ExpenseClaimLine.objects.filter(
            budget_line__in=lines.values("pk"), claim__status__in=POSTED
        )
        .values("budget_line")
        .annotate(total=Sum(EFFECTIVE))
        .values_list("budget_line", "total")
    )
    result = []
    for line in lines:
        booked = posted.get(line.pk) or ZERO
        result.append({"line": line, "posted": booked, "gap": line.spent - booked})
    return result


# Analysis (R7.3.2) --------------------------------------------------------------------------------

DIMENSIONS = {
    "period": ("period",),
    "family": ("category__family",),
    "category": ("category__family", "category__name"),
    "unit": ("budget__department_id", "budget__department__name"),
}


def analysis_lines(*, actor, fiscal_year: int, department_id: int | None = None):
    budgets = budget_list(actor=actor).filter(fiscal_year=fiscal_year, status=DocStatus.APPROVED)
    if department_id:
        budgets = budgets.filter(department_id=department_id)
    return BudgetLine.objects.filter(budget__in=budgets.values("pk"))


def budget_vs_actual(
    *, actor, fiscal_year: int, by: str = "family", department_id: int | None = None
) -> list[dict]:
    """Budget (with supplements and transfers) against actual (spent) with variance and
    execution rate, grouped by period, family, category or unit."""
    fields = DIMENSIONS.get(by, DIMENSIONS["family"])
    total = F("amount") + F("supplement") + F("transfer_in") - F("transfer_out")
    rows = (
        analysis_lines(actor=actor, fiscal_year=fiscal_year, department_id=department_id)
        .values(*fields)
        .annotate(
            budget=Sum(ExpressionWrapper(total, output_field=MONEY_FIELD)),
            committed=Sum("committed"),
            actual=Sum("spent"),
        )
        .order_by(*fields)
    )
    result = []
    for row in rows:
        budget = row["budget"] or ZERO
        actual = row["actual"] or ZERO
        row["variance"] = budget - actual
        row["rate"] = (actual * 100 / budget).quantize(Decimal("0.1")) if budget else None
        result.append(row)
    return result


def spent_by_department(*, actor, start: datetime.date, end: datetime.date) -> dict[int, Decimal]:
    """Approved spending by the claimant's department, by expense date (for cost per result)."""
    claims = claim_list(actor=actor).filter(
        status__in=[ClaimStatus.APPROVED, ClaimStatus.REVIEWED, *POSTED]
    )
    rows = (
        ExpenseClaimLine.objects.filter(
            claim__in=claims.values("pk"), spent_on__gte=start, spent_on__lte=end
        )
        .values("claim__department_id")
        .annotate(total=Sum(EFFECTIVE))
    )
    return {row["claim__department_id"]: row["total"] or ZERO for row in rows}


def spent_by_family_and_department(
    *, actor, start: datetime.date, end: datetime.date
) -> list[dict]:
    claims = claim_list(actor=actor).filter(
        status__in=[ClaimStatus.APPROVED, ClaimStatus.REVIEWED, *POSTED]
    )
    family = Case(
        When(category__parent__isnull=False, then=F("category__parent__family")),
        default=F("category__family"),
    )
    return list(
        ExpenseClaimLine.objects.filter(
            claim__in=claims.values("pk"), spent_on__gte=start, spent_on__lte=end
        )
        .annotate(fam=family)
        .values("claim__department_id", "claim__department__name", "fam")
        .annotate(total=Sum(EFFECTIVE))
        .order_by("claim__department__name", "fam")
    )
