"""Registries that lower layers define and higher apps fill (ARCHITECTURE.md: lower apps never
import higher ones). Each app registers in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class RecordType:
    """How the kernel (attachments, comments, activities) finds a record a user may see/change."""

    model: type[Model]
    visible: Callable[[Any], QuerySet]  # (actor) -> queryset of records the actor may see
    editable: Callable[[Any, Model], bool]  # (actor, record) -> may the actor change it


_record_types: dict[str, RecordType] = {}


def register_record_type(record_type: RecordType) -> None:
    _record_types[record_type.model._meta.label_lower] = record_type


def record_type_for(label: str) -> RecordType | None:
    return _record_types.get(label)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any
    url_name: str
    icon: str
    permission: str | None = None  # shown when the user has it (None: every signed-in user)
    group: Any = ""
    order: int = 100


_nav: list[NavItem] = []


def register_nav(item: NavItem) -> None:
    if all(existing.key != item.key for existing in _nav):
        _nav.append(item)


def nav_items() -> list[NavItem]:
    return sorted(_nav, key=lambda item: item.order)


@dataclass
class TodoItem:
    """One line on the workbench: a count and a link (follow-ups due, approvals waiting...)."""

    key: str
    label: Any
    count: int
    url: str = ""
    level: str = "primary"
    items: list[dict] = field(default_factory=list)


TodoProvider = Callable[[Any], Iterable[TodoItem]]
_todo_providers: list[TodoProvider] = []


def register_todo_provider(provider: TodoProvider) -> None:
    if provider not in _todo_providers:
        _todo_providers.append(provider)


def todo_items(actor: Any) -> list[TodoItem]:
    items: list[TodoItem] = []
    for provider in _todo_providers:
        items.extend(provider(actor))
    return items


@dataclass(frozen=True)
class SearchHit:
    kind: Any
    title: str
    subtitle: str
    url: str


SearchProvider = Callable[[Any, str, int], Iterable[SearchHit]]
_search_providers: list[SearchProvider] = []


def register_search_provider(provider: SearchProvider) -> None:
    if provider not in _search_providers:
        _search_providers.append(provider)


def global_search(actor: Any, text: str, limit: int = 8) -> list[SearchHit]:
    hits: list[SearchHit] = []
    for provider in _search_providers:
        hits.extend(provider(actor, text, limit))
    return hits


# Timeline entries from other apps (e.g. approval steps on a document's timeline).
TimelineProvider = Callable[[Any], Iterable[Any]]  # (record) -> timeline entries
_timeline_providers: list[TimelineProvider] = []


def register_timeline_provider(provider: TimelineProvider) -> None:
    if provider not in _timeline_providers:
        _timeline_providers.append(provider)


def timeline_providers() -> list[TimelineProvider]:
    return list(_timeline_providers)
