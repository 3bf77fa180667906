"""Targets (销售目标) and the figures the sales dashboard reads: every write of the targets part.

- Targets: create, update, delete, copy last year's, split a year total into months (evenly,
  or by last year's seasonality).
- Rollups: `rollups_process()` recomputes the cells that order and receipt services marked
  (`rollups.mark_*`, RollupDirty) from the source rows; `rollups_rebuild()` recomputes every
  cell set-based (INSERT ... SELECT). Both take the same lock, so two runs never interleave.
  They live in `sales/rollups.py` beside the marks and are re-exported here.
- RFM: `rfm_compute()` scores every customer with booked orders (recency, frequency, monetary,
  quintiles 1 to 5) into CustomerAccount, with one of the 8 RFM segments.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketdesk.core.scope import scope_for
from marketdesk.org.models import Department, Employee, EmployeeStatus

from ..models import (
    BOOKED,
    MONTH_FIELDS,
    RfmSegment,
    SalesOrder,
    SalesTarget,
    TargetMetric,
    TargetSubject,
)
from ..permissions import SalesPerm
from ..rollups import (  # noqa: F401  (the rollup services, re-exported)
    recompute_cells,
    rollups_catch_up,
    rollups_process,
    rollups_rebuild,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")
YEAR_MIN, YEAR_MAX = 2000, 2100

# Messages (tests import them).
NOT_ALLOWED = gettext_lazy("You may not change sales targets.")
OUT_OF_SCOPE = gettext_lazy("This unit or person is outside the units you manage.")
YEAR_RANGE = gettext_lazy("Enter a year between 2000 and 2100.")
MONTHS_COUNT = gettext_lazy("Enter an amount for each of the 12 months.")
NEGATIVE = gettext_lazy("An amount may not be negative.")
TOO_MANY_PLACES = gettext_lazy("Use at most two decimal places.")
TOO_LARGE = gettext_lazy("The amount is too large.")
SUM_MISMATCH = gettext_lazy(
    "The year total (%(annual)s) must equal the sum of the 12 months (%(sum)s)."
)
NEED_UNIT = gettext_lazy("Choose the unit this target is for.")
NEED_PERSON = gettext_lazy("Choose the person this target is for.")
NOT_AN_EMPLOYEE = gettext_lazy("This person is not an active employee.")
DUPLICATE = gettext_lazy("There is already a %(metric)s target for %(who)s in %(year)s.")
NOTHING_TO_COPY = gettext_lazy("There are no targets of %(year)s to copy.")
PERCENT_RANGE = gettext_lazy("Enter a change between -100 and 1000 %.")
BAD_SPLIT = gettext_lazy("Choose how to split the year: evenly or by last year's months.")
BAD_METRIC = gettext_lazy("Choose orders or receipts.")
BAD_SUBJECT = gettext_lazy("Choose company, unit or person.")


# Targets ------------------------------------------------------------------------------------------


def _require_change(actor) -> None:
    if not actor.has_perm(SalesPerm.CHANGE_TARGET):
        raise PermissionDenied(NOT_ALLOWED)


def _check_in_scope(actor, *, subject: str, department, user) -> None:
    """Unit and person targets only for units the actor manages (company: the permission)."""
    if subject == TargetSubject.COMPANY:
        return
    scope = scope_for(actor, SalesPerm.CHANGE_TARGET)
    if scope.all:
        return
    if subject == TargetSubject.DEPARTMENT:
        allowed = department is not None and department.pk in scope.department_ids
    else:
        unit_id = Employee.objects.filter(user=user).values_list("department_id", flat=True).first()
        allowed = user is not None and (user.pk == scope.user_id or unit_id in scope.department_ids)
    if not allowed:
        field = "department" if subject == TargetSubject.DEPARTMENT else "user"
        raise ValidationError({field: OUT_OF_SCOPE})


def clean_months(months: Sequence, annual=None) -> tuple[list[Decimal], Decimal]:
    """12 amounts as Decimals with two places, and the year total (their sum)."""
    errors: dict[str, list] = {}
    if months is None or len(months) != 12:
        raise ValidationError({"months": MONTHS_COUNT})
    values: list[Decimal] = []
    for name, raw in zip(MONTH_FIELDS, months, strict=True):
        try:
            value = Decimal(str(raw if raw not in (None, "") else "0"))
        except ArithmeticError:
            errors[name] = [_("Enter a number.")]
            values.append(ZERO)
            continue
        if not value.is_finite():
            errors[name] = [_("Enter a number.")]
        elif value < 0:
            errors[name] = [str(NEGATIVE)]
        elif value != value.quantize(CENT):
            errors[name] = [str(TOO_MANY_PLACES)]
        elif value > MAX_AMOUNT:
            errors[name] = [str(TOO_LARGE)]
        values.append(value.quantize(CENT) if value.is_finite() else ZERO)
    if errors:
        raise ValidationError(errors)
    total = sum(values, ZERO)
    if total > MAX_AMOUNT:
        raise ValidationError({"annual": TOO_LARGE})
    if annual not in (None, ""):
        try:
            given = Decimal(str(annual))
        except ArithmeticError:
            raise ValidationError({"annual": _("Enter a number.")}) from None
        if not given.is_finite() or given != total:
            raise ValidationError(
                {"annual": SUM_MISMATCH % {"annual": f"{given:,.2f}", "sum": f"{total:,.2f}"}}
            )
    return values, total


def _who(subject: str, department, user) -> str:
    if subject == TargetSubject.COMPANY:
        return str(_("the company"))
    if subject == TargetSubject.DEPARTMENT:
        return str(department)
    return getattr(user, "name", "") or str(user)


def _duplicate(*, year: int, metric: str, subject: str, department, user, exclude=None) -> bool:
    rows = SalesTarget.objects.filter(year=year, metric=metric, subject=subject)
    if subject == TargetSubject.DEPARTMENT:
        rows = rows.filter(department=department)
    elif subject == TargetSubject.PERSON:
        rows = rows.filter(user=user)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return rows.exists()


def _apply_months(target: SalesTarget, values: list[Decimal], total: Decimal) -> None:
    for name, value in zip(MONTH_FIELDS, values, strict=True):
        setattr(target, name, value)
    target.annual = total


def target_create(
    *,
    actor,
    year: int,
    metric: str,
    subject: str,
    department: Department | None = None,
    user=None,
    months: Sequence,
    annual=None,
) -> SalesTarget:
    """A yearly target of `metric` (order amount or receipts) for the company, a unit or a
    person, split into 12 months whose sum is the year total."""
    _require_change(actor)
    if not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationError({"year": YEAR_RANGE})
    if metric not in TargetMetric.values:
        raise ValidationError({"metric": BAD_METRIC})
    if subject not in TargetSubject.values:
        raise ValidationError({"subject": BAD_SUBJECT})
    if subject == TargetSubject.COMPANY:
        department = user = None
    elif subject == TargetSubject.DEPARTMENT:
        user = None
        if department is None:
            raise ValidationError({"department": NEED_UNIT})
    else:
        if user is None:
            raise ValidationError({"user": NEED_PERSON})
        employee = Employee.objects.filter(user=user, status=EmployeeStatus.ACTIVE).first()
        if employee is None:
            raise ValidationError({"user": NOT_AN_EMPLOYEE})
        department = employee.department  # person targets are seen by the person's unit
    values, total = clean_months(months, annual)
    _check_in_scope(actor, subject=subject, department=department, user=user)
    with transaction.atomic():
        if _duplicate(year=year, metric=metric, subject=subject, department=department, user=user):
            field = {"department": "department", "person": "user"}.get(subject, "subject")
            raise ValidationError(
                {
                    field: DUPLICATE
                    % {
                        "metric": TargetMetric(metric).label,
                        "who": _who(subject, department, user),
                        "year": year,
                    }
                }
            )
        target = SalesTarget(
            year=year,
            metric=metric,
            subject=subject,
            department=department,
            user=user,
            created_by=actor,
            updated_by=actor,
        )
        _apply_months(target, values, total)
        target.full_clean()
        target.save()
    return target


def target_update(*, actor, target: SalesTarget, months: Sequence, annual=None) -> SalesTarget:
    """New monthly amounts (and so a new year total) for an existing target."""
    _require_change(actor)
    values, total = clean_months(months, annual)
    _check_in_scope(actor, subject=target.subject, department=target.department, user=target.user)
    with transaction.atomic():
        locked = SalesTarget.objects.select_for_update().get(pk=target.pk)
        _apply_months(locked, values, total)
        locked.updated_by = actor
        locked.full_clean()
        locked.save()
    target.refresh_from_db()
    return target


def target_delete(*, actor, target: SalesTarget) -> None:
    _require_change(actor)
    _check_in_scope(actor, subject=target.subject, department=target.department, user=target.user)
    with transaction.atomic():
        SalesTarget.objects.filter(pk=target.pk).delete()


def split_months(annual, weights: Sequence | None = None) -> list[Decimal]:
    """Split a year total into 12 months to the cent, in proportion to `weights` (evenly when
    there are none or they sum to 0). The months always add up to the total: the cents left
    by rounding down go to the months with the largest remainders (then the earliest)."""
    try:
        total = Decimal(str(annual)).quantize(CENT)
    except ArithmeticError:
        raise ValidationError({"annual": _("Enter a number.")}) from None
    if total < 0:
        raise ValidationError({"annual": NEGATIVE})
    shares = [Decimal(str(w)) if w and Decimal(str(w)) > 0 else Decimal(0) for w in weights or []]
    if len(shares) != 12 or sum(shares) == 0:
        shares = [Decimal(1)] * 12
    whole = sum(shares)
    cents = int(total * 100)
    exact = [Decimal(cents) * share / whole for share in shares]
    floors = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    left = cents - sum(floors)
    order = sorted(range(12), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in order[:left]:
        floors[index] += 1
    return [Decimal(value) / 100 for value in floors]


def seasonal_weights(
    *, year: int, metric: str, subject: str, department=None, user=None
) -> list[Decimal]:
    """Last year's monthly actuals of the same subject (the seasonality of a split)."""
    from ..selectors_targets import subject_actuals  # the rollups read, shared with the pages

    return subject_actuals(
        year=year - 1, metric=metric, subject=subject, department=department, user=user
    )


def target_split(*, actor, target: SalesTarget, mode: str, annual=None) -> SalesTarget:
    """Rewrite the months of a target from its year total (or a new one): `even`, or
    `seasonal` in proportion to last year's actual months (evenly when there were none)."""
    if mode not in ("even", "seasonal"):
        raise ValidationError({"mode": BAD_SPLIT})
    total = target.annual if annual in (None, "") else annual
    weights = None
    if mode == "seasonal":
        weights = seasonal_weights(
            year=target.year,
            metric=target.metric,
            subject=target.subject,
            department=target.department,
            user=target.user,
        )
    return target_update(actor=actor, target=target, months=split_months(total, weights))


def targets_copy_from_last_year(
    *, actor, year: int, percent=Decimal("0"), metric: str | None = None
) -> list[SalesTarget]:
    """Copy the targets of `year - 1` that the actor may change into `year`, every month
    changed by `percent` (rounded to the cent); targets that already exist are kept."""
    _require_change(actor)
    if not isinstance(year, int) or not YEAR_MIN < year <= YEAR_MAX:
        raise ValidationError({"year": YEAR_RANGE})
    try:
        change = Decimal(str(percent or 0))
    except ArithmeticError:
        raise ValidationError({"percent": PERCENT_RANGE}) from None
    if not change.is_finite() or not Decimal(-100) <= change <= Decimal(1000):
        raise ValidationError({"percent": PERCENT_RANGE})
    from ..selectors_targets import target_list

    sources = target_list(actor=actor, perm=SalesPerm.CHANGE_TARGET).filter(year=year - 1)
    if metric:
        sources = sources.filter(metric=metric)
    sources = list(sources.select_related("department", "user"))
    if not sources:
        raise ValidationError({"year": NOTHING_TO_COPY % {"year": year - 1}})
    factor = (Decimal(100) + change) / Decimal(100)
    created = []
    with transaction.atomic():
        for source in sources:
            if _duplicate(
                year=year,
                metric=source.metric,
                subject=source.subject,
                department=source.department,
                user=source.user,
            ):
                continue
            if (
                source.subject == TargetSubject.PERSON
                and not Employee.objects.filter(
                    user=source.user, status=EmployeeStatus.ACTIVE
                ).exists()
            ):
                continue  # the person has left
            months = [(source.month(m) * factor).quantize(CENT) for m in range(1, 13)]
            created.append(
                target_create(
                    actor=actor,
                    year=year,
                    metric=source.metric,
                    subject=source.subject,
                    department=source.department,
                    user=source.user,
                    months=months,
                )
            )
    return created


# RFM ----------------------------------------------------------------------------------------------

RFM_HIGH = 4  # a score of 4 or 5 (the top two quintiles) is "high"

# (R high, F high, M high) -> segment
SEGMENTS = {
    (True, True, True): RfmSegment.IMPORTANT_VALUE,
    (False, True, True): RfmSegment.IMPORTANT_KEEP,
    (True, False, True): RfmSegment.IMPORTANT_DEVELOP,
    (False, False, True): RfmSegment.IMPORTANT_RETAIN,
    (True, True, False): RfmSegment.GENERAL_VALUE,
    (False, True, False): RfmSegment.GENERAL_KEEP,
    (True, False, False): RfmSegment.GENERAL_DEVELOP,
    (False, False, False): RfmSegment.GENERAL_RETAIN,
}


def rfm_score(rank: int, count: int) -> int:
    """Quintile 1..5 of a 1-based rank (ties share the lowest rank) among `count` values."""
    return 1 + (5 * (rank - 1)) // count


def rfm_segment(recency: int, frequency: int, monetary: int) -> str:
    return SEGMENTS[(recency >= RFM_HIGH, frequency >= RFM_HIGH, monetary >= RFM_HIGH)].value


def _segment_case() -> tuple[str, list]:
    parts, params = [], []
    for (r, f, m), segment in SEGMENTS.items():
        cond = " AND ".join(
            f"s.{name} {'>=' if high else '<'} {RFM_HIGH}"
            for name, high in (("r", r), ("f", f), ("m", m))
        )
        parts.append(f"WHEN {cond} THEN %s")
        params.append(segment.value)
    return "CASE " + " ".join(parts) + " END", params


def rfm_compute() -> dict:
    """Score every customer with booked orders, set-based: last order date, order count and
    amount, then R (more recent = higher), F and M as quintiles 1-5 of their rank among all
    such customers (ties share a score), and the segment (4 or 5 counts as high). Customers
    whose orders were all cancelled lose their scores. Idempotent (the nightly job)."""
    from ..models import CustomerAccount

    started = time.monotonic()
    accounts = CustomerAccount._meta.db_table
    orders = SalesOrder._meta.db_table
    booked = ", ".join(["%s"] * len(BOOKED))
    booked_values = [str(status) for status in BOOKED]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    case_sql, case_params = _segment_case()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {accounts} (customer_id, credit_limit, channel_tier, last_order_on,
                                    order_count, order_amount, recency, frequency, monetary,
                                    rfm_segment, rfm_updated_at)
            SELECT c.customer_id, NULL, 'direct', NULL, 0, 0, NULL, NULL, NULL, '', NULL
            FROM (SELECT DISTINCT customer_id FROM {orders} WHERE status IN ({booked})) c
            WHERE NOT EXISTS (SELECT 1 FROM {accounts} a WHERE a.customer_id = c.customer_id)
            ON CONFLICT (customer_id) DO NOTHING
            """,  # noqa: S608 (table names come from the models; values are parameters)
            booked_values,
        )
        created = cursor.rowcount
        cursor.execute(
            f"""
            UPDATE {accounts}
            SET last_order_on = NULL, order_count = 0, order_amount = 0, recency = NULL,
                frequency = NULL, monetary = NULL, rfm_segment = '', rfm_updated_at = %s
            WHERE (order_count > 0 OR rfm_segment <> '' OR recency IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM {orders} o
                              WHERE o.customer_id = {accounts}.customer_id
                                AND o.status IN ({booked}))
            """,  # noqa: S608 (table names come from the models; values are parameters)
            [now, *booked_values],
        )
        cleared = cursor.rowcount
        cursor.execute(
            f"""
            UPDATE {accounts}
            SET last_order_on = s.last_on, order_count = s.n, order_amount = s.amount,
                recency = s.r, frequency = s.f, monetary = s.m,
                rfm_segment = {case_sql}, rfm_updated_at = %s
            FROM (
                SELECT customer_id, last_on, n, amount,
                       1 + (5 * (RANK() OVER (ORDER BY last_on) - 1)) / total AS r,
                       1 + (5 * (RANK() OVER (ORDER BY n) - 1)) / total AS f,
                       1 + (5 * (RANK() OVER (ORDER BY amount) - 1)) / total AS m
                FROM (
                    SELECT customer_id, MAX(order_date) AS last_on, COUNT(*) AS n,
                           SUM(total) AS amount, COUNT(*) OVER () AS total
                    FROM {orders} WHERE status IN ({booked}) GROUP BY customer_id
                ) g
            ) s
            WHERE {accounts}.customer_id = s.customer_id
            """,  # noqa: S608 (table names come from the models; values are parameters)
            [*case_params, now, *booked_values],
        )
        scored = cursor.rowcount
    return {
        "scored": scored,
        "created": created,
        "cleared": cleared,
        "seconds": round(time.monotonic() - started, 3),
    }


# The same, started by a person from the pages or the API ------------------------------------------


def rollups_rebuild_now(*, actor) -> dict:
    """A full rebuild asked for by whoever may change targets (after a data repair)."""
    _require_change(actor)
    return rollups_rebuild()


def rfm_recompute(*, actor) -> dict:
    """RFM scores now instead of at the nightly run (whoever may change targets)."""
    _require_change(actor)
    return rfm_compute()
