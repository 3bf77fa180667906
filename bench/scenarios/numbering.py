"""Document numbers (core.numbering.next_number) per second from 1 thread and from 4 threads.

Each number is taken in its own transaction, as a service would; every tenth transaction of
the threaded run is rolled back after taking its number, to show that a rolled-back number
is handed out again (no gaps). The figures include the duplicates and gaps found (both must
be 0)."""

from __future__ import annotations

import threading
import time

from django.db import connection, transaction

from bench.timing import Figure
from marketdesk.core.numbering import SequenceDefault, next_number, register_sequence

NEEDS_ORG = False
SINGLE = 2000  # numbers taken by the single thread
THREADS = 4
PER_THREAD = 500  # transactions per thread in the threaded run
DOC_TYPE = "BENCH"


class _Rollback(Exception):
    pass


def _value(number: str) -> int:
    return int(number.rsplit("-", 1)[-1])


def _take(count: int, kept: list[str], errors: list[BaseException], rollback_every: int = 0):
    try:
        for index in range(count):
            try:
                with transaction.atomic():
                    number = next_number(DOC_TYPE)
                    if rollback_every and index % rollback_every == rollback_every - 1:
                        raise _Rollback
                kept.append(number)
            except _Rollback:
                pass
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)
    finally:
        connection.close()


def _check(numbers: list[str], name: str):
    values = sorted(_value(n) for n in numbers)
    duplicates = len(values) - len(set(values))
    gaps = (values[-1] - values[0] + 1 - len(set(values))) if values else 0
    yield Figure(f"{name}_duplicates", duplicates, "numbers")
    yield Figure(f"{name}_gaps", gaps, "numbers")


def run(*, org, size, note):
    register_sequence(SequenceDefault(DOC_TYPE, "Benchmark", "BEN"))

    kept: list[str] = []
    errors: list[BaseException] = []
    started = time.perf_counter()
    _take(SINGLE, kept, errors)
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    yield Figure("numbering_1_thread", SINGLE / seconds, "numbers/s")
    yield from _check(kept, "numbering_1_thread")

    kept, errors = [], []
    threads = [
        threading.Thread(target=_take, args=(PER_THREAD, kept, errors, 10)) for _ in range(THREADS)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    note(
        f"{THREADS} threads: {len(kept)} numbers kept, {THREADS * PER_THREAD - len(kept)} rolled back"
    )
    yield Figure(f"numbering_{THREADS}_threads", THREADS * PER_THREAD / seconds, "numbers/s")
    yield from _check(kept, f"numbering_{THREADS}_threads")
