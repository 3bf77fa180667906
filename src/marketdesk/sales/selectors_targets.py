"""Reads of the targets part of sales: targets in the actor's scope and their actuals, the sales
dashboard (month x unit or person, target vs actual, achievement, month-on-month and
year-on-year), rankings, the funnel, RFM lists, and the `sales.order_amount` business metric.

Actuals come from SalesRollup (one row per month, unit and salesperson, kept by the rollup
job), never from the order tables, so the dashboard costs the same on 10 million order lines
as on 100. Scope: the dashboard permission's scope (a salesperson sees their own figures and
their place in their group's rankings, a group leader their group, the marketing manager the
units below them, management and finance everything)."""

from __future__ import annotations

import datetime
import heapq
from collections import defaultdict
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from marketdesk.core.scope import Scope, scope_for
from marketdesk.org.models import Department, Employee, EmployeeStatus

from .models import (
    BOOKED,
    MONTH_FIELDS,
    CustomerAccount,
    RfmSegment,
    RollupDirty,
    SalesOrder,
    SalesRollup,
    SalesTarget,
    SalesUnitRollup,
    TargetMetric,
    TargetSubject,
)
from .permissions import SalesPerm

ZERO = Decimal("0.00")
FIELD = {TargetMetric.ORDER_AMOUNT: "order_amount", TargetMetric.RECEIPTS: "receipt_amount"}
RANKING_LIMIT = 10
PICK = {TargetMetric.ORDER_AMOUNT: "ord", TargetMetric.RECEIPTS: "rec"}
GRID_ALL = "all"  # every row of the dashboard's unit grid (export, API)
GRID_TOP = "top"  # the page: the viewer's top units and the level below, or a page of people
PERSON_PAGE_SIZE = 50


def money(value) -> Decimal:
    """A sum from the database as money: SQLite adds decimals as floating point numbers and
    gives sums unrounded, PostgreSQL exactly; both end as Decimal with two places."""
    return Decimal(value or 0).quantize(ZERO)


def _two_series() -> dict[str, list[Decimal]]:
    return {key: [ZERO] * 12 for key in PICK.values()}


# Targets ------------------------------------------------------------------------------------------


def target_list(*, actor, perm: str = SalesPerm.VIEW_TARGET) -> QuerySet[SalesTarget]:
    """Targets the actor may see: their own person target, the unit and person targets of
    the units in their scope, and the company targets for scope "all" or whoever may change
    targets (the marketing manager sets them)."""
    scope = scope_for(actor, perm)
    rows = SalesTarget.objects.select_related("department", "user")
    if scope.all:
        return rows
    if scope.empty:
        return rows.none()
    condition = Q(pk__in=[])
    if scope.user_id is not None:
        condition |= Q(subject=TargetSubject.PERSON, user_id=scope.user_id)
    if scope.department_ids:
        condition |= Q(
            subject__in=[TargetSubject.DEPARTMENT, TargetSubject.PERSON],
            department_id__in=scope.departments_filter(),
        )
    if actor.has_perm(SalesPerm.CHANGE_TARGET):
        condition |= Q(subject=TargetSubject.COMPANY)
    return rows.filter(condition)


def target_get(*, actor, pk: int) -> SalesTarget:
    target = target_list(actor=actor).filter(pk=pk).first()
    if target is None:
        raise Http404
    return target


def can_change_target(*, actor, target: SalesTarget) -> bool:
    return (
        actor.has_perm(SalesPerm.CHANGE_TARGET)
        and target_list(actor=actor, perm=SalesPerm.CHANGE_TARGET).filter(pk=target.pk).exists()
    )


def unit_choices(*, actor, perm: str = SalesPerm.CHANGE_TARGET) -> QuerySet[Department]:
    scope = scope_for(actor, perm)
    units = Department.objects.filter(active=True).order_by("path")
    if scope.all:
        return units
    return units.filter(pk__in=scope.departments_filter())


def person_choices(*, actor, perm: str = SalesPerm.CHANGE_TARGET) -> QuerySet:
    """Active employees' users whose person targets the actor may set."""
    scope = scope_for(actor, perm)
    users = (
        get_user_model()
        .objects.filter(employee__status=EmployeeStatus.ACTIVE, is_active=True)
        .order_by("employee__department__path", "name")
    )
    if scope.all:
        return users
    return users.filter(
        Q(pk=scope.user_id) | Q(employee__department_id__in=scope.departments_filter())
    )


def _subtree_ids(department: Department) -> list[int]:
    return list(
        Department.objects.filter(path__startswith=department.path).values_list("pk", flat=True)
    )


def _monthly(rows: QuerySet, field: str) -> list[Decimal]:
    months = [ZERO] * 12
    for row in rows.order_by().values("month").annotate(v=Sum(field)):
        months[row["month"] - 1] = money(row["v"])
    return months


def subject_actuals(
    *, year: int, metric: str, subject: str, department=None, user=None
) -> list[Decimal]:
    """The 12 monthly actuals of a target's subject: the company, a unit with its sub-units,
    or a person (from the rollups)."""
    rows = SalesRollup.objects.filter(year=year)
    if subject == TargetSubject.DEPARTMENT:
        rows = rows.filter(department_id__in=_subtree_ids(department))
    elif subject == TargetSubject.PERSON:
        rows = rows.filter(owner_id=user.pk)
    return _monthly(rows, FIELD[TargetMetric(metric)])


def target_actuals(targets) -> dict[int, list[Decimal]]:
    """{target id: 12 monthly actuals} for a page of targets, in a few queries per year."""
    targets = list(targets)
    result: dict[int, list[Decimal]] = {}
    for year in {t.year for t in targets}:
        of_year = [t for t in targets if t.year == year]
        rows = SalesRollup.objects.filter(year=year).order_by()
        sums = {"ord": Sum("order_amount"), "rec": Sum("receipt_amount")}
        if any(t.subject == TargetSubject.COMPANY for t in of_year):
            company = {m: [ZERO] * 12 for m in PICK.values()}
            for row in rows.values("month").annotate(**sums):
                for key in PICK.values():
                    company[key][row["month"] - 1] = money(row[key])
            for t in of_year:
                if t.subject == TargetSubject.COMPANY:
                    result[t.pk] = company[PICK[t.metric]]
        units = [t for t in of_year if t.subject == TargetSubject.DEPARTMENT]
        if units:
            per_unit: dict[int, dict] = defaultdict(_two_series)
            for row in rows.values("department_id", "month").annotate(**sums):
                for key in PICK.values():
                    per_unit[row["department_id"]][key][row["month"] - 1] = money(row[key])
            paths = dict(Department.objects.filter(pk__in=list(per_unit)).values_list("pk", "path"))
            for t in units:
                months = [ZERO] * 12
                for unit_id, path in paths.items():
                    if path.startswith(t.department.path):
                        values = per_unit[unit_id][PICK[t.metric]]
                        months = [a + b for a, b in zip(months, values, strict=True)]
                result[t.pk] = months
        people = [t for t in of_year if t.subject == TargetSubject.PERSON]
        if people:
            per_person: dict[int, dict] = defaultdict(_two_series)
            for row in (
                rows.filter(owner_id__in=[t.user_id for t in people])
                .values("owner_id", "month")
                .annotate(**sums)
            ):
                for key in PICK.values():
                    per_person[row["owner_id"]][key][row["month"] - 1] = money(row[key])
            for t in people:
                result[t.pk] = per_person[t.user_id][PICK[t.metric]]
    return result


# Dashboard ----------------------------------------------------------------------------------------


TENTH = Decimal("0.1")


def rate(actual, target) -> Decimal | None:
    """Achievement in % (one decimal), None without a target."""
    if not target:
        return None
    return (Decimal(actual) * 100 / Decimal(target)).quantize(TENTH)


def change(current, previous) -> Decimal | None:
    """Change against the previous figure in % (one decimal), None when it was 0."""
    if not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(
        Decimal("0.1")
    )


def level_of(scope: Scope) -> str:
    if scope.all:
        return "company"
    if scope.department_ids:
        return "unit"
    return "self"


def _rollups_in(scope: Scope) -> QuerySet[SalesRollup]:
    rows = SalesRollup.objects.order_by()
    if scope.all:
        return rows
    if scope.empty:
        return rows.none()
    condition = Q(pk__in=[])
    if scope.user_id is not None:
        condition |= Q(owner_id=scope.user_id)
    if scope.department_ids:
        condition |= Q(department_id__in=scope.departments_filter())
    return rows.filter(condition)


def _unit_sums(scope: Scope, years: list[int], under: str | None = None) -> list[tuple]:
    """(unit, year, month, order amount, receipts) of the units in the scope, from the unit
    rollups, plus the scope's own person's cells booked in units outside it (a (unit, year,
    month) may come twice: the caller adds them up). `under`: only the units whose path
    starts with this one (a unit and its sub-units)."""
    units = SalesUnitRollup.objects.order_by().filter(year__in=years)
    person_cells = SalesRollup.objects.order_by().filter(year__in=years)
    if under is not None:
        subtree = Department.objects.filter(path__startswith=under).values("pk")
        units = units.filter(department_id__in=subtree)
        person_cells = person_cells.filter(department_id__in=subtree)
    fields = ("department_id", "year", "month", "order_amount", "receipt_amount")
    if scope.all:
        return list(units.values_list(*fields))
    if scope.empty:
        return []
    inside = scope.departments_filter()
    rows = (
        list(units.filter(department_id__in=inside).values_list(*fields))
        if scope.department_ids
        else []
    )
    if scope.user_id is not None:
        rows += list(
            person_cells.filter(owner_id=scope.user_id)
            .exclude(department_id__in=inside)
            .values("department_id", "year", "month")
            .annotate(o=Sum("order_amount"), r=Sum("receipt_amount"))
            .values_list("department_id", "year", "month", "o", "r")
        )
    return rows


def _names(user_ids) -> dict[int, str]:
    rows = get_user_model().objects.filter(pk__in=list(user_ids)).values_list("pk", "name")
    return {pk: name for pk, name in rows}


class _Target(NamedTuple):
    """What the dashboard needs of a target (read as values: thousands of them company-wide)."""

    metric: str
    subject: str
    department_id: int | None
    user_id: int | None
    path: str  # the unit's path ("" for company and person targets)
    months: tuple[Decimal, ...]


def _dashboard_targets(
    actor, *, year: int, level: str, by: str, under: str | None = None, users=None
) -> list[_Target]:
    rows = target_list(actor=actor).filter(year=year, subject__in=_target_subjects(level, by))
    if under is not None:  # the unit targets of a subtree only
        rows = rows.filter(department__path__startswith=under)
    if users is not None:  # the person targets of these people only
        rows = rows.filter(user_id__in=list(users))
    rows = (
        rows.select_related(None)
        .order_by()
        .values_list(
            "metric", "subject", "department_id", "user_id", "department__path", *MONTH_FIELDS
        )
    )
    return [_Target(*row[:4], row[4] or "", tuple(row[5:])) for row in rows]


def _path_and_ancestors(path: str) -> list[str]:
    """A unit's path and its ancestors' paths: /1/4/9/ -> /1/, /1/4/, /1/4/9/."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def _top_units(targets: list[_Target]) -> list[_Target]:
    """The unit targets not below another unit target of the list (no double counting)."""
    chosen: list[_Target] = []
    paths: set[str] = set()
    for target in sorted(targets, key=lambda t: t.path):
        if paths.isdisjoint(_path_and_ancestors(target.path)):
            chosen.append(target)
            paths.add(target.path)
    return chosen


def _target_months(targets: list[_Target]) -> list[Decimal]:
    months = [ZERO] * 12
    for target in targets:
        months = [a + b for a, b in zip(months, target.months, strict=True)]
    return months


def _row(label: str, key: str, targets: list[Decimal] | None, actual, last_year, month: int):
    """One grid row: 12 (target, actual, rate) cells, the year, MoM and YoY of `month`."""
    targets = targets or [ZERO] * 12
    cells = [
        {"target": targets[i], "actual": actual[i], "rate": rate(actual[i], targets[i])}
        for i in range(12)
    ]
    previous = actual[month - 2] if month > 1 else last_year[11]
    year_target, year_actual = sum(targets, ZERO), sum(actual, ZERO)
    return {
        "label": label,
        "key": key,
        "months": cells,
        "year": {
            "target": year_target,
            "actual": year_actual,
            "rate": rate(year_actual, year_target),
        },
        "mom": change(actual[month - 1], previous),
        "yoy": change(actual[month - 1], last_year[month - 1]),
        "has_target": any(targets),
    }


def _target_subjects(level: str, by: str) -> list[str]:
    """The target subjects the dashboard shows: unit totals come from company or unit targets,
    person rows (and a salesperson's own view) from person targets."""
    subjects = [TargetSubject.COMPANY, TargetSubject.DEPARTMENT]
    if by == "person" or level == "self":
        subjects.append(TargetSubject.PERSON)
    return subjects


def dashboard(
    *,
    actor,
    year: int,
    month: int,
    metric: str = TargetMetric.ORDER_AMOUNT,
    by: str = "unit",
    rankings_period: str = "month",
    grid: str = GRID_ALL,
    page: int = 1,
) -> dict[str, Any]:
    """Everything the dashboard shows, for the actor's scope: KPI cards for order amount and
    receipts (year, month, year to date, MoM, YoY), the month x unit (or person) grid of the
    chosen metric with targets, the 12-month trend, rankings and the funnel.

    The unit grid is a tree: a row per unit with figures or a target, and per unit in the
    scope above them (its figures are the sum of everything below). `grid=GRID_TOP` is what
    the page shows: by unit only the top units of the viewer and the level below them
    (`dashboard_unit_rows` gives a unit's children when it is opened), by person one `page`
    of PERSON_PAGE_SIZE people (`person_page`: number, pages, count); `GRID_ALL` gives every
    row (the export and the API)."""
    scope = scope_for(actor, SalesPerm.VIEW_DASHBOARD)
    level = level_of(scope)
    if level == "self":
        by = "person"
    metric = TargetMetric(metric)
    rollups = _rollups_in(scope).filter(year__in=[year - 1, year])
    dimension = "department_id" if by == "unit" else "owner_id"
    # {(key, year): ([12 order amounts], [12 receipts])} for this year and last: each cell is
    # read once, and a row adds up only the keys it covers.
    # The page's people grid reads everyone's figures only as the unit sums (for the totals)
    # and the cells and targets of its page of people (`_person_page`).
    paged = by == "person" and grid == GRID_TOP and level != "self"
    if by == "unit" or paged:
        sums = _unit_sums(scope, [year - 1, year])
    else:
        sums = (
            rollups.values(dimension, "year", "month")
            .annotate(o=Sum("order_amount"), r=Sum("receipt_amount"))
            .values_list(dimension, "year", "month", "o", "r")
        )
    cells = _cells(sums)
    all_keys = {key for key, _y in cells}
    # the sums over every key (KPIs, total row, trend), added up once
    totals = {
        (in_year, which): _series(cells, all_keys, in_year, which)
        for in_year in (year - 1, year)
        for which in (0, 1)
    }

    def series(keys, in_year: int, index: int) -> list[Decimal]:
        if keys is all_keys:
            return totals[(in_year, index)]
        return _series(cells, keys, in_year, index)

    visible_targets = _dashboard_targets(actor, year=year, level=level, by="unit" if paged else by)
    index = 0 if metric == TargetMetric.ORDER_AMOUNT else 1

    # Totals and KPI cards (both metrics).
    def total_targets(for_metric: str) -> list[Decimal]:
        of_metric = [t for t in visible_targets if t.metric == for_metric]
        if level == "company":
            company = [t for t in of_metric if t.subject == TargetSubject.COMPANY]
            if company:
                return _target_months(company)
        if level == "self":
            return _target_months(
                [
                    t
                    for t in of_metric
                    if t.subject == TargetSubject.PERSON and t.user_id == actor.pk
                ]
            )
        units = [t for t in of_metric if t.subject == TargetSubject.DEPARTMENT]
        return _target_months(_top_units(units))

    kpis = []
    for kpi_metric, kpi_index in ((TargetMetric.ORDER_AMOUNT, 0), (TargetMetric.RECEIPTS, 1)):
        actual = series(all_keys, year, kpi_index)
        last = series(all_keys, year - 1, kpi_index)
        targets = total_targets(kpi_metric)
        previous = actual[month - 2] if month > 1 else last[11]
        ytd_target, ytd_actual = sum(targets[:month], ZERO), sum(actual[:month], ZERO)
        kpis.append(
            {
                "metric": kpi_metric.value,
                "label": kpi_metric.label,
                "year_target": sum(targets, ZERO),
                "year_actual": sum(actual, ZERO),
                "year_rate": rate(sum(actual, ZERO), sum(targets, ZERO)),
                "ytd_target": ytd_target,
                "ytd_actual": ytd_actual,
                "ytd_rate": rate(ytd_actual, ytd_target),
                "month_target": targets[month - 1],
                "month_actual": actual[month - 1],
                "month_rate": rate(actual[month - 1], targets[month - 1]),
                "previous_month": previous,
                "mom": change(actual[month - 1], previous),
                "last_year_month": last[month - 1],
                "yoy": change(actual[month - 1], last[month - 1]),
            }
        )

    # The grid of the chosen metric.
    of_metric = [t for t in visible_targets if t.metric == metric]
    rows = []
    person_page = None
    if by == "unit":
        rows = _unit_rows(
            scope,
            cells,
            of_metric,
            year=year,
            month=month,
            index=index,
            shown=None if grid == GRID_ALL else GRID_TOP,
        )
    elif paged:
        rows, person_page = _person_page(
            actor, rollups, year=year, month=month, metric=metric, level=level, page=page
        )
    else:
        person_targets = {t.user_id: t for t in of_metric if t.subject == TargetSubject.PERSON}
        if level == "self":
            person_targets = {k: v for k, v in person_targets.items() if k == actor.pk}
            all_keys = {k for k in all_keys if k == actor.pk}
            if not scope.empty:
                all_keys.add(actor.pk)
        owner_ids = all_keys | set(person_targets)
        names = _names(owner_ids)
        people = sorted(owner_ids, key=lambda pk: names.get(pk, ""))
        person_page = {"number": 1, "pages": 1, "count": len(owner_ids)}
        for owner_id in people:
            target = person_targets.get(owner_id)
            rows.append(
                _row(
                    names.get(owner_id, str(owner_id)),
                    f"person-{owner_id}",
                    _target_months([target]) if target else None,
                    series({owner_id}, year, index),
                    series({owner_id}, year - 1, index),
                    month,
                )
            )
    total = _row(
        _("Total"),
        "total",
        total_targets(metric),
        series(all_keys, year, index),
        series(all_keys, year - 1, index),
        month,
    )
    return {
        "level": level,
        "year": year,
        "month": month,
        "metric": metric.value,
        "metric_label": metric.label,
        "by": by,
        "kpis": kpis,
        "rows": rows,
        "person_page": person_page,
        "total": total,
        "trend": {
            "target": [cell["target"] for cell in total["months"]],
            "actual": [cell["actual"] for cell in total["months"]],
            "last_year": series(all_keys, year - 1, index),
        },
        "rankings": rankings(
            actor=actor, year=year, month=month if rankings_period == "month" else None
        ),
        "funnel": funnel(
            actor=actor, year=year, month=month if rankings_period == "month" else None
        ),
        "status": rollup_status(),
    }


def _person_page(
    actor, rollups: QuerySet, *, year: int, month: int, metric: str, level: str, page: int
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One page of the by-person grid (PERSON_PAGE_SIZE people by name) and its place
    (number, pages, count): everyone's ids and names are read to sort them, but cells and
    targets only for the people of the page (a company has thousands)."""
    targeted = (
        target_list(actor=actor)
        .filter(year=year, metric=metric, subject=TargetSubject.PERSON)
        .order_by()
        .values_list("user_id", flat=True)
    )
    owner_ids = set(rollups.values_list("owner_id", flat=True).distinct()) | set(targeted)
    names = _names(owner_ids)
    people = sorted(owner_ids, key=lambda pk: names.get(pk, ""))
    pages = max(1, -(-len(people) // PERSON_PAGE_SIZE))
    page = min(max(page, 1), pages)
    people = people[(page - 1) * PERSON_PAGE_SIZE : page * PERSON_PAGE_SIZE]
    cells = _cells(
        rollups.filter(owner_id__in=people)
        .values("owner_id", "year", "month")
        .annotate(o=Sum("order_amount"), r=Sum("receipt_amount"))
        .values_list("owner_id", "year", "month", "o", "r")
    )
    targets = {
        t.user_id: t
        for t in _dashboard_targets(actor, year=year, level=level, by="person", users=people)
        if t.subject == TargetSubject.PERSON and t.metric == metric
    }
    index = 0 if metric == TargetMetric.ORDER_AMOUNT else 1
    rows = [
        _row(
            names.get(owner_id, str(owner_id)),
            f"person-{owner_id}",
            _target_months([targets[owner_id]]) if owner_id in targets else None,
            _series(cells, {owner_id}, year, index),
            _series(cells, {owner_id}, year - 1, index),
            month,
        )
        for owner_id in people
    ]
    return rows, {"number": page, "pages": pages, "count": len(owner_ids)}


# The unit grid: a tree of units ---------------------------------------------------------------


class _Unit(NamedTuple):
    pk: int
    name: str
    path: str
    depth: int
    parent_id: int | None


def _unit_tree(scope: Scope, unit_ids: set[int], under: str | None = None) -> dict[int, _Unit]:
    """The units with figures or targets (`unit_ids`) and the units of the scope above them
    (all units above for scope "all"), by id. `under`: only that unit's subtree."""
    fields = ("pk", "name", "path", "depth", "parent_id")
    units = {
        row[0]: _Unit(*row)
        for row in Department.objects.filter(pk__in=sorted(unit_ids)).values_list(*fields)
    }
    above: set[int] = set()
    for unit in units.values():
        for path in _path_and_ancestors(unit.path)[:-1]:
            if under is not None and not path.startswith(under):
                continue
            ancestor = int(path.strip("/").rsplit("/", 1)[-1])
            if scope.all or ancestor in scope.department_ids:
                above.add(ancestor)
    above -= set(units)
    if above:
        units.update(
            (row[0], _Unit(*row))
            for row in Department.objects.filter(pk__in=sorted(above)).values_list(*fields)
        )
    return units


def _unit_rows(
    scope: Scope,
    cells: dict,
    targets: list[_Target],
    *,
    year: int,
    month: int,
    index: int,
    shown: str | None = None,
    parent: int | None = None,
    under: str | None = None,
) -> list[dict[str, Any]] | None:
    """The grid's unit rows in tree order (by path). shown=None: every unit of the tree;
    GRID_TOP: the roots (units whose parent is not in the tree) and their children; `parent`:
    only that unit's children (None when the unit is not in the viewer's tree)."""
    unit_targets = {t.department_id: t for t in targets if t.subject == TargetSubject.DEPARTMENT}
    keys = {key for key, _year in cells}
    tree = _unit_tree(scope, {key for key in keys if key} | set(unit_targets), under)
    if parent is not None and parent not in tree:
        return None
    by_path = {unit.path: unit.pk for unit in tree.values()}
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit in tree.values():
        children[unit.parent_id if unit.parent_id in tree else None].append(unit.pk)
    if parent is not None:
        wanted = set(children[parent])
    elif shown == GRID_TOP:
        wanted = {pk for root in children[None] for pk in (root, *children[root])}
    else:
        wanted = set(tree)
    covered: dict[int, set[int]] = defaultdict(set)  # unit -> keys of it and below
    for key in keys:
        unit = tree.get(key)
        if unit is None:
            continue
        for path in _path_and_ancestors(unit.path):
            ancestor = by_path.get(path)
            if ancestor in wanted:
                covered[ancestor].add(key)
    rows = []
    # tree order, siblings by id (as created) rather than by the path's text ("/10/" < "/9/")
    for unit in sorted(
        (tree[pk] for pk in wanted), key=lambda u: [int(pk) for pk in u.path.strip("/").split("/")]
    ):
        target = unit_targets.get(unit.pk)
        row = _row(
            unit.name,
            f"unit-{unit.pk}",
            _target_months([target]) if target else None,
            _series(cells, covered.get(unit.pk, ()), year, index),
            _series(cells, covered.get(unit.pk, ()), year - 1, index),
            month,
        )
        in_tree = unit.parent_id in tree
        row.update(
            depth=unit.depth,
            unit_id=unit.pk,
            path=unit.path,
            parent=f"unit-{unit.parent_id}" if in_tree else None,
            children=len(children[unit.pk]),
            # the children of this row are among the rows given
            open=bool(children[unit.pk]) and children[unit.pk][0] in wanted,
        )
        rows.append(row)
    if parent is None and 0 in keys:
        rows.append(
            _row(
                _("No unit"),
                "unit-0",
                None,
                _series(cells, {0}, year, index),
                _series(cells, {0}, year - 1, index),
                month,
            )
        )
    return rows


def _series(cells: dict, keys, in_year: int, index: int) -> list[Decimal]:
    """The 12 monthly sums of `keys` in a year (index 0: order amount, 1: receipts)."""
    months = [ZERO] * 12
    for key in keys:
        pair = cells.get((key, in_year))
        if pair is not None:
            values = pair[index]
            for month in range(12):
                months[month] += values[month]
    return months


def _cells(sums) -> dict[tuple[int, int], tuple[list[Decimal], list[Decimal]]]:
    """{(key, year): ([12 order amounts], [12 receipts])} of (key, year, month, o, r) rows."""
    cells: dict[tuple[int, int], tuple[list[Decimal], list[Decimal]]] = {}
    for key, in_year, in_month, orders, receipts in sums:
        pair = cells.get((key, in_year))
        if pair is None:
            pair = cells[(key, in_year)] = ([ZERO] * 12, [ZERO] * 12)
        pair[0][in_month - 1] += money(orders)
        pair[1][in_month - 1] += money(receipts)
    return cells


def dashboard_unit_rows(
    *, actor, unit_id: int, year: int, month: int, metric: str = TargetMetric.ORDER_AMOUNT
) -> list[dict[str, Any]]:
    """The grid rows of a unit's children (the page opens a unit with this), read from that
    unit's subtree only. Http404 when the unit is not a row of the actor's grid: outside
    their scope, without figures, or for a salesperson (who has no unit grid)."""
    scope = scope_for(actor, SalesPerm.VIEW_DASHBOARD)
    level = level_of(scope)
    unit = Department.objects.filter(pk=unit_id).values_list("path", flat=True).first()
    if unit is None or level == "self" or scope.empty:
        raise Http404
    metric = TargetMetric(metric)
    cells = _cells(_unit_sums(scope, [year - 1, year], under=unit))
    targets = [
        t
        for t in _dashboard_targets(actor, year=year, level=level, by="unit", under=unit)
        if t.metric == metric
    ]
    rows = _unit_rows(
        scope,
        cells,
        targets,
        year=year,
        month=month,
        index=0 if metric == TargetMetric.ORDER_AMOUNT else 1,
        parent=unit_id,
        under=unit,
    )
    if rows is None:
        raise Http404
    return rows


def rollup_status() -> dict[str, Any]:
    """How far the rollups are behind: marks waiting and the age of the oldest."""
    pending = RollupDirty.objects.aggregate(n=Count("pk"), oldest=Min("marked_at"))
    age = None
    if pending["oldest"] is not None:
        age = int((timezone.now() - pending["oldest"]).total_seconds())
    return {"pending": pending["n"], "oldest_age_seconds": age}


# Rankings -----------------------------------------------------------------------------------------


def period_bounds(year: int, month: int | None) -> tuple[datetime.date, datetime.date]:
    """[first day, first day after) of a month, or of the year when month is None."""
    if month is None:
        return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    return datetime.date(year, month, 1), datetime.date(year + (month == 12), month % 12 + 1, 1)


def _group_members(actor) -> list[int]:
    unit_id = (
        Employee.objects.filter(user=actor, status=EmployeeStatus.ACTIVE)
        .values_list("department_id", flat=True)
        .first()
    )
    if unit_id is None:
        return [actor.pk]
    members = Employee.objects.filter(department_id=unit_id, status=EmployeeStatus.ACTIVE)
    return sorted(set(members.values_list("user_id", flat=True)) | {actor.pk})


def _people_filter(scope: Scope, level: str, members: list[int], owner: str, unit: str) -> Q:
    if level == "company":
        return Q()
    if level == "self":
        return Q(**{f"{owner}__in": members})
    condition = Q(**{f"{unit}__in": scope.departments_filter()})
    if scope.user_id is not None:
        condition |= Q(**{owner: scope.user_id})
    return condition


def _board(key, label, kind, values: dict[int, Any], *, actor, level, limit) -> dict[str, Any]:
    """One ranking: positions (ties share one), the top `limit` (everyone for "self") and the
    actor's own row. Only the rows shown are built: company-wide there are thousands, so the
    top is taken with a heap rather than by sorting everyone."""
    actor_id = actor.pk  # once: the request's user is a lazy object
    ranked = [(v, uid) for uid, v in values.items() if uid is not None and v]
    first = itemgetter(0)
    if level == "self":
        top = sorted(ranked, key=first, reverse=True)
    else:
        top = heapq.nlargest(limit, ranked, key=first)
    shown, mine, position, previous = [], None, 0, None
    for index, (value, user_id) in enumerate(top, start=1):
        if value != previous:
            position, previous = index, value
        row = {"position": position, "user_id": user_id, "value": value}
        shown.append(row)
        if user_id == actor_id:
            mine = row
    if mine is None:  # the actor's own place, below the top
        own = values.get(actor_id)
        if own:
            mine = {
                "position": 1 + sum(1 for value, _user in ranked if value > own),
                "user_id": actor_id,
                "value": own,
            }
            shown.append(mine)
    return {
        "key": key,
        "label": label,
        "kind": kind,
        "rows": shown,
        "me": mine,
        "count": len(ranked),
    }


def rankings(
    *, actor, year: int, month: int | None = None, limit: int = RANKING_LIMIT
) -> dict[str, Any]:
    """Salespeople ranked by order amount, receipts, new customers won and follow-ups in a
    month (or the year). Company and unit scope: the top `limit` of the scope (plus the actor's
    own place). Self scope: the actor's group with positions, only the actor's own figures."""
    from marketdesk.crm.models import Customer, FollowUp

    scope = scope_for(actor, SalesPerm.VIEW_DASHBOARD)
    level = level_of(scope)
    members = _group_members(actor) if level == "self" else []
    start, end = period_bounds(year, month)
    rollups = SalesRollup.objects.order_by().filter(year=year)
    if month is not None:
        rollups = rollups.filter(month=month)
    rollups = rollups.filter(_people_filter(scope, level, members, "owner_id", "department_id"))
    amounts = {
        row["owner_id"]: (money(row["o"]), money(row["r"]))
        for row in rollups.values("owner_id").annotate(
            o=Sum("order_amount"), r=Sum("receipt_amount")
        )
    }
    tz = timezone.get_current_timezone()
    start_at = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    end_at = datetime.datetime.combine(end, datetime.time.min, tzinfo=tz)
    won = dict(
        Customer.objects.filter(won_at__gte=start_at, won_at__lt=end_at, owner__isnull=False)
        .filter(_people_filter(scope, level, members, "owner_id", "department_id"))
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    follow_ups = dict(
        FollowUp.objects.filter(at__gte=start_at, at__lt=end_at)
        .filter(_people_filter(scope, level, members, "user_id", "department_id"))
        .order_by()
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
    common = {"actor": actor, "level": level, "limit": limit}
    boards = [
        _board(
            "orders",
            _("Order amount"),
            "amount",
            {k: v[0] for k, v in amounts.items()},
            **common,
        ),
        _board(
            "receipts",
            _("Receipts"),
            "amount",
            {k: v[1] for k, v in amounts.items()},
            **common,
        ),
        _board("new_customers", _("New customers"), "count", won, **common),
        _board("follow_ups", _("Follow-ups"), "count", follow_ups, **common),
    ]
    people = {row["user_id"] for board in boards for row in board["rows"]}
    names = _names(people)
    units = dict(
        Employee.objects.filter(user_id__in=list(people)).values_list("user_id", "department__name")
    )
    for board in boards:
        for row in board["rows"]:
            row["name"] = names.get(row["user_id"], "")
            row["unit"] = units.get(row["user_id"], "")
            row["me"] = row["user_id"] == actor.pk
            row["masked"] = level == "self" and not row["me"]
            if row["masked"]:
                row["value"] = None
    return {"level": level, "year": year, "month": month, "boards": boards}


# Funnel -------------------------------------------------------------------------------------------


def funnel(*, actor, year: int, month: int | None = None) -> list[dict[str, Any]] | None:
    """The opportunity funnel of the actor's stage group in the month (or year): per stage the
    deals that reached it, their expected amount and the conversion to the next stage, from
    the opportunities part (`selectors_opportunities.funnel`). None when the actor has no
    stage group or no deal moved in the period."""
    from . import selectors_opportunities as opportunities

    group = opportunities.stage_group_for_user(actor)
    if group is None:
        return None
    start, following = period_bounds(year, month)
    rows = opportunities.funnel(
        actor=actor,
        stage_group=group,
        start=start,
        end=following - datetime.timedelta(days=1),
    )
    result = [
        {
            "name": str(row.label),
            "count": row.count,
            "amount": row.amount,
            "conversion": row.conversion,
        }
        for row in rows
    ]
    return result if any(row["count"] for row in result) else None


# RFM ----------------------------------------------------------------------------------------------


def rfm_accounts(*, actor) -> QuerySet[CustomerAccount]:
    """Customers with RFM scores whose owner or unit is in the actor's dashboard scope."""
    scope = scope_for(actor, SalesPerm.VIEW_DASHBOARD)
    rows = CustomerAccount.objects.exclude(rfm_segment="").select_related(
        "customer", "customer__owner"
    )
    if scope.all:
        return rows
    if scope.empty:
        return rows.none()
    condition = Q(pk__in=[])
    if scope.user_id is not None:
        condition |= Q(customer__owner_id=scope.user_id)
    if scope.department_ids:
        condition |= Q(customer__department_id__in=scope.departments_filter())
    return rows.filter(condition)


def rfm_summary(*, actor) -> list[dict[str, Any]]:
    """Each of the 8 segments: customers, their order amount, share of customers, average R,
    F and M, last computed."""
    rows = {
        row["rfm_segment"]: row
        for row in rfm_accounts(actor=actor)
        .order_by()
        .values("rfm_segment")
        .annotate(n=Count("pk"), amount=Sum("order_amount"), at=Max("rfm_updated_at"))
    }
    total = sum(row["n"] for row in rows.values())
    result = []
    for segment in RfmSegment:
        row = rows.get(segment.value, {})
        count = row.get("n", 0)
        result.append(
            {
                "segment": segment.value,
                "label": segment.label,
                "count": count,
                "amount": money(row.get("amount")),
                "share": rate(count, total) if total else None,
                "computed_at": row.get("at"),
            }
        )
    return result


# The business metric for finance ------------------------------------------------------------------


def order_amount_metric(
    *, department_ids, start: datetime.date, end: datetime.date
) -> dict[int, Decimal]:
    """Booked order amount in [start, end] per unit, each unit counting its sub-units (the
    `sales.order_amount` metric). Whole months come from the rollups; the days of a month
    cut by the period from the orders themselves."""
    units = dict(Department.objects.filter(pk__in=list(department_ids)).values_list("pk", "path"))
    if not units or end < start:
        return {}
    per_unit: dict[int, Decimal] = defaultdict(lambda: ZERO)
    first_whole = start if start.day == 1 else period_bounds(start.year, start.month)[1]
    after_end = end + datetime.timedelta(days=1)
    last_whole_end = after_end if after_end.day == 1 else after_end.replace(day=1)
    if first_whole < last_whole_end:
        months = Q()
        cursor = first_whole
        while cursor < last_whole_end:
            months |= Q(year=cursor.year, month=cursor.month)
            cursor = period_bounds(cursor.year, cursor.month)[1]
        for row in (
            SalesRollup.objects.filter(months)
            .order_by()
            .values("department_id")
            .annotate(v=Sum("order_amount"))
        ):
            per_unit[row["department_id"]] += money(row["v"])
        edges = [(start, first_whole), (last_whole_end, after_end)]
    else:
        edges = [(start, after_end)]
    for low, high in edges:
        if low >= high:
            continue
        for row in (
            SalesOrder.objects.filter(status__in=BOOKED, order_date__gte=low, order_date__lt=high)
            .order_by()
            .values("department_id")
            .annotate(v=Sum("total"))
        ):
            per_unit[row["department_id"] or 0] += money(row["v"])
    paths = dict(
        Department.objects.filter(pk__in=[k for k in per_unit if k]).values_list("pk", "path")
    )
    totals = dict.fromkeys(units, ZERO)
    for unit_id, value in per_unit.items():
        path = paths.get(unit_id)
        if path is None:
            continue
        for wanted, wanted_path in units.items():
            if path.startswith(wanted_path):
                totals[wanted] += value
    return totals
