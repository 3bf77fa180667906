"""Registry of record owners that move when an employee leaves (离职继承).

Each app registers a function (from_user, to_user, actor) -> number of records moved; the
handover service calls them all in one transaction and logs the counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HandoverFunc = Callable[[Any, Any, Any], int]


@dataclass(frozen=True)
class HandoverTarget:
    key: str
    label: Any
    move: HandoverFunc


_targets: dict[str, HandoverTarget] = {}


def register_handover(target: HandoverTarget) -> None:
    _targets[target.key] = target


def handover_targets() -> list[HandoverTarget]:
    return list(_targets.values())


def unregister_handover(key: str) -> None:
    """Forget a target (tests, or an app that is switched off)."""
    _targets.pop(key, None)
