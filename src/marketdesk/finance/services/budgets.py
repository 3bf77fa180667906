"""Budgets (R7.1) and their changes after approval: supplementary budgets (追加预算) and
transfers between lines (调剂), each approved through the engine (R7.2.1)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import ApprovalRequest
from marketdesk.core.numbering import next_number
from marketdesk.org.models import Department
from marketdesk.org.selectors import employee_for_user

from ..models import (
    ZERO,
    AdjustmentKind,
    Budget,
    BudgetAdjustment,
    BudgetLine,
    ControlMode,
    DocStatus,
    EntryKind,
    ExpenseCategory,
    PeriodKind,
)
from ..permissions import FinancePerm
from . import control

MSG_NO_PERMISSION = _("You do not have permission to do this.")
MSG_NO_EMPLOYEE = _("Only employees can do this.")
MSG_BUDGET_LOCKED = _("This budget is in approval or approved; change it with an adjustment.")
MSG_BUDGET_EXISTS = _("%(unit)s already has a budget for %(year)s.")
MSG_PERIOD_RANGE = _("Choose a period between 1 and %(count)s.")
MSG_NO_LINES = _("Add at least one budget line first.")
MSG_LINE_EXISTS = _("This budget already has a line for this category and period.")
MSG_PERIOD_COUNT = _("Give one amount for each of the %(count)s periods.")
MSG_NOT_APPROVED_BUDGET = _("Only a line of an approved budget can be adjusted.")
MSG_SAME_LINE = _("Choose a different line to take the money from.")
MSG_FROM_LINE_REQUIRED = _("Choose the line the money comes from.")
MSG_NOT_EDITABLE = _("This document is in approval or finished; it cannot be changed now.")
MSG_NOT_OWNER = _("Only the person who created it may do this.")
MSG_PERCENT_RANGE = _("Give a percentage between -100 and 1000.")
MSG_POSITIVE = _("The amount must be more than zero.")
MSG_NOT_NEGATIVE = _("The amount cannot be negative.")
MSG_COST_OBJECT = _("The cost object was not found.")
MSG_LINE_OUT_OF_REACH = _("This budget line was not found.")

CENT = Decimal("0.01")


def require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


def _stamp(document: Model, actor) -> None:
    document.updated_by = actor
    document._history_user = actor


def _save(document: Model) -> None:
    document.full_clean()
    document.save()


# Budgets ---------------------------------------------------------------------------------------


@transaction.atomic
def budget_create(
    *,
    actor,
    fiscal_year: int,
    department: Department,
    name: str = "",
    period_kind: str = PeriodKind.QUARTER,
    notes: str = "",
    copied_from: Budget | None = None,
) -> Budget:
    require(actor, FinancePerm.ADD_BUDGET)
    if Budget.objects.filter(department=department, fiscal_year=fiscal_year).exists():
        raise ValidationError(
            {"fiscal_year": [MSG_BUDGET_EXISTS % {"unit": department, "year": fiscal_year}]}
        )
    budget = Budget(
        number=next_number("YS"),
        fiscal_year=fiscal_year,
        department=department,
        name=name
        or gettext("%(unit)s marketing expense budget %(year)s")
        % {"unit": department.name, "year": fiscal_year},
        period_kind=period_kind,
        notes=notes,
        owner=actor,
        copied_from=copied_from,
        created_by=actor,
    )
    _stamp(budget, actor)
    _save(budget)
    return budget


def _editable_budget(actor, budget: Budget) -> Budget:
    require(actor, FinancePerm.CHANGE_BUDGET)
    budget = Budget.objects.select_for_update().get(pk=budget.pk)
    if not budget.editable:
        raise ValidationError(MSG_BUDGET_LOCKED)
    return budget


@transaction.atomic
def budget_update(*, actor, budget: Budget, **fields) -> Budget:
    budget = _editable_budget(actor, budget)
    allowed = {"name", "notes", "period_kind"}
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(budget, name, value)
    if budget.lines.filter(period__gt=budget.period_count).exists():
        raise ValidationError({"period_kind": [MSG_PERIOD_RANGE % {"count": budget.period_count}]})
    _stamp(budget, actor)
    _save(budget)
    return budget


def _check_line_values(budget: Budget, period: int, amount: Decimal) -> None:
    if not 1 <= period <= budget.period_count:
        raise ValidationError({"period": [MSG_PERIOD_RANGE % {"count": budget.period_count}]})
    if amount is None or amount < 0:
        raise ValidationError({"amount": [MSG_NOT_NEGATIVE]})


@transaction.atomic
def budget_line_save(
    *,
    actor,
    budget: Budget,
    category: ExpenseCategory,
    period: int,
    amount: Decimal,
    mode: str = ControlMode.BLOCK,
    cost_object: Model | None = None,
    note: str = "",
    line: BudgetLine | None = None,
) -> BudgetLine:
    """Add a line to a draft budget, or change one."""
    budget = _editable_budget(actor, budget)
    _check_line_values(budget, period, amount)
    if line is not None:
        line = BudgetLine.objects.get(pk=line.pk, budget=budget)
    else:
        line = BudgetLine(budget=budget)
    line.category = category
    line.period = period
    line.amount = Decimal(amount).quantize(CENT)
    line.mode = mode
    line.note = note
    line.cost_object_type = (
        ContentType.objects.get_for_model(cost_object) if cost_object is not None else None
    )
    line.cost_object_id = cost_object.pk if cost_object is not None else None
    try:
        line.full_clean(exclude=["budget"], validate_constraints=False)
        with transaction.atomic():
            line.save()
    except IntegrityError as exc:
        raise ValidationError({"category": [MSG_LINE_EXISTS]}) from exc
    return line


@transaction.atomic
def budget_category_set(
    *,
    actor,
    budget: Budget,
    category: ExpenseCategory,
    amounts: list[Decimal],
    mode: str = ControlMode.BLOCK,
) -> list[BudgetLine]:
    """Set a category's amount for every period of a draft budget (the page's grid row)."""
    budget = _editable_budget(actor, budget)
    if len(amounts) != budget.period_count:
        raise ValidationError({"amounts": [MSG_PERIOD_COUNT % {"count": budget.period_count}]})
    lines = []
    for period, amount in enumerate(amounts, start=1):
        _check_line_values(budget, period, amount)
        line, _created = BudgetLine.objects.update_or_create(
            budget=budget,
            category=category,
            period=period,
            cost_object_type=None,
            defaults={"amount": Decimal(amount).quantize(CENT), "mode": mode},
        )
        lines.append(line)
    return lines


@transaction.atomic
def budget_line_delete(*, actor, line: BudgetLine) -> None:
    _editable_budget(actor, line.budget)
    BudgetLine.objects.filter(pk=line.pk).delete()


@transaction.atomic
def budget_submit(*, actor, budget: Budget, comment: str = "") -> ApprovalRequest:
    """Send a draft budget to management for approval (R7.1); it is locked from now on."""
    budget = _editable_budget(actor, budget)
    if not budget.lines.exists():
        raise ValidationError(MSG_NO_LINES)
    budget.status = DocStatus.SUBMITTED
    _stamp(budget, actor)
    budget.save()
    return approvals.request_submit(actor=actor, document=budget, comment=comment)


def _set_status(model, pk: int, expected: str, status: str, **extra) -> bool:
    """Move a document from `expected` to `status` under a row lock; False when it was not
    in `expected` (an approval hook that already ran, or a stale call)."""
    document = model.objects.select_for_update().get(pk=pk)
    if document.status != expected:
        return False
    document.status = status
    for name, value in extra.items():
        setattr(document, name, value)
    document.save()
    return True


def budget_on_approved(budget: Budget, request=None) -> None:
    with transaction.atomic():
        _set_status(
            Budget, budget.pk, DocStatus.SUBMITTED, DocStatus.APPROVED, approved_at=timezone.now()
        )


def budget_on_ended(status: str):
    def hook(budget: Budget, request=None) -> None:
        with transaction.atomic():
            _set_status(Budget, budget.pk, DocStatus.SUBMITTED, status)

    return hook


@transaction.atomic
def budget_copy(
    *,
    actor,
    source: Budget,
    fiscal_year: int,
    percent: Decimal = ZERO,
    department: Department | None = None,
) -> Budget:
    """Start next year's budget from this one, every amount changed by `percent` (+5 = 5% more)."""
    require(actor, FinancePerm.ADD_BUDGET)
    percent = Decimal(percent)
    if not Decimal("-100") <= percent <= Decimal("1000"):
        raise ValidationError({"percent": [MSG_PERCENT_RANGE]})
    budget = budget_create(
        actor=actor,
        fiscal_year=fiscal_year,
        department=department or source.department,
        period_kind=source.period_kind,
        notes=source.notes,
        copied_from=source,
    )
    factor = (Decimal("100") + percent) / Decimal("100")
    BudgetLine.objects.bulk_create(
        [
            BudgetLine(
                budget=budget,
                category_id=line.category_id,
                period=line.period,
                cost_object_type_id=line.cost_object_type_id,
                cost_object_id=line.cost_object_id,
                mode=line.mode,
                # last year's final figure (with supplements and transfers) is the base
                amount=(line.total * factor).quantize(CENT, rounding=ROUND_HALF_UP),
                note=line.note,
            )
            for line in source.lines.all()
        ]
    )
    return budget


# Adjustments: supplementary budgets and transfers -----------------------------------------------


def _department_of(actor) -> Department:
    employee = employee_for_user(actor)
    if employee is None:
        raise PermissionDenied(MSG_NO_EMPLOYEE)
    return employee.department


def _fresh(line: BudgetLine | None) -> BudgetLine | None:
    """The line with its budget as the database has it now (callers may hold stale copies)."""
    return BudgetLine.objects.select_related("budget").get(pk=line.pk) if line else None


def _check_adjustment(kind: str, line: BudgetLine, from_line: BudgetLine | None, amount) -> None:
    line, from_line = _fresh(line), _fresh(from_line)
    if line.budget.status != DocStatus.APPROVED:
        raise ValidationError({"line": [MSG_NOT_APPROVED_BUDGET]})
    if amount is None or amount <= 0:
        raise ValidationError({"amount": [MSG_POSITIVE]})
    if kind == AdjustmentKind.TRANSFER:
        if from_line is None:
            raise ValidationError({"from_line": [MSG_FROM_LINE_REQUIRED]})
        if from_line.pk == line.pk:
            raise ValidationError({"from_line": [MSG_SAME_LINE]})
        if from_line.budget.status != DocStatus.APPROVED:
            raise ValidationError({"from_line": [MSG_NOT_APPROVED_BUDGET]})


@transaction.atomic
def adjustment_create(
    *,
    actor,
    kind: str,
    line: BudgetLine,
    amount: Decimal,
    reason: str,
    from_line: BudgetLine | None = None,
) -> BudgetAdjustment:
    require(actor, FinancePerm.ADD_ADJUSTMENT)
    department = _department_of(actor)
    if kind != AdjustmentKind.TRANSFER:
        from_line = None
    _check_reach(actor, line=line, from_line=from_line)
    _check_adjustment(kind, line, from_line, amount)
    adjustment = BudgetAdjustment(
        number=next_number("TZ"),
        kind=kind,
        line=line,
        from_line=from_line,
        amount=amount,
        reason=reason,
        owner=actor,
        department=department,
        created_by=actor,
    )
    _stamp(adjustment, actor)
    _save(adjustment)
    return adjustment


def _check_reach(actor, **lines: BudgetLine | None) -> None:
    """Only lines the actor may see (their budgets, or lines they may charge) can be adjusted."""
    from ..selectors import line_list  # selectors import the services; import late

    visible = line_list(actor=actor)
    for field, line in lines.items():
        if line is not None and not visible.filter(pk=line.pk).exists():
            raise ValidationError({field: [MSG_LINE_OUT_OF_REACH]})


def _editable_adjustment(actor, adjustment: BudgetAdjustment) -> BudgetAdjustment:
    adjustment = BudgetAdjustment.objects.select_for_update().get(pk=adjustment.pk)
    if adjustment.owner_id != actor.pk:
        raise PermissionDenied(MSG_NOT_OWNER)
    if not adjustment.editable:
        raise ValidationError(MSG_NOT_EDITABLE)
    return adjustment


@transaction.atomic
def adjustment_update(
    *,
    actor,
    adjustment: BudgetAdjustment,
    amount: Decimal,
    reason: str,
    line: BudgetLine | None = None,
    from_line: BudgetLine | None = None,
) -> BudgetAdjustment:
    adjustment = _editable_adjustment(actor, adjustment)
    line = line or adjustment.line
    if adjustment.kind != AdjustmentKind.TRANSFER:
        from_line = None
    else:
        from_line = from_line or adjustment.from_line
    _check_reach(actor, line=line, from_line=from_line)
    _check_adjustment(adjustment.kind, line, from_line, amount)
    adjustment.line, adjustment.from_line = line, from_line
    adjustment.amount, adjustment.reason = amount, reason
    _stamp(adjustment, actor)
    _save(adjustment)
    return adjustment


@transaction.atomic
def adjustment_submit(*, actor, adjustment: BudgetAdjustment, comment: str = "") -> ApprovalRequest:
    """A transfer reserves its amount on the line it comes from until it is decided."""
    adjustment = _editable_adjustment(actor, adjustment)
    _check_adjustment(adjustment.kind, adjustment.line, adjustment.from_line, adjustment.amount)
    if adjustment.kind == AdjustmentKind.TRANSFER:
        lines = control.lock_lines([adjustment.line_id, adjustment.from_line_id])
        source = lines[adjustment.from_line_id]
        if adjustment.amount > source.available:  # money moved must exist, in any control mode
            raise control.OverBudget(source, adjustment.amount, "from_line")
        control.move(source, EntryKind.COMMIT, adjustment.amount, actor=actor, source=adjustment)
    adjustment.status = DocStatus.SUBMITTED
    _stamp(adjustment, actor)
    adjustment.save()
    return approvals.request_submit(actor=actor, document=adjustment, comment=comment)


def adjustment_on_approved(adjustment: BudgetAdjustment, request=None) -> None:
    with transaction.atomic():
        adjustment = BudgetAdjustment.objects.select_for_update().get(pk=adjustment.pk)
        if adjustment.status != DocStatus.SUBMITTED:
            return
        ids = [adjustment.line_id] + ([adjustment.from_line_id] if adjustment.from_line_id else [])
        lines = control.lock_lines(ids)
        target = lines[adjustment.line_id]
        if adjustment.kind == AdjustmentKind.SUPPLEMENT:
            control.move(target, EntryKind.SUPPLEMENT, adjustment.amount, source=adjustment)
        else:
            source = lines[adjustment.from_line_id]
            control.move(source, EntryKind.RELEASE, adjustment.amount, source=adjustment)
            control.move(source, EntryKind.TRANSFER_OUT, adjustment.amount, source=adjustment)
            control.move(target, EntryKind.TRANSFER_IN, adjustment.amount, source=adjustment)
        adjustment.status = DocStatus.APPROVED
        adjustment.save()


def adjustment_on_ended(status: str):
    def hook(adjustment: BudgetAdjustment, request=None) -> None:
        with transaction.atomic():
            adjustment = BudgetAdjustment.objects.select_for_update().get(pk=adjustment.pk)
            if adjustment.status != DocStatus.SUBMITTED:
                return
            if adjustment.kind == AdjustmentKind.TRANSFER:
                source = control.lock_lines([adjustment.from_line_id])[adjustment.from_line_id]
                control.move(source, EntryKind.RELEASE, adjustment.amount, source=adjustment)
            adjustment.status = status
            adjustment.save()

    return hook
