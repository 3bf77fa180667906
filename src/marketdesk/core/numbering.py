"""Human document numbers (EXP-2026-000123): no duplicates, no gaps, under concurrency.

The counter row is locked and bumped inside the caller's transaction, so a document that
fails to save rolls its number back too: numbers stay gapless. On SQLite every write
transaction begins IMMEDIATE (settings), which serialises writers the same way."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .models import DocumentSequence, SequenceCounter, SequenceReset


@dataclass(frozen=True)
class SequenceDefault:
    doc_type: str
    name: str
    prefix: str
    reset: str = SequenceReset.YEARLY
    padding: int = 6


_defaults: dict[str, SequenceDefault] = {}


def register_sequence(default: SequenceDefault) -> None:
    _defaults[default.doc_type] = default


def _sequence(doc_type: str) -> DocumentSequence:
    sequence = DocumentSequence.objects.filter(doc_type=doc_type).first()
    if sequence is not None:
        return sequence
    default = _defaults.get(doc_type)
    if default is None:
        raise LookupError(f"No numbering is set up for document type {doc_type!r}")
    DocumentSequence.objects.bulk_create(
        [
            DocumentSequence(
                doc_type=default.doc_type,
                name=default.name,
                prefix=default.prefix,
                reset=default.reset,
                padding=default.padding,
            )
        ],
        ignore_conflicts=True,
    )
    return DocumentSequence.objects.get(doc_type=doc_type)


def period_key(reset: str, day: datetime.date) -> str:
    if reset == SequenceReset.YEARLY:
        return f"{day:%Y}"
    if reset == SequenceReset.MONTHLY:
        return f"{day:%Y%m}"
    return ""


def format_number(sequence: DocumentSequence, period: str, value: int) -> str:
    parts = [sequence.prefix, period, str(value).zfill(sequence.padding)]
    return sequence.separator.join(part for part in parts if part)


# The table name is the model's own (no user input).
_BUMP_SQL = (
    f'UPDATE "{SequenceCounter._meta.db_table}" SET last_value = last_value + %s '  # noqa: S608
    "WHERE sequence_id = %s AND period = %s RETURNING last_value"
)


def _bump(sequence: DocumentSequence, period: str, count: int) -> int:
    """Add `count` to the period's counter and return its new last value. One statement when
    the counter exists: `UPDATE ... RETURNING` locks the row (PostgreSQL) inside the caller's
    transaction (SQLite: the IMMEDIATE write transaction serialises writers), so two callers
    never get the same value. The first number of a period inserts the counter first."""
    sql = _BUMP_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, sequence.pk, period])
        row = cursor.fetchone()
        if row is None:
            SequenceCounter.objects.bulk_create(
                [SequenceCounter(sequence=sequence, period=period, last_value=0)],
                ignore_conflicts=True,
            )
            cursor.execute(sql, [count, sequence.pk, period])
            row = cursor.fetchone()
    return int(row[0])


def next_number(doc_type: str, *, on: datetime.date | None = None) -> str:
    """Take the next number of `doc_type`; call it inside the transaction that saves the document."""
    day = on or timezone.localdate()
    # No savepoint of its own: a failure here fails the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        sequence = _sequence(doc_type)
        period = period_key(sequence.reset, day)
        return format_number(sequence, period, _bump(sequence, period, 1))


def next_numbers(doc_type: str, count: int, *, on: datetime.date | None = None) -> list[str]:
    """Take `count` consecutive numbers of `doc_type` at once (bulk imports), with the same
    guarantees as `next_number`: the counter row is locked and bumped by `count` inside the
    caller's transaction, so a rolled-back import gives its numbers back (no gaps)."""
    if count <= 0:
        return []
    day = on or timezone.localdate()
    with transaction.atomic(savepoint=False):
        sequence = _sequence(doc_type)
        period = period_key(sequence.reset, day)
        last = _bump(sequence, period, count)
        first = last - count + 1
        return [format_number(sequence, period, value) for value in range(first, last + 1)]


def preview_number(sequence: DocumentSequence, on: datetime.date | None = None) -> str:
    day = on or timezone.localdate()
    period = period_key(sequence.reset, day)
    counter = SequenceCounter.objects.filter(sequence=sequence, period=period).first()
    return format_number(sequence, period, (counter.last_value if counter else 0) + 1)
