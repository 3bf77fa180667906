"""The kernel's data scope: `scope_for` asks the installed resolver, `scoped` limits rows."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission

from marketdesk.core import services as core_services
from marketdesk.core.scope import NO_ACCESS, Scope, scope_for, scoped
from marketdesk.org import services as org_services
from marketdesk.org.models import Employee
from marketdesk.org.permissions import CorePerm, OrgPerm

User = get_user_model()


def fresh(user):
    return User.objects.get(pk=user.pk)


def visible(actor, perm=OrgPerm.VIEW_EMPLOYEE) -> set[str]:
    queryset = scoped(
        Employee.objects.all(),
        actor=actor,
        perm=perm,
        owner_field="user",
        department_field="department",
    )
    return set(queryset.values_list("user__username", flat=True))


class TestScopeFor:
    def test_anonymous_has_no_access(self, personas):
        assert scope_for(AnonymousUser(), OrgPerm.VIEW_EMPLOYEE) == NO_ACCESS
        assert scope_for(None, OrgPerm.VIEW_EMPLOYEE) == NO_ACCESS

    def test_a_superuser_sees_all(self, personas):
        system = User.objects.get(username="system")
        assert scope_for(system, OrgPerm.VIEW_EMPLOYEE).all

    def test_without_the_permission_there_is_no_access(self, personas):
        assert scope_for(personas.outsider, OrgPerm.VIEW_EMPLOYEE).empty
        assert scope_for(personas.sales1, CorePerm.EXPORT_DATA).empty

    def test_an_inactive_user_has_no_access(self, personas):
        org_services.employee_leave(actor=personas.admin, employee=personas.emp("management"))
        assert scope_for(fresh(personas.management), OrgPerm.VIEW_EMPLOYEE) == NO_ACCESS

    def test_each_shipped_scope_resolves(self, personas):
        units = personas.units
        assert scope_for(personas.admin, OrgPerm.VIEW_EMPLOYEE).all
        assert scope_for(personas.manager, OrgPerm.VIEW_EMPLOYEE).department_ids == {
            units[code].pk for code in ("MKT", "PRO", "S1", "S2")
        }
        assert scope_for(personas.leader2, OrgPerm.VIEW_EMPLOYEE).department_ids == {units["S2"].pk}
        sales = scope_for(personas.sales1, OrgPerm.VIEW_EMPLOYEE)
        assert (sales.all, sales.department_ids, sales.user_id) == (
            False,
            frozenset(),
            personas.sales1.pk,
        )

    def test_a_permission_granted_on_the_user_directly_reaches_own_records_only(self, personas):
        outsider = personas.outsider
        outsider.user_permissions.add(
            Permission.objects.get(content_type__app_label="org", codename="view_employee")
        )
        scope = scope_for(fresh(outsider), OrgPerm.VIEW_EMPLOYEE)
        assert scope == Scope(user_id=outsider.pk)

    def test_the_answer_is_kept_for_the_request(self, personas):
        manager = fresh(personas.manager)
        first = scope_for(manager, OrgPerm.VIEW_EMPLOYEE)
        assert scope_for(manager, OrgPerm.VIEW_EMPLOYEE) is first


class TestSubtreeAsSubquery:
    """A long subtree scope is applied as `department IN (SELECT id ... path LIKE ...)`: the same
    rows as the list of ids."""

    def test_the_same_rows_either_way(self, personas, monkeypatch):
        from marketdesk.core import scope as core_scope

        scope = scope_for(fresh(personas.manager), OrgPerm.VIEW_EMPLOYEE)
        assert scope.departments_query is not None
        assert set(scope.departments_query.values_list("pk", flat=True)) == scope.department_ids
        as_list = visible(fresh(personas.manager))
        monkeypatch.setattr(core_scope, "SUBQUERY_FROM", 0)
        queryset = scoped(
            Employee.objects.all(),
            actor=fresh(personas.manager),
            perm=OrgPerm.VIEW_EMPLOYEE,
            owner_field="user",
        )
        assert "LIKE" in str(queryset.query) or "GLOB" in str(queryset.query)
        assert set(queryset.values_list("user__username", flat=True)) == as_list

    def test_one_department_or_chosen_units_keep_the_list(self, personas):
        assert scope_for(personas.leader2, OrgPerm.VIEW_EMPLOYEE).departments_query is None


class TestScoped:
    def test_all_returns_every_row(self, personas):
        assert len(visible(personas.finance)) == Employee.objects.count()

    def test_no_access_returns_no_row(self, personas):
        assert visible(personas.outsider) == set()

    def test_self_returns_own_records(self, personas):
        assert visible(personas.promo) == {"promo"}

    def test_departments_return_their_rows_and_own_records(self, personas):
        assert visible(personas.leader1) == {"leader1", "sales1", "sales1b"}

    def test_a_shared_record_is_added(self, personas):
        core_services.record_share(
            actor=personas.admin, record=personas.emp("admin"), user=personas.promo, access="read"
        )
        assert visible(fresh(personas.promo)) == {"promo", "admin"}

    def test_a_share_of_another_model_does_not_leak_rows_with_the_same_id(self, personas):
        for department in personas.units.values():  # ids overlap with the employees' ids
            core_services.record_share(
                actor=personas.admin, record=department, user=personas.promo, access="read"
            )
        assert visible(fresh(personas.promo)) == {"promo"}

    def test_shares_can_be_ignored(self, personas):
        core_services.record_share(
            actor=personas.admin, record=personas.emp("admin"), user=personas.promo, access="read"
        )
        queryset = scoped(
            Employee.objects.all(),
            actor=fresh(personas.promo),
            perm=OrgPerm.VIEW_EMPLOYEE,
            owner_field="user",
            shared=False,
        )
        assert set(queryset.values_list("user__username", flat=True)) == {"promo"}

    def test_without_an_owner_field_self_scope_sees_nothing_but_shares(self, personas):
        queryset = scoped(
            Employee.objects.all(),
            actor=personas.promo,
            perm=OrgPerm.VIEW_EMPLOYEE,
            owner_field=None,
            department_field="department",
        )
        assert not queryset.exists()
