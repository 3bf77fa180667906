"""The shipped roles (R2): their data scope and permissions. Later apps add their own
permissions to these roles with `grant()`; `sync_shipped_roles()` makes the database agree
(adds what is missing, never removes what an administrator granted)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .models import DataScope, Role


@dataclass
class ShippedRole:
    code: str
    name: object
    description: object
    data_scope: str
    permissions: set[str] = field(default_factory=set)
    app_scopes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Several roles are built from the same set (ORG_READ); each needs its own copy, or
        # grant() to one role would grant to all of them.
        self.permissions = set(self.permissions)


ORG_READ = {"org.view_department", "org.view_employee", "org.view_position"}
ORG_ALL = ORG_READ | {
    "org.add_department",
    "org.change_department",
    "org.add_employee",
    "org.change_employee",
    "org.handover_employee",
    "org.view_role",
    "org.add_role",
    "org.change_role",
    "org.change_position",
    "org.change_company",
}

SHIPPED: dict[str, ShippedRole] = {
    role.code: role
    for role in [
        ShippedRole(
            "administrator",
            _("Administrator"),
            _("Sets up the company, units, people and roles."),
            DataScope.ALL,
            ORG_ALL | {"core.view_personal_data", "core.export_data", "core.import_data"},
        ),
        ShippedRole(
            "marketing_manager",
            _("Marketing manager"),
            _("Runs the marketing department (R2.2.1)."),
            DataScope.SUBTREE,
            ORG_READ
            | {
                "org.change_employee",
                "org.handover_employee",
                "org.view_role",
                "core.view_personal_data",
                "core.export_data",
                "core.import_data",
            },
        ),
        ShippedRole(
            "group_leader",
            _("Group leader"),
            _("Leads a promotion or sales group."),
            DataScope.DEPARTMENT,
            ORG_READ | {"core.export_data"},
        ),
        ShippedRole(
            "salesperson",
            _("Salesperson"),
            _("Sells to a region or customer segment (R2.2.3, R2.2.4)."),
            DataScope.SELF,
            ORG_READ,
        ),
        ShippedRole(
            "promotion",
            _("Promotion staff"),
            _("Plans and runs promotion activities (R2.2.2)."),
            DataScope.SELF,
            ORG_READ,
        ),
        ShippedRole(
            "customer_service",
            _("Customer service"),
            _("Answers the hotline, handles complaints and care (R5.2.2)."),
            DataScope.DEPARTMENT,
            ORG_READ,
        ),
        ShippedRole(
            "finance",
            _("Finance"),
            _("Accounts for marketing expenses (R7.3)."),
            DataScope.ALL,
            ORG_READ | {"core.export_data"},
        ),
        ShippedRole(
            "management",
            _("Management"),
            _("Approves plans and budgets (R4.1.1, R7.1)."),
            DataScope.ALL,
            ORG_READ | {"org.view_role", "core.view_personal_data", "core.export_data"},
        ),
    ]
}


def ship_role(role: ShippedRole) -> None:
    """Called by later apps at start-up to ship a role of their own (e.g. sales ships the
    production and logistics coordinator who works on an order's coordination tasks)."""
    SHIPPED.setdefault(role.code, role)


def grant(role_code: str, *permissions: str) -> None:
    """Called by later apps at start-up to extend a shipped role."""
    SHIPPED[role_code].permissions.update(permissions)


def grant_scope(role_code: str, app_label: str, data_scope: str) -> None:
    """Called by later apps at start-up: the shipped role's data scope for that app's
    permissions (e.g. customer service sees all customers: grant_scope("customer_service",
    "crm", DataScope.ALL))."""
    SHIPPED[role_code].app_scopes[app_label] = data_scope


def _permissions_by_code() -> dict[str, Permission]:
    """Every permission by app_label.codename, in one query."""
    rows = Permission.objects.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}": p for p in rows}


@transaction.atomic
def sync_shipped_roles() -> int:
    """Create missing shipped roles and add missing permissions; returns roles created."""
    created = 0
    permissions = _permissions_by_code()
    existing = {role.code: role for role in Role.objects.filter(code__in=list(SHIPPED))}
    for shipped in SHIPPED.values():
        role = existing.get(shipped.code)
        if role is None:
            role = Role.objects.create(
                code=shipped.code,
                name=str(shipped.name),
                description=str(shipped.description),
                data_scope=shipped.data_scope,
                app_scopes=dict(shipped.app_scopes),
                is_system=True,
            )
            created += 1
        missing_scopes = {
            app: scope for app, scope in shipped.app_scopes.items() if app not in role.app_scopes
        }
        if missing_scopes:  # an administrator's own choice for a module is kept
            role.app_scopes = {**role.app_scopes, **missing_scopes}
            role.save(update_fields=["app_scopes"])
        wanted = {permissions[code].pk for code in shipped.permissions if code in permissions}
        have = set(role.permissions.values_list("pk", flat=True))
        if wanted - have:
            role.permissions.add(*(wanted - have))
    return created
