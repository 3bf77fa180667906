"""Spreadsheet export (xlsx, CSV) that respects masking, neutralises formulas and is logged.

The import side (templates, per-row validation, all-or-nothing writes, background jobs)
lives in `imports.py`."""

from __future__ import annotations

import csv
import datetime
import decimal
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.encoding import force_str
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Cells that a spreadsheet would run as a formula are kept as text (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (int, float, decimal.Decimal, datetime.date, bool)):
        return value
    return neutralise(force_str(value))


@dataclass(frozen=True)
class Column:
    header: Any  # lazy translated label
    value: Callable[[Any], Any]
    width: int = 16


def _xlsx_safe(value: Any) -> Any:
    """Drop the control characters an xlsx cell cannot hold (openpyxl would refuse the whole
    file); they are invisible, and pasted text brings them in."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def xlsx_response(
    *, filename: str, sheet_title: str, columns: list[Column], rows: Iterable[Any]
) -> HttpResponse:
    """Write rows with openpyxl's write-only mode (flat memory for large exports)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(sheet_title)[:31])
    for index, column in enumerate(columns):
        sheet.column_dimensions[get_column_letter(index + 1)].width = column.width
    sheet.append([force_str(column.header) for column in columns])
    for row in rows:
        sheet.append([_xlsx_safe(cell_value(column.value(row))) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = _disposition(filename, "xlsx")
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    *, filename: str, columns: list[Column], rows: Iterable[Any]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # Excel opens UTF-8 CSV with Chinese text correctly only with a BOM
        yield writer.writerow([force_str(column.header) for column in columns])
        for row in rows:
            yield writer.writerow([cell_value(column.value(row)) for column in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _disposition(filename, "csv")
    return response


def _disposition(filename: str, extension: str) -> str:
    from urllib.parse import quote

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{filename}-{stamp}.{extension}"
    return f"attachment; filename=\"export-{stamp}.{extension}\"; filename*=UTF-8''{quote(name)}"
