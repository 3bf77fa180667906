"""Pages of the targets part of sales: the sales dashboard (home of /sales/), targets with the
12-month grid, rankings and the RFM customer segments."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import can_export
from marketdesk.core.spreadsheets import Column, csv_response, xlsx_response
from marketdesk.core.templatetags.md import amount

from .. import selectors_targets as selectors
from ..forms_targets import MONTH_LABELS, CopyForm, RfmFilter, SplitForm, TargetFilter, TargetForm
from ..models import MONTH_FIELDS, RfmSegment, TargetMetric, TargetSubject
from ..permissions import SalesPerm
from ..services import targets as services

TEMPLATES = "sales/targets"


def _require(request, *perms: str) -> None:
    if not any(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            if name == "months":
                form.add_error(None, errors)
            else:
                form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _template(request, name: str) -> str:
    return f"{name}#results" if request.htmx and not request.htmx.boosted else name


def _int(value, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def _period(request) -> tuple[int, int]:
    today = timezone.localdate()
    year = _int(request.GET.get("year"), today.year, 2000, 2100)
    month = _int(request.GET.get("month"), today.month if year == today.year else 12, 1, 12)
    return year, month


def _num(value) -> float:
    """A chart value (display only; money stays Decimal everywhere else)."""
    return float(value or 0)


# Dashboard ----------------------------------------------------------------------------------------


def _trend_chart(data: dict) -> dict:
    months = [str(label) for label in MONTH_LABELS]
    trend = data["trend"]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 16, "top": 16, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value"},
        "series": [
            {"type": "bar", "name": _("Target"), "data": [_num(v) for v in trend["target"]]},
            {"type": "bar", "name": _("Actual"), "data": [_num(v) for v in trend["actual"]]},
            {
                "type": "line",
                "name": _("Last year"),
                "data": [_num(v) for v in trend["last_year"]],
            },
        ],
    }


def _funnel_chart(stages) -> dict | None:
    """ECharts funnel of the stage rows (selectors_targets.funnel)."""
    if not stages:
        return None
    return {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "funnel",
                "sort": "none",
                "left": "10%",
                "width": "80%",
                "label": {"formatter": "{b}: {c}"},
                "data": [{"name": s["name"], "value": s["count"]} for s in stages],
            }
        ],
    }


def _grid_columns(data: dict) -> list[Column]:
    columns = [Column(_("Row"), lambda r: r["label"], 20)]
    for index, label in enumerate(MONTH_LABELS):
        columns.append(
            Column(f"{label} · {_('Target')}", lambda r, i=index: r["months"][i]["target"])
        )
        columns.append(
            Column(f"{label} · {_('Actual')}", lambda r, i=index: r["months"][i]["actual"])
        )
    columns += [
        Column(_("Year target"), lambda r: r["year"]["target"]),
        Column(_("Year actual"), lambda r: r["year"]["actual"]),
        Column(_("Achievement %"), lambda r: r["year"]["rate"]),
    ]
    return columns


def _rate_html(value, kind: str) -> str:
    """What sales/targets/_rate.html renders, for the grid's thousands of cells."""
    if value is None:
        return '<span class="text-body-secondary">—</span>'
    if kind == "change":
        css = "text-danger" if value < 0 else "text-success"
        sign = "+" if value > 0 else ""
        return f'<span class="{css} text-nowrap">{sign}{value}%</span>'
    css = "text-success fw-semibold" if value >= 100 else "text-danger" if value < 60 else ""
    return f'<span class="text-nowrap {css}">{value}%</span>'


def _money(value) -> str:
    """`amount` for the grid's Decimals (formatted directly: thousands of cells)."""
    return f"{value:,.2f}" if isinstance(value, Decimal) else amount(value)


def _cell_html(cell: dict, css: str) -> str:
    target = ""
    if cell["target"]:
        target = (
            '<div class="text-body-secondary" style="font-size:.75em">'
            f"{_money(cell['target'])} · {_rate_html(cell['rate'], 'rate')}</div>"
        )
    return f'<td class="{css}">{_money(cell["actual"])}{target}</td>'


def _toggle_html(row: dict, expand_url: str) -> str:
    """The open/close button of a unit row with units below it (a spacer keeps leaves aligned).
    An open row's children are already on the page; a closed one loads them through htmx
    the first time (`dashboard_unit_rows`), then sales/grid.js only shows and hides them."""
    if not row["key"].startswith("unit-"):
        return ""
    if not row.get("children"):
        return '<span class="d-inline-block me-1" style="width:1.25rem"></span>'
    label = escape(_("Units below %(unit)s") % {"unit": row["label"]})
    common = (
        'type="button" class="btn btn-link btn-sm p-0 me-1 lh-1 text-decoration-none" '
        f'style="width:1.25rem" data-md-grid-toggle aria-label="{label}" title="{label}"'
    )
    if row.get("open"):
        return (
            f'<button {common} aria-expanded="true" data-md-loaded>'
            '<i class="bi bi-caret-down-fill"></i></button>'
        )
    url = escape(expand_url.replace("{unit}", str(int(row["unit_id"]))))
    return (
        f'<button {common} aria-expanded="false" hx-get="{url}" hx-target="closest tr" '
        'hx-swap="afterend" hx-trigger="click once" hx-disabled-elt="this">'
        '<i class="bi bi-caret-right-fill"></i></button>'
    )


def _grid_html(rows: list[dict], month: int, expand_url: str = "") -> str:
    """The month x unit (or person) grid's rows as HTML, built here rather than by a template
    include per cell (a company-wide grid has hundreds of rows of 15 cells). Unit rows carry
    their place in the tree (data-path, data-parent) and an open/close button
    (`_toggle_html`); `expand_url` has "{unit}" where a unit's id goes."""
    out = []
    for row in rows:
        depth = row.get("depth")
        indent = f' style="padding-left: {int(depth)}rem"' if depth else ""
        tree = ""
        if row.get("path"):
            tree = f' data-path="{escape(row["path"])}"'
            if row.get("parent"):
                tree += f' data-parent="{escape(row["parent"])}"'
        cells = "".join(
            _cell_html(
                cell,
                "text-end text-nowrap table-primary" if index == month else "text-end text-nowrap",
            )
            for index, cell in enumerate(row["months"], start=1)
        )
        out.append(
            f'<tr data-row="{escape(row["key"])}"{tree}><th scope="row" class="position-sticky '
            f'start-0 bg-body fw-normal text-nowrap"{indent}>{_toggle_html(row, expand_url)}'
            f"{escape(row['label'])}</th>"
            f"{cells}{_cell_html(row['year'], 'text-end text-nowrap')}"
            f'<td class="text-end">{_rate_html(row["mom"], "change")}</td>'
            f'<td class="text-end">{_rate_html(row["yoy"], "change")}</td></tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped or a number)


def _dashboard_params(request) -> tuple[int, int, str]:
    year, month = _period(request)
    metric = request.GET.get("metric")
    return year, month, metric if metric in TargetMetric.values else TargetMetric.ORDER_AMOUNT


def _expand_url(year: int, month: int, metric: str) -> str:
    query = urlencode({"year": year, "month": month, "metric": metric})
    return f"{reverse('sales:dashboard_unit_rows', args=[0])[:-2]}{{unit}}/?{query}"


@login_required
def dashboard(request):
    _require(request, SalesPerm.VIEW_DASHBOARD)
    year, month, metric = _dashboard_params(request)
    by = "person" if request.GET.get("by") == "person" else "unit"
    export = request.GET.get("format") in ("xlsx", "csv")
    if export and not can_export(request.user):
        raise PermissionDenied
    services.rollups_catch_up()
    data = selectors.dashboard(
        actor=request.user,
        year=year,
        month=month,
        metric=metric,
        by=by,
        rankings_period="year" if request.GET.get("period") == "year" else "month",
        # the page opens with the top units (or a page of people); the export has every row
        grid=selectors.GRID_ALL if export else selectors.GRID_TOP,
        page=_int(request.GET.get("page"), 1, 1, 10**6),
    )
    if export:
        rows = [*data["rows"], data["total"]]
        name = _("sales dashboard %(year)s") % {"year": year}
        if request.GET["format"] == "csv":
            return csv_response(filename=name, columns=_grid_columns(data), rows=rows)
        return xlsx_response(
            filename=name,
            sheet_title=_("Target and actual"),
            columns=_grid_columns(data),
            rows=rows,
        )
    funnel_rows = data["funnel"]
    context = {
        "data": data,
        "year": year,
        "month": month,
        "months": list(enumerate(MONTH_LABELS, start=1)),
        "metrics": TargetMetric.choices,
        "trend_chart": _trend_chart(data),
        "funnel_rows": funnel_rows,
        "grid_rows": _grid_html(data["rows"], month, _expand_url(year, month, data["metric"])),
        "grid_total": _grid_html([data["total"]], month),
        "grid_has_tree": any(row.get("children") for row in data["rows"]),
        "funnel_chart": _funnel_chart(funnel_rows),
        "can_export": can_export(request.user),
        "can_rebuild": request.user.has_perm(SalesPerm.CHANGE_TARGET),
        "period": "year" if request.GET.get("period") == "year" else "month",
    }
    return render(request, f"{TEMPLATES}/dashboard.html", context)


@login_required
def dashboard_unit_rows(request, pk: int):
    """The grid rows of a unit's children (htmx, when a unit of the dashboard is opened):
    404 for a unit that is not a row of the viewer's grid."""
    _require(request, SalesPerm.VIEW_DASHBOARD)
    year, month, metric = _dashboard_params(request)
    services.rollups_catch_up()
    rows = selectors.dashboard_unit_rows(
        actor=request.user, unit_id=pk, year=year, month=month, metric=metric
    )
    return HttpResponse(_grid_html(rows, month, _expand_url(year, month, metric)))


@login_required
@require_POST
def rollups_rebuild(request):
    result = services.rollups_rebuild_now(actor=request.user)
    messages.success(
        request,
        _("The dashboard figures were recomputed: %(cells)s cells in %(seconds)s s.") % result,
    )
    return redirect("sales:dashboard")


# Targets ------------------------------------------------------------------------------------------

TARGET_SORTS = {"year": "year", "metric": "metric", "subject": "subject", "annual": "annual"}
TARGET_SEARCH = ["department__name", "user__name", "user__username"]


def _target_columns() -> list[Column]:
    columns = [
        Column(_("Year"), lambda t: t.year, 8),
        Column(_("Metric"), lambda t: t.get_metric_display(), 12),
        Column(_("For"), lambda t: t.get_subject_display(), 10),
        Column(_("Unit or person"), lambda t: t.user.name if t.user else t.department or "", 20),
        Column(_("Year total"), lambda t: t.annual, 16),
    ]
    for name, label in zip(MONTH_FIELDS, MONTH_LABELS, strict=True):
        columns.append(Column(label, lambda t, n=name: getattr(t, n), 14))
    columns.append(Column(_("Actual"), lambda t: getattr(t, "actual_total", None), 16))
    columns.append(Column(_("Achievement %"), lambda t: getattr(t, "achievement", None), 12))
    return columns


def _with_actuals(targets) -> list:
    targets = list(targets)
    actuals = selectors.target_actuals(targets)
    for target in targets:
        target.actual_months = actuals.get(target.pk, [Decimal("0.00")] * 12)
        target.actual_total = sum(target.actual_months, Decimal("0.00"))
        target.achievement = selectors.rate(target.actual_total, target.annual)
    return targets


@login_required
def target_list(request):
    _require(request, SalesPerm.VIEW_TARGET)
    result = list_page(
        request,
        selectors.target_list(actor=request.user),
        sorts=TARGET_SORTS,
        default_sort="-year",
        filterset_class=TargetFilter,
        search_fields=TARGET_SEARCH,
    )
    result.page.object_list = _with_actuals(result.page.object_list)
    context = {
        "result": result,
        "can_change": request.user.has_perm(SalesPerm.CHANGE_TARGET),
        "export_url": reverse("sales:target_export") if can_export(request.user) else "",
        "search_placeholder": _("Unit or person"),
    }
    return render(request, _template(request, f"{TEMPLATES}/target_list.html"), context)


@login_required
def target_export(request):
    _require(request, SalesPerm.VIEW_TARGET)
    if not can_export(request.user):
        raise PermissionDenied
    queryset, _filterset, _search = filtered(
        request,
        selectors.target_list(actor=request.user),
        filterset_class=TargetFilter,
        search_fields=TARGET_SEARCH,
    )
    rows = _with_actuals(queryset.order_by("-year", "metric", "subject", "pk")[:20000])
    if request.GET.get("format") == "csv":
        return csv_response(filename=_("sales-targets"), columns=_target_columns(), rows=rows)
    return xlsx_response(
        filename=_("sales-targets"),
        sheet_title=_("Sales targets"),
        columns=_target_columns(),
        rows=rows,
    )


@login_required
def target_detail(request, pk: int):
    _require(request, SalesPerm.VIEW_TARGET)
    target = selectors.target_get(actor=request.user, pk=pk)
    (target,) = _with_actuals([target])
    months = [
        {
            "label": label,
            "target": target.month(number),
            "actual": target.actual_months[number - 1],
            "rate": selectors.rate(target.actual_months[number - 1], target.month(number)),
        }
        for number, label in enumerate(MONTH_LABELS, start=1)
    ]
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 16, "top": 16, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(m["label"]) for m in months]},
        "yAxis": {"type": "value"},
        "series": [
            {"type": "bar", "name": _("Target"), "data": [_num(m["target"]) for m in months]},
            {"type": "bar", "name": _("Actual"), "data": [_num(m["actual"]) for m in months]},
        ],
    }
    context = {
        "target": target,
        "months": months,
        "chart": chart,
        "can_change": selectors.can_change_target(actor=request.user, target=target),
    }
    return render(request, f"{TEMPLATES}/target_detail.html", context)


def _form_kwargs(request) -> dict:
    return {
        "units": selectors.unit_choices(actor=request.user),
        "people": selectors.person_choices(actor=request.user),
    }


def _split(request, form_data, *, target=None):
    """The form again with its months filled from the year total (`split` = even/seasonal)."""
    mode = request.POST.get("split")
    data = form_data.copy()
    split_form = SplitForm(data)
    if not split_form.is_valid():
        return None, split_form.errors
    weights = None
    if mode == "seasonal":
        subject = target.subject if target else data.get("subject")
        metric = target.metric if target else data.get("metric")
        year = (
            target.year if target else _int(data.get("year"), timezone.localdate().year, 2000, 2100)
        )
        department = target.department if target else None
        user = target.user if target else None
        if target is None:
            from django.contrib.auth import get_user_model

            from marketdesk.org.models import Department

            if subject == TargetSubject.DEPARTMENT and data.get("department"):
                department = Department.objects.filter(
                    pk=_int(data["department"], 0, 1, 2**62)
                ).first()
            if subject == TargetSubject.PERSON and data.get("user"):
                user = get_user_model().objects.filter(pk=_int(data["user"], 0, 1, 2**62)).first()
        if (
            metric in TargetMetric.values
            and subject in TargetSubject.values
            and (subject == TargetSubject.COMPANY or department or user)
        ):
            weights = services.seasonal_weights(
                year=year, metric=metric, subject=subject, department=department, user=user
            )
    months = services.split_months(split_form.cleaned_data["annual"], weights)
    for name, value in zip(MONTH_FIELDS, months, strict=True):
        data[name] = f"{value:.2f}"
    return data, None


@login_required
def target_create(request):
    _require(request, SalesPerm.CHANGE_TARGET)
    today = timezone.localdate()
    initial = {
        "year": _int(request.GET.get("year"), today.year + (today.month >= 11), 2000, 2100),
        "metric": request.GET.get("metric") or TargetMetric.ORDER_AMOUNT,
        "subject": request.GET.get("subject") or TargetSubject.PERSON,
    }
    form = TargetForm(initial=initial, **_form_kwargs(request))
    if request.method == "POST":
        if request.POST.get("split"):
            data, errors = _split(request, request.POST)
            form = TargetForm(data or request.POST, **_form_kwargs(request))
            if errors:
                form.is_valid()
                form.add_error("annual", errors.get("annual"))
            return render(request, f"{TEMPLATES}/target_form.html", {"form": form})
        form = TargetForm(request.POST, **_form_kwargs(request))
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = services.target_create(
                    actor=request.user,
                    year=data["year"],
                    metric=data["metric"],
                    subject=data["subject"],
                    department=data.get("department"),
                    user=data.get("user"),
                    months=form.months(),
                    annual=data.get("annual"),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Target saved."))
                return redirect("sales:target_detail", target.pk)
    return render(request, f"{TEMPLATES}/target_form.html", {"form": form})


@login_required
def target_edit(request, pk: int):
    _require(request, SalesPerm.CHANGE_TARGET)
    target = selectors.target_get(actor=request.user, pk=pk)
    if not selectors.can_change_target(actor=request.user, target=target):
        raise PermissionDenied
    initial = {
        "year": target.year,
        "metric": target.metric,
        "subject": target.subject,
        "department": target.department_id,
        "user": target.user_id,
        "annual": target.annual,
        **{name: getattr(target, name) for name in MONTH_FIELDS},
    }
    kwargs = {**_form_kwargs(request), "editing": True, "initial": initial}
    form = TargetForm(**kwargs)
    if request.method == "POST":
        if request.POST.get("split"):
            data, errors = _split(request, request.POST, target=target)
            form = TargetForm(data or request.POST, **kwargs)
            if errors:
                form.is_valid()
                form.add_error("annual", errors.get("annual"))
            return render(
                request, f"{TEMPLATES}/target_form.html", {"form": form, "target": target}
            )
        form = TargetForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                services.target_update(
                    actor=request.user,
                    target=target,
                    months=form.months(),
                    annual=form.cleaned_data.get("annual"),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Target saved."))
                return redirect("sales:target_detail", target.pk)
    return render(request, f"{TEMPLATES}/target_form.html", {"form": form, "target": target})


@login_required
@require_POST
def target_delete(request, pk: int):
    _require(request, SalesPerm.CHANGE_TARGET)
    target = selectors.target_get(actor=request.user, pk=pk)
    try:
        services.target_delete(actor=request.user, target=target)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("sales:target_detail", target.pk)
    messages.success(request, _("Target deleted."))
    return redirect("sales:target_list")


@login_required
def target_copy(request):
    _require(request, SalesPerm.CHANGE_TARGET)
    form = CopyForm(request.POST or None, initial={"year": timezone.localdate().year + 1})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.targets_copy_from_last_year(
                actor=request.user,
                year=form.cleaned_data["year"],
                percent=form.cleaned_data["percent"],
                metric=form.cleaned_data["metric"] or None,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(count)s targets copied.") % {"count": len(created)})
            return redirect(f"{reverse('sales:target_list')}?year={form.cleaned_data['year']}")
    return render(request, f"{TEMPLATES}/target_copy.html", {"form": form})


# Rankings -----------------------------------------------------------------------------------------


@login_required
def rankings(request):
    _require(request, SalesPerm.VIEW_DASHBOARD)
    year, month = _period(request)
    whole_year = request.GET.get("period") == "year"
    services.rollups_catch_up()
    data = selectors.rankings(
        actor=request.user, year=year, month=None if whole_year else month, limit=20
    )
    context = {
        "data": data,
        "year": year,
        "month": month,
        "months": list(enumerate(MONTH_LABELS, start=1)),
        "period": "year" if whole_year else "month",
    }
    return render(request, f"{TEMPLATES}/rankings.html", context)


# RFM ----------------------------------------------------------------------------------------------

RFM_SORTS = {
    "customer": "customer__name",
    "last_order": "last_order_on",
    "orders": "order_count",
    "amount": "order_amount",
    "r": "recency",
    "f": "frequency",
    "m": "monetary",
}
RFM_SEARCH = ["customer__name", "customer__number"]


def rfm_columns() -> list[Column]:
    labels = dict(RfmSegment.choices)
    return [
        Column(_("Customer no."), lambda a: a.customer.number, 14),
        Column(_("Customer"), lambda a: a.customer.name, 30),
        Column(_("Owner"), lambda a: a.customer.owner.name if a.customer.owner else "", 12),
        Column(_("Last order"), lambda a: a.last_order_on, 12),
        Column(_("Orders"), lambda a: a.order_count, 8),
        Column(_("Order amount"), lambda a: a.order_amount, 16),
        Column("R", lambda a: a.recency, 4),
        Column("F", lambda a: a.frequency, 4),
        Column("M", lambda a: a.monetary, 4),
        Column(_("Segment"), lambda a: labels.get(a.rfm_segment, a.rfm_segment), 16),
    ]


@login_required
def rfm(request):
    _require(request, SalesPerm.VIEW_DASHBOARD)
    accounts = selectors.rfm_accounts(actor=request.user)
    if request.GET.get("format") in ("xlsx", "csv"):
        if not can_export(request.user):
            raise PermissionDenied
        queryset, _f, _s = filtered(
            request, accounts, filterset_class=RfmFilter, search_fields=RFM_SEARCH
        )
        rows = queryset.order_by("-order_amount", "pk").iterator(chunk_size=2000)
        if request.GET["format"] == "csv":
            return csv_response(filename=_("customer-rfm"), columns=rfm_columns(), rows=rows)
        return xlsx_response(
            filename=_("customer-rfm"),
            sheet_title=_("Customer RFM"),
            columns=rfm_columns(),
            rows=rows,
        )
    result = list_page(
        request,
        accounts,
        sorts=RFM_SORTS,
        default_sort="-amount",
        filterset_class=RfmFilter,
        search_fields=RFM_SEARCH,
    )
    summary = selectors.rfm_summary(actor=request.user)
    chart = {
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0, "type": "scroll"},
        "series": [
            {
                "type": "pie",
                "radius": ["35%", "65%"],
                "label": {"formatter": "{d}%"},
                "data": [
                    {"name": str(row["label"]), "value": row["count"]}
                    for row in summary
                    if row["count"]
                ],
            }
        ],
    }
    context = {
        "result": result,
        "summary": summary,
        "chart": chart,
        "segments": dict(RfmSegment.choices),
        "export_url": reverse("sales:rfm") if can_export(request.user) else "",
        "can_recompute": request.user.has_perm(SalesPerm.CHANGE_TARGET),
        "computed_at": max(
            (row["computed_at"] for row in summary if row["computed_at"]), default=None
        ),
        "search_placeholder": _("Customer name or number"),
    }
    return render(request, _template(request, f"{TEMPLATES}/rfm.html"), context)


@login_required
@require_POST
def rfm_recompute(request):
    result = services.rfm_recompute(actor=request.user)
    messages.success(request, _("RFM scores computed for %(scored)s customers.") % result)
    return redirect("sales:rfm")


urlpatterns = [
    path("", dashboard, name="home"),
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/rebuild/", rollups_rebuild, name="rollups_rebuild"),
    path("dashboard/units/<int:pk>/", dashboard_unit_rows, name="dashboard_unit_rows"),
    path("targets/", target_list, name="target_list"),
    path("targets/export/", target_export, name="target_export"),
    path("targets/new/", target_create, name="target_create"),
    path("targets/copy/", target_copy, name="target_copy"),
    path("targets/<int:pk>/", target_detail, name="target_detail"),
    path("targets/<int:pk>/edit/", target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", target_delete, name="target_delete"),
    path("rankings/", rankings, name="rankings"),
    path("rfm/", rfm, name="rfm"),
    path("rfm/recompute/", rfm_recompute, name="rfm_recompute"),
]
