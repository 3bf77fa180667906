"""Resolves a user's data scope from their roles; installed into core.scope at start-up."""

from __future__ import annotations

from marketdesk.core.scope import Scope

from .models import DataScope, Department, Employee, EmployeeStatus, Role


def subtree_query(department: Department):
    """The ids of the unit and every unit below it, as a query."""
    return Department.objects.filter(path__startswith=department.path).values("pk")


def subtree_ids(department: Department) -> set[int]:
    return set(subtree_query(department).values_list("pk", flat=True))


def resolve_scope(actor, perm: str) -> Scope:
    """The widest scope among the actor's roles that grant `perm`; chosen departments add up."""
    app_label, _, codename = perm.partition(".")
    roles = list(
        Role.objects.filter(
            employees__user=actor,
            employees__status=EmployeeStatus.ACTIVE,
            permissions__content_type__app_label=app_label,
            permissions__codename=codename,
        ).distinct()
    )
    if not roles:  # granted directly on the user (e.g. by the administrator): own records only
        return Scope(user_id=actor.pk)
    kinds = {role.scope_for_app(app_label) for role in roles}
    if DataScope.ALL in kinds:
        return Scope(all=True, user_id=actor.pk)
    department_ids: set[int] = set()
    query = None
    employee = Employee.objects.select_related("department").filter(user=actor).first()
    if employee is not None:
        if DataScope.SUBTREE in kinds:
            department_ids |= subtree_ids(employee.department)
            query = subtree_query(employee.department)
        elif DataScope.DEPARTMENT in kinds:
            department_ids.add(employee.department_id)
    for role in roles:
        if role.scope_for_app(app_label) == DataScope.CHOSEN:
            chosen = set(role.departments.values_list("pk", flat=True))
            if not chosen <= department_ids:
                query = None  # the subtree's query would miss them: use the ids
            department_ids |= chosen
    return Scope(
        department_ids=frozenset(department_ids), user_id=actor.pk, departments_query=query
    )
