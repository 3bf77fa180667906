"""CRM customer search by name fragment and by mobile (prefix and whole number).

On `--size` customers (default 1,000,000) it searches as the marketing manager (营销部 and
below), management (everything), a group leader (own group, own and shared customers) and a
salesperson (own and shared customers):

- `crm_search_<actor>_<what>_query`: `selectors.customer_search(actor=..., text=...)`
  ordered by last contact: the count capped at `selectors.SEARCH_COUNT_CAP` (1,000) and the
  first 50 rows (what the list page sends; before 2026-11-28 a full `count()`);
- `crm_search_<actor>_<what>_page`: `GET /crm/customers/?scene=all&q=...` through the test
  Client (when routed; not for the salesperson);

where <what> is `name2` (a two-character brand of a generated company, e.g. 瑞丰: tens to
hundreds of matches), `name4` (city + brand, e.g. 苏州瑞丰: a handful), `name_common` (a
trade word of many names, e.g. 精密机械: tens of thousands), `mobile7` (the first 7 digits of
a contact's mobile) and `mobile11` (a customer's whole mobile). REPEAT timed calls after 2
warm-up calls, each with a different word of the same kind: wall p50/p95, CPU p50, matches.

Then the common trade words in other scenes (`SCENE_CASES`, query only, SCENE_REPEAT calls):
the regional director's "all I may see" (a 200-odd-unit subtree), the marketing manager's
"my subordinates" (most of the company's people) and a salesperson's pool:
`crm_search_<actor>_<scene>_name_common_query_*`."""

from __future__ import annotations

import random

from django.test import Client
from django.urls import NoReverseMatch, reverse

from bench.crm_generators import BRAND_CHARS, PLACES, prepare
from bench.scenarios._crm import crm_actors, login, probe
from bench.timing import Figure, percentile, timed
from marketdesk.crm import selectors
from marketdesk.crm.models import Contact, Customer

DEFAULT_SIZE = 1_000_000
NEEDS_ORG = False
REPEAT = 30
PAGE_REPEAT = 15
PER_PAGE = 50
SCENE_REPEAT = 10
SCENE_CASES = (("region", "all"), ("manager", "subordinates"), ("salesperson", "pool"))


def _words(kind: str, rng: random.Random, count: int) -> list[str]:
    if kind == "name2":
        return ["".join(rng.choices(BRAND_CHARS, k=2)) for _ in range(count)]
    if kind == "name4":
        return [
            rng.choice(PLACES)[1] + "".join(rng.choices(BRAND_CHARS, k=2)) for _ in range(count)
        ]
    if kind == "name_common":
        common = [
            "精密机械",
            "电子科技",
            "信息技术",
            "商贸",
            "医疗器械",
            "物流",
            "建设工程",
            "食品",
        ]
        return [common[i % len(common)] for i in range(count)]
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    picks = [rng.randrange(1, top + 1) for _ in range(count * 4)]
    if kind == "mobile7":
        mobiles = list(
            Contact.objects.filter(customer_id__in=picks).values_list("mobile", flat=True)[:count]
        )
        return [m[:7] for m in mobiles]
    mobiles = list(
        Customer.objects.filter(pk__in=picks)
        .exclude(mobile="")
        .values_list("mobile", flat=True)[:count]
    )
    return mobiles


def run(*, org, size, note):
    org, customers = prepare(size, note)
    yield Figure("crm_customers", customers, "rows")
    actors = crm_actors(org)
    try:
        page_url = reverse("crm:customer_list")
    except NoReverseMatch:
        page_url = None
        note("crm:customer_list is not routed yet: measuring the selector only")
    rng = random.Random(7)
    kinds = ("name2", "name4", "name_common", "mobile7", "mobile11")
    words = {kind: _words(kind, rng, REPEAT + 2) for kind in kinds}
    for key in ("manager", "management", "leader", "salesperson"):
        actor = actors[key]
        client = login(Client(), actor) if page_url else None
        for kind in kinds:
            found = [
                selectors.customer_search(actor=actor, text=word).count() for word in words[kind]
            ]
            yield Figure(f"crm_search_{key}_{kind}_matches_p50", percentile(found, 50), "rows")
            texts = iter(words[kind] * 3)

            def query(actor=actor, texts=texts):
                queryset = selectors.customer_search(actor=actor, text=next(texts)).order_by(
                    "-last_contact_at", "-pk"
                )
                selectors.capped_count(queryset, selectors.SEARCH_COUNT_CAP)
                return list(queryset[:PER_PAGE])

            wall, cpu = timed(query, repeat=REPEAT)
            yield Figure(f"crm_search_{key}_{kind}_query_p50", percentile(wall, 50), "ms")
            yield Figure(f"crm_search_{key}_{kind}_query_p95", percentile(wall, 95), "ms")
            yield Figure(f"crm_search_{key}_{kind}_query_cpu_p50", percentile(cpu, 50), "ms")
            if page_url is None or key == "salesperson":
                continue
            params = {"scene": "all", "q": words[kind][0], "per_page": PER_PAGE}
            if not probe(client, page_url, params, note):
                continue
            page_texts = iter(words[kind] * 3)

            def get(client=client, texts=page_texts):
                response = client.get(
                    page_url,
                    {"scene": "all", "q": next(texts), "per_page": PER_PAGE},
                    secure=True,
                )
                assert response.status_code == 200, response.status_code

            wall, cpu = timed(get, repeat=PAGE_REPEAT)
            yield Figure(f"crm_search_{key}_{kind}_page_p50", percentile(wall, 50), "ms")
            yield Figure(f"crm_search_{key}_{kind}_page_p95", percentile(wall, 95), "ms")
            yield Figure(f"crm_search_{key}_{kind}_page_cpu_p50", percentile(cpu, 50), "ms")
    for key, scene in SCENE_CASES:
        actor = actors[key]
        texts = iter(words["name_common"] * 3)

        def scene_query(actor=actor, scene=scene, texts=texts):
            queryset = selectors.customer_search(
                actor=actor, text=next(texts), scene=scene
            ).order_by("-last_contact_at", "-pk")
            selectors.capped_count(queryset, selectors.SEARCH_COUNT_CAP)
            return list(queryset[:PER_PAGE])

        wall, cpu = timed(scene_query, repeat=SCENE_REPEAT)
        name = f"crm_search_{key}_{scene}_name_common_query"
        yield Figure(f"{name}_p50", percentile(wall, 50), "ms")
        yield Figure(f"{name}_p95", percentile(wall, 95), "ms")
        yield Figure(f"{name}_cpu_p50", percentile(cpu, 50), "ms")
