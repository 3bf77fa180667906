"""Spreadsheet columns of the finance exports: claims, accounting voucher lines, analysis."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marketdesk.core.spreadsheets import Column


def claim_columns() -> list[Column]:
    return [
        Column(_("Number"), lambda c: c.number, 16),
        Column(_("Title"), lambda c: c.title, 30),
        Column(_("Claimant"), lambda c: str(c.claimant), 12),
        Column(_("Department"), lambda c: c.department.name, 14),
        Column(_("Amount claimed"), lambda c: c.total, 14),
        Column(_("Amount approved"), lambda c: c.approved_total, 14),
        Column(_("Status"), lambda c: c.get_status_display(), 16),
        Column(_("Submitted at"), lambda c: c.submitted_at, 18),
        Column(_("Accounting voucher no."), lambda c: c.voucher_no, 16),
        Column(_("Posting date"), lambda c: c.posted_on, 12),
        Column(_("Paid on"), lambda c: c.paid_on, 12),
    ]


def voucher_line_columns() -> list[Column]:
    """One row per posted claim line, in the shape an accounting system imports (记账凭证分录)."""
    return [
        Column(_("Accounting voucher no."), lambda row: row.claim.voucher_no, 16),
        Column(_("Posting date"), lambda row: row.claim.posted_on, 12),
        Column(_("Account"), lambda row: row.claim.account or row.category.account, 12),
        Column(_("Category"), lambda row: str(row.category), 20),
        Column(_("Department"), lambda row: row.claim.department.name, 14),
        Column(_("Claimant"), lambda row: str(row.claim.claimant), 12),
        Column(_("Claim no."), lambda row: row.claim.number, 16),
        Column(_("Date"), lambda row: row.spent_on, 12),
        Column(_("Description"), lambda row: row.description, 30),
        Column(_("Debit (CNY)"), lambda row: row.effective, 14),
    ]


def analysis_columns(by_label) -> list[Column]:
    return [
        Column(by_label, lambda r: r["label"], 20),
        Column(_("Budget"), lambda r: r["budget"], 14),
        Column(_("Committed"), lambda r: r["committed"], 14),
        Column(_("Actual"), lambda r: r["actual"], 14),
        Column(_("Variance"), lambda r: r["variance"], 14),
        Column(_("Execution rate (%)"), lambda r: r["rate"], 12),
    ]
