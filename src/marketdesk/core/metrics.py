"""Business figures that one app provides and another reads, without importing each other
(e.g. finance's cost per customer won needs "customers won" from crm).

A provider registers `fn(*, department_ids, start, end) -> {department_id: Decimal}`; a reader
calls `metric(key, ...)` and gets {} while no app provides the key (the page shows "—")."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

MetricFn = Callable[..., dict[int, Decimal]]

# Keys known today; the providing apps register them when they exist.
CUSTOMERS_WON = "crm.customers_won"
ORDER_AMOUNT = "sales.order_amount"


@dataclass(frozen=True)
class Metric:
    key: str
    label: Any
    fn: MetricFn


_metrics: dict[str, Metric] = {}


def register_metric(key: str, label: Any, fn: MetricFn) -> None:
    _metrics[key] = Metric(key, label, fn)


def unregister_metric(key: str) -> None:
    """Forget a provider (tests)."""
    _metrics.pop(key, None)


def has_metric(key: str) -> bool:
    return key in _metrics


def metric(
    key: str,
    *,
    department_ids: Iterable[int],
    start: datetime.date,
    end: datetime.date,
) -> dict[int, Decimal]:
    """{department id: value} from the registered provider, or {} when there is none."""
    provider = _metrics.get(key)
    if provider is None:
        return {}
    values = provider.fn(department_ids=list(department_ids), start=start, end=end)
    return {int(k): Decimal(v) for k, v in values.items()}
