"""Which price an order line gets, and how much discount a person may give (issue 5).

`price_for` is the only place that chooses a price list: among the active lists valid on the
day whose customer level and channel tier match (blank matches anything), the highest
priority wins, then the more specific (level and tier set), then the newest; within the list,
the item with the largest "from quantity" not above the ordered quantity. Without a matching
item the product's list price applies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, IntegerField, Q, Value, When

from .models import DiscountAuthority, PriceList, PriceListItem, Product, SalesSettings


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    list_price: Decimal
    price_list: PriceList | None


def applicable_lists(*, customer_level: str, channel_tier: str, on: datetime.date):
    """The price lists that apply, best first."""
    return (
        PriceList.objects.filter(active=True, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .filter(Q(customer_level="") | Q(customer_level=customer_level))
        .filter(Q(channel_tier="") | Q(channel_tier=channel_tier))
        .annotate(
            specific=Case(When(customer_level="", then=Value(0)), default=Value(1))
            + Case(
                When(channel_tier="", then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("-priority", "-specific", "-valid_from", "-pk")
    )


def price_for(
    *,
    product: Product,
    customer_level: str,
    channel_tier: str,
    on: datetime.date,
    quantity: Decimal = Decimal("1"),
) -> Price:
    lists = applicable_lists(customer_level=customer_level, channel_tier=channel_tier, on=on)
    item = (
        PriceListItem.objects.filter(
            price_list__in=lists.values("pk"), product=product, min_quantity__lte=quantity
        )
        .select_related("price_list")
        .order_by(
            "-price_list__priority",
            "-price_list__valid_from",
            "-price_list_id",
            "-min_quantity",
        )
    )
    # The best list that has the product decides; rank by the lists' own order.
    ranked = {pk: index for index, pk in enumerate(lists.values_list("pk", flat=True))}
    best = min(item, key=lambda i: (ranked[i.price_list_id], -i.min_quantity), default=None)
    if best is None:
        return Price(product.list_price, product.list_price, None)
    return Price(best.price, product.list_price, best.price_list)


def settings_row() -> SalesSettings:
    return SalesSettings.objects.get_or_create(pk=1)[0]


def max_discount_for(user) -> Decimal:
    """The largest discount (%) `user` may give without approval."""
    own = DiscountAuthority.objects.filter(user=user).values_list("max_discount", flat=True)
    if own:
        return own[0]
    by_role = list(
        DiscountAuthority.objects.filter(role__employees__user=user).values_list(
            "max_discount", flat=True
        )
    )
    if by_role:
        return max(by_role)
    return settings_row().default_max_discount
