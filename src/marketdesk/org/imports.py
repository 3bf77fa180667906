"""The employee import: one row per employee, created or updated through the org services."""

from __future__ import annotations

import datetime
import re
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
    parse_email,
    parse_text,
    register_import,
)
from marketdesk.core.validators import normalise_id_number, normalise_mobile

from . import selectors, services
from .models import Department, Employee, EmployeeStatus, Position, Role
from .permissions import OrgPerm

MSG_USERNAME = _("Letters, digits and @/./+/-/_ only.")
MSG_UNKNOWN_DEPARTMENT = _('No active department has the code "%(code)s".')
MSG_UNKNOWN_POSITION = _('No position is named "%(name)s".')
MSG_UNKNOWN_ROLES = _("Unknown role codes: %(codes)s.")
MSG_UNKNOWN_SUPERVISOR = _(
    'No active employee has the username "%(username)s". A supervisor must already exist '
    "or be on an earlier row of this file."
)
MSG_USERNAME_MISMATCH = _(
    'The employee with this mobile number has the username "%(username)s"; usernames '
    "cannot be changed by import."
)
MSG_EMPLOYEE_LEFT = _("This employee has left and cannot be changed.")
MSG_ROLES_NOT_ALLOWED = _("You may not change which roles an employee holds.")

ROLE_SEPARATORS = re.compile(r"[,，、;；\s]+")
LIST_LIMIT = 200  # codes listed on the template's notes sheet


def _department(raw: Any) -> Department:
    code = cell_text(raw)
    department = Department.objects.filter(code=code, active=True).first()
    if department is None:
        raise ValidationError(MSG_UNKNOWN_DEPARTMENT, code="department", params={"code": code})
    return department


def _position(raw: Any) -> Position:
    name = cell_text(raw)
    position = Position.objects.filter(name=name).first()
    if position is None:
        raise ValidationError(MSG_UNKNOWN_POSITION, code="position", params={"name": name})
    return position


def _roles(raw: Any) -> list[Role]:
    codes = list(dict.fromkeys(code for code in ROLE_SEPARATORS.split(cell_text(raw)) if code))
    roles = {role.code: role for role in Role.objects.filter(code__in=codes)}
    unknown = [code for code in codes if code not in roles]
    if unknown:
        raise ValidationError(MSG_UNKNOWN_ROLES, code="roles", params={"codes": ", ".join(unknown)})
    return [roles[code] for code in codes]


COLUMNS = (
    ImportColumn(
        "username",
        _("Username"),
        required=True,
        parse=parse_text(max_length=150, pattern=r"[\w.@+-]+", message=MSG_USERNAME),
        example="zhangsan",
        help=_("Sign-in name: letters, digits and @/./+/-/_ only. Cannot be changed later."),
        width=14,
    ),
    ImportColumn(
        "name", _("Name"), required=True, parse=parse_text(max_length=60), example="张三", width=10
    ),
    ImportColumn(
        "mobile",
        _("Mobile"),
        parse=parse_text(max_length=20, normalise=normalise_mobile),
        example="13800138000",
        help=_("Mainland China mobile, 11 digits. Also a sign-in name, so unique."),
        width=14,
        text=True,
    ),
    ImportColumn("email", _("Email"), parse=parse_email, example="zhangsan@example.com", width=24),
    ImportColumn(
        "department",
        _("Department code"),
        required=True,
        parse=_department,
        example="S1",
        help=_(
            "The code of an active department or group (listed on the notes sheet of the template)."
        ),
        width=14,
        text=True,
    ),
    ImportColumn(
        "position",
        _("Position"),
        parse=_position,
        example="",
        help=_("The name of an existing position (listed on the notes sheet of the template)."),
        width=14,
    ),
    ImportColumn(
        "supervisor",
        _("Supervisor username"),
        parse=parse_text(max_length=150),
        example="",
        help=_("Username of an active employee, or of an employee on an earlier row."),
        width=14,
    ),
    ImportColumn(
        "roles",
        _("Roles"),
        parse=_roles,
        example="salesperson",
        help=_(
            "Role codes separated by , or 、 (listed on the notes sheet of the template). "
            "On update they replace the employee's roles."
        ),
        width=18,
    ),
    ImportColumn(
        "hire_date",
        _("Hire date"),
        parse=parse_date,
        example=datetime.date(2026, 3, 1),
        help=_("A date such as 2026-03-01."),
        width=12,
    ),
    ImportColumn(
        "gender",
        _("Gender"),
        parse=parse_choice({"男": "M", "女": "F", "M": "M", "F": "F"}),
        example="男",
        help=_("男 or 女 (or M / F)."),
        width=8,
    ),
    ImportColumn(
        "id_number",
        _("ID card number"),
        parse=parse_text(max_length=18, normalise=normalise_id_number),
        example="11010519491231002X",
        help=_("Resident ID card number, 18 characters."),
        width=22,
        text=True,
    ),
    ImportColumn("address", _("Address"), parse=parse_text(max_length=200), example="", width=30),
)


def find_employee(actor, field: str, value: Any) -> Employee | None:
    """The employee a row updates, among those the importer may change (data scope)."""
    employees = selectors.employee_list(actor=actor, perm=OrgPerm.CHANGE_EMPLOYEE)
    lookup = {"username": "user__username", "mobile": "user__mobile"}[field]
    return employees.filter(**{lookup: value}).first()


def clean_employee_row(context: ImportContext, values: dict[str, Any], existing) -> None:
    """What the services would refuse, found before anything is written."""
    users = get_user_model().objects.all()
    errors: dict[str, Any] = {}
    username = values.get("username", "")
    if existing is None:
        if users.filter(username=username).exists():
            errors["username"] = services.MSG_USERNAME_TAKEN
    else:
        if existing.status == EmployeeStatus.LEFT:
            raise ValidationError(MSG_EMPLOYEE_LEFT)
        if username != existing.user.username:
            errors["username"] = ValidationError(
                MSG_USERNAME_MISMATCH, params={"username": existing.user.username}
            )
        users = users.exclude(pk=existing.user_id)
    mobile = values.get("mobile")
    if mobile and users.filter(mobile=mobile).exists():
        errors["mobile"] = services.MSG_MOBILE_TAKEN
    roles = values.get("roles")
    if roles is not None and not context.actor.has_perm(OrgPerm.CHANGE_ROLE):
        current = set(existing.roles.values_list("pk", flat=True)) if existing else set()
        if {role.pk for role in roles} != current:
            errors["roles"] = MSG_ROLES_NOT_ALLOWED  # roles carry permissions (services agree)
    supervisor = values.get("supervisor")
    if supervisor:
        if supervisor == username:
            errors["supervisor"] = services.MSG_SUPERVISOR_SELF
        elif not Employee.objects.filter(
            user__username=supervisor, status=EmployeeStatus.ACTIVE
        ).exists():
            earlier = context.row_with("username", supervisor)
            if earlier is None or earlier >= context.row:
                errors["supervisor"] = ValidationError(
                    MSG_UNKNOWN_SUPERVISOR, params={"username": supervisor}
                )
    if errors:
        raise ValidationError(errors)


def write_employee(actor, values: dict[str, Any], existing: Employee | None) -> Outcome:
    fields = dict(values)
    roles = fields.pop("roles", None)
    supervisor = fields.pop("supervisor", None)
    if supervisor:
        fields["supervisor"] = Employee.objects.filter(
            user__username=supervisor, status=EmployeeStatus.ACTIVE
        ).first()
        if fields["supervisor"] is None:
            raise ValidationError(
                {
                    "supervisor": ValidationError(
                        MSG_UNKNOWN_SUPERVISOR, params={"username": supervisor}
                    )
                }
            )
    username = fields.pop("username")
    if existing is None:
        services.employee_create(
            actor=actor,
            username=username,
            name=fields.pop("name"),
            department=fields.pop("department"),
            roles=roles,
            **fields,
        )
        return Outcome.CREATED
    services.employee_update(actor=actor, employee=existing, roles=roles, **fields)
    return Outcome.UPDATED


def employee_import_notes() -> list[Any]:
    departments = Department.objects.filter(active=True).order_by("path", "sort_order")
    positions = Position.objects.order_by("name")
    roles = Role.objects.order_by("-is_system", "name")
    return [
        _("Department codes: %(list)s")
        % {"list": "; ".join(f"{d.code} {d.name}" for d in departments[:LIST_LIMIT])},
        _("Positions: %(list)s") % {"list": "; ".join(p.name for p in positions[:LIST_LIMIT])},
        _("Role codes: %(list)s")
        % {"list": "; ".join(f"{r.code} {r}" for r in roles[:LIST_LIMIT])},
        _(
            "Imported employees have no password yet: they cannot sign in until one is set for them."
        ),
    ]


EMPLOYEE_IMPORT = ImportSpec(
    key="org.employee",
    label=_("Employees"),
    permission=OrgPerm.ADD_EMPLOYEE,
    update_permission=OrgPerm.CHANGE_EMPLOYEE,
    columns=COLUMNS,
    match_keys=("username", "mobile"),
    find_existing=find_employee,
    clean_row=clean_employee_row,
    write_row=write_employee,
    notes=employee_import_notes,
)

register_import(EMPLOYEE_IMPORT)
