"""The change history's manager class is built once per tracked model (core.history), and the
history still works as django-simple-history documents it."""

from __future__ import annotations

import pytest
from simple_history.manager import HistoryDescriptor

from marketdesk.core.history import _get, cache_manager_classes
from marketdesk.org.models import Department

pytestmark = pytest.mark.django_db


def test_the_descriptor_reuses_one_manager_class():
    assert HistoryDescriptor.__get__ is _get  # installed by CoreConfig.ready
    cache_manager_classes()  # idempotent
    first, second = Department.history, Department.history
    assert type(first) is type(second)
    assert first.instance is None and first.model is Department.history.model


def test_history_rows_are_written_and_read_per_instance(personas):
    unit = personas.units["S1"]
    unit.name = "销售一组（华东）"
    unit.save()
    rows = list(unit.history.all())
    assert rows[0].name == "销售一组（华东）"
    assert all(row.id == unit.pk for row in rows)
    assert Department.history.filter(id=unit.pk).count() == len(rows)
