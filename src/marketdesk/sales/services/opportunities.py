"""Every write of the opportunities part of sales (商机): create and edit, stage moves (the form
and the kanban board use the same rule), end states won / lost / invalid with a reason, reopen,
conversion to an order, competitors on the deal, stage groups and competitors, and the moves
when a customer changes hands or an employee leaves. Each stage move and end is recorded as an
`OpportunityStageChange`, from which the funnel is computed."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.core.numbering import next_number
from marketdesk.core.scope import scope_for
from marketdesk.crm.models import Contact, Customer
from marketdesk.org.models import Department, EmployeeStatus
from marketdesk.org.selectors import employee_for_user

from .. import selectors_opportunities as selectors
from ..models import (
    Competitor,
    Opportunity,
    OpportunityCompetitor,
    OpportunityStageChange,
    OpportunityStatus,
    Stage,
    StageGroup,
)
from ..permissions import SalesPerm

SEQUENCE = "SJ"

MSG_NO_PERMISSION = _("You do not have permission to do this.")
MSG_NOT_EDITABLE = _("Only the owner of the opportunity or their leader may change it.")
MSG_CLOSED = _("This opportunity is closed (%(status)s); reopen it first.")
MSG_STAGE_GROUP = _("The stage %(stage)s is not a stage of this opportunity's group (%(group)s).")
MSG_NO_STAGE_GROUP = _(
    "No stage group is set up for %(unit)s or for the company; ask the administrator to add one."
)
MSG_CUSTOMER = _(
    "Choose a customer you may work on: your own, one whose team you are on with write access, "
    "or one in your group (pool customers are claimed first)."
)
MSG_CONTACT = _("This contact belongs to another customer.")
MSG_OWNER = _("The owner must be an active salesperson in your team.")
MSG_LOST_REASON = _("Give the reason the deal was lost.")
MSG_INVALID_REASON = _("Give the reason the opportunity is invalid.")
MSG_NOT_CLOSED = _("This opportunity is open; only a won, lost or invalid one can be reopened.")
MSG_REOPEN = _("Only the owner or their leader may reopen an opportunity.")
MSG_CONVERT = _("Only an open or won opportunity can be converted to an order.")
MSG_LOST_TO_RIVAL = _("The deal was lost to this competitor; it stays on the deal.")
MSG_GROUP_UNIT = _("%(unit)s already has an active stage group (%(group)s).")
MSG_GROUP_DEFAULT = _("There is already an active company default stage group (%(group)s).")
MSG_NO_STAGES = _("Add at least one stage.")
MSG_STAGE_NAME_TWICE = _("The stage name %(name)s is used twice.")
MSG_STAGE_ORDER_TWICE = _("Two stages have the order %(order)s.")
MSG_WIN_PERCENT = _("The win percentage must be between 0 and 100.")
MSG_STAGE_NAME = _("Give the stage a name.")
MSG_STAGE_IN_USE = _("The stage %(name)s is used by opportunities and cannot be removed.")
MSG_COMPETITOR_NAME = _("A competitor with this name already exists.")
MSG_NAME = _("Give a name.")
MSG_WEBSITE = _("Give a web address such as www.example.com.")

UPDATABLE = (
    "name",
    "customer",
    "contact",
    "owner",
    "stage",
    "expected_amount",
    "expected_close_date",
    "notes",
    "competitors",
)


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


def _department_of(user) -> Department | None:
    employee = employee_for_user(user)
    return employee.department if employee else None


def _locked(opportunity: Opportunity) -> Opportunity:
    return (
        Opportunity.objects.select_for_update()
        .select_related("stage", "stage_group")
        .get(pk=opportunity.pk)
    )


def _editable(actor, opportunity: Opportunity) -> Opportunity:
    """Lock the row, then check the actor may change it (owner, write team member, leader)."""
    _require(actor, SalesPerm.ADD_OPPORTUNITY)
    opportunity = _locked(opportunity)
    if not selectors.can_edit_opportunity(actor=actor, opportunity=opportunity):
        raise PermissionDenied(MSG_NOT_EDITABLE)
    return opportunity


def _require_open(opportunity: Opportunity) -> None:
    if not opportunity.is_open:
        raise ValidationError(
            MSG_CLOSED, code="closed", params={"status": opportunity.get_status_display()}
        )


def _record(
    opportunity: Opportunity,
    *,
    actor,
    status: str,
    from_stage: Stage | None,
    to_stage: Stage | None,
    at: datetime.datetime | None = None,
) -> OpportunityStageChange:
    return OpportunityStageChange.objects.create(
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=to_stage,
        status=status,
        at=at or timezone.now(),
        by=actor,
    )


def _save(opportunity: Opportunity, actor) -> None:
    opportunity.updated_by = actor
    opportunity._history_user = actor
    opportunity.full_clean()
    opportunity.save()


def _check_owner(actor, owner) -> None:
    """The actor themselves, or an active colleague who works on opportunities and whose unit
    the actor leads (a group leader for the group, the manager for the department)."""
    if owner.pk == actor.pk:
        return
    employee = employee_for_user(owner)
    scope = scope_for(actor, SalesPerm.VIEW_OPPORTUNITY)
    in_team = scope.all or (employee is not None and employee.department_id in scope.department_ids)
    if (
        employee is None
        or employee.status != EmployeeStatus.ACTIVE
        or not owner.is_active
        or not owner.has_perm(SalesPerm.ADD_OPPORTUNITY)
        or not in_team
    ):
        raise ValidationError({"owner": ValidationError(MSG_OWNER, code="owner")})


def _check_customer(actor, customer: Customer) -> None:
    if not selectors.customer_usable(actor=actor, customer=customer):
        raise ValidationError({"customer": ValidationError(MSG_CUSTOMER, code="customer")})


def _check_contact(customer: Customer, contact: Contact | None) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": ValidationError(MSG_CONTACT, code="contact")})


def _check_stage(group: StageGroup, stage: Stage) -> None:
    if stage.group_id != group.pk:
        raise ValidationError(
            {
                "stage": ValidationError(
                    MSG_STAGE_GROUP,
                    code="stage_group",
                    params={"stage": stage.name, "group": group.name},
                )
            }
        )


def _set_competitors(opportunity: Opportunity, competitors: Iterable[Competitor] | None) -> None:
    """Make the deal's competitors exactly these (their prices and notes are kept)."""
    if competitors is None:
        return
    wanted = {competitor.pk for competitor in competitors}
    if opportunity.lost_to_id:
        wanted.add(opportunity.lost_to_id)
    opportunity.rivals.exclude(competitor_id__in=wanted).delete()
    existing = set(opportunity.rivals.values_list("competitor_id", flat=True))
    OpportunityCompetitor.objects.bulk_create(
        [
            OpportunityCompetitor(opportunity=opportunity, competitor_id=pk)
            for pk in sorted(wanted - existing)
        ]
    )


# Create and edit ----------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    actor,
    name: str,
    customer: Customer,
    expected_amount: Decimal = Decimal("0.00"),
    expected_close_date: datetime.date | None = None,
    contact: Contact | None = None,
    owner=None,
    stage: Stage | None = None,
    notes: str = "",
    competitors: Iterable[Competitor] | None = None,
) -> Opportunity:
    """Open an opportunity. It takes the stage group of its owner's unit (or of the nearest
    unit above, else the company default) and starts in the group's first stage unless
    another stage of that group is given."""
    _require(actor, SalesPerm.ADD_OPPORTUNITY)
    owner = owner or actor
    _check_owner(actor, owner)
    _check_customer(actor, customer)
    _check_contact(customer, contact)
    department = _department_of(owner)
    group = selectors.stage_group_for_department(department)
    if group is None:
        raise ValidationError(
            {
                "stage": ValidationError(
                    MSG_NO_STAGE_GROUP,
                    code="no_stage_group",
                    params={"unit": department.name if department else "—"},
                )
            }
        )
    stages = selectors.stages_of(group)
    if stage is None:
        if not stages:
            raise ValidationError({"stage": ValidationError(MSG_NO_STAGES, code="no_stages")})
        stage = stages[0]
    _check_stage(group, stage)
    opportunity = Opportunity(
        number=next_number(SEQUENCE),
        name=(name or "").strip(),
        customer=customer,
        contact=contact,
        owner=owner,
        department=department,
        stage_group=group,
        stage=stage,
        status=OpportunityStatus.OPEN,
        expected_amount=expected_amount if expected_amount is not None else Decimal("0.00"),
        expected_close_date=expected_close_date,
        notes=notes or "",
        created_by=actor,
    )
    _save(opportunity, actor)
    _record(
        opportunity, actor=actor, status=OpportunityStatus.OPEN, from_stage=None, to_stage=stage
    )
    _set_competitors(opportunity, competitors)
    return opportunity


def _move(opportunity: Opportunity, stage: Stage, actor) -> bool:
    """The one rule for a stage move (the form, the board and the API): open, and a stage of
    the opportunity's own group. Records the change; False when nothing moved."""
    _require_open(opportunity)
    _check_stage(opportunity.stage_group, stage)
    if stage.pk == opportunity.stage_id:
        return False
    previous = opportunity.stage
    opportunity.stage = stage
    _save(opportunity, actor)
    _record(
        opportunity, actor=actor, status=OpportunityStatus.OPEN, from_stage=previous, to_stage=stage
    )
    return True


@transaction.atomic
def opportunity_update(*, actor, opportunity: Opportunity, **fields: Any) -> Opportunity:
    """Change an open opportunity (any of UPDATABLE). A new stage follows the move rule; a new
    owner must be in the actor's team and brings the owner's unit; a new customer must be one
    the actor may work on, and the contact must belong to the customer."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")
    opportunity = _editable(actor, opportunity)
    _require_open(opportunity)
    competitors = fields.pop("competitors", None)
    stage = fields.pop("stage", None)
    if (
        "owner" in fields
        and fields["owner"] is not None
        and fields["owner"].pk != opportunity.owner_id
    ):
        _check_owner(actor, fields["owner"])
        opportunity.owner = fields["owner"]
        opportunity.department = _department_of(fields["owner"])
    fields.pop("owner", None)
    if "customer" in fields and fields["customer"].pk != opportunity.customer_id:
        _check_customer(actor, fields["customer"])
        opportunity.customer = fields["customer"]
    fields.pop("customer", None)
    if "contact" in fields:
        opportunity.contact = fields.pop("contact")
    _check_contact(opportunity.customer, opportunity.contact)
    for name, value in fields.items():
        if name == "name":
            value = (value or "").strip()
        if name == "notes":
            value = value or ""
        setattr(opportunity, name, value)
    previous = opportunity.stage
    if stage is not None and stage.pk != opportunity.stage_id:
        _check_stage(opportunity.stage_group, stage)
        opportunity.stage = stage
    _save(opportunity, actor)
    if opportunity.stage_id != previous.pk:
        _record(
            opportunity,
            actor=actor,
            status=OpportunityStatus.OPEN,
            from_stage=previous,
            to_stage=opportunity.stage,
        )
    _set_competitors(opportunity, competitors)
    return opportunity


@transaction.atomic
def opportunity_move(*, actor, opportunity: Opportunity, stage: Stage) -> Opportunity:
    """Move an open opportunity to another stage of its group (the board's drag and drop and
    its "move to" select call this, as the form does)."""
    opportunity = _editable(actor, opportunity)
    _move(opportunity, stage, actor)
    return opportunity


# End states and reopening -------------------------------------------------------------------------


def _close(opportunity: Opportunity, *, actor, status: str, reason: str) -> Opportunity:
    _require_open(opportunity)
    opportunity.status = status
    opportunity.end_reason = reason
    opportunity.closed_at = timezone.now()
    _save(opportunity, actor)
    _record(opportunity, actor=actor, status=status, from_stage=opportunity.stage, to_stage=None)
    return opportunity


@transaction.atomic
def opportunity_win(*, actor, opportunity: Opportunity, reason: str = "") -> Opportunity:
    opportunity = _editable(actor, opportunity)
    return _close(
        opportunity, actor=actor, status=OpportunityStatus.WON, reason=(reason or "").strip()
    )


@transaction.atomic
def opportunity_lose(
    *, actor, opportunity: Opportunity, reason: str, competitor: Competitor | None = None
) -> Opportunity:
    """Mark the deal lost, with the reason and optionally the competitor it was lost to (who is
    then also recorded as a competitor on the deal)."""
    reason = (reason or "").strip()
    opportunity = _editable(actor, opportunity)
    _require_open(opportunity)
    if not reason:
        raise ValidationError({"reason": ValidationError(MSG_LOST_REASON, code="required")})
    opportunity.lost_to = competitor
    _close(opportunity, actor=actor, status=OpportunityStatus.LOST, reason=reason)
    if competitor is not None:
        OpportunityCompetitor.objects.get_or_create(opportunity=opportunity, competitor=competitor)
    return opportunity


@transaction.atomic
def opportunity_invalidate(*, actor, opportunity: Opportunity, reason: str) -> Opportunity:
    """Mark the opportunity invalid (无效: no real need, duplicate, wrong contact), with a reason."""
    reason = (reason or "").strip()
    opportunity = _editable(actor, opportunity)
    _require_open(opportunity)
    if not reason:
        raise ValidationError({"reason": ValidationError(MSG_INVALID_REASON, code="required")})
    return _close(opportunity, actor=actor, status=OpportunityStatus.INVALID, reason=reason)


@transaction.atomic
def opportunity_reopen(*, actor, opportunity: Opportunity) -> Opportunity:
    """Open a won, lost or invalid opportunity again, in the stage it ended in (the owner or
    a leader only; the end reason stays in the history)."""
    _require(actor, SalesPerm.ADD_OPPORTUNITY)
    opportunity = _locked(opportunity)
    if opportunity.is_open:
        raise ValidationError(MSG_NOT_CLOSED, code="open")
    if not selectors.can_reopen(actor=actor, opportunity=opportunity):
        raise PermissionDenied(MSG_REOPEN)
    opportunity.status = OpportunityStatus.OPEN
    opportunity.end_reason = ""
    opportunity.lost_to = None
    opportunity.closed_at = None
    _save(opportunity, actor)
    _record(
        opportunity,
        actor=actor,
        status=OpportunityStatus.OPEN,
        from_stage=None,
        to_stage=opportunity.stage,
    )
    return opportunity


@transaction.atomic
def opportunity_convert(*, actor, opportunity: Opportunity) -> Opportunity:
    """ "Convert to order": an open opportunity is won (and the win recorded); a won one stays
    won. The caller then opens the order form with `?opportunity=<pk>`."""
    _require(actor, SalesPerm.ADD_ORDER)
    opportunity = _editable(actor, opportunity)
    if opportunity.status not in (OpportunityStatus.OPEN, OpportunityStatus.WON):
        raise ValidationError(MSG_CONVERT, code="not_convertible")
    if opportunity.is_open:
        _close(opportunity, actor=actor, status=OpportunityStatus.WON, reason="")
    return opportunity


# Competitors on the deal --------------------------------------------------------------------------


@transaction.atomic
def opportunity_competitor_save(
    *,
    actor,
    opportunity: Opportunity,
    competitor: Competitor,
    their_price: Decimal | None = None,
    notes: str = "",
) -> OpportunityCompetitor:
    """Add a competitor to the deal, or update their price and notes (also on a closed deal:
    what the winner offered is worth keeping)."""
    opportunity = _editable(actor, opportunity)
    rival = OpportunityCompetitor.objects.filter(
        opportunity=opportunity, competitor=competitor
    ).first() or OpportunityCompetitor(opportunity=opportunity, competitor=competitor)
    rival.their_price = their_price
    rival.notes = (notes or "").strip()
    rival.full_clean()
    rival.save()
    opportunity.updated_by = actor
    opportunity.save(update_fields=["updated_by", "updated_at"])
    return rival


@transaction.atomic
def opportunity_competitor_remove(
    *, actor, opportunity: Opportunity, competitor: Competitor
) -> None:
    opportunity = _editable(actor, opportunity)
    if opportunity.lost_to_id == competitor.pk:
        raise ValidationError(MSG_LOST_TO_RIVAL, code="lost_to")
    OpportunityCompetitor.objects.filter(opportunity=opportunity, competitor=competitor).delete()


# Moves when people or customers change -----------------------------------------------------------


def _reassign(ids: list[int], to_user, actor) -> int:
    department = _department_of(to_user)
    for opportunity in Opportunity.objects.filter(pk__in=ids).order_by("pk"):
        opportunity.owner = to_user
        opportunity.department = department
        opportunity.updated_by = actor
        opportunity._history_user = actor
        opportunity.save(update_fields=["owner", "department", "updated_by", "updated_at"])
    return len(ids)


def opportunities_follow_customer(*, customer, from_user, to_user, actor) -> int:
    """crm owner-change hook (a customer transferred with "cascade"): the previous owner's open
    opportunities on the customer go to the new owner. Runs inside crm's transaction."""
    if from_user is None:
        return 0
    ids = list(
        Opportunity.objects.select_for_update()
        .filter(customer=customer, owner=from_user, status=OpportunityStatus.OPEN)
        .values_list("pk", flat=True)
    )
    return _reassign(ids, to_user, actor)


def opportunities_handover(from_user, to_user, actor) -> int:
    """离职继承: a departing employee's open opportunities go to the successor."""
    ids = list(
        Opportunity.objects.select_for_update()
        .filter(owner=from_user, status=OpportunityStatus.OPEN)
        .values_list("pk", flat=True)
    )
    return _reassign(ids, to_user, actor)


# Stage groups -----------------------------------------------------------------------------------


def _clean_stages(stages: list[dict]) -> list[dict]:
    """Check the stage rows (name, win_percent, sort_order, optional id); errors name the row
    as stages[n].field (1-based)."""
    errors: dict[str, list] = {}
    names: set[str] = set()
    orders: set[int] = set()
    cleaned = []
    for index, row in enumerate(stages, start=1):
        name = (row.get("name") or "").strip()
        percent = row.get("win_percent")
        order = row.get("sort_order")
        if not name:
            errors.setdefault(f"stages[{index}].name", []).append(MSG_STAGE_NAME)
        elif name in names:
            errors.setdefault(f"stages[{index}].name", []).append(
                ValidationError(MSG_STAGE_NAME_TWICE, params={"name": name})
            )
        if percent is None or not 0 <= int(percent) <= 100:
            errors.setdefault(f"stages[{index}].win_percent", []).append(MSG_WIN_PERCENT)
        if order is None or int(order) < 0:
            order = index
        if int(order) in orders:
            errors.setdefault(f"stages[{index}].sort_order", []).append(
                ValidationError(MSG_STAGE_ORDER_TWICE, params={"order": order})
            )
        names.add(name)
        orders.add(int(order))
        cleaned.append(
            {
                "id": row.get("id"),
                "name": name,
                "win_percent": int(percent) if percent is not None else 0,
                "sort_order": int(order),
            }
        )
    if not cleaned:
        errors.setdefault("stages", []).append(MSG_NO_STAGES)
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def stage_group_save(
    *,
    actor,
    group: StageGroup | None = None,
    name: str,
    department: Department | None = None,
    active: bool = True,
    stages: list[dict],
) -> StageGroup:
    """Create or change a stage group with its full list of stages (name, win %, order; rows
    with an `id` change that stage, rows without add one, stages left out are removed if no
    opportunity uses them). One active group per unit and one active company default."""
    _require(actor, SalesPerm.CHANGE_STAGE_GROUP)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ValidationError(MSG_NAME, code="required")})
    rows = _clean_stages(stages)
    if group is not None:
        group = StageGroup.objects.select_for_update().get(pk=group.pk)
    if active:
        clash = StageGroup.objects.filter(active=True, department=department)
        if group is not None:
            clash = clash.exclude(pk=group.pk)
        other = clash.first()
        if other is not None:
            if department is None:
                raise ValidationError(
                    {
                        "department": ValidationError(
                            MSG_GROUP_DEFAULT, code="unique", params={"group": other.name}
                        )
                    }
                )
            raise ValidationError(
                {
                    "department": ValidationError(
                        MSG_GROUP_UNIT,
                        code="unique",
                        params={"unit": department.name, "group": other.name},
                    )
                }
            )
    if group is None:
        group = StageGroup(created_by=actor)
    group.name = name
    group.department = department
    group.active = active
    group.updated_by = actor
    group.full_clean()
    group.save()
    existing = {stage.pk: stage for stage in Stage.objects.filter(group=group)}
    kept = {row["id"] for row in rows if row["id"] in existing}
    for pk, stage in existing.items():
        if pk in kept:
            continue
        try:
            with transaction.atomic():
                stage.delete()
        except ProtectedError:
            raise ValidationError(
                {"stages": ValidationError(MSG_STAGE_IN_USE, params={"name": stage.name})}
            ) from None
    # Park the kept stages out of the way first, so swapping two orders never collides with
    # the unique (group, order) constraint halfway.
    for offset, pk in enumerate(sorted(kept)):
        Stage.objects.filter(pk=pk).update(sort_order=20000 + offset)
    for row in rows:
        stage = existing.get(row["id"]) if row["id"] in kept else Stage(group=group)
        stage.name = row["name"]
        stage.win_percent = row["win_percent"]
        stage.sort_order = row["sort_order"]
        stage.save()
    return group


# Competitors --------------------------------------------------------------------------------------


@transaction.atomic
def competitor_save(
    *,
    actor,
    competitor: Competitor | None = None,
    name: str,
    website: str = "",
    strengths: str = "",
    weaknesses: str = "",
    active: bool = True,
) -> Competitor:
    _require(actor, SalesPerm.CHANGE_COMPETITOR)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ValidationError(MSG_NAME, code="required")})
    clash = Competitor.objects.filter(name=name)
    if competitor is not None:
        clash = clash.exclude(pk=competitor.pk)
    if clash.exists():
        raise ValidationError({"name": ValidationError(MSG_COMPETITOR_NAME, code="unique")})
    website = (website or "").strip()
    if website and "://" not in website:
        website = f"https://{website}"
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            raise ValidationError(
                {"website": ValidationError(MSG_WEBSITE, code="invalid")}
            ) from None
    competitor = competitor or Competitor(created_by=actor)
    competitor.name = name
    competitor.website = website
    competitor.strengths = strengths or ""
    competitor.weaknesses = weaknesses or ""
    competitor.active = active
    competitor.updated_by = actor
    competitor.full_clean()
    competitor.save()
    return competitor


def message_of(exc: Exception) -> str:
    """One line for a card or a flash message."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or gettext("You do not have permission to do this.")
