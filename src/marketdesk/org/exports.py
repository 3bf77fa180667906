"""Spreadsheet columns of the employee export: masked unless the user may see personal data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marketdesk.core.masking import mask_address, mask_id_number, mask_mobile
from marketdesk.core.spreadsheets import Column


def employee_columns(*, unmasked: bool) -> list[Column]:
    def personal(mask, getter):
        return (lambda e: getter(e)) if unmasked else (lambda e: mask(getter(e)))

    return [
        Column(_("Employee no."), lambda e: e.employee_no, 12),
        Column(_("Full name"), lambda e: str(e.user), 12),
        Column(_("Username"), lambda e: e.user.username, 14),
        Column(_("Department"), lambda e: e.department.name, 14),
        Column(_("Position"), lambda e: e.position.name if e.position else "", 14),
        Column(_("Supervisor"), lambda e: str(e.supervisor) if e.supervisor else "", 12),
        Column(_("Mobile"), personal(mask_mobile, lambda e: e.user.mobile or ""), 14),
        Column(_("Email"), lambda e: e.email, 22),
        Column(_("ID card number"), personal(mask_id_number, lambda e: e.id_number), 22),
        Column(_("Address"), personal(mask_address, lambda e: e.address), 30),
        Column(_("Hire date"), lambda e: e.hire_date, 12),
        Column(_("Status"), lambda e: e.get_status_display(), 8),
    ]
