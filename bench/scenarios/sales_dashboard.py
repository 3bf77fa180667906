"""The sales dashboard (month x unit target vs actual, KPIs, rankings, funnel) per role.

On `--size` order lines (default 10,000,000; bench/sales_generators.py; `--reuse` keeps a
generated database), with 2026-style targets for the company, every 销售 group and every
salesperson: `selectors_targets.dashboard()` for the current month as management (all), the
marketing manager (营销部 and below), a group leader and a salesperson, each call with a
freshly loaded user (cold permission and scope caches, as a request has): wall p50/p95 and
CPU p50 in ms, SQL statements per call; then the page `GET /sales/dashboard/` through the
test Client for the manager and the salesperson (its size and grid rows: the page shows the
viewer's top units), and for the manager the opening of the first closed unit of the grid
(`GET /sales/dashboard/units/<id>/`, htmx) and the page by person (`?by=person`: 50 people a
page). Requirement: p95 <= 200 ms on 10M lines."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from bench.sales_generators import prepare
from bench.scenarios._crm import login, probe
from bench.timing import Figure, count_queries, wall_and_cpu

DEFAULT_SIZE = 10_000_000
NEEDS_ORG = False
REPEAT = 30
PAGE_REPEAT = 20


def _targets(year: int, note) -> None:
    """Targets for the company, each sales group and each of its members (bulk, set-based)."""
    from marketdesk.org.models import Department, Employee, EmployeeStatus
    from marketdesk.sales.models import SalesTarget, TargetMetric, TargetSubject

    if SalesTarget.objects.filter(year=year).exists():
        return
    month = Decimal("100000.00")
    months = {f"m{m:02d}": month for m in range(1, 13)}
    rows = [
        SalesTarget(
            year=year,
            metric=metric,
            subject=TargetSubject.COMPANY,
            annual=month * 12 * 1000,
            **{k: v * 1000 for k, v in months.items()},
        )
        for metric in TargetMetric.values
    ]
    for unit in Department.objects.filter(name__startswith="销售", kind="group"):
        rows += [
            SalesTarget(
                year=year,
                metric=metric,
                subject=TargetSubject.DEPARTMENT,
                department=unit,
                annual=month * 12 * 10,
                **{k: v * 10 for k, v in months.items()},
            )
            for metric in TargetMetric.values
        ]
    for employee in Employee.objects.filter(
        status=EmployeeStatus.ACTIVE, department__name__startswith="销售"
    ).only("user_id", "department_id"):
        rows += [
            SalesTarget(
                year=year,
                metric=metric,
                subject=TargetSubject.PERSON,
                user_id=employee.user_id,
                department_id=employee.department_id,
                annual=month * 12,
                **months,
            )
            for metric in TargetMetric.values
        ]
    SalesTarget.objects.bulk_create(rows, batch_size=2000)
    note(f"{len(rows)} targets for {year}")


def _actors() -> dict[str, object]:
    """management, the marketing manager, the leader and a member of a 销售一组."""
    from marketdesk.org.models import Department, Employee, EmployeeStatus, Role

    group = Department.objects.filter(name="销售一组", kind="group").order_by("path").first()
    leader = Employee.objects.get(pk=group.head_id).user
    member = (
        Employee.objects.filter(department=group, status=EmployeeStatus.ACTIVE)
        .exclude(user=leader)
        .order_by("pk")
        .first()
        .user
    )
    manager = (
        Role.objects.get(code="marketing_manager")
        .employees.order_by("department__depth", "pk")
        .first()
        .user
    )
    management = Role.objects.get(code="management").employees.order_by("pk").first().user
    return {"management": management, "manager": manager, "leader": leader, "salesperson": member}


def run(*, org, size, note):
    from marketdesk.sales import selectors_targets as selectors

    prepare(size, note)
    today = timezone.localdate()
    _targets(today.year, note)
    users = get_user_model().objects
    actors = _actors()
    for role, actor in actors.items():

        def call(pk=actor.pk):
            return selectors.dashboard(actor=users.get(pk=pk), year=today.year, month=today.month)

        data = call()
        note(
            f"{role} ({actor.name}): level {data['level']}, {len(data['rows'])} rows, "
            f"month actual ¥{data['kpis'][0]['month_actual']:,}"
        )
        yield from wall_and_cpu(f"sales_dashboard_{role}", call, repeat=REPEAT)
        yield Figure(f"sales_dashboard_{role}_statements", count_queries(call), "statements")
    params = {"year": today.year, "month": today.month}
    for role in ("manager", "salesperson"):
        client = login(Client(), actors[role])
        if not probe(client, "/sales/dashboard/", params, note):
            continue
        yield from wall_and_cpu(
            f"sales_dashboard_{role}_page",
            lambda c=client: c.get("/sales/dashboard/", params, secure=True),
            repeat=PAGE_REPEAT,
        )
        page = client.get("/sales/dashboard/", params, secure=True).content
        yield Figure(f"sales_dashboard_{role}_page_size", round(len(page) / 1024, 1), "KB")
        yield Figure(
            f"sales_dashboard_{role}_page_grid_rows", page.count(b'<tr data-row="'), "rows"
        )
        if role == "manager":
            yield from _unit_rows(client, page, params, note)
            by_person = {**params, "by": "person"}
            yield from wall_and_cpu(
                "sales_dashboard_manager_person_page",
                lambda c=client, p=by_person: c.get("/sales/dashboard/", p, secure=True),
                repeat=PAGE_REPEAT,
            )


def _unit_rows(client, page: bytes, params: dict, note):
    """Opening the first closed unit of the manager's grid (a region: its branches)."""
    import re

    found = re.search(rb'hx-get="(/sales/dashboard/units/\d+/)', page)
    if found is None:
        note("no closed unit in the manager's grid: opening not measured")
        return
    url = found.group(1).decode()
    response = client.get(url, params, secure=True)
    note(f"opening {url}: {response.content.count(b'<tr ')} rows")
    yield from wall_and_cpu(
        "sales_dashboard_manager_open_unit",
        lambda: client.get(url, params, secure=True),
        repeat=PAGE_REPEAT,
    )
