"""Document numbers (core/numbering.py): format per reset policy, restart per period, and no
gaps or duplicates under concurrency, on SQLite and on PostgreSQL (set DATABASE_URL)."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, transaction

from marketdesk.core.models import DocumentSequence, SequenceCounter, SequenceReset
from marketdesk.core.numbering import (
    SequenceDefault,
    _defaults,
    next_number,
    preview_number,
    register_sequence,
)

DAY = datetime.date(2026, 3, 15)


@pytest.fixture
def sequences():
    """Three test document types, one per reset policy; unregistered afterwards."""
    added = [
        SequenceDefault("T_YEAR", "Yearly test", "EXP", reset=SequenceReset.YEARLY, padding=6),
        SequenceDefault("T_MONTH", "Monthly test", "ORD", reset=SequenceReset.MONTHLY, padding=4),
        SequenceDefault("T_NEVER", "Never test", "CUS", reset=SequenceReset.NEVER, padding=5),
    ]
    for default in added:
        register_sequence(default)
    yield
    for default in added:
        _defaults.pop(default.doc_type, None)


@pytest.mark.django_db
@pytest.mark.usefixtures("sequences")
class TestFormat:
    def test_a_yearly_number_carries_the_year(self):
        assert next_number("T_YEAR", on=DAY) == "EXP-2026-000001"
        assert next_number("T_YEAR", on=DAY) == "EXP-2026-000002"

    def test_a_monthly_number_carries_year_and_month(self):
        assert next_number("T_MONTH", on=DAY) == "ORD-202603-0001"

    def test_a_number_that_never_resets_has_no_period(self):
        assert next_number("T_NEVER", on=DAY) == "CUS-00001"

    def test_the_123rd_number_is_padded(self):
        sequence = DocumentSequence.objects.create(
            doc_type="EXP", name="Expense claim", prefix="EXP", reset=SequenceReset.YEARLY
        )
        SequenceCounter.objects.create(sequence=sequence, period="2026", last_value=122)
        assert next_number("EXP", on=DAY) == "EXP-2026-000123"

    def test_an_empty_separator_joins_the_parts(self):
        DocumentSequence.objects.create(
            doc_type="T_FLAT", name="Flat", prefix="Q", reset=SequenceReset.YEARLY, separator=""
        )
        assert next_number("T_FLAT", on=DAY) == "Q2026000001"

    def test_the_administrator_s_setting_wins_over_the_registered_default(self):
        DocumentSequence.objects.create(
            doc_type="T_YEAR", name="Expense", prefix="BX", reset=SequenceReset.NEVER, padding=3
        )
        assert next_number("T_YEAR", on=DAY) == "BX-001"

    def test_an_unknown_document_type_is_an_error(self):
        with pytest.raises(LookupError):
            next_number("NO_SUCH_TYPE")

    def test_preview_shows_the_next_number_without_taking_it(self):
        next_number("T_YEAR", on=DAY)
        sequence = DocumentSequence.objects.get(doc_type="T_YEAR")
        assert preview_number(sequence, on=DAY) == "EXP-2026-000002"
        assert preview_number(sequence, on=DAY) == "EXP-2026-000002"
        assert next_number("T_YEAR", on=DAY) == "EXP-2026-000002"


@pytest.mark.django_db
@pytest.mark.usefixtures("sequences")
class TestPeriods:
    def test_a_yearly_counter_restarts_in_a_new_year(self):
        next_number("T_YEAR", on=datetime.date(2026, 12, 31))
        assert next_number("T_YEAR", on=datetime.date(2026, 12, 31)) == "EXP-2026-000002"
        assert next_number("T_YEAR", on=datetime.date(2027, 1, 1)) == "EXP-2027-000001"
        # the old year's counter is kept, not reset
        assert next_number("T_YEAR", on=datetime.date(2026, 6, 1)) == "EXP-2026-000003"

    def test_a_monthly_counter_restarts_each_month(self):
        assert next_number("T_MONTH", on=datetime.date(2026, 1, 31)) == "ORD-202601-0001"
        assert next_number("T_MONTH", on=datetime.date(2026, 1, 31)) == "ORD-202601-0002"
        assert next_number("T_MONTH", on=datetime.date(2026, 2, 1)) == "ORD-202602-0001"

    def test_a_counter_that_never_resets_runs_across_years(self):
        assert next_number("T_NEVER", on=datetime.date(2026, 12, 31)) == "CUS-00001"
        assert next_number("T_NEVER", on=datetime.date(2027, 1, 1)) == "CUS-00002"

    def test_the_period_follows_the_shanghai_date_not_utc(self, settings):
        # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai
        from unittest import mock

        utc_evening = datetime.datetime(2026, 12, 31, 17, 0, tzinfo=datetime.UTC)
        with mock.patch("django.utils.timezone.now", return_value=utc_evening):
            assert next_number("T_YEAR") == "EXP-2027-000001"


def _take_numbers_in_threads(doc_type: str, count: int) -> tuple[list[str], list[BaseException]]:
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def worker() -> None:
        try:
            start.wait(timeout=30)
            with transaction.atomic():
                number = next_number(doc_type, on=DAY)
            with lock:
                numbers.append(number)
        except BaseException as exc:  # reported by the test, never swallowed
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a numbering thread hung"
    return numbers, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sequences")
class TestConcurrency:
    """Real threads, each with its own connection and transaction (select_for_update on
    PostgreSQL, BEGIN IMMEDIATE on SQLite)."""

    def test_twenty_threads_get_twenty_distinct_numbers_without_gaps(self):
        next_number("T_YEAR", on=DAY)  # the sequence and counter rows exist already
        numbers, errors = _take_numbers_in_threads("T_YEAR", 20)
        assert errors == []
        assert sorted(numbers) == [f"EXP-2026-{n:06d}" for n in range(2, 22)]

    def test_twenty_threads_racing_for_the_very_first_number(self):
        # nobody has created the sequence or this period's counter yet
        numbers, errors = _take_numbers_in_threads("T_NEVER", 20)
        assert errors == []
        assert sorted(numbers) == [f"CUS-{n:05d}" for n in range(1, 21)]
        assert DocumentSequence.objects.filter(doc_type="T_NEVER").count() == 1
        assert SequenceCounter.objects.get(sequence__doc_type="T_NEVER").last_value == 20

    def test_a_rolled_back_transaction_gives_its_number_back(self):
        assert next_number("T_YEAR", on=DAY) == "EXP-2026-000001"
        with pytest.raises(RuntimeError), transaction.atomic():
            assert next_number("T_YEAR", on=DAY) == "EXP-2026-000002"
            raise RuntimeError("the document failed to save")
        assert next_number("T_YEAR", on=DAY) == "EXP-2026-000002"

    def test_a_rolled_back_first_number_leaves_no_gap(self):
        with pytest.raises(RuntimeError), transaction.atomic():
            next_number("T_MONTH", on=DAY)
            raise RuntimeError("the document failed to save")
        assert next_number("T_MONTH", on=DAY) == "ORD-202603-0001"


@pytest.mark.django_db
@pytest.mark.usefixtures("sequences")
class TestNumberRange:
    """next_numbers: a range for bulk imports, continuing and continued by next_number."""

    def test_a_range_follows_and_precedes_single_numbers(self):
        from marketdesk.core.numbering import next_numbers

        assert next_number("T_NEVER", on=DAY) == "CUS-00001"
        assert next_numbers("T_NEVER", 3, on=DAY) == ["CUS-00002", "CUS-00003", "CUS-00004"]
        assert next_number("T_NEVER", on=DAY) == "CUS-00005"
        assert next_numbers("T_NEVER", 0, on=DAY) == []

    def test_a_rolled_back_range_gives_its_numbers_back(self):
        from marketdesk.core.numbering import next_numbers

        with pytest.raises(RuntimeError), transaction.atomic():
            next_numbers("T_NEVER", 5, on=DAY)
            raise RuntimeError("import failed")
        assert next_numbers("T_NEVER", 2, on=DAY) == ["CUS-00001", "CUS-00002"]
