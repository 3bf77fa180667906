"""Every write of the CRM app: customers and contacts, the pool (claim, assign, transfer,
return, lock), follow-ups, revisits, segments, settings, and the nightly pool job."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.core import services as core_services
from marketdesk.core.models import RecordAccess, RecordShare
from marketdesk.core.notifications import notify
from marketdesk.core.numbering import next_number
from marketdesk.core.validators import normalise_credit_code, normalise_mobile
from marketdesk.org.models import Department, Employee, EmployeeStatus
from marketdesk.org.selectors import department_head, employee_for_user

from . import selectors
from .matching import name_key
from .models import (
    Contact,
    CrmSettings,
    Customer,
    CustomerExportRequest,
    CustomerKind,
    CustomerPool,
    CustomerStage,
    DuplicateMode,
    ExportRequestStatus,
    FollowUp,
    FollowUpKind,
    HoldingLimit,
    OwnerChange,
    OwnerChangeKind,
    Revisit,
    RevisitStatus,
    Segment,
    Tag,
)
from .permissions import CrmPerm
from .registry import owner_change_hooks

logger = logging.getLogger("marketdesk.crm")
User = get_user_model()

MSG_NO_PERMISSION = _("You do not have permission to do this.")
MSG_NOT_IN_POOL = _("This customer is no longer in the pool; someone else has claimed it.")
MSG_POOL_NOT_YOURS = _("You are not a member of this customer pool.")
MSG_COOLDOWN = _(
    "You returned this customer to the pool on %(date)s; you may claim it again from %(until)s."
)
MSG_DAILY_CAP = _("You have already claimed %(cap)s customers today, the daily limit of this pool.")
MSG_OWNED_LIMIT = _("%(name)s already owns %(count)s customers, the limit is %(limit)s.")
MSG_LOCKED_LIMIT = _("%(name)s already has %(count)s locked customers, the limit is %(limit)s.")
MSG_LOCKED_NO_RETURN = _("A locked customer cannot be returned to the pool; unlock it first.")
MSG_IN_POOL = _("This customer is in the pool; claim or assign it first.")
MSG_REASON = _("Give a reason.")
MSG_SAME_OWNER = _("The customer already belongs to %(name)s.")
MSG_NOT_EMPLOYEE = _("%(name)s is not an active employee.")
MSG_NO_POOL = _("No customer pool is set up; ask an administrator to create one.")
MSG_DUP_NAME = _("A customer with this name already exists: %(where)s.")
MSG_DUP_CREDIT = _("A customer with this credit code already exists: %(where)s.")
MSG_DUP_MOBILE = _("A customer or contact with this mobile already exists: %(where)s.")
MSG_DUP_CONFIRM = _("Possible duplicates were found. Check them, then save again to confirm.")
MSG_CREDIT_FOR_COMPANY = _("Only a company has a unified social credit code.")
MSG_BIRTHDAY_INDIVIDUAL = _("Only an individual customer has a birthday; record it on a contact.")
MSG_FUTURE = _("This time is in the future.")
MSG_NEXT_BEFORE = _("The next follow-up must be after this one.")
MSG_CONTACT_OTHER = _("This contact belongs to another customer.")
MSG_COORDINATES = _("Give both latitude and longitude, or neither.")
MSG_REVISIT_DONE = _("This revisit has already been recorded.")
MSG_SEGMENT_NAME = _("You already have a saved filter with this name.")
MSG_EXPORT_USED = _("This export request has been used or is not approved.")


def _check(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


def _crm_settings() -> CrmSettings:
    return selectors.crm_settings()


# Duplicates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateMatch:
    """A customer that looks like the one being saved. Shown even outside the user's scope,
    but then only as "belongs to 李强, 销售一组": no id, no link, no details."""

    field: str  # name, credit_code, mobile
    customer_id: int
    name: str
    owner: str
    department: str
    visible: bool

    @property
    def where(self) -> str:
        if self.owner:
            owner = gettext("belongs to %(owner)s") % {"owner": self.owner}
            where = f"{owner}, {self.department}" if self.department else owner
        else:
            where = gettext("in the customer pool")
        return f"{self.name} ({where})" if self.visible else where


def find_duplicates(
    *,
    actor,
    name: str = "",
    credit_code: str = "",
    mobiles: list[str] | None = None,
    exclude_pk: int | None = None,
    kind: str = CustomerKind.COMPANY,
) -> list[DuplicateMatch]:
    """Companies match by normalised name, credit code or mobile; individuals (two people may
    well share a name) by mobile only."""
    visible_ids: set[int] | None = None
    found: list[tuple[str, Customer]] = []
    base = Customer.objects.select_related("owner", "department")
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    key = name_key(name) if kind != CustomerKind.INDIVIDUAL else ""
    if key:
        found += [
            ("name", c) for c in base.filter(name_key=key).exclude(kind=CustomerKind.INDIVIDUAL)[:5]
        ]
    if credit_code:
        found += [("credit_code", c) for c in base.filter(credit_code=credit_code)[:5]]
    mobiles = [m for m in (mobiles or []) if m]
    if mobiles:
        ids = set(base.filter(mobile__in=mobiles).values_list("pk", flat=True)[:5])
        contact_customers = Contact.objects.filter(mobile__in=mobiles)
        if exclude_pk:
            contact_customers = contact_customers.exclude(customer_id=exclude_pk)
        ids |= set(contact_customers.values_list("customer_id", flat=True)[:5])
        found += [("mobile", c) for c in base.filter(pk__in=ids)]
    if found:
        visible_ids = set(
            selectors.customer_list(actor=actor)
            .filter(pk__in=[c.pk for _, c in found])
            .values_list("pk", flat=True)
        )
    matches = []
    for field_name, customer in found:
        matches.append(
            DuplicateMatch(
                field=field_name,
                customer_id=customer.pk,
                name=customer.name,
                owner=str(customer.owner) if customer.owner else "",
                department=customer.department.name if customer.department else "",
                visible=customer.pk in (visible_ids or set()),
            )
        )
    return matches


def _raise_duplicates(matches: list[DuplicateMatch], *, confirmed: bool) -> None:
    if not matches:
        return
    mode = _crm_settings().duplicate_mode
    if mode == DuplicateMode.WARN and confirmed:
        return
    messages = {"name": MSG_DUP_NAME, "credit_code": MSG_DUP_CREDIT, "mobile": MSG_DUP_MOBILE}
    errors: dict[str, list] = {}
    for match in matches:
        errors.setdefault(match.field, []).append(
            ValidationError(messages[match.field], code="duplicate", params={"where": match.where})
        )
    if mode == DuplicateMode.WARN:
        errors.setdefault("__all__", []).append(
            ValidationError(MSG_DUP_CONFIRM, code="duplicate_confirm")
        )
    raise ValidationError(errors)


# Limits and pools -------------------------------------------------------------------------


def _employee(user) -> Employee | None:
    return employee_for_user(user) if user is not None else None


def holding_limit_for(user) -> HoldingLimit | None:
    """The person's own limit, else the nearest unit's (own unit, then upwards)."""
    own = HoldingLimit.objects.filter(user=user).first()
    if own is not None:
        return own
    employee = _employee(user)
    if employee is None:
        return None
    ancestors = [int(part) for part in employee.department.path.strip("/").split("/") if part]
    limits = {
        limit.department_id: limit
        for limit in HoldingLimit.objects.filter(department_id__in=ancestors)
    }
    for department_id in reversed(ancestors):
        if department_id in limits:
            return limits[department_id]
    return limits.get(employee.department_id)


def _check_owned_limit(user, *, adding: int = 1) -> None:
    limit = holding_limit_for(user)
    if limit is None or limit.max_owned is None:
        return
    count = Customer.objects.filter(owner=user).count()
    if count + adding > limit.max_owned:
        raise ValidationError(
            MSG_OWNED_LIMIT,
            code="owned_limit",
            params={"name": str(user), "count": count, "limit": limit.max_owned},
        )


def _check_locked_limit(user) -> None:
    limit = holding_limit_for(user)
    if limit is None or limit.max_locked is None:
        return
    count = Customer.objects.filter(owner=user, locked=True).count()
    if count + 1 > limit.max_locked:
        raise ValidationError(
            MSG_LOCKED_LIMIT,
            code="locked_limit",
            params={"name": str(user), "count": count, "limit": limit.max_locked},
        )


def pool_for(*, department: Department | None, province: str = "") -> CustomerPool | None:
    """The pool a customer returns to: the pool of its province, else of the nearest unit
    (own unit, then upwards), else the default pool."""
    pools = list(CustomerPool.objects.filter(active=True))
    if province:
        for pool in pools:
            names = [p.strip() for p in pool.provinces.replace("，", ",").split(",") if p.strip()]
            if province in names:
                return pool
    if department is not None:
        ancestors = [int(p) for p in department.path.strip("/").split("/") if p]
        by_department = {pool.department_id: pool for pool in pools if pool.department_id}
        for department_id in reversed(ancestors):
            if department_id in by_department:
                return by_department[department_id]
    return next((pool for pool in pools if pool.is_default), None)


def _active_user(user) -> Employee:
    employee = _employee(user)
    if employee is None or employee.status != EmployeeStatus.ACTIVE or not user.is_active:
        raise ValidationError(
            {"owner": ValidationError(MSG_NOT_EMPLOYEE, params={"name": str(user)})}
        )
    return employee


def _lock_user(user) -> None:
    """Serialise one person's claims (daily cap, holding limit) across concurrent requests."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def _log_change(
    customer: Customer, kind: str, *, from_user, to_user, by, reason: str = "", pool=None
) -> OwnerChange:
    return OwnerChange.objects.create(
        customer=customer,
        kind=kind,
        from_user=from_user,
        to_user=to_user,
        by=by,
        reason=reason[:200],
        pool=pool,
        at=timezone.now(),
    )


def _set_owner(customer: Customer, user, employee: Employee, *, now: datetime.datetime) -> None:
    customer.owner = user
    customer.department = employee.department
    customer.owned_since = now
    customer.pooled_at = None
    customer.return_reminded_at = None
    customer.locked = False


# Customers --------------------------------------------------------------------------------

CUSTOMER_FIELDS = (
    "kind",
    "name",
    "credit_code",
    "mobile",
    "industry",
    "province",
    "city",
    "district",
    "address",
    "source",
    "level",
    "stage",
    "products_of_interest",
    "budget",
    "purchase_timing",
    "pain_points",
    "birthday",
    "member_since",
    "notes",
)


def _clean_customer_values(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list] = {}
    cleaned = dict(values)
    for text_field in ("name", "credit_code", "mobile", "province", "city", "district"):
        if text_field in cleaned and cleaned[text_field] is not None:
            cleaned[text_field] = str(cleaned[text_field]).strip()
    if cleaned.get("credit_code"):
        try:
            cleaned["credit_code"] = normalise_credit_code(cleaned["credit_code"])
        except ValidationError as exc:
            errors["credit_code"] = exc.error_list
    if cleaned.get("mobile"):
        try:
            cleaned["mobile"] = normalise_mobile(cleaned["mobile"])
        except ValidationError as exc:
            errors["mobile"] = exc.error_list
    kind = cleaned.get("kind") or CustomerKind.COMPANY  # the model's default
    if kind == CustomerKind.INDIVIDUAL and cleaned.get("credit_code"):
        errors.setdefault("credit_code", []).append(ValidationError(MSG_CREDIT_FOR_COMPANY))
    if kind == CustomerKind.COMPANY and cleaned.get("birthday"):
        errors.setdefault("birthday", []).append(ValidationError(MSG_BIRTHDAY_INDIVIDUAL))
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def customer_create(
    *,
    actor,
    owner=None,
    to_pool: bool = False,
    tags: list[Tag] | None = None,
    confirm_duplicates: bool = False,
    change_kind: str = OwnerChangeKind.CREATE,
    **values: Any,
) -> Customer:
    """Create a customer owned by `owner` (default: the actor), or straight into the pool."""
    _check(actor, CrmPerm.ADD_CUSTOMER)
    values = _clean_customer_values({k: v for k, v in values.items() if k in CUSTOMER_FIELDS})
    customer = Customer(**values, created_by=actor, updated_by=actor)
    customer.name_key = name_key(customer.name)
    now = timezone.now()
    if to_pool:
        creator = _employee(actor)
        customer.department = creator.department if creator else None
        customer.pooled_at = now
    else:
        owner = owner or actor
        if owner.pk != actor.pk:
            _check(actor, CrmPerm.ASSIGN_CUSTOMER)
        employee = _active_user(owner)
        _lock_user(owner)
        _check_owned_limit(owner)
        _set_owner(customer, owner, employee, now=now)
    customer.pool = pool_for(department=customer.department, province=customer.province)
    if to_pool and customer.pool is None:
        raise ValidationError(MSG_NO_POOL)
    if customer.stage == CustomerStage.DEAL:
        customer.won_at = now
    customer.full_clean(exclude=["number", "name_key"])
    _raise_duplicates(
        find_duplicates(
            actor=actor,
            name=customer.name,
            credit_code=customer.credit_code,
            mobiles=[customer.mobile],
            kind=customer.kind,
        ),
        confirmed=confirm_duplicates,
    )
    customer.number = next_number("CUS")
    customer._history_user = actor
    customer.save()
    if tags:
        customer.tags.set(tags)
    _log_change(
        customer,
        change_kind,
        from_user=None,
        to_user=customer.owner,
        by=actor,
        pool=customer.pool if to_pool else None,
    )
    return customer


def _editable_customer(actor, customer: Customer) -> Customer:
    """Re-read and lock the customer, checking the actor may change it."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if not selectors.can_edit_customer(actor=actor, customer=locked):
        raise PermissionDenied(MSG_NO_PERMISSION)
    return locked


@transaction.atomic
def customer_update(
    *,
    actor,
    customer: Customer,
    tags: list[Tag] | None = None,
    confirm_duplicates: bool = False,
    **values: Any,
) -> Customer:
    customer = _editable_customer(actor, customer)
    values = _clean_customer_values(
        {"kind": customer.kind, **{k: v for k, v in values.items() if k in CUSTOMER_FIELDS}}
    )
    before = (customer.name, customer.credit_code, customer.mobile)
    for name, value in values.items():
        setattr(customer, name, value)
    customer.name_key = name_key(customer.name)
    if values.get("stage") == CustomerStage.DEAL and customer.won_at is None:
        customer.won_at = timezone.now()
    customer.updated_by = actor
    customer.full_clean(exclude=["number", "name_key"])
    if (customer.name, customer.credit_code, customer.mobile) != before:
        _raise_duplicates(
            find_duplicates(
                actor=actor,
                name=customer.name if customer.name != before[0] else "",
                credit_code=customer.credit_code if customer.credit_code != before[1] else "",
                mobiles=[customer.mobile] if customer.mobile != before[2] else [],
                exclude_pk=customer.pk,
                kind=customer.kind,
            ),
            confirmed=confirm_duplicates,
        )
    customer._history_user = actor
    customer.save()
    if tags is not None:
        customer.tags.set(tags)
    return customer


@transaction.atomic
def customer_delete(*, actor, customer: Customer) -> None:
    _check(actor, CrmPerm.DELETE_CUSTOMER)
    customer = _editable_customer(actor, customer)
    customer._history_user = actor
    customer.delete()


# The pool ---------------------------------------------------------------------------------


@transaction.atomic
def customer_claim(*, actor, customer: Customer, now: datetime.datetime | None = None) -> Customer:
    """Take a customer from the pool, within the pool's rules and the person's limits."""
    _check(actor, CrmPerm.CLAIM_CUSTOMER)
    now = now or timezone.now()
    employee = _active_user(actor)
    _lock_user(actor)
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the pool join.
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("pool").get(pk=customer.pk)
    )
    if customer.owner_id is not None:
        raise ValidationError(MSG_NOT_IN_POOL, code="not_in_pool")
    pool = customer.pool
    if pool is not None and not selectors.pool_visible(actor=actor, pool=pool):
        raise PermissionDenied(MSG_POOL_NOT_YOURS)
    if (
        pool is not None
        and customer.previous_owner_id == actor.pk
        and customer.pooled_at is not None
        and pool.reclaim_cooldown_days
    ):
        until = customer.pooled_at + datetime.timedelta(days=pool.reclaim_cooldown_days)
        if now < until:
            raise ValidationError(
                MSG_COOLDOWN,
                code="cooldown",
                params={
                    "date": timezone.localdate(customer.pooled_at),
                    "until": timezone.localdate(until),
                },
            )
    if pool is not None and pool.daily_claim_cap is not None:
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        claimed = OwnerChange.objects.filter(
            to_user=actor, kind=OwnerChangeKind.CLAIM, pool=pool, at__gte=start, at__lte=now
        ).count()
        if claimed >= pool.daily_claim_cap:
            raise ValidationError(
                MSG_DAILY_CAP, code="daily_cap", params={"cap": pool.daily_claim_cap}
            )
    _check_owned_limit(actor)
    _set_owner(customer, actor, employee, now=now)
    customer.updated_by = actor
    customer._history_user = actor
    customer.save()
    change = _log_change(
        customer, OwnerChangeKind.CLAIM, from_user=None, to_user=actor, by=actor, pool=pool
    )
    change.at = now
    change.save(update_fields=["at"])
    return customer


@transaction.atomic
def customer_assign(
    *,
    actor,
    customer: Customer,
    to_user,
    keep_as_member: bool = False,
    cascade: bool = True,
    reason: str = "",
) -> Customer:
    """Give a pool customer an owner, or transfer an owned customer to someone else."""
    _check(actor, CrmPerm.ASSIGN_CUSTOMER)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is None:
        if not (
            selectors.pool_visible(actor=actor, pool=customer.pool)
            if customer.pool
            else selectors.customer_list(actor=actor).filter(pk=customer.pk).exists()
        ):
            raise PermissionDenied(MSG_NO_PERMISSION)
    elif not selectors.customer_list(actor=actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(MSG_NO_PERMISSION)
    if customer.owner_id == to_user.pk:
        raise ValidationError(
            {"to_user": ValidationError(MSG_SAME_OWNER, params={"name": str(to_user)})}
        )
    employee = _active_user(to_user)
    _lock_user(to_user)
    _check_owned_limit(to_user)
    if customer.locked:  # a transfer keeps the lock, so it counts against the new owner
        _check_locked_limit(to_user)
    previous = customer.owner
    was_locked = customer.locked
    _set_owner(customer, to_user, employee, now=timezone.now())
    # It now returns to the new owner's pool (a 华南 customer moved to 华东 returns there).
    customer.pool = pool_for(department=employee.department, province=customer.province) or (
        customer.pool
    )
    customer.locked = was_locked if previous is not None else False
    customer.updated_by = actor
    customer._history_user = actor
    customer.save()
    kind = OwnerChangeKind.TRANSFER if previous else OwnerChangeKind.ASSIGN
    _log_change(customer, kind, from_user=previous, to_user=to_user, by=actor, reason=reason)
    content_type = ContentType.objects.get_for_model(Customer)
    RecordShare.objects.filter(
        content_type=content_type, object_id=customer.pk, user=to_user
    ).delete()
    if previous is not None and keep_as_member:
        RecordShare.objects.update_or_create(
            content_type=content_type,
            object_id=customer.pk,
            user=previous,
            defaults={"access": RecordAccess.READ},
        )
    if previous is not None and cascade:
        Revisit.objects.filter(
            customer=customer, assignee=previous, status=RevisitStatus.PLANNED
        ).update(assignee=to_user, department=employee.department)
        for hook in owner_change_hooks():
            hook(customer=customer, from_user=previous, to_user=to_user, actor=actor)
    return customer


@transaction.atomic
def customer_return(*, actor, customer: Customer, reason: str) -> Customer:
    """Put an owned customer back in the pool, with a reason."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError(MSG_REASON, code="required")})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is None:
        raise ValidationError(MSG_IN_POOL, code="in_pool")
    is_owner = customer.owner_id == actor.pk
    if not is_owner:
        _check(actor, CrmPerm.ASSIGN_CUSTOMER)
    if not selectors.customer_list(actor=actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(MSG_NO_PERMISSION)
    if customer.locked:
        raise ValidationError(MSG_LOCKED_NO_RETURN, code="locked")
    pool = customer.pool or pool_for(department=customer.department, province=customer.province)
    if pool is None:
        raise ValidationError(MSG_NO_POOL)
    _to_pool(customer, pool=pool, now=timezone.now())
    customer.updated_by = actor
    customer._history_user = actor
    customer.save()
    _log_change(
        customer,
        OwnerChangeKind.RETURN,
        from_user=customer.previous_owner,
        to_user=None,
        by=actor,
        reason=reason.strip(),
        pool=pool,
    )
    return customer


def _to_pool(customer: Customer, *, pool: CustomerPool, now: datetime.datetime) -> None:
    customer.previous_owner_id = customer.owner_id
    customer.owner = None
    customer.pool = pool
    customer.pooled_at = now
    customer.locked = False
    customer.return_reminded_at = None
    Revisit.objects.filter(customer=customer, status=RevisitStatus.PLANNED).update(
        status=RevisitStatus.CANCELLED
    )
    # A pool customer has no team: whoever claims it next starts afresh.
    RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
    ).delete()


@transaction.atomic
def customer_set_locked(*, actor, customer: Customer, locked: bool) -> Customer:
    """A locked customer never returns to the pool automatically."""
    _check(actor, CrmPerm.LOCK_CUSTOMER)
    customer = _editable_customer(actor, customer)
    if customer.owner_id is None:
        raise ValidationError(MSG_IN_POOL, code="in_pool")
    if locked and not customer.locked:
        _lock_user(customer.owner)
        _check_locked_limit(customer.owner)
    customer.locked = locked
    customer.updated_by = actor
    customer._history_user = actor
    customer.save()
    return customer


def customers_bulk(
    *, actor, customers: QuerySet[Customer], action: str, **params: Any
) -> tuple[int, list[str]]:
    """Assign, tag or return many customers: each one in its own transaction, so one refusal
    (a limit, a locked customer) does not undo the others. Returns (done, errors)."""
    done, errors = 0, []
    for customer in customers:
        try:
            if action == "assign":
                customer_assign(actor=actor, customer=customer, to_user=params["to_user"])
            elif action == "return":
                customer_return(actor=actor, customer=customer, reason=params.get("reason", ""))
            elif action == "tag":
                customer_tag(actor=actor, customer=customer, tags=params["tags"])
            else:
                raise ValueError(action)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(getattr(exc, "messages", None) or [str(exc)])
            errors.append(f"{customer.name}: {text}")
    return done, errors


@transaction.atomic
def customer_tag(*, actor, customer: Customer, tags: list[Tag]) -> Customer:
    customer = _editable_customer(actor, customer)
    customer.tags.add(*tags)
    return customer


TAG_COLOURS = ("secondary", "primary", "success", "danger", "warning", "info", "dark")


@transaction.atomic
def tag_create(*, actor, name: str, color: str = "secondary") -> Tag:
    _check(actor, CrmPerm.CHANGE_CUSTOMER)
    name = (name or "").strip()
    tag = Tag.objects.filter(name=name).first()
    if tag:
        return tag
    tag = Tag(name=name, color=color if color in TAG_COLOURS else "secondary")
    tag.full_clean()
    tag.save()
    return tag


# Contacts ---------------------------------------------------------------------------------

CONTACT_FIELDS = (
    "name",
    "title",
    "mobile",
    "email",
    "wechat",
    "birthday",
    "is_primary",
    "decision_role",
    "notes",
)


def _clean_contact(contact: Contact) -> None:
    if contact.mobile:
        try:
            contact.mobile = normalise_mobile(contact.mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.error_list}) from exc
    contact.full_clean()


@transaction.atomic
def contact_create(
    *, actor, customer: Customer, confirm_duplicates: bool = False, **values: Any
) -> Contact:
    customer = _editable_customer(actor, customer)
    contact = Contact(
        customer=customer,
        **{k: v for k, v in values.items() if k in CONTACT_FIELDS},
        created_by=actor,
        updated_by=actor,
    )
    if not customer.contacts.exists():
        contact.is_primary = True
    if contact.is_primary:  # before full_clean, which checks "one primary contact"
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    _clean_contact(contact)
    if contact.mobile:
        _raise_duplicates(
            [
                m
                for m in find_duplicates(
                    actor=actor, mobiles=[contact.mobile], exclude_pk=customer.pk
                )
            ],
            confirmed=confirm_duplicates,
        )
    contact.save()
    return contact


@transaction.atomic
def contact_update(
    *, actor, contact: Contact, confirm_duplicates: bool = False, **values: Any
) -> Contact:
    _editable_customer(actor, contact.customer)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    old_mobile = contact.mobile
    for name, value in values.items():
        if name in CONTACT_FIELDS:
            setattr(contact, name, value)
    contact.updated_by = actor
    if contact.is_primary:  # before full_clean, which checks "one primary contact"
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)
    _clean_contact(contact)
    if contact.mobile and contact.mobile != old_mobile:
        _raise_duplicates(
            find_duplicates(actor=actor, mobiles=[contact.mobile], exclude_pk=contact.customer_id),
            confirmed=confirm_duplicates,
        )
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    _editable_customer(actor, contact.customer)
    contact.delete()


# Follow-ups -------------------------------------------------------------------------------


@transaction.atomic
def follow_up_create(
    *,
    actor,
    customer: Customer,
    kind: str,
    content: str,
    at: datetime.datetime | None = None,
    next_at: datetime.datetime | None = None,
    stage: str = "",
    contacts: list[Contact] | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    check_in_address: str = "",
    files: list | None = None,
) -> FollowUp:
    """Record a follow-up; it moves the customer's last and next contact and, if given, stage."""
    _check(actor, CrmPerm.ADD_FOLLOW_UP)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is None:
        raise ValidationError(MSG_IN_POOL, code="in_pool")
    if not selectors.can_follow_up(actor=actor, customer=customer):
        raise PermissionDenied(MSG_NO_PERMISSION)
    now = timezone.now()
    at = at or now
    errors: dict[str, list] = {}
    if at > now + datetime.timedelta(minutes=5):
        errors["at"] = [ValidationError(MSG_FUTURE, code="future")]
    if next_at is not None and next_at <= at:
        errors["next_at"] = [ValidationError(MSG_NEXT_BEFORE, code="next_before")]
    if (latitude is None) != (longitude is None):
        errors["latitude"] = [ValidationError(MSG_COORDINATES, code="coordinates")]
    for contact in contacts or []:
        if contact.customer_id != customer.pk:
            errors.setdefault("contacts", []).append(ValidationError(MSG_CONTACT_OTHER))
            break
    if errors:
        raise ValidationError(errors)
    employee = _employee(actor)
    follow_up = FollowUp(
        customer=customer,
        user=actor,
        department=employee.department if employee else None,
        kind=kind,
        at=at,
        content=(content or "").strip(),
        next_at=next_at,
        stage=stage or "",
        latitude=latitude,
        longitude=longitude,
        check_in_address=check_in_address if kind == FollowUpKind.VISIT else "",
        created_by=actor,
        updated_by=actor,
    )
    follow_up.full_clean()
    follow_up.save()
    if contacts:
        follow_up.contacts.set(contacts)
    for upload in files or []:
        core_services.attachment_add(actor=actor, record=follow_up, upload=upload)
    if customer.last_contact_at is None or at >= customer.last_contact_at:
        customer.last_contact_at = at
        customer.next_contact_at = next_at
    elif next_at is not None:
        customer.next_contact_at = next_at
    customer.return_reminded_at = None
    if stage and stage != customer.stage:
        customer.stage = stage
        if stage == CustomerStage.DEAL and customer.won_at is None:
            customer.won_at = at
    customer.updated_by = actor
    customer._history_user = actor
    customer.save()
    return follow_up


def customer_mark_deal(*, customer: Customer, at: datetime.datetime, actor=None) -> bool:
    """A sale to the customer was booked (sales calls this when an order is confirmed): from
    then on it is a deal customer: stage "deal", `won_at` the first time (the pool's
    "without a deal" rule and the rankings' new customers read it). Nothing changes for a
    customer already at "deal"; returns whether it changed. Inside the caller's transaction."""
    if customer.stage == CustomerStage.DEAL and customer.won_at is not None:
        return False
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.stage == CustomerStage.DEAL and customer.won_at is not None:
        return False
    customer.stage = CustomerStage.DEAL
    if customer.won_at is None:
        customer.won_at = at
    if actor is not None:
        customer.updated_by = actor
    customer._history_user = actor
    customer.save(update_fields=["stage", "won_at", "updated_by", "updated_at"])
    return True


# Revisits ---------------------------------------------------------------------------------


@transaction.atomic
def revisit_schedule(
    *, actor, customer: Customer, due_date: datetime.date, channel: str = FollowUpKind.PHONE
) -> Revisit:
    _check(actor, CrmPerm.CHANGE_REVISIT)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not selectors.customer_list(actor=actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(MSG_NO_PERMISSION)
    if customer.owner_id is None:
        raise ValidationError(MSG_IN_POOL, code="in_pool")
    existing = Revisit.objects.filter(customer=customer, status=RevisitStatus.PLANNED).first()
    if existing:
        existing.due_date = due_date
        existing.channel = channel
        existing.full_clean()
        existing.save()
        return existing
    revisit = Revisit(
        customer=customer,
        assignee=customer.owner,
        department=customer.department,
        due_date=due_date,
        channel=channel,
        created_by=actor,
        updated_by=actor,
    )
    revisit.full_clean()
    revisit.save()
    return revisit


@transaction.atomic
def revisit_record(
    *,
    actor,
    revisit: Revisit,
    satisfaction: int,
    channel: str = "",
    experience: str = "",
    opinions: str = "",
    suggestions: str = "",
) -> Revisit:
    """Record a revisit (R5.2.1); a low score notifies the owner's group leader; the next
    revisit is planned by the customer's level."""
    _check(actor, CrmPerm.CHANGE_REVISIT)
    revisit = Revisit.objects.select_for_update().select_related("customer").get(pk=revisit.pk)
    if not selectors.revisit_list(actor=actor).filter(pk=revisit.pk).exists():
        raise PermissionDenied(MSG_NO_PERMISSION)
    if revisit.status != RevisitStatus.PLANNED:
        raise ValidationError(MSG_REVISIT_DONE, code="done")
    now = timezone.now()
    revisit.status = RevisitStatus.DONE
    revisit.satisfaction = satisfaction
    revisit.channel = channel or revisit.channel
    revisit.experience = experience
    revisit.opinions = opinions
    revisit.suggestions = suggestions
    revisit.done_at = now
    revisit.updated_by = actor
    revisit.full_clean()
    revisit.save()
    customer = revisit.customer
    customer.last_contact_at = max(filter(None, [customer.last_contact_at, now]))
    customer.save(update_fields=["last_contact_at", "updated_at"])
    crm = _crm_settings()
    if satisfaction <= crm.low_satisfaction and customer.department_id:
        head = department_head(customer.department)
        if head is not None and head.user_id == customer.owner_id and customer.department.parent:
            head = department_head(customer.department.parent)  # the leader's own customer
        if head is not None:
            notify(
                recipients=[head.user],
                title=gettext("Low satisfaction: %(customer)s scored %(score)s")
                % {"customer": customer.name, "score": satisfaction},
                body=opinions or experience,
                url=revisit.get_absolute_url(),
                kind="warning",
            )
    if customer.owner_id:
        Revisit.objects.create(
            customer=customer,
            assignee=customer.owner,
            department=customer.department,
            due_date=timezone.localdate(now)
            + datetime.timedelta(days=crm.revisit_days(customer.level)),
            channel=revisit.channel,
            created_by=actor,
            updated_by=actor,
        )
    return revisit


def revisits_generate(*, today: datetime.date | None = None, batch: int = 2000) -> int:
    """Plan a revisit for every owned customer with a deal and none planned (nightly)."""
    today = today or timezone.localdate()
    crm = _crm_settings()
    created = 0
    last_pk = 0
    while True:
        rows = list(
            Customer.objects.filter(pk__gt=last_pk, owner__isnull=False, stage=CustomerStage.DEAL)
            .exclude(revisits__status=RevisitStatus.PLANNED)
            .order_by("pk")
            .values("pk", "owner_id", "department_id", "level", "won_at", "member_since")[:batch]
        )
        if not rows:
            return created
        last_pk = rows[-1]["pk"]
        last_done = dict(
            Revisit.objects.filter(
                customer_id__in=[r["pk"] for r in rows], status=RevisitStatus.DONE
            )
            .order_by("customer_id", "done_at")
            .values_list("customer_id", "done_at")
        )
        plans = []
        for row in rows:
            start = last_done.get(row["pk"]) or row["won_at"]
            start_date = timezone.localdate(start) if start else (row["member_since"] or today)
            due = start_date + datetime.timedelta(days=crm.revisit_days(row["level"]))
            plans.append(
                Revisit(
                    customer_id=row["pk"],
                    assignee_id=row["owner_id"],
                    department_id=row["department_id"],
                    due_date=max(due, today),
                )
            )
        with transaction.atomic():
            Revisit.objects.bulk_create(plans, ignore_conflicts=True)
        created += len(plans)


# The nightly pool job ---------------------------------------------------------------------


def _due_conditions(pool: CustomerPool, now: datetime.datetime, shift_days: int = 0) -> Q:
    """Customers of `pool` whose return is due at `now` + shift_days."""
    moment = now + datetime.timedelta(days=shift_days)
    condition = Q(pk__in=[])
    for level in ("A", "B", "C"):
        rules = Q()
        days = pool.no_follow_up_days(level)
        if days:
            rules |= Q(contact_or_owned__lt=moment - datetime.timedelta(days=days))
        deal_days = pool.no_deal_days(level)
        if deal_days:
            rules |= Q(owned_since__lt=moment - datetime.timedelta(days=deal_days)) & ~Q(
                stage=CustomerStage.DEAL
            )
        if rules:
            condition |= Q(level=level) & rules
    return condition


def _pool_candidates(pool: CustomerPool, default: bool) -> QuerySet[Customer]:
    queryset = Customer.objects.filter(owner__isnull=False, locked=False)
    queryset = (
        queryset.filter(Q(pool=pool) | Q(pool__isnull=True))
        if default
        else queryset.filter(pool=pool)
    )
    if pool.deal_exempt:
        queryset = queryset.exclude(stage=CustomerStage.DEAL)
    return queryset.annotate(
        # The later of the last contact and the day the current owner got the customer: a
        # customer claimed today does not go back tonight for an old last contact. (Greatest
        # of non-null values only: SQLite's MAX() is NULL when any argument is.)
        contact_or_owned=Greatest(
            Coalesce("last_contact_at", "owned_since", "created_at"),
            Coalesce("owned_since", "created_at"),
        )
    )


@dataclass
class PoolRunResult:
    returned: int = 0
    reminded: int = 0
    dormant: int = 0

    def __str__(self) -> str:
        return f"returned {self.returned}, reminded {self.reminded}, dormant {self.dormant}"


def pool_run(*, now: datetime.datetime | None = None, batch: int = 5000) -> PoolRunResult:
    """Return overdue customers to their pools and remind owners of coming returns.

    Idempotent: a second run at the same time finds nothing more to do. Each returned customer
    gets one OwnerChange row (kind auto_return)."""
    now = now or timezone.now()
    result = PoolRunResult()
    pools = list(CustomerPool.objects.filter(active=True))
    for pool in pools:
        due = _pool_candidates(pool, pool.is_default).filter(_due_conditions(pool, now))
        while True:
            rows = list(due.values_list("pk", "owner_id")[:batch])
            if not rows:
                break
            ids = [pk for pk, _ in rows]
            with transaction.atomic():
                moved = Customer.objects.filter(pk__in=ids, owner__isnull=False, locked=False)
                owners = dict(moved.values_list("pk", "owner_id"))
                moved.update(
                    previous_owner=F("owner"),
                    owner=None,
                    pool=pool,
                    pooled_at=now,
                    return_reminded_at=None,
                    updated_at=now,
                )
                OwnerChange.objects.bulk_create(
                    [
                        OwnerChange(
                            customer_id=pk,
                            kind=OwnerChangeKind.AUTO_RETURN,
                            from_user_id=owner_id,
                            pool=pool,
                            at=now,
                            reason=gettext("Pool rules of %(pool)s") % {"pool": pool.name},
                        )
                        for pk, owner_id in owners.items()
                    ],
                    batch_size=1000,
                )
                Revisit.objects.filter(
                    customer_id__in=list(owners), status=RevisitStatus.PLANNED
                ).update(status=RevisitStatus.CANCELLED)
                RecordShare.objects.filter(
                    content_type=ContentType.objects.get_for_model(Customer),
                    object_id__in=list(owners),
                ).delete()
            result.returned += len(owners)
        if pool.remind_days_before:
            coming = (
                _pool_candidates(pool, pool.is_default)
                .filter(_due_conditions(pool, now, shift_days=pool.remind_days_before))
                .filter(return_reminded_at__isnull=True)
            )
            counts: dict[int, int] = {}
            for owner_id in coming.values_list("owner_id", flat=True).iterator(chunk_size=5000):
                counts[owner_id] = counts.get(owner_id, 0) + 1
            if counts:
                with transaction.atomic():
                    coming_ids = Customer.objects.filter(pk__in=coming.values("pk"))
                    coming_ids.update(return_reminded_at=now)
                    for owner in User.objects.filter(pk__in=list(counts)):
                        notify(
                            recipients=[owner],
                            title=gettext(
                                "%(count)s of your customers return to the pool within %(days)s days"
                            )
                            % {"count": counts[owner.pk], "days": pool.remind_days_before},
                            body=gettext("Follow them up to keep them."),
                            url=reverse("crm:customer_list") + "?scene=mine&sort=last_contact",
                            kind="warning",
                        )
                result.reminded += sum(counts.values())
    result.dormant = _mark_dormant(now)
    logger.info("crm pool job: %s", result)
    return result


def _mark_dormant(now: datetime.datetime) -> int:
    days = _crm_settings().dormant_days
    if not days:
        return 0
    cutoff = now - datetime.timedelta(days=days)
    return Customer.objects.filter(
        stage__in=[CustomerStage.POTENTIAL, CustomerStage.INTENTION],
        last_contact_at__lt=cutoff,
    ).update(stage=CustomerStage.DORMANT, updated_at=now)


# Handover (离职继承) ------------------------------------------------------------------------


def customers_handover(from_user, to_user, actor) -> int:
    """Move a departing employee's customers and planned revisits to the successor."""
    employee = _employee(to_user)
    ids = list(Customer.objects.filter(owner=from_user).values_list("pk", flat=True))
    now = timezone.now()
    Customer.objects.filter(pk__in=ids).update(
        owner=to_user,
        department=employee.department if employee else None,
        owned_since=now,
        updated_at=now,
    )
    OwnerChange.objects.bulk_create(
        [
            OwnerChange(
                customer_id=pk,
                kind=OwnerChangeKind.HANDOVER,
                from_user=from_user,
                to_user=to_user,
                by=actor,
                at=now,
            )
            for pk in ids
        ],
        batch_size=1000,
    )
    Revisit.objects.filter(assignee=from_user, status=RevisitStatus.PLANNED).update(
        assignee=to_user,
        department=employee.department if employee else None,  # revisits are scoped by it
    )
    return len(ids)


# Segments, settings, export requests ------------------------------------------------------


@transaction.atomic
def segment_save(*, actor, name: str, query: str, shared: bool = False) -> Segment:
    _check(actor, CrmPerm.VIEW_CUSTOMER)
    name = (name or "").strip()
    if Segment.objects.filter(user=actor, name=name).exists():
        raise ValidationError({"name": ValidationError(MSG_SEGMENT_NAME, code="unique")})
    segment = Segment(
        user=actor,
        name=name,
        query=(query or "")[:500],
        shared=shared and actor.has_perm(CrmPerm.MANAGE_SETTINGS),
        created_by=actor,
        updated_by=actor,
    )
    segment.full_clean()
    segment.save()
    return segment


@transaction.atomic
def segment_delete(*, actor, segment: Segment) -> None:
    if segment.user_id != actor.pk and not actor.has_perm(CrmPerm.MANAGE_SETTINGS):
        raise PermissionDenied(MSG_NO_PERMISSION)
    segment.delete()


@transaction.atomic
def settings_update(*, actor, **values: Any) -> CrmSettings:
    _check(actor, CrmPerm.MANAGE_SETTINGS)
    crm = CrmSettings.objects.select_for_update().get(pk=_crm_settings().pk)
    for name, value in values.items():
        setattr(crm, name, value)
    crm.full_clean()
    crm.save()
    return crm


POOL_FIELDS = (
    "name",
    "department",
    "provinces",
    "is_default",
    "active",
    "no_follow_up_days_a",
    "no_follow_up_days_b",
    "no_follow_up_days_c",
    "no_deal_days_a",
    "no_deal_days_b",
    "no_deal_days_c",
    "deal_exempt",
    "remind_days_before",
    "reclaim_cooldown_days",
    "daily_claim_cap",
)


@transaction.atomic
def pool_save(
    *,
    actor,
    pool: CustomerPool | None = None,
    members: list | None = None,
    admins: list | None = None,
    **values: Any,
) -> CustomerPool:
    _check(actor, CrmPerm.MANAGE_SETTINGS)
    pool = (
        CustomerPool.objects.select_for_update().get(pk=pool.pk)
        if pool
        else CustomerPool(created_by=actor)
    )
    for name, value in values.items():
        if name in POOL_FIELDS:
            setattr(pool, name, value)
    pool.updated_by = actor
    pool.full_clean()
    if pool.is_default:
        CustomerPool.objects.filter(is_default=True).exclude(pk=pool.pk).update(is_default=False)
    pool.save()
    if members is not None:
        pool.members.set(members)
    if admins is not None:
        pool.admins.set(admins)
    return pool


@transaction.atomic
def holding_limit_save(
    *,
    actor,
    user=None,
    department: Department | None = None,
    max_owned: int | None,
    max_locked: int | None,
) -> HoldingLimit:
    _check(actor, CrmPerm.MANAGE_SETTINGS)
    limit = HoldingLimit.objects.filter(user=user, department=department).first() or HoldingLimit(
        user=user, department=department, created_by=actor
    )
    limit.max_owned = max_owned
    limit.max_locked = max_locked
    limit.updated_by = actor
    limit.full_clean()
    limit.save()
    return limit


@transaction.atomic
def holding_limit_delete(*, actor, limit: HoldingLimit) -> None:
    _check(actor, CrmPerm.MANAGE_SETTINGS)
    limit.delete()


@transaction.atomic
def export_request_create(
    *, actor, query: str, row_count: int, reason: str
) -> CustomerExportRequest:
    _check(actor, CrmPerm.REQUEST_EXPORT)
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError(MSG_REASON, code="required")})
    employee = _employee(actor)
    request = CustomerExportRequest(
        number=next_number("CEX"),
        requester=actor,
        department=employee.department if employee else None,
        query=(query or "")[:500],
        row_count=row_count,
        reason=reason.strip(),
        created_by=actor,
        updated_by=actor,
    )
    request.full_clean()
    request.save()
    return request


def export_request_submit(*, actor, request: CustomerExportRequest):
    """Send the request through the approval engine (flows of type crm.customer_export)."""
    from marketdesk.approvals import services as approval_services

    with transaction.atomic():
        approval = approval_services.request_submit(actor=actor, document=request)
        CustomerExportRequest.objects.filter(  # a rejected request may be sent again
            pk=request.pk, status__in=[ExportRequestStatus.DRAFT, ExportRequestStatus.REJECTED]
        ).update(status=ExportRequestStatus.PENDING)
    return approval


def export_request_set_status(document: CustomerExportRequest, status: str) -> None:
    """Approval hooks: the engine calls these inside its transaction."""
    CustomerExportRequest.objects.filter(pk=document.pk).update(
        status=status,
        approved_at=timezone.now() if status == ExportRequestStatus.APPROVED else None,
    )


@transaction.atomic
def export_request_use(*, actor, request: CustomerExportRequest) -> CustomerExportRequest:
    request = CustomerExportRequest.objects.select_for_update().get(pk=request.pk)
    if request.requester_id != actor.pk:
        raise PermissionDenied(MSG_NO_PERMISSION)
    if request.status != ExportRequestStatus.APPROVED:
        raise ValidationError(MSG_EXPORT_USED, code="not_approved")
    request.status = ExportRequestStatus.USED
    request.used_at = timezone.now()
    request.save(update_fields=["status", "used_at", "updated_at"])
    return request
