"""Data scope: resolving scope_for() from roles, and the scoped() employee queries.

For a salesperson, a group leader, a regional director, the marketing manager and management
it reports, over REPEAT runs with a cold cache (a freshly loaded user): the time and SQL
statements of resolving the scope (permissions from roles, then the scope), how many units
the scope names, and the time of the scoped count and first page of employee_list(). For
comparison it also times the manager's count written as one path-prefix condition
(department__path__startswith) instead of the list of unit ids the resolver returns."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from bench.timing import Figure, count_queries, wall_and_cpu
from marketdesk.core.scope import scope_for
from marketdesk.org.models import Department, Employee
from marketdesk.org.permissions import OrgPerm
from marketdesk.org.selectors import employee_list

REPEAT = 50
DEFAULT_SIZE = 20000
ACTORS = ("salesperson", "leader", "region", "manager", "management")


def run(*, org, size, note):
    user_model = get_user_model()
    perm = OrgPerm.VIEW_EMPLOYEE
    for key in ACTORS:
        pk = getattr(org, key).pk
        fresh = [user_model.objects.get(pk=pk) for _ in range(REPEAT + 3)]
        pool = iter(fresh)

        def resolve(pool=pool):
            return scope_for(next(pool), perm)

        yield from wall_and_cpu(f"scope_resolve_{key}", resolve, repeat=REPEAT)
        yield Figure(f"scope_resolve_{key}_queries", count_queries(resolve), "queries")
        user = user_model.objects.get(pk=pk)
        scope = scope_for(user, perm)
        units = "all" if scope.all else len(scope.department_ids)
        note(f"{key}: scope {'all' if scope.all else f'{units} units'} + own records")
        if not scope.all:
            yield Figure(f"scope_{key}_units", units, "units")

        def count(user=user):
            return employee_list(actor=user).count()

        rows = count()
        yield Figure(f"scoped_{key}_rows", rows, "rows")
        yield from wall_and_cpu(f"scoped_count_{key}", count, repeat=REPEAT)

        def first_page(user=user):
            return list(employee_list(actor=user).order_by("department__path", "-pk")[:20])

        yield from wall_and_cpu(f"scoped_first_page_{key}", first_page, repeat=REPEAT)
        yield Figure(f"scoped_first_page_{key}_queries", count_queries(first_page), "queries")

    marketing = Department.objects.get(code="MKT")

    def by_path():
        return Employee.objects.filter(department__path__startswith=marketing.path).count()

    yield from wall_and_cpu("scoped_count_manager_by_path", by_path, repeat=REPEAT)
