"""The organisation selectors return only what the asking user's roles let them see."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.http import Http404

from marketdesk.core import services as core_services
from marketdesk.org import selectors, services
from marketdesk.org.models import Department, Role
from marketdesk.org.permissions import CorePerm, OrgPerm
from marketdesk.org.scope import resolve_scope

User = get_user_model()

MARKETING = {"manager", "leader1", "sales1", "sales1b", "leader2", "sales2", "promo"}
EVERYONE = MARKETING | {"management", "service", "finance", "admin", "outsider"}


def fresh(user):
    return User.objects.get(pk=user.pk)


def usernames(queryset) -> set[str]:
    return set(queryset.values_list("user__username", flat=True))


def give_role(personas, key: str, *roles: Role) -> None:
    services.employee_update(
        actor=personas.admin,
        employee=personas.emp(key),
        roles=[*personas.emp(key).roles.all(), *roles],
    )


def new_role(personas, code: str, data_scope: str, perms: list[str], departments=()) -> Role:
    permissions = [
        Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1])
        for p in perms
    ]
    return services.role_create(
        actor=personas.admin,
        code=code,
        name=code,
        data_scope=data_scope,
        permissions=permissions,
        departments=[personas.units[unit] for unit in departments],
    )


class TestEmployeeList:
    @pytest.mark.parametrize(
        ("persona", "visible"),
        [
            ("management", EVERYONE),  # all
            ("finance", EVERYONE),  # all
            ("admin", EVERYONE),  # all
            ("manager", MARKETING),  # own department and below
            ("leader1", {"leader1", "sales1", "sales1b"}),  # own department
            ("leader2", {"leader2", "sales2"}),
            ("service", {"service"}),  # own department (客服部 has one person)
            ("sales1", {"sales1"}),  # self
            ("promo", {"promo"}),  # self
            ("outsider", set()),  # no role
        ],
    )
    def test_each_persona_sees_their_scope(self, personas, persona, visible):
        actor = getattr(personas, persona)
        assert usernames(selectors.employee_list(actor=actor)) == visible

    def test_a_user_with_no_role_sees_nothing(self, personas):
        assert not selectors.employee_list(actor=personas.outsider).exists()

    def test_the_chosen_departments_scope_sees_exactly_those_departments(self, personas):
        give_role(
            personas,
            "outsider",
            new_role(personas, "fin_cs", "chosen", [OrgPerm.VIEW_EMPLOYEE], ["FIN", "CS"]),
        )
        assert usernames(selectors.employee_list(actor=fresh(personas.outsider))) == {
            "finance",
            "service",
            "outsider",  # own records always
        }

    def test_chosen_departments_of_several_roles_add_up(self, personas):
        give_role(
            personas,
            "outsider",
            new_role(personas, "fin", "chosen", [OrgPerm.VIEW_EMPLOYEE], ["FIN"]),
            new_role(personas, "s2", "chosen", [OrgPerm.VIEW_EMPLOYEE], ["S2"]),
        )
        assert usernames(selectors.employee_list(actor=fresh(personas.outsider))) == {
            "finance",
            "leader2",
            "sales2",
            "outsider",
        }

    def test_the_widest_scope_among_the_roles_wins(self, personas):
        # sales1 is a salesperson (self); a second role with department scope widens the view.
        give_role(
            personas,
            "sales1",
            new_role(personas, "dept_view", "department", [OrgPerm.VIEW_EMPLOYEE]),
        )
        assert usernames(selectors.employee_list(actor=fresh(personas.sales1))) == {
            "leader1",
            "sales1",
            "sales1b",
        }

    def test_the_widest_scope_is_chosen_per_permission(self, personas):
        # The wide role grants only export: viewing employees stays at the salesperson's scope.
        give_role(personas, "sales1", new_role(personas, "exporter", "all", [CorePerm.EXPORT_DATA]))
        sales1 = fresh(personas.sales1)
        assert usernames(selectors.employee_list(actor=sales1)) == {"sales1"}
        assert resolve_scope(sales1, CorePerm.EXPORT_DATA).all

    def test_all_scope_beats_chosen_departments(self, personas):
        give_role(
            personas,
            "outsider",
            new_role(personas, "fin", "chosen", [OrgPerm.VIEW_EMPLOYEE], ["FIN"]),
            new_role(personas, "everyone", "all", [OrgPerm.VIEW_EMPLOYEE]),
        )
        assert usernames(selectors.employee_list(actor=fresh(personas.outsider))) == EVERYONE

    def test_department_and_below_follows_a_new_sub_unit(self, personas):
        unit = services.department_create(
            actor=personas.admin, name="销售三组", code="S3", parent=personas.units["MKT"]
        )
        services.employee_create(
            actor=personas.admin, username="sales3", name="钱七", department=unit
        )
        assert "sales3" in usernames(selectors.employee_list(actor=fresh(personas.manager)))
        assert "sales3" not in usernames(selectors.employee_list(actor=fresh(personas.leader1)))

    def test_an_employee_who_has_left_sees_nothing(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("leader1"))
        assert not selectors.employee_list(actor=fresh(personas.leader1)).exists()

    def test_an_employee_who_has_left_loses_role_scope_even_if_the_account_stays_open(
        self, personas
    ):
        services.employee_leave(actor=personas.admin, employee=personas.emp("manager"))
        manager = fresh(personas.manager)
        manager.is_active = True
        assert not selectors.employee_list(actor=manager).exists()

    def test_a_shared_record_is_visible_outside_the_scope(self, personas):
        core_services.record_share(
            actor=personas.admin,
            record=personas.emp("finance"),
            user=personas.sales1,
            access="read",
        )
        assert usernames(selectors.employee_list(actor=fresh(personas.sales1))) == {
            "sales1",
            "finance",
        }

    def test_a_share_does_not_help_a_user_without_the_permission(self, personas):
        core_services.record_share(
            actor=personas.admin,
            record=personas.emp("finance"),
            user=personas.outsider,
            access="read",
        )
        assert not selectors.employee_list(actor=fresh(personas.outsider)).exists()


class TestEmployeeGet:
    def test_it_returns_a_row_in_scope(self, personas):
        employee = selectors.employee_get(actor=personas.leader1, pk=personas.emp("sales1").pk)
        assert employee == personas.emp("sales1")

    @pytest.mark.parametrize(
        ("persona", "target"),
        [
            ("leader1", "sales2"),
            ("sales1", "sales1b"),
            ("manager", "finance"),
            ("outsider", "outsider"),
        ],
    )
    def test_a_row_outside_the_scope_is_not_found(self, personas, persona, target):
        with pytest.raises(Http404):
            selectors.employee_get(actor=getattr(personas, persona), pk=personas.emp(target).pk)

    def test_an_unknown_id_is_not_found(self, personas):
        with pytest.raises(Http404):
            selectors.employee_get(actor=personas.admin, pk=999_999)

    def test_a_shared_row_is_found(self, personas):
        core_services.record_share(
            actor=personas.admin, record=personas.emp("sales2"), user=personas.sales1, access="read"
        )
        employee = selectors.employee_get(
            actor=fresh(personas.sales1), pk=personas.emp("sales2").pk
        )
        assert employee == personas.emp("sales2")


class TestEmployeeSearch:
    def test_it_finds_by_name_username_and_number_inside_the_scope(self, personas):
        sales1b = personas.emp("sales1b")
        for text in ("孙浩", "sales1b", sales1b.employee_no):
            assert list(selectors.employee_search(actor=personas.leader1, text=text)) == [sales1b]

    def test_it_never_finds_a_row_outside_the_scope(self, personas):
        assert not selectors.employee_search(actor=personas.sales1, text="孙浩").exists()
        assert not selectors.employee_search(actor=personas.outsider, text="林志远").exists()


class TestDepartmentList:
    def test_anyone_who_may_view_departments_sees_the_whole_tree(self, personas):
        codes = set(selectors.department_list(actor=personas.sales1).values_list("code", flat=True))
        assert codes == {"GM", "MKT", "PRO", "S1", "S2", "FIN", "CS", "PRD"}

    def test_without_the_permission_it_is_empty(self, personas):
        assert not selectors.department_list(actor=personas.outsider).exists()
        with pytest.raises(Http404):
            selectors.department_get(actor=personas.outsider, pk=personas.units["PRD"].pk)

    def test_it_counts_active_employees(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("sales1b"))
        s1 = selectors.department_list(actor=personas.admin).get(code="S1")
        assert s1.employee_count == 2

    def test_inactive_units_are_hidden_unless_asked_for(self, personas):
        unit = services.department_create(actor=personas.admin, name="法务部", code="LEGAL")
        services.department_update(actor=personas.admin, department=unit, active=False)
        assert not selectors.department_list(actor=personas.admin).filter(code="LEGAL").exists()
        assert (
            selectors.department_list(actor=personas.admin, include_inactive=True)
            .filter(code="LEGAL")
            .exists()
        )


class TestRoleList:
    def test_it_needs_the_view_role_permission(self, personas):
        assert selectors.role_list(actor=personas.manager).filter(code="salesperson").exists()
        assert not selectors.role_list(actor=personas.sales1).exists()
        with pytest.raises(Http404):
            selectors.role_get(actor=personas.sales1, pk=Role.objects.get(code="salesperson").pk)

    def test_it_counts_only_active_holders(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("sales2"))
        role = selectors.role_list(actor=personas.admin).get(code="salesperson")
        assert role.employee_count == 4  # leader1, sales1, sales1b, leader2


class TestGrantablePermissions:
    def test_it_offers_the_business_apps_permissions_only(self, personas):
        labels = set(
            selectors.grantable_permissions().values_list("content_type__app_label", flat=True)
        )
        assert {"org", "core"} <= labels
        assert not labels & {"auth", "admin", "sessions", "contenttypes"}
        assert (
            not selectors.grantable_permissions()
            .filter(content_type__model__startswith="historical")
            .exists()
        )


class TestSupervisorChain:
    def test_it_walks_up_nearest_first(self, personas):
        chain = selectors.supervisor_chain(personas.emp("sales1"), levels=5)
        assert chain == [
            personas.emp("leader1"),
            personas.emp("manager"),
            personas.emp("management"),
        ]

    def test_it_stops_at_the_level_asked_for(self, personas):
        assert selectors.supervisor_chain(personas.emp("sales1"), levels=1) == [
            personas.emp("leader1")
        ]


class TestDepartmentHead:
    def test_a_unit_without_a_head_takes_the_nearest_head_above(self, personas):
        assert selectors.department_head(Department.objects.get(code="PRO")) == personas.emp(
            "manager"
        )
        assert selectors.department_head(Department.objects.get(code="S1")) == personas.emp(
            "leader1"
        )
        assert selectors.department_head(personas.units["FIN"]) is None
