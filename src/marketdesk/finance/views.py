"""Finance pages: expense claims (list, form, vouchers, actions) and expense requests.
Budgets, lines and adjustments are in `budget_views.py`; accounting and analysis in `reports.py`."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketdesk.approvals import selectors as approval_selectors
from marketdesk.approvals.services import latest_request
from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import can_export
from marketdesk.core.spreadsheets import csv_response, xlsx_response

from . import selectors, services
from .exports import claim_columns
from .filters import (
    ClaimFilter,
    ExpenseRequestFilter,
)
from .forms import (
    ClaimForm,
    ClaimLineFormSet,
    ExpenseRequestForm,
    PayForm,
    PostForm,
    ReasonForm,
    ReviewForm,
    VoucherForm,
)
from .models import AdjustmentKind, ClaimStatus, ControlMode, DocStatus
from .permissions import FinancePerm


def _require(request, *perms: str) -> None:
    if not any(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _apply_errors(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the fields it names (others go on top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _message(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _template(request, name: str) -> str:
    return f"{name}#results" if request.htmx and not request.htmx.boosted else name


def _supplement_url(exc: services.OverBudget) -> str:
    """The supplementary request form, prefilled with the line and the missing amount."""
    query = urlencode(
        {
            "kind": AdjustmentKind.SUPPLEMENT,
            "line": exc.line.pk,
            "amount": f"{max(exc.shortfall, Decimal('0.01')):.2f}",
        }
    )
    return f"{reverse('finance:adjustment_create')}?{query}"


# Expense claims -----------------------------------------------------------------------------------

CLAIM_SORTS = {
    "number": "number",
    "created": "created_at",
    "submitted": "submitted_at",
    "total": "total",
    "status": "status",
}
CLAIM_SEARCH = ["number", "title", "claimant__name"]


@login_required
def claim_list(request):
    _require(request, FinancePerm.VIEW_CLAIM, FinancePerm.ADD_CLAIM)
    result = list_page(
        request,
        selectors.claim_list(actor=request.user),
        sorts=CLAIM_SORTS,
        default_sort="-created",
        filterset_class=ClaimFilter,
        search_fields=CLAIM_SEARCH,
    )
    context = {
        "result": result,
        "can_add": request.user.has_perm(FinancePerm.ADD_CLAIM),
        "export_url": reverse("finance:claim_export") if can_export(request.user) else "",
    }
    return render(request, _template(request, "finance/claim_list.html"), context)


@login_required
def claim_export(request):
    _require(request, FinancePerm.VIEW_CLAIM, FinancePerm.ADD_CLAIM)
    if not can_export(request.user):
        raise PermissionDenied
    queryset, _filterset, _search = filtered(
        request,
        selectors.claim_list(actor=request.user),
        filterset_class=ClaimFilter,
        search_fields=CLAIM_SEARCH,
    )
    rows = queryset.order_by("-created_at", "-pk").iterator(chunk_size=2000)
    if request.GET.get("format") == "csv":
        return csv_response(filename=_("expense-claims"), columns=claim_columns(), rows=rows)
    return xlsx_response(
        filename=_("expense-claims"),
        sheet_title=_("Expense claims"),
        columns=claim_columns(),
        rows=rows,
    )


def _line_rows(formset) -> list[dict]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        rows.append({key: value for key, value in data.items() if key != "DELETE"})
    return rows


def _apply_claim_errors(form, formset, exc: ValidationError) -> None:
    """Errors of lines (`lines[2].amount`) go on that row's field; others on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    for key, errors in exc.message_dict.items():
        if key.startswith("lines[") and "]." in key:
            index, field = key[6:].split("].", 1)
            row = kept[int(index) - 1] if index.isdigit() and int(index) <= len(kept) else None
            if row is not None:
                row.add_error(field if field in row.fields else None, errors)
                continue
        form.add_error(key if key in form.fields else None, errors)


@login_required
def claim_form(request, pk: int | None = None):
    claim = selectors.claim_get(actor=request.user, pk=pk) if pk else None
    _require(request, FinancePerm.ADD_CLAIM)
    if claim is not None and (claim.claimant_id != request.user.pk or not claim.editable):
        raise PermissionDenied
    lines = selectors.usable_lines(actor=request.user)
    requests = selectors.open_requests(actor=request.user)
    if claim is not None and claim.expense_request_id:
        requests = requests | selectors.expense_request_list(actor=request.user).filter(
            pk=claim.expense_request_id
        )
    initial_lines = []
    if claim is not None:
        initial_lines = [
            {
                "id": line.pk,
                "spent_on": line.spent_on,
                "category": line.category_id,
                "budget_line": line.budget_line_id,
                "amount": line.amount,
                "description": line.description,
            }
            for line in selectors.claim_lines(claim)
        ]
        initial = {"title": claim.title, "expense_request": claim.expense_request_id}
    else:
        initial = {"expense_request": request.GET.get("request") or None}
    form = ClaimForm(request.POST or None, initial=initial, requests=requests)
    formset = ClaimLineFormSet(
        request.POST or None, initial=initial_lines or None, prefix="lines", lines=lines
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = _line_rows(formset)
        try:
            if claim is None:
                for row in rows:
                    row.pop("id", None)
                claim = services.claim_create(
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    expense_request=form.cleaned_data["expense_request"],
                    lines=rows,
                )
            else:
                claim = services.claim_update(
                    actor=request.user,
                    claim=claim,
                    title=form.cleaned_data["title"],
                    expense_request=form.cleaned_data["expense_request"],
                    lines=rows,
                )
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                form.add_error(None, str(exc))
            else:
                _apply_claim_errors(form, formset, exc)
        else:
            messages.success(request, _("Saved. Add the invoices, then submit."))
            return redirect("finance:claim_detail", pk=claim.pk)
    return render(
        request,
        "finance/claim_form.html",
        {"form": form, "formset": formset, "claim": claim, "has_lines": lines.exists()},
    )


@login_required
def claim_detail(request, pk: int):
    claim = selectors.claim_get(actor=request.user, pk=pk)
    lines = list(selectors.claim_lines(claim))
    is_claimant = claim.claimant_id == request.user.pk
    approvals = list(approval_selectors.requests_for_document(claim))
    latest = approvals[0] if approvals else None
    context = {
        "claim": claim,
        "lines": lines,
        "vouchers": list(selectors.claim_vouchers(claim)),
        "approvals": approvals,
        "latest": latest,
        "holders": selectors.claim_holders(claim),
        "is_claimant": is_claimant,
        "can_edit": is_claimant and claim.editable,
        "can_withdraw": is_claimant
        and claim.status == ClaimStatus.SUBMITTED
        and latest is not None
        and not latest.tasks.exclude(status__in=["waiting", "cancelled"]).exists(),
        "voucher_form": VoucherForm(claim=claim) if is_claimant and claim.editable else None,
        "review_form": ReviewForm(lines=lines)
        if claim.status == ClaimStatus.APPROVED and request.user.has_perm(FinancePerm.REVIEW_CLAIM)
        else None,
        "post_form": PostForm(initial={"account": lines[0].category.account if lines else ""})
        if claim.status == ClaimStatus.REVIEWED and request.user.has_perm(FinancePerm.POST_CLAIM)
        else None,
        "pay_form": PayForm()
        if claim.status == ClaimStatus.POSTED and request.user.has_perm(FinancePerm.PAY_CLAIM)
        else None,
        "supplement_url": request.session.pop(f"finance-supplement-{claim.pk}", ""),
    }
    return render(request, "finance/claim_detail.html", context)


@login_required
@require_POST
def claim_voucher_add(request, pk: int):
    claim = selectors.claim_get(actor=request.user, pk=pk)
    form = VoucherForm(request.POST, request.FILES, claim=claim)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.voucher_add(
                actor=request.user,
                claim=claim,
                line=data.pop("line"),
                upload=data.pop("file"),
                **data,
            )
            messages.success(request, _("Voucher added."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _message(exc))
    else:
        messages.error(
            request,
            " ".join(f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items()),
        )
    return redirect(reverse("finance:claim_detail", args=[claim.pk]) + "#tab-vouchers")


@login_required
@require_POST
def claim_voucher_remove(request, pk: int, voucher_pk: int):
    claim = selectors.claim_get(actor=request.user, pk=pk)
    voucher = selectors.claim_vouchers(claim).filter(pk=voucher_pk).first()
    if voucher is None:
        raise Http404
    try:
        services.voucher_remove(actor=request.user, voucher=voucher)
        messages.success(request, _("Voucher removed."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect(reverse("finance:claim_detail", args=[claim.pk]) + "#tab-vouchers")


@login_required
@require_POST
def claim_action(request, pk: int, action: str):
    claim = selectors.claim_get(actor=request.user, pk=pk)
    try:
        if action == "submit":
            services.claim_submit(
                actor=request.user, claim=claim, comment=request.POST.get("comment", "")
            )
            messages.success(request, _("Submitted for approval."))
            for line in selectors.claim_lines(claim):
                budget_line = (
                    selectors.line_list(actor=request.user).filter(pk=line.budget_line_id).first()
                    or line.budget_line
                )
                if budget_line.mode == ControlMode.WARN and budget_line.available < 0:
                    messages.warning(
                        request,
                        _("Warning: %(line)s is now over budget by ¥%(amount)s.")
                        % {"line": budget_line, "amount": f"{-budget_line.available:,.2f}"},
                    )
        elif action == "withdraw":
            form = ReasonForm(request.POST)
            form.is_valid()
            services.claim_withdraw(
                actor=request.user, claim=claim, reason=form.cleaned_data.get("reason", "")
            )
            messages.success(request, _("Withdrawn; the budget is released."))
        elif action == "delete":
            services.claim_delete(actor=request.user, claim=claim)
            messages.success(request, _("Deleted."))
            return redirect("finance:claim_list")
        elif action == "review":
            form = ReviewForm(request.POST, lines=list(selectors.claim_lines(claim)))
            if not form.is_valid():
                raise ValidationError(_("Check the approved amounts."))
            services.claim_review(
                actor=request.user,
                claim=claim,
                approved=form.approved(),
                note=form.cleaned_data["note"],
            )
            messages.success(request, _("Reviewed."))
        elif action == "post":
            form = PostForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the voucher number and the posting date."))
            services.claim_post(actor=request.user, claim=claim, **form.cleaned_data)
            messages.success(request, _("Posted."))
        elif action == "pay":
            form = PayForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the payment date and method."))
            services.claim_pay(actor=request.user, claim=claim, **form.cleaned_data)
            messages.success(request, _("Payment recorded."))
        else:
            raise Http404
    except services.OverBudget as exc:
        messages.error(request, _message(exc))
        request.session[f"finance-supplement-{claim.pk}"] = _supplement_url(exc)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("finance:claim_detail", pk=claim.pk)


# Expense requests ---------------------------------------------------------------------------------


@login_required
def request_list(request):
    _require(request, FinancePerm.VIEW_REQUEST, FinancePerm.ADD_REQUEST)
    result = list_page(
        request,
        selectors.expense_request_list(actor=request.user),
        sorts={"number": "number", "created": "created_at", "amount": "amount"},
        default_sort="-created",
        filterset_class=ExpenseRequestFilter,
        search_fields=["number", "title", "owner__name"],
    )
    return render(
        request,
        _template(request, "finance/request_list.html"),
        {"result": result, "can_add": request.user.has_perm(FinancePerm.ADD_REQUEST)},
    )


@login_required
def request_form(request, pk: int | None = None):
    document = selectors.expense_request_get(actor=request.user, pk=pk) if pk else None
    _require(request, FinancePerm.ADD_REQUEST)
    if document is not None and (document.owner_id != request.user.pk or not document.editable):
        raise PermissionDenied
    lines = selectors.usable_lines(actor=request.user)
    initial = (
        {
            "title": document.title,
            "line": document.line_id,
            "amount": document.amount,
            "expected_on": document.expected_on,
            "description": document.description,
        }
        if document
        else {"line": request.GET.get("line")}
    )
    form = ExpenseRequestForm(request.POST or None, initial=initial, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            if document:
                document = services.expense_request_update(
                    actor=request.user, request=document, **form.cleaned_data
                )
            else:
                document = services.expense_request_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _apply_errors(form, exc) if isinstance(exc, ValidationError) else form.add_error(
                None, str(exc)
            )
        else:
            if request.POST.get("submit") == "1":
                return request_action(request, document.pk, "submit")
            messages.success(request, _("Saved as a draft."))
            return redirect("finance:request_detail", pk=document.pk)
    return render(request, "finance/request_form.html", {"form": form, "document": document})


@login_required
def request_detail(request, pk: int):
    document = selectors.expense_request_get(actor=request.user, pk=pk)
    is_owner = document.owner_id == request.user.pk
    return render(
        request,
        "finance/request_detail.html",
        {
            "document": document,
            "approvals": list(approval_selectors.requests_for_document(document)),
            "claims": selectors.claim_list(actor=request.user).filter(expense_request=document),
            "is_owner": is_owner,
            "can_edit": is_owner and document.editable,
            "can_close": document.status == DocStatus.APPROVED
            and (is_owner or request.user.has_perm(FinancePerm.REVIEW_CLAIM)),
            "supplement_url": request.session.pop(f"finance-request-supplement-{pk}", ""),
        },
    )


@login_required
@require_POST
def request_action(request, pk: int, action: str):
    document = selectors.expense_request_get(actor=request.user, pk=pk)
    try:
        if action == "submit":
            services.expense_request_submit(actor=request.user, request=document)
            messages.success(request, _("Submitted for approval; the amount is reserved."))
        elif action == "close":
            services.expense_request_close(actor=request.user, request=document)
            messages.success(request, _("Closed; what was left is released."))
        elif action == "withdraw":
            latest = latest_request(document)
            if latest is None:
                raise Http404
            from marketdesk.approvals.services import request_withdraw

            request_withdraw(actor=request.user, request=latest)
            messages.success(request, _("Withdrawn; the budget is released."))
        else:
            raise Http404
    except services.OverBudget as exc:
        messages.error(request, _message(exc))
        request.session[f"finance-request-supplement-{pk}"] = _supplement_url(exc)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("finance:request_detail", pk=pk)
