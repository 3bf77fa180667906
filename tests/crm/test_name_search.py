"""Customer search by name (crm/name_search.py): the bigram index (SQLite FTS5 kept by
triggers, PostgreSQL GIN on crm_bigrams(name_key)) finds exactly what `name_key__contains`
finds, and stays current when customers are created, renamed and deleted through the ORM;
a table rebuild that drops SQLite's triggers is repaired after migrate."""

from __future__ import annotations

import pytest
from django.db import connection

from marketdesk.crm import name_search, selectors
from marketdesk.crm.models import Customer

NAMES = [
    "苏州瑞丰精密机械有限公司",
    "杭州瑞丰贸易有限公司",
    "华东智联科技",
    "ABC Trading Ltd",
    "王",
]


def _found(text: str) -> set[int]:
    return set(
        Customer.objects.filter(selectors.search_condition(text)).values_list("pk", flat=True)
    )


def _expected(text: str) -> set[int]:
    from marketdesk.crm.matching import name_key

    key = name_key(text) or text.lower()
    return set(Customer.objects.filter(name_key__contains=key).values_list("pk", flat=True))


@pytest.mark.django_db
def test_search_matches_contains_and_follows_writes(make_customer, personas):
    customers = [make_customer(personas.manager, name=name) for name in NAMES]
    for text in [
        "瑞丰",
        "瑞丰精密",
        "州瑞",
        "智联科技",
        "abc",
        "trading",
        "王",
        "不存在",
        "丰贸易",
    ]:
        assert _found(text) == _expected(text), text
    assert _found("瑞丰") == {customers[0].pk, customers[1].pk}
    # Rename through the ORM: the index follows.
    Customer.objects.filter(pk=customers[0].pk).update(name_key="宁波恒达电子科技")
    assert _found("瑞丰") == {customers[1].pk}
    assert _found("恒达电子") == {customers[0].pk}
    customer = Customer.objects.get(pk=customers[1].pk)
    customer.name_key = "合肥宏远物流"
    customer.save()
    assert _found("瑞丰") == set()
    assert _found("宏远") == {customers[1].pk}
    # Delete: gone from the index too.
    Customer.objects.filter(pk=customers[1].pk).delete()
    assert _found("宏远") == set()


@pytest.mark.django_db
def test_mobile_prefix_is_a_range(make_customer, personas):
    customer = make_customer(personas.manager, name="移动前缀测试", mobile="13912345678")
    assert set(Customer.objects.filter(selectors.search_condition("1391234"))) == {customer}
    assert set(Customer.objects.filter(selectors.search_condition("139 1234 5678"))) == {customer}
    assert not Customer.objects.filter(selectors.search_condition("1391235")).exists()
    assert not Customer.objects.filter(selectors.search_condition("1399")).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite triggers only")
def test_dropped_triggers_are_repaired(make_customer, personas):
    customer = make_customer(personas.manager, name="南京嘉禾软件")
    with connection.cursor() as cursor:
        for trigger in name_search.TRIGGERS:
            cursor.execute("DROP TRIGGER " + trigger)  # what a table rebuild does
    Customer.objects.filter(pk=customer.pk).update(name_key="南京宝华软件")
    assert name_search.ensure_installed() is True
    assert _found("宝华") == {customer.pk}
    assert name_search.ensure_installed() is False


@pytest.mark.django_db
@pytest.mark.parametrize("common", [False, True])
def test_a_common_word_finds_the_same_rows(make_customer, personas, monkeypatch, common):
    """A word PostgreSQL's statistics call common is searched by plain conditions (so the
    list walks its sort index); the rows are the bigram index's rows."""
    monkeypatch.setattr(selectors, "_common_word", lambda key, actor, scene: common)
    customers = [make_customer(personas.manager, name=name) for name in NAMES]
    for text in ["瑞丰", "瑞丰精密", "州瑞", "智联科技", "abc", "trading", "不存在", "100%_"]:
        assert _found(text) == _expected(text), text
    assert _found(customers[2].number) == {customers[2].pk}
    assert _found(customers[2].number.lower()) == {customers[2].pk}


@pytest.mark.django_db
def test_only_a_wide_scope_searches_common_words_by_the_sort_index(personas, monkeypatch):
    monkeypatch.setattr(name_search, "is_common", lambda key, **kwargs: True)
    assert selectors._common_word("科技", personas.manager, "all")  # 营销部 and below
    assert selectors._common_word("科技", personas.management, "all")  # everything
    assert selectors._common_word("科技", personas.manager, "subordinates")  # many people
    assert not selectors._common_word("科技", personas.manager, "mine")
    assert selectors._common_word("科技", personas.sales1, "pool")  # the pool's own index
    assert not selectors._common_word("科技", personas.sales1, "all")  # own customers
    assert not selectors._common_word("科技", None, "all")
    assert not selectors._common_word("科技", personas.finance, "all")  # no customers


@pytest.mark.django_db
def test_is_common_reads_the_statistics_or_the_index_of_names(make_customer, personas, monkeypatch):
    for number in range(60):
        trade = "精密科技" if number % 3 == 0 else "贸易"
        make_customer(None, name=f"苏州{number:02d}号{trade}有限公司")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # (migration 0005 set the statistics target)
            cursor.execute("ANALYZE crm_customer")
    assert not name_search.is_common("科技")  # too few customers to bother
    monkeypatch.setattr(name_search, "COMMON_MATCHES", 5)
    assert name_search.is_common("科技")  # a third of the names
    assert name_search.is_common("精密科技")
    marketing = personas.units["MKT"].pk  # the pool's unit
    assert name_search.is_common("科技", department_ids={marketing})
    if connection.vendor == "postgresql":  # SQLite counts the candidates company-wide
        assert not name_search.is_common("科技", department_ids={personas.units["S2"].pk})
    assert not name_search.is_common("科技", department_ids=set())
    assert not name_search.is_common("罕见")
    assert not name_search.is_common("科")  # one character: the index as before
    assert not name_search.is_common("100%")
