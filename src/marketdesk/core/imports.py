"""Spreadsheet import: a template per kind, every row checked before any write, all or nothing.

An app describes one import with an `ImportSpec` and registers it with `register_import`
(from its registrations module). The kernel then offers the template download, the upload
page and API, the per-row error report and background runs for large files:

    register_import(ImportSpec(
        key="crm.customer", label=_("Customers"), permission=CrmPerm.ADD_CUSTOMER,
        update_permission=CrmPerm.CHANGE_CUSTOMER,
        columns=(ImportColumn("name", _("Name"), required=True, parse=parse_text(max_length=80)),
                 ImportColumn("mobile", _("Mobile"), parse=parse_text(normalise=normalise_mobile))),
        match_keys=("mobile",), find_existing=find_customer, clean_row=check_customer,
        write_row=write_customer,  # (actor, values, existing) -> Outcome, through the app's services
    ))

A run reads the first sheet (header row, then one record per row), parses every cell with
its column's parser, checks duplicates of the match keys inside the file, matches existing
records, runs the spec's `clean_row`, and only when no row has an error writes every row in
one transaction. Errors are rendered in the job's language and name the spreadsheet row
(as Excel numbers it: the header is row 1) and the column header.

Large files (issue 4: 100,000 customers in a minute): a spec may add `clean_rows` and
`write_rows`, which receive the rows in batches of `BATCH_ROWS` instead of one at a time, so
the checks can look up a batch's keys in a few queries and the writes can use bulk inserts.
They keep the same contract: `clean_rows` returns the rows' errors (nothing written), and
`write_rows` runs inside the job's one transaction and raises `ImportRowFailed` to refuse a
row (nothing of the file is kept)."""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import decimal
import functools
import io
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import (
    ImproperlyConfigured,
    PermissionDenied,
    ValidationError,
)
from django.core.validators import (
    EmailValidator,
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
)
from django.db import connections, models, transaction
from django.db.models.fields import AutoFieldMixin
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from .models import ImportJob, ImportStatus
from .spreadsheets import FORMULA_PREFIXES, Column, _disposition, cell_value

logger = logging.getLogger(__name__)

IMPORT_DATA = "core.import_data"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROGRESS_EVERY = 100  # rows between progress reports
MAX_STORED_ERRORS = 1000
BATCH_ROWS = 2000  # rows per call of a spec's clean_rows / write_rows
SHARED_TEXTS = 5000  # different values of a column whose texts are shared (see _read_rows)

MSG_NO_PERMISSION = _("You do not have permission to import these records.")
MSG_UNKNOWN_KIND = _("There is no such import.")
MSG_KEY_REQUIRED = _("Choose the column that identifies existing records.")
MSG_WRONG_EXTENSION = _(
    "Only Excel workbooks (.xlsx) can be imported. Save the file as .xlsx and upload it again."
)
MSG_NOT_XLSX = _(
    "This file could not be read as an Excel workbook (.xlsx). Download the template, "
    "fill it in and upload it again."
)
MSG_FILE_TOO_LARGE = _("The file is larger than %(limit)s MB.")
MSG_TOO_MANY_ROWS = _(
    "The file has more than %(limit)s rows. Split it into smaller files and import them one by one."
)
MSG_NO_ROWS = _("The file has no rows to import below the header row.")
MSG_NO_HEADER = _("The first row must hold the column headers of the template.")
MSG_UNKNOWN_COLUMN = _('Unknown column "%(header)s". Use the column headers of the template.')
MSG_MISSING_COLUMN = _('The required column "%(header)s" is missing.')
MSG_REPEATED_COLUMN = _('The column "%(header)s" appears more than once.')
MSG_VALUES_WITHOUT_HEADER = _("This column has values but no header.")
MSG_REQUIRED = _("This value is required.")
MSG_DUPLICATE = _(
    'The value "%(value)s" is in rows %(first)s and %(row)s; it must be different in each row.'
)
MSG_EXAMPLE_ROW = _("This is the example row of the template. Delete it before importing.")
MSG_ROW_NOT_SAVED = _("This row could not be saved. Nothing was imported.")
MSG_UNEXPECTED = _("The import stopped because of an unexpected error. Nothing was imported.")
MSG_MORE_ERRORS = _("%(count)s more errors are not listed. Correct the errors above and try again.")
MSG_TOO_LONG = _("Enter at most %(limit)s characters (this value has %(length)s).")
MSG_INVALID = _("Enter a valid value.")
MSG_DATE = _("Enter a date such as 2026-03-01.")
MSG_NUMBER = _("Enter a number.")
MSG_DECIMAL_PLACES = _("Enter a number with at most %(places)s decimal places.")
MSG_MIN_VALUE = _("Enter a number of at least %(limit)s.")
MSG_CHOICE = _("Enter one of: %(choices)s.")


class ImportMode(models.TextChoices):
    CREATE = "create", _("Create new records only")
    UPSERT = "upsert", _("Create new records and update existing ones")


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


Parser = Callable[[Any], Any]  # a non-blank cell value -> Python value; raises ValidationError


@dataclass(frozen=True)
class ImportColumn:
    """One column of the template: the record field it fills and how its cells are read."""

    field: str
    header: Any  # lazy translated label; the file may use it in any shipped language
    required: bool = False
    parse: Parser | None = None  # None: the cell's text
    example: Any = ""
    help: Any = ""  # what to enter, shown on the template's notes sheet
    width: int = 16
    text: bool = False  # format the column as text in the template (numbers with leading zeros)


_BLANK = object()


class RowValues(Mapping):
    """A row's parsed values (field -> value, non-blank cells only), read-only. A file's rows
    are all held from reading to writing; kept as a tuple in the columns' order, a row takes
    about a third of the memory of a dict."""

    __slots__ = ("_positions", "_values")

    def __init__(self, positions: dict[str, int], values: tuple):
        self._positions = positions  # field -> index in values, shared by the file's rows
        self._values = values  # _BLANK where the cell is blank

    def __getitem__(self, key: str) -> Any:
        value = self._values[self._positions[key]]
        if value is _BLANK:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        position = self._positions.get(key)
        if position is None:
            return default
        value = self._values[position]
        return default if value is _BLANK else value

    def __contains__(self, key: object) -> bool:
        position = self._positions.get(key)  # type: ignore[call-overload]  # any key
        return position is not None and self._values[position] is not _BLANK

    def __iter__(self):
        values = self._values
        return (key for key, position in self._positions.items() if values[position] is not _BLANK)

    def __len__(self) -> int:
        return sum(1 for value in self._values if value is not _BLANK)

    def __repr__(self) -> str:
        return f"RowValues({dict(self)!r})"


@dataclass(slots=True)  # 100,000 of them are held between reading and writing
class ImportRow:
    number: int  # the row number the user sees in the spreadsheet (header = 1)
    values: Mapping[str, Any]  # parsed values of the non-blank cells only (RowValues)
    existing: Any = None  # the record this row updates (create-or-update mode)


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: about the whole file
    column: str  # the column header as shown, "" when about the whole row or file
    message: str
    field: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ImportContext:
    """What `clean_row` may need beyond the row: who imports, how, and the other rows."""

    actor: Any
    mode: str
    key_field: str
    rows: list[ImportRow]
    row: int = 0  # number of the row being checked
    _index: dict[str, dict[Any, int]] = field(default_factory=dict, repr=False)

    def row_with(self, field_name: str, value: Any) -> int | None:
        """The first row of the file whose `field_name` has `value` (e.g. a supervisor's row)."""
        index = self._index.get(field_name)
        if index is None:
            index = {}
            for row in self.rows:
                found = row.values.get(field_name)
                if isinstance(found, str | int | datetime.date | decimal.Decimal):
                    index.setdefault(found, row.number)
            self._index[field_name] = index
        return index.get(value)


@dataclass(frozen=True)
class ImportSpec:
    key: str  # "org.employee"
    label: Any
    permission: str  # needed to import at all (creating records); core.import_data always is
    columns: tuple[ImportColumn, ...]
    write_row: Callable[[Any, dict[str, Any], Any], Outcome]  # (actor, values, existing)
    match_keys: tuple[str, ...] = ()  # fields that identify an existing record
    find_existing: Callable[[Any, str, Any], Any] | None = None  # (actor, field, value)
    update_permission: str | None = None  # needed for create-or-update
    clean_row: Callable[[ImportContext, dict[str, Any], Any], None] | None = None
    notes: Callable[[], Iterable[Any]] | None = None  # extra lines for the notes sheet
    # Batch hooks for large files; used instead of clean_row / write_row when given:
    # clean_rows(context, rows) -> {row number: ValidationError}, rows in file order, each with
    # .existing set; write_rows(actor, rows) -> one Outcome per row, raising ImportRowFailed.
    clean_rows: Callable[[ImportContext, list[ImportRow]], dict[int, ValidationError]] | None = None
    write_rows: Callable[[Any, list[ImportRow]], list[Outcome]] | None = None

    def column(self, field_name: str) -> ImportColumn | None:
        return next((c for c in self.columns if c.field == field_name), None)


class ImportRowFailed(Exception):
    """Raised by a spec's write_rows: row `number` cannot be saved, for `error` (a
    ValidationError or PermissionDenied); the whole import is undone."""

    def __init__(self, number: int, error: Exception):
        super().__init__(f"row {number} failed")
        self.number = number
        self.error = error


# Registry ----------------------------------------------------------------------------------

_specs: dict[str, ImportSpec] = {}


def register_import(spec: ImportSpec) -> None:
    fields = {column.field for column in spec.columns}
    if len(fields) != len(spec.columns):
        raise ImproperlyConfigured(f"Import {spec.key}: two columns fill the same field.")
    if not set(spec.match_keys) <= fields:
        raise ImproperlyConfigured(f"Import {spec.key}: match keys must be columns.")
    if spec.match_keys and spec.find_existing is None:
        raise ImproperlyConfigured(f"Import {spec.key}: match keys need find_existing.")
    _specs[spec.key] = spec


def get_import(key: str) -> ImportSpec | None:
    return _specs.get(key)


def import_label(key: str) -> str:
    spec = _specs.get(key)
    return force_str(spec.label) if spec else key


def can_import(actor, spec: ImportSpec, mode: str = ImportMode.CREATE) -> bool:
    if not (actor.has_perm(IMPORT_DATA) and actor.has_perm(spec.permission)):
        return False
    if mode == ImportMode.UPSERT:
        return bool(spec.match_keys) and (
            spec.update_permission is None or actor.has_perm(spec.update_permission)
        )
    return True


def available_imports(actor) -> list[ImportSpec]:
    return sorted(
        (spec for spec in _specs.values() if can_import(actor, spec)),
        key=lambda spec: force_str(spec.label),
    )


def allowed_modes(actor, spec: ImportSpec) -> list[tuple[str, Any]]:
    return [(value, label) for value, label in ImportMode.choices if can_import(actor, spec, value)]


# Parsers: each takes a non-blank cell and returns the value or raises ValidationError -------


def cell_text(raw: Any) -> str:
    """A cell as the text the user typed: whole numbers without ".0", dates as ISO."""
    if type(raw) is str:  # most cells: the general case below, without its checks
        text = raw.strip()
        if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
            text = text[1:]
        return text
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat() if raw.time() == datetime.time() else raw.isoformat(" ")
    if isinstance(raw, datetime.date | datetime.time):
        return raw.isoformat()
    text = str(raw).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        text = text[1:]  # written by our own export (spreadsheets.neutralise)
    return text


def parse_text(
    *,
    max_length: int | None = None,
    pattern: str | None = None,
    message: Any = None,
    normalise: Callable[[str], str] | None = None,
) -> Parser:
    def parse(raw: Any) -> str:
        text = cell_text(raw)
        if max_length is not None and len(text) > max_length:
            raise ValidationError(
                MSG_TOO_LONG, code="max_length", params={"limit": max_length, "length": len(text)}
            )
        if pattern is not None and not re.fullmatch(pattern, text):
            raise ValidationError(message or MSG_INVALID, code="invalid")
        return normalise(text) if normalise else text

    return parse


def parse_email(raw: Any) -> str:
    text = cell_text(raw)
    EmailValidator()(text)
    return text


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def parse_date(raw: Any) -> datetime.date:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = cell_text(raw)
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValidationError(MSG_DATE, code="date")


def parse_decimal(*, places: int = 2, min_value: decimal.Decimal | int | None = None) -> Parser:
    def parse(raw: Any) -> decimal.Decimal:
        text = cell_text(raw).replace(",", "").replace("¥", "").replace("￥", "").strip()
        try:
            value = decimal.Decimal(text)
        except decimal.InvalidOperation as exc:
            raise ValidationError(MSG_NUMBER, code="number") from exc
        if not value.is_finite():
            raise ValidationError(MSG_NUMBER, code="number")
        if value != value.quantize(decimal.Decimal(1).scaleb(-places)):
            raise ValidationError(MSG_DECIMAL_PLACES, code="places", params={"places": places})
        if min_value is not None and value < min_value:
            raise ValidationError(MSG_MIN_VALUE, code="min_value", params={"limit": min_value})
        return value.quantize(decimal.Decimal(1).scaleb(-places))

    return parse


def parse_choice(mapping: dict[str, Any]) -> Parser:
    """Map what users type (any case) to stored values, e.g. {"男": "M", "M": "M"}."""
    lookup = {key.casefold(): value for key, value in mapping.items()}

    def parse(raw: Any) -> Any:
        text = cell_text(raw).casefold()
        if text not in lookup:
            raise ValidationError(MSG_CHOICE, code="choice", params={"choices": ", ".join(mapping)})
        return lookup[text]

    return parse


# Template ---------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
EXAMPLE_FONT = Font(italic=True, color="808080")


def _sheet_title(value: Any) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", force_str(value))[:31] or "Sheet"


def _header_of(spec: ImportSpec, field_name: str) -> str:
    column = spec.column(field_name)
    return force_str(column.header) if column else field_name


def template_workbook(spec: ImportSpec) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(spec.label)
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index, value=force_str(column.header))
        header.font = HEADER_FONT
        if column.required:
            header.fill = REQUIRED_FILL
        example = sheet.cell(row=2, column=index, value=cell_value(column.example))
        example.font = EXAMPLE_FONT
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_sheet_title(_("Notes")))
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    notes.append([force_str(_("Column")), force_str(_("Required")), force_str(_("What to enter"))])
    for cell in notes[1]:
        cell.font = HEADER_FONT
    for column in spec.columns:
        notes.append(
            [
                force_str(column.header),
                force_str(_("Yes") if column.required else _("No")),
                force_str(column.help),
            ]
        )
    notes.append([])
    for line in _general_notes(spec):
        notes.append([force_str(line)])
    return workbook


def _general_notes(spec: ImportSpec) -> list[Any]:
    lines: list[Any] = [
        _(
            "Fill in one row per record below the header row, and delete the grey example "
            "row (row 2) before importing."
        ),
        _(
            "Keep the header cells as they are; columns may be in any order. Required columns "
            "(highlighted) must be filled in every row; optional columns may be left out."
        ),
        _(
            "The whole file is checked first. If any row has an error, nothing is imported and "
            "you get the list of errors with their row numbers."
        ),
    ]
    if spec.match_keys:
        keys = ", ".join(_header_of(spec, key) for key in spec.match_keys)
        lines.append(
            _(
                "To update existing records, choose “create or update” and the column that "
                "identifies them (%(keys)s). Empty cells leave the current values unchanged."
            )
            % {"keys": keys}
        )
    if spec.notes is not None:
        lines.extend(spec.notes())
    return lines


def template_response(spec: ImportSpec) -> HttpResponse:
    buffer = io.BytesIO()
    template_workbook(spec).save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _disposition(
        f"{force_str(spec.label)}-{force_str(_('template'))}", "xlsx"
    )
    return response


def error_columns() -> list[Column]:
    """Columns of the downloadable error report."""
    return [
        Column(_("Row"), lambda error: error.get("row") or "", 8),
        Column(_("Column"), lambda error: error.get("column", ""), 20),
        Column(_("Message"), lambda error: error.get("message", ""), 80),
    ]


# Reading and checking ---------------------------------------------------------------------


def _sheet_rows(file) -> Iterable[tuple]:
    """The first sheet's rows as tuples of cell values.

    Read with calamine (Rust): about 20 times faster than openpyxl's read-only mode and a
    fraction of its memory on 100,000-row files (the customer import's speed target). Dates
    come back as `datetime.date`/`datetime`, whole numbers as floats (cell_text drops ".0"),
    empty cells as "". `file` is a file object or the path of a file (read from the disk as
    needed rather than copied into memory first)."""
    lines = _first_sheet(file).iter_rows()
    return (tuple(cells) for cells in lines)


def _first_sheet(file):
    """The workbook's first sheet, loaded (calamine); ValidationError if it is no workbook."""
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        if isinstance(file, str | os.PathLike):
            workbook = CalamineWorkbook.from_path(os.fspath(file))
        else:
            workbook = CalamineWorkbook.from_filelike(file)
        if not workbook.sheet_names:
            raise ValidationError(MSG_NOT_XLSX, code="not_xlsx")
        return workbook.get_sheet_by_index(0)
    except ValidationError:
        raise
    except Exception as exc:  # calamine raises its own kinds on a file that is not a workbook
        raise ValidationError(MSG_NOT_XLSX, code="not_xlsx") from exc


def _header_key(text: Any) -> str:
    return re.sub(r"\s+", "", cell_text(text)).strip("*＊").casefold()


def _header_lookup(spec: ImportSpec) -> dict[str, ImportColumn]:
    """Headers in every shipped language (and the field names) lead to their column."""
    lookup: dict[str, ImportColumn] = {}
    for column in spec.columns:
        lookup[_header_key(column.field)] = column
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                lookup.setdefault(_header_key(force_str(column.header)), column)
        lookup.setdefault(_header_key(force_str(column.header)), column)
    return lookup


def _match_header(
    spec: ImportSpec, header: tuple
) -> tuple[dict[int, ImportColumn], list[int], list[RowError]]:
    """Column positions -> columns, positions without a header, and the header's errors."""
    lookup = _header_lookup(spec)
    positions: dict[int, ImportColumn] = {}
    unnamed: list[int] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for position, raw in enumerate(header):
        text = cell_text(raw)
        if not text:
            unnamed.append(position)
            continue
        column = lookup.get(_header_key(text))
        if column is None:
            message = MSG_UNKNOWN_COLUMN % {"header": text}
            errors.append(RowError(1, text, str(message)))
        elif column.field in seen:
            message = MSG_REPEATED_COLUMN % {"header": text}
            errors.append(RowError(1, text, str(message), column.field))
        else:
            seen.add(column.field)
            positions[position] = column
    if not positions and not errors:
        return {}, unnamed, [RowError(1, "", str(MSG_NO_HEADER))]
    for column in spec.columns:
        if column.required and column.field not in seen:
            header_text = force_str(column.header)
            message = MSG_MISSING_COLUMN % {"header": header_text}
            errors.append(RowError(1, header_text, str(message), column.field))
    return positions, unnamed, errors


def _messages(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


def _is_example(spec: ImportSpec, texts: dict[str, str]) -> bool:
    compared = 0
    for column in spec.columns:
        example = cell_text(column.example)
        if not example or column.field not in texts:
            continue
        if texts[column.field] != example:
            return False
        compared += 1
    return compared > 0


def validate_file(spec: ImportSpec, file) -> tuple[list[ImportRow], list[RowError]]:
    """Read the first sheet and parse every cell; nothing is written.

    Returns the parsed rows and every error found (header, cells, duplicates of the match
    keys inside the file). Messages are rendered in the active language."""
    try:
        lines = iter(_sheet_rows(file))
    except ValidationError as exc:
        return [], [RowError(None, "", message) for message in _messages(exc)]
    positions, unnamed, errors = _match_header(spec, next(lines, ()))
    if errors:
        return [], errors
    return _read_rows(spec, lines, positions, unnamed)


def _read_rows(
    spec: ImportSpec, lines: Iterable[tuple], positions: dict[int, ImportColumn], unnamed: list[int]
) -> tuple[list[ImportRow], list[RowError]]:
    max_rows = getattr(settings, "IMPORT_MAX_ROWS", 100_000)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    unnamed_reported: set[int] = set()
    # The same text in many rows (a province, a contact's title) is kept once: a large file
    # is held in memory from reading to writing. A column stops sharing once it has shown
    # SHARED_TEXTS different values (names, mobiles: nearly all different).
    shared: dict[str, dict[str, str]] = {column.field: {} for column in positions.values()}
    order = {column.field: index for index, column in enumerate(spec.columns)}
    for number, cells in enumerate(lines, start=2):
        cell_texts = [cell_text(value) for value in cells]
        if not any(cell_texts):
            continue
        if len(rows) >= max_rows:
            return [], [RowError(None, "", str(MSG_TOO_MANY_ROWS % {"limit": max_rows}))]
        texts: dict[str, str] = {}
        values: list[Any] = [_BLANK] * len(order)
        for position, text in enumerate(cell_texts):
            column = positions.get(position)
            if column is None:
                if text and position not in unnamed_reported:
                    unnamed_reported.add(position)
                    letter = get_column_letter(position + 1)
                    errors.append(RowError(number, letter, str(MSG_VALUES_WITHOUT_HEADER)))
                continue
            if not text:
                continue
            texts[column.field] = text
            try:
                value = column.parse(cells[position]) if column.parse else text
            except ValidationError as exc:
                errors.extend(
                    RowError(number, force_str(column.header), message, column.field)
                    for message in _messages(exc)
                )
                continue
            if type(value) is str:
                known = shared[column.field]
                if len(known) < SHARED_TEXTS:
                    value = known.setdefault(value, value)
            values[order[column.field]] = value
        for column in positions.values():
            if column.required and column.field not in texts:
                errors.append(
                    RowError(number, force_str(column.header), str(MSG_REQUIRED), column.field)
                )
        if _is_example(spec, texts):
            errors.append(RowError(number, "", str(MSG_EXAMPLE_ROW)))
        rows.append(ImportRow(number=number, values=RowValues(order, tuple(values))))
    if not rows and not errors:
        errors.append(RowError(None, "", str(MSG_NO_ROWS)))
    errors.extend(_duplicates(spec, rows))
    errors.sort(key=lambda error: error.row or 0)
    return rows, errors


def _duplicates(spec: ImportSpec, rows: list[ImportRow]) -> list[RowError]:
    """A match key (username, mobile...) may appear in one row of the file only."""
    errors = []
    for key in spec.match_keys:
        header = _header_of(spec, key)
        first_rows: dict[Any, int] = {}
        for row in rows:
            value = row.values.get(key)
            if value is None:
                continue
            first = first_rows.setdefault(value, row.number)
            if first != row.number:
                message = MSG_DUPLICATE % {"value": value, "first": first, "row": row.number}
                errors.append(RowError(row.number, header, str(message), key))
    return errors


def _errors_from(spec: ImportSpec, number: int, exc: ValidationError) -> list[RowError]:
    """A service's or clean_row's ValidationError as row errors on the columns it names."""
    if not hasattr(exc, "error_dict"):
        return [RowError(number, "", message) for message in _messages(exc)]
    errors = []
    for name, field_errors in exc.error_dict.items():
        header = _header_of(spec, name) if spec.column(name) else ""
        for error in field_errors:
            errors.extend(RowError(number, header, message, name) for message in _messages(error))
    return errors


def check_rows(
    spec: ImportSpec,
    rows: list[ImportRow],
    *,
    actor,
    mode: str,
    key_field: str = "",
    on_row: Callable[[int], None] | None = None,
) -> list[RowError]:
    """Find the record each row updates and run the spec's row checks; nothing is written."""
    context = ImportContext(actor=actor, mode=mode, key_field=key_field, rows=rows)
    errors: list[RowError] = []
    if spec.clean_rows is not None:
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            for row in batch:
                _find_existing(spec, actor, mode, key_field, row)
            context.row = batch[0].number
            found = spec.clean_rows(context, batch)
            for row in batch:
                if row.number in found:
                    errors.extend(_errors_from(spec, row.number, found[row.number]))
            if on_row is not None:
                on_row(start + len(batch))
        return errors
    for index, row in enumerate(rows, start=1):
        context.row = row.number
        _find_existing(spec, actor, mode, key_field, row)
        if spec.clean_row is not None:
            try:
                spec.clean_row(context, row.values, row.existing)
            except ValidationError as exc:
                errors.extend(_errors_from(spec, row.number, exc))
        if on_row is not None:
            on_row(index)
    return errors


def _find_existing(spec: ImportSpec, actor, mode: str, key_field: str, row: ImportRow) -> None:
    row.existing = None
    key_value = row.values.get(key_field) if key_field else None
    if mode == ImportMode.UPSERT and key_value is not None and spec.find_existing:
        row.existing = spec.find_existing(actor, key_field, key_value)


# Running a job ----------------------------------------------------------------------------


class _RowFailed(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__("row failed")
        self.errors = errors


def _progress_key(job_id: int) -> str:
    return f"core:import-progress:{job_id}"


class _Progress:
    """Rows done so far. Checking and writing count half each; while the write transaction
    is open the database row cannot show it to other connections, so it goes to the cache."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.last = 0

    def report(self, units: int) -> None:
        processed = min(units // 2, self.job.total_rows)
        if processed - self.last < PROGRESS_EVERY:
            return
        self.last = processed
        cache.set(_progress_key(self.job.pk), processed, 6 * 3600)
        if not transaction.get_connection().in_atomic_block:
            ImportJob.objects.filter(pk=self.job.pk).update(processed_rows=processed)


def refresh_progress(job: ImportJob) -> ImportJob:
    """Bring a running job's processed_rows up to what the worker reported last."""
    if job.status == ImportStatus.RUNNING:
        job.processed_rows = max(job.processed_rows, cache.get(_progress_key(job.pk)) or 0)
    return job


def _finish(
    job: ImportJob, *, errors: list[RowError] | None = None, created: int = 0, updated: int = 0
) -> None:
    stored = [error.as_dict() for error in (errors or [])[:MAX_STORED_ERRORS]]
    if errors and len(errors) > MAX_STORED_ERRORS:
        more = MSG_MORE_ERRORS % {"count": len(errors) - MAX_STORED_ERRORS}
        stored.append(RowError(None, "", str(more)).as_dict())
    job.status = ImportStatus.FAILED if errors else ImportStatus.DONE
    job.errors = stored
    job.created_count, job.updated_count = (0, 0) if errors else (created, updated)
    job.processed_rows = job.total_rows
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "errors",
            "created_count",
            "updated_count",
            "total_rows",
            "processed_rows",
            "finished_at",
        ]
    )
    cache.delete(_progress_key(job.pk))


def run_import_job(job_id: int) -> str:
    """Check every row, then write all of them in one transaction, or none. Idempotent: a job
    that is no longer waiting (a redelivered task) is left alone. Returns the final status."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING
    )
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if not claimed:
        return job.status
    with translation.override(job.language):
        try:
            _run(job)
        except Exception:
            logger.exception("import job %s stopped", job_id)
            _finish(job, errors=[RowError(None, "", str(MSG_UNEXPECTED))])
    return job.status


def _run(job: ImportJob) -> None:
    spec = get_import(job.kind)
    if spec is None:
        return _finish(job, errors=[RowError(None, "", str(MSG_UNKNOWN_KIND))])
    actor = job.created_by
    if not can_import(actor, spec, job.mode):
        return _finish(job, errors=[RowError(None, "", str(MSG_NO_PERMISSION))])
    path = _stored_path(job)  # a large workbook is not copied into memory to be read
    if path is not None:
        rows, errors = validate_file(spec, path)
    else:
        with job.file.open("rb") as handle:
            rows, errors = validate_file(spec, handle)
    _give_back_memory()  # the sheet's
    job.total_rows = len(rows)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows, processed_rows=0)
    progress = _Progress(job)
    if not errors:
        errors = check_rows(
            spec, rows, actor=actor, mode=job.mode, key_field=job.key_field, on_row=progress.report
        )
    if errors:
        return _finish(job, errors=errors)
    _give_back_memory()  # the checks' look-up tables
    counts = {Outcome.CREATED: 0, Outcome.UPDATED: 0}
    total = len(rows)
    size = BATCH_ROWS if spec.write_rows is not None else 1
    # Each batch lets go of its rows once written, so the memory the file's rows take is
    # given back while the transaction grows.
    batches = [rows[start : start + size] for start in range(0, total, size)]
    del rows
    batches.reverse()
    done = 0
    try:
        with _small_sqlite_cache(), transaction.atomic():
            while batches:
                batch = batches.pop()
                if spec.write_rows is not None:
                    outcomes = _write_batch(spec, actor, batch)
                else:
                    outcomes = [_write(spec, actor, row) for row in batch]
                for outcome in outcomes:
                    counts[outcome] += 1
                done += len(batch)
                del batch
                progress.report(total + done)
    except _RowFailed as failed:
        return _finish(job, errors=failed.errors)
    _finish(job, created=counts[Outcome.CREATED], updated=counts[Outcome.UPDATED])


WRITE_CACHE_KB = 16_000  # SQLite page cache while an import writes (settings: 64,000)


@contextlib.contextmanager
def _small_sqlite_cache():
    """On SQLite, a smaller page cache for the import's write transaction. The cache lives in
    this process: a 100,000-row import would fill the 64 MB of the settings with its own
    dirty pages, next to the file's rows, for no gain in speed (measured: the same CPU
    time with 16 MB). The connection's own size is put back afterwards."""
    connection = transaction.get_connection()
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(WRITE_CACHE_KB)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _give_back_memory() -> None:
    """Hand the C heap's free memory back to the system (glibc's malloc_trim; elsewhere
    nothing). Calamine frees a loaded sheet (100+ MB for 100,000 rows) as many small blocks
    that glibc otherwise keeps for the process, on top of what the rest of the import takes."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@functools.cache
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): nothing to trim
        return None


def _stored_path(job: ImportJob) -> str | None:
    try:
        return job.file.path
    except NotImplementedError:  # a storage without local files
        return None


def _write(spec: ImportSpec, actor, row: ImportRow) -> Outcome:
    try:
        return Outcome(spec.write_row(actor, dict(row.values), row.existing))
    except ValidationError as exc:
        raise _RowFailed(_errors_from(spec, row.number, exc)) from exc
    except PermissionDenied as exc:
        message = str(exc) or str(MSG_NO_PERMISSION)
        raise _RowFailed([RowError(row.number, "", message)]) from exc
    except Exception as exc:  # any failure of row N undoes rows 1..N-1 and is reported on N
        logger.exception("import row %s failed", row.number)
        raise _RowFailed([RowError(row.number, "", str(MSG_ROW_NOT_SAVED))]) from exc


def _write_batch(spec: ImportSpec, actor, batch: list[ImportRow]) -> list[Outcome]:
    try:
        outcomes = [Outcome(outcome) for outcome in spec.write_rows(actor, batch)]
    except ImportRowFailed as failed:
        error = failed.error
        if isinstance(error, ValidationError):
            raise _RowFailed(_errors_from(spec, failed.number, error)) from error
        message = str(error) or str(MSG_NO_PERMISSION)
        raise _RowFailed([RowError(failed.number, "", message)]) from error
    except Exception as exc:  # an unexpected failure: the batch's first row is reported
        logger.exception("import rows %s-%s failed", batch[0].number, batch[-1].number)
        raise _RowFailed([RowError(batch[0].number, "", str(MSG_ROW_NOT_SAVED))]) from exc
    if len(outcomes) != len(batch):
        raise RuntimeError(f"{spec.key}: write_rows returned {len(outcomes)} outcomes")
    return outcomes


# Bulk writes for write_rows: plain values instead of model instances -----------------------
#
# Building a model instance, running clean_fields and compiling bulk_create's SQL cost far more
# than the insert itself (100,000 customers: about 70 s of CPU). A spec's write_rows can keep
# each record as a dict of column attnames -> values, check it with `clean_values` (exactly
# what Model.clean_fields checks and reports) and insert it with `TableInsert`
# (cursor.executemany of tuples, values converted as Django converts them). Neither sends
# signals: whatever the model's save() or its signals would add (history rows, say) the spec
# writes itself.

# CharField-like fields whose checks on a short non-empty string are the length and NUL ones.
_FAST_TEXT = (models.CharField, models.TextField)
_FAST_VALIDATORS = (MaxLengthValidator, ProhibitNullCharactersValidator)


@functools.cache
def _field_checks(model, exclude: frozenset[str]) -> tuple:
    checks = []
    for f in model._meta.fields:
        if f.name in exclude or f.generated:
            continue
        if f.is_relation:  # validating a foreign key is a query per value
            raise ImproperlyConfigured(f"clean_values: exclude the relation {f.name}.")
        fast = type(f) in _FAST_TEXT and all(type(v) in _FAST_VALIDATORS for v in f.validators)
        choices = frozenset(key for key, _label in f.flatchoices) if f.choices else None
        if choices is not None and not all(isinstance(key, str) for key in choices):
            fast = False  # "in" on a set of strings would differ from the field's "=="
        checks.append((f, f.attname, fast, f.max_length, choices))
    return tuple(checks)


def clean_values(model, values: dict[str, Any], *, exclude: Iterable[str] = ()) -> None:
    """`model(**values).clean_fields(exclude=exclude)` without the instance: `values` holds
    every column (attname -> value, defaults included); cleaned values are written back; the
    ValidationError is the one clean_fields raises. Relations must be excluded."""
    errors: dict[str, Any] = {}
    for f, attname, fast, max_length, choices in _field_checks(model, frozenset(exclude)):
        raw = values[attname]
        if f.blank and raw in f.empty_values:
            continue
        if (
            fast
            and isinstance(raw, str)
            and raw
            and (max_length is None or len(raw) <= max_length)
            and "\x00" not in raw
            and (choices is None or raw in choices)
        ):
            continue  # what f.clean would accept and return unchanged
        try:
            values[attname] = f.clean(raw, None)
        except ValidationError as exc:
            errors[f.name] = exc.error_list
    if errors:
        raise ValidationError(errors)


def model_defaults(model, **given: Any) -> dict[str, Any]:
    """Every column of `model` (attname -> value) as a new instance has it, with `given`
    (attnames) instead. Compute it once per batch: a callable default other than
    timezone.now (one moment for the batch) must be given."""
    values = {}
    for f in model._meta.concrete_fields:
        if f.attname in given:
            values[f.attname] = given[f.attname]
        elif f.has_default() and callable(f.default) and f.default is not timezone.now:
            raise ImproperlyConfigured(f"model_defaults: give {f.attname} (callable default).")
        else:
            values[f.attname] = f.get_default()
    unknown = set(given) - set(values)
    if unknown:
        raise ImproperlyConfigured(f"model_defaults: {model.__name__} has no {unknown}.")
    return values


class TableInsert:
    """INSERT rows of `model` from plain tuples (executemany, or COPY): every concrete column
    but an auto-increment primary key, values converted by the field as Django's own
    INSERT would (get_db_prep_save), except strings, ints and bools, which pass as they are."""

    def __init__(self, model, *, using: str = "default"):
        self.using = using
        connection = connections[using]
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if not (f.primary_key and isinstance(f, AutoFieldMixin))
        ]
        self.attnames = [f.attname for f in self.fields]
        self.by_attname = {f.attname: f for f in self.fields}
        self.columns = [(f.attname, _plain_types(f)) for f in self.fields]
        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        columns = ", ".join(qn(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (model names)
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self._converted: dict[tuple[str, type, Any], Any] = {}

    def row(self, values: dict[str, Any]) -> tuple:
        """The INSERT's parameters for one record (attname -> value, every column)."""
        out = []
        append = out.append
        for attname, plain in self.columns:
            value = values[attname]
            if value is None or type(value) in plain:
                append(value)
            else:
                append(self._convert(attname, value))
        return tuple(out)

    def _convert(self, attname: str, value: Any) -> Any:
        key = (attname, type(value), value)  # 1 == 1.0 == True, but each converts alone
        converted = self._converted.get(key, _MISSING)
        if converted is _MISSING:
            if len(self._converted) > 10_000:
                self._converted.clear()
            field = self.by_attname[attname]
            converted = field.get_db_prep_save(value, connections[self.using])
            self._converted[key] = converted
        return converted

    def insert(self, rows: list[tuple]) -> None:
        """Insert `rows` (from `row`): COPY on PostgreSQL with psycopg 3 (about four times
        faster than executemany there), executemany elsewhere."""
        if not rows:
            return
        connection = connections[self.using]
        with connection.cursor() as cursor:
            copy = getattr(cursor.cursor, "copy", None)
            if connection.vendor == "postgresql" and copy is not None:
                with copy(self.copy_sql) as stream:
                    for row in rows:
                        stream.write_row(row)
            else:
                cursor.executemany(self.sql, rows)


_MISSING = object()


def _plain_types(f) -> frozenset[type]:
    """Types of a field's values that go to the database as they are (Django's conversion
    would return them unchanged); values of other types are converted by the field."""
    kind = f.get_internal_type()
    if kind in ("CharField", "TextField", "EmailField", "SlugField", "URLField"):
        return frozenset({str})
    if kind == "BooleanField":
        return frozenset({bool})
    if f.is_relation:
        kind = f.target_field.get_internal_type()
    if kind.endswith("AutoField") or kind.endswith("IntegerField"):
        return frozenset({int})  # exactly int: True is not the integer 1 to PostgreSQL
    return frozenset()


# Starting a job ---------------------------------------------------------------------------


def _count_rows_up_to(file, limit: int) -> int:
    """Non-empty data rows, counting no further than `limit` (enough to choose sync or not).
    A sheet of no more than `limit` lines below the header is not counted row by row: the
    lines (blank ones too) are the estimate, which the run replaces with the real count."""
    try:
        sheet = _first_sheet(file)
        if sheet.height - 1 <= limit:
            return max(sheet.height - 1, 0)
        lines = iter(sheet.iter_rows())
        next(lines, None)
        count = 0
        for cells in lines:
            if any(cell_text(value) for value in cells):
                count += 1
                if count > limit:
                    break
        return count
    finally:
        if hasattr(file, "seek"):
            file.seek(0)


def import_job_start(
    *,
    actor,
    kind: str,
    upload,
    mode: str = ImportMode.CREATE,
    key_field: str = "",
    language: str | None = None,
) -> ImportJob:
    """Store the upload as a job and run it: now when small, in the background when large."""
    from .services import safe_file_name
    from .tasks import run_import

    spec = get_import(kind)
    if spec is None:
        raise ValidationError({"kind": MSG_UNKNOWN_KIND})
    if not can_import(actor, spec, mode):
        raise PermissionDenied(MSG_NO_PERMISSION)
    if mode == ImportMode.UPSERT:
        if key_field not in spec.match_keys:
            raise ValidationError({"key_field": MSG_KEY_REQUIRED})
    else:
        key_field = ""
    name = safe_file_name(upload.name or "")
    if not name.lower().endswith(".xlsx"):
        raise ValidationError({"file": MSG_WRONG_EXTENSION})
    limit_bytes = getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024)
    if upload.size is not None and upload.size > limit_bytes:
        raise ValidationError(
            {"file": ValidationError(MSG_FILE_TOO_LARGE, params={"limit": limit_bytes // 2**20})}
        )
    sync_rows = getattr(settings, "IMPORT_SYNC_ROWS", 500)
    job = ImportJob(
        kind=spec.key,
        original_name=name,
        mode=mode,
        key_field=key_field,
        language=(language or translation.get_language() or settings.LANGUAGE_CODE)[:10],
        created_by=actor,
    )
    job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    try:
        # From the stored file when it has a path: calamine then reads it from the disk
        # instead of copying the upload into memory first.
        estimate = _count_rows_up_to(_stored_path(job) or upload, sync_rows)
    except ValidationError as exc:
        job.file.delete(save=False)
        raise ValidationError({"file": exc.messages}) from exc
    finally:
        _give_back_memory()  # the sheet's, before the run loads it again
    job.total_rows = estimate
    job.save()
    if estimate > sync_rows:
        job_id = job.pk
        # After commit, so a worker finds the job; without a broker it runs right here.
        transaction.on_commit(lambda: run_import.delay(job_id))
    else:
        run_import_job(job.pk)
    job.refresh_from_db()
    return job
