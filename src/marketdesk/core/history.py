"""Change history (django-simple-history) as this project uses it.

`HistoryDescriptor.__get__` (what `Model.history` and every history row written on save go
through) builds a new manager class on each access: `HistoryManager.from_queryset(...)`, which
walks the queryset class with `inspect.getmembers`. That is about 0.3-0.6 ms per save of a
tracked model, paid on every order, task and customer written. The class depends only on the
descriptor, so `cache_manager_classes()` (called from `CoreConfig.ready`) makes the descriptor
build it once and reuse it; the manager returned is the same as before. Checked against the
version pinned in pyproject.toml (tests/core/test_history.py)."""

from __future__ import annotations

from simple_history.manager import HistoryDescriptor


def _get(self, instance, owner):
    manager_class = self.__dict__.get("_marketdesk_manager_class")
    if manager_class is None:
        manager_class = self.manager_class.from_queryset(self.queryset_class)
        self._marketdesk_manager_class = manager_class
    return manager_class(self.model, instance)


def cache_manager_classes() -> None:
    if HistoryDescriptor.__get__ is not _get:
        HistoryDescriptor.__get__ = _get
