"""Every write of products and prices (issue 5): categories, products, price lists and their
items, discount authority and the sales settings, plus the product spreadsheet import.

Each function is keyword-only, runs in one transaction, checks the permission first, and
raises `ValidationError` naming the field (nothing is changed then)."""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from marketdesk.core.imports import (
    ImportColumn,
    ImportContext,
    Outcome,
    cell_text,
    parse_choice,
    parse_decimal,
    parse_text,
)
from marketdesk.crm.models import CustomerLevel
from marketdesk.org.models import Role

from ..models import (
    ChannelTier,
    CreditMode,
    DiscountAuthority,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    ProductStatus,
    SalesSettings,
)
from ..permissions import SalesPerm

MSG_NO_PERMISSION = _("You do not have permission to do this.")
MSG_REQUIRED = _("This field is required.")
MSG_CODE_TAKEN = _('The product code "%(code)s" is already used by %(name)s.')
MSG_CODE_IN_USE = _('The product code "%(code)s" is already used.')
MSG_CATEGORY_CODE_TAKEN = _('The category code "%(code)s" is already used by %(name)s.')
MSG_NOT_A_NUMBER = _("Enter a number.")
MSG_NOT_NEGATIVE = _("Enter an amount of zero or more.")
MSG_TWO_PLACES = _("Enter an amount with at most two decimal places.")
MSG_QUANTITY = _("The from-quantity must be more than zero.")
MSG_DATES = _("The end date cannot be before the start date.")
MSG_ITEM_EXISTS = _(
    "This price list already has a price for %(product)s from quantity %(quantity)s."
)
MSG_DISCONTINUED = _("%(product)s is discontinued; it cannot be given a new price.")
MSG_CATEGORY_LOOP = _("A category cannot be placed inside itself or one of its sub-categories.")
MSG_CATEGORY_INACTIVE = _("This category is not active; choose an active one.")
MSG_CATEGORY_UNKNOWN = _('There is no product category with the code "%(code)s".')
MSG_ROLE_OR_PERSON = _("Choose either a role or a person, not both.")
MSG_PERCENT = _("Enter a percentage between 0 and 100.")
MSG_NOT_CHANGEABLE = _("This field cannot be changed here.")
MSG_COPY_PERCENT = _("Enter a change between -90 and 100 percent.")

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")


def _require(actor, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


def _stamp(record: Model, actor, *, new: bool = False) -> None:
    if new:
        record.created_by = actor
    record.updated_by = actor
    record._history_user = actor  # simple_history records who made the change


def _decimal(value: Any, field: str, *, minimum: Decimal = Decimal("0")) -> Decimal:
    """A money or quantity value as a Decimal with two places, or a ValidationError on
    `field`. Floats are read through their text so 0.1 stays 0.10."""
    if value is None or value == "":
        raise ValidationError({field: [MSG_REQUIRED]})
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [MSG_NOT_A_NUMBER]}) from exc
    if not number.is_finite():
        raise ValidationError({field: [MSG_NOT_A_NUMBER]})
    if number != number.quantize(CENT):
        raise ValidationError({field: [MSG_TWO_PLACES]})
    if number < minimum:
        raise ValidationError({field: [MSG_QUANTITY if minimum > 0 else MSG_NOT_NEGATIVE]})
    if number > MAX_MONEY:
        raise ValidationError({field: [MSG_NOT_A_NUMBER]})
    return number.quantize(CENT)


def quantity_text(value: Decimal) -> str:
    """10.00 -> "10", 2.50 -> "2.5" (quantities in messages and the timeline)."""
    return format(Decimal(value).normalize(), "f")


def _percent(value: Any, field: str) -> Decimal:
    number = _decimal(value, field)
    if number > 100:
        raise ValidationError({field: [MSG_PERCENT]})
    return number


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _save(record: Model, *, exclude: list[str] | None = None) -> None:
    record.full_clean(exclude=exclude, validate_unique=False)
    record.save()


# Categories ---------------------------------------------------------------------------------


def _check_category_code(code: str, *, pk: int | None = None) -> None:
    if not code:
        raise ValidationError({"code": [MSG_REQUIRED]})
    clash = ProductCategory.objects.filter(code__iexact=code).exclude(pk=pk).first()
    if clash is not None:
        raise ValidationError(
            {"code": [MSG_CATEGORY_CODE_TAKEN % {"code": code, "name": clash.name}]}
        )


def _check_parent(category: ProductCategory) -> None:
    seen = {category.pk} if category.pk else set()
    parent = category.parent
    while parent is not None:
        if parent.pk in seen:
            raise ValidationError({"parent": [MSG_CATEGORY_LOOP]})
        seen.add(parent.pk)
        parent = parent.parent


@transaction.atomic
def category_create(
    *,
    actor,
    code: str,
    name: str,
    parent: ProductCategory | None = None,
    sort_order: int = 0,
    active: bool = True,
) -> ProductCategory:
    _require(actor, SalesPerm.CHANGE_PRODUCT)
    code = _text(code)
    _check_category_code(code)
    category = ProductCategory(
        code=code, name=_text(name), parent=parent, sort_order=sort_order or 0, active=active
    )
    _stamp(category, actor, new=True)
    _save(category)
    return category


CATEGORY_FIELDS = {"code", "name", "parent", "sort_order", "active"}


@transaction.atomic
def category_update(*, actor, category: ProductCategory, **fields) -> ProductCategory:
    _require(actor, SalesPerm.CHANGE_PRODUCT)
    category = ProductCategory.objects.select_for_update().get(pk=category.pk)
    for name, value in fields.items():
        if name not in CATEGORY_FIELDS:
            raise ValidationError({name: [MSG_NOT_CHANGEABLE]})
        setattr(category, name, _text(value) if name in ("code", "name") else value)
    _check_category_code(category.code, pk=category.pk)
    _check_parent(category)
    _stamp(category, actor)
    _save(category)
    return category


# Products -----------------------------------------------------------------------------------


def _check_product_code(code: str, *, pk: int | None = None) -> None:
    if not code:
        raise ValidationError({"code": [MSG_REQUIRED]})
    clash = Product.objects.filter(code__iexact=code).exclude(pk=pk).first()
    if clash is not None:
        raise ValidationError({"code": [MSG_CODE_TAKEN % {"code": code, "name": clash.name}]})


def _save_product(product: Product) -> None:
    """Save, turning a code taken at the same moment by someone else into the same clear
    error as the check before (the unique index is the last word)."""
    product.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        _check_product_code(product.code, pk=product.pk)
        raise ValidationError({"code": [MSG_CODE_IN_USE % {"code": product.code}]}) from exc


@transaction.atomic
def product_create(
    *,
    actor,
    code: str,
    name: str,
    category: ProductCategory,
    unit: str,
    list_price: Any,
    cost: Any = Decimal("0"),
    spec: str = "",
    status: str = ProductStatus.ACTIVE,
    description: str = "",
) -> Product:
    _require(actor, SalesPerm.CHANGE_PRODUCT)
    code = _text(code)
    _check_product_code(code)
    if category is not None and not category.active:
        raise ValidationError({"category": [MSG_CATEGORY_INACTIVE]})
    product = Product(
        code=code,
        name=_text(name),
        category=category,
        unit=_text(unit),
        spec=_text(spec),
        list_price=_decimal(list_price, "list_price"),
        cost=_decimal(Decimal("0") if cost in (None, "") else cost, "cost"),
        status=status or ProductStatus.ACTIVE,
        description=_text(description),
    )
    _stamp(product, actor, new=True)
    _save_product(product)
    return product


PRODUCT_FIELDS = {
    "code",
    "name",
    "category",
    "unit",
    "spec",
    "list_price",
    "cost",
    "status",
    "description",
}


@transaction.atomic
def product_update(*, actor, product: Product, **fields) -> Product:
    _require(actor, SalesPerm.CHANGE_PRODUCT)
    product = Product.objects.select_for_update().get(pk=product.pk)
    for name, value in fields.items():
        if name not in PRODUCT_FIELDS:
            raise ValidationError({name: [MSG_NOT_CHANGEABLE]})
        if name in ("list_price", "cost"):
            value = _decimal(
                Decimal("0") if name == "cost" and value in (None, "") else value, name
            )
        elif name == "category":
            if value is not None and not value.active and value.pk != product.category_id:
                raise ValidationError({"category": [MSG_CATEGORY_INACTIVE]})
        elif name != "status":
            value = _text(value)
        setattr(product, name, value)
    if "code" in fields:
        _check_product_code(product.code, pk=product.pk)
    _stamp(product, actor)
    _save_product(product)
    return product


@transaction.atomic
def product_set_status(*, actor, product: Product, status: str) -> Product:
    """Put on sale, take off sale or discontinue (停产: no longer offered on new orders)."""
    return product_update(actor=actor, product=product, status=status)


# Price lists --------------------------------------------------------------------------------


def _check_dates(valid_from, valid_to) -> None:
    if valid_from is None:
        raise ValidationError({"valid_from": [MSG_REQUIRED]})
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": [MSG_DATES]})


@transaction.atomic
def price_list_create(
    *,
    actor,
    name: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    customer_level: str = "",
    channel_tier: str = "",
    priority: int = 10,
    active: bool = True,
    notes: str = "",
) -> PriceList:
    _require(actor, SalesPerm.CHANGE_PRICE_LIST)
    _check_dates(valid_from, valid_to)
    price_list = PriceList(
        name=_text(name),
        customer_level=customer_level or "",
        channel_tier=channel_tier or "",
        valid_from=valid_from,
        valid_to=valid_to,
        priority=10 if priority is None else priority,
        active=active,
        notes=_text(notes),
    )
    _stamp(price_list, actor, new=True)
    _save(price_list)
    return price_list


PRICE_LIST_FIELDS = {
    "name",
    "customer_level",
    "channel_tier",
    "valid_from",
    "valid_to",
    "priority",
    "active",
    "notes",
}


@transaction.atomic
def price_list_update(*, actor, price_list: PriceList, **fields) -> PriceList:
    _require(actor, SalesPerm.CHANGE_PRICE_LIST)
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    for name, value in fields.items():
        if name not in PRICE_LIST_FIELDS:
            raise ValidationError({name: [MSG_NOT_CHANGEABLE]})
        if name in ("name", "notes"):
            value = _text(value)
        elif name in ("customer_level", "channel_tier"):
            value = value or ""
        setattr(price_list, name, value)
    _check_dates(price_list.valid_from, price_list.valid_to)
    _stamp(price_list, actor)
    _save(price_list)
    return price_list


@transaction.atomic
def price_list_copy(
    *,
    actor,
    source: PriceList,
    name: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    percent: Any = Decimal("0"),
) -> PriceList:
    """A new list with the source's items, every price changed by `percent` (e.g. +3 for next
    year's prices), rounded to the fen. The copy starts inactive so it can be checked first."""
    _require(actor, SalesPerm.CHANGE_PRICE_LIST)
    try:
        change = Decimal(str(percent or 0))
    except InvalidOperation as exc:
        raise ValidationError({"percent": [MSG_NOT_A_NUMBER]}) from exc
    if not change.is_finite() or not Decimal("-90") <= change <= Decimal("100"):
        raise ValidationError({"percent": [MSG_COPY_PERCENT]})
    copy = price_list_create(
        actor=actor,
        name=name,
        valid_from=valid_from,
        valid_to=valid_to,
        customer_level=source.customer_level,
        channel_tier=source.channel_tier,
        priority=source.priority,
        active=False,
        notes=source.notes,
    )
    factor = 1 + change / 100
    bulk_create_with_history(
        [
            PriceListItem(
                price_list=copy,
                product_id=item.product_id,
                min_quantity=item.min_quantity,
                price=(item.price * factor).quantize(CENT),
            )
            for item in source.items.all()
        ],
        PriceListItem,
        default_user=actor,
    )
    return copy


@transaction.atomic
def price_list_item_save(
    *,
    actor,
    price_list: PriceList,
    product: Product,
    price: Any,
    min_quantity: Any = Decimal("1"),
    item: PriceListItem | None = None,
) -> PriceListItem:
    """Add a price to a list, or change one (`item`). One price per product and from-quantity
    in a list; a discontinued product gets no new price."""
    _require(actor, SalesPerm.CHANGE_PRICE_LIST)
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)  # one writer a list
    if product is None:
        raise ValidationError({"product": [MSG_REQUIRED]})
    quantity = _decimal(
        Decimal("1") if min_quantity in (None, "") else min_quantity, "min_quantity", minimum=CENT
    )
    amount = _decimal(price, "price")
    product = Product.objects.get(pk=product.pk)  # its current status
    if item is None and product.status == ProductStatus.DISCONTINUED:
        raise ValidationError({"product": [MSG_DISCONTINUED % {"product": product}]})
    clash = PriceListItem.objects.filter(
        price_list=price_list, product=product, min_quantity=quantity
    )
    if item is not None:
        clash = clash.exclude(pk=item.pk)
    if clash.exists():
        raise ValidationError(
            {
                "min_quantity": [
                    MSG_ITEM_EXISTS % {"product": product, "quantity": quantity_text(quantity)}
                ]
            }
        )
    if item is None:
        item = PriceListItem(price_list=price_list)
    else:
        item = PriceListItem.objects.get(pk=item.pk, price_list=price_list)
    item.product = product
    item.min_quantity = quantity
    item.price = amount
    item._history_user = actor
    _save(item)
    _touch(price_list, actor)
    return item


@transaction.atomic
def price_list_item_delete(*, actor, item: PriceListItem) -> None:
    _require(actor, SalesPerm.CHANGE_PRICE_LIST)
    price_list = PriceList.objects.select_for_update().get(pk=item.price_list_id)
    item = PriceListItem.objects.get(pk=item.pk)
    item._history_user = actor
    item.delete()
    _touch(price_list, actor)


def _touch(price_list: PriceList, actor) -> None:
    """A change of an item is a change of the list (its history shows who and when)."""
    _stamp(price_list, actor)
    price_list.save(update_fields=["updated_at", "updated_by"])


# Discount authority -------------------------------------------------------------------------


@transaction.atomic
def discount_authority_save(
    *,
    actor,
    max_discount: Any,
    role: Role | None = None,
    user=None,
) -> DiscountAuthority:
    """Set the discount a role or a person may give without approval (one row each)."""
    _require(actor, SalesPerm.CHANGE_DISCOUNT_AUTHORITY)
    if (role is None) == (user is None):
        raise ValidationError({"role": [MSG_ROLE_OR_PERSON]})
    value = _percent(max_discount, "max_discount")
    lookup = {"role": role} if role is not None else {"user": user}
    authority = DiscountAuthority.objects.select_for_update().filter(**lookup).first()
    new = authority is None
    if new:
        authority = DiscountAuthority(**lookup)
    authority.max_discount = value
    _stamp(authority, actor, new=new)
    _save(authority)
    return authority


@transaction.atomic
def discount_authority_delete(*, actor, authority: DiscountAuthority) -> None:
    _require(actor, SalesPerm.CHANGE_DISCOUNT_AUTHORITY)
    DiscountAuthority.objects.filter(pk=authority.pk).delete()


# Settings -----------------------------------------------------------------------------------

SETTINGS_FIELDS = {
    "default_max_discount",
    "approval_amount",
    "receipt_approval",
    "credit_mode",
    "delivery_alert_days",
}


@transaction.atomic
def sales_settings_update(*, actor, **fields) -> SalesSettings:
    _require(actor, SalesPerm.CHANGE_SETTINGS)
    SalesSettings.objects.get_or_create(pk=1)
    row = SalesSettings.objects.select_for_update().get(pk=1)
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValidationError({name: [MSG_NOT_CHANGEABLE]})
        if name == "default_max_discount":
            value = _percent(value, name)
        elif name == "approval_amount":
            value = _decimal(value, name)
        elif name == "credit_mode" and value not in CreditMode.values:
            raise ValidationError({name: [MSG_REQUIRED]})
        setattr(row, name, value)
    _save(row)
    return row


# Spreadsheet import (sales.product) -----------------------------------------------------------


def _choice_map(enum) -> dict[str, Any]:
    """The code and the label in both shipped languages (e.g. "active", "On sale", "在售")."""
    mapping: dict[str, Any] = {}
    for value, label in enum.choices:
        mapping[str(value)] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                mapping[str(label)] = value
    return mapping


# The words sales staff use, whatever the catalogue's translation says.
STATUS_WORDS = {
    "在售": ProductStatus.ACTIVE,
    "停售": ProductStatus.INACTIVE,
    "停产": ProductStatus.DISCONTINUED,
}


@functools.cache
def _status_parser():
    return parse_choice({**_choice_map(ProductStatus), **STATUS_WORDS})


IMPORT_COLUMNS = (
    ImportColumn(
        "code",
        _("Product code"),
        required=True,
        parse=parse_text(max_length=40),
        example="ZT-200",
        text=True,
        help=_("Unique. In create-or-update mode a row with an existing code updates it."),
    ),
    ImportColumn(
        "name",
        _("Name"),
        required=True,
        parse=parse_text(max_length=120),
        example="智联终端 ZT-200",
        width=26,
    ),
    ImportColumn(
        "category",
        _("Category code"),
        required=True,
        parse=parse_text(max_length=40),
        example="terminals",
        help=_("The code of an active product category (see the categories page)."),
    ),
    ImportColumn("unit", _("Unit"), required=True, parse=parse_text(max_length=10), example="台"),
    ImportColumn(
        "spec",
        _("Specification"),
        parse=parse_text(max_length=200),
        example="8 核 / 16 GB",
        width=24,
    ),
    ImportColumn(
        "list_price",
        _("List price (CNY)"),
        required=True,
        parse=parse_decimal(min_value=0),
        example="12800.00",
    ),
    ImportColumn(
        "cost",
        _("Cost (CNY)"),
        parse=parse_decimal(min_value=0),
        example="7600.00",
        help=_("Blank: 0 for a new product, unchanged for an existing one."),
    ),
    ImportColumn(
        "status",
        _("Status"),
        parse=lambda raw: _status_parser()(raw),
        example="在售",
        help=_("On sale, not on sale or discontinued; blank means on sale."),
    ),
)


def import_find_product(actor, field: str, value: Any) -> Product | None:
    if field != "code" or not value:
        return None
    return Product.objects.filter(code__iexact=cell_text(value)).first()


def _import_category(code: str) -> ProductCategory | None:
    return ProductCategory.objects.filter(code__iexact=code, active=True).first()


def import_clean_product(context: ImportContext, values: dict[str, Any], existing: Any) -> None:
    errors: dict[str, Any] = {}
    code = values.get("code", "")
    if existing is None and code:
        clash = Product.objects.filter(code__iexact=code).first()
        if clash is not None:
            errors["code"] = ValidationError(
                MSG_CODE_TAKEN, params={"code": code, "name": clash.name}
            )
    category = values.get("category", "")
    if category and _import_category(category) is None:
        errors["category"] = ValidationError(MSG_CATEGORY_UNKNOWN, params={"code": category})
    if errors:
        raise ValidationError(errors)


def import_write_product(actor, values: dict[str, Any], existing: Product | None) -> Outcome:
    fields = dict(values)
    category = _import_category(fields.pop("category"))
    if category is None:
        raise ValidationError({"category": [MSG_CATEGORY_INACTIVE]})
    fields["category"] = category
    if existing is None:
        product_create(actor=actor, **fields)
        return Outcome.CREATED
    fields.pop("code", None)  # matched on it; keep the stored spelling
    product_update(actor=actor, product=existing, **fields)
    return Outcome.UPDATED


def import_notes() -> list[Any]:
    return [
        _("Statuses: %(list)s")
        % {"list": "; ".join(str(label) for _v, label in ProductStatus.choices)},
        _("Prices are in CNY with at most two decimal places and cannot be negative."),
    ]


# Values the forms and API offer (kept here so pages and API agree) --------------------------

LEVEL_CHOICES = [("", _("Any level")), *CustomerLevel.choices]
TIER_CHOICES = [("", _("Any channel")), *ChannelTier.choices]
