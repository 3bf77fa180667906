"""Pages of the orders part of sales (R4.2.2): orders with their lines, actions, tasks,
deliveries, approvals, timeline and files; the coordination tasks of 生产部 and 物流部; the
deliveries; the on-time delivery report. Each view checks the permission, reads through the
selectors (404 outside the scope) and writes through one service."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marketdesk.approvals import selectors as approval_selectors
from marketdesk.approvals.models import RequestStatus
from marketdesk.approvals.models import TaskStatus as ApprovalTaskStatus
from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import can_export
from marketdesk.core.selectors import can_edit_record
from marketdesk.core.spreadsheets import Column, csv_response, xlsx_response

from .. import selectors_orders as selectors
from .. import selectors_receipts as receipt_selectors
from ..forms_orders import (
    CommentForm,
    DeliveryFilter,
    DeliveryForm,
    OnTimeForm,
    OrderFilter,
    OrderForm,
    OrderLineFormSet,
    ReasonForm,
    SignForm,
    TaskDoneForm,
    TaskFilter,
    TaskForm,
)
from ..models import OrderStatus, TaskStatus
from ..permissions import SalesPerm
from ..pricing import max_discount_for, price_for, settings_row
from ..services import deliveries as delivery_services
from ..services import orders as services

T = "sales/orders/"


def _require(request, *perms: str) -> None:
    if not any(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You do not have permission to do this.")


def _template(request, name: str) -> str:
    return f"{name}#results" if request.htmx and not request.htmx.boosted else name


def _apply_errors(form, exc: ValidationError, *, rows=None, line_fields=None) -> None:
    """Put a service's errors on the fields they name: `lines[N].field` on the N-th kept row of
    the formset (or the N-th line field of a delivery form), others on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        if key.startswith("lines[") and "]." in key:
            index, field = key[6:].split("].", 1)
            number = int(index) if index.isdigit() else 0
            if rows is not None and 0 < number <= len(rows):
                row = rows[number - 1]
                row.add_error(field if field in row.fields else None, errors)
                continue
            if line_fields is not None and number in line_fields:
                form.add_error(line_fields[number], errors)
                continue
        form.add_error(key if key in form.fields else None, errors)


# Orders ------------------------------------------------------------------------------------------

ORDER_SORTS = {
    "number": "number",
    "date": "order_date",
    "promised": "promised_date",
    "total": "total",
    "status": "status",
    "customer": "customer__name",
}
ORDER_SEARCH = ["number", "title", "customer__name", "owner__name"]


def _order_rows(request):
    queryset = selectors.order_list(actor=request.user)
    customer = request.GET.get("customer", "")
    if customer.isdigit():
        queryset = queryset.filter(customer_id=int(customer))
    return queryset


@login_required
def order_list(request):
    _require(request, SalesPerm.VIEW_ORDER)
    result = list_page(
        request,
        _order_rows(request),
        sorts=ORDER_SORTS,
        default_sort="-date",
        filterset_class=OrderFilter,
        search_fields=ORDER_SEARCH,
    )
    context = {
        "result": result,
        "today": timezone.localdate(),
        "can_add": request.user.has_perm(SalesPerm.ADD_ORDER),
        "export_url": reverse("sales:order_export") if can_export(request.user) else "",
    }
    return render(request, _template(request, T + "list.html"), context)


def order_columns() -> list[Column]:
    from django.utils.translation import gettext_lazy

    return [
        Column(gettext_lazy("Order no."), lambda o: o.number, 18),
        Column(gettext_lazy("Title"), lambda o: o.title, 24),
        Column(gettext_lazy("Customer"), lambda o: o.customer.name, 28),
        Column(gettext_lazy("Salesperson"), lambda o: str(o.owner), 10),
        Column(gettext_lazy("Unit"), lambda o: o.department.name if o.department else "", 12),
        Column(gettext_lazy("Order date"), lambda o: o.order_date, 12),
        Column(gettext_lazy("Promised delivery date"), lambda o: o.promised_date, 12),
        Column(gettext_lazy("Payment terms"), lambda o: o.get_payment_terms_display(), 14),
        Column(gettext_lazy("Status"), lambda o: o.get_status_display(), 12),
        Column(gettext_lazy("Amount at list prices"), lambda o: o.list_amount, 14),
        Column(gettext_lazy("Total"), lambda o: o.total, 14),
        Column(gettext_lazy("Largest line discount (%)"), lambda o: o.max_discount, 10),
        Column(gettext_lazy("Received"), lambda o: o.received_amount, 14),
        Column(gettext_lazy("Delivered on"), lambda o: o.delivered_on, 12),
        Column(
            gettext_lazy("On time"),
            lambda o: "" if o.on_time is None else (_("Yes") if o.on_time else _("No")),
            8,
        ),
    ]


@login_required
def order_export(request):
    _require(request, SalesPerm.VIEW_ORDER)
    if not can_export(request.user):
        raise PermissionDenied
    queryset, _filterset, _search = filtered(
        request, _order_rows(request), filterset_class=OrderFilter, search_fields=ORDER_SEARCH
    )
    rows = queryset.order_by("-order_date", "-pk").iterator(chunk_size=2000)
    if request.GET.get("format") == "csv":
        return csv_response(filename=_("sales-orders"), columns=order_columns(), rows=rows)
    return xlsx_response(
        filename=_("sales-orders"),
        sheet_title=_("Sales orders"),
        columns=order_columns(),
        rows=rows,
    )


def _customer_querysets(request):
    from marketdesk.crm.selectors import Scene, customer_list

    customers = customer_list(request.user)
    own = customer_list(request.user, scene=Scene.MINE).order_by("name")
    return customers, own


def _order_form_context(request, form, formset, order=None, opportunity=None) -> dict:
    settings = settings_row()
    return {
        "form": form,
        "formset": formset,
        "order": order,
        "opportunity": opportunity,
        "authority": max_discount_for(order.owner if order else request.user),
        "approval_amount": settings.approval_amount,
    }


def _order_form(request, order=None):
    """The order form (new or a draft): header, then lines added on the page; prices appear
    when a product is picked and totals update as you type (the server prices them again)."""
    _require(request, SalesPerm.ADD_ORDER)
    if order is not None and (order.owner_id != request.user.pk or not order.editable):
        raise PermissionDenied
    customers, own = _customer_querysets(request)
    products = selectors.orderable_products(actor=request.user)
    opportunity = None
    if order is not None:
        initial = {
            "customer": order.customer_id,
            "contact": order.contact_id,
            "title": order.title,
            "order_date": order.order_date,
            "promised_date": order.promised_date,
            "payment_terms": order.payment_terms,
            "notes": order.notes,
        }
        initial_lines = [
            {
                "product": line.product_id,
                "quantity": line.quantity,
                "discount": line.discount,
                "description": line.description,
            }
            for line in selectors.order_lines(order)
        ]
        opportunity = order.opportunity
    else:
        today = timezone.localdate()
        initial = {"order_date": today, "promised_date": today + datetime.timedelta(days=30)}
        initial_lines = []
        opportunity = selectors.visible_opportunity(
            actor=request.user, pk=request.GET.get("opportunity") or request.POST.get("opportunity")
        )
        if opportunity is not None:
            initial.update(
                {
                    "customer": opportunity.customer_id,
                    "contact": opportunity.contact_id,
                    "title": opportunity.name[:120],
                }
            )
        elif (request.GET.get("customer") or "").isdigit():
            customer = customers.filter(pk=request.GET["customer"]).first()
            if customer is not None:
                initial["customer"] = customer.pk
                primary = customer.contacts.order_by("-is_primary", "pk").first()
                initial["contact"] = primary.pk if primary else None
    data = request.POST if request.method == "POST" else None
    form = OrderForm(data, initial=initial, customers=customers, own_customers=own)
    formset = OrderLineFormSet(
        data, initial=initial_lines or None, prefix="lines", products=products
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        values = dict(form.cleaned_data)
        submit = request.POST.get("submit") == "1"
        try:
            if order is None and submit:  # "save and submit" of a new order: one transaction
                done = services.order_create_submit(
                    actor=request.user,
                    lines=formset.rows(),
                    opportunity=opportunity,
                    comment=request.POST.get("comment", ""),
                    **values,
                )
                _submitted_messages(request, done.order, done.approval, done.refused)
                return redirect("sales:order_detail", pk=done.order.pk)
            if order is None:
                order = services.order_create(
                    actor=request.user, lines=formset.rows(), opportunity=opportunity, **values
                )
            else:
                order = services.order_update(
                    actor=request.user, order=order, lines=formset.rows(), **values
                )
        except ValidationError as exc:
            _apply_errors(form, exc, rows=formset.kept())
        except PermissionDenied as exc:
            form.add_error(None, _message(exc))
        else:
            if submit:
                return _run_order_action(request, order, "submit")
            messages.success(request, _("Saved as a draft. Submit it when it is complete."))
            return redirect("sales:order_detail", pk=order.pk)
    return render(
        request, T + "form.html", _order_form_context(request, form, formset, order, opportunity)
    )


@login_required
def order_create(request):
    return _order_form(request)


@login_required
def order_edit(request, pk: int):
    order = selectors.order_get(actor=request.user, pk=pk)
    return _order_form(request, order)


@login_required
@require_GET
def order_price(request):
    """The price an order line gets (JSON), for the form: product, customer, quantity, date."""
    _require(request, SalesPerm.ADD_ORDER)
    customers, _own = _customer_querysets(request)
    product_id, customer_id = request.GET.get("product", ""), request.GET.get("customer", "")
    product = (
        selectors.orderable_products(actor=request.user).filter(pk=product_id).first()
        if product_id.isdigit()
        else None
    )
    customer = customers.filter(pk=customer_id).first() if customer_id.isdigit() else None
    if product is None:
        raise Http404
    try:
        quantity = Decimal(request.GET.get("quantity") or "1")
        if quantity <= 0:
            quantity = Decimal("1")
    except ArithmeticError:
        quantity = Decimal("1")
    try:
        on = datetime.date.fromisoformat(request.GET.get("on") or "")
    except ValueError:
        on = timezone.localdate()
    price = price_for(
        product=product,
        customer_level=customer.level if customer else "",
        channel_tier=services.channel_tier_of(customer) if customer else "direct",
        on=on,
        quantity=quantity,
    )
    return JsonResponse(
        {
            "product": product.pk,
            "unit": product.unit,
            "unit_price": f"{price.unit_price:.2f}",
            "list_price": f"{price.list_price:.2f}",
            "price_list": str(price.price_list) if price.price_list else "",
        }
    )


@login_required
@require_GET
def order_customer_options(request):
    """<option>s of the customers matching the search box (htmx)."""
    _require(request, SalesPerm.ADD_ORDER)
    from marketdesk.crm.selectors import customer_search

    customers, own = _customer_querysets(request)
    text = request.GET.get("q", "").strip()
    rows = customer_search(actor=request.user, text=text) if text else own
    return render(
        request,
        T + "_customer_options.html",
        {"customers": rows.order_by("name")[:30], "selected": request.GET.get("customer", "")},
    )


@login_required
@require_GET
def order_contact_options(request):
    """<option>s of the chosen customer's contacts (htmx)."""
    _require(request, SalesPerm.ADD_ORDER)
    customers, _own = _customer_querysets(request)
    customer_id = request.GET.get("customer", "")
    customer = customers.filter(pk=customer_id).first() if customer_id.isdigit() else None
    contacts = customer.contacts.order_by("-is_primary", "name") if customer else []
    return render(request, T + "_contact_options.html", {"contacts": contacts})


def _order_flags(request, order) -> dict:
    user = request.user
    in_scope = services._in_scope(user, order)
    confirmer = user.has_perm(SalesPerm.CONFIRM_ORDER) and in_scope
    is_owner = order.owner_id == user.pk
    draft = order.status == OrderStatus.DRAFT
    latest = approval_selectors.requests_for_document(order).first()
    production = [
        t for t in order.tasks.all() if t.kind == "production" and t.status != "cancelled"
    ]
    coordinator = user.has_perm(SalesPerm.CHANGE_TASK) and (
        any(selectors.can_change_task(actor=user, task=t) for t in production)
        if production
        else in_scope
    )
    reasons = services.approval_reasons(order) if draft else []
    withdrawable = (
        order.status == OrderStatus.IN_APPROVAL
        and latest is not None
        and latest.status == RequestStatus.IN_PROGRESS
        and not latest.tasks.exclude(
            status__in=[ApprovalTaskStatus.WAITING, ApprovalTaskStatus.CANCELLED]
        ).exists()
    )
    return {
        "is_owner": is_owner,
        "reasons": reasons,
        "latest": latest,
        "can_edit": is_owner and order.editable,
        "can_submit": is_owner and draft and user.has_perm(SalesPerm.ADD_ORDER),
        "can_withdraw": is_owner and withdrawable,
        "can_confirm": confirmer and draft and not reasons and order.lines.exists(),
        "can_start": coordinator and order.status == OrderStatus.CONFIRMED,
        "can_ready": coordinator
        and order.status in (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION),
        "can_ship": selectors.can_ship(actor=user, order=order),
        "can_complete": confirmer and order.status == OrderStatus.DELIVERED,
        "can_cancel": (draft and (is_owner or confirmer))
        or (
            confirmer
            and order.status
            in (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.READY)
            and order.receipted_amount == 0
        ),
        "can_files": can_edit_record(actor=user, record=order),
    }


@login_required
def order_detail(request, pk: int):
    order = selectors.order_get(actor=request.user, pk=pk)
    context = {
        "order": order,
        "lines": list(selectors.order_lines(order)),
        "tasks": list(selectors.order_tasks(order)),
        "deliveries": list(selectors.order_deliveries(order)),
        "approvals": list(approval_selectors.requests_for_document(order)),
        "approval_task": selectors.open_approval_task(actor=request.user, order=order),
        "today": timezone.localdate(),
        "cancel_form": ReasonForm(),
        "receivables": receipt_selectors.order_receivables(actor=request.user, order=order),
        **_order_flags(request, order),
    }
    return render(request, T + "detail.html", context)


ORDER_ACTIONS = {"submit", "withdraw", "confirm", "start", "ready", "complete", "cancel"}


def _submitted_messages(request, order, approval, refused=None) -> None:
    """What a submission did, as messages: confirmed, sent for approval, or refused (the draft
    was kept), and the credit warning."""
    if refused is not None:
        messages.error(request, _message(refused))
        messages.info(request, _("The order was saved as a draft."))
        return
    if approval is None:
        messages.success(request, _("Order confirmed; production and logistics are told."))
    else:
        messages.success(request, _("Submitted for approval."))
    if order.credit_warning:
        messages.warning(request, order.credit_warning)


def _run_order_action(request, order, action: str):
    user = request.user
    try:
        if action == "submit":
            form = CommentForm(request.POST)
            form.is_valid()
            approval = services.order_submit(
                actor=user, order=order, comment=form.cleaned_data.get("comment", "")
            )
            order.refresh_from_db()
            _submitted_messages(request, order, approval)
        elif action == "withdraw":
            form = CommentForm(request.POST)
            form.is_valid()
            services.order_withdraw(
                actor=user, order=order, reason=form.cleaned_data.get("comment", "")
            )
            messages.success(request, _("Withdrawn from approval; the order is a draft again."))
        elif action == "confirm":
            services.order_confirm(actor=user, order=order)
            messages.success(request, _("Order confirmed; production and logistics are told."))
        elif action == "start":
            services.order_start_production(actor=user, order=order)
            messages.success(request, _("Production started."))
        elif action == "ready":
            services.order_mark_ready(actor=user, order=order)
            messages.success(request, _("Marked ready to ship."))
        elif action == "complete":
            services.order_complete(actor=user, order=order)
            messages.success(request, _("Order completed."))
        elif action == "cancel":
            form = ReasonForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the reason for cancelling."))
            services.order_cancel(actor=user, order=order, reason=form.cleaned_data["reason"])
            messages.success(request, _("Order cancelled."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("sales:order_detail", pk=order.pk)


@login_required
@require_POST
def order_action(request, pk: int, action: str):
    if action not in ORDER_ACTIONS:
        raise Http404
    order = selectors.order_get(actor=request.user, pk=pk)
    return _run_order_action(request, order, action)


# Coordination tasks ---------------------------------------------------------------------------------

TASK_SORTS = {"due": "due_date", "status": "status", "kind": "kind", "order": "order__number"}


@login_required
def task_list(request):
    _require(request, SalesPerm.VIEW_TASK)
    result = list_page(
        request,
        selectors.task_list(actor=request.user),
        sorts=TASK_SORTS,
        default_sort="due",
        filterset_class=TaskFilter,
        search_fields=["order__number", "title", "order__customer__name"],
    )
    return render(
        request,
        _template(request, T + "task_list.html"),
        {"result": result, "today": timezone.localdate()},
    )


@login_required
def task_detail(request, pk: int):
    _require(request, SalesPerm.VIEW_TASK, SalesPerm.VIEW_ORDER)
    task = selectors.task_get(actor=request.user, pk=pk)
    can_change = selectors.can_change_task(actor=request.user, task=task)
    form = None
    if can_change and task.status != TaskStatus.CANCELLED:
        form = TaskForm(
            initial={"owner": task.owner_id, "due_date": task.due_date, "notes": task.notes},
            task=task,
        )
    return render(
        request,
        T + "task_detail.html",
        {
            "task": task,
            "order": task.order,
            "lines": list(selectors.order_lines(task.order)),
            "can_change": can_change,
            "form": form,
            "done_form": TaskDoneForm(),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def task_action(request, pk: int, action: str):
    task = selectors.task_get(actor=request.user, pk=pk)
    try:
        if action == "start":
            services.task_start(actor=request.user, task=task)
            messages.success(request, _("Task started."))
        elif action == "done":
            form = TaskDoneForm(request.POST)
            form.is_valid()
            services.task_done(
                actor=request.user, task=task, note=form.cleaned_data.get("note", "")
            )
            messages.success(request, _("Task done."))
        elif action == "update":
            form = TaskForm(request.POST, task=task)
            if not form.is_valid():
                raise ValidationError(
                    [f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items()]
                )
            services.task_update(actor=request.user, task=task, **form.cleaned_data)
            messages.success(request, _("Task saved."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("sales:task_detail", pk=task.pk)


# Deliveries ------------------------------------------------------------------------------------------


@login_required
def delivery_list(request):
    _require(request, SalesPerm.VIEW_DELIVERY)
    result = list_page(
        request,
        selectors.delivery_list(actor=request.user),
        sorts={"number": "number", "shipped": "shipped_on", "status": "status"},
        default_sort="-shipped",
        filterset_class=DeliveryFilter,
        search_fields=["number", "shipment_no", "order__number", "order__customer__name"],
    )
    return render(request, _template(request, T + "delivery_list.html"), {"result": result})


@login_required
def delivery_create(request, pk: int):
    _require(request, SalesPerm.ADD_DELIVERY)
    order = selectors.order_get(actor=request.user, pk=pk)
    if not selectors.can_ship(actor=request.user, order=order):
        messages.error(
            request,
            services.MSG_WRONG_STATE % {"status": order.get_status_display()},
        )
        return redirect("sales:order_detail", pk=order.pk)
    lines = list(selectors.order_lines(order))
    form = DeliveryForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            delivery = delivery_services.delivery_create(
                actor=request.user,
                order=order,
                quantities=form.quantities(),
                shipped_on=data["shipped_on"],
                carrier=data["carrier"],
                shipment_no=data["shipment_no"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            _apply_errors(
                form, exc, line_fields={line.line_no: f"line_{line.pk}" for line in form.lines}
            )
        except PermissionDenied as exc:
            form.add_error(None, _message(exc))
        else:
            messages.success(
                request, _("Delivery %(number)s recorded.") % {"number": delivery.number}
            )
            return redirect("sales:delivery_detail", pk=delivery.pk)
    return render(request, T + "delivery_form.html", {"form": form, "order": order})


@login_required
def delivery_detail(request, pk: int):
    _require(request, SalesPerm.VIEW_DELIVERY, SalesPerm.VIEW_ORDER)
    delivery = selectors.delivery_get(actor=request.user, pk=pk)
    can_sign = selectors.can_sign(actor=request.user, delivery=delivery)
    can_cancel = delivery.status == "shipped" and request.user.has_perm(SalesPerm.ADD_DELIVERY)
    return render(
        request,
        T + "delivery_detail.html",
        {
            "delivery": delivery,
            "order": delivery.order,
            "lines": list(selectors.delivery_lines(delivery)),
            "sign_form": SignForm() if can_sign else None,
            "cancel_form": ReasonForm() if can_cancel else None,
            "can_files": can_edit_record(actor=request.user, record=delivery),
        },
    )


@login_required
@require_POST
def delivery_action(request, pk: int, action: str):
    delivery = selectors.delivery_get(actor=request.user, pk=pk)
    try:
        if action == "sign":
            form = SignForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the date the customer signed for it."))
            delivery_services.delivery_sign(
                actor=request.user, delivery=delivery, **form.cleaned_data
            )
            messages.success(request, _("Signed for."))
        elif action == "cancel":
            form = ReasonForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the reason for cancelling the delivery."))
            delivery_services.delivery_cancel(
                actor=request.user, delivery=delivery, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Delivery cancelled; its quantities are open again."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    return redirect("sales:delivery_detail", pk=delivery.pk)


# On-time delivery report -------------------------------------------------------------------------------


def on_time_columns(by: str) -> list[Column]:
    from django.utils.translation import gettext_lazy

    return [
        Column(
            gettext_lazy("Unit") if by == "department" else gettext_lazy("Salesperson"),
            lambda r: r.label,
            20,
        ),
        Column(gettext_lazy("Orders delivered"), lambda r: r.delivered, 12),
        Column(gettext_lazy("On time"), lambda r: r.on_time, 10),
        Column(gettext_lazy("Late"), lambda r: r.late, 10),
        Column(gettext_lazy("On-time rate (%)"), lambda r: r.rate, 12),
    ]


@login_required
def on_time(request):
    """On-time delivery rate per unit or per salesperson for a period (R4.2.2)."""
    _require(request, SalesPerm.VIEW_ORDER)
    form = OnTimeForm(request.GET or None)
    start, end, by = form.values()
    rows = selectors.on_time_rates(actor=request.user, start=start, end=end, by=by)
    total = selectors.on_time_total(rows)
    export = request.GET.get("format")
    if export in ("xlsx", "csv"):
        if not can_export(request.user):
            raise PermissionDenied
        columns = on_time_columns(by)
        if export == "csv":
            return csv_response(filename=_("on-time-delivery"), columns=columns, rows=rows)
        return xlsx_response(
            filename=_("on-time-delivery"),
            sheet_title=_("On-time delivery"),
            columns=columns,
            rows=rows,
        )
    late = (
        selectors.delivered_orders(actor=request.user, start=start, end=end)
        .filter(on_time=False)
        .order_by("-delivered_on")[:20]
    )
    form = OnTimeForm(initial={"start": start, "end": end, "by": by})  # the period shown
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        T + "on_time.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "by": by,
            "start": start,
            "end": end,
            "late_orders": late,
            "can_export": can_export(request.user),
            "query": query.urlencode(),
        },
    )


urlpatterns = [
    path("orders/", order_list, name="order_list"),
    path("orders/export/", order_export, name="order_export"),
    path("orders/new/", order_create, name="order_create"),
    path("orders/price/", order_price, name="order_price"),
    path("orders/customer-options/", order_customer_options, name="order_customer_options"),
    path("orders/contact-options/", order_contact_options, name="order_contact_options"),
    path("orders/on-time/", on_time, name="on_time"),
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", order_edit, name="order_edit"),
    path("orders/<int:pk>/deliveries/new/", delivery_create, name="delivery_create"),
    path("orders/<int:pk>/<str:action>/", order_action, name="order_action"),
    path("tasks/", task_list, name="task_list"),
    path("tasks/<int:pk>/", task_detail, name="task_detail"),
    path("tasks/<int:pk>/<str:action>/", task_action, name="task_action"),
    path("deliveries/", delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/", delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/<str:action>/", delivery_action, name="delivery_action"),
]
