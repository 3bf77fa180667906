"""Every write of the organisation app: its rules, and who may call it."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from marketdesk.core import services as core_services
from marketdesk.core.models import Activity, RecordAccess, RecordShare
from marketdesk.core.validators import MSG_ID_NUMBER, MSG_MOBILE
from marketdesk.org import services
from marketdesk.org.handover import HandoverTarget, register_handover, unregister_handover
from marketdesk.org.models import Department, Employee, EmployeeStatus, Handover, Role
from marketdesk.org.permissions import OrgPerm
from marketdesk.org.selectors import company_get
from tests.conftest import PASSWORD

User = get_user_model()


def fresh(user):
    """The user as a new request would load it (no cached permissions or scope)."""
    return User.objects.get(pk=user.pk)


def error_fields(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.message_dict


def new_employee(personas, username: str, unit: str = "S1", **fields) -> Employee:
    return services.employee_create(
        actor=personas.admin,
        username=username,
        name=fields.pop("name", username),
        department=personas.units[unit],
        **fields,
    )


# Company and positions ---------------------------------------------------------------------


class TestCompanyUpdate:
    def test_it_saves_the_company_settings(self, personas):
        company = services.company_update(
            actor=personas.admin, company=company_get(), name="华东智联", fiscal_year_start_month=4
        )
        company.refresh_from_db()
        assert (company.name, company.fiscal_year_start_month) == ("华东智联", 4)

    def test_it_refuses_a_month_outside_one_to_twelve(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.company_update(
                actor=personas.admin, company=company_get(), fiscal_year_start_month=13
            )
        assert "fiscal_year_start_month" in error_fields(exc)

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.company_update(actor=personas.manager, company=company_get(), name="X")


class TestPositionSave:
    def test_it_creates_and_renames_a_position(self, personas):
        position = services.position_save(actor=personas.admin, name="销售代表")
        services.position_save(actor=personas.admin, position=position, name="高级销售代表")
        position.refresh_from_db()
        assert position.name == "高级销售代表"

    def test_it_refuses_a_duplicate_name(self, personas):
        services.position_save(actor=personas.admin, name="销售代表")
        with pytest.raises(ValidationError) as exc:
            services.position_save(actor=personas.admin, name="销售代表")
        assert "name" in error_fields(exc)

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.position_save(actor=personas.manager, name="销售代表")


# Departments ------------------------------------------------------------------------------


class TestDepartmentCreate:
    def test_it_places_the_unit_under_its_parent(self, personas):
        mkt = personas.units["MKT"]
        unit = services.department_create(
            actor=personas.admin, name="销售三组", code="S3", kind="group", parent=mkt
        )
        assert unit.path == f"{mkt.path}{unit.pk}/"
        assert unit.depth == mkt.depth + 1

    def test_a_root_unit_has_depth_zero(self, personas):
        unit = services.department_create(actor=personas.admin, name="法务部", code="LEGAL")
        assert (unit.path, unit.depth) == (f"/{unit.pk}/", 0)

    def test_it_refuses_a_duplicate_code(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.department_create(actor=personas.admin, name="另一个营销部", code="MKT")
        assert "code" in error_fields(exc)
        assert not Department.objects.filter(name="另一个营销部").exists()

    def test_it_refuses_a_duplicate_name_under_the_same_parent(self, personas):
        with pytest.raises(ValidationError):
            services.department_create(
                actor=personas.admin, name="销售一组", code="S1-B", parent=personas.units["MKT"]
            )

    def test_it_uses_the_parents_current_path_even_from_a_stale_object(self, personas):
        stale_s1 = Department.objects.get(pk=personas.units["S1"].pk)
        services.department_update(
            actor=personas.admin, department=personas.units["MKT"], parent=personas.units["GM"]
        )
        unit = services.department_create(
            actor=personas.admin, name="一组华东片区", code="S1-E", parent=stale_s1
        )
        assert unit.path == Department.objects.get(pk=stale_s1.pk).path + f"{unit.pk}/"
        assert unit.depth == 3

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.department_create(actor=personas.manager, name="销售三组", code="S3")


class TestDepartmentUpdate:
    def test_moving_a_unit_moves_its_whole_subtree(self, personas):
        gm, mkt = personas.units["GM"], personas.units["MKT"]
        east = services.department_create(
            actor=personas.admin, name="华东片区", code="S1-E", parent=personas.units["S1"]
        )
        services.department_update(actor=personas.admin, department=mkt, parent=gm)
        mkt.refresh_from_db()
        s1 = Department.objects.get(pk=personas.units["S1"].pk)
        east.refresh_from_db()
        assert mkt.path == f"/{gm.pk}/{mkt.pk}/" and mkt.depth == 1
        assert s1.path == f"/{gm.pk}/{mkt.pk}/{s1.pk}/" and s1.depth == 2
        assert east.path == f"{s1.path}{east.pk}/" and east.depth == 3

    def test_moving_a_unit_to_the_root_shortens_the_subtree_paths(self, personas):
        s1 = personas.units["S1"]
        east = services.department_create(
            actor=personas.admin, name="华东片区", code="S1-E", parent=s1
        )
        services.department_update(actor=personas.admin, department=s1, parent=None)
        east.refresh_from_db()
        assert east.path == f"/{s1.pk}/{east.pk}/" and east.depth == 1

    def test_it_refuses_to_make_a_unit_its_own_parent(self, personas):
        mkt = personas.units["MKT"]
        with pytest.raises(ValidationError) as exc:
            services.department_update(actor=personas.admin, department=mkt, parent=mkt)
        assert error_fields(exc)["parent"] == [str(services.MSG_PARENT_CYCLE)]

    def test_it_refuses_to_move_a_unit_under_its_own_sub_unit(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.department_update(
                actor=personas.admin,
                department=personas.units["MKT"],
                parent=personas.units["S1"],
            )
        assert "parent" in error_fields(exc)
        assert Department.objects.get(pk=personas.units["MKT"].pk).parent_id is None

    def test_it_refuses_a_cycle_even_with_a_stale_parent_object(self, personas):
        s1 = personas.units["S1"]
        east = services.department_create(
            actor=personas.admin, name="华东片区", code="S1-E", parent=s1
        )
        stale_east = Department.objects.get(pk=east.pk)
        services.department_update(
            actor=personas.admin, department=personas.units["MKT"], parent=personas.units["GM"]
        )
        with pytest.raises(ValidationError):
            services.department_update(
                actor=personas.admin, department=personas.units["MKT"], parent=stale_east
            )

    def test_it_refuses_to_deactivate_a_unit_with_active_employees(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.department_update(
                actor=personas.admin, department=personas.units["PRD"], active=False
            )
        assert error_fields(exc)["active"] == [str(services.MSG_DEPARTMENT_IN_USE)]
        assert Department.objects.get(pk=personas.units["PRD"].pk).active

    def test_it_refuses_to_deactivate_a_unit_with_active_sub_units(self, personas):
        parent = services.department_create(actor=personas.admin, name="华南区", code="SOUTH")
        services.department_create(actor=personas.admin, name="广州组", code="GZ", parent=parent)
        with pytest.raises(ValidationError) as exc:
            services.department_update(actor=personas.admin, department=parent, active=False)
        assert "active" in error_fields(exc)

    def test_it_deactivates_a_unit_whose_people_have_all_left(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("outsider"))
        unit = services.department_update(
            actor=personas.admin, department=personas.units["PRD"], active=False
        )
        assert unit.active is False

    def test_it_changes_the_head(self, personas):
        unit = services.department_update(
            actor=personas.admin, department=personas.units["S1"], head=personas.emp("sales1")
        )
        assert unit.head == personas.emp("sales1")

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.department_update(
                actor=personas.manager, department=personas.units["S1"], name="一组"
            )


# Employees ---------------------------------------------------------------------------------


class TestEmployeeCreate:
    def test_it_creates_the_user_and_the_employee(self, personas):
        employee = new_employee(
            personas, "sales3", mobile="139 1234 5678", password="Strong-pass-2026", name="钱七"
        )
        assert employee.user.mobile == "13912345678"
        assert employee.user.check_password("Strong-pass-2026")
        assert employee.status == EmployeeStatus.ACTIVE
        assert Client().login(username="13912345678", password="Strong-pass-2026")

    def test_without_a_password_the_user_cannot_sign_in_yet(self, personas):
        employee = new_employee(personas, "sales3")
        assert not employee.user.has_usable_password()

    def test_an_invalid_mobile_is_a_field_error(self, personas):
        with pytest.raises(ValidationError) as exc:
            new_employee(personas, "sales3", mobile="12345")
        assert error_fields(exc) == {"mobile": [str(MSG_MOBILE)]}

    def test_an_invalid_id_number_is_a_field_error(self, personas):
        with pytest.raises(ValidationError) as exc:
            new_employee(personas, "sales3", id_number="110105194912310021")
        assert error_fields(exc) == {"id_number": [str(MSG_ID_NUMBER)]}

    def test_both_errors_are_reported_at_once(self, personas):
        with pytest.raises(ValidationError) as exc:
            new_employee(personas, "sales3", mobile="abc", id_number="123")
        assert set(error_fields(exc)) == {"mobile", "id_number"}

    def test_it_refuses_a_duplicate_username(self, personas):
        before = Employee.objects.count()
        with pytest.raises(ValidationError) as exc:
            new_employee(personas, "sales1")
        assert error_fields(exc) == {"username": [str(services.MSG_USERNAME_TAKEN)]}
        assert Employee.objects.count() == before

    def test_it_refuses_a_mobile_that_belongs_to_another_user(self, personas):
        with pytest.raises(ValidationError) as exc:
            new_employee(personas, "sales3", mobile="+86 139-0000-0004")
        assert error_fields(exc) == {"mobile": [str(services.MSG_MOBILE_TAKEN)]}
        assert not User.objects.filter(username="sales3").exists()

    def test_it_refuses_a_weak_password(self, personas):
        with pytest.raises(ValidationError) as exc:
            new_employee(personas, "sales3", password="123")
        assert "password" in error_fields(exc)
        assert not User.objects.filter(username="sales3").exists()

    def test_employee_numbers_come_from_the_numbering_and_are_unique(self, personas):
        first = new_employee(personas, "sales3")
        second = new_employee(personas, "sales4")
        numbers = list(Employee.objects.values_list("employee_no", flat=True))
        assert len(numbers) == len(set(numbers))
        assert first.employee_no.startswith("E") and second.employee_no.startswith("E")
        assert int(second.employee_no.rsplit("-")[-1]) == int(first.employee_no.rsplit("-")[-1]) + 1

    def test_a_failed_create_does_not_use_up_a_number(self, personas):
        first = new_employee(personas, "sales3")
        with pytest.raises(ValidationError):
            new_employee(personas, "sales4", email="not-an-email")
        second = new_employee(personas, "sales5")
        assert int(second.employee_no.rsplit("-")[-1]) == int(first.employee_no.rsplit("-")[-1]) + 1

    def test_it_gives_the_chosen_roles(self, personas):
        role = Role.objects.get(code="salesperson")
        employee = new_employee(personas, "sales3", roles=[role])
        assert list(employee.roles.all()) == [role]
        assert fresh(employee.user).has_perm(OrgPerm.VIEW_EMPLOYEE)

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.employee_create(
                actor=personas.manager,
                username="sales3",
                name="钱七",
                department=personas.units["S1"],
            )
        assert not User.objects.filter(username="sales3").exists()


class TestEmployeeUpdate:
    def test_it_changes_work_and_personal_fields(self, personas):
        employee = services.employee_update(
            actor=personas.manager,
            employee=personas.emp("sales1"),
            name="王芳芳",
            mobile="13812345678",
            department=personas.units["S2"],
            supervisor=personas.emp("leader2"),
            address="上海市静安区南京西路1号",
        )
        employee.refresh_from_db()
        assert employee.user.name == "王芳芳"
        assert employee.user.mobile == "13812345678"
        assert employee.department == personas.units["S2"]
        assert employee.supervisor == personas.emp("leader2")

    def test_it_refuses_an_employee_as_their_own_supervisor(self, personas):
        sales1 = personas.emp("sales1")
        with pytest.raises(ValidationError) as exc:
            services.employee_update(actor=personas.admin, employee=sales1, supervisor=sales1)
        assert error_fields(exc) == {"supervisor": [str(services.MSG_SUPERVISOR_SELF)]}

    def test_it_rejects_a_supervisor_cycle(self, personas):
        # sales1 -> leader1 -> manager; making sales1 the manager's supervisor closes a loop.
        with pytest.raises(ValidationError) as exc:
            services.employee_update(
                actor=personas.admin,
                employee=personas.emp("manager"),
                supervisor=personas.emp("sales1"),
            )
        assert error_fields(exc) == {"supervisor": [str(services.MSG_SUPERVISOR_CYCLE)]}
        assert Employee.objects.get(pk=personas.emp("manager").pk).supervisor == personas.emp(
            "management"
        )

    def test_it_refuses_a_mobile_of_another_user(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.employee_update(
                actor=personas.admin, employee=personas.emp("sales1"), mobile="13900000005"
            )
        assert "mobile" in error_fields(exc)

    def test_it_refuses_an_invalid_id_number(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.employee_update(
                actor=personas.admin, employee=personas.emp("sales1"), id_number="123456"
            )
        assert "id_number" in error_fields(exc)

    def test_keeping_the_same_roles_needs_no_role_permission(self, personas):
        sales1 = personas.emp("sales1")
        services.employee_update(
            actor=personas.manager, employee=sales1, roles=list(sales1.roles.all()), email="a@b.cn"
        )
        assert Employee.objects.get(pk=sales1.pk).email == "a@b.cn"

    def test_it_refuses_a_role_change_by_an_actor_who_may_not_change_roles(self, personas):
        administrator = Role.objects.get(code="administrator")
        with pytest.raises(PermissionDenied):
            services.employee_update(
                actor=personas.manager, employee=personas.emp("manager"), roles=[administrator]
            )
        assert not personas.emp("manager").roles.filter(code="administrator").exists()

    def test_an_administrator_changes_roles(self, personas):
        leader = Role.objects.get(code="group_leader")
        services.employee_update(
            actor=personas.admin, employee=personas.emp("sales1"), roles=[leader]
        )
        assert list(personas.emp("sales1").roles.all()) == [leader]

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.employee_update(
                actor=personas.sales1, employee=personas.emp("sales1"), name="王"
            )


class TestEmployeeLeave:
    def test_the_employee_can_no_longer_sign_in(self, personas):
        assert Client().login(username="sales1", password=PASSWORD)
        services.employee_leave(
            actor=personas.admin,
            employee=personas.emp("sales1"),
            left_date=datetime.date(2026, 3, 31),
        )
        employee = Employee.objects.select_related("user").get(pk=personas.emp("sales1").pk)
        assert employee.status == EmployeeStatus.LEFT
        assert employee.left_date == datetime.date(2026, 3, 31)
        assert employee.user.is_active is False
        assert not Client().login(username="sales1", password=PASSWORD)

    def test_an_open_session_is_closed(self, personas, client_for):
        client = client_for(personas.sales1)
        assert client.get("/org/employees/").status_code == 200
        services.employee_leave(actor=personas.admin, employee=personas.emp("sales1"))
        assert client.get("/org/employees/").status_code == 302  # back to the sign-in page

    def test_the_leaving_date_defaults_to_today(self, personas):
        from django.utils import timezone

        employee = services.employee_leave(actor=personas.admin, employee=personas.emp("sales1"))
        assert employee.left_date == timezone.localdate()

    def test_it_refuses_a_leaving_date_before_the_hire_date(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.employee_leave(
                actor=personas.admin,
                employee=personas.emp("sales1"),
                left_date=datetime.date(2019, 12, 31),
            )
        assert error_fields(exc) == {"left_date": [str(services.MSG_LEFT_DATE_BEFORE_HIRE)]}
        assert Employee.objects.get(pk=personas.emp("sales1").pk).status == EmployeeStatus.ACTIVE

    def test_it_refuses_to_let_an_employee_leave_twice(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("sales1"))
        with pytest.raises(ValidationError) as exc:
            services.employee_leave(actor=personas.admin, employee=personas.emp("sales1"))
        assert error_fields(exc) == {"status": [str(services.MSG_ALREADY_LEFT)]}

    def test_with_a_successor_the_records_are_handed_over(self, personas):
        services.employee_leave(
            actor=personas.admin,
            employee=personas.emp("leader1"),
            successor=personas.emp("leader2"),
            reason="调岗",
        )
        handover = Handover.objects.get(from_employee=personas.emp("leader1"))
        assert handover.to_employee == personas.emp("leader2")
        assert handover.moved["direct_reports"] == 2

    def test_a_failed_handover_leaves_the_employee_active(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("sales2"))
        with pytest.raises(ValidationError):
            services.employee_leave(
                actor=personas.admin,
                employee=personas.emp("sales1"),
                successor=personas.emp("sales2"),
            )
        assert Employee.objects.get(pk=personas.emp("sales1").pk).status == EmployeeStatus.ACTIVE
        assert fresh(personas.sales1).is_active

    def test_the_left_employee_loses_the_permissions_of_their_roles(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("leader1"))
        user = fresh(personas.leader1)
        user.is_active = True  # even if the account were re-opened, the roles no longer count
        assert not user.has_perm(OrgPerm.VIEW_EMPLOYEE)
        assert user.get_all_permissions() == set()

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.employee_leave(actor=personas.leader1, employee=personas.emp("sales1"))


class TestEmployeeHandover:
    @pytest.fixture
    def fake_target(self):
        calls = []

        def move(from_user, to_user, actor):
            calls.append((from_user.username, to_user.username, actor.username))
            return 7

        register_handover(HandoverTarget("fake_customers", "Fake customers", move))
        yield calls
        unregister_handover("fake_customers")

    def _schedule(self, personas, assignee, summary):
        return core_services.activity_schedule(
            actor=personas.admin,
            record=personas.emp("sales1"),
            kind="call",
            summary=summary,
            due_date=datetime.date(2026, 5, 1),
            assignee=assignee,
        )

    def test_it_moves_open_activities_but_not_done_ones(self, personas):
        open_one = self._schedule(personas, personas.leader1, "回访")
        done_one = self._schedule(personas, personas.leader1, "已完成")
        core_services.activity_done(actor=personas.leader1, activity=done_one)
        handover = services.employee_handover(
            actor=personas.admin,
            from_employee=personas.emp("leader1"),
            to_employee=personas.emp("leader2"),
        )
        assert Activity.objects.get(pk=open_one.pk).assignee == personas.leader2
        assert Activity.objects.get(pk=done_one.pk).assignee == personas.leader1
        assert handover.moved["activities"] == 1

    def test_it_moves_direct_reports_and_units_headed(self, personas):
        handover = services.employee_handover(
            actor=personas.admin,
            from_employee=personas.emp("leader1"),
            to_employee=personas.emp("leader2"),
        )
        assert set(
            Employee.objects.filter(supervisor=personas.emp("leader2")).values_list(
                "user__username", flat=True
            )
        ) == {"sales1", "sales1b", "sales2"}
        assert Department.objects.get(pk=personas.units["S1"].pk).head == personas.emp("leader2")
        assert handover.moved["direct_reports"] == 2
        assert handover.moved["units_headed"] == 1

    def test_a_successor_who_reported_to_the_leaver_is_not_made_their_own_supervisor(
        self, personas
    ):
        services.employee_handover(
            actor=personas.admin,
            from_employee=personas.emp("leader1"),
            to_employee=personas.emp("sales1"),
        )
        sales1 = Employee.objects.get(pk=personas.emp("sales1").pk)
        assert sales1.supervisor_id != sales1.pk
        assert Employee.objects.get(pk=personas.emp("sales1b").pk).supervisor == sales1

    def test_it_moves_team_memberships(self, personas):
        ledger = personas.emp("finance")
        both = personas.emp("service")
        core_services.record_share(
            actor=personas.admin, record=ledger, user=personas.leader1, access=RecordAccess.WRITE
        )
        core_services.record_share(
            actor=personas.admin, record=both, user=personas.leader1, access=RecordAccess.READ
        )
        core_services.record_share(
            actor=personas.admin, record=both, user=personas.leader2, access=RecordAccess.READ
        )
        handover = services.employee_handover(
            actor=personas.admin,
            from_employee=personas.emp("leader1"),
            to_employee=personas.emp("leader2"),
        )
        assert not RecordShare.objects.filter(user=personas.leader1).exists()
        assert RecordShare.objects.filter(user=personas.leader2).count() == 2
        assert RecordShare.objects.get(user=personas.leader2, object_id=ledger.pk).access == "write"
        assert handover.moved["team_memberships"] == 2

    def test_it_calls_every_registered_handover_target(self, personas, fake_target):
        handover = services.employee_handover(
            actor=personas.admin,
            from_employee=personas.emp("leader1"),
            to_employee=personas.emp("leader2"),
            reason="调岗",
        )
        assert fake_target == [("leader1", "leader2", "admin")]
        assert handover.moved["fake_customers"] == 7
        assert handover.reason == "调岗"

    def test_it_refuses_the_same_employee_as_successor(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.employee_handover(
                actor=personas.admin,
                from_employee=personas.emp("leader1"),
                to_employee=personas.emp("leader1"),
            )
        assert "to_employee" in error_fields(exc)

    def test_it_refuses_a_successor_who_has_left(self, personas):
        services.employee_leave(actor=personas.admin, employee=personas.emp("leader2"))
        with pytest.raises(ValidationError) as exc:
            services.employee_handover(
                actor=personas.admin,
                from_employee=personas.emp("leader1"),
                to_employee=Employee.objects.get(pk=personas.emp("leader2").pk),
            )
        assert error_fields(exc) == {"to_employee": [str(services.MSG_SUCCESSOR_LEFT)]}

    def test_it_refuses_an_actor_without_the_permission(self, personas, fake_target):
        with pytest.raises(PermissionDenied):
            services.employee_handover(
                actor=personas.leader1,
                from_employee=personas.emp("sales1"),
                to_employee=personas.emp("sales1b"),
            )
        assert fake_target == []


# Roles -------------------------------------------------------------------------------------


def perm(code: str) -> Permission:
    app_label, _, codename = code.partition(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


class TestRoleCreate:
    def test_it_creates_a_role_with_permissions(self, personas):
        role = services.role_create(
            actor=personas.admin,
            code="auditor",
            name="审计",
            data_scope="all",
            permissions=[perm("org.view_employee")],
        )
        assert not role.is_system
        assert list(role.permissions.all()) == [perm("org.view_employee")]

    def test_the_chosen_scope_needs_departments(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.role_create(actor=personas.admin, code="x", name="X", data_scope="chosen")
        assert error_fields(exc) == {"departments": [str(services.MSG_CHOSEN_NEEDS_DEPARTMENTS)]}
        assert not Role.objects.filter(code="x").exists()

    def test_the_chosen_scope_keeps_its_departments(self, personas):
        role = services.role_create(
            actor=personas.admin,
            code="regional",
            name="区域",
            data_scope="chosen",
            departments=[personas.units["FIN"], personas.units["CS"]],
        )
        assert set(role.departments.all()) == {personas.units["FIN"], personas.units["CS"]}

    def test_it_refuses_a_duplicate_code(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.role_create(
                actor=personas.admin, code="salesperson", name="X", data_scope="self"
            )
        assert "code" in error_fields(exc)

    def test_it_refuses_an_unknown_scope(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.role_create(actor=personas.admin, code="x", name="X", data_scope="galaxy")
        assert "data_scope" in error_fields(exc)

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.role_create(actor=personas.manager, code="x", name="X", data_scope="all")


class TestRoleUpdate:
    def test_it_changes_permissions_and_scope(self, personas):
        role = Role.objects.get(code="promotion")
        services.role_update(
            actor=personas.admin,
            role=role,
            data_scope="department",
            permissions=[perm("org.view_employee"), perm("core.export_data")],
        )
        role.refresh_from_db()
        assert role.data_scope == "department"
        assert set(role.permissions.all()) == {perm("org.view_employee"), perm("core.export_data")}

    def test_switching_to_the_chosen_scope_needs_departments(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.role_update(
                actor=personas.admin, role=Role.objects.get(code="promotion"), data_scope="chosen"
            )
        assert "departments" in error_fields(exc)
        assert Role.objects.get(code="promotion").data_scope == "self"

    def test_departments_are_dropped_when_the_scope_is_not_chosen(self, personas):
        role = services.role_create(
            actor=personas.admin,
            code="regional",
            name="区域",
            data_scope="chosen",
            departments=[personas.units["FIN"]],
        )
        services.role_update(
            actor=personas.admin, role=role, data_scope="all", departments=[personas.units["CS"]]
        )
        assert not role.departments.exists()

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        with pytest.raises(PermissionDenied):
            services.role_update(
                actor=personas.manager, role=Role.objects.get(code="promotion"), name="X"
            )


class TestRoleDelete:
    def _unused_role(self, personas) -> Role:
        return services.role_create(
            actor=personas.admin, code="temp", name="临时", data_scope="self"
        )

    def test_it_deletes_an_unused_role(self, personas):
        role = self._unused_role(personas)
        services.role_delete(actor=personas.admin, role=role)
        assert not Role.objects.filter(code="temp").exists()

    def test_shipped_roles_cannot_be_deleted(self, personas):
        role = Role.objects.get(code="finance")
        services.employee_leave(actor=personas.admin, employee=personas.emp("finance"))
        with pytest.raises(ValidationError) as exc:
            services.role_delete(actor=personas.admin, role=role)
        assert error_fields(exc) == {"code": [str(services.MSG_SYSTEM_ROLE)]}

    def test_a_role_that_active_employees_hold_cannot_be_deleted(self, personas):
        role = self._unused_role(personas)
        services.employee_update(actor=personas.admin, employee=personas.emp("promo"), roles=[role])
        with pytest.raises(ValidationError) as exc:
            services.role_delete(actor=personas.admin, role=role)
        assert error_fields(exc) == {"code": [str(services.MSG_ROLE_IN_USE)]}
        assert Role.objects.filter(code="temp").exists()

    def test_it_refuses_an_actor_without_the_permission(self, personas):
        role = self._unused_role(personas)
        with pytest.raises(PermissionDenied):
            services.role_delete(actor=personas.manager, role=role)


class TestEveryServiceChecksPermission:
    """The outsider holds no role: every write refuses them before touching anything."""

    CALLS = {
        "company_update": lambda p: services.company_update(
            actor=p.outsider, company=company_get()
        ),
        "department_create": lambda p: services.department_create(
            actor=p.outsider, name="X", code="X"
        ),
        "department_update": lambda p: services.department_update(
            actor=p.outsider, department=p.units["PRD"], name="X"
        ),
        "position_save": lambda p: services.position_save(actor=p.outsider, name="X"),
        "employee_create": lambda p: services.employee_create(
            actor=p.outsider, username="x", name="X", department=p.units["PRD"]
        ),
        "employee_update": lambda p: services.employee_update(
            actor=p.outsider, employee=p.emp("outsider"), name="X"
        ),
        "employee_leave": lambda p: services.employee_leave(
            actor=p.outsider, employee=p.emp("outsider")
        ),
        "employee_handover": lambda p: services.employee_handover(
            actor=p.outsider, from_employee=p.emp("sales1"), to_employee=p.emp("sales2")
        ),
        "role_create": lambda p: services.role_create(
            actor=p.outsider, code="x", name="X", data_scope="all"
        ),
        "role_update": lambda p: services.role_update(
            actor=p.outsider, role=Role.objects.get(code="salesperson"), data_scope="all"
        ),
        "role_delete": lambda p: services.role_delete(
            actor=p.outsider, role=Role.objects.get(code="salesperson")
        ),
    }

    @pytest.mark.parametrize("name", sorted(CALLS))
    def test_it_refuses_an_actor_without_the_permission(self, personas, name):
        with pytest.raises(PermissionDenied):
            self.CALLS[name](personas)
