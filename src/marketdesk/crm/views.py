"""Customer pages: the list with scenes and segments, the customer 360 page, the pool,
follow-ups, revisits, analysis, settings and export requests."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from marketdesk.approvals.services import latest_request
from marketdesk.core import services as core_services
from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import (
    can_export,
    can_view_personal_data,
    log_personal_data_access,
    log_unmasked_view,
)
from marketdesk.core.models import PersonalDataAction
from marketdesk.core.spreadsheets import csv_response, xlsx_response
from marketdesk.core.validators import normalise_mobile

from . import list_rendering, selectors, services
from .exports import analysis_columns, customer_columns
from .filters import CustomerFilter, FollowUpFilter, PoolCustomerFilter, RevisitFilter
from .forms import (
    AssignForm,
    ContactForm,
    CustomerForm,
    ExportRequestForm,
    FollowUpForm,
    LimitForm,
    PoolForm,
    ReturnForm,
    RevisitForm,
    RevisitScheduleForm,
    SegmentForm,
    SettingsForm,
    TeamMemberForm,
)
from .models import Customer, ExportRequestStatus, Tag
from .permissions import CrmPerm
from .registry import analysis_sections, customer_panels
from .selectors import Scene

User = get_user_model()


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields and name != "__all__" else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc.messages)


def _is_duplicate_warning(exc: ValidationError) -> bool:
    return hasattr(exc, "error_dict") and any(
        e.code == "duplicate_confirm" for e in exc.error_dict.get("__all__", [])
    )


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _error_message(request, exc: Exception) -> None:
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


# The customer list ------------------------------------------------------------------------

CUSTOMER_SORTS = {
    "last_contact": "last_contact_at",
    "next_contact": "next_contact_at",
    "name": "name_key",
    "level": "level",
    "stage": "stage",
    "created": "created_at",
}
SCENES = [
    (Scene.MINE, _lazy("Mine")),
    (Scene.TEAM, _lazy("Team member of")),
    (Scene.SUBORDINATES, _lazy("My subordinates'")),
    (Scene.ALL, _lazy("All I may see")),
]


def _scene(request) -> str:
    scene = request.GET.get("scene") or Scene.MINE
    return scene if scene in {s for s, _label in SCENES} else Scene.MINE


def _customer_queryset(request):
    scene = _scene(request)
    text = request.GET.get("q", "")[:100]
    queryset = selectors.customer_search(actor=request.user, text=text, scene=scene)
    return queryset.prefetch_related("tags")


@login_required
def customer_list(request):
    _require(request, CrmPerm.VIEW_CUSTOMER)
    owners = list(selectors.owner_choices(actor=request.user))  # filter bar and bulk bar
    result = list_page(
        request,
        _customer_queryset(request),
        sorts=CUSTOMER_SORTS,
        default_sort="-last_contact",
        filterset_class=CustomerFilter,
        paginator_class=(  # 1M customers: count at most 10,000 (a search: 1,000)
            selectors.SearchPaginator
            if request.GET.get("q", "").strip()
            else selectors.CappedPaginator
        ),
        keyset=True,  # page 200 costs what page 1 costs
    )
    # The page counts 1,000 rows at most; a longer list's total comes in a second request.
    result.count_url = f"{reverse('crm:customer_list_count')}?{result.querystring}"
    now = timezone.now()
    rows = list_rendering.customer_rows(result.rows, now=now)
    if request.htmx and not request.htmx.boosted:
        return render(request, "crm/customer_list.html#results", {"result": result, "rows": rows})
    owner_options = [(user.pk, str(user)) for user in owners]
    filters = result.filterset.filters
    owner_choice = (
        result.filterset.form.cleaned_data.get("owner") if result.filterset.is_valid() else None
    )
    filter_owners = owner_options
    if owner_choice is not None and owner_choice.pk not in {pk for pk, _label in owner_options}:
        filter_owners = [*owner_options, (owner_choice.pk, str(owner_choice))]  # past the 300
    tags = list(filters["tag"].queryset.values_list("pk", "name"))  # str(tag) is its name
    units = filters["department"].queryset.values_list("pk", "name")  # str(unit) is its name
    segments = [
        {"segment": s, "count": _segment_count(request, s)}
        for s in selectors.segment_list(actor=request.user)[:12]
    ]
    return render(
        request,
        "crm/customer_list.html",
        {
            "result": result,
            "rows": rows,
            "filter_fields": list_rendering.filter_fields(
                result.filterset.form,
                choices={"owner": filter_owners, "department": units, "tag": tags},
            ),
            "scene": _scene(request),
            "scenes": SCENES,
            "more_filters": any(
                request.GET.get(name) for name in list(CustomerFilter.base_filters)[2:]
            ),
            "segments": segments,
            "can_add": request.user.has_perm(CrmPerm.ADD_CUSTOMER),
            "export_url": reverse("crm:customer_export") if can_export(request.user) else "",
            **_bulk(request, owners=owner_options, tags=tags),
        },
    )


@login_required
def customer_list_count(request):
    """The customer list's total for the same scene, search and filters, counted up to
    10,000 (a search: 1,000): what the list page shows as "more than 1,000" asks for this
    after the rows are on screen (htmx), so the page never waits for a long count."""
    _require(request, CrmPerm.VIEW_CUSTOMER)
    queryset, _filterset, _search = filtered(
        request, _customer_queryset(request), filterset_class=CustomerFilter
    )
    searching = request.GET.get("q", "").strip()
    cap = selectors.SEARCH_COUNT_CAP if searching else selectors.LIST_COUNT_CAP
    found = selectors.capped_count(queryset, cap)
    return render(
        request,
        "components/list_count.html",
        {"count": min(found, cap), "capped": found > cap},
    )


def _segment_count(request, segment) -> str:
    """The saved filter's badge: its customers counted up to 1,000 (LIST_PAGE_COUNT_CAP),
    "1000+" past that; up to 12 badges on every list page must not count 10,000 rows each."""
    from django.http import QueryDict

    params = QueryDict(segment.query)
    scene = params.get("scene") or Scene.ALL
    queryset = selectors.customer_search(actor=request.user, text=params.get("q", ""), scene=scene)
    filterset = CustomerFilter(params, queryset=queryset, request=request)
    if not filterset.is_valid():
        return "0"
    cap = selectors.LIST_PAGE_COUNT_CAP
    found = selectors.capped_count(filterset.qs, cap)
    return f"{cap}+" if found > cap else str(found)


def _bulk(request, *, owners, tags) -> dict:
    """Assign, tag, return to pool: for people who may assign (return and tag: owners too).
    `owners` and `tags`: (pk, label) pairs the filter bar shows too."""
    user = request.user
    actions = [("tag", _("Add tag")), ("return", _("Return to the pool"))]
    may_assign = user.has_perm(CrmPerm.ASSIGN_CUSTOMER)
    if may_assign:
        actions.insert(0, ("assign", _("Assign to")))
    from django.utils.html import conditional_escape

    extra = ""
    if may_assign and owners:
        extra += (
            f'<select name="to_user" class="form-select form-select-sm w-auto" '
            f'aria-label="{conditional_escape(_("New owner"))}"><option value="">'
            f"{conditional_escape(_('New owner'))}</option>"
            f"{list_rendering.options_html(owners)}</select>"
        )
    extra += (
        f'<select name="tag" class="form-select form-select-sm w-auto" '
        f'aria-label="{conditional_escape(_("Tag"))}"><option value="">'
        f"{conditional_escape(_('Tag'))}</option>{list_rendering.options_html(tags)}</select>"
        f'<input name="reason" class="form-control form-control-sm w-auto" maxlength="200" '
        f'placeholder="{conditional_escape(_("Reason (to return)"))}">'
    )
    return {
        "bulk_actions": actions,
        "bulk_extra": mark_safe(extra),  # noqa: S308 (every value escaped above)
    }


@login_required
@require_POST
def customer_bulk(request):
    _require(request, CrmPerm.VIEW_CUSTOMER)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()][:500]
    action = request.POST.get("action", "")
    back = _back(request, reverse("crm:customer_list"))
    customers = selectors.customer_list(request.user).filter(pk__in=ids)
    if not ids or action not in {"assign", "tag", "return"}:
        messages.error(request, _("Choose customers and an action."))
        return redirect(back)
    params: dict = {}
    if action == "assign":
        to_user = User.objects.filter(pk=request.POST.get("to_user") or 0, is_active=True).first()
        if to_user is None:
            messages.error(request, _("Choose the new owner."))
            return redirect(back)
        params["to_user"] = to_user
    elif action == "tag":
        tag = Tag.objects.filter(pk=request.POST.get("tag") or 0).first()
        if tag is None:
            messages.error(request, _("Choose a tag."))
            return redirect(back)
        params["tags"] = [tag]
    else:
        params["reason"] = request.POST.get("reason", "")
        if not params["reason"].strip():
            messages.error(request, _("Give a reason to return customers to the pool."))
            return redirect(back)
    done, errors = services.customers_bulk(
        actor=request.user, customers=customers, action=action, **params
    )
    if done:
        messages.success(request, _("%(count)s customers done.") % {"count": done})
    for error in errors[:10]:
        messages.error(request, error)
    return redirect(back)


@login_required
def customer_export(request):
    """Export the filtered list; masked unless the user may see personal data; above the
    configured size only with an approved export request (R5.1.3)."""
    _require(request, CrmPerm.VIEW_CUSTOMER)
    if not can_export(request.user):
        raise PermissionDenied
    queryset, _filterset, _search = filtered(
        request, _customer_queryset(request), filterset_class=CustomerFilter
    )
    count = queryset.count()
    limit = selectors.crm_settings().export_approval_rows
    approval = None
    query = request.GET.copy()
    query.pop("format", None)
    if count > limit:
        approval = selectors.approved_export(
            actor=request.user, row_count=count, query=query.urlencode()
        )
        if approval is None:
            messages.warning(
                request,
                _(
                    "An export of %(count)s customers (more than %(limit)s) needs an approved "
                    "export request."
                )
                % {"count": count, "limit": limit},
            )
            return redirect(
                reverse("crm:export_request_create")
                + "?"
                + urlencode({"query": query.urlencode(), "rows": count})
            )
        services.export_request_use(actor=request.user, request=approval)
    unmasked = can_view_personal_data(request.user)
    log_personal_data_access(
        actor=request.user,
        action=PersonalDataAction.EXPORT,
        description=(
            f"customers export ({'unmasked' if unmasked else 'masked'})"
            f"{' ' + approval.number if approval else ''}: {request.GET.urlencode()}"
        )[:300],
        model=Customer,
        row_count=count,
        request=request,
    )
    columns = customer_columns(unmasked=unmasked)
    rows = queryset.select_related("owner", "department").order_by("pk").iterator(chunk_size=2000)
    if request.GET.get("format") == "csv":
        return csv_response(filename=_("customers"), columns=columns, rows=rows)
    return xlsx_response(
        filename=_("customers"), sheet_title=_("Customers"), columns=columns, rows=rows
    )


# Segments ---------------------------------------------------------------------------------


@login_required
@require_POST
def segment_save(request):
    _require(request, CrmPerm.VIEW_CUSTOMER)
    form = SegmentForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            services.segment_save(actor=request.user, query=query, **form.cleaned_data)
            messages.success(request, _("Filter saved."))
        except ValidationError as exc:
            _error_message(request, exc)
    else:
        messages.error(request, _("Give the filter a name."))
    return redirect(reverse("crm:customer_list") + "?" + query)


@login_required
@require_POST
def segment_delete(request, pk: int):
    segment = selectors.segment_get(actor=request.user, pk=pk)
    try:
        services.segment_delete(actor=request.user, segment=segment)
    except PermissionDenied as exc:
        _error_message(request, exc)
    return redirect("crm:customer_list")


# One customer -----------------------------------------------------------------------------


@login_required
def customer_detail(request, pk: int):
    customer = selectors.customer_get(actor=request.user, pk=pk)
    user = request.user
    can_edit = selectors.can_edit_customer(actor=user, customer=customer)
    panels = []
    for panel in customer_panels(user):
        html = panel.render(user, customer)
        if html:
            panels.append({"key": panel.key, "label": panel.label, "html": html})
    follow_ups = list(selectors.follow_up_list(actor=user, customer=customer)[:50])
    files = selectors.follow_up_files(follow_ups)
    for follow_up in follow_ups:
        follow_up.files = files.get(follow_up.pk, [])
    return render(
        request,
        "crm/customer_detail.html",
        {
            "customer": customer,
            "contacts": customer.contacts.all(),
            "follow_ups": follow_ups,
            "revisits": customer.revisits.select_related("assignee")[:30],
            "changes": selectors.owner_changes(customer)[:30],
            "members": selectors.team_members(customer),
            "panels": panels,
            "can_edit": can_edit,
            "can_follow": selectors.can_follow_up(actor=user, customer=customer),
            "can_claim": customer.in_pool and user.has_perm(CrmPerm.CLAIM_CUSTOMER),
            "can_assign": user.has_perm(CrmPerm.ASSIGN_CUSTOMER),
            "can_return": not customer.in_pool
            and (customer.owner_id == user.pk or user.has_perm(CrmPerm.ASSIGN_CUSTOMER)),
            "can_lock": not customer.in_pool and can_edit and user.has_perm(CrmPerm.LOCK_CUSTOMER),
            "can_unmask": can_view_personal_data(user),
            # The owner works the customer by phone: their own customers' numbers are shown.
            "unmasked": customer.owner_id == user.pk,
            "can_schedule_revisit": not customer.in_pool and user.has_perm(CrmPerm.CHANGE_REVISIT),
            "follow_form": FollowUpForm(customer=customer),
            "assign_form": AssignForm(),
            "return_form": ReturnForm(),
            "member_form": TeamMemberForm(),
            "revisit_form": RevisitScheduleForm(
                initial={"due_date": timezone.localdate() + datetime.timedelta(days=7)}
            ),
        },
    )


@login_required
@require_POST
def customer_reveal(request, pk: int):
    customer = selectors.customer_get(actor=request.user, pk=pk)
    if not can_view_personal_data(request.user):
        raise PermissionDenied
    log_unmasked_view(
        actor=request.user,
        record=customer,
        fields=["mobile", "address", "contacts.mobile"],
        request=request,
    )
    return render(
        request,
        "crm/customer_detail.html#contacts",
        {
            "customer": customer,
            "contacts": customer.contacts.all(),
            "unmasked": True,
            "revealed": True,
            # the contacts keep their edit and delete buttons once revealed
            "can_edit": selectors.can_edit_customer(actor=request.user, customer=customer),
        },
    )


def _customer_form_view(request, customer: Customer | None):
    initial = {}
    if customer:
        initial = {name: getattr(customer, name) for name in services.CUSTOMER_FIELDS}
        initial["tags"] = list(customer.tags.values_list("pk", flat=True))
    data = request.POST or None
    duplicate_warning = bool(data and data.get("confirm_duplicates"))
    form = CustomerForm(data, initial=initial, duplicate_warning=duplicate_warning)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        tags = list(values.pop("tags"))
        confirm = values.pop("confirm_duplicates", False)
        try:
            if customer:
                customer = services.customer_update(
                    actor=request.user,
                    customer=customer,
                    tags=tags,
                    confirm_duplicates=confirm,
                    **values,
                )
            else:
                customer = services.customer_create(
                    actor=request.user,
                    tags=tags,
                    to_pool=request.POST.get("to_pool") == "1",
                    confirm_duplicates=confirm,
                    **values,
                )
            messages.success(request, _("Saved."))
            return redirect("crm:customer_detail", pk=customer.pk)
        except ValidationError as exc:
            if _is_duplicate_warning(exc):
                form = CustomerForm(data, initial=initial, duplicate_warning=True)
                form.is_valid()
            _apply_errors(form, exc)
    return render(
        request,
        "crm/customer_form.html",
        {
            "form": form,
            "fieldsets": _fieldsets(form),
            "customer": customer,
            "can_pool": request.user.has_perm(CrmPerm.CLAIM_CUSTOMER),
        },
    )


FIELDSETS = [
    (
        _lazy("Basic information"),
        ["kind", "name", "credit_code", "mobile", "level", "stage", "industry", "source"],
    ),
    (_lazy("Region and address"), ["province", "city", "district", "address"]),
    (_lazy("Needs"), ["products_of_interest", "budget", "purchase_timing", "pain_points"]),
    (_lazy("More"), ["birthday", "member_since", "tags", "notes"]),
]


def _fieldsets(form) -> list:
    return [(title, [form[name] for name in names]) for title, names in FIELDSETS]


@login_required
def customer_create(request):
    _require(request, CrmPerm.ADD_CUSTOMER)
    return _customer_form_view(request, None)


@login_required
def customer_edit(request, pk: int):
    customer = selectors.customer_get(actor=request.user, pk=pk)
    if not selectors.can_edit_customer(actor=request.user, customer=customer):
        raise PermissionDenied
    return _customer_form_view(request, customer)


def _stored_mobile(typed: str) -> str:
    """The mobile as the service stores it ("138 1234 5678" -> "13812345678"); "" if it is not
    a mobile, which then matches nothing."""
    try:
        return normalise_mobile(typed[:20]) if typed.strip() else ""
    except ValidationError:
        return ""


@login_required
def duplicate_check(request):
    """As the user types: matches by name, credit code or mobile (no details outside scope)."""
    _require(request, CrmPerm.VIEW_CUSTOMER)
    exclude = request.GET.get("exclude", "")
    matches = services.find_duplicates(
        actor=request.user,
        name=request.GET.get("name", "")[:100],
        credit_code=request.GET.get("credit_code", "").strip().upper()[:18],
        mobiles=[_stored_mobile(request.GET.get("mobile", ""))],
        exclude_pk=int(exclude) if exclude.isdigit() else None,
        kind=request.GET.get("kind", "company"),
    )
    return render(request, "crm/_duplicates.html", {"matches": matches})


@login_required
@require_POST
def customer_action(request, pk: int, action: str):
    """Claim, return, assign/transfer, lock, unlock, delete, add/remove a team member."""
    customer = selectors.customer_get(actor=request.user, pk=pk)
    user = request.user
    detail = reverse("crm:customer_detail", args=[customer.pk])
    try:
        if action == "claim":
            services.customer_claim(actor=user, customer=customer)
            messages.success(request, _("The customer is yours now."))
        elif action == "return":
            form = ReturnForm(request.POST)
            if not form.is_valid():
                raise ValidationError(services.MSG_REASON)
            services.customer_return(actor=user, customer=customer, **form.cleaned_data)
            messages.success(request, _("Returned to the pool."))
            if not selectors.customer_list(user).filter(pk=customer.pk).exists():
                return redirect("crm:customer_list")
        elif action == "assign":
            form = AssignForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose the new owner."))
            services.customer_assign(actor=user, customer=customer, **form.cleaned_data)
            messages.success(request, _("Assigned."))
            if not selectors.customer_list(user).filter(pk=customer.pk).exists():
                return redirect("crm:customer_list")
        elif action in ("lock", "unlock"):
            services.customer_set_locked(actor=user, customer=customer, locked=action == "lock")
            messages.success(request, _("Saved."))
        elif action == "delete":
            services.customer_delete(actor=user, customer=customer)
            messages.success(request, _("Deleted."))
            return redirect("crm:customer_list")
        elif action == "add_member":
            form = TeamMemberForm(request.POST)
            if not form.is_valid() or not selectors.can_edit_customer(
                actor=user, customer=customer
            ):
                raise PermissionDenied
            core_services.record_share(
                actor=user,
                record=customer,
                user=form.cleaned_data["user"],
                access=form.cleaned_data["access"],
            )
            messages.success(request, _("Team member added."))
        elif action == "remove_member":
            member = User.objects.filter(pk=request.POST.get("user") or 0).first()
            if member is None or not selectors.can_edit_customer(actor=user, customer=customer):
                raise PermissionDenied
            core_services.record_unshare(actor=user, record=customer, user=member)
            messages.success(request, _("Team member removed."))
        elif action == "schedule_revisit":
            form = RevisitScheduleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Enter a due date."))
            services.revisit_schedule(actor=user, customer=customer, **form.cleaned_data)
            messages.success(request, _("Revisit planned."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        _error_message(request, exc)
    return redirect(_back(request, detail))


# Contacts ---------------------------------------------------------------------------------


@login_required
def contact_form(request, customer_pk: int, pk: int | None = None):
    customer = selectors.customer_get(actor=request.user, pk=customer_pk)
    if not selectors.can_edit_customer(actor=request.user, customer=customer):
        raise PermissionDenied
    contact = customer.contacts.filter(pk=pk).first() if pk else None
    if pk and contact is None:
        raise Http404
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        confirm = values.pop("confirm_duplicates", False)
        try:
            if contact:
                services.contact_update(
                    actor=request.user, contact=contact, confirm_duplicates=confirm, **values
                )
            else:
                services.contact_create(
                    actor=request.user, customer=customer, confirm_duplicates=confirm, **values
                )
            messages.success(request, _("Saved."))
            return redirect(reverse("crm:customer_detail", args=[customer.pk]) + "#contacts")
        except ValidationError as exc:
            if _is_duplicate_warning(exc):
                form.data = form.data.copy()
                form.data["confirm_duplicates"] = "on"
            _apply_errors(form, exc)
    return render(
        request, "crm/contact_form.html", {"form": form, "customer": customer, "contact": contact}
    )


@login_required
@require_POST
def contact_delete(request, customer_pk: int, pk: int):
    customer = selectors.customer_get(actor=request.user, pk=customer_pk)
    contact = customer.contacts.filter(pk=pk).first()
    if contact is None:
        raise Http404
    try:
        services.contact_delete(actor=request.user, contact=contact)
        messages.success(request, _("Deleted."))
    except PermissionDenied as exc:
        _error_message(request, exc)
    return redirect(reverse("crm:customer_detail", args=[customer.pk]) + "#contacts")


# Follow-ups -------------------------------------------------------------------------------


@login_required
def follow_up_create(request, pk: int):
    customer = selectors.customer_get(actor=request.user, pk=pk)
    _require(request, CrmPerm.ADD_FOLLOW_UP)
    form = FollowUpForm(request.POST or None, request.FILES or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        values["contacts"] = list(values.get("contacts") or [])
        try:
            services.follow_up_create(actor=request.user, customer=customer, **values)
            messages.success(request, _("Follow-up saved."))
            return redirect(reverse("crm:customer_detail", args=[customer.pk]) + "#follow-ups")
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            _error_message(request, exc)
            return redirect("crm:customer_detail", pk=customer.pk)
    return render(request, "crm/follow_up_form.html", {"form": form, "customer": customer})


FOLLOW_SORTS = {"at": "at", "kind": "kind", "user": "user__name"}


@login_required
def follow_up_list(request):
    _require(request, CrmPerm.VIEW_CUSTOMER)
    result = list_page(
        request,
        selectors.follow_up_list(actor=request.user),
        sorts=FOLLOW_SORTS,
        default_sort="-at",
        filterset_class=FollowUpFilter,
        search_fields=["content", "customer__name"],
    )
    template = "crm/follow_up_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, {"result": result})


# The pool ---------------------------------------------------------------------------------

POOL_SORTS = {"pooled": "pooled_at", "name": "name_key", "level": "level", "stage": "stage"}


@login_required
def pool_customers(request):
    _require(request, CrmPerm.CLAIM_CUSTOMER)
    queryset = selectors.pool_customers(actor=request.user)
    text = request.GET.get("q", "")[:100]
    if text.strip():
        queryset = queryset.filter(selectors.search_condition(text))
    result = list_page(
        request,
        queryset,
        sorts=POOL_SORTS,
        default_sort="-pooled",
        filterset_class=PoolCustomerFilter,
    )
    template = "crm/pool_customers.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(
        request,
        template,
        {
            "result": result,
            "pools": selectors.pool_list(actor=request.user),
            "can_assign": request.user.has_perm(CrmPerm.ASSIGN_CUSTOMER),
            "assign_form": AssignForm(),
        },
    )


# Revisits ---------------------------------------------------------------------------------

REVISIT_SORTS = {"due": "due_date", "status": "status", "satisfaction": "satisfaction"}


@login_required
def revisit_list(request):
    _require(request, CrmPerm.VIEW_REVISIT)
    result = list_page(
        request,
        selectors.revisit_list(actor=request.user),
        sorts=REVISIT_SORTS,
        default_sort="due",
        filterset_class=RevisitFilter,
        search_fields=["customer__name"],
    )
    template = "crm/revisit_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, {"result": result})


@login_required
def revisit_detail(request, pk: int):
    revisit = selectors.revisit_get(actor=request.user, pk=pk)
    form = RevisitForm(request.POST or None, instance=revisit if revisit.status == "done" else None)
    if request.method == "POST":
        _require(request, CrmPerm.CHANGE_REVISIT)
        if form.is_valid():
            try:
                services.revisit_record(actor=request.user, revisit=revisit, **form.cleaned_data)
                messages.success(request, _("Revisit recorded."))
                return redirect("crm:revisit_detail", pk=revisit.pk)
            except ValidationError as exc:
                _apply_errors(form, exc)
            except PermissionDenied as exc:
                _error_message(request, exc)
    return render(
        request,
        "crm/revisit_detail.html",
        {
            "revisit": revisit,
            "form": form,
            "can_record": revisit.status == "planned"
            and request.user.has_perm(CrmPerm.CHANGE_REVISIT),
        },
    )


# Analysis (R5.1.2) ------------------------------------------------------------------------


def _period(request) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today.replace(month=1, day=1) - datetime.timedelta(days=365)
        start = start.replace(day=1)
    try:
        end = datetime.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    return start, end


def _choice_labels(model_field: str) -> dict:
    return dict(Customer._meta.get_field(model_field).choices or [])


def _bar(title: str, rows: list[tuple[str, int]], labels: dict | None = None) -> dict:
    labels = labels or {}
    return {
        "title": {"text": title, "textStyle": {"fontSize": 14}},
        "tooltip": {},
        "grid": {"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {
            "type": "category",
            "inverse": True,
            "data": [str(labels.get(k, k) or "—") for k, _n in rows],
        },
        "series": [{"type": "bar", "data": [n for _k, n in rows]}],
    }


@login_required
def analysis(request):
    _require(request, CrmPerm.VIEW_ANALYSIS)
    start, end = _period(request)
    data = selectors.customer_analysis(actor=request.user, start=start, end=end)
    if request.GET.get("format") in ("xlsx", "csv"):
        if not can_export(request.user):
            raise PermissionDenied
        rows = _analysis_rows(data)
        columns = analysis_columns()
        if request.GET["format"] == "csv":
            return csv_response(filename=_("customer analysis"), columns=columns, rows=rows)
        return xlsx_response(
            filename=_("customer analysis"),
            sheet_title=_("Customer analysis"),
            columns=columns,
            rows=rows,
        )
    months = sorted(
        {r["month"].strftime("%Y-%m") for r in data["new_by_month"] + data["dormant_by_month"]}
    )
    new = {r["month"].strftime("%Y-%m"): r["n"] for r in data["new_by_month"]}
    dormant = {r["month"].strftime("%Y-%m"): r["n"] for r in data["dormant_by_month"]}
    people = sorted({r["user__name"] for r in data["activity"]})
    kinds = dict(_choice_labels_follow())
    series = []
    for kind, label in kinds.items():
        counts = {r["user__name"]: r["n"] for r in data["activity"] if r["kind"] == kind}
        if counts:
            series.append(
                {
                    "type": "bar",
                    "stack": "all",
                    "name": str(label),
                    "data": [counts.get(p, 0) for p in people],
                }
            )
    charts = {
        "stage": _bar(_("By stage"), data["stage"], _choice_labels("stage")),
        "level": _bar(_("By level"), data["level"], _choice_labels("level")),
        "industry": _bar(_("By industry"), data["industry"], _choice_labels("industry")),
        "province": _bar(_("By province"), data["province"]),
        "source": _bar(_("By source"), data["source"], _choice_labels("source")),
        "interests": _bar(_("Products of interest"), data["interests"]),
        "trend": {
            "title": {"text": _("New and dormant customers"), "textStyle": {"fontSize": 14}},
            "tooltip": {"trigger": "axis"},
            "legend": {"bottom": 0},
            "grid": {"left": 8, "right": 16, "top": 32, "bottom": 32, "containLabel": True},
            "xAxis": {"type": "category", "data": months},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {"type": "line", "name": _("New"), "data": [new.get(m, 0) for m in months]},
                {"type": "line", "name": _("Dormant"), "data": [dormant.get(m, 0) for m in months]},
            ],
        },
        "activity": {
            "title": {"text": _("Follow-ups per person"), "textStyle": {"fontSize": 14}},
            "tooltip": {"trigger": "axis"},
            "legend": {"bottom": 0},
            "grid": {"left": 8, "right": 16, "top": 32, "bottom": 32, "containLabel": True},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": people},
            "series": series,
        },
    }
    return render(
        request,
        "crm/analysis.html",
        {
            "data": data,
            "charts": charts,
            "start": start,
            "end": end,
            "can_export": can_export(request.user),
            "sections": [
                (section.label, html)
                for section in analysis_sections(request.user)
                if (html := section.render(request.user, {"start": start, "end": end}))
            ],
        },
    )


def _choice_labels_follow():
    from .models import FollowUpKind

    return FollowUpKind.choices


def _analysis_rows(data: dict) -> list[tuple[str, str, int]]:
    rows = []
    names = {
        "stage": (_("Stage"), _choice_labels("stage")),
        "level": (_("Level"), _choice_labels("level")),
        "industry": (_("Industry"), _choice_labels("industry")),
        "province": (_("Province"), {}),
        "source": (_("Source"), _choice_labels("source")),
        "interests": (_("Products of interest"), {}),
    }
    for key, (title, labels) in names.items():
        for value, count in data[key]:
            rows.append((str(title), str(labels.get(value, value) or "—"), count))
    for row in data["new_by_month"]:
        rows.append((_("New customers"), row["month"].strftime("%Y-%m"), row["n"]))
    for row in data["dormant_by_month"]:
        rows.append((_("Dormant customers"), row["month"].strftime("%Y-%m"), row["n"]))
    for row in data["activity"]:
        rows.append((_("Follow-ups"), f"{row['user__name']} · {row['kind']}", row["n"]))
    return rows


# Settings: pools, limits, rules -----------------------------------------------------------

TAG_COLOURS = ["secondary", "primary", "success", "danger", "warning", "info", "dark"]


@login_required
def crm_settings(request):
    _require(request, CrmPerm.MANAGE_SETTINGS)
    form = SettingsForm(request.POST or None, instance=selectors.crm_settings())
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("crm:settings")
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(
        request,
        "crm/settings.html",
        {
            "form": form,
            "pools": selectors.pool_list(actor=request.user).select_related("department"),
            "limits": selectors.holding_limits(actor=request.user),
            "tags": Tag.objects.annotate(n=Count("customers")).order_by("name"),
            "tag_colours": TAG_COLOURS,
        },
    )


@login_required
@require_POST
def tag_create(request):
    _require(request, CrmPerm.MANAGE_SETTINGS)
    name = request.POST.get("name", "").strip()[:30]
    if not name:
        messages.error(request, _("Give the tag a name."))
    else:
        try:
            services.tag_create(actor=request.user, name=name, color=request.POST.get("color", ""))
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            _error_message(request, exc)
    return redirect("crm:settings")


@login_required
def pool_form(request, pk: int | None = None):
    _require(request, CrmPerm.MANAGE_SETTINGS)
    pool = selectors.pool_get(actor=request.user, pk=pk) if pk else None
    form = PoolForm(request.POST or None, instance=pool)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        members = list(values.pop("members"))
        admins = list(values.pop("admins"))
        try:
            services.pool_save(
                actor=request.user, pool=pool, members=members, admins=admins, **values
            )
            messages.success(request, _("Saved."))
            return redirect("crm:settings")
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "crm/pool_form.html", {"form": form, "pool": pool})


def pool_detail(request, pk: int):
    return redirect(reverse("crm:pool_customers") + f"?pool={pk}")


@login_required
def limit_form(request):
    _require(request, CrmPerm.MANAGE_SETTINGS)
    form = LimitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.holding_limit_save(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("crm:settings")
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "crm/limit_form.html", {"form": form})


@login_required
@require_POST
def limit_delete(request, pk: int):
    limit = selectors.holding_limits(actor=request.user).filter(pk=pk).first()
    if limit is None:
        raise Http404
    services.holding_limit_delete(actor=request.user, limit=limit)
    messages.success(request, _("Deleted."))
    return redirect("crm:settings")


# Export requests --------------------------------------------------------------------------


@login_required
def export_request_create(request):
    _require(request, CrmPerm.REQUEST_EXPORT)
    query = request.GET.get("query", request.POST.get("query", ""))[:500]
    try:
        rows = int(request.GET.get("rows", request.POST.get("rows", "0")))
    except ValueError:
        rows = 0
    form = ExportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # a request that cannot be submitted is not kept
                export = services.export_request_create(
                    actor=request.user, query=query, row_count=max(rows, 1), **form.cleaned_data
                )
                services.export_request_submit(actor=request.user, request=export)
            messages.success(request, _("Export request submitted for approval."))
            return redirect("crm:export_request_detail", pk=export.pk)
        except (ValidationError, PermissionDenied) as exc:
            _apply_errors(form, ValidationError(getattr(exc, "messages", None) or [str(exc)]))
    return render(
        request, "crm/export_request_form.html", {"form": form, "query": query, "rows": rows}
    )


@login_required
def export_request_list(request):
    _require(request, CrmPerm.REQUEST_EXPORT)
    result = list_page(
        request,
        selectors.export_request_list(actor=request.user),
        sorts={"created": "created_at", "rows": "row_count", "status": "status"},
        default_sort="-created",
        search_fields=["number", "reason"],
    )
    template = "crm/export_request_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, {"result": result})


@login_required
def export_request_detail(request, pk: int):
    export = selectors.export_request_get(actor=request.user, pk=pk)
    return render(
        request,
        "crm/export_request_detail.html",
        {
            "export": export,
            "approval": latest_request(export),
            "download_url": reverse("crm:customer_export") + "?" + export.query
            if export.status == ExportRequestStatus.APPROVED
            and export.requester_id == request.user.pk
            else "",
        },
    )
