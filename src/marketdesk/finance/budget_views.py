"""Budget pages: budgets with their grid of lines, copy to next year, line ledgers, and
adjustments (追加预算 / 调剂). Claims and expense requests are in `views.py`."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketdesk.approvals import selectors as approval_selectors
from marketdesk.core.listing import list_page

from . import selectors, services
from .filters import AdjustmentFilter, BudgetFilter, LineFilter
from .forms import AdjustmentForm, BudgetCategoryForm, BudgetEditForm, BudgetForm, CopyForm
from .models import DocStatus
from .permissions import FinancePerm
from .views import _apply_errors, _message, _require, _template

# Budgets ------------------------------------------------------------------------------------------


@login_required
def budget_list(request):
    _require(request, FinancePerm.VIEW_BUDGET)
    result = list_page(
        request,
        selectors.budget_list(actor=request.user),
        sorts={"year": "fiscal_year", "number": "number", "unit": "department__path"},
        default_sort="-year",
        filterset_class=BudgetFilter,
        search_fields=["number", "name", "department__name"],
    )
    return render(
        request,
        _template(request, "finance/budget_list.html"),
        {"result": result, "can_add": request.user.has_perm(FinancePerm.ADD_BUDGET)},
    )


@login_required
def budget_create(request):
    _require(request, FinancePerm.ADD_BUDGET)
    form = BudgetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            budget = services.budget_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _apply_errors(form, exc) if isinstance(exc, ValidationError) else form.add_error(
                None, str(exc)
            )
        else:
            messages.success(request, _("Budget created; add its lines."))
            return redirect("finance:budget_detail", pk=budget.pk)
    return render(request, "finance/budget_form.html", {"form": form, "budget": None})


@login_required
def budget_edit(request, pk: int):
    budget = selectors.budget_get(actor=request.user, pk=pk)
    _require(request, FinancePerm.CHANGE_BUDGET)
    form = BudgetEditForm(
        request.POST or None,
        initial={"name": budget.name, "period_kind": budget.period_kind, "notes": budget.notes},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.budget_update(actor=request.user, budget=budget, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _apply_errors(form, exc) if isinstance(exc, ValidationError) else form.add_error(
                None, str(exc)
            )
        else:
            messages.success(request, _("Saved."))
            return redirect("finance:budget_detail", pk=budget.pk)
    return render(request, "finance/budget_form.html", {"form": form, "budget": budget})


def _grid(budget, lines) -> list[dict]:
    """Rows per category (and cost object) with a cell per period, for the budget page."""
    rows: dict[tuple, dict] = {}
    for line in lines:
        key = (line.category_id, line.cost_object_type_id, line.cost_object_id)
        row = rows.setdefault(
            key,
            {
                "category": line.category,
                "cost_object": line.cost_object,
                "cells": {},
                "mode": line.mode,
            },
        )
        row["cells"][line.period] = line
    result = []
    for row in rows.values():
        cells = [row["cells"].get(period) for period in range(1, budget.period_count + 1)]
        row["cells"] = cells
        row["total"] = sum((c.total for c in cells if c), Decimal("0"))
        row["spent"] = sum((c.spent for c in cells if c), Decimal("0"))
        row["committed"] = sum((c.committed for c in cells if c), Decimal("0"))
        result.append(row)
    return result


@login_required
def budget_detail(request, pk: int):
    budget = selectors.budget_get(actor=request.user, pk=pk)
    lines = list(
        selectors.line_list(actor=request.user)
        .filter(budget=budget)
        .order_by("category__family", "category__sort_order", "period")
    )
    can_change = request.user.has_perm(FinancePerm.CHANGE_BUDGET) and budget.editable
    totals = {
        "total": sum((line.total for line in lines), Decimal("0")),
        "committed": sum((line.committed for line in lines), Decimal("0")),
        "spent": sum((line.spent for line in lines), Decimal("0")),
    }
    totals["available"] = totals["total"] - totals["committed"] - totals["spent"]
    return render(
        request,
        "finance/budget_detail.html",
        {
            "budget": budget,
            "rows": _grid(budget, lines),
            "periods": [
                f"Q{n}" if budget.period_kind == "quarter" else f"{n:02d}"
                for n in range(1, budget.period_count + 1)
            ],
            "totals": totals,
            "approvals": list(approval_selectors.requests_for_document(budget)),
            "can_change": can_change,
            "can_submit": can_change and bool(lines),
            "can_copy": request.user.has_perm(FinancePerm.ADD_BUDGET),
            "line_form": BudgetCategoryForm(
                periods=budget.period_count, period_kind=budget.period_kind
            )
            if can_change
            else None,
            "copy_form": CopyForm(initial={"fiscal_year": budget.fiscal_year + 1}),
        },
    )


@login_required
@require_POST
def budget_lines(request, pk: int):
    budget = selectors.budget_get(actor=request.user, pk=pk)
    form = BudgetCategoryForm(
        request.POST, periods=budget.period_count, period_kind=budget.period_kind
    )
    if form.is_valid():
        try:
            services.budget_category_set(
                actor=request.user,
                budget=budget,
                category=form.cleaned_data["category"],
                amounts=form.amounts(),
                mode=form.cleaned_data["mode"],
            )
            messages.success(request, _("Saved."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _message(exc))
    else:
        messages.error(
            request,
            " ".join(f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items()),
        )
    return redirect("finance:budget_detail", pk=pk)


@login_required
@require_POST
def budget_line_delete(request, pk: int, line_pk: int):
    budget = selectors.budget_get(actor=request.user, pk=pk)
    line = budget.lines.filter(pk=line_pk).first()
    if line is None:
        raise Http404
    try:
        services.budget_line_delete(actor=request.user, line=line)
        messages.success(request, _("Line removed."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("finance:budget_detail", pk=pk)


@login_required
@require_POST
def budget_action(request, pk: int, action: str):
    budget = selectors.budget_get(actor=request.user, pk=pk)
    try:
        if action == "submit":
            services.budget_submit(
                actor=request.user, budget=budget, comment=request.POST.get("comment", "")
            )
            messages.success(request, _("Submitted to management for approval."))
        elif action == "copy":
            form = CopyForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the fiscal year and the percentage."))
            copy = services.budget_copy(actor=request.user, source=budget, **form.cleaned_data)
            messages.success(
                request, _("Copied as a draft for %(year)s.") % {"year": copy.fiscal_year}
            )
            return redirect("finance:budget_detail", pk=copy.pk)
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("finance:budget_detail", pk=pk)


@login_required
def line_list(request):
    _require(request, FinancePerm.VIEW_BUDGET, FinancePerm.ADD_CLAIM)
    result = list_page(
        request,
        selectors.line_list(actor=request.user),
        sorts={
            "unit": "budget__department__path",
            "period": "period",
            "available": "available_amount",
            "spent": "spent",
        },
        default_sort="unit",
        filterset_class=LineFilter,
        search_fields=["category__name", "budget__department__name", "budget__number"],
    )
    return render(request, _template(request, "finance/line_list.html"), {"result": result})


@login_required
def line_detail(request, pk: int):
    line = selectors.line_get(actor=request.user, pk=pk)
    return render(
        request,
        "finance/line_detail.html",
        {
            "line": line,
            "entries": selectors.entries_for(line)[:200],
            "can_adjust": request.user.has_perm(FinancePerm.ADD_ADJUSTMENT)
            and line.budget.status == DocStatus.APPROVED,
        },
    )


# Adjustments --------------------------------------------------------------------------------------


@login_required
def adjustment_list(request):
    _require(request, FinancePerm.VIEW_ADJUSTMENT, FinancePerm.ADD_ADJUSTMENT)
    result = list_page(
        request,
        selectors.adjustment_list(actor=request.user),
        sorts={"number": "number", "created": "created_at", "amount": "amount"},
        default_sort="-created",
        filterset_class=AdjustmentFilter,
        search_fields=["number", "reason", "owner__name"],
    )
    return render(
        request,
        _template(request, "finance/adjustment_list.html"),
        {"result": result, "can_add": request.user.has_perm(FinancePerm.ADD_ADJUSTMENT)},
    )


def _adjustable_lines(actor):
    visible = selectors.line_list(actor=actor).filter(budget__status=DocStatus.APPROVED)
    return visible.order_by("budget__department__path", "category__family", "period")


@login_required
def adjustment_create(request):
    _require(request, FinancePerm.ADD_ADJUSTMENT)
    initial = {
        key: request.GET.get(key) for key in ("kind", "line", "amount") if request.GET.get(key)
    }
    form = AdjustmentForm(
        request.POST or None, initial=initial, lines=_adjustable_lines(request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            adjustment = services.adjustment_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _apply_errors(form, exc) if isinstance(exc, ValidationError) else form.add_error(
                None, str(exc)
            )
        else:
            if request.POST.get("submit") == "1":
                return adjustment_action(request, adjustment.pk, "submit")
            messages.success(request, _("Saved as a draft."))
            return redirect("finance:adjustment_detail", pk=adjustment.pk)
    return render(request, "finance/adjustment_form.html", {"form": form})


@login_required
def adjustment_detail(request, pk: int):
    adjustment = selectors.adjustment_get(actor=request.user, pk=pk)
    return render(
        request,
        "finance/adjustment_detail.html",
        {
            "adjustment": adjustment,
            "approvals": list(approval_selectors.requests_for_document(adjustment)),
            "can_submit": adjustment.owner_id == request.user.pk and adjustment.editable,
        },
    )


@login_required
@require_POST
def adjustment_action(request, pk: int, action: str):
    adjustment = selectors.adjustment_get(actor=request.user, pk=pk)
    try:
        if action == "submit":
            services.adjustment_submit(actor=request.user, adjustment=adjustment)
            messages.success(request, _("Submitted for approval."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("finance:adjustment_detail", pk=pk)
