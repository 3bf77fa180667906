"""Spreadsheet columns of the customer export (masked unless the user may see personal data)
and of the customer analysis."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marketdesk.core.masking import mask_address, mask_mobile
from marketdesk.core.spreadsheets import Column


def customer_columns(*, unmasked: bool) -> list[Column]:
    def personal(mask, getter):
        return (lambda c: getter(c)) if unmasked else (lambda c: mask(getter(c)))

    return [
        Column(_("Customer no."), lambda c: c.number, 12),
        Column(_("Name"), lambda c: c.name, 28),
        Column(_("Kind"), lambda c: c.get_kind_display(), 8),
        Column(_("Unified social credit code"), lambda c: c.credit_code, 20),
        Column(_("Mobile"), personal(mask_mobile, lambda c: c.mobile), 14),
        Column(_("Level"), lambda c: c.get_level_display(), 8),
        Column(_("Stage"), lambda c: c.get_stage_display(), 8),
        Column(_("Industry"), lambda c: c.get_industry_display(), 12),
        Column(_("Source"), lambda c: c.get_source_display(), 10),
        Column(_("Province"), lambda c: c.province, 10),
        Column(_("City"), lambda c: c.city, 10),
        Column(_("District"), lambda c: c.district, 10),
        Column(_("Address"), personal(mask_address, lambda c: c.address), 28),
        Column(_("Owner"), lambda c: str(c.owner) if c.owner else "", 10),
        Column(_("Department"), lambda c: c.department.name if c.department else "", 12),
        Column(_("Products of interest"), lambda c: c.products_of_interest, 20),
        Column(_("Budget (CNY)"), lambda c: c.budget, 12),
        Column(_("Last contact"), lambda c: c.last_contact_at, 16),
        Column(_("Next contact"), lambda c: c.next_contact_at, 16),
        Column(_("Created at"), lambda c: c.created_at, 16),
    ]


def analysis_columns() -> list[Column]:
    return [
        Column(_("Dimension"), lambda r: r[0], 16),
        Column(_("Value"), lambda r: r[1], 28),
        Column(_("Count"), lambda r: r[2], 10),
    ]
