"""What the products part of sales plugs into the registries: navigation, record types
(timeline and files of products and price lists), global search, the price list timeline of
item changes, a to-do for lists about to end, and the product import (sales.product)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.core.imports import ImportSpec, register_import
from marketdesk.core.registry import (
    NavItem,
    RecordType,
    SearchHit,
    TodoItem,
    register_nav,
    register_record_type,
    register_search_provider,
    register_timeline_provider,
    register_todo_provider,
)
from marketdesk.core.timeline import TimelineEntry

from .. import selectors_products as selectors
from ..models import PriceList, PriceListItem, Product
from ..permissions import SalesPerm
from ..services import products as services

# Navigation ---------------------------------------------------------------------------------

GROUP = _("Sales")
for item in [
    NavItem(
        "sales.products",
        _("Products"),
        "sales:product_list",
        "box-seam",
        SalesPerm.VIEW_PRODUCT,
        GROUP,
        340,
    ),
    NavItem(
        "sales.price_lists",
        _("Price lists"),
        "sales:price_list_list",
        "tags",
        SalesPerm.VIEW_PRICE_LIST,
        GROUP,
        341,
    ),
    NavItem(
        "sales.discount_authorities",
        _("Discount authority"),
        "sales:discount_authorities",
        "percent",
        SalesPerm.CHANGE_DISCOUNT_AUTHORITY,
        GROUP,
        348,
    ),
    NavItem(
        "sales.settings",
        _("Sales settings"),
        "sales:sales_settings",
        "sliders",
        SalesPerm.CHANGE_SETTINGS,
        GROUP,
        349,
    ),
]:
    register_nav(item)


# Timeline and files -------------------------------------------------------------------------

register_record_type(
    RecordType(
        model=Product,
        visible=lambda actor: selectors.product_list(actor=actor),
        editable=lambda actor, record: actor.has_perm(SalesPerm.CHANGE_PRODUCT),
    )
)
register_record_type(
    RecordType(
        model=PriceList,
        visible=lambda actor: selectors.price_list_list(actor=actor),
        editable=lambda actor, record: actor.has_perm(SalesPerm.CHANGE_PRICE_LIST),
    )
)


def _item_label(row, codes: dict[int, str]) -> str:
    code = codes.get(row.product_id, f"#{row.product_id}")
    return f"{gettext('Price')} {code} ≥{services.quantity_text(row.min_quantity)}"


def _price_list_item_changes(record):
    """Price changes (added, changed, removed items) on the price list's timeline."""
    if not isinstance(record, PriceList):
        return
    history = list(
        PriceListItem.history.filter(price_list_id=record.pk)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")[:500]
    )
    codes = dict(
        Product.objects.filter(pk__in={row.product_id for row in history}).values_list("pk", "code")
    )
    previous: dict[int, object] = {}
    for row in history:
        before = previous.get(row.id)
        if row.history_type == "+":
            changes = [(_item_label(row, codes), "—", f"¥{row.price:,.2f}")]
        elif row.history_type == "-":
            changes = [(_item_label(row, codes), f"¥{row.price:,.2f}", "—")]
        else:
            changes = []
            if before is not None and before.price != row.price:
                changes.append(
                    (_item_label(row, codes), f"¥{before.price:,.2f}", f"¥{row.price:,.2f}")
                )
            if before is not None and before.min_quantity != row.min_quantity:
                changes.append(
                    (
                        f"{_item_label(row, codes)} · {gettext('From quantity')}",
                        services.quantity_text(before.min_quantity),
                        services.quantity_text(row.min_quantity),
                    )
                )
        previous[row.id] = row
        if changes:
            yield TimelineEntry("changed", row.history_date, row.history_user, changes=changes)


register_timeline_provider(_price_list_item_changes)


# Global search ------------------------------------------------------------------------------


def _search(actor, text: str, limit: int):
    text = text.strip()
    if not text or not selectors.can_view_products(actor):
        return
    for product in selectors.product_search(
        actor=actor, text=text, orderable_only=False, limit=limit
    ):
        yield SearchHit(
            kind=_("Product"),
            title=f"{product.code} {product.name}",
            subtitle=f"{product.category.name} · ¥{product.list_price:,.2f}/{product.unit}"
            f" · {product.get_status_display()}",
            url=product.get_absolute_url(),
        )


register_search_provider(_search)


# Workbench ----------------------------------------------------------------------------------


def _todos(actor):
    if not actor.has_perm(SalesPerm.CHANGE_PRICE_LIST):
        return
    count = selectors.price_lists_ending(actor=actor).count()
    if count:
        yield TodoItem(
            "sales.price_lists_ending",
            _("Price lists ending within 30 days"),
            count,
            reverse("sales:price_list_list") + "?state=current&sort=to",
            "warning",
        )


register_todo_provider(_todos)


# Product import -----------------------------------------------------------------------------

register_import(
    ImportSpec(
        key="sales.product",
        label=_("Products"),
        permission=SalesPerm.CHANGE_PRODUCT,
        update_permission=SalesPerm.CHANGE_PRODUCT,
        columns=services.IMPORT_COLUMNS,
        match_keys=("code",),
        find_existing=services.import_find_product,
        clean_row=services.import_clean_product,
        write_row=services.import_write_product,
        notes=services.import_notes,
    )
)
