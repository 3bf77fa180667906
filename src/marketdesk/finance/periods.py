"""Fiscal years and budget periods (months or quarters), from the company's fiscal year start."""

from __future__ import annotations

import datetime

from .models import PeriodKind


def fiscal_start_month() -> int:
    from marketdesk.org.selectors import company_get

    return company_get().fiscal_year_start_month or 1


def period_of(
    day: datetime.date, period_kind: str, start_month: int | None = None
) -> tuple[int, int]:
    """(fiscal year, period number) of a date. A fiscal year is named by the calendar year it
    starts in (start month 4: FY2026 runs April 2026 to March 2027)."""
    start_month = start_month or fiscal_start_month()
    offset = (day.month - start_month) % 12  # months since the fiscal year began
    year = day.year if day.month >= start_month else day.year - 1
    if period_kind == PeriodKind.MONTH:
        return year, offset + 1
    return year, offset // 3 + 1


def period_range(
    fiscal_year: int, period_kind: str, period: int, start_month: int | None = None
) -> tuple[datetime.date, datetime.date]:
    """First and last day of a period."""
    start_month = start_month or fiscal_start_month()
    months = 1 if period_kind == PeriodKind.MONTH else 3
    first_offset = (period - 1) * months
    start = _add_months(datetime.date(fiscal_year, start_month, 1), first_offset)
    end = _add_months(start, months) - datetime.timedelta(days=1)
    return start, end


def year_range(
    fiscal_year: int, start_month: int | None = None
) -> tuple[datetime.date, datetime.date]:
    start_month = start_month or fiscal_start_month()
    start = datetime.date(fiscal_year, start_month, 1)
    return start, _add_months(start, 12) - datetime.timedelta(days=1)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return datetime.date(day.year + index // 12, index % 12 + 1, 1)


def period_label(period_kind: str, period: int) -> str:
    return f"Q{period}" if period_kind == PeriodKind.QUARTER else f"M{period:02d}"
