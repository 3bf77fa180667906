"""Every write of the organisation app: one function each, in a transaction, checked."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.core.numbering import next_number
from marketdesk.core.validators import normalise_id_number, normalise_mobile

from . import selectors
from .handover import handover_targets
from .models import (
    Company,
    DataScope,
    Department,
    Employee,
    EmployeeStatus,
    Handover,
    Position,
    Role,
)
from .permissions import OrgPerm

MSG_NO_PERMISSION = _("You do not have permission to do this.")
MSG_PARENT_CYCLE = _("A unit cannot be moved under itself or one of its own sub-units.")
MSG_DEPARTMENT_IN_USE = _("This unit still has active employees or active sub-units.")
MSG_USERNAME_TAKEN = _("This username is already taken.")
MSG_MOBILE_TAKEN = _("This mobile number already belongs to another user.")
MSG_SUPERVISOR_SELF = _("An employee cannot be their own supervisor.")
MSG_SUPERVISOR_CYCLE = _("This supervisor reports to the employee (directly or indirectly).")
MSG_ALREADY_LEFT = _("This employee has already left.")
MSG_SUCCESSOR_SAME = _("The successor must be another employee.")
MSG_SUCCESSOR_LEFT = _("The successor must be an active employee.")
MSG_SYSTEM_ROLE = _("Shipped roles cannot be deleted; change their permissions instead.")
MSG_ROLE_IN_USE = _("Employees still hold this role.")
MSG_CHOSEN_NEEDS_DEPARTMENTS = _(
    "Choose at least one department for the 'chosen departments' scope."
)
MSG_BAD_APP_SCOPE = _("Unknown module or data scope: %(items)s.")
MSG_LEFT_DATE_BEFORE_HIRE = _("The leaving date is before the hire date.")
MSG_ROLES_NOT_ALLOWED = _("You may not change which roles an employee holds.")
MSG_FISCAL_MONTH = _("Enter a month from 1 to 12.")


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


def _save(instance, actor, *, update_fields=None) -> None:
    instance._history_user = actor
    if instance.pk is None:
        instance.created_by = actor
    instance.updated_by = actor
    instance.full_clean()
    instance.save()


# Company ----------------------------------------------------------------------------------


@transaction.atomic
def company_update(*, actor, company: Company, **fields) -> Company:
    _require(actor, OrgPerm.CHANGE_COMPANY)
    for name, value in fields.items():
        setattr(company, name, value)
    if company.fiscal_year_start_month not in range(1, 13):  # else only the constraint's name shows
        raise ValidationError({"fiscal_year_start_month": MSG_FISCAL_MONTH})
    _save(company, actor)
    return company


# Departments ------------------------------------------------------------------------------


def _current(department: Department | None) -> Department | None:
    """The unit as stored now: a caller's copy may predate a move of the tree above it."""
    return Department.objects.get(pk=department.pk) if department is not None else None


def _set_path(department: Department) -> None:
    parent = department.parent
    department.path = f"{parent.path if parent else '/'}{department.pk}/"
    department.depth = (parent.depth + 1) if parent else 0


@transaction.atomic
def department_create(
    *,
    actor,
    name: str,
    code: str,
    parent: Department | None = None,
    kind: str = "department",
    head: Employee | None = None,
    sort_order: int = 0,
) -> Department:
    _require(actor, OrgPerm.ADD_DEPARTMENT)
    department = Department(
        name=name, code=code, parent=_current(parent), kind=kind, head=head, sort_order=sort_order
    )
    _save(department, actor)
    _set_path(department)
    department.save(update_fields=["path", "depth"])
    return department


@transaction.atomic
def department_update(*, actor, department: Department, **fields) -> Department:
    _require(actor, OrgPerm.CHANGE_DEPARTMENT)
    department = Department.objects.select_for_update().get(pk=department.pk)
    old_path = department.path
    if "parent" in fields:
        fields["parent"] = _current(fields["parent"])
    new_parent = fields.get("parent", department.parent)
    if new_parent is not None and (
        new_parent.pk == department.pk or new_parent.path.startswith(old_path)
    ):
        raise ValidationError({"parent": MSG_PARENT_CYCLE})
    if fields.get("active") is False and department.active:
        _check_can_deactivate(department)
    for name, value in fields.items():
        setattr(department, name, value)
    _set_path(department)
    _save(department, actor)
    if department.path != old_path:
        for child in Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk):
            child.path = department.path + child.path[len(old_path) :]
            child.depth = child.path.count("/") - 2
            child._history_user = actor
            child.save(update_fields=["path", "depth"])
    return department


def _check_can_deactivate(department: Department) -> None:
    busy = (
        Employee.objects.filter(department=department, status=EmployeeStatus.ACTIVE).exists()
        or Department.objects.filter(parent=department, active=True).exists()
    )
    if busy:
        raise ValidationError({"active": MSG_DEPARTMENT_IN_USE})


# Positions ---------------------------------------------------------------------------------


@transaction.atomic
def position_save(
    *, actor, position: Position | None = None, name: str, description: str = ""
) -> Position:
    _require(actor, OrgPerm.CHANGE_POSITION)
    position = position or Position()
    position.name, position.description = name, description
    _save(position, actor)
    return position


# Employees ---------------------------------------------------------------------------------


def _check_supervisor(employee: Employee, supervisor: Employee | None) -> None:
    if supervisor is None or employee.pk is None:
        return
    if supervisor.pk == employee.pk:
        raise ValidationError({"supervisor": MSG_SUPERVISOR_SELF})
    current, seen = supervisor.supervisor, {supervisor.pk}
    while current is not None and current.pk not in seen:
        if current.pk == employee.pk:
            raise ValidationError({"supervisor": MSG_SUPERVISOR_CYCLE})
        seen.add(current.pk)
        current = current.supervisor


def _clean_personal(fields: dict) -> dict:
    errors = {}
    if fields.get("mobile"):
        try:
            fields["mobile"] = normalise_mobile(fields["mobile"])
        except ValidationError as exc:
            errors["mobile"] = exc.messages
    if fields.get("id_number"):
        try:
            fields["id_number"] = normalise_id_number(fields["id_number"])
        except ValidationError as exc:
            errors["id_number"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return fields


def _require_role_assignment(actor) -> None:
    # Roles carry permissions and data scope: whoever hands them out could hand themselves
    # the administrator's, so it is the role administrator's permission, not change_employee.
    if not actor.has_perm(OrgPerm.CHANGE_ROLE):
        raise PermissionDenied(MSG_ROLES_NOT_ALLOWED)


EMPLOYEE_FIELDS = (
    "department",
    "position",
    "supervisor",
    "gender",
    "id_number",
    "address",
    "email",
    "hire_date",
)


@transaction.atomic
def employee_create(
    *,
    actor,
    username: str,
    name: str,
    department: Department,
    mobile: str = "",
    password: str | None = None,
    roles: list[Role] | None = None,
    **fields,
) -> Employee:
    _require(actor, OrgPerm.ADD_EMPLOYEE)
    if roles:
        _require_role_assignment(actor)
    data = _clean_personal({"mobile": mobile, **fields})
    mobile = data.pop("mobile")
    user_model = get_user_model()
    errors = {}
    if user_model.objects.filter(username=username).exists():
        errors["username"] = [str(MSG_USERNAME_TAKEN)]
    if mobile and user_model.objects.filter(mobile=mobile).exists():
        errors["mobile"] = [str(MSG_MOBILE_TAKEN)]
    if errors:
        raise ValidationError(errors)
    user = user_model(
        username=username, name=name, mobile=mobile or None, email=data.get("email", "")
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent create took the username or mobile first
        raise ValidationError({"username": MSG_USERNAME_TAKEN}) from exc
    employee = Employee(user=user, department=department, employee_no=next_number("EMP"))
    for name_, value in data.items():
        if name_ in EMPLOYEE_FIELDS:
            setattr(employee, name_, value)
    _save(employee, actor)
    _check_supervisor(employee, employee.supervisor)
    if roles:
        employee.roles.set(roles)
    return employee


@transaction.atomic
def employee_update(
    *, actor, employee: Employee, roles: list[Role] | None = None, **fields
) -> Employee:
    _require(actor, OrgPerm.CHANGE_EMPLOYEE)
    employee = Employee.objects.select_for_update().select_related("user").get(pk=employee.pk)
    if roles is not None and {role.pk for role in roles} != set(
        employee.roles.values_list("pk", flat=True)
    ):
        _require_role_assignment(actor)
    data = _clean_personal(dict(fields))
    user = employee.user
    user_changed = False
    if "mobile" in data:
        mobile = data.pop("mobile") or None
        if mobile and get_user_model().objects.filter(mobile=mobile).exclude(pk=user.pk).exists():
            raise ValidationError({"mobile": MSG_MOBILE_TAKEN})
        user.mobile, user_changed = mobile, True
    if "name" in data:
        user.name, user_changed = data.pop("name"), True
    if "email" in data:
        user.email = data["email"]
        user_changed = True
    if user_changed:
        user.full_clean(exclude=["password"])
        user.save()
    _check_supervisor(employee, data.get("supervisor", employee.supervisor))
    for name_, value in data.items():
        if name_ in EMPLOYEE_FIELDS:
            setattr(employee, name_, value)
    _save(employee, actor)
    if roles is not None:
        employee.roles.set(roles)
    return employee


@transaction.atomic
def employee_leave(
    *,
    actor,
    employee: Employee,
    left_date: datetime.date | None = None,
    successor: Employee | None = None,
    reason: str = "",
) -> Employee:
    """Mark an employee as left, close their sign-in, and hand over their records if a successor is given."""
    _require(actor, OrgPerm.CHANGE_EMPLOYEE)
    employee = Employee.objects.select_for_update().select_related("user").get(pk=employee.pk)
    if employee.status == EmployeeStatus.LEFT:
        raise ValidationError({"status": MSG_ALREADY_LEFT})
    left_date = left_date or timezone.localdate()
    if employee.hire_date and left_date < employee.hire_date:
        raise ValidationError({"left_date": MSG_LEFT_DATE_BEFORE_HIRE})
    if successor is not None:
        employee_handover(actor=actor, from_employee=employee, to_employee=successor, reason=reason)
    employee.status = EmployeeStatus.LEFT
    employee.left_date = left_date
    _save(employee, actor)
    user = employee.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    return employee


def _move_core_records(from_user, to_user, actor) -> dict[str, int]:
    from marketdesk.core.models import Activity, RecordShare

    moved = {
        "activities": Activity.objects.filter(assignee=from_user, done_at__isnull=True).update(
            assignee=to_user
        ),
    }
    # Team memberships pass to the successor unless they already have one on that record.
    count = 0
    for share in RecordShare.objects.filter(user=from_user):
        exists = RecordShare.objects.filter(
            content_type=share.content_type, object_id=share.object_id, user=to_user
        ).exists()
        if exists:
            share.delete()
        else:
            share.user = to_user
            share.save(update_fields=["user"])
        count += 1
    moved["team_memberships"] = count
    return moved


@transaction.atomic
def employee_handover(
    *, actor, from_employee: Employee, to_employee: Employee, reason: str = ""
) -> Handover:
    """Move everything the departing employee owns to the successor, in one logged action."""
    _require(actor, OrgPerm.HANDOVER_EMPLOYEE)
    # Judge the successor as stored now (they may have left since the caller loaded them).
    from_employee, to_employee = (
        Employee.objects.select_for_update().select_related("user").get(pk=e.pk)
        for e in (from_employee, to_employee)
    )
    if from_employee.pk == to_employee.pk:
        raise ValidationError({"to_employee": MSG_SUCCESSOR_SAME})
    if to_employee.status != EmployeeStatus.ACTIVE:
        raise ValidationError({"to_employee": MSG_SUCCESSOR_LEFT})
    from_user, to_user = from_employee.user, to_employee.user
    moved = _move_core_records(from_user, to_user, actor)
    moved["direct_reports"] = (
        Employee.objects.filter(supervisor=from_employee)
        .exclude(pk=to_employee.pk)
        .update(supervisor=to_employee)
    )
    moved["units_headed"] = Department.objects.filter(head=from_employee).update(head=to_employee)
    for target in handover_targets():
        moved[target.key] = target.move(from_user, to_user, actor)
    handover = Handover(
        from_employee=from_employee, to_employee=to_employee, reason=reason, moved=moved
    )
    _save(handover, actor)
    return handover


# Roles -------------------------------------------------------------------------------------


def _check_role_scope(data_scope: str, departments, app_scopes: dict | None = None) -> None:
    scopes = {data_scope, *(app_scopes or {}).values()}
    if "chosen" in scopes and not departments:
        raise ValidationError({"departments": MSG_CHOSEN_NEEDS_DEPARTMENTS})
    valid = {value for value, _label in DataScope.choices}
    unknown = sorted(
        f"{app}: {scope}"
        for app, scope in (app_scopes or {}).items()
        if scope not in valid or app not in selectors.ROLE_PERMISSION_APPS
    )
    if unknown:
        raise ValidationError(
            {"app_scopes": ValidationError(MSG_BAD_APP_SCOPE, params={"items": ", ".join(unknown)})}
        )


def _clean_app_scopes(app_scopes: dict | None) -> dict:
    return {app: scope for app, scope in (app_scopes or {}).items() if scope}


@transaction.atomic
def role_create(
    *,
    actor,
    code: str,
    name: str,
    data_scope: str,
    permissions: list[Permission] | None = None,
    departments: list[Department] | None = None,
    description: str = "",
    is_system: bool = False,
    app_scopes: dict | None = None,
) -> Role:
    _require(actor, OrgPerm.ADD_ROLE)
    app_scopes = _clean_app_scopes(app_scopes)
    _check_role_scope(data_scope, departments, app_scopes)
    role = Role(
        code=code,
        name=name,
        data_scope=data_scope,
        description=description,
        is_system=is_system,
        app_scopes=app_scopes,
    )
    _save(role, actor)
    role.permissions.set(permissions or [])
    role.departments.set(departments or [])
    return role


@transaction.atomic
def role_update(
    *,
    actor,
    role: Role,
    permissions: list[Permission] | None = None,
    departments: list[Department] | None = None,
    **fields,
) -> Role:
    _require(actor, OrgPerm.CHANGE_ROLE)
    role = Role.objects.select_for_update().get(pk=role.pk)
    if "app_scopes" in fields:
        fields["app_scopes"] = _clean_app_scopes(fields["app_scopes"])
    for name, value in fields.items():
        setattr(role, name, value)
    _check_role_scope(
        role.data_scope,
        departments if departments is not None else list(role.departments.all()),
        role.app_scopes,
    )
    _save(role, actor)
    if permissions is not None:
        role.permissions.set(permissions)
    if departments is not None:
        uses_chosen = "chosen" in {role.data_scope, *role.app_scopes.values()}
        role.departments.set(departments if uses_chosen else [])
    return role


@transaction.atomic
def role_delete(*, actor, role: Role) -> None:
    _require(actor, OrgPerm.CHANGE_ROLE)
    if role.is_system:
        raise ValidationError({"code": MSG_SYSTEM_ROLE})
    if role.employees.filter(Q(status=EmployeeStatus.ACTIVE)).exists():
        raise ValidationError({"code": MSG_ROLE_IN_USE})
    role.delete()


MSG_PASSWORD_LEFT = _("An employee who has left cannot be given a password.")


@transaction.atomic
def employee_set_password(*, actor, employee: Employee, password: str) -> Employee:
    """An administrator sets a (new) password, e.g. for imported employees or a forgotten one."""
    from django.contrib.auth.password_validation import validate_password

    _require(actor, OrgPerm.CHANGE_EMPLOYEE)
    if not actor.is_staff and not actor.is_superuser:
        raise PermissionDenied(MSG_NO_PERMISSION)
    if employee.status != EmployeeStatus.ACTIVE:
        raise ValidationError({"password": MSG_PASSWORD_LEFT})
    user = employee.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    return employee


MSG_NOTHING_SELECTED = _("Select at least one employee.")


@transaction.atomic
def employees_change_role(*, actor, employees: list[Employee], role: Role, grant: bool) -> int:
    """Grant or remove one role for several employees at once (all or nothing)."""
    _require(actor, OrgPerm.CHANGE_EMPLOYEE)
    _require(actor, OrgPerm.CHANGE_ROLE)  # handing out roles is a privilege of role administrators
    if not employees:
        raise ValidationError({"ids": MSG_NOTHING_SELECTED})
    changed = 0
    for employee in Employee.objects.select_for_update().filter(pk__in=[e.pk for e in employees]):
        has_role = employee.roles.filter(pk=role.pk).exists()
        if grant and not has_role:
            employee._history_user = actor
            employee.roles.add(role)
            changed += 1
        elif not grant and has_role:
            employee._history_user = actor
            employee.roles.remove(role)
            changed += 1
    return changed
