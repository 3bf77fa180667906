"""Small timing helpers shared by the scenarios: wall-clock samples, percentiles, query counts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Figure:
    """One printed line: `name: value unit`."""

    name: str
    value: float
    unit: str

    def __str__(self) -> str:
        if isinstance(self.value, int) or float(self.value).is_integer():
            shown = f"{int(self.value)}"
        else:
            shown = f"{self.value:.1f}" if abs(self.value) >= 10 else f"{self.value:.2f}"
        return f"{self.name}: {shown} {self.unit}"


def samples_ms(func: Callable[[], object], *, repeat: int, warmup: int = 2) -> list[float]:
    """Call `func` `warmup` times untimed, then `repeat` times; each call's duration in ms."""
    for _ in range(warmup):
        func()
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def percentile(values: list[float], pct: int) -> float:
    """The pct-th percentile (1..99) with statistics.quantiles' inclusive method."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def p50_p95(prefix: str, values: list[float]) -> Iterator[Figure]:
    yield Figure(f"{prefix}_p50", percentile(values, 50), "ms")
    yield Figure(f"{prefix}_p95", percentile(values, 95), "ms")


def count_queries(func: Callable[[], object]) -> int:
    """How many SQL statements one call of `func` sends on the default connection."""
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)
