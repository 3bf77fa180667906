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
    return timed(func, repeat=repeat, warmup=warmup)[0]


def timed(
    func: Callable[[], object], *, repeat: int, warmup: int = 2
) -> tuple[list[float], list[float]]:
    """(wall-clock ms, this process's CPU ms) of each of `repeat` calls after `warmup` calls.

    CPU time (time.process_time) leaves out the time spent waiting for a CPU on a busy machine
    and for another process (PostgreSQL); on SQLite, which runs in-process, it includes the
    database work."""
    for _ in range(warmup):
        func()
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        func()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return wall, cpu


def percentile(values: list[float], pct: int) -> float:
    """The pct-th percentile (1..99) with statistics.quantiles' inclusive method."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def p50_p95(prefix: str, values: list[float]) -> Iterator[Figure]:
    yield Figure(f"{prefix}_p50", percentile(values, 50), "ms")
    yield Figure(f"{prefix}_p95", percentile(values, 95), "ms")


def wall_and_cpu(prefix: str, func: Callable[[], object], *, repeat: int) -> Iterator[Figure]:
    """p50/p95 wall-clock figures, then the p50 of this process's CPU time (`<prefix>_cpu_p50`)."""
    wall, cpu = timed(func, repeat=repeat)
    yield from p50_p95(prefix, wall)
    yield Figure(f"{prefix}_cpu_p50", percentile(cpu, 50), "ms")


def count_queries(func: Callable[[], object]) -> int:
    """How many SQL statements one call of `func` sends on the default connection."""
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)
