"""The organisation pages: who may open which page, data scope on every way out (list, detail,
search, export), form errors, and the list parameters."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from marketdesk.core import services as core_services
from marketdesk.core.validators import MSG_MOBILE
from marketdesk.org import services
from marketdesk.org.models import Department, Employee, EmployeeStatus, Position, Role

User = get_user_model()

MARKETING = {"manager", "leader1", "sales1", "sales1b", "leader2", "sales2", "promo"}
EVERYONE = MARKETING | {"management", "service", "finance", "admin", "outsider"}
USERNAME_COLUMN = 2


def en(message) -> str:
    with translation.override("en"):
        return str(message)


@pytest.fixture
def as_user(client_for):
    """A signed-in client that asks for English pages."""

    def make(user):
        client = client_for(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    language = translation.get_language()
    yield make
    translation.activate(language)  # the locale middleware leaves "en" active in this thread


def listed_employee_ids(response) -> set[int]:
    return {
        int(pk) for pk in re.findall(r'href="/org/employees/(\d+)/"', response.content.decode())
    }


def ids(personas, keys) -> set[int]:
    return {personas.emp(key).pk for key in keys}


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# Who may open which page ---------------------------------------------------------------------


def _pages(personas) -> dict[str, str]:
    mkt, sales1 = personas.units["MKT"], personas.emp("sales1")
    role = Role.objects.get(code="salesperson")
    return {
        "department_list": reverse("org:department_list"),
        "department_create": reverse("org:department_create"),
        "department_detail": reverse("org:department_detail", args=[mkt.pk]),
        "department_edit": reverse("org:department_edit", args=[mkt.pk]),
        "employee_list": reverse("org:employee_list"),
        "employee_export": reverse("org:employee_export"),
        "employee_create": reverse("org:employee_create"),
        "employee_detail": reverse("org:employee_detail", args=[sales1.pk]),
        "employee_edit": reverse("org:employee_edit", args=[sales1.pk]),
        "employee_leave": reverse("org:employee_leave", args=[sales1.pk]),
        "role_list": reverse("org:role_list"),
        "role_create": reverse("org:role_create"),
        "role_detail": reverse("org:role_detail", args=[role.pk]),
        "role_edit": reverse("org:role_edit", args=[role.pk]),
        "company": reverse("org:company"),
    }


class TestPageAccess:
    def test_the_administrator_opens_every_page(self, personas, as_user):
        client = as_user(personas.admin)
        for name, url in _pages(personas).items():
            assert client.get(url).status_code == 200, name

    @pytest.mark.parametrize(
        ("page", "status"),
        [
            ("department_list", 200),
            ("department_detail", 200),
            ("department_create", 403),
            ("department_edit", 403),
            ("employee_list", 200),
            ("employee_export", 403),
            ("employee_create", 403),
            ("employee_detail", 200),  # their own record
            ("employee_edit", 403),
            ("employee_leave", 403),
            ("role_list", 403),
            ("role_create", 403),
            ("role_detail", 404),
            ("role_edit", 404),
            ("company", 403),
        ],
    )
    def test_a_salesperson(self, personas, as_user, page, status):
        assert as_user(personas.sales1).get(_pages(personas)[page]).status_code == status

    @pytest.mark.parametrize(
        ("page", "status"),
        [
            ("department_list", 403),
            ("department_detail", 404),
            ("employee_list", 403),
            ("employee_export", 403),
            ("employee_detail", 404),
            ("employee_edit", 404),
            ("role_list", 403),
            ("company", 403),
        ],
    )
    def test_a_user_without_a_role(self, personas, as_user, page, status):
        assert as_user(personas.outsider).get(_pages(personas)[page]).status_code == status

    def test_a_salesperson_cannot_open_a_colleagues_record_by_id(self, personas, as_user):
        client = as_user(personas.sales1)
        sales1b = personas.emp("sales1b")
        for name in ("employee_detail", "employee_edit", "employee_leave"):
            assert client.get(reverse(f"org:{name}", args=[sales1b.pk])).status_code == 404, name

    @pytest.mark.parametrize(
        "name", ["department_toggle", "role_delete", "position_create", "employee_reveal"]
    )
    def test_a_salesperson_cannot_post_the_actions(self, personas, as_user, name):
        args = {
            "department_toggle": [personas.units["S1"].pk],
            "role_delete": [Role.objects.get(code="salesperson").pk],
            "position_create": [],
            "employee_reveal": [personas.emp("sales1").pk],
        }[name]
        response = as_user(personas.sales1).post(reverse(f"org:{name}", args=args), {"name": "X"})
        assert response.status_code in (403, 404)
        assert Department.objects.get(pk=personas.units["S1"].pk).active
        assert Role.objects.filter(code="salesperson").exists()
        assert not Position.objects.filter(name="X").exists()

    def test_anonymous_visitors_are_sent_to_sign_in(self, personas, client):
        for name, url in _pages(personas).items():
            response = client.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"], name

    def test_the_marketing_manager_edits_people_in_scope_but_not_outside(self, personas, as_user):
        client = as_user(personas.manager)
        assert (
            client.get(reverse("org:employee_edit", args=[personas.emp("sales2").pk])).status_code
            == 200
        )
        assert (
            client.get(reverse("org:employee_edit", args=[personas.emp("finance").pk])).status_code
            == 404
        )
        assert client.get(reverse("org:employee_create")).status_code == 403

    def test_a_group_leader_may_not_edit_because_editing_shows_personal_data(
        self, personas, as_user
    ):
        leader_role = Role.objects.get(code="group_leader")
        services.role_update(
            actor=personas.admin,
            role=leader_role,
            permissions=[
                *leader_role.permissions.all(),
                Permission.objects.get(codename="change_employee"),
            ],
        )
        response = as_user(personas.leader1).get(
            reverse("org:employee_edit", args=[personas.emp("sales1").pk])
        )
        assert response.status_code == 403


# Data scope on every way out -----------------------------------------------------------------

SCOPES = [
    ("management", EVERYONE),  # all
    ("manager", MARKETING),  # department and below
    ("leader1", {"leader1", "sales1", "sales1b"}),  # department
    ("sales1", {"sales1"}),  # self
]


class TestEmployeeListScope:
    @pytest.mark.parametrize(("persona", "visible"), SCOPES)
    def test_the_list_shows_exactly_the_scope(self, personas, as_user, persona, visible):
        response = as_user(getattr(personas, persona)).get(
            reverse("org:employee_list"), {"per_page": 100}
        )
        assert listed_employee_ids(response) == ids(personas, visible)

    def test_chosen_departments_show_on_the_list(self, personas, as_user):
        role = services.role_create(
            actor=personas.admin,
            code="fin_viewer",
            name="财务查看",
            data_scope="chosen",
            permissions=list(Permission.objects.filter(codename__in=["view_employee"])),
            departments=[personas.units["FIN"]],
        )
        services.employee_update(
            actor=personas.admin, employee=personas.emp("outsider"), roles=[role]
        )
        response = as_user(personas.outsider).get(reverse("org:employee_list"))
        assert listed_employee_ids(response) == ids(personas, {"finance", "outsider"})

    def test_a_shared_record_shows_on_the_list(self, personas, as_user):
        core_services.record_share(
            actor=personas.admin,
            record=personas.emp("finance"),
            user=personas.sales1,
            access="read",
        )
        response = as_user(personas.sales1).get(reverse("org:employee_list"))
        assert listed_employee_ids(response) == ids(personas, {"sales1", "finance"})


class TestEmployeeDetailScope:
    @pytest.mark.parametrize(("persona", "visible"), SCOPES)
    def test_rows_outside_the_scope_are_not_found(self, personas, as_user, persona, visible):
        client = as_user(getattr(personas, persona))
        for key in EVERYONE:
            expected = 200 if key in visible else 404
            url = reverse("org:employee_detail", args=[personas.emp(key).pk])
            assert client.get(url).status_code == expected, key

    def test_an_id_that_does_not_exist_is_not_found(self, personas, as_user):
        assert (
            as_user(personas.admin).get(reverse("org:employee_detail", args=[999_999])).status_code
            == 404
        )

    def test_a_shared_record_opens(self, personas, as_user):
        core_services.record_share(
            actor=personas.admin,
            record=personas.emp("finance"),
            user=personas.sales1,
            access="read",
        )
        url = reverse("org:employee_detail", args=[personas.emp("finance").pk])
        assert as_user(personas.sales1).get(url).status_code == 200

    def test_direct_reports_are_limited_to_the_scope(self, personas, as_user):
        # The manager's page lists the group leaders; a salesperson with a share sees only themselves.
        core_services.record_share(
            actor=personas.admin,
            record=personas.emp("leader1"),
            user=personas.sales2,
            access="read",
        )
        response = as_user(personas.sales2).get(
            reverse("org:employee_detail", args=[personas.emp("leader1").pk])
        )
        assert response.status_code == 200
        assert listed_employee_ids(response) == set()  # sales1/sales1b report to leader1: hidden


class TestDepartmentDetailScope:
    def test_the_unit_page_lists_only_employees_in_scope(self, personas, as_user):
        url = reverse("org:department_detail", args=[personas.units["S1"].pk])
        assert listed_employee_ids(as_user(personas.sales1).get(url)) == ids(personas, {"sales1"})
        assert listed_employee_ids(as_user(personas.leader1).get(url)) == ids(
            personas, {"leader1", "sales1", "sales1b"}
        )


class TestGlobalSearchScope:
    @pytest.mark.parametrize(("persona", "visible"), SCOPES)
    def test_search_finds_only_rows_in_scope(self, personas, as_user, persona, visible):
        client = as_user(getattr(personas, persona))
        for key in EVERYONE:
            employee = personas.emp(key)
            response = client.get(reverse("core:search"), {"q": employee.user.name})
            found = employee.pk in listed_employee_ids(response)
            assert found == (key in visible), key

    def test_a_user_without_a_role_finds_no_one(self, personas, as_user):
        response = as_user(personas.outsider).get(reverse("core:search"), {"q": "林志远"})
        assert response.status_code == 200
        assert listed_employee_ids(response) == set()


class TestEmployeeExportScope:
    @pytest.mark.parametrize(
        ("persona", "visible"),
        [
            ("management", EVERYONE),
            ("manager", MARKETING),
            ("leader1", {"leader1", "sales1", "sales1b"}),
        ],
    )
    def test_the_xlsx_holds_exactly_the_scope(self, personas, as_user, persona, visible):
        response = as_user(getattr(personas, persona)).get(
            reverse("org:employee_export"), {"format": "xlsx"}
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml"
        )
        header, *rows = xlsx_rows(response)
        assert len(header) == 12
        assert {row[USERNAME_COLUMN] for row in rows} == visible

    @pytest.mark.parametrize(
        ("persona", "visible"),
        [("finance", EVERYONE), ("leader2", {"leader2", "sales2"})],
    )
    def test_the_csv_holds_exactly_the_scope(self, personas, as_user, persona, visible):
        response = as_user(getattr(personas, persona)).get(
            reverse("org:employee_export"), {"format": "csv"}
        )
        assert response["Content-Type"].startswith("text/csv")
        header, *rows = csv_rows(response)
        assert {row[USERNAME_COLUMN] for row in rows} == visible

    def test_the_export_applies_the_list_filters(self, personas, as_user):
        response = as_user(personas.manager).get(
            reverse("org:employee_export"),
            {"format": "xlsx", "department": personas.units["S2"].pk},
        )
        _header, *rows = xlsx_rows(response)
        assert {row[USERNAME_COLUMN] for row in rows} == {"leader2", "sales2"}

    def test_an_invalid_filter_exports_no_rows(self, personas, as_user):
        response = as_user(personas.manager).get(
            reverse("org:employee_export"), {"format": "csv", "department": "not-a-unit"}
        )
        _header, *rows = csv_rows(response)
        assert rows == []

    def test_a_salesperson_without_the_export_permission_is_refused(self, personas, as_user):
        assert as_user(personas.sales1).get(reverse("org:employee_export")).status_code == 403

    def test_control_characters_pasted_into_a_field_do_not_break_the_xlsx(self, personas, as_user):
        services.employee_update(
            actor=personas.admin, employee=personas.emp("sales1"), address="上海市\x0b浦东新区\x01"
        )
        response = as_user(personas.admin).get(reverse("org:employee_export"), {"format": "xlsx"})
        assert response.status_code == 200
        _header, *rows = xlsx_rows(response)
        sales1 = next(row for row in rows if row[USERNAME_COLUMN] == "sales1")
        assert sales1[9] == "上海市浦东新区"

    def test_formulas_in_cells_are_kept_as_text(self, personas, as_user):
        services.employee_update(
            actor=personas.admin, employee=personas.emp("sales1"), address='=HYPERLINK("http://x")'
        )
        response = as_user(personas.admin).get(reverse("org:employee_export"), {"format": "csv"})
        _header, *rows = csv_rows(response)
        sales1 = next(row for row in rows if row[USERNAME_COLUMN] == "sales1")
        assert sales1[9].startswith("'=")


# Forms ----------------------------------------------------------------------------------------


def _employee_post(personas, **overrides) -> dict:
    data = {
        "username": "sales3",
        "name": "钱七",
        "mobile": "13912345678",
        "email": "",
        "department": personas.units["S1"].pk,
        "position": "",
        "supervisor": personas.emp("leader1").pk,
        "roles": [Role.objects.get(code="salesperson").pk],
        "gender": "F",
        "hire_date": "2026-01-05",
        "id_number": "",
        "address": "",
        "password": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def field_errors(response, name: str) -> list[str]:
    html = response.content.decode()
    return re.findall(
        rf'<div class="invalid-feedback d-block" data-field="{name}">([^<]*)</div>', html
    )


class TestEmployeeForm:
    def test_it_creates_an_employee(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:employee_create"), _employee_post(personas)
        )
        employee = Employee.objects.get(user__username="sales3")
        assert response.status_code == 302 and response["Location"] == employee.get_absolute_url()
        assert employee.user.mobile == "13912345678"
        assert list(employee.roles.values_list("code", flat=True)) == ["salesperson"]

    def test_a_bad_mobile_is_shown_next_to_the_field_and_nothing_is_saved(self, personas, as_user):
        users_before = User.objects.count()
        response = as_user(personas.admin).post(
            reverse("org:employee_create"), _employee_post(personas, mobile="1234")
        )
        assert response.status_code == 200
        assert field_errors(response, "mobile") == [en(MSG_MOBILE)]
        assert (
            'name="mobile"' in response.content.decode()
            and "is-invalid" in response.content.decode()
        )
        assert User.objects.count() == users_before
        assert not Employee.objects.filter(user__username="sales3").exists()

    def test_the_entered_values_are_kept_after_an_error(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:employee_create"), _employee_post(personas, mobile="1234")
        )
        assert 'value="sales3"' in response.content.decode()

    def test_a_taken_username_is_shown_next_to_the_field(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:employee_create"), _employee_post(personas, username="sales1")
        )
        assert field_errors(response, "username") == [en(services.MSG_USERNAME_TAKEN)]

    def test_a_bad_id_number_is_shown_next_to_the_field(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:employee_create"), _employee_post(personas, id_number="110105194912310021")
        )
        assert len(field_errors(response, "id_number")) == 1
        assert not Employee.objects.filter(user__username="sales3").exists()

    def test_a_weak_password_is_shown_next_to_the_field(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:employee_create"), _employee_post(personas, password="12345678")
        )
        assert field_errors(response, "password")
        assert not User.objects.filter(username="sales3").exists()

    def test_a_supervisor_cycle_is_shown_next_to_the_field(self, personas, as_user):
        manager = personas.emp("manager")
        data = _employee_post(
            personas,
            username=None,
            name=manager.user.name,
            mobile=manager.user.mobile,
            department=personas.units["MKT"].pk,
            supervisor=personas.emp("sales1").pk,
            roles=[r.pk for r in manager.roles.all()],
            password=None,
        )
        response = as_user(personas.admin).post(
            reverse("org:employee_edit", args=[manager.pk]), data
        )
        assert field_errors(response, "supervisor") == [en(services.MSG_SUPERVISOR_CYCLE)]
        assert Employee.objects.get(pk=manager.pk).supervisor == personas.emp("management")

    def test_the_manager_edits_an_employee_but_cannot_hand_out_roles(self, personas, as_user):
        sales2 = personas.emp("sales2")
        client = as_user(personas.manager)
        page = client.get(reverse("org:employee_edit", args=[sales2.pk])).content.decode()
        assert re.search(r'<input[^>]*name="roles"[^>]*disabled', page)
        data = _employee_post(
            personas,
            username=None,
            name="吴涛涛",
            mobile=sales2.user.mobile,
            department=personas.units["S2"].pk,
            supervisor=personas.emp("leader2").pk,
            roles=[Role.objects.get(code="administrator").pk],
            password=None,
        )
        response = client.post(reverse("org:employee_edit", args=[sales2.pk]), data)
        assert response.status_code == 302
        sales2 = Employee.objects.get(pk=sales2.pk)
        assert sales2.user.name == "吴涛涛"
        assert list(sales2.roles.values_list("code", flat=True)) == ["salesperson"]

    def test_the_username_cannot_be_changed_by_editing(self, personas, as_user):
        sales1 = personas.emp("sales1")
        data = _employee_post(
            personas,
            username="renamed",
            name=sales1.user.name,
            mobile=sales1.user.mobile,
            roles=[r.pk for r in sales1.roles.all()],
            password=None,
        )
        as_user(personas.admin).post(reverse("org:employee_edit", args=[sales1.pk]), data)
        assert User.objects.get(pk=sales1.user.pk).username == "sales1"


class TestEmployeeLeaveForm:
    def test_it_marks_the_employee_as_left_and_hands_over(self, personas, as_user):
        leader1 = personas.emp("leader1")
        response = as_user(personas.manager).post(
            reverse("org:employee_leave", args=[leader1.pk]),
            {"left_date": "2026-06-30", "successor": personas.emp("leader2").pk, "reason": "调岗"},
        )
        assert response.status_code == 302
        leader1 = Employee.objects.get(pk=leader1.pk)
        assert leader1.status == EmployeeStatus.LEFT
        assert Employee.objects.get(pk=personas.emp("sales1").pk).supervisor == personas.emp(
            "leader2"
        )

    def test_a_leaving_date_before_the_hire_date_is_shown_next_to_the_field(
        self, personas, as_user
    ):
        sales1 = personas.emp("sales1")
        response = as_user(personas.admin).post(
            reverse("org:employee_leave", args=[sales1.pk]), {"left_date": "2019-01-01"}
        )
        assert field_errors(response, "left_date") == [en(services.MSG_LEFT_DATE_BEFORE_HIRE)]
        assert Employee.objects.get(pk=sales1.pk).status == EmployeeStatus.ACTIVE

    def test_leaving_twice_shows_an_error_on_top(self, personas, as_user):
        sales1 = personas.emp("sales1")
        services.employee_leave(actor=personas.admin, employee=sales1)
        response = as_user(personas.admin).post(
            reverse("org:employee_leave", args=[sales1.pk]), {"left_date": "2026-06-30"}
        )
        assert response.status_code == 200
        assert en(services.MSG_ALREADY_LEFT) in response.content.decode()

    def test_a_successor_outside_the_scope_cannot_be_chosen(self, personas, as_user):
        sales1 = personas.emp("sales1")
        response = as_user(personas.manager).post(
            reverse("org:employee_leave", args=[sales1.pk]),
            {"left_date": "2026-06-30", "successor": personas.emp("finance").pk},
        )
        assert response.status_code == 200
        assert field_errors(response, "successor")
        assert Employee.objects.get(pk=sales1.pk).status == EmployeeStatus.ACTIVE


class TestDepartmentForm:
    def _post(self, personas, **overrides):
        data = {
            "name": "销售三组",
            "code": "S3",
            "kind": "group",
            "parent": personas.units["MKT"].pk,
            "head": "",
            "sort_order": 0,
        }
        data.update(overrides)
        return data

    def test_it_creates_a_unit(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:department_create"), self._post(personas)
        )
        unit = Department.objects.get(code="S3")
        assert response.status_code == 302 and unit.parent == personas.units["MKT"]

    def test_a_taken_code_is_shown_next_to_the_field(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:department_create"), self._post(personas, code="S1")
        )
        assert len(field_errors(response, "code")) == 1
        assert not Department.objects.filter(name="销售三组").exists()

    def test_a_move_under_its_own_sub_unit_is_shown_next_to_the_parent(self, personas, as_user):
        mkt = personas.units["MKT"]
        response = as_user(personas.admin).post(
            reverse("org:department_edit", args=[mkt.pk]),
            self._post(
                personas,
                name="营销部",
                code="MKT",
                kind="department",
                parent=personas.units["S1"].pk,
            ),
        )
        assert field_errors(response, "parent") == [en(services.MSG_PARENT_CYCLE)]
        assert Department.objects.get(pk=mkt.pk).parent is None

    def test_deactivating_a_unit_with_people_shows_why(self, personas, as_user):
        s1 = personas.units["S1"]
        response = as_user(personas.admin).post(
            reverse("org:department_toggle", args=[s1.pk]), follow=True
        )
        assert en(services.MSG_DEPARTMENT_IN_USE) in response.content.decode()
        assert Department.objects.get(pk=s1.pk).active


class TestRoleForm:
    def test_it_creates_a_role_with_permissions(self, personas, as_user):
        view_employee = Permission.objects.get(codename="view_employee")
        response = as_user(personas.admin).post(
            reverse("org:role_create"),
            {
                "code": "auditor",
                "name": "审计",
                "data_scope": "all",
                "permissions": [view_employee.pk],
            },
        )
        role = Role.objects.get(code="auditor")
        assert response.status_code == 302
        assert list(role.permissions.all()) == [view_employee]

    def test_the_chosen_scope_without_departments_is_shown_next_to_the_field(
        self, personas, as_user
    ):
        response = as_user(personas.admin).post(
            reverse("org:role_create"), {"code": "regional", "name": "区域", "data_scope": "chosen"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert en(services.MSG_CHOSEN_NEEDS_DEPARTMENTS).replace("'", "&#x27;") in html
        assert not Role.objects.filter(code="regional").exists()

    def test_a_posted_scope_cannot_break_out_of_the_script_attribute(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:role_create"), {"code": "x", "name": "X", "data_scope": "a');alert(1);('"}
        )
        html = response.content.decode()
        assert "alert(1)" in html  # shown back, but only as an escaped JS string
        assert "scope: 'a\\u0027)\\u003Balert(1)\\u003B(\\u0027'" in html
        assert "a&#x27;);alert(1)" not in html

    def test_a_shipped_role_is_not_deleted(self, personas, as_user):
        role = Role.objects.get(code="promotion")
        response = as_user(personas.admin).post(
            reverse("org:role_delete", args=[role.pk]), follow=True
        )
        assert en(services.MSG_SYSTEM_ROLE) in response.content.decode()
        assert Role.objects.filter(pk=role.pk).exists()

    def test_an_unused_role_is_deleted(self, personas, as_user):
        role = services.role_create(
            actor=personas.admin, code="temp", name="临时", data_scope="self"
        )
        response = as_user(personas.admin).post(reverse("org:role_delete", args=[role.pk]))
        assert response.status_code == 302
        assert not Role.objects.filter(code="temp").exists()


class TestCompanyPage:
    def test_a_month_outside_the_year_is_shown_next_to_the_field(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:company"),
            {
                "name": "华东智联",
                "fiscal_year_start_month": 13,
                "currency": "CNY",
                "default_language": "zh-hans",
            },
        )
        assert response.status_code == 200
        assert field_errors(response, "fiscal_year_start_month")

    def test_an_unknown_position_cannot_be_edited(self, personas, as_user):
        response = as_user(personas.admin).post(
            reverse("org:position_edit", args=[999_999]), {"name": "X"}
        )
        assert response.status_code == 404
        assert not Position.objects.filter(name="X").exists()

    def test_a_position_is_added(self, personas, as_user):
        as_user(personas.admin).post(reverse("org:position_create"), {"name": "销售代表"})
        assert Position.objects.filter(name="销售代表").exists()


# List parameters ------------------------------------------------------------------------------


class TestEmployeeListParameters:
    @pytest.fixture
    def crowd(self, personas):
        """25 more employees in 销售一组, so the list has two pages of 20."""
        for index in range(25):
            services.employee_create(
                actor=personas.admin,
                username=f"extra{index:02d}",
                name=f"员工{index:02d}",
                department=personas.units["S1"],
                hire_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=index),
            )
        return personas

    def test_the_first_page_holds_twenty_rows(self, crowd, as_user):
        response = as_user(crowd.admin).get(reverse("org:employee_list"))
        assert len(listed_employee_ids(response)) == 20

    @pytest.mark.parametrize("page", ["abc", "", "-1", "0", "1.5", "9999"])
    def test_an_invalid_page_number_does_not_crash(self, crowd, as_user, page):
        response = as_user(crowd.admin).get(reverse("org:employee_list"), {"page": page})
        assert response.status_code == 200
        assert listed_employee_ids(response)

    def test_a_page_past_the_end_shows_the_last_page(self, crowd, as_user):
        response = as_user(crowd.admin).get(reverse("org:employee_list"), {"page": 9999})
        assert len(listed_employee_ids(response)) == 37 - 20

    def test_an_unknown_sort_falls_back_to_the_default(self, crowd, as_user):
        client = as_user(crowd.admin)
        default = client.get(reverse("org:employee_list"))
        unknown = client.get(reverse("org:employee_list"), {"sort": "user__password"})
        assert unknown.status_code == 200
        assert listed_employee_ids(unknown) == listed_employee_ids(default)
        assert unknown.context["result"].sort == "department"

    def test_sorting_by_name_descending(self, crowd, as_user):
        response = as_user(crowd.admin).get(
            reverse("org:employee_list"), {"sort": "-hire_date", "per_page": 100}
        )
        rows = list(response.context["result"].rows)
        dates = [e.hire_date for e in rows]
        assert dates == sorted(dates, reverse=True)

    def test_an_unknown_per_page_falls_back(self, crowd, as_user):
        response = as_user(crowd.admin).get(reverse("org:employee_list"), {"per_page": "lots"})
        assert response.context["result"].per_page == 20

    @pytest.mark.parametrize(
        "params",
        [
            {"department": "abc"},
            {"department": "999999"},
            {"status": "retired"},
            {"hired_after": "yesterday"},
        ],
    )
    def test_an_invalid_filter_shows_no_rows_rather_than_all(self, crowd, as_user, params):
        response = as_user(crowd.admin).get(reverse("org:employee_list"), params)
        assert response.status_code == 200
        assert listed_employee_ids(response) == set()

    def test_the_department_filter_includes_sub_units(self, personas, as_user):
        response = as_user(personas.admin).get(
            reverse("org:employee_list"), {"department": personas.units["MKT"].pk}
        )
        assert listed_employee_ids(response) == ids(personas, MARKETING)

    def test_the_filter_never_widens_the_scope(self, personas, as_user):
        response = as_user(personas.leader1).get(
            reverse("org:employee_list"), {"department": personas.units["S2"].pk}
        )
        assert listed_employee_ids(response) == set()

    def test_search_by_name_or_exact_mobile(self, personas, as_user):
        client = as_user(personas.admin)
        by_name = client.get(reverse("org:employee_list"), {"q": "王芳"})
        by_mobile = client.get(reverse("org:employee_list"), {"q": "13900000004"})
        assert (
            listed_employee_ids(by_name)
            == listed_employee_ids(by_mobile)
            == ids(personas, {"sales1"})
        )

    def test_an_htmx_request_gets_only_the_results(self, personas, as_user):
        response = as_user(personas.admin).get(
            reverse("org:employee_list"), headers={"HX-Request": "true"}
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="list-results">')
        assert "<html" not in html

    def test_pagination_links_keep_the_filters_and_sort(self, crowd, as_user):
        response = as_user(crowd.admin).get(
            reverse("org:employee_list"), {"department": crowd.units["S1"].pk, "sort": "-name"}
        )
        html = response.content.decode()
        assert f"department={crowd.units['S1'].pk}&amp;sort=-name&amp;page=2" in html
