"""Pages of the receipts part of sales: receipts (list, register, detail with approve /
reject / cancel), an order's receipt plan, the receivables aging report and customers' credit
limits. Every page reads through selectors_receipts and writes through services.receipts."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import can_export
from marketdesk.core.spreadsheets import Column, csv_response, xlsx_response

from .. import selectors_receipts as selectors
from ..forms_receipts import (
    AGING_BY,
    AgingForm,
    CreditFilter,
    CreditForm,
    PlanFormSet,
    ReasonForm,
    ReceiptFilter,
    ReceiptForm,
)
from ..models import ReceiptStatus
from ..permissions import SalesPerm
from ..services import receipts as services


def _require(request, *perms: str) -> None:
    if not any(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _apply_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError on the fields it names (others on top of the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _message(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _template(request, name: str) -> str:
    return f"{name}#results" if request.htmx and not request.htmx.boosted else name


def _export(request, *, filename: str, sheet: str, columns: list[Column], rows):
    if not can_export(request.user):
        raise PermissionDenied
    if request.GET.get("format") == "csv":
        return csv_response(filename=filename, columns=columns, rows=rows)
    return xlsx_response(filename=filename, sheet_title=sheet, columns=columns, rows=rows)


# Receipts ---------------------------------------------------------------------------------------

RECEIPT_SORTS = {
    "number": "number",
    "received": "received_on",
    "amount": "amount",
    "status": "status",
    "customer": "customer__name",
}
RECEIPT_SEARCH = ["number", "reference", "order__number", "customer__name"]


def receipt_columns() -> list[Column]:
    return [
        Column(gettext_lazy("Receipt no."), lambda r: r.number, 16),
        Column(gettext_lazy("Received on"), lambda r: r.received_on, 12),
        Column(gettext_lazy("Customer"), lambda r: r.customer.name, 28),
        Column(gettext_lazy("Order no."), lambda r: r.order.number, 16),
        Column(gettext_lazy("Instalment"), lambda r: r.plan.instalment if r.plan else "", 8),
        Column(gettext_lazy("Amount"), lambda r: r.amount, 14),
        Column(gettext_lazy("Method"), lambda r: r.get_method_display(), 12),
        Column(gettext_lazy("Bank or payment reference"), lambda r: r.reference, 22),
        Column(gettext_lazy("Status"), lambda r: r.get_status_display(), 14),
        Column(gettext_lazy("Salesperson"), lambda r: str(r.owner), 12),
        Column(gettext_lazy("Department"), lambda r: r.department.name if r.department else "", 14),
        Column(gettext_lazy("Registered by"), lambda r: str(r.created_by or ""), 12),
        Column(gettext_lazy("Approved or rejected by"), lambda r: str(r.decided_by or ""), 12),
        Column(gettext_lazy("Reason"), lambda r: r.reason, 24),
    ]


@login_required
def receipt_list(request):
    _require(request, SalesPerm.VIEW_RECEIPT)
    result = list_page(
        request,
        selectors.receipt_list(actor=request.user),
        sorts=RECEIPT_SORTS,
        default_sort="-received",
        filterset_class=ReceiptFilter,
        search_fields=RECEIPT_SEARCH,
    )
    context = {
        "result": result,
        "can_add": request.user.has_perm(SalesPerm.ADD_RECEIPT),
        "export_url": reverse("sales:receipt_export") if can_export(request.user) else "",
    }
    return render(request, _template(request, "sales/receipts/list.html"), context)


@login_required
def receipt_export(request):
    _require(request, SalesPerm.VIEW_RECEIPT)
    queryset, _filterset, _search = filtered(
        request,
        selectors.receipt_list(actor=request.user),
        filterset_class=ReceiptFilter,
        search_fields=RECEIPT_SEARCH,
    )
    rows = queryset.order_by("-received_on", "-pk").iterator(chunk_size=2000)
    return _export(
        request,
        filename=_("receipts"),
        sheet=_("Receipts"),
        columns=receipt_columns(),
        rows=rows,
    )


def _order_picker(request):
    """No order chosen yet: the orders with money left to register, to pick one."""
    result = list_page(
        request,
        selectors.receivable_orders(actor=request.user),
        sorts={"number": "number", "date": "order_date", "total": "total"},
        default_sort="-date",
        search_fields=["number", "customer__name", "title"],
    )
    return render(request, _template(request, "sales/receipts/order_pick.html"), {"result": result})


@login_required
def receipt_create(request):
    """Register a receipt for an order: receipts/new/?order=<pk>."""
    _require(request, SalesPerm.ADD_RECEIPT)
    order_pk = request.GET.get("order", "")
    if not order_pk.isdigit():
        return _order_picker(request)
    order = selectors.order_for_receipts(actor=request.user, pk=int(order_pk))
    plans = selectors.order_plans(order)
    form = ReceiptForm(request.POST or None, plans=plans)
    if request.method == "POST" and form.is_valid():
        try:
            receipt = services.receipt_register(
                actor=request.user, order=order, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            if receipt.status == ReceiptStatus.PENDING:
                messages.success(
                    request,
                    _(
                        "Receipt %(number)s registered; it counts as received once finance "
                        "approves it."
                    )
                    % {"number": receipt.number},
                )
            else:
                messages.success(
                    request, _("Receipt %(number)s registered.") % {"number": receipt.number}
                )
            return redirect("sales:receipt_detail", pk=receipt.pk)
    receivables = selectors.order_receivables(actor=request.user, order=order)
    return render(
        request,
        "sales/receipts/form.html",
        {"form": form, "order": order, "r": receivables, "plans": plans},
    )


@login_required
def receipt_detail(request, pk: int):
    receipt = selectors.receipt_get(actor=request.user, pk=pk)
    can_decide = selectors.can_decide(actor=request.user, receipt=receipt)
    can_cancel = services.can_cancel(request.user, receipt) and (
        receipt.order.status != "completed" or receipt.status != ReceiptStatus.CONFIRMED
    )
    return render(
        request,
        "sales/receipts/detail.html",
        {
            "receipt": receipt,
            "can_decide": can_decide,
            "can_cancel": can_cancel,
            "reason_form": ReasonForm(),
            "can_edit_files": receipt.created_by_id == request.user.pk
            or request.user.has_perm(SalesPerm.APPROVE_RECEIPT),
            "is_own_pending": receipt.status == ReceiptStatus.PENDING
            and receipt.created_by_id == request.user.pk
            and request.user.has_perm(SalesPerm.APPROVE_RECEIPT),
        },
    )


@login_required
@require_POST
def receipt_action(request, pk: int, action: str):
    receipt = selectors.receipt_get(actor=request.user, pk=pk)
    try:
        if action == "approve":
            services.receipt_approve(actor=request.user, receipt=receipt)
            messages.success(request, _("Approved: the receipt counts as received."))
        elif action in ("reject", "cancel"):
            form = ReasonForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            if action == "reject":
                services.receipt_reject(actor=request.user, receipt=receipt, reason=reason)
                messages.success(request, _("Rejected."))
            else:
                services.receipt_cancel(actor=request.user, receipt=receipt, reason=reason)
                messages.success(request, _("Cancelled; the amount is open again."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("sales:receipt_detail", pk=receipt.pk)


# Receipt plan of an order -----------------------------------------------------------------------


def _plan_rows(formset) -> list[dict]:
    """The rows the user kept; rows without an instalment number get the next free ones."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        rows.append({key: value for key, value in data.items() if key != "DELETE"})
    numbers = [row["instalment"] for row in rows if row.get("instalment")]
    following = max(numbers, default=0)
    for row in rows:
        if not row.get("instalment"):
            following += 1
            row["instalment"] = following
    return rows


def _apply_plan_errors(formset, exc: ValidationError) -> list[str]:
    """Errors of rows (`plans[2].amount`) on that row's field; the rest is returned."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    others: list[str] = []
    for key, errors in exc.message_dict.items():
        if key.startswith("plans[") and "]." in key:
            index, field = key[6:].split("].", 1)
            row = kept[int(index) - 1] if index.isdigit() and 0 < int(index) <= len(kept) else None
            if row is not None:
                row.add_error(field if field in row.fields else None, errors)
                continue
        others.extend(errors)
    return others


@login_required
def plan_edit(request, order_pk: int):
    _require(request, SalesPerm.ADD_RECEIPT)
    order = selectors.order_for_receipts(actor=request.user, pk=order_pk)
    plans = selectors.order_plans(order)
    initial = [
        {
            "id": plan.pk,
            "instalment": plan.instalment,
            "due_date": plan.due_date,
            "amount": plan.amount,
            "method": plan.method,
            "notes": plan.notes,
        }
        for plan in plans
    ]
    formset = PlanFormSet(request.POST or None, initial=initial, prefix="plans")
    errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            services.receipt_plans_set(actor=request.user, order=order, plans=_plan_rows(formset))
        except ValidationError as exc:
            errors = _apply_plan_errors(formset, exc)
        except PermissionDenied as exc:
            errors = [str(exc)]
        else:
            messages.success(request, _("Receipt plan saved."))
            return redirect(reverse("sales:plan_edit", args=[order.pk]))
    planned = sum((plan.amount for plan in plans), Decimal("0"))
    return render(
        request,
        "sales/receipts/plans.html",
        {
            "order": order,
            "formset": formset,
            "errors": errors,
            "planned": planned,
            "unplanned": order.total - planned,
            "r": selectors.order_receivables(actor=request.user, order=order),
        },
    )


# Aging --------------------------------------------------------------------------------------------


def aging_columns(by_label) -> list[Column]:
    return [
        Column(by_label, lambda r: r["name"], 24),
        *[Column(label, lambda r, k=key: r[k], 14) for key, label in selectors.BUCKETS],
        Column(gettext_lazy("Overdue"), lambda r: r["overdue"], 14),
        Column(gettext_lazy("Total outstanding"), lambda r: r["total"], 14),
    ]


def instalment_columns() -> list[Column]:
    return [
        Column(gettext_lazy("Order no."), lambda r: r["row_order_number"], 16),
        Column(gettext_lazy("Customer"), lambda r: r["row_customer"], 28),
        Column(
            gettext_lazy("Instalment"),
            lambda r: r["row_instalment"] or _("outside the plan"),
            10,
        ),
        Column(gettext_lazy("Due date"), lambda r: r["row_due"], 12),
        Column(gettext_lazy("Days overdue"), lambda r: max(r["days"], 0), 10),
        Column(gettext_lazy("Outstanding"), lambda r: r["row_outstanding"], 14),
        Column(gettext_lazy("Salesperson"), lambda r: r["row_owner"], 12),
        Column(gettext_lazy("Department"), lambda r: r["row_department"] or "", 14),
    ]


def _aging_chart(totals: dict) -> dict:
    colours = ["#0d6efd", "#ffc107", "#fd7e14", "#dc3545", "#6f1d1b"]
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 16, "top": 16, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(label) for _k, label in selectors.BUCKETS]},
        "yAxis": {"type": "value"},
        "series": [
            {
                "type": "bar",
                "name": str(_("Outstanding")),
                "data": [
                    {"value": float(totals[key]), "itemStyle": {"color": colours[index]}}
                    for index, (key, _label) in enumerate(selectors.BUCKETS)
                ],
            }
        ],
    }


@login_required
def aging(request):
    _require(request, SalesPerm.VIEW_RECEIPT)
    owners = (
        get_user_model()
        .objects.filter(pk__in=selectors.aging_orders(actor=request.user).values("owner_id"))
        .order_by("name")
    )
    form = AgingForm(request.GET or None, owners=owners)
    values = form.values()
    filters = {k: values[k] for k in ("department", "owner", "q")}
    if values["mine"]:
        filters["owner"] = request.user
    today = timezone.localdate()
    by = values["by"]
    by_label = dict(AGING_BY)[by]
    exporting = request.GET.get("format") in ("xlsx", "csv")
    report = selectors.aging(
        actor=request.user,
        by="customer" if by == "instalment" else by,
        today=today,
        filters=filters,
    )
    context = {
        "form": form,
        "by": by,
        "by_label": by_label,
        "buckets": selectors.BUCKETS,
        "totals": report["totals"],
        "total_cells": [(key, label, report["totals"][key]) for key, label in selectors.BUCKETS],
        "today": today,
        "chart": _aging_chart(report["totals"]) if report["totals"]["total"] else None,
        "can_export": can_export(request.user),
        "querystring": request.GET.urlencode(),
    }
    name = f"{_('receivables-aging')}-{today:%Y%m%d}-{by}"
    if by == "instalment":
        rows = selectors.instalments(
            actor=request.user, today=today, filters=filters, overdue_only=values["overdue"]
        ).order_by("row_due", "row_order_id", "row_instalment")
        if exporting:
            return _export(
                request,
                filename=name,
                sheet=_("Instalments"),
                columns=instalment_columns(),
                rows=selectors.instalment_rows(rows, today),
            )
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        context["page"] = page
        context["instalments"] = selectors.instalment_rows(page.object_list, today)
    else:
        rows = report["rows"]
        if values["overdue"]:
            rows = [row for row in rows if row["overdue"] > 0]
        if exporting:
            return _export(
                request,
                filename=name,
                sheet=str(by_label),
                columns=aging_columns(by_label),
                rows=rows,
            )
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        context["page"] = page
        context["rows"] = [
            {**row, "cells": [row[key] for key in selectors.BUCKET_KEYS]}
            for row in page.object_list
        ]
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    context["querystring"] = params.urlencode()
    return render(request, "sales/receipts/aging.html", context)


# Credit limits ------------------------------------------------------------------------------------

CREDIT_SORTS = {
    "name": "name",
    "open": "open_receivables",
    "limit": "credit_limit",
    "available": "available",
}


def credit_columns() -> list[Column]:
    return [
        Column(gettext_lazy("Customer no."), lambda c: c.number, 14),
        Column(gettext_lazy("Customer"), lambda c: c.name, 28),
        Column(gettext_lazy("Owner"), lambda c: str(c.owner or ""), 12),
        Column(gettext_lazy("Channel tier"), lambda c: c.tier or "direct", 12),
        Column(gettext_lazy("Credit limit"), lambda c: c.credit_limit, 14),
        Column(gettext_lazy("Open receivables"), lambda c: c.open_receivables, 14),
        Column(gettext_lazy("Available credit"), lambda c: c.available, 14),
    ]


@login_required
def credit(request):
    _require(request, SalesPerm.VIEW_RECEIPT, SalesPerm.CHANGE_CREDIT)
    queryset = selectors.credit_customers(actor=request.user)
    if request.GET.get("format") in ("xlsx", "csv"):
        rows, _filterset, _search = filtered(
            request, queryset, filterset_class=CreditFilter, search_fields=["name", "number"]
        )
        return _export(
            request,
            filename=_("credit-limits"),
            sheet=_("Credit limits"),
            columns=credit_columns(),
            rows=rows.order_by("name", "pk").iterator(chunk_size=2000),
        )
    result = list_page(
        request,
        queryset,
        sorts=CREDIT_SORTS,
        default_sort="-open",
        filterset_class=CreditFilter,
        search_fields=["name", "number"],
    )
    context = {
        "result": result,
        "can_change": request.user.has_perm(SalesPerm.CHANGE_CREDIT),
        "export_url": reverse("sales:credit") if can_export(request.user) else "",
    }
    return render(request, _template(request, "sales/receipts/credit_list.html"), context)


@login_required
def credit_edit(request, pk: int):
    _require(request, SalesPerm.CHANGE_CREDIT)
    customer = selectors.credit_customer_get(actor=request.user, pk=pk)
    if not selectors.can_change_credit(actor=request.user, customer=customer):
        raise PermissionDenied
    form = CreditForm(
        request.POST or None,
        initial={"credit_limit": customer.credit_limit, "channel_tier": customer.tier or "direct"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_account_update(
                actor=request.user, customer=customer, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Credit limit saved."))
            return redirect(reverse("sales:credit") + f"?q={customer.number}")
    return render(
        request,
        "sales/receipts/credit_form.html",
        {
            "form": form,
            "customer": customer,
            "position": selectors.credit_summary(customer),
        },
    )


urlpatterns = [
    path("receipts/", receipt_list, name="receipt_list"),
    path("receipts/export/", receipt_export, name="receipt_export"),
    path("receipts/new/", receipt_create, name="receipt_create"),
    path("receipts/plans/<int:order_pk>/", plan_edit, name="plan_edit"),
    path("receipts/aging/", aging, name="aging"),
    path("receipts/credit/", credit, name="credit"),
    path("receipts/credit/<int:pk>/", credit_edit, name="credit_edit"),
    path("receipts/<int:pk>/", receipt_detail, name="receipt_detail"),
    path("receipts/<int:pk>/<str:action>/", receipt_action, name="receipt_action"),
]
