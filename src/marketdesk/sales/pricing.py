"""Which price an order line gets, and how much discount a person may give (issue 5).

`price_for` is the only place that chooses a price list: among the active lists valid on the
day whose customer level and channel tier match (blank matches anything), the highest
priority wins, then the more specific (level and tier set), then the newest; within the list,
the item with the largest "from quantity" not above the ordered quantity. A list without an
item for the product at that quantity is skipped, so the next list applies. Without any
matching item the product's list price applies.

`max_discount_for` answers how far below that price a person may go without approval: their
own discount authority row, else the largest among their roles' rows, else the settings'
default (R4.2.2: a discount beyond the salesperson's authority sends the order to approval)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from .models import DiscountAuthority, PriceList, PriceListItem, Product, SalesSettings


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    list_price: Decimal
    price_list: PriceList | None


def applicable_lists(
    *, customer_level: str, channel_tier: str, on: datetime.date
) -> QuerySet[PriceList]:
    """The price lists that apply, best first."""
    level_specific = Case(
        When(customer_level="", then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    tier_specific = Case(
        When(channel_tier="", then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        PriceList.objects.filter(active=True, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .filter(Q(customer_level="") | Q(customer_level=customer_level or ""))
        .filter(Q(channel_tier="") | Q(channel_tier=channel_tier or ""))
        .annotate(specific=level_specific + tier_specific)
        .order_by("-priority", "-specific", "-valid_from", "-pk")
    )


def _ranked_lists(*, customer_level: str, channel_tier: str, on: datetime.date) -> list[PriceList]:
    """`applicable_lists` as a list, ranked in Python (the same order: priority, then the more
    specific, then the newest, then the last made) rather than by annotations in SQL."""
    rows = list(
        PriceList.objects.filter(active=True, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .filter(Q(customer_level="") | Q(customer_level=customer_level or ""))
        .filter(Q(channel_tier="") | Q(channel_tier=channel_tier or ""))
        .order_by()
    )
    for row in rows:
        row.specific = (row.customer_level != "") + (row.channel_tier != "")
    rows.sort(key=lambda row: (row.priority, row.specific, row.valid_from, row.pk), reverse=True)
    return rows


def price_for(
    *,
    product: Product,
    customer_level: str,
    channel_tier: str,
    on: datetime.date,
    quantity: Decimal = Decimal("1"),
) -> Price:
    """The unit price of `quantity` of `product` for a customer of `customer_level` sold
    through `channel_tier` on day `on` (blank level or tier: only lists open to anyone)."""
    return prices_for(
        [(product, quantity)], customer_level=customer_level, channel_tier=channel_tier, on=on
    )[0]


def prices_for(
    wanted: list[tuple[Product, Decimal]],
    *,
    customer_level: str,
    channel_tier: str,
    on: datetime.date,
) -> list[Price]:
    """`price_for` of several (product, quantity) pairs at once (the lines of an order): the
    applicable lists are read once and the items of every product in one more query."""
    if not wanted:
        return []
    wanted = [(product, Decimal(str(quantity))) for product, quantity in wanted]
    ranked = _ranked_lists(customer_level=customer_level, channel_tier=channel_tier, on=on)
    if not ranked:
        return [Price(product.list_price, product.list_price, None) for product, _q in wanted]
    items = (
        PriceListItem.objects.filter(
            price_list__in=[price_list.pk for price_list in ranked],
            product__in={product.pk for product, _q in wanted},
            min_quantity__lte=max(quantity for _p, quantity in wanted),
        )
        .only("pk", "price_list_id", "product_id", "min_quantity", "price")
        .order_by()
    )
    by_product: dict[int, list[PriceListItem]] = {}
    for item in items:
        by_product.setdefault(item.product_id, []).append(item)
    prices = []
    for product, quantity in wanted:
        best_by_list: dict[int, PriceListItem] = {}
        for item in by_product.get(product.pk, ()):
            if item.min_quantity > quantity:
                continue
            held = best_by_list.get(item.price_list_id)
            if held is None or item.min_quantity > held.min_quantity:
                best_by_list[item.price_list_id] = item
        price = Price(product.list_price, product.list_price, None)
        for price_list in ranked:  # the best list that has the product at this quantity decides
            item = best_by_list.get(price_list.pk)
            if item is not None:
                price = Price(item.price, product.list_price, price_list)
                break
        prices.append(price)
    return prices


def settings_row() -> SalesSettings:
    """The one settings row (created with the defaults on first use)."""
    return SalesSettings.objects.get_or_create(pk=1)[0]


@dataclass(frozen=True)
class Authority:
    """A person's discount authority and where it comes from (for pages and the API)."""

    max_discount: Decimal
    source: str  # "user", "role" or "default"
    role: str = ""  # the role's name when source == "role"

    @property
    def source_label(self) -> str:
        labels = {
            "user": _("own authority"),
            "role": _("role: %(role)s") % {"role": self.role},
            "default": _("company default"),
        }
        return str(labels[self.source])


def authority_for(user, *, settings: SalesSettings | None = None) -> Authority:
    """A person's own row wins; else the largest of the rows of the roles they hold as an
    active employee; else the settings' default (`settings`: the row when the caller has it).
    One query for the person's and their roles' rows."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Authority((settings or settings_row()).default_max_discount, "default")
    from marketdesk.org.models import Employee

    # the roles as a subquery (an OR over the joins to every employee of a role made the
    # database walk all of them)
    roles = Employee.roles.through.objects.filter(
        employee__user=user, employee__status="active"
    ).values("role_id")
    rows = list(
        DiscountAuthority.objects.filter(Q(user=user) | Q(role_id__in=roles))
        .select_related("role")
        .order_by("-max_discount", "pk")
    )
    for row in rows:
        if row.user_id == user.pk:
            return Authority(row.max_discount, "user")
    for row in rows:  # the largest first
        if row.role_id is not None:
            return Authority(row.max_discount, "role", str(row.role))
    return Authority((settings or settings_row()).default_max_discount, "default")


def max_discount_for(user, *, settings: SalesSettings | None = None) -> Decimal:
    """The largest discount (%) `user` may give without approval."""
    return authority_for(user, settings=settings).max_discount
