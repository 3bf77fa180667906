"""Keyset paging (core.listing.list_page(keyset=True)): walking "Next" from page 1 by cursor
gives exactly the rows of the OFFSET pages, in order, for both directions, with ties and
with rows that have no value (NULL sorts first on PostgreSQL, last on SQLite)."""

from __future__ import annotations

import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone

from marketdesk.core.listing import KeysetPage, list_page
from marketdesk.crm.models import Customer

SORTS = {"last_contact": "last_contact_at", "name": "name_key", "created": "created_at"}


@pytest.fixture
def customers(personas):
    from tests.crm.factories import make_customer_factory

    make = make_customer_factory()
    base = timezone.make_aware(datetime.datetime(2026, 3, 1, 9, 0))
    rows = [make(personas.sales1) for _ in range(45)]
    for index, customer in enumerate(rows):
        # 15 never contacted; the rest in 10 distinct moments (ties broken by id)
        moment = None if index % 3 == 0 else base + datetime.timedelta(hours=index % 10)
        Customer.objects.filter(pk=customer.pk).update(last_contact_at=moment)
    return rows


def _walk(sort: str) -> list[int]:
    factory = RequestFactory()
    seen: list[int] = []
    params = {"sort": sort, "per_page": "20"}
    for _ in range(10):
        result = list_page(
            factory.get("/", params),
            Customer.objects.all(),
            sorts=SORTS,
            default_sort="-last_contact",
            keyset=True,
        )
        assert isinstance(result.page, KeysetPage)
        seen += [row.pk for row in result.rows]
        if not result.page.has_next():
            return seen
        params = {
            "sort": sort,
            "per_page": "20",
            "page": str(result.page.next_page_number()),
            "after": result.next_cursor,
        }
    raise AssertionError("more pages than rows")


@pytest.mark.parametrize("sort", ["-last_contact", "last_contact", "name", "-created"])
def test_walking_next_gives_every_row_once_in_the_offset_order(customers, sort):
    field = SORTS[sort.lstrip("-")]
    expected = list(
        Customer.objects.order_by(
            f"-{field}" if sort.startswith("-") else field, "-pk"
        ).values_list("pk", flat=True)
    )
    assert _walk(sort) == expected
    assert len(expected) == 45


def test_a_cursor_that_is_not_ours_falls_back_to_the_numbered_page(customers):
    result = list_page(
        RequestFactory().get("/", {"after": "not-a-cursor!", "page": "1"}),
        Customer.objects.all(),
        sorts=SORTS,
        default_sort="-last_contact",
        keyset=True,
    )
    assert result.page.number == 1
    assert len(result.rows) == 20


def test_the_customer_list_page_links_next_with_a_cursor(customers, client_for, personas):
    response = client_for(personas.sales1).get("/crm/customers/?per_page=20")
    assert response.status_code == 200
    assert "after=" in response.content.decode()
