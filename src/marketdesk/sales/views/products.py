"""Pages of the products part of sales: product catalogue and categories, price lists with
their items and a price checker, discount authority and the sales settings (issue 5)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import can_export
from marketdesk.core.spreadsheets import Column, csv_response, xlsx_response
from marketdesk.core.timeline import timeline_entries
from marketdesk.crm import selectors as crm_selectors
from marketdesk.crm.models import CustomerLevel

from .. import pricing
from .. import selectors_products as selectors
from ..forms_products import (
    CategoryForm,
    DiscountAuthorityForm,
    PriceListCopyForm,
    PriceListFilter,
    PriceListForm,
    PriceListItemForm,
    PriceQuoteForm,
    ProductFilter,
    ProductForm,
    SalesSettingsForm,
)
from ..models import ChannelTier, PriceListItem, Product, ProductStatus
from ..permissions import SalesPerm
from ..services import products as services


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


def _money(value) -> str:
    return f"{value:.2f}" if value is not None else ""


# Products -----------------------------------------------------------------------------------

PRODUCT_SORTS = {
    "code": "code",
    "name": "name",
    "category": "category__sort_order",
    "price": "list_price",
    "status": "status",
    "updated": "updated_at",
}
PRODUCT_SEARCH = ["code", "name", "spec"]


def product_columns(show_cost: bool) -> list[Column]:
    columns = [
        Column(gettext_lazy("Product code"), lambda p: p.code, 14),
        Column(gettext_lazy("Name"), lambda p: p.name, 28),
        Column(gettext_lazy("Category"), lambda p: p.category.name, 14),
        Column(gettext_lazy("Category code"), lambda p: p.category.code, 14),
        Column(gettext_lazy("Unit"), lambda p: p.unit, 8),
        Column(gettext_lazy("Specification"), lambda p: p.spec, 28),
        Column(gettext_lazy("List price (CNY)"), lambda p: p.list_price, 14),
    ]
    if show_cost:
        columns.append(Column(gettext_lazy("Cost (CNY)"), lambda p: p.cost, 14))
    columns.append(Column(gettext_lazy("Status"), lambda p: p.get_status_display(), 10))
    return columns


@login_required
def product_list(request):
    _require(request, *selectors.PRODUCT_READERS)
    result = list_page(
        request,
        selectors.product_list(actor=request.user),
        sorts=PRODUCT_SORTS,
        default_sort="code",
        filterset_class=ProductFilter,
        search_fields=PRODUCT_SEARCH,
    )
    context = {
        "result": result,
        "can_change": request.user.has_perm(SalesPerm.CHANGE_PRODUCT),
        "show_cost": selectors.can_see_cost(request.user),
        "can_import": request.user.has_perm("core.import_data")
        and request.user.has_perm(SalesPerm.CHANGE_PRODUCT),
        "export_url": reverse("sales:product_export") if can_export(request.user) else "",
    }
    return render(request, _template(request, "sales/products/product_list.html"), context)


@login_required
def product_export(request):
    _require(request, *selectors.PRODUCT_READERS)
    if not can_export(request.user):
        raise PermissionDenied
    queryset, _filterset, _search = filtered(
        request,
        selectors.product_list(actor=request.user),
        filterset_class=ProductFilter,
        search_fields=PRODUCT_SEARCH,
    )
    rows = queryset.order_by("code", "pk").iterator(chunk_size=2000)
    columns = product_columns(selectors.can_see_cost(request.user))
    if request.GET.get("format") == "csv":
        return csv_response(filename=_("products"), columns=columns, rows=rows)
    return xlsx_response(
        filename=_("products"), sheet_title=_("Products"), columns=columns, rows=rows
    )


def _product_values(form: ProductForm) -> dict:
    return {key: value for key, value in form.cleaned_data.items()}


@login_required
def product_create(request):
    _require(request, SalesPerm.CHANGE_PRODUCT)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, **_product_values(form))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("sales:product_detail", pk=product.pk)
    return render(request, "sales/products/product_form.html", {"form": form, "product": None})


@login_required
def product_edit(request, pk: int):
    product = selectors.product_get(actor=request.user, pk=pk)
    _require(request, SalesPerm.CHANGE_PRODUCT)
    initial = {
        name: getattr(product, name)
        for name in ("code", "name", "unit", "spec", "list_price", "cost", "status", "description")
    }
    initial["category"] = product.category_id
    form = ProductForm(request.POST or None, initial=initial, current_category=product.category)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(actor=request.user, product=product, **_product_values(form))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("sales:product_detail", pk=product.pk)
    return render(request, "sales/products/product_form.html", {"form": form, "product": product})


def _product_timeline(product, *, show_cost: bool) -> list:
    """The product's timeline; changes of cost are left out for those who may not see it."""
    entries = timeline_entries(product)
    if show_cost:
        return entries
    cost_label = str(Product._meta.get_field("cost").verbose_name)
    kept = []
    for entry in entries:
        if entry.kind == "changed":
            entry.changes = [change for change in entry.changes if change[0] != cost_label]
            if not entry.changes:
                continue
        kept.append(entry)
    return kept


@login_required
def product_detail(request, pk: int):
    product = selectors.product_get(actor=request.user, pk=pk)
    show_cost = selectors.can_see_cost(request.user)
    context = {
        "product": product,
        "show_cost": show_cost,
        "margin": selectors.margin(product) if show_cost else None,
        "can_change": request.user.has_perm(SalesPerm.CHANGE_PRODUCT),
        "can_view_prices": selectors.can_view_prices(request.user),
        "prices": list(selectors.product_prices(actor=request.user, product=product)),
        "statuses": [
            (value, label) for value, label in ProductStatus.choices if value != product.status
        ],
        "timeline": _product_timeline(product, show_cost=show_cost),
        "content_type": ContentType.objects.get_for_model(Product).pk,
    }
    return render(request, "sales/products/product_detail.html", context)


@login_required
@require_POST
def product_status(request, pk: int):
    product = selectors.product_get(actor=request.user, pk=pk)
    status = request.POST.get("status", "")
    if status not in ProductStatus.values:
        raise Http404
    try:
        services.product_set_status(actor=request.user, product=product, status=status)
        messages.success(
            request, _("Status changed to %(status)s.") % {"status": ProductStatus(status).label}
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc) or _("You do not have permission to do this."))
    return redirect("sales:product_detail", pk=product.pk)


@login_required
def product_search(request):
    """The product picker of the order form: JSON by default, <option>s for htmx."""
    _require(request, *selectors.PRODUCT_READERS, SalesPerm.ADD_ORDER)
    rows = list(
        selectors.product_search(
            actor=request.user,
            text=request.GET.get("q", ""),
            orderable_only=request.GET.get("all") != "1",
        )
    )
    if request.htmx:
        return render(request, "sales/products/_product_options.html", {"products": rows})
    return JsonResponse(
        {
            "results": [
                {
                    "id": p.pk,
                    "code": p.code,
                    "name": p.name,
                    "unit": p.unit,
                    "spec": p.spec,
                    "list_price": _money(p.list_price),
                    "status": p.status,
                }
                for p in rows
            ]
        }
    )


def _quote_inputs(request) -> dict:
    """Read ?product=&customer= (or customer_level=)&channel_tier=&date=&quantity=."""
    errors: dict[str, str] = {}
    product_id = request.GET.get("product", "")
    product = (
        selectors.orderable_products(request.user).filter(pk=int(product_id)).first()
        if product_id.isdigit()
        else None
    )
    if product is None:
        errors["product"] = _("Choose a product that is on sale.")
    level = request.GET.get("customer_level", "")
    if level and level not in CustomerLevel.values:
        errors["customer_level"] = _("Choose a valid customer level.")
    if request.GET.get("customer"):
        try:
            customer = crm_selectors.customer_get(
                actor=request.user, pk=int(request.GET["customer"])
            )
        except (ValueError, Http404):
            errors["customer"] = _("This customer was not found.")
        else:
            level = customer.level
    tier = request.GET.get("channel_tier") or ChannelTier.DIRECT
    if tier not in ChannelTier.values:
        errors["channel_tier"] = _("Choose a valid channel tier.")
    on = parse_date(request.GET.get("date", "") or "") if request.GET.get("date") else None
    if request.GET.get("date") and on is None:
        errors["date"] = _("Enter a date such as 2026-03-01.")
    try:
        quantity = Decimal(request.GET.get("quantity") or "1")
        if not quantity.is_finite() or quantity <= 0:
            raise InvalidOperation
    except InvalidOperation:
        errors["quantity"] = _("Enter a quantity of more than zero.")
        quantity = Decimal("1")
    return {
        "errors": errors,
        "product": product,
        "customer_level": level,
        "channel_tier": tier,
        "on": on or timezone.localdate(),
        "quantity": quantity,
    }


@login_required
def product_price(request):
    """JSON for the order form: the price a line would get and the asking user's authority."""
    _require(request, *selectors.PRICE_READERS, SalesPerm.ADD_ORDER)
    data = _quote_inputs(request)
    if data["errors"]:
        return JsonResponse(
            {
                "code": "invalid",
                "message": _("Please correct the errors below."),
                "fields": {k: [v] for k, v in data["errors"].items()},
            },
            status=400,
        )
    price = pricing.price_for(
        product=data["product"],
        customer_level=data["customer_level"],
        channel_tier=data["channel_tier"],
        on=data["on"],
        quantity=data["quantity"],
    )
    return JsonResponse(
        {
            "product": data["product"].pk,
            "unit_price": _money(price.unit_price),
            "list_price": _money(price.list_price),
            "price_list": {"id": price.price_list.pk, "name": price.price_list.name}
            if price.price_list
            else None,
            "max_discount": _money(pricing.max_discount_for(request.user)),
        }
    )


# Categories ---------------------------------------------------------------------------------


@login_required
def category_list(request):
    _require(request, *selectors.PRODUCT_READERS)
    can_change = request.user.has_perm(SalesPerm.CHANGE_PRODUCT)
    form = CategoryForm(request.POST or None) if can_change else None
    if request.method == "POST":
        _require(request, SalesPerm.CHANGE_PRODUCT)
        if form.is_valid():
            try:
                services.category_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Category saved."))
                return redirect("sales:category_list")
    context = {
        "categories": selectors.category_list(actor=request.user),
        "form": form,
        "can_change": can_change,
    }
    return render(request, "sales/products/category_list.html", context)


@login_required
def category_edit(request, pk: int):
    category = selectors.category_get(actor=request.user, pk=pk)
    _require(request, SalesPerm.CHANGE_PRODUCT)
    initial = {
        "code": category.code,
        "name": category.name,
        "parent": category.parent_id,
        "sort_order": category.sort_order,
        "active": category.active,
    }
    form = CategoryForm(request.POST or None, initial=initial, exclude_pk=category.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(actor=request.user, category=category, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("sales:category_list")
    return render(
        request, "sales/products/category_form.html", {"form": form, "category": category}
    )


# Price lists --------------------------------------------------------------------------------

PRICE_LIST_SORTS = {
    "name": "name",
    "priority": "priority",
    "from": "valid_from",
    "to": "valid_to",
    "items": "item_count",
}


@login_required
def price_list_list(request):
    _require(request, *selectors.PRICE_READERS)
    result = list_page(
        request,
        selectors.price_list_list(actor=request.user),
        sorts=PRICE_LIST_SORTS,
        default_sort="-priority",
        filterset_class=PriceListFilter,
        search_fields=["name", "notes"],
    )
    today = timezone.localdate()
    result.page.object_list = list(result.page.object_list)
    for row in result.rows:
        row.state = selectors.price_list_state(row, today)
    context = {
        "result": result,
        "can_change": request.user.has_perm(SalesPerm.CHANGE_PRICE_LIST),
    }
    return render(request, _template(request, "sales/products/price_list_list.html"), context)


def _price_list_values(form: PriceListForm) -> dict:
    return dict(form.cleaned_data)


@login_required
def price_list_create(request):
    _require(request, SalesPerm.CHANGE_PRICE_LIST)
    form = PriceListForm(
        request.POST or None, initial={"valid_from": timezone.localdate(), "priority": 10}
    )
    if request.method == "POST" and form.is_valid():
        try:
            price_list = services.price_list_create(actor=request.user, **_price_list_values(form))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Price list saved. Add its prices below."))
            return redirect("sales:price_list_detail", pk=price_list.pk)
    return render(
        request, "sales/products/price_list_form.html", {"form": form, "price_list": None}
    )


@login_required
def price_list_edit(request, pk: int):
    price_list = selectors.price_list_get(actor=request.user, pk=pk)
    _require(request, SalesPerm.CHANGE_PRICE_LIST)
    initial = {
        name: getattr(price_list, name)
        for name in (
            "name",
            "customer_level",
            "channel_tier",
            "valid_from",
            "valid_to",
            "priority",
            "active",
            "notes",
        )
    }
    form = PriceListForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.price_list_update(
                actor=request.user, price_list=price_list, **_price_list_values(form)
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Price list saved."))
            return redirect("sales:price_list_detail", pk=price_list.pk)
    return render(
        request, "sales/products/price_list_form.html", {"form": form, "price_list": price_list}
    )


ITEM_SORTS = {"code": "product__code", "quantity": "min_quantity", "price": "price"}


@login_required
def price_list_detail(request, pk: int, item_form=None, copy_form=None):
    price_list = selectors.price_list_get(actor=request.user, pk=pk)
    can_change = request.user.has_perm(SalesPerm.CHANGE_PRICE_LIST)
    result = list_page(
        request,
        selectors.price_list_items(price_list),
        sorts=ITEM_SORTS,
        default_sort="code",
        search_fields=["product__code", "product__name"],
    )
    result.page.object_list = list(result.page.object_list)
    for item in result.rows:
        item.off = selectors.percent_off(item.price, item.product.list_price)
    context = {
        "price_list": price_list,
        "state": selectors.price_list_state(price_list),
        "result": result,
        "can_change": can_change,
        "item_form": item_form or (PriceListItemForm() if can_change else None),
        "copy_form": copy_form
        or (
            PriceListCopyForm(
                initial={
                    "name": f"{price_list.name} ({_('copy')})",
                    "valid_from": timezone.localdate(),
                }
            )
            if can_change
            else None
        ),
        "export_url": reverse("sales:price_list_export", args=[price_list.pk])
        if can_export(request.user)
        else "",
    }
    template = "sales/products/price_list_detail.html"
    return render(request, _template(request, template) if item_form is None else template, context)


@login_required
@require_POST
def price_list_item_add(request, pk: int):
    price_list = selectors.price_list_get(actor=request.user, pk=pk)
    _require(request, SalesPerm.CHANGE_PRICE_LIST)
    form = PriceListItemForm(request.POST)
    if form.is_valid():
        try:
            services.price_list_item_save(
                actor=request.user, price_list=price_list, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Price saved."))
            return redirect(reverse("sales:price_list_detail", args=[price_list.pk]) + "#items")
    return price_list_detail(request, pk, item_form=form)


def _item_of(request, price_list, item_pk: int) -> PriceListItem:
    item = selectors.price_list_items(price_list).filter(pk=item_pk).first()
    if item is None:
        raise Http404
    return item


@login_required
@require_POST
def price_list_item_edit(request, pk: int, item_pk: int):
    price_list = selectors.price_list_get(actor=request.user, pk=pk)
    item = _item_of(request, price_list, item_pk)
    try:
        services.price_list_item_save(
            actor=request.user,
            price_list=price_list,
            product=item.product,
            item=item,
            price=request.POST.get("price", ""),
            min_quantity=request.POST.get("min_quantity") or item.min_quantity,
        )
        messages.success(request, _("Price saved."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, f"{item.product.code}: {_message(exc)}")
    return redirect(reverse("sales:price_list_detail", args=[price_list.pk]) + "#items")


@login_required
@require_POST
def price_list_item_delete(request, pk: int, item_pk: int):
    price_list = selectors.price_list_get(actor=request.user, pk=pk)
    item = _item_of(request, price_list, item_pk)
    try:
        services.price_list_item_delete(actor=request.user, item=item)
        messages.success(request, _("Price removed."))
    except PermissionDenied as exc:
        messages.error(request, _message(exc))
    return redirect(reverse("sales:price_list_detail", args=[price_list.pk]) + "#items")


@login_required
@require_POST
def price_list_copy(request, pk: int):
    price_list = selectors.price_list_get(actor=request.user, pk=pk)
    _require(request, SalesPerm.CHANGE_PRICE_LIST)
    form = PriceListCopyForm(request.POST)
    if form.is_valid():
        try:
            copy = services.price_list_copy(
                actor=request.user, source=price_list, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("Copied. The copy is inactive: check it, then activate it.")
            )
            return redirect("sales:price_list_detail", pk=copy.pk)
    messages.error(request, _("The price list was not copied; see the errors below."))
    return price_list_detail(request, pk, copy_form=form)


def item_columns() -> list[Column]:
    return [
        Column(gettext_lazy("Product code"), lambda i: i.product.code, 14),
        Column(gettext_lazy("Name"), lambda i: i.product.name, 28),
        Column(gettext_lazy("Unit"), lambda i: i.product.unit, 8),
        Column(gettext_lazy("From quantity"), lambda i: i.min_quantity, 12),
        Column(gettext_lazy("Price (CNY)"), lambda i: i.price, 14),
        Column(gettext_lazy("List price (CNY)"), lambda i: i.product.list_price, 14),
    ]


@login_required
def price_list_export(request, pk: int):
    price_list = selectors.price_list_get(actor=request.user, pk=pk)
    if not can_export(request.user):
        raise PermissionDenied
    rows = selectors.price_list_items(price_list).iterator(chunk_size=2000)
    if request.GET.get("format") == "csv":
        return csv_response(filename=price_list.name, columns=item_columns(), rows=rows)
    return xlsx_response(
        filename=price_list.name, sheet_title=price_list.name, columns=item_columns(), rows=rows
    )


@login_required
def price_quote(request):
    """The price checker: which list and price a line would get (the same rule as orders)."""
    _require(request, *selectors.PRICE_READERS)
    form = PriceQuoteForm(
        request.GET or None,
        actor=request.user,
        initial={"on": timezone.localdate(), "quantity": 1, "channel_tier": ChannelTier.DIRECT},
    )
    quote = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        quote = pricing.price_for(
            product=data["product"],
            customer_level=data["customer_level"],
            channel_tier=data["channel_tier"],
            on=data["on"],
            quantity=data["quantity"],
        )
        quote = {
            "price": quote,
            "amount": (quote.unit_price * data["quantity"]).quantize(Decimal("0.01")),
            "off": (
                ((quote.list_price - quote.unit_price) / quote.list_price * 100).quantize(
                    Decimal("0.01")
                )
                if quote.list_price
                else Decimal("0")
            ),
            "candidates": list(
                pricing.applicable_lists(
                    customer_level=data["customer_level"],
                    channel_tier=data["channel_tier"],
                    on=data["on"],
                )[:10]
            ),
        }
    context = {
        "form": form,
        "quote": quote,
        "authority": pricing.authority_for(request.user),
    }
    return render(request, "sales/products/price_quote.html", context)


# Discount authority and settings ------------------------------------------------------------


@login_required
def discount_authorities(request):
    _require(request, SalesPerm.CHANGE_DISCOUNT_AUTHORITY)
    form = DiscountAuthorityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.discount_authority_save(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Discount authority saved."))
            return redirect("sales:discount_authorities")
    context = {
        "rows": selectors.discount_authority_list(actor=request.user),
        "form": form,
        "default": pricing.settings_row().default_max_discount,
    }
    return render(request, "sales/products/discount_authorities.html", context)


@login_required
@require_POST
def discount_authority_delete(request, pk: int):
    authority = selectors.discount_authority_get(actor=request.user, pk=pk)
    services.discount_authority_delete(actor=request.user, authority=authority)
    messages.success(request, _("Discount authority removed."))
    return redirect("sales:discount_authorities")


SETTINGS_FIELDS = (
    "default_max_discount",
    "approval_amount",
    "receipt_approval",
    "credit_mode",
    "delivery_alert_days",
)


@login_required
def sales_settings(request):
    _require(request, SalesPerm.CHANGE_SETTINGS)
    row = pricing.settings_row()
    form = SalesSettingsForm(
        request.POST or None, initial={name: getattr(row, name) for name in SETTINGS_FIELDS}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.sales_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Sales settings saved."))
            return redirect("sales:sales_settings")
    return render(request, "sales/products/sales_settings.html", {"form": form})


urlpatterns = [
    path("products/", product_list, name="product_list"),
    path("products/export/", product_export, name="product_export"),
    path("products/new/", product_create, name="product_create"),
    path("products/search/", product_search, name="product_search"),
    path("products/price/", product_price, name="product_price"),
    path("products/categories/", category_list, name="category_list"),
    path("products/categories/<int:pk>/edit/", category_edit, name="category_edit"),
    path("products/<int:pk>/", product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", product_edit, name="product_edit"),
    path("products/<int:pk>/status/", product_status, name="product_status"),
    path("price-lists/", price_list_list, name="price_list_list"),
    path("price-lists/new/", price_list_create, name="price_list_create"),
    path("price-lists/quote/", price_quote, name="price_quote"),
    path("price-lists/<int:pk>/", price_list_detail, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", price_list_edit, name="price_list_edit"),
    path("price-lists/<int:pk>/copy/", price_list_copy, name="price_list_copy"),
    path("price-lists/<int:pk>/export/", price_list_export, name="price_list_export"),
    path("price-lists/<int:pk>/items/", price_list_item_add, name="price_list_item_add"),
    path(
        "price-lists/<int:pk>/items/<int:item_pk>/",
        price_list_item_edit,
        name="price_list_item_edit",
    ),
    path(
        "price-lists/<int:pk>/items/<int:item_pk>/delete/",
        price_list_item_delete,
        name="price_list_item_delete",
    ),
    path("settings/", sales_settings, name="sales_settings"),
    path("settings/discounts/", discount_authorities, name="discount_authorities"),
    path(
        "settings/discounts/<int:pk>/delete/",
        discount_authority_delete,
        name="discount_authority_delete",
    ),
]
