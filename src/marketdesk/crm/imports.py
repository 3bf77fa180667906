"""The customer import: one row per customer (with its primary contact), de-duplicated against
the database and within the file, written through the CRM services."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.core.imports import (
    ImportColumn,
    ImportContext,
    ImportRow,
    ImportRowFailed,
    ImportSpec,
    Outcome,
    TableInsert,
    cell_text,
    clean_values,
    model_defaults,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_email,
    register_import,
)
from marketdesk.core.numbering import next_numbers
from marketdesk.core.scope import scope_for
from marketdesk.core.validators import normalise_credit_code, normalise_mobile

from . import selectors, services
from .matching import name_key
from .models import (
    Contact,
    Customer,
    CustomerKind,
    CustomerLevel,
    CustomerPool,
    CustomerSource,
    CustomerStage,
    DuplicateMode,
    HoldingLimit,
    Industry,
    OwnerChange,
    OwnerChangeKind,
)
from .permissions import CrmPerm

MSG_UNKNOWN_OWNER = _('No active employee has the username "%(username)s".')
MSG_SAME_IN_FILE = _("Row %(row)s of this file has the same %(what)s.")
MSG_DUPLICATE = _("Duplicate: %(where)s.")

User = get_user_model()


def _choices(enum) -> dict[str, Any]:
    """Accept the code and the label in both languages (e.g. "A", "A · key", "A · 重点")."""
    from django.utils import translation

    mapping: dict[str, Any] = {}
    for value, label in enum.choices:
        mapping[str(value)] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                mapping[str(label)] = value
    return mapping


@functools.cache
def _parser(enum):
    return parse_choice(_choices(enum))


def _mobile(raw: Any) -> str:
    return normalise_mobile(cell_text(raw))


def _credit(raw: Any) -> str:
    return normalise_credit_code(cell_text(raw))


def _owner(raw: Any) -> str:
    return cell_text(raw)


COLUMNS = (
    ImportColumn(
        "name", _("Customer name"), required=True, example="苏州瑞丰精密机械有限公司", width=28
    ),
    ImportColumn(
        "kind",
        _("Kind"),
        parse=lambda raw: _parser(CustomerKind)(raw),
        example="企业",
        help=_("Company or individual; blank means company."),
    ),
    ImportColumn(
        "credit_code",
        _("Unified social credit code"),
        parse=_credit,
        example="91320594MA1P3K7Q2T",
        text=True,
        width=22,
    ),
    ImportColumn("mobile", _("Mobile"), parse=_mobile, example="13912345678", text=True),
    ImportColumn(
        "industry",
        _("Industry"),
        parse=lambda raw: _parser(Industry)(raw),
        example="制造业",
    ),
    ImportColumn("province", _("Province"), example="江苏省"),
    ImportColumn("city", _("City"), example="苏州市"),
    ImportColumn("district", _("District"), example="工业园区"),
    ImportColumn("address", _("Address"), example="星湖街 328 号", width=28),
    ImportColumn(
        "source",
        _("Source"),
        parse=lambda raw: _parser(CustomerSource)(raw),
        example="展会",
    ),
    ImportColumn(
        "level",
        _("Level"),
        parse=lambda raw: _parser(CustomerLevel)(raw),
        example="A",
    ),
    ImportColumn(
        "stage",
        _("Stage"),
        parse=lambda raw: _parser(CustomerStage)(raw),
        example="意向",
    ),
    ImportColumn(
        "owner",
        _("Owner username"),
        parse=_owner,
        example="wangfang",
        help=_("Blank: the customer goes to the customer pool."),
    ),
    ImportColumn("products_of_interest", _("Products of interest"), example="工业云平台"),
    ImportColumn("budget", _("Budget (CNY)"), parse=parse_decimal(min_value=0), example="300000"),
    ImportColumn("contact_name", _("Contact name"), example="王建华"),
    ImportColumn("contact_title", _("Contact title"), example="采购经理"),
    ImportColumn(
        "contact_mobile", _("Contact mobile"), parse=_mobile, example="13812345678", text=True
    ),
    ImportColumn("contact_email", _("Contact email"), parse=parse_email, example="wang@example.cn"),
    ImportColumn("birthday", _("Birthday (individuals)"), parse=parse_date, example=""),
    ImportColumn("notes", _("Notes"), example="", width=30),
)

CONTACT_KEYS = {
    "contact_name": "name",
    "contact_title": "title",
    "contact_mobile": "mobile",
    "contact_email": "email",
}


def find_customer(actor, field: str, value: Any) -> Customer | None:
    visible = selectors.customer_list(actor)
    if field == "credit_code":
        return visible.filter(credit_code=value).first()
    if field == "name":
        return visible.filter(name_key=name_key(value)).first()
    return None


def clean_customer_row(context: ImportContext, values: dict[str, Any], existing: Any) -> None:
    errors: dict[str, Any] = {}
    owner = values.get("owner")
    if (
        owner
        and not User.objects.filter(
            username=owner, is_active=True, employee__status="active"
        ).exists()
    ):
        errors["owner"] = ValidationError(MSG_UNKNOWN_OWNER, params={"username": owner})
    if values.get("contact_mobile") and not values.get("contact_name"):
        errors["contact_name"] = ValidationError(_("Give the contact's name."))
    # Within the file: the same normalised name, credit code or mobile twice.
    index = context._index.setdefault("_crm_keys", {})
    individual = values.get("kind") == CustomerKind.INDIVIDUAL
    for column, what, key in (
        ("name", "name", "" if individual else name_key(values.get("name", ""))),
        ("credit_code", "credit_code", values.get("credit_code")),
        ("mobile", "mobile", values.get("mobile")),
        ("contact_mobile", "mobile", values.get("contact_mobile")),  # one mobile space
    ):
        if not key:
            continue
        first = index.setdefault((what, key), context.row)
        if first != context.row:
            errors[column] = ValidationError(
                MSG_SAME_IN_FILE,
                params={"row": first, "what": Customer._meta.get_field(what).verbose_name},
            )
    # Against the database (creating only; updates match on the key).
    if existing is None and "name" not in errors:
        matches = services.find_duplicates(
            actor=context.actor,
            name=values.get("name", ""),
            credit_code=values.get("credit_code", ""),
            mobiles=[values.get("mobile")],
            kind=values.get("kind") or CustomerKind.COMPANY,
        )
        if values.get("contact_mobile"):  # reported on the contact's column
            matches += [
                dataclasses.replace(match, field="contact_mobile")
                for match in services.find_duplicates(
                    actor=context.actor, mobiles=[values["contact_mobile"]]
                )
            ]
        if matches and selectors.crm_settings().duplicate_mode == DuplicateMode.BLOCK:
            for match in matches:
                errors.setdefault(
                    match.field, ValidationError(MSG_DUPLICATE, params={"where": match.where})
                )
    if errors:
        raise ValidationError(errors)


def write_customer(actor, values: dict[str, Any], existing: Customer | None) -> Outcome:
    fields = dict(values)
    contact = {CONTACT_KEYS[k]: fields.pop(k) for k in list(fields) if k in CONTACT_KEYS}
    owner_name = fields.pop("owner", "")
    owner = User.objects.get(username=owner_name) if owner_name else None
    if existing is None:
        fields.setdefault("kind", CustomerKind.COMPANY)
        customer = services.customer_create(
            actor=actor,
            owner=owner,
            to_pool=owner is None,
            confirm_duplicates=True,
            change_kind="import",
            **fields,
        )
        outcome = Outcome.CREATED
    else:
        customer = services.customer_update(
            actor=actor, customer=existing, confirm_duplicates=True, **fields
        )
        if owner is not None and customer.owner_id != owner.pk:
            services.customer_assign(actor=actor, customer=customer, to_user=owner)
        outcome = Outcome.UPDATED
    if contact.get("name"):
        # Updating a customer updates its contact of that name (or mobile) rather than adding
        # the same person again.
        same = Q(name=contact["name"])
        if contact.get("mobile"):
            same |= Q(mobile=contact["mobile"])
        known = customer.contacts.filter(same).order_by("-is_primary", "pk").first()
        if existing is not None and known is not None:
            services.contact_update(actor=actor, contact=known, confirm_duplicates=True, **contact)
        else:
            services.contact_create(
                actor=actor, customer=customer, confirm_duplicates=True, **contact
            )
    return outcome


# Large files (issue 4): the same checks and writes, a batch of rows at a time ----------------
#
# `clean_customer_rows` gives each row the errors `clean_customer_row` gives it, looking the
# batch's owners and duplicate keys up in a few queries; in "block" mode it also refuses a
# mobile (customer or contact) that an earlier row of the file has, which the row-by-row
# path refuses when it writes. `write_customer_rows` creates the batch's new customers as
# `services.customer_create` + `contact_create` would (owner's unit, pool from
# `services.pool_for`, numbers from the CUS sequence, holding limits, history, an "import"
# owner change each, the primary contact), with bulk inserts; rows that update an existing
# customer go through the services one by one.


def _owners_by_username(context: ImportContext, usernames: set[str]) -> dict[str, Any]:
    """username -> active user with an active employee (cached on the context)."""
    known: dict[str, Any] = context._index.setdefault("_crm_owners", {})
    missing = usernames - set(known)
    if missing:
        for user in User.objects.filter(
            username__in=missing, is_active=True, employee__status="active"
        ).select_related("employee__department"):
            known[user.username] = user
        for username in missing - set(known):
            known[username] = None
    return known


def _duplicate_matches(
    actor, rows: list[ImportRow], keys: dict[int, str]
) -> dict[int, list[services.DuplicateMatch]]:
    """Row number -> what services.find_duplicates reports for the row (5 per kind at most);
    `keys`: row number -> name_key of the row's name."""
    credits = {row.values.get("credit_code") for row in rows} - {None, ""}
    mobiles = {
        m for row in rows for m in (row.values.get("mobile"), row.values.get("contact_mobile")) if m
    }
    base = Customer.objects.select_related("owner", "department")
    by_key: dict[str, list[Customer]] = {}
    for customer in base.filter(name_key__in={k for k in keys.values() if k}):
        by_key.setdefault(customer.name_key, []).append(customer)
    by_credit: dict[str, list[Customer]] = {}
    for customer in base.filter(credit_code__in=credits) if credits else []:
        by_credit.setdefault(customer.credit_code, []).append(customer)
    by_mobile: dict[str, set[int]] = {}
    if mobiles:
        for pk, mobile in base.filter(mobile__in=mobiles).values_list("pk", "mobile"):
            by_mobile.setdefault(mobile, set()).add(pk)
        for pk, mobile in Contact.objects.filter(mobile__in=mobiles).values_list(
            "customer_id", "mobile"
        ):
            by_mobile.setdefault(mobile, set()).add(pk)
    mobile_customers = {
        c.pk: c for c in base.filter(pk__in={pk for ids in by_mobile.values() for pk in ids})
    }
    found: dict[int, list[tuple[str, Customer]]] = {}
    for row in rows:
        matches = [("name", c) for c in by_key.get(keys[row.number], [])[:5]]
        credit = row.values.get("credit_code")
        if credit:
            matches += [("credit_code", c) for c in by_credit.get(credit, [])[:5]]
        for field_name in ("mobile", "contact_mobile"):  # each reported on its own column
            mobile = row.values.get(field_name)
            if mobile:
                ids = sorted(by_mobile.get(mobile, ()))[:5]
                matches += [(field_name, mobile_customers[pk]) for pk in ids]
        if matches:
            found[row.number] = matches
    if not found:
        return {}
    seen_ids = {c.pk for matches in found.values() for _f, c in matches}
    visible = set(
        selectors.customer_list(actor=actor).filter(pk__in=seen_ids).values_list("pk", flat=True)
    )
    return {
        number: [
            services.DuplicateMatch(
                field=field_name,
                customer_id=c.pk,
                name=c.name,
                owner=str(c.owner) if c.owner else "",
                department=c.department.name if c.department else "",
                visible=c.pk in visible,
            )
            for field_name, c in matches
        ]
        for number, matches in found.items()
    }


def clean_customer_rows(
    context: ImportContext, rows: list[ImportRow]
) -> dict[int, ValidationError]:
    owners = _owners_by_username(
        context, {row.values["owner"] for row in rows if row.values.get("owner")}
    )
    block = selectors.crm_settings().duplicate_mode == DuplicateMode.BLOCK
    # First row of each name key, credit code and mobile, per kind (one dict each: a dict of
    # (kind, key) pairs would hold a tuple per key, 100,000s of them on a large file).
    index = context._index.setdefault("_crm_first_rows", {})
    keys: dict[int, str] = {}
    per_row: dict[int, dict[str, Any]] = {}
    for row in rows:
        values, errors = row.values, per_row.setdefault(row.number, {})
        owner = values.get("owner")
        if owner and owners.get(owner) is None:
            errors["owner"] = ValidationError(MSG_UNKNOWN_OWNER, params={"username": owner})
        if values.get("contact_mobile") and not values.get("contact_name"):
            errors["contact_name"] = ValidationError(_("Give the contact's name."))
        keys[row.number] = name_key(values.get("name", ""))
        for column, what, key in (
            ("name", "name", keys[row.number]),
            ("credit_code", "credit_code", values.get("credit_code")),
            ("mobile", "mobile", values.get("mobile")),
            ("contact_mobile", "mobile", values.get("contact_mobile")),  # one mobile space
        ):
            if not key:
                continue
            first = index.setdefault(what, {}).setdefault(key, row.number)
            if first != row.number:
                errors[column] = ValidationError(
                    MSG_SAME_IN_FILE,
                    params={"row": first, "what": Customer._meta.get_field(what).verbose_name},
                )
    if block:
        checked = [r for r in rows if r.existing is None and "name" not in per_row[r.number]]
        for number, matches in _duplicate_matches(context.actor, checked, keys).items():
            for match in matches:
                per_row[number].setdefault(
                    match.field, ValidationError(MSG_DUPLICATE, params={"where": match.where})
                )
    return {number: ValidationError(errors) for number, errors in per_row.items() if errors}


class _Limits:
    """services.holding_limit_for for many owners: every limit is read once."""

    def __init__(self) -> None:
        limits = list(HoldingLimit.objects.all())
        self.by_user = {limit.user_id: limit for limit in limits if limit.user_id}
        self.by_department = {limit.department_id: limit for limit in limits if limit.department_id}

    def for_user(self, user) -> HoldingLimit | None:
        if user.pk in self.by_user:
            return self.by_user[user.pk]
        department = user.employee.department
        ancestors = [int(part) for part in department.path.strip("/").split("/") if part]
        for department_id in reversed(ancestors):
            if department_id in self.by_department:
                return self.by_department[department_id]
        return self.by_department.get(department.pk)


def _can_edit_new(actor, owner_id: int | None, department_id: int | None, pool_admin: bool) -> bool:
    """selectors.can_edit_customer for a customer that is not saved yet (contact_create)."""
    if owner_id is None:
        return actor.has_perm(CrmPerm.MANAGE_SETTINGS) or pool_admin
    if owner_id == actor.pk and actor.has_perm(CrmPerm.VIEW_CUSTOMER):
        return True
    if not actor.has_perm(CrmPerm.CHANGE_CUSTOMER):
        return False
    scope = scope_for(actor, CrmPerm.CHANGE_CUSTOMER)
    return scope.all or owner_id == scope.user_id or department_id in scope.department_ids


def _pool_for(pools: list, department, province: str):
    """services.pool_for with the active pools read once per batch instead of once per call
    (the same rules, in the same order: province, nearest unit upwards, default pool)."""
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


# Not re-checked per row by clean_fields: foreign keys the batch resolved itself (a
# ForeignKey's validation is one query per row), and mobiles / credit codes the columns'
# parsers have already validated and normalised (phonenumbers is slow).
CUSTOMER_EXCLUDE = [
    "number",
    "name_key",
    "owner",
    "department",
    "pool",
    "previous_owner",
    "created_by",
    "updated_by",
    "mobile",
    "credit_code",
]
CONTACT_EXCLUDE = ["customer", "created_by", "updated_by", "mobile"]


@dataclasses.dataclass
class _NewCustomer:
    """A new customer of the import, as plain column values (attname -> value)."""

    row: ImportRow
    values: dict[str, Any]  # every column of crm_customer but id
    contact: dict[str, Any] | None  # every column of crm_contact but id, customer_id; or None
    to_pool: bool


def _new_customers(actor, rows: list[ImportRow]) -> tuple[list[_NewCustomer], Any]:
    """The new rows' customers (and primary contacts) as plain values, checked as
    services.customer_create and contact_create check them; and the batch's moment."""
    if not actor.has_perm(CrmPerm.ADD_CUSTOMER):
        raise ImportRowFailed(rows[0].number, PermissionDenied(services.MSG_NO_PERMISSION))
    now = timezone.now()
    usernames = {row.values["owner"] for row in rows if row.values.get("owner")}
    owners = {
        user.username: user
        for user in User.objects.filter(username__in=usernames).select_related(
            "employee__department"
        )
    }
    creator = services._employee(actor)
    limits = _Limits()
    limited = {}
    for user in owners.values():
        limit = limits.for_user(user) if hasattr(user, "employee") else None
        if limit is not None and limit.max_owned is not None:
            limited[user.pk] = limit
    if owners:  # services._lock_user, for the whole batch
        list(User.objects.select_for_update().filter(pk__in=[u.pk for u in owners.values()]))
    owned_now = dict(
        Customer.objects.filter(owner_id__in=list(limited))
        .values_list("owner_id")
        .annotate(n=Count("pk"))
    )
    pools: dict[tuple[int | None, str], Any] = {}
    active_pools = list(CustomerPool.objects.filter(active=True))
    admin_of: dict[int, bool] = {}
    can_assign = actor.has_perm(CrmPerm.ASSIGN_CUSTOMER)
    # What Customer(created_by=actor, updated_by=actor) and Contact(...) hold before the
    # fields are set; updated_at (auto_now) is set on insert, as save() sets it.
    customer_defaults = model_defaults(
        Customer, created_at=now, created_by_id=actor.pk, updated_by_id=actor.pk
    )
    contact_defaults = model_defaults(
        Contact, created_at=now, created_by_id=actor.pk, updated_by_id=actor.pk, is_primary=True
    )
    creator_department = creator.department if creator else None
    may_edit: dict[tuple, bool] = {}  # _can_edit_new by (owner, unit, pool admin)
    made = []
    for row in rows:
        fields = dict(row.values)
        contact = {CONTACT_KEYS[k]: fields.pop(k) for k in list(fields) if k in CONTACT_KEYS}
        owner = owners.get(fields.pop("owner", "") or "")
        fields.setdefault("kind", CustomerKind.COMPANY)
        try:
            wanted = {k: v for k, v in fields.items() if k in services.CUSTOMER_FIELDS}
            checked = {k: wanted.pop(k) for k in ("mobile", "credit_code") if k in wanted}
            cleaned = services._clean_customer_values(wanted)  # the parsers checked `checked`
            cleaned.update(checked)
            if checked.get("credit_code") and cleaned.get("kind") == CustomerKind.INDIVIDUAL:
                raise ValidationError({"credit_code": services.MSG_CREDIT_FOR_COMPANY})
            values = dict(customer_defaults)
            values.update(cleaned)
            values["name_key"] = name_key(values["name"])
            if owner is None:
                department = creator_department
                values["pooled_at"] = now
            else:
                if owner.pk != actor.pk and not can_assign:
                    raise PermissionDenied(services.MSG_NO_PERMISSION)
                employee = getattr(owner, "employee", None)  # services._active_user
                if employee is None or employee.status != "active" or not owner.is_active:
                    raise ValidationError(
                        {
                            "owner": ValidationError(
                                services.MSG_NOT_EMPLOYEE, params={"name": str(owner)}
                            )
                        }
                    )
                if owner.pk in limited:
                    count = owned_now.get(owner.pk, 0)
                    if count + 1 > limited[owner.pk].max_owned:
                        raise ValidationError(
                            services.MSG_OWNED_LIMIT,
                            code="owned_limit",
                            params={
                                "name": str(owner),
                                "count": count,
                                "limit": limited[owner.pk].max_owned,
                            },
                        )
                    owned_now[owner.pk] = count + 1
                department = employee.department  # services._set_owner
                values["owner_id"] = owner.pk
                values["owned_since"] = now
                values["pooled_at"] = None
                values["return_reminded_at"] = None
                values["locked"] = False
            values["department_id"] = department.pk if department is not None else None
            place = (values["department_id"], values["province"])
            if place not in pools:
                pools[place] = _pool_for(active_pools, department, values["province"])
            pool = pools[place]
            values["pool_id"] = pool.pk if pool is not None else None
            if owner is None and pool is None:
                raise ValidationError(services.MSG_NO_POOL)
            if values["stage"] == CustomerStage.DEAL:
                values["won_at"] = now
            clean_values(Customer, values, exclude=CUSTOMER_EXCLUDE)
            contact_values = None
            if contact.get("name"):
                pool_admin = False
                if owner is None and pool is not None:
                    if pool.pk not in admin_of:
                        admin_of[pool.pk] = pool.admins.filter(pk=actor.pk).exists()
                    pool_admin = admin_of[pool.pk]
                edit_key = (values["owner_id"], values["department_id"], pool_admin)
                if edit_key not in may_edit:
                    may_edit[edit_key] = _can_edit_new(actor, *edit_key)
                if not may_edit[edit_key]:
                    raise PermissionDenied(services.MSG_NO_PERMISSION)
                contact_values = dict(contact_defaults)
                contact_values.update(contact)
                clean_values(Contact, contact_values, exclude=CONTACT_EXCLUDE)
        except (ValidationError, PermissionDenied) as exc:
            raise ImportRowFailed(row.number, exc) from exc
        made.append(_NewCustomer(row, values, contact_values, owner is None))
    return made, now


def _mobile_clashes(made: list[_NewCustomer]) -> set[int]:
    """Rows whose mobile (customer's, or its contact's) an earlier row of the import has: the
    services refuse them when writing ("block" mode); they are written through the services."""
    mobiles = {item.values["mobile"] for item in made if item.values["mobile"]} | {
        item.contact["mobile"] for item in made if item.contact and item.contact["mobile"]
    }
    if not mobiles:
        return set()
    seen = set(Customer.objects.filter(mobile__in=mobiles).values_list("mobile", flat=True))
    seen |= set(Contact.objects.filter(mobile__in=mobiles).values_list("mobile", flat=True))
    clashes = set()
    for item in made:
        own = [item.values["mobile"]] if item.values["mobile"] else []
        if item.contact and item.contact["mobile"]:
            own.append(item.contact["mobile"])
        if any(mobile in seen for mobile in own):
            clashes.add(item.row.number)
        seen.update(own)
    return clashes


class _Tables:
    """The import's INSERTs (customers, their history, owner changes, contacts), made once."""

    def __init__(self) -> None:
        history = Customer.history.model
        self.customers = TableInsert(Customer)
        self.history = TableInsert(history)
        self.owner_changes = TableInsert(OwnerChange)
        self.contacts = TableInsert(Contact)
        tracked = {f.attname for f in history.tracked_fields}
        extra = set(self.history.attnames) - tracked - set(HISTORY_COLUMNS)
        if extra:  # a history column this import does not know how to fill
            raise ImproperlyConfigured(f"crm import: history columns {sorted(extra)}")


# What simple_history writes besides the tracked fields, for a record created by `actor`
# (bulk_history_create and the post_save handler write the same).
HISTORY_COLUMNS = ("history_date", "history_change_reason", "history_type", "history_user_id")


def _ids_by_number(numbers: list[str]) -> dict[str, int]:
    """The ids the database gave the customers just inserted (numbers are unique)."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    ids: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT number, id FROM {table} WHERE number IN ({marks})",  # noqa: S608
                chunk,
            )
            ids.update(cursor.fetchall())
    return ids


def _insert(actor, made: list[_NewCustomer], now, tables: _Tables) -> None:
    """Insert new customers as customer_create + contact_create would write them: numbers
    from the CUS sequence (one block), the customer, its history row ("+", by the actor),
    an "import" owner change, the primary contact. Plain executemany, no model instances."""
    if not made:
        return
    numbers = next_numbers("CUS", len(made))
    rows = []
    for item, number in zip(made, numbers, strict=True):
        item.values["number"] = number
        item.values["updated_at"] = now  # auto_now
        rows.append(tables.customers.row(item.values))
    tables.customers.insert(rows)
    ids = _ids_by_number(numbers)
    history, changes, contacts = [], [], []
    change = {
        "kind": OwnerChangeKind.IMPORT,
        "from_user_id": None,
        "reason": "",
        "at": now,
        "by_id": actor.pk,
    }
    extra = {
        "history_date": now,
        "history_change_reason": None,
        "history_type": "+",
        "history_user_id": actor.pk,
    }
    for item in made:
        values = item.values
        values["id"] = ids[values["number"]]
        history.append(tables.history.row({**values, **extra}))
        changes.append(
            tables.owner_changes.row(
                {
                    **change,
                    "customer_id": values["id"],
                    "to_user_id": values["owner_id"],
                    "pool_id": values["pool_id"] if item.to_pool else None,
                }
            )
        )
        if item.contact is not None:
            item.contact["customer_id"] = values["id"]
            item.contact["updated_at"] = now  # auto_now
            contacts.append(tables.contacts.row(item.contact))
    tables.history.insert(history)
    tables.owner_changes.insert(changes)
    tables.contacts.insert(contacts)


def write_customer_rows(actor, rows: list[ImportRow]) -> list[Outcome]:
    """Create the new customers of `rows` in bulk; update existing ones one by one."""
    outcomes: dict[int, Outcome] = {}

    def one_by_one(row: ImportRow) -> None:
        try:
            outcomes[row.number] = write_customer(actor, dict(row.values), row.existing)
        except (ValidationError, PermissionDenied) as exc:
            raise ImportRowFailed(row.number, exc) from exc

    for row in rows:
        if row.existing is not None:
            one_by_one(row)
    new_rows = [row for row in rows if row.existing is None]
    made, now = _new_customers(actor, new_rows) if new_rows else ([], None)
    block = selectors.crm_settings().duplicate_mode == DuplicateMode.BLOCK
    clashes = _mobile_clashes(made) if block else set()
    tables = _Tables()
    segment: list[_NewCustomer] = []
    for item in made:
        if item.row.number in clashes:
            _insert(actor, segment, now, tables)
            segment = []
            one_by_one(item.row)  # the services report the duplicate as they would row by row
        else:
            segment.append(item)
            outcomes[item.row.number] = Outcome.CREATED
    _insert(actor, segment, now, tables)
    return [outcomes[row.number] for row in rows]


def customer_import_notes() -> list[Any]:
    return [
        _("Kinds: %(list)s")
        % {"list": "; ".join(str(label) for _v, label in CustomerKind.choices)},
        _("Levels: %(list)s")
        % {"list": "; ".join(str(label) for _v, label in CustomerLevel.choices)},
        _("Stages: %(list)s")
        % {"list": "; ".join(str(label) for _v, label in CustomerStage.choices)},
        _("Sources: %(list)s")
        % {"list": "; ".join(str(label) for _v, label in CustomerSource.choices)},
        _("Industries: %(list)s")
        % {"list": "; ".join(str(label) for _v, label in Industry.choices)},
        _(
            "A row whose name (ignoring 有限公司, spaces, full-width characters and traditional "
            "characters), credit code or mobile matches an existing customer is refused when "
            "duplicates are blocked; nothing is imported until every row is right."
        ),
    ]


CUSTOMER_IMPORT = ImportSpec(
    key="crm.customer",
    label=_("Customers"),
    permission=CrmPerm.ADD_CUSTOMER,
    update_permission=CrmPerm.CHANGE_CUSTOMER,
    columns=COLUMNS,
    match_keys=("credit_code", "name"),
    find_existing=find_customer,
    clean_row=clean_customer_row,
    write_row=write_customer,
    clean_rows=lambda context, rows: clean_customer_rows(context, rows),
    write_rows=lambda actor, rows: write_customer_rows(actor, rows),
    notes=customer_import_notes,
)

register_import(CUSTOMER_IMPORT)
