"""What higher apps (sales, service, loyalty) plug into the customer pages, the customer
analysis page and customer moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CustomerPanel:
    """A panel on the customer 360 page (orders, receipts, tickets, loyalty...).

    `render(actor, customer)` returns HTML (already escaped/safe) or "" to hide the panel;
    `permission` hides it from users without it."""

    key: str
    label: Any
    render: Callable[[Any, Any], str]
    order: int = 100
    permission: str | None = None


@dataclass(frozen=True)
class AnalysisSection:
    """A section at the end of the customer analysis page (sales: RFM segments).

    `render(actor, filters)` returns HTML (already escaped/safe) or "" to hide the section;
    `filters` holds the page's period (`start`, `end`); `permission` hides it from users
    without it."""

    key: str
    label: Any
    render: Callable[[Any, dict], str]
    order: int = 100
    permission: str | None = None


OwnerChangeHook = Callable[..., int]  # (customer=, from_user=, to_user=, actor=) -> records moved

_panels: dict[str, CustomerPanel] = {}
_owner_hooks: dict[str, OwnerChangeHook] = {}
_analysis_sections: dict[str, AnalysisSection] = {}


def register_customer_panel(panel: CustomerPanel) -> None:
    _panels[panel.key] = panel


def customer_panels(actor) -> list[CustomerPanel]:
    return sorted(
        (p for p in _panels.values() if not p.permission or actor.has_perm(p.permission)),
        key=lambda p: p.order,
    )


def register_owner_change_hook(key: str, hook: OwnerChangeHook) -> None:
    """Called inside the transaction when a customer is transferred with cascade (e.g. sales
    moves the customer's open opportunities and orders to the new owner)."""
    _owner_hooks[key] = hook


def owner_change_hooks() -> list[OwnerChangeHook]:
    return list(_owner_hooks.values())


def register_analysis_section(section: AnalysisSection) -> None:
    _analysis_sections[section.key] = section


def analysis_sections(actor) -> list[AnalysisSection]:
    return sorted(
        (
            s
            for s in _analysis_sections.values()
            if not s.permission or actor.has_perm(s.permission)
        ),
        key=lambda s: s.order,
    )
