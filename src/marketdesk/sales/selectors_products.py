"""Reads of products, categories, price lists, discount authorities and the sales settings.

Products and prices are company-wide (no data scope): whoever holds the view permission sees
every row; without it a list is empty and a detail is a 404. Cost is the one confidential
figure: only those who may change products see it (`can_see_cost`), in pages and the API."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from marketdesk.org.models import Role

from .models import (
    DiscountAuthority,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    ProductStatus,
)
from .permissions import SalesPerm

PRODUCT_READERS = (SalesPerm.VIEW_PRODUCT, SalesPerm.CHANGE_PRODUCT)
PRICE_READERS = (SalesPerm.VIEW_PRICE_LIST, SalesPerm.CHANGE_PRICE_LIST)
ORDERABLE = (ProductStatus.ACTIVE,)


def _any(actor, perms) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and any(actor.has_perm(p) for p in perms)
    )


def _get(queryset: QuerySet, pk) -> object:
    try:
        row = queryset.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise Http404
    return row


def can_view_products(actor) -> bool:
    return _any(actor, PRODUCT_READERS)


def can_view_prices(actor) -> bool:
    return _any(actor, PRICE_READERS)


def can_see_cost(actor) -> bool:
    """Cost and margin are for those who maintain the catalogue (not salespeople)."""
    return _any(actor, (SalesPerm.CHANGE_PRODUCT,))


# Categories ---------------------------------------------------------------------------------


def category_list(*, actor, active_only: bool = False) -> QuerySet[ProductCategory]:
    if not can_view_products(actor):
        return ProductCategory.objects.none()
    queryset = ProductCategory.objects.select_related("parent").annotate(
        product_count=Count("products")
    )
    if active_only:
        queryset = queryset.filter(active=True)
    return queryset.order_by("sort_order", "code")


def category_get(*, actor, pk) -> ProductCategory:
    return _get(category_list(actor=actor), pk)


# Products -----------------------------------------------------------------------------------


def product_list(*, actor) -> QuerySet[Product]:
    if not can_view_products(actor):
        return Product.objects.none()
    return Product.objects.select_related("category")


def product_get(*, actor, pk) -> Product:
    return _get(product_list(actor=actor), pk)


def orderable_products(actor) -> QuerySet[Product]:
    """Products a new order line may use: on sale, in an active category. Discontinued and
    withdrawn products stay on existing orders but are not offered on new ones."""
    if not _any(actor, (*PRODUCT_READERS, SalesPerm.ADD_ORDER)):
        return Product.objects.none()
    return (
        Product.objects.filter(status__in=ORDERABLE, category__active=True)
        .select_related("category")
        .order_by("code")
    )


def is_orderable(product: Product) -> bool:
    """For the orders service: may a new or changed line use this product?"""
    return Product.objects.filter(
        pk=product.pk, status__in=ORDERABLE, category__active=True
    ).exists()


def product_search(
    *, actor, text: str, orderable_only: bool = True, limit: int = 20
) -> QuerySet[Product]:
    """The product picker: code, name or specification contains the text."""
    queryset = orderable_products(actor) if orderable_only else product_list(actor=actor)
    text = (text or "").strip()[:60]
    if text:
        queryset = queryset.filter(
            Q(code__icontains=text) | Q(name__icontains=text) | Q(spec__icontains=text)
        )
    return queryset.order_by("code")[:limit]


def product_prices(*, actor, product: Product) -> QuerySet[PriceListItem]:
    """The price list items of a product (the "prices" tab of the product page)."""
    if not can_view_prices(actor):
        return PriceListItem.objects.none()
    return (
        PriceListItem.objects.filter(product=product)
        .select_related("price_list")
        .order_by(
            "-price_list__active", "-price_list__priority", "price_list__name", "min_quantity"
        )
    )


# Price lists --------------------------------------------------------------------------------


def price_list_list(*, actor) -> QuerySet[PriceList]:
    if not can_view_prices(actor):
        return PriceList.objects.none()
    return PriceList.objects.annotate(item_count=Count("items"))


def price_list_get(*, actor, pk) -> PriceList:
    return _get(price_list_list(actor=actor), pk)


def price_list_items(price_list: PriceList) -> QuerySet[PriceListItem]:
    return price_list.items.select_related("product__category").order_by(
        "product__code", "min_quantity"
    )


def price_list_state(price_list: PriceList, today: datetime.date | None = None) -> str:
    """ "current", "scheduled", "expired" or "inactive" (the badge of a price list)."""
    today = today or timezone.localdate()
    if not price_list.active:
        return "inactive"
    if price_list.valid_from > today:
        return "scheduled"
    if price_list.valid_to is not None and price_list.valid_to < today:
        return "expired"
    return "current"


def price_lists_ending(*, actor, within_days: int = 30) -> QuerySet[PriceList]:
    """Active lists that end in the next `within_days` days (a to-do for the price owner)."""
    today = timezone.localdate()
    return price_list_list(actor=actor).filter(
        active=True,
        valid_to__gte=today,
        valid_to__lte=today + datetime.timedelta(days=within_days),
    )


# Discount authority -------------------------------------------------------------------------


def discount_authority_list(*, actor) -> QuerySet[DiscountAuthority]:
    if not _any(actor, (SalesPerm.CHANGE_DISCOUNT_AUTHORITY,)):
        return DiscountAuthority.objects.none()
    return DiscountAuthority.objects.select_related("role", "user").order_by(
        "user", "-max_discount", "pk"
    )


def discount_authority_get(*, actor, pk) -> DiscountAuthority:
    return _get(discount_authority_list(actor=actor), pk)


def roles_for_authority() -> QuerySet[Role]:
    return Role.objects.order_by("name")


def margin(product: Product) -> Decimal | None:
    """Gross margin (%) at list price, for those who see cost."""
    if not product.list_price:
        return None
    return ((product.list_price - product.cost) / product.list_price * 100).quantize(Decimal("0.1"))


def percent_off(price: Decimal, list_price: Decimal) -> Decimal | None:
    """How far `price` is below the list price, in % (negative when above)."""
    if not list_price:
        return None
    return ((list_price - price) / list_price * 100).quantize(Decimal("0.01"))
