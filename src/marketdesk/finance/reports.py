"""Finance report pages: accounting per period (R7.3.1) and the analysis of how well the
money worked (R7.3.2), with charts and exports."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from marketdesk.core import metrics
from marketdesk.core.masking import can_export
from marketdesk.core.spreadsheets import csv_response, xlsx_response

from . import selectors
from .exports import analysis_columns, voucher_line_columns
from .forms import PeriodForm
from .models import Family
from .periods import year_range
from .permissions import FinancePerm


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _year(request) -> int:
    value = request.GET.get("year", "")
    return (
        int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else timezone.localdate().year
    )


@login_required
def accounting(request):
    _require(request, FinancePerm.VIEW_ACCOUNTING)
    form = PeriodForm(request.GET or None)
    start, end = form.range()
    if request.GET.get("format") in ("xlsx", "csv"):
        if not can_export(request.user):
            raise PermissionDenied
        rows = selectors.posted_lines(actor=request.user, start=start, end=end).iterator(
            chunk_size=2000
        )
        label = _("voucher-lines")
        name = f"{label}-{start:%Y%m%d}-{end:%Y%m%d}"
        if request.GET["format"] == "csv":
            return csv_response(filename=name, columns=voucher_line_columns(), rows=rows)
        return xlsx_response(
            filename=name, sheet_title=_("Voucher lines"), columns=voucher_line_columns(), rows=rows
        )
    summary = selectors.posted_by_category_and_department(actor=request.user, start=start, end=end)
    year = _year(request)
    reconciliation = selectors.reconciliation(actor=request.user, fiscal_year=year)
    return render(
        request,
        "finance/accounting.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "summary": summary,
            "summary_total": sum((row["total"] or Decimal("0") for row in summary), Decimal("0")),
            "reconciliation": [row for row in reconciliation if row["line"].spent or row["posted"]],
            "year": year,
            "can_export": can_export(request.user),
        },
    )


def _label(row: dict, by: str) -> str:
    if by == "period":
        return _("Period %(number)s") % {"number": row["period"]}
    if by == "family":
        return str(Family(row["category__family"]).label)
    if by == "category":
        return f"{Family(row['category__family']).label} / {row['category__name']}"
    return row["budget__department__name"]


@login_required
def analysis(request):
    _require(request, FinancePerm.VIEW_ANALYSIS)
    year = _year(request)
    by = request.GET.get("by", "family")
    by = by if by in selectors.DIMENSIONS else "family"
    rows = selectors.budget_vs_actual(actor=request.user, fiscal_year=year, by=by)
    for row in rows:
        row["label"] = _label(row, by)
    by_labels = {
        "family": _("Family"),
        "category": _("Category"),
        "period": _("Period"),
        "unit": _("Unit"),
    }
    if request.GET.get("format") in ("xlsx", "csv"):
        if not can_export(request.user):
            raise PermissionDenied
        columns = analysis_columns(by_labels[by])
        name = f"{_('expense-analysis')}-{year}-{by}"
        if request.GET["format"] == "csv":
            return csv_response(filename=name, columns=columns, rows=rows)
        return xlsx_response(filename=name, sheet_title=str(year), columns=columns, rows=rows)
    trend = selectors.budget_vs_actual(actor=request.user, fiscal_year=year, by="period")
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [_label(row, "period") for row in trend],
        },
        "yAxis": {"type": "value"},
        "series": [
            {"type": "bar", "name": _("Budget"), "data": [float(r["budget"] or 0) for r in trend]},
            {"type": "bar", "name": _("Actual"), "data": [float(r["actual"] or 0) for r in trend]},
            {
                "type": "line",
                "name": _("Execution rate (%)"),
                "data": [float(r["rate"] or 0) for r in trend],
            },
        ],
    }
    compare = {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 16, "top": 8, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "inverse": True, "data": [row["label"] for row in rows]},
        "series": [
            {"type": "bar", "name": _("Budget"), "data": [float(r["budget"] or 0) for r in rows]},
            {"type": "bar", "name": _("Actual"), "data": [float(r["actual"] or 0) for r in rows]},
        ],
    }
    start, end = year_range(year)
    results = _cost_per_result(request.user, start, end)
    return render(
        request,
        "finance/analysis.html",
        {
            "year": year,
            "by": by,
            "by_labels": by_labels,
            "rows": rows,
            "chart": chart if rows else None,
            "compare": compare if rows else None,
            "results": results,
            "has_won": metrics.has_metric(metrics.CUSTOMERS_WON),
            "has_orders": metrics.has_metric(metrics.ORDER_AMOUNT),
            "can_export": can_export(request.user),
        },
    )


def _cost_per_result(actor, start, end) -> list[dict]:
    """Spending per department and family against customers won and order amount (from the
    apps that register those metrics; "—" while none does)."""
    rows = selectors.spent_by_family_and_department(actor=actor, start=start, end=end)
    ids = {row["claim__department_id"] for row in rows}
    won = metrics.metric(metrics.CUSTOMERS_WON, department_ids=ids, start=start, end=end)
    orders = metrics.metric(metrics.ORDER_AMOUNT, department_ids=ids, start=start, end=end)
    spent_by_unit = selectors.spent_by_department(actor=actor, start=start, end=end)
    result = []
    for row in rows:
        unit = row["claim__department_id"]
        spent = row["total"] or Decimal("0")
        unit_won, unit_orders = won.get(unit), orders.get(unit)
        result.append(
            {
                "unit": row["claim__department__name"],
                "family": Family(row["fam"]).label if row["fam"] in Family.values else row["fam"],
                "spent": spent,
                "unit_spent": spent_by_unit.get(unit, Decimal("0")),
                "won": unit_won,
                "per_customer": (spent / unit_won).quantize(Decimal("0.01")) if unit_won else None,
                "orders": unit_orders,
                "per_yuan": (spent / unit_orders).quantize(Decimal("0.0001"))
                if unit_orders
                else None,
            }
        )
    return result
