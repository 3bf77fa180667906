"""The demo company is built in steps that each app registers (org first, later apps after)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoStep:
    order: int
    name: str
    run: Callable[[], str | None]
    # (username, name, what they do) rows to print after the demo is built, and their password
    logins: Callable[[], list[tuple[str, str, str]]] | None = None
    password: str = ""


_steps: dict[str, DemoStep] = {}


def register_demo_step(step: DemoStep) -> None:
    _steps[step.name] = step


def demo_steps() -> list[DemoStep]:
    return sorted(_steps.values(), key=lambda step: step.order)
