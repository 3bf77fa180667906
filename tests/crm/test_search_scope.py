"""A narrow scene (own customers, a team, a group) is searched from its own indexes
(`selectors._scope_branches`: owner, units, team shares); the rows, their order, the capped
counts, the pages and the cursor are those of the plain search, for every role and scene."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Q
from django.test import RequestFactory
from django.urls import reverse

from marketdesk.core import services as core_services
from marketdesk.crm import selectors, services
from marketdesk.crm.matching import name_key
from marketdesk.crm.models import Customer
from marketdesk.crm.selectors import Scene
from marketdesk.crm.views import _segment_count

pytestmark = pytest.mark.django_db

ORDER = ("-last_contact_at", "-pk")
PEOPLE = [
    "sales1",
    "sales1b",
    "leader1",
    "leader2",
    "sales2",
    "manager",
    "management",
    "promo",
    "service",
    "finance",
    "admin",
    "outsider",
]
SCENES = [Scene.ALL, Scene.MINE, Scene.TEAM, Scene.SUBORDINATES, Scene.POOL]
OWNERS = {"sales1": 14, "sales1b": 9, "leader1": 6, "sales2": 6, None: 3}


@pytest.fixture
def book(personas, make_customer, now):
    """Customers of group 1 (most names with the word 科技), of group 2 (two of them shared with
    group 1) and of the pool; last contacts with ties and gaps, so the order needs the id."""
    customers = []
    for owner, count in OWNERS.items():
        user = getattr(personas, owner) if owner else None
        for i in range(count):
            trade = "贸易" if i % 4 == 0 else "科技"
            customers.append(make_customer(user, name=f"苏州瑞丰{owner or '公海'}{i:02d}{trade}"))
    for n, customer in enumerate(customers):
        contact = None if n % 7 == 3 else now - datetime.timedelta(days=n % 5)  # ties
        Customer.objects.filter(pk=customer.pk).update(last_contact_at=contact)
    theirs = [c for c in customers if c.owner_id == personas.sales2.pk]
    core_services.record_share(
        actor=personas.sales2, record=theirs[1], user=personas.sales1, access="read"
    )
    core_services.record_share(
        actor=personas.sales2, record=theirs[2], user=personas.leader1, access="write"
    )
    return customers


@pytest.fixture
def no_estimate(monkeypatch):
    """No estimate of a word's names (as for one character): the scope's size decides,
    counted (PostgreSQL's estimate of a tiny, new table would be a guess)."""
    monkeypatch.setattr(selectors.name_search, "expected_matches", lambda key, **kw: None)
    monkeypatch.setattr(
        selectors.name_search, "more_rows_than", lambda rows, limit: rows.count() > limit
    )


def _texts(book) -> list[str]:
    return ["科技", "瑞丰科技", "贸易", "苏州", book[5].number, book[5].number.lower(), "不存在"]


def _plain(actor, scene: str, text: str):
    """The search written out: the scene's customers whose name, or number, matches."""
    key = name_key(text) or text.lower()
    return selectors.customer_list(actor, scene=scene).filter(
        Q(name_key__contains=key) | Q(number=text.upper())
    )


def _ids(queryset) -> list[int]:
    return list(queryset.order_by(*ORDER).values_list("pk", flat=True))


@pytest.mark.usefixtures("no_estimate")
def test_narrow_scenes_are_searched_from_the_scope(personas, book):
    def branches(actor, scene):
        return selectors._scope_branches(actor, scene, "科技")

    assert len(branches(personas.leader1, Scene.ALL)) == 3  # own, the group, shared
    assert len(branches(personas.sales1, Scene.ALL)) == 2  # own, shared
    assert len(branches(personas.manager, Scene.MINE)) == 1
    assert len(branches(personas.management, Scene.TEAM)) == 1
    assert len(branches(personas.leader1, Scene.SUBORDINATES)) == 1
    assert branches(personas.management, Scene.ALL) is None  # every customer
    assert branches(personas.leader1, Scene.POOL) is None
    assert branches(personas.finance, Scene.ALL) is None  # no customers at all
    assert branches(None, Scene.ALL) is None


@pytest.mark.usefixtures("no_estimate")
def test_a_scope_with_many_customers_is_not_narrow(personas, book, monkeypatch):
    def branches(actor, scene):
        return selectors._scope_branches(actor, scene, "科技")

    monkeypatch.setattr(selectors, "NARROW_SCOPE", 20)  # group 1 holds 29
    assert branches(personas.leader1, Scene.ALL) is None
    assert branches(personas.sales1, Scene.ALL) is not None  # 14
    monkeypatch.setattr(selectors, "NARROW_UNITS", 0)
    assert branches(personas.leader1, Scene.ALL) is None
    assert branches(personas.leader1, Scene.SUBORDINATES) is None


@pytest.mark.usefixtures("no_estimate")
def test_a_word_rarer_than_the_scope_is_customers_goes_through_the_name_index(
    personas, book, monkeypatch
):
    """A word expected in fewer names than the scope holds customers."""
    expected = {"科技": 29, "罕见": 28}  # group 1 holds 29 customers
    monkeypatch.setattr(
        selectors.name_search, "expected_matches", lambda key, **kw: expected.get(key)
    )
    assert selectors._scope_branches(personas.leader1, Scene.ALL, "科技") is not None
    assert selectors._scope_branches(personas.leader1, Scene.ALL, "罕见") is None
    assert selectors._scope_branches(personas.leader1, Scene.ALL, "贸") is not None  # no estimate
    assert selectors._scope_branches(personas.leader1, Scene.TEAM, "罕见") is not None


@pytest.mark.parametrize("mode", ["narrow", "estimated", "plain", "common"])
def test_every_role_and_scene_finds_the_same_rows_in_the_same_order(
    personas, book, monkeypatch, request, mode
):
    if mode == "narrow":  # every scope the size allows, whatever the word
        request.getfixturevalue("no_estimate")
    if mode in ("plain", "common"):  # the bigram index, or the plain word if wide
        monkeypatch.setattr(selectors, "_scope_branches", lambda actor, scene, key: None)
    if mode == "common":  # every word common: wide scenes walk the sort index
        monkeypatch.setattr(selectors.name_search, "is_common", lambda key, **kw: True)
    assert _every_search_is_the_plain_one(personas, book) > 100


def _every_search_is_the_plain_one(personas, book) -> int:
    """Every person, scene and word: customer_search gives the plain search's rows in its
    order, and its capped counts; returns the rows seen."""
    seen = 0
    for who in PEOPLE:
        actor = getattr(personas, who)
        for scene in SCENES:
            for text in _texts(book):
                expected = _ids(_plain(actor, scene, text))
                found = selectors.customer_search(actor=actor, text=text, scene=scene)
                assert _ids(found) == expected, (who, scene, text)
                for cap in (3, 1_000):
                    assert selectors.capped_count(found, cap) == min(len(expected), cap + 1)
                seen += len(expected)
    return seen


@pytest.mark.usefixtures("no_estimate")
@pytest.mark.parametrize("who", ["leader1", "sales1", "manager"])
def test_the_list_page_pages_and_cursor_are_the_same(personas, book, client_for, monkeypatch, who):
    """Page 1, page 2 by number and page 2 by cursor of `?scene=all&q=科技`, 20 a page."""
    url = reverse("crm:customer_list")

    def pages() -> list:
        client = client_for(getattr(personas, who))
        params = {"scene": "all", "q": "科技", "per_page": 20, "sort": "-last_contact"}
        first = client.get(url, params).context["result"]
        second = client.get(url, {**params, "page": 2}).context["result"]
        shown = [
            [c.pk for c in first.rows],
            [c.pk for c in second.rows],
            first.page.paginator.count,
        ]
        if first.next_cursor:
            after = client.get(url, {**params, "after": first.next_cursor}).context["result"]
            shown.append([c.pk for c in after.rows])
        return shown

    narrow = pages()
    monkeypatch.setattr(selectors, "_scope_branches", lambda actor, scene, key: None)
    assert narrow == pages()
    expected = _ids(_plain(getattr(personas, who), Scene.ALL, "科技"))
    assert narrow[0] == expected[:20]
    assert narrow[2] == len(expected)
    if len(expected) > 20:
        assert narrow[1] == narrow[3] == expected[20:40]


def test_the_estimates_of_a_word_and_of_a_scope(personas, book):
    from django.db import connection

    from marketdesk.crm import name_search

    assert name_search.expected_matches("科", at_most=100) is None  # one character
    rows = Customer.objects.filter(owner=personas.sales1).values("pk")  # 14 customers
    nobody = Customer.objects.filter(owner_id__in=[]).values("pk")
    assert not name_search.more_rows_than(nobody, 0)
    if connection.vendor == "sqlite":  # the FTS5 index's candidates, counted
        named = Customer.objects.filter(name_key__contains="科技").count()
        assert name_search.expected_matches("科技", at_most=100) == named == 26
        assert name_search.expected_matches("科技", at_most=5) == 5
        assert name_search.expected_matches("罕见", at_most=100) == 0
        assert name_search.more_rows_than(rows, 13) and not name_search.more_rows_than(rows, 14)
        return
    with connection.cursor() as cursor:  # PostgreSQL's estimates
        cursor.execute("ANALYZE crm_customer")
    assert name_search.expected_matches("科技", at_most=5) >= 1
    assert name_search.more_rows_than(rows, 0)
    assert not name_search.more_rows_than(rows, Customer.objects.count())


@pytest.mark.usefixtures("no_estimate")
@pytest.mark.parametrize("who", ["leader1", "sales1"])
def test_the_api_and_a_saved_segment_search_the_same_way(personas, book, api_for, who):
    """GET /api/v1/crm/customers/?q= and a saved segment's count on the list page."""
    actor = getattr(personas, who)
    expected = _ids(_plain(actor, Scene.ALL, "科技"))
    api = api_for(actor)
    page = api.get("/api/v1/crm/customers/", {"q": "科技", "page_size": 200}).json()
    assert [row["id"] for row in page["results"]] == expected
    segment = services.segment_save(actor=actor, name="科技", query="scene=all&q=科技")

    request = RequestFactory().get("/")
    request.user = actor
    assert _segment_count(request, segment) == str(len(expected))  # the badge text


@pytest.mark.parametrize("text", ["", "科技", "贸易"])
def test_many_subordinates_as_a_subquery_are_the_same_rows(personas, book, monkeypatch, text):
    """ "My subordinates" with many people is a subquery of them (tested row by row on
    SQLite), with few a list of ids: the same rows either way."""

    def ids(actor):
        rows = selectors.customer_list(actor, scene=Scene.SUBORDINATES)
        if text:
            rows = rows.filter(selectors.search_condition(text, actor=actor, scene="subordinates"))
        return _ids(rows)

    for who in PEOPLE:
        actor = getattr(personas, who)
        few = ids(actor)
        monkeypatch.setattr(selectors, "NARROW_UNITS", 0)
        assert ids(actor) == few, who
        monkeypatch.setattr(selectors, "NARROW_UNITS", 200)
    assert ids(personas.manager)  # the manager's people own customers


def test_a_long_subtree_is_searched_from_its_unit_index_on_postgresql(personas, book, monkeypatch):
    """A subtree past NARROW_UNITS units holding not many more customers than the word's names
    (UNIT_SCAN_RATIO) is searched from its branches on PostgreSQL (the unit index includes the
    name); SQLite keeps the other paths. The same rows and order either way, also where the
    branches replace the scope's filter (customer_search)."""
    from django.db import connection

    monkeypatch.setattr(selectors, "NARROW_UNITS", 0)
    monkeypatch.setattr(selectors.name_search, "expected_matches", lambda key, **kw: 1_000)
    monkeypatch.setattr(  # counted: PostgreSQL's estimate of a tiny new table is a guess
        selectors.name_search, "more_rows_than", lambda rows, limit: rows.count() > limit
    )
    branches = selectors._scope_branches(personas.manager, Scene.ALL, "科技")
    if connection.vendor == "postgresql":
        assert branches is not None and len(branches) == 3  # own, the units, shared
    else:
        assert branches is None
    assert _every_search_is_the_plain_one(personas, book) > 100
    monkeypatch.setattr(selectors.name_search, "expected_matches", lambda key, **kw: 1)
    assert selectors._scope_branches(personas.manager, Scene.ALL, "科技") is None  # rare word


@pytest.mark.usefixtures("no_estimate")
def test_the_branches_replace_the_scope_filter_only_where_they_are_the_scene(personas, book):
    """customer_search leaves out the scope's filter only for the "all I may see", mine and
    team scenes searched from their branches (their union is the scene's customers)."""
    assert selectors._search("科技", actor=personas.leader1, scene=Scene.ALL)[1]
    assert selectors._search("科技", actor=personas.sales1, scene=Scene.MINE)[1]
    assert selectors._search("科技", actor=personas.sales1, scene=Scene.TEAM)[1]
    assert not selectors._search("科技", actor=personas.leader1, scene=Scene.SUBORDINATES)[1]
    assert not selectors._search("科技", actor=personas.management, scene=Scene.ALL)[1]
    assert not selectors._search("科技", actor=personas.sales1, scene=Scene.POOL)[1]
    assert not selectors._search("1390000", actor=personas.sales1, scene=Scene.ALL)[1]
    assert not selectors._search("", actor=personas.sales1, scene=Scene.ALL)[1]
