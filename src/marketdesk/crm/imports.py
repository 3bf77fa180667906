"""The customer import: one row per customer (with its primary contact), de-duplicated against
the database and within the file, written through the CRM services."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketdesk.core.imports import (
    ImportColumn,
    ImportContext,
    ImportSpec,
    Outcome,
    cell_text,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_email,
    register_import,
)
from marketdesk.core.validators import normalise_credit_code, normalise_mobile

from . import selectors, services
from .matching import name_key
from .models import (
    Customer,
    CustomerKind,
    CustomerLevel,
    CustomerSource,
    CustomerStage,
    DuplicateMode,
    Industry,
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
        example="91320594MA1MXXXXXX",
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
    for what, key in (
        ("name", "" if individual else name_key(values.get("name", ""))),
        ("credit_code", values.get("credit_code")),
        ("mobile", values.get("mobile")),
    ):
        if not key:
            continue
        first = index.setdefault((what, key), context.row)
        if first != context.row:
            errors[what] = ValidationError(
                MSG_SAME_IN_FILE,
                params={"row": first, "what": Customer._meta.get_field(what).verbose_name},
            )
    # Against the database (creating only; updates match on the key).
    if existing is None and "name" not in errors:
        matches = services.find_duplicates(
            actor=context.actor,
            name=values.get("name", ""),
            credit_code=values.get("credit_code", ""),
            mobiles=[m for m in (values.get("mobile"), values.get("contact_mobile")) if m],
            kind=values.get("kind") or CustomerKind.COMPANY,
        )
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
        services.contact_create(actor=actor, customer=customer, confirm_duplicates=True, **contact)
    return outcome


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
    notes=customer_import_notes,
)

register_import(CUSTOMER_IMPORT)
