"""What the organisation app plugs into the kernel's registries at start-up."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketdesk.core import scope
from marketdesk.core.numbering import SequenceDefault, register_sequence
from marketdesk.core.registry import (
    NavItem,
    RecordType,
    SearchHit,
    register_nav,
    register_record_type,
    register_search_provider,
)

from . import demo, imports, selectors  # noqa: F401  (demo and imports register themselves)
from .models import Department, Employee
from .permissions import OrgPerm
from .scope import resolve_scope

scope.set_resolver(resolve_scope)

register_sequence(SequenceDefault("EMP", "Employee", "E", reset="never", padding=5))

register_record_type(
    RecordType(
        model=Employee,
        visible=lambda actor: selectors.employee_list(actor=actor),
        editable=lambda actor, record: (
            actor.has_perm(OrgPerm.CHANGE_EMPLOYEE)
            and selectors.employee_list(actor=actor).filter(pk=record.pk).exists()
        ),
    )
)
register_record_type(
    RecordType(
        model=Department,
        visible=lambda actor: selectors.department_list(actor=actor, include_inactive=True),
        editable=lambda actor, record: actor.has_perm(OrgPerm.CHANGE_DEPARTMENT),
    )
)

ORG_GROUP = _("Organisation")
register_nav(
    NavItem(
        "org.departments",
        _("Departments"),
        "org:department_list",
        "diagram-3",
        OrgPerm.VIEW_DEPARTMENT,
        ORG_GROUP,
        900,
    )
)
register_nav(
    NavItem(
        "org.employees",
        _("Employees"),
        "org:employee_list",
        "people",
        OrgPerm.VIEW_EMPLOYEE,
        ORG_GROUP,
        901,
    )
)
register_nav(
    NavItem(
        "org.roles",
        _("Roles and permissions"),
        "org:role_list",
        "shield-lock",
        OrgPerm.VIEW_ROLE,
        ORG_GROUP,
        902,
    )
)
register_nav(
    NavItem(
        "org.company",
        _("Company settings"),
        "org:company",
        "building-gear",
        OrgPerm.CHANGE_COMPANY,
        ORG_GROUP,
        903,
    )
)


def _search_employees(actor, text: str, limit: int):
    for employee in selectors.employee_search(actor=actor, text=text, limit=limit):
        yield SearchHit(
            kind=_("Employee"),
            title=str(employee),
            subtitle=f"{employee.department} · {employee.position or ''}",
            url=reverse("org:employee_detail", args=[employee.pk]),
        )


register_search_provider(_search_employees)
