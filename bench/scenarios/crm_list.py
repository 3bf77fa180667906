"""CRM customer list: scoped, filtered by owner and stage, sorted by last contact, 50 a page.

On `--size` customers (default 1,000,000, two contacts each; bench/crm_generators.py) it
measures, for a salesperson (scene "mine"), a group leader, the marketing manager and
management, each filtered as the list's filter bar does (owner and/or stage), sorted by last
contact (newest first), 50 rows a page:

- `crm_list_<case>_<page>_query`: the database work alone: `selectors.customer_list(actor)`
  + the same filters, `order_by("-last_contact_at", "-pk")`, the page's count (capped at
  `selectors.LIST_PAGE_COUNT_CAP`, 1,000 rows) and the 50 rows of the page;
- `crm_list_<case>_<page>_page`: the real page `GET /crm/customers/?...` through the test
  Client (when crm/urls.py has `customer_list`), and `..._api` for
  `GET /api/v1/crm/customers/?...` (when the API is routed);
- `crm_list_<case>_first_count`: `GET /crm/customers/count/?...`, the total up to 10,000 that
  a page with more than 1,000 rows loads through htmx once its rows are shown;

for the first page and page 200 ("deep"), REPEAT timed calls after 2 warm-up calls: wall
p50/p95 and the CPU p50 of this process, SQL statements per request, the rows each case
matches, and the deep/first ratio of the p50s. The page reaches page 200 as its "Next" link
does, by cursor (`?after=` the last row of page 199; core.listing keyset paging), so the deep
query and page are the cursor query plus the capped count; the API's deep page is read the same
way, by the cursor its `next` link carries (core.api.KeysetPagination)."""

from __future__ import annotations

from django.test import Client
from django.urls import NoReverseMatch, reverse

from bench.crm_generators import prepare
from bench.scenarios._crm import crm_actors, deep_page, login, probe
from bench.timing import Figure, count_queries, percentile, timed
from marketdesk.core.listing import _encode_cursor, _rows_after
from marketdesk.crm import selectors
from marketdesk.crm.models import Customer

DEFAULT_SIZE = 1_000_000
NEEDS_ORG = False
REPEAT = 30
PAGE_REPEAT = 20
PER_PAGE = 50
DEEP_PAGE = 200
ORDER = ("-last_contact_at", "-pk")


def _cases(actors) -> list[tuple[str, object, str, dict]]:
    """(case, actor, scene, filters)."""
    member = actors["member"]
    return [
        ("salesperson_mine_stage", actors["salesperson"], "mine", {"stage": "intention"}),
        ("leader_owner_stage", actors["leader"], "all", {"owner": member, "stage": "intention"}),
        ("manager_owner_stage", actors["manager"], "all", {"owner": member, "stage": "intention"}),
        ("manager_stage", actors["manager"], "all", {"stage": "intention"}),
        ("management_stage", actors["management"], "all", {"stage": "intention"}),
        ("management_all", actors["management"], "all", {}),
    ]


def _queryset(actor, scene, filters):
    queryset = selectors.customer_list(actor, scene=scene)
    owner = filters.get("owner")
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    if filters.get("stage"):
        queryset = queryset.filter(stage=filters["stage"])
    return queryset.order_by(*ORDER)


def _params(scene, filters, page) -> str:
    parts = [f"scene={scene}", "sort=-last_contact", f"per_page={PER_PAGE}", f"page={page}"]
    if filters.get("owner") is not None:
        parts.append(f"owner={filters['owner'].pk}")
    if filters.get("stage"):
        parts.append(f"stage={filters['stage']}")
    return "&".join(parts)


def _figures(name, func, repeat):
    wall, cpu = timed(func, repeat=repeat)
    yield Figure(f"{name}_p50", percentile(wall, 50), "ms")
    yield Figure(f"{name}_p95", percentile(wall, 95), "ms")
    yield Figure(f"{name}_cpu_p50", percentile(cpu, 50), "ms")
    return percentile(wall, 50)


def run(*, org, size, note):
    org, customers = prepare(size, note)
    yield Figure("crm_customers", customers, "rows")
    actors = crm_actors(org)
    try:
        page_url = reverse("crm:customer_list")
        count_url = reverse("crm:customer_list_count")
    except NoReverseMatch:
        page_url = count_url = None
        note("crm:customer_list is not routed yet: measuring the selector only")
    api_url = "/api/v1/crm/customers/"
    for case, actor, scene, filters in _cases(actors):
        rows = _queryset(actor, scene, filters).count()
        yield Figure(f"crm_list_{case}_rows", rows, "rows")
        pages = {"first": 1, "deep": deep_page(rows, PER_PAGE, DEEP_PAGE)}
        if pages["deep"] == 1:
            del pages["deep"]  # one page only
        note(f"{case}: {rows} rows; deep page = {pages.get('deep', 1)}")
        client = login(Client(), actor) if page_url else None
        p50s: dict[tuple[str, str], float] = {}
        for label, page in pages.items():
            offset = (page - 1) * PER_PAGE
            cursor_row = _queryset(actor, scene, filters)[offset - 1] if offset else None
            after = _encode_cursor(cursor_row, "last_contact_at") if cursor_row else ""
            cursor = (cursor_row.last_contact_at, cursor_row.pk) if cursor_row else None

            def query(actor=actor, scene=scene, filters=filters, cursor=cursor):
                queryset = _queryset(actor, scene, filters)
                selectors.capped_count(queryset, selectors.LIST_PAGE_COUNT_CAP)
                if cursor is None:
                    return list(queryset[:PER_PAGE])
                return _rows_after(queryset, "last_contact_at", True, cursor, PER_PAGE)

            p50s[("query", label)] = yield from _figures(
                f"crm_list_{case}_{label}_query", query, REPEAT
            )
            if page_url is None:
                continue
            kinds = [("page", page_url), ("api", api_url)]
            if label == "first" and count_url:
                kinds.append(("count", count_url))
            for kind, url in kinds:
                target = f"{url}?{_params(scene, filters, page)}"
                if after:  # the page and the API both page by cursor
                    target += f"&after={after}"
                if not probe(client, target, {}, note):
                    continue

                def get(target=target, client=client):
                    response = client.get(target, secure=True)
                    assert response.status_code == 200, (target, response.status_code)
                    return response

                size_kb = len(get().content) / 1024
                p50s[(kind, label)] = yield from _figures(
                    f"crm_list_{case}_{label}_{kind}", get, PAGE_REPEAT
                )
                yield Figure(
                    f"crm_list_{case}_{label}_{kind}_queries", count_queries(get), "queries"
                )
                if kind == "page":
                    yield Figure(f"crm_list_{case}_{label}_{kind}_kb", size_kb, "KB")
        for kind in ("query", "page", "api"):
            if (kind, "deep") in p50s and p50s[(kind, "first")]:
                ratio = p50s[(kind, "deep")] / p50s[(kind, "first")]
                yield Figure(f"crm_list_{case}_{kind}_deep_vs_first", ratio, "x")
    visible = Customer.objects.count()
    note(f"{visible} customers in the database after the run")
