"""Reads of organisation data, limited to what the asking user may see."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from marketdesk.core.scope import scoped

from .models import Company, Department, Employee, EmployeeStatus, Position, Role
from .permissions import OrgPerm

# Apps whose permissions a role may grant (the rest are Django internals).
ROLE_PERMISSION_APPS = [
    "core",
    "org",
    "approvals",
    "crm",
    "finance",
    "sales",
    "planning",
    "campaigns",
    "channels",
    "service",
    "research",
    "people",
    "risk",
    "insights",
]


def company_get() -> Company:
    company = Company.objects.order_by("pk").first()
    if company is None:
        company = Company.objects.create(name="MarketDesk")
    return company


def department_list(*, actor, include_inactive: bool = False) -> QuerySet[Department]:
    """The whole tree for anyone who may view departments (structure is not confidential)."""
    if not actor.has_perm(OrgPerm.VIEW_DEPARTMENT):
        return Department.objects.none()
    queryset = Department.objects.select_related("parent", "head__user").annotate(
        employee_count=Count("employees", filter=Q(employees__status=EmployeeStatus.ACTIVE))
    )
    if not include_inactive:
        queryset = queryset.filter(active=True)
    return queryset.order_by("path", "sort_order")


def department_get(*, actor, pk: int) -> Department:
    department = department_list(actor=actor, include_inactive=True).filter(pk=pk).first()
    if department is None:
        raise Http404
    return department


def department_choices() -> QuerySet[Department]:
    return Department.objects.filter(active=True).order_by("path", "sort_order")


def employee_list(*, actor, perm: str = OrgPerm.VIEW_EMPLOYEE) -> QuerySet[Employee]:
    queryset = Employee.objects.select_related("user", "department", "position", "supervisor__user")
    return scoped(
        queryset, actor=actor, perm=perm, owner_field="user", department_field="department"
    )


def employee_get(*, actor, pk: int, perm: str = OrgPerm.VIEW_EMPLOYEE) -> Employee:
    employee = (
        employee_list(actor=actor, perm=perm)
        .prefetch_related(Prefetch("roles", queryset=Role.objects.order_by("name")))
        .filter(pk=pk)
        .first()
    )
    if employee is None:
        raise Http404
    return employee


def employee_for_user(user) -> Employee | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Employee.objects.select_related("department", "supervisor__user").filter(user=user).first()
    )


def employee_search(*, actor, text: str, limit: int = 8) -> QuerySet[Employee]:
    text = text.strip()
    return employee_list(actor=actor).filter(
        Q(user__name__icontains=text)
        | Q(user__username__icontains=text)
        | Q(employee_no__icontains=text)
    )[:limit]


def active_employee_choices() -> QuerySet[Employee]:
    return (
        Employee.objects.filter(status=EmployeeStatus.ACTIVE)
        .select_related("user", "department")
        .order_by("department__path", "user__name")
    )


def role_list(*, actor) -> QuerySet[Role]:
    if not actor.has_perm(OrgPerm.VIEW_ROLE):
        return Role.objects.none()
    return Role.objects.annotate(
        employee_count=Count(
            "employees", filter=Q(employees__status=EmployeeStatus.ACTIVE), distinct=True
        ),
        permission_count=Count("permissions", distinct=True),
    ).order_by("-is_system", "name")


def role_get(*, actor, pk: int) -> Role:
    role = (
        role_list(actor=actor)
        .filter(pk=pk)
        .prefetch_related("permissions__content_type", "departments")
        .first()
    )
    if role is None:
        raise Http404
    return role


def scoped_modules() -> list[tuple[str, str]]:
    """Installed business modules whose data scope a role may set apart from its own."""
    from django.apps import apps

    return [
        (label, str(apps.get_app_config(label).verbose_name))
        for label in ROLE_PERMISSION_APPS
        if label not in ("core", "org") and apps.is_installed(f"marketdesk.{label}")
    ]


def grantable_permissions() -> QuerySet[Permission]:
    return (
        Permission.objects.filter(content_type__app_label__in=ROLE_PERMISSION_APPS)
        .exclude(content_type__model__startswith="historical")
        .select_related("content_type")
        .order_by("content_type__app_label", "content_type__model", "codename")
    )


def position_list(*, actor) -> QuerySet[Position]:
    if not actor.has_perm(OrgPerm.VIEW_POSITION) and not actor.has_perm(OrgPerm.VIEW_EMPLOYEE):
        return Position.objects.none()
    return Position.objects.annotate(employee_count=Count("employees")).order_by("name")


def supervisor_chain(employee: Employee, levels: int) -> list[Employee]:
    """The employee's supervisors, nearest first, up to `levels` (cycles stop the walk)."""
    chain: list[Employee] = []
    seen = {employee.pk}
    current = employee.supervisor
    while current is not None and len(chain) < levels and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.supervisor
    return chain


def department_head(department: Department) -> Employee | None:
    """The unit's head, or the nearest head above it."""
    current: Department | None = department
    while current is not None:
        if current.head_id is not None:
            return current.head
        current = current.parent
    return None
