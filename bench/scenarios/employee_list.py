"""The scoped employee list page (/org/employees/) through the Django test Client: p50/p95.

Signed in as a group leader (own group), the marketing manager (营销部 and below) and management
(all), it requests the first page and a deep page (the last one) REQUESTS times each, after
two untimed warm-up requests, and reports the 50th and 95th percentile in milliseconds plus
the number of SQL statements one request sends and the rows the actor may see."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from bench.timing import Figure, count_queries, wall_and_cpu

REQUESTS = 50
PER_PAGE = 20  # the page's default (core.listing.PER_PAGE_CHOICES[0])
DEFAULT_SIZE = 20000


def run(*, org, size, note):
    url = reverse("org:employee_list")
    for key in ("leader", "manager", "management"):
        user = getattr(org, key)
        client = Client()
        client.force_login(user, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        first = client.get(url, secure=True)
        if first.status_code != 200:
            raise RuntimeError(f"{key}: GET {url} answered {first.status_code}")
        rows = first.context["result"].page.paginator.count if first.context else None
        if rows is None:  # the test Client only collects contexts with instrumentation on
            from marketdesk.org.selectors import employee_list

            rows = employee_list(actor=user).count()
        last_page = max(1, -(-rows // PER_PAGE))
        note(f"{key} ({user.username}): {rows} rows visible, {last_page} pages")
        yield Figure(f"employee_list_{key}_rows", rows, "rows")
        for label, page in (("first", 1), ("deep", last_page)):
            target = f"{url}?page={page}"

            def get(target=target, client=client):
                response = client.get(target, secure=True)
                assert response.status_code == 200, response.status_code

            yield from wall_and_cpu(f"employee_list_{key}_{label}", get, repeat=REQUESTS)
            yield Figure(f"employee_list_{key}_{label}_queries", count_queries(get), "queries")
