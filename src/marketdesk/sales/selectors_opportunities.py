"""Reads of the opportunities part of sales (商机), limited to what the actor may see, plus the
figures the dashboard reads: the funnel by stage with conversion rates, and the pipeline."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext

from marketdesk.core.models import RecordAccess, RecordShare
from marketdesk.core.scope import is_shared_for_write, scope_for, scoped
from marketdesk.crm import selectors as crm_selectors
from marketdesk.crm.models import Contact, Customer
from marketdesk.org.models import Department
from marketdesk.org.selectors import employee_for_user

from .models import (
    Competitor,
    Opportunity,
    OpportunityStageChange,
    OpportunityStatus,
    SalesOrder,
    Stage,
    StageGroup,
)
from .permissions import SalesPerm

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# Opportunities ----------------------------------------------------------------------------------


def opportunity_list(*, actor) -> QuerySet[Opportunity]:
    """Opportunities the actor may see: salespeople their own, a group leader the group, the
    marketing manager the department, management everyone (plus shared ones)."""
    queryset = Opportunity.objects.select_related(
        "customer", "contact", "owner", "department", "stage", "stage_group", "lost_to"
    )
    return scoped(
        queryset,
        actor=actor,
        perm=SalesPerm.VIEW_OPPORTUNITY,
        owner_field="owner",
        department_field="department",
    )


def opportunity_get(*, actor, pk: int) -> Opportunity:
    opportunity = opportunity_list(actor=actor).filter(pk=pk).first()
    if opportunity is None:
        raise Http404
    return opportunity


def leads(*, actor, opportunity: Opportunity) -> bool:
    """The actor may work on opportunities and their scope covers the opportunity's unit: the
    group leader of its group, the marketing manager, a superuser."""
    if not actor.has_perm(SalesPerm.ADD_OPPORTUNITY):
        return False
    scope = scope_for(actor, SalesPerm.VIEW_OPPORTUNITY)
    return scope.all or (
        opportunity.department_id is not None and opportunity.department_id in scope.department_ids
    )


def can_edit_opportunity(*, actor, opportunity: Opportunity) -> bool:
    """The owner, a team member with write access, or a leader whose scope covers it."""
    if not actor.is_authenticated or not actor.has_perm(SalesPerm.ADD_OPPORTUNITY):
        return False
    return (
        opportunity.owner_id == actor.pk
        or leads(actor=actor, opportunity=opportunity)
        or is_shared_for_write(opportunity, actor)
    )


def editable_ids(*, actor, opportunities: list[Opportunity]) -> set[int]:
    """Which of these open opportunities the actor may move (the board's draggable cards), in
    one query: can_edit_opportunity for many rows."""
    if not actor.has_perm(SalesPerm.ADD_OPPORTUNITY):
        return set()
    scope = scope_for(actor, SalesPerm.VIEW_OPPORTUNITY)
    shared = set(
        RecordShare.objects.filter(
            content_type=ContentType.objects.get_for_model(Opportunity),
            user=actor,
            access=RecordAccess.WRITE,
            object_id__in=[o.pk for o in opportunities],
        ).values_list("object_id", flat=True)
    )
    return {
        o.pk
        for o in opportunities
        if o.is_open
        and (
            o.owner_id == actor.pk
            or scope.all
            or o.department_id in scope.department_ids
            or o.pk in shared
        )
    }


def can_reopen(*, actor, opportunity: Opportunity) -> bool:
    """Reopening a closed deal is for its owner or a leader (not for team members)."""
    return not opportunity.is_open and (
        (opportunity.owner_id == actor.pk and actor.has_perm(SalesPerm.ADD_OPPORTUNITY))
        or leads(actor=actor, opportunity=opportunity)
    )


def opportunities_for_customer(*, actor, customer: Customer) -> QuerySet[Opportunity]:
    return opportunity_list(actor=actor).filter(customer=customer).order_by("status", "-pk")


def convertible_opportunities(*, actor) -> QuerySet[Opportunity]:
    """Open or won opportunities in the actor's scope (the order form offers them)."""
    return opportunity_list(actor=actor).filter(
        status__in=[OpportunityStatus.OPEN, OpportunityStatus.WON]
    )


def order_create_url(opportunity: Opportunity) -> str:
    """The order form, told which opportunity it comes from ("Convert to order"). Resolved when
    called, so it works before and after the orders part adds `sales:order_create`."""
    try:
        base = reverse("sales:order_create")
    except NoReverseMatch:
        root = reverse("sales:opportunity_list").rsplit("opportunities/", 1)[0]
        base = f"{root}orders/new/"
    return f"{base}?opportunity={opportunity.pk}"


def stage_changes(opportunity: Opportunity) -> QuerySet[OpportunityStageChange]:
    return opportunity.stage_changes.select_related("from_stage", "to_stage", "by").order_by(
        "at", "pk"
    )


def orders_of(*, actor, opportunity: Opportunity) -> QuerySet[SalesOrder]:
    """The orders made from this opportunity that the actor may see."""
    return scoped(
        SalesOrder.objects.filter(opportunity=opportunity).select_related("owner"),
        actor=actor,
        perm=SalesPerm.VIEW_ORDER,
        owner_field="owner",
        department_field="department",
    ).order_by("-pk")


def closing(*, actor, today: datetime.date | None = None) -> dict[str, QuerySet[Opportunity]]:
    """The actor's own open opportunities whose expected close date has passed, or falls in the
    rest of this week (Monday to Sunday): the workbench's reminders."""
    today = today or timezone.localdate()
    sunday = today + datetime.timedelta(days=6 - today.weekday())
    mine = Opportunity.objects.filter(owner=actor, status=OpportunityStatus.OPEN)
    return {
        "overdue": mine.filter(expected_close_date__lt=today),
        "this_week": mine.filter(expected_close_date__gte=today, expected_close_date__lte=sunday),
    }


# Customers and contacts an opportunity may name -------------------------------------------------


def customer_choices(*, actor) -> QuerySet[Customer]:
    """Customers the actor sees in crm that have an owner (a pool customer is claimed first).
    The service also checks that the actor may edit the chosen one."""
    return crm_selectors.customer_list(actor).filter(owner__isnull=False).order_by("name")


def customer_usable(*, actor, customer: Customer) -> bool:
    """An opportunity may name a customer the actor sees and may edit (owner, write team member,
    or a leader whose crm scope covers it): crm decides both."""
    return (
        customer.owner_id is not None
        and crm_selectors.customer_list(actor).filter(pk=customer.pk).exists()
        and crm_selectors.can_edit_customer(actor=actor, customer=customer)
    )


def contact_choices(*, customer: Customer | None) -> QuerySet[Contact]:
    if customer is None:
        return Contact.objects.none()
    return Contact.objects.filter(customer=customer).order_by("-is_primary", "name")


# Stage groups and competitors (not confidential: anyone who works with opportunities reads them)


def stage_group_list(*, include_inactive: bool = False) -> QuerySet[StageGroup]:
    queryset = StageGroup.objects.select_related("department").prefetch_related("stages")
    if not include_inactive:
        queryset = queryset.filter(active=True)
    return queryset.order_by("-active", "department__path", "name")


def stage_group_get(*, pk: int) -> StageGroup:
    group = stage_group_list(include_inactive=True).filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


def stages_of(group: StageGroup) -> list[Stage]:
    return list(Stage.objects.filter(group=group).order_by("sort_order"))


def stage_group_for_department(department: Department | None) -> StageGroup | None:
    """The active stage group of the unit, else of the nearest unit above it, else the company
    default (no unit)."""
    if department is not None:
        ids = [int(part) for part in department.path.strip("/").split("/") if part]
        by_unit = {
            group.department_id: group
            for group in StageGroup.objects.filter(active=True, department_id__in=ids)
        }
        for unit_id in reversed(ids):  # nearest first
            if unit_id in by_unit:
                return by_unit[unit_id]
    return StageGroup.objects.filter(active=True, department__isnull=True).first()


def stage_group_for_user(user) -> StageGroup | None:
    employee = employee_for_user(user)
    return stage_group_for_department(employee.department if employee else None)


def competitor_list(*, actor, include_inactive: bool = True) -> QuerySet[Competitor]:
    """Competitors with how often they appear on the actor's visible deals, and how many of
    those deals were lost to them or won against them."""
    visible = opportunity_list(actor=actor).order_by().values("pk")
    lost = (
        Opportunity.objects.filter(lost_to=OuterRef("pk"), pk__in=visible)
        .order_by()
        .values("lost_to")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queryset = Competitor.objects.annotate(
        deals=Count("opportunities", filter=Q(opportunities__in=visible), distinct=True),
        won_against=Count(
            "opportunities",
            filter=Q(opportunities__in=visible, opportunities__status=OpportunityStatus.WON),
            distinct=True,
        ),
        lost_to_them=Coalesce(Subquery(lost), 0),
    )
    if not include_inactive:
        queryset = queryset.filter(active=True)
    return queryset.order_by("-active", "name")


def competitor_get(*, actor, pk: int) -> Competitor:
    competitor = competitor_list(actor=actor).filter(pk=pk).first()
    if competitor is None:
        raise Http404
    return competitor


# The kanban board ----------------------------------------------------------------------------------

CARDS_PER_COLUMN = 50


@dataclass
class BoardColumn:
    stage: Stage
    cards: list[Opportunity] = field(default_factory=list)
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO

    @property
    def more(self) -> int:
        return max(self.count - len(self.cards), 0)


def _weighted(amount: Decimal | None, status: str, win_percent: int) -> Decimal:
    if status == OpportunityStatus.WON:
        percent = 100
    elif status == OpportunityStatus.OPEN:
        percent = win_percent
    else:
        percent = 0
    return (Decimal(amount or 0) * percent / 100).quantize(CENT)


def board(
    *, group: StageGroup, opportunities: QuerySet[Opportunity], per_column: int = CARDS_PER_COLUMN
) -> list[BoardColumn]:
    """One column per stage of the group with its first cards (closing soonest first) and its
    totals over every matching opportunity (count, amount, amount weighted by the win %).
    `opportunities` is already limited to the actor's scope and the board's filters."""
    rows = opportunities.filter(stage_group=group)
    columns = {stage.pk: BoardColumn(stage=stage) for stage in stages_of(group)}
    figures = (
        rows.order_by()
        .values("stage_id", "status", "stage__win_percent")
        .annotate(n=Count("pk"), amount=Sum("expected_amount"))
    )
    for row in figures:
        column = columns.get(row["stage_id"])
        if column is None:
            continue
        column.count += row["n"]
        column.amount += row["amount"] or ZERO
        column.weighted += _weighted(row["amount"], row["status"], row["stage__win_percent"])
    ordered = rows.order_by("status", "expected_close_date", "-expected_amount", "pk")
    for stage_id, column in columns.items():
        if column.count:
            column.cards = list(ordered.filter(stage_id=stage_id)[:per_column])
    return list(columns.values())


# The funnel and the pipeline (read by the dashboard) ---------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    """One step of the funnel. `stage` is None on the last row, the deals won."""

    stage: Stage | None
    label: str
    count: int
    amount: Decimal
    conversion: Decimal | None  # % of this row's deals that reached the next row

    @property
    def is_won(self) -> bool:
        return self.stage is None


def _day_bounds(start: datetime.date, end: datetime.date) -> tuple[Any, Any]:
    start_at = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time.max))
    return start_at, end_at


def _in_units(queryset: QuerySet[Opportunity], department_ids) -> QuerySet[Opportunity]:
    """Opportunities of these units and of the units below them."""
    paths = list(
        Department.objects.filter(pk__in=list(department_ids)).values_list("path", flat=True)
    )
    if not paths:
        return queryset.none()
    condition = Q()
    for path in paths:
        condition |= Q(department__path__startswith=path)
    return queryset.filter(condition)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def funnel(
    *,
    actor,
    stage_group: StageGroup,
    start: datetime.date,
    end: datetime.date,
    department_ids=None,
) -> list[FunnelRow]:
    """The sales funnel of one stage group, from the stage changes (OpportunityStageChange).

    The deals counted are those of the group in the actor's scope with a stage change between
    `start` and `end` (both days included; created, moved, won, lost or reopened then). A deal
    has reached a stage when, by `end`, it had been in that stage or a later one, or had been
    won (a won deal passed every stage); the last row counts the deals whose latest change by
    `end` is a win. Each row's conversion is the share of its deals that reached the next row,
    in per cent (None when the row has no deals). Amounts are the deals' expected amounts.
    `department_ids` limits the deals to those units and the units below them."""
    start_at, end_at = _day_bounds(start, end)
    deals = opportunity_list(actor=actor).filter(stage_group=stage_group)
    if department_ids is not None:
        deals = _in_units(deals, department_ids)
    deals = deals.filter(
        pk__in=OpportunityStageChange.objects.filter(at__gte=start_at, at__lte=end_at).values(
            "opportunity_id"
        )
    )
    by_end = OpportunityStageChange.objects.filter(opportunity=OuterRef("pk"), at__lte=end_at)
    deals = deals.annotate(
        reached=Subquery(
            by_end.filter(to_stage__isnull=False)
            .order_by()
            .values("opportunity")
            .annotate(top=Max("to_stage__sort_order"))
            .values("top")
        ),
        last_status=Subquery(by_end.order_by("-at", "-pk").values("status")[:1]),
    )
    stages = stages_of(stage_group)
    won = Q(last_status=OpportunityStatus.WON)
    aggregates: dict[str, Any] = {
        "won_n": Count("pk", filter=won),
        "won_a": Sum("expected_amount", filter=won),
    }
    for stage in stages:
        condition = Q(reached__gte=stage.sort_order) | won
        aggregates[f"n{stage.pk}"] = Count("pk", filter=condition)
        aggregates[f"a{stage.pk}"] = Sum("expected_amount", filter=condition)
    figures = deals.order_by().aggregate(**aggregates)
    counts = [(stage, figures[f"n{stage.pk}"], figures[f"a{stage.pk}"]) for stage in stages]
    counts.append((None, figures["won_n"], figures["won_a"]))
    rows = []
    for index, (stage, count, amount) in enumerate(counts):
        following = counts[index + 1][1] if index + 1 < len(counts) else None
        rows.append(
            FunnelRow(
                stage=stage,
                label=stage.name if stage is not None else gettext("Won"),
                count=count or 0,
                amount=Decimal(amount or 0).quantize(CENT),
                conversion=_percent(following, count) if following is not None else None,
            )
        )
    return rows


@dataclass(frozen=True)
class PipelineSummary:
    count: int
    amount: Decimal
    weighted_amount: Decimal


def pipeline_summary(*, actor, department_ids=None) -> PipelineSummary:
    """Open opportunities in the actor's scope: how many, their expected amount, and that
    amount weighted by each one's stage win % (加权金额)."""
    deals = opportunity_list(actor=actor).filter(status=OpportunityStatus.OPEN)
    if department_ids is not None:
        deals = _in_units(deals, department_ids)
    rows = (
        deals.order_by()
        .values("stage__win_percent")
        .annotate(n=Count("pk"), amount=Sum("expected_amount"))
    )
    count, amount, weighted = 0, ZERO, ZERO
    for row in rows:
        count += row["n"]
        amount += row["amount"] or ZERO
        weighted += _weighted(row["amount"], OpportunityStatus.OPEN, row["stage__win_percent"])
    return PipelineSummary(count=count, amount=amount.quantize(CENT), weighted_amount=weighted)
