"""Pages of the opportunities part of sales (商机): list with export, kanban board, detail with
its actions, the form, the funnel, stage groups and competitors."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import can_export
from marketdesk.core.spreadsheets import Column, csv_response, xlsx_response

from .. import selectors_opportunities as selectors
from ..forms_opportunities import (
    BoardFilterForm,
    CompetitorForm,
    LoseForm,
    MoveForm,
    OpportunityFilter,
    OpportunityForm,
    ReasonForm,
    RivalForm,
    StageFormSet,
    StageGroupForm,
    customer_options,
)
from ..models import Competitor, OpportunityStatus
from ..permissions import SalesPerm
from ..services import opportunities as services


def _require(request, *perms: str) -> None:
    if not any(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _template(request, name: str) -> str:
    return f"{name}#results" if request.htmx and not request.htmx.boosted else name


def _apply_errors(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the fields it names (others go on top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _money(value) -> str:
    return f"{Decimal(value or 0):,.2f}"


# List and export ----------------------------------------------------------------------------------

SORTS = {
    "number": "number",
    "name": "name",
    "amount": "expected_amount",
    "close": "expected_close_date",
    "stage": "stage__sort_order",
    "status": "status",
    "created": "created_at",
}
SEARCH = ["number", "name", "customer__name", "owner__name"]


def export_columns() -> list[Column]:
    return [
        Column(gettext_lazy("Number"), lambda o: o.number, 16),
        Column(gettext_lazy("Name"), lambda o: o.name, 30),
        Column(gettext_lazy("Customer"), lambda o: o.customer.name, 28),
        Column(gettext_lazy("Contact"), lambda o: o.contact.name if o.contact_id else "", 12),
        Column(gettext_lazy("Owner"), lambda o: str(o.owner), 12),
        Column(gettext_lazy("Unit"), lambda o: o.department.name if o.department_id else "", 14),
        Column(gettext_lazy("Stage group"), lambda o: o.stage_group.name, 16),
        Column(gettext_lazy("Stage"), lambda o: o.stage.name, 12),
        Column(gettext_lazy("Win %"), lambda o: o.win_percent, 8),
        Column(gettext_lazy("Status"), lambda o: o.get_status_display(), 10),
        Column(gettext_lazy("Expected amount"), lambda o: o.expected_amount, 14),
        Column(gettext_lazy("Weighted amount"), lambda o: o.weighted_amount, 14),
        Column(gettext_lazy("Expected close date"), lambda o: o.expected_close_date, 12),
        Column(gettext_lazy("Closed at"), lambda o: o.closed_at, 18),
        Column(gettext_lazy("Reason"), lambda o: o.end_reason, 30),
        Column(gettext_lazy("Lost to"), lambda o: o.lost_to.name if o.lost_to_id else "", 12),
        Column(
            gettext_lazy("Competitors"),
            lambda o: "、".join(c.name for c in o.competitors.all()),
            20,
        ),
        Column(gettext_lazy("Created at"), lambda o: o.created_at, 18),
    ]


@login_required
def opportunity_list(request):
    _require(request, SalesPerm.VIEW_OPPORTUNITY)
    result = list_page(
        request,
        selectors.opportunity_list(actor=request.user),
        sorts=SORTS,
        default_sort="-created",
        filterset_class=OpportunityFilter,
        search_fields=SEARCH,
    )
    context = {
        "result": result,
        "today": timezone.localdate(),
        "can_add": request.user.has_perm(SalesPerm.ADD_OPPORTUNITY),
        "export_url": reverse("sales:opportunity_export") if can_export(request.user) else "",
    }
    return render(request, _template(request, "sales/opportunities/list.html"), context)


@login_required
def opportunity_export(request):
    _require(request, SalesPerm.VIEW_OPPORTUNITY)
    if not can_export(request.user):
        raise PermissionDenied
    queryset, _filterset, _search = filtered(
        request,
        selectors.opportunity_list(actor=request.user),
        filterset_class=OpportunityFilter,
        search_fields=SEARCH,
    )
    rows = (
        queryset.prefetch_related("competitors")
        .order_by("-created_at", "-pk")
        .iterator(chunk_size=2000)
    )
    if request.GET.get("format") == "csv":
        return csv_response(filename=_("opportunities"), columns=export_columns(), rows=rows)
    return xlsx_response(
        filename=_("opportunities"),
        sheet_title=_("Opportunities"),
        columns=export_columns(),
        rows=rows,
    )


# The kanban board ----------------------------------------------------------------------------------


def _board_state(request, data):
    form = BoardFilterForm(data or None, actor=request.user)
    group = form.chosen_group()
    if not form.is_bound and group is not None:
        form.initial["group"] = group.pk  # show which group the board opened on
    queryset = form.apply(selectors.opportunity_list(actor=request.user))
    return form, group, queryset


def _totals(columns) -> dict:
    return {
        str(column.stage.pk): {
            "count": column.count,
            "amount": _money(column.amount),
            "weighted": _money(column.weighted),
        }
        for column in columns
    }


@login_required
def opportunity_board(request):
    _require(request, SalesPerm.VIEW_OPPORTUNITY)
    form, group, queryset = _board_state(request, request.GET)
    columns = selectors.board(group=group, opportunities=queryset) if group else []
    editable = selectors.editable_ids(
        actor=request.user, opportunities=[card for column in columns for card in column.cards]
    )
    context = {
        "form": form,
        "today": timezone.localdate(),
        "group": group,
        "columns": columns,
        "editable": editable,
        "stages": [column.stage for column in columns],
        "query": request.GET.urlencode(),
        "can_add": request.user.has_perm(SalesPerm.ADD_OPPORTUNITY),
        "total_count": sum(column.count for column in columns),
        "total_amount": sum((column.amount for column in columns), Decimal("0")),
        "total_weighted": sum((column.weighted for column in columns), Decimal("0")),
    }
    return render(request, "sales/opportunities/board.html", context)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def opportunity_move(request, pk: int):
    """Move to another stage: the board's drag and drop and its "move to" select (JSON for
    fetch, a redirect for a plain form), and the detail page. The service decides."""
    opportunity = selectors.opportunity_get(actor=request.user, pk=pk)
    form = MoveForm(request.POST, opportunity=opportunity)
    status = 200
    try:
        if not form.is_valid():
            raise ValidationError({"stage": form.errors["stage"]})
        opportunity = services.opportunity_move(
            actor=request.user, opportunity=opportunity, stage=form.cleaned_data["stage"]
        )
        message = _("%(number)s moved to %(stage)s.") % {
            "number": opportunity.number,
            "stage": opportunity.stage.name,
        }
        ok = True
    except (ValidationError, PermissionDenied) as exc:
        ok, message = False, services.message_of(exc)
        status = 403 if isinstance(exc, PermissionDenied) else 400
        opportunity.refresh_from_db()
    if _wants_json(request):
        body = {
            "ok": ok,
            "message": message,
            "stage": opportunity.stage_id,
            "weighted": _money(opportunity.weighted_amount),
        }
        if ok:
            _form, group, queryset = _board_state(request, request.GET)
            if group is not None and group.pk == opportunity.stage_group_id:
                body["columns"] = _totals(
                    selectors.board(group=group, opportunities=queryset, per_column=0)
                )
        return JsonResponse(body, status=status)
    (messages.success if ok else messages.error)(request, message)
    return redirect(_next(request, reverse("sales:opportunity_detail", args=[opportunity.pk])))


# One opportunity ---------------------------------------------------------------------------------


@login_required
def opportunity_detail(request, pk: int):
    _require(request, SalesPerm.VIEW_OPPORTUNITY)
    opportunity = selectors.opportunity_get(actor=request.user, pk=pk)
    user = request.user
    can_edit = selectors.can_edit_opportunity(actor=user, opportunity=opportunity)
    changes = list(selectors.stage_changes(opportunity))
    stages = selectors.stages_of(opportunity.stage_group)
    context = {
        "opportunity": opportunity,
        "stages": stages,
        "changes": changes,
        "first_change": changes[0].pk if changes else None,
        "rivals": opportunity.rivals.select_related("competitor").order_by("competitor__name"),
        "orders": selectors.orders_of(actor=user, opportunity=opportunity)[:20],
        "can_edit": can_edit,
        "can_change": can_edit and opportunity.is_open,
        "can_reopen": selectors.can_reopen(actor=user, opportunity=opportunity),
        "can_convert": can_edit
        and user.has_perm(SalesPerm.ADD_ORDER)
        and opportunity.status in (OpportunityStatus.OPEN, OpportunityStatus.WON),
        "lose_form": LoseForm(auto_id="lose_%s"),
        "win_form": ReasonForm(auto_id="win_%s"),
        "reason_form": ReasonForm(auto_id="invalid_%s"),
        "rival_form": RivalForm() if can_edit else None,
    }
    return render(request, "sales/opportunities/detail.html", context)


@login_required
def opportunity_form(request, pk: int | None = None):
    _require(request, SalesPerm.ADD_OPPORTUNITY)
    opportunity = selectors.opportunity_get(actor=request.user, pk=pk) if pk else None
    if opportunity is not None and not (
        opportunity.is_open
        and selectors.can_edit_opportunity(actor=request.user, opportunity=opportunity)
    ):
        raise PermissionDenied
    if opportunity is not None:
        initial = {
            "name": opportunity.name,
            "customer": opportunity.customer,
            "contact": opportunity.contact_id,
            "owner": opportunity.owner_id,
            "stage": opportunity.stage_id,
            "expected_amount": opportunity.expected_amount,
            "expected_close_date": opportunity.expected_close_date,
            "competitors": [c.pk for c in opportunity.competitors.all()],
            "notes": opportunity.notes,
        }
    else:
        initial = {"owner": request.user.pk, "customer": request.GET.get("customer") or None}
    form = OpportunityForm(
        request.POST or None, initial=initial, actor=request.user, opportunity=opportunity
    )
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            if opportunity is None:
                opportunity = services.opportunity_create(actor=request.user, **values)
                messages.success(
                    request, _("Opportunity %(number)s opened.") % {"number": opportunity.number}
                )
            else:
                opportunity = services.opportunity_update(
                    actor=request.user, opportunity=opportunity, **values
                )
                messages.success(request, _("Saved."))
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, services.message_of(exc))
        else:
            return redirect("sales:opportunity_detail", pk=opportunity.pk)
    return render(
        request,
        "sales/opportunities/form.html",
        {"form": form, "opportunity": opportunity, "group": form.stage_group},
    )


@login_required
def customer_option_list(request):
    """<option>s of the customers matching ?q= (the form's customer search)."""
    _require(request, SalesPerm.ADD_OPPORTUNITY)
    from marketdesk.crm.selectors import search_condition

    text = request.GET.get("q", "").strip()[:100]
    customers = selectors.customer_choices(actor=request.user)
    if text:
        customers = customers.filter(search_condition(text))
    rows = customer_options(customers)
    return HttpResponse(format_html_join("", '<option value="{}">{}</option>', rows))


@login_required
def contact_options(request):
    """<option>s of the contacts of ?customer= (reloaded when the customer changes)."""
    _require(request, SalesPerm.ADD_OPPORTUNITY)
    raw = request.GET.get("customer", "")
    customer = (
        selectors.customer_choices(actor=request.user).filter(pk=int(raw)).first()
        if raw.isdigit()
        else None
    )
    rows = [("", "---------")] + [
        (contact.pk, f"{contact.name} {contact.title}".strip())
        for contact in selectors.contact_choices(customer=customer)
    ]
    return HttpResponse(format_html_join("", '<option value="{}">{}</option>', rows))


ACTIONS = ("win", "lose", "invalidate", "reopen")


@login_required
@require_POST
def opportunity_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    opportunity = selectors.opportunity_get(actor=request.user, pk=pk)
    user = request.user
    try:
        if action == "win":
            form = ReasonForm(request.POST)
            form.is_valid()
            services.opportunity_win(
                actor=user, opportunity=opportunity, reason=form.cleaned_data.get("reason", "")
            )
            messages.success(request, _("Marked as won."))
        elif action == "lose":
            form = LoseForm(request.POST)
            if not form.is_valid():
                raise ValidationError({name: errors for name, errors in form.errors.items()})
            services.opportunity_lose(
                actor=user,
                opportunity=opportunity,
                reason=form.cleaned_data.get("reason", ""),
                competitor=form.cleaned_data.get("competitor"),
            )
            messages.success(request, _("Marked as lost."))
        elif action == "invalidate":
            form = ReasonForm(request.POST)
            form.is_valid()
            services.opportunity_invalidate(
                actor=user, opportunity=opportunity, reason=form.cleaned_data.get("reason", "")
            )
            messages.success(request, _("Marked as invalid."))
        else:
            services.opportunity_reopen(actor=user, opportunity=opportunity)
            messages.success(request, _("Reopened."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, services.message_of(exc))
    return redirect(_next(request, reverse("sales:opportunity_detail", args=[pk])))


@login_required
@require_POST
def opportunity_convert(request, pk: int):
    """ "Convert to order": win the opportunity (if open), then open the order form."""
    opportunity = selectors.opportunity_get(actor=request.user, pk=pk)
    try:
        opportunity = services.opportunity_convert(actor=request.user, opportunity=opportunity)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, services.message_of(exc))
        return redirect("sales:opportunity_detail", pk=pk)
    return redirect(selectors.order_create_url(opportunity))


@login_required
@require_POST
def opportunity_rival_save(request, pk: int):
    opportunity = selectors.opportunity_get(actor=request.user, pk=pk)
    form = RivalForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({name: errors for name, errors in form.errors.items()})
        services.opportunity_competitor_save(
            actor=request.user, opportunity=opportunity, **form.cleaned_data
        )
        messages.success(request, _("Competitor saved."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, services.message_of(exc))
    return redirect(reverse("sales:opportunity_detail", args=[pk]) + "#tab-competitors")


@login_required
@require_POST
def opportunity_rival_remove(request, pk: int, competitor_pk: int):
    opportunity = selectors.opportunity_get(actor=request.user, pk=pk)
    competitor = opportunity.competitors.filter(pk=competitor_pk).first()
    if competitor is None:
        raise Http404
    try:
        services.opportunity_competitor_remove(
            actor=request.user, opportunity=opportunity, competitor=competitor
        )
        messages.success(request, _("Competitor removed from the deal."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, services.message_of(exc))
    return redirect(reverse("sales:opportunity_detail", args=[pk]) + "#tab-competitors")


# The funnel --------------------------------------------------------------------------------------


def _date(value: str, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default


@login_required
def opportunity_funnel(request):
    _require(request, SalesPerm.VIEW_OPPORTUNITY)
    today = timezone.localdate()
    start = _date(request.GET.get("start", ""), today.replace(month=1, day=1))
    end = _date(request.GET.get("end", ""), today)
    if end < start:
        start, end = end, start
    groups = list(selectors.stage_group_list())
    chosen = request.GET.get("group", "")
    group = next((g for g in groups if str(g.pk) == chosen), None) or (
        selectors.stage_group_for_user(request.user) or (groups[0] if groups else None)
    )
    rows = (
        selectors.funnel(actor=request.user, stage_group=group, start=start, end=end)
        if group
        else []
    )
    chart = {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "funnel",
                "sort": "none",
                "left": "10%",
                "width": "80%",
                "label": {"show": True, "position": "inside"},
                "data": [{"name": row.label, "value": row.count} for row in rows],
            }
        ],
    }
    return render(
        request,
        "sales/opportunities/funnel.html",
        {
            "stage_groups": groups,
            "group": group,
            "start": start,
            "end": end,
            "rows": rows,
            "chart": chart if any(row.count for row in rows) else None,
            "pipeline": selectors.pipeline_summary(actor=request.user),
        },
    )


# Stage groups -----------------------------------------------------------------------------------


@login_required
def stage_group_list(request):
    _require(request, SalesPerm.VIEW_OPPORTUNITY, SalesPerm.CHANGE_STAGE_GROUP)
    return render(
        request,
        "sales/opportunities/stage_group_list.html",
        {
            "stage_groups": selectors.stage_group_list(include_inactive=True),
            "can_change": request.user.has_perm(SalesPerm.CHANGE_STAGE_GROUP),
        },
    )


def _stage_rows(formset) -> list[dict]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE") or not (data.get("name") or "").strip():
            continue
        rows.append(
            {
                "id": data.get("id"),
                "name": data["name"],
                "win_percent": data.get("win_percent"),
                "sort_order": data.get("sort_order"),
            }
        )
    return rows


def _apply_stage_errors(form, formset, rows, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    kept = [f for f in kept if (f.cleaned_data.get("name") or "").strip()]
    for key, errors in exc.message_dict.items():
        if key.startswith("stages[") and "]." in key:
            index, name = key[7:].split("].", 1)
            if index.isdigit() and 0 < int(index) <= len(kept):
                row = kept[int(index) - 1]
                row.add_error(name if name in row.fields else None, errors)
                continue
        form.add_error(key if key in form.fields else None, errors)


@login_required
def stage_group_edit(request, pk: int | None = None):
    _require(request, SalesPerm.CHANGE_STAGE_GROUP)
    group = selectors.stage_group_get(pk=pk) if pk else None
    if group is not None:
        initial = {"name": group.name, "department": group.department_id, "active": group.active}
        stage_initial = [
            {"id": s.pk, "name": s.name, "win_percent": s.win_percent, "sort_order": s.sort_order}
            for s in selectors.stages_of(group)
        ]
    else:
        initial = {"active": True}
        stage_initial = []
    form = StageGroupForm(request.POST or None, initial=initial)
    formset = StageFormSet(request.POST or None, initial=stage_initial or None, prefix="stages")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = _stage_rows(formset)
        try:
            group = services.stage_group_save(
                actor=request.user, group=group, stages=rows, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_stage_errors(form, formset, rows, exc)
        else:
            messages.success(request, _("Stage group saved."))
            return redirect("sales:stage_group_list")
    return render(
        request,
        "sales/opportunities/stage_group_form.html",
        {"form": form, "formset": formset, "group": group},
    )


# Competitors --------------------------------------------------------------------------------------


@login_required
def competitor_list(request):
    _require(request, SalesPerm.VIEW_OPPORTUNITY, SalesPerm.CHANGE_COMPETITOR)
    return render(
        request,
        "sales/opportunities/competitor_list.html",
        {
            "competitors": selectors.competitor_list(actor=request.user),
            "can_change": request.user.has_perm(SalesPerm.CHANGE_COMPETITOR),
        },
    )


@login_required
def competitor_edit(request, pk: int | None = None):
    _require(request, SalesPerm.CHANGE_COMPETITOR)
    competitor = Competitor.objects.filter(pk=pk).first() if pk else None
    if pk and competitor is None:
        raise Http404
    initial = (
        {
            "name": competitor.name,
            "website": competitor.website,
            "strengths": competitor.strengths,
            "weaknesses": competitor.weaknesses,
            "active": competitor.active,
        }
        if competitor
        else {"active": True}
    )
    form = CompetitorForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.competitor_save(actor=request.user, competitor=competitor, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Competitor saved."))
            return redirect("sales:competitor_list")
    return render(
        request,
        "sales/opportunities/competitor_form.html",
        {"form": form, "competitor": competitor},
    )


urlpatterns = [
    path("opportunities/", opportunity_list, name="opportunity_list"),
    path("opportunities/export/", opportunity_export, name="opportunity_export"),
    path("opportunities/board/", opportunity_board, name="opportunity_board"),
    path("opportunities/funnel/", opportunity_funnel, name="opportunity_funnel"),
    path("opportunities/new/", opportunity_form, name="opportunity_create"),
    path(
        "opportunities/options/customers/",
        customer_option_list,
        name="opportunity_customer_options",
    ),
    path("opportunities/options/contacts/", contact_options, name="opportunity_contact_options"),
    path("opportunities/<int:pk>/", opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", opportunity_form, name="opportunity_edit"),
    path("opportunities/<int:pk>/move/", opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/convert/", opportunity_convert, name="opportunity_convert"),
    path(
        "opportunities/<int:pk>/competitors/",
        opportunity_rival_save,
        name="opportunity_rival_save",
    ),
    path(
        "opportunities/<int:pk>/competitors/<int:competitor_pk>/remove/",
        opportunity_rival_remove,
        name="opportunity_rival_remove",
    ),
    path("opportunities/<int:pk>/do/<str:action>/", opportunity_action, name="opportunity_action"),
    path("stage-groups/", stage_group_list, name="stage_group_list"),
    path("stage-groups/new/", stage_group_edit, name="stage_group_create"),
    path("stage-groups/<int:pk>/", stage_group_edit, name="stage_group_edit"),
    path("competitors/", competitor_list, name="competitor_list"),
    path("competitors/new/", competitor_edit, name="competitor_create"),
    path("competitors/<int:pk>/", competitor_edit, name="competitor_edit"),
]
