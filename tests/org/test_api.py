"""REST API of the organisation app: the same scope, rules and permissions as the pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import translation
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from marketdesk.core import services as core_services
from marketdesk.core.validators import MSG_MOBILE
from marketdesk.org import services
from marketdesk.org.models import Department, Employee, EmployeeStatus, Role

User = get_user_model()

MARKETING = {"manager", "leader1", "sales1", "sales1b", "leader2", "sales2", "promo"}
EVERYONE = MARKETING | {"management", "service", "finance", "admin", "outsider"}


def en(message) -> str:
    with translation.override("en"):
        return str(message)


@pytest.fixture
def api(api_for):
    """An API client for the user that asks for English messages."""

    def make(user):
        client = api_for(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        return client

    language = translation.get_language()
    yield make
    translation.activate(language)  # the locale middleware leaves "en" active in this thread


def usernames(response) -> set[str]:
    return {row["username"] for row in response.json()["results"]}


def assert_error(response, status: int, code: str, fields: set[str] | None = None) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code and body["message"]
    if fields is not None:
        assert set(body["fields"]) == fields
    return body


class TestSchema:
    def test_it_generates_without_warnings_and_validates(self, personas, api):
        GENERATOR_STATS.reset()
        response = api(personas.admin).get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        schema = response.json()
        validate_schema(schema)
        assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
        assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)

    def test_it_describes_the_organisation_endpoints(self, personas, api):
        paths = api(personas.admin).get("/api/schema/", {"format": "json"}).json()["paths"]
        for path in (
            "/api/v1/employees/",
            "/api/v1/employees/{id}/",
            "/api/v1/employees/{id}/leave/",
            "/api/v1/departments/",
            "/api/v1/departments/{id}/",
            "/api/v1/roles/",
            "/api/v1/roles/{id}/",
        ):
            assert path in paths, path
        assert {"get", "post"} <= set(paths["/api/v1/employees/"])
        assert "patch" in paths["/api/v1/employees/{id}/"]
        assert "put" not in paths["/api/v1/employees/{id}/"]
        assert {"get", "patch", "delete"} <= set(paths["/api/v1/roles/{id}/"])
        unmask = [
            p for p in paths["/api/v1/employees/"]["get"]["parameters"] if p["name"] == "unmask"
        ]
        assert unmask


class TestDepartmentApi:
    def test_anyone_with_the_view_permission_lists_the_tree(self, personas, api):
        response = api(personas.sales1).get("/api/v1/departments/", {"page_size": 100})
        assert {row["code"] for row in response.json()["results"]} == {
            "GM",
            "MKT",
            "PRO",
            "S1",
            "S2",
            "FIN",
            "CS",
            "PRD",
        }

    def test_a_user_without_a_role_is_refused(self, personas, api):
        assert_error(api(personas.outsider).get("/api/v1/departments/"), 403, "permission_denied")

    def test_the_administrator_creates_a_unit(self, personas, api):
        mkt = personas.units["MKT"]
        response = api(personas.admin).post(
            "/api/v1/departments/",
            {"name": "销售三组", "code": "S3", "kind": "group", "parent": mkt.pk},
            format="json",
        )
        assert response.status_code == 201, response.json()
        unit = Department.objects.get(code="S3")
        assert response.json()["path"] == unit.path == f"{mkt.path}{unit.pk}/"
        assert response.json()["depth"] == 1

    def test_a_top_level_unit_needs_no_parent(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/departments/", {"name": "法务部", "code": "LEGAL"}, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["parent"] is None and response.json()["depth"] == 0

    def test_the_path_cannot_be_written(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/departments/",
            {"name": "法务部", "code": "LEGAL", "path": "/1/"},
            format="json",
        )
        unit = Department.objects.get(code="LEGAL")
        assert response.status_code == 201 and unit.path == f"/{unit.pk}/"

    def test_a_taken_code_is_a_field_error(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/departments/", {"name": "X", "code": "MKT"}, format="json"
        )
        assert_error(response, 400, "invalid", {"code"})

    def test_the_manager_may_not_create_units(self, personas, api):
        response = api(personas.manager).post(
            "/api/v1/departments/", {"name": "X", "code": "X"}, format="json"
        )
        assert_error(response, 403, "permission_denied")
        assert not Department.objects.filter(code="X").exists()

    def test_the_administrator_renames_a_unit(self, personas, api):
        s1 = personas.units["S1"]
        response = api(personas.admin).patch(
            f"/api/v1/departments/{s1.pk}/", {"name": "华东销售组"}, format="json"
        )
        assert response.status_code == 200
        assert Department.objects.get(pk=s1.pk).name == "华东销售组"

    def test_moving_a_unit_moves_its_subtree(self, personas, api):
        gm, mkt, s1 = personas.units["GM"], personas.units["MKT"], personas.units["S1"]
        response = api(personas.admin).patch(
            f"/api/v1/departments/{mkt.pk}/", {"parent": gm.pk}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["path"] == f"/{gm.pk}/{mkt.pk}/"
        s1 = Department.objects.get(pk=s1.pk)
        assert (s1.path, s1.depth) == (f"/{gm.pk}/{mkt.pk}/{s1.pk}/", 2)

    def test_a_move_under_its_own_sub_unit_is_refused(self, personas, api):
        mkt, s1 = personas.units["MKT"], personas.units["S1"]
        response = api(personas.admin).patch(
            f"/api/v1/departments/{mkt.pk}/", {"parent": s1.pk}, format="json"
        )
        body = assert_error(response, 400, "invalid", {"parent"})
        assert body["fields"]["parent"] == [en(services.MSG_PARENT_CYCLE)]

    def test_deactivating_a_unit_with_people_is_refused(self, personas, api):
        prd = personas.units["PRD"]
        response = api(personas.admin).patch(
            f"/api/v1/departments/{prd.pk}/", {"active": False}, format="json"
        )
        assert_error(response, 400, "invalid", {"active"})
        assert Department.objects.get(pk=prd.pk).active

    def test_someone_who_has_left_cannot_head_a_unit(self, personas, api):
        services.employee_leave(actor=personas.admin, employee=personas.emp("sales1"))
        s1 = personas.units["S1"]
        response = api(personas.admin).patch(
            f"/api/v1/departments/{s1.pk}/", {"head": personas.emp("sales1").pk}, format="json"
        )
        assert_error(response, 400, "invalid", {"head"})
        assert Department.objects.get(pk=s1.pk).head == personas.emp("leader1")

    def test_the_manager_may_not_change_units(self, personas, api):
        s1 = personas.units["S1"]
        response = api(personas.manager).patch(
            f"/api/v1/departments/{s1.pk}/", {"name": "X"}, format="json"
        )
        assert_error(response, 403, "permission_denied")


class TestEmployeeApiScope:
    @pytest.mark.parametrize(
        ("persona", "visible"),
        [
            ("management", EVERYONE),
            ("finance", EVERYONE),
            ("manager", MARKETING),
            ("leader1", {"leader1", "sales1", "sales1b"}),
            ("service", {"service"}),
            ("sales1", {"sales1"}),
        ],
    )
    def test_the_list_holds_exactly_the_scope(self, personas, api, persona, visible):
        response = api(getattr(personas, persona)).get("/api/v1/employees/", {"page_size": 100})
        assert response.status_code == 200
        assert usernames(response) == visible
        assert response.json()["count"] == len(visible)

    @pytest.mark.parametrize(
        ("persona", "visible"),
        [("manager", MARKETING), ("leader2", {"leader2", "sales2"}), ("promo", {"promo"})],
    )
    def test_retrieve_outside_the_scope_is_not_found(self, personas, api, persona, visible):
        client = api(getattr(personas, persona))
        for key in EVERYONE:
            response = client.get(f"/api/v1/employees/{personas.emp(key).pk}/")
            if key in visible:
                assert response.status_code == 200 and response.json()["username"] == key
            else:
                assert_error(response, 404, "not_found")

    def test_a_user_without_a_role_is_refused(self, personas, api):
        assert_error(api(personas.outsider).get("/api/v1/employees/"), 403, "permission_denied")
        response = api(personas.outsider).get(f"/api/v1/employees/{personas.emp('outsider').pk}/")
        assert_error(response, 403, "permission_denied")

    def test_a_filter_does_not_widen_the_scope(self, personas, api):
        response = api(personas.leader1).get(
            "/api/v1/employees/", {"department": personas.units["MKT"].pk}
        )
        assert usernames(response) == {"leader1", "sales1", "sales1b"}

    def test_chosen_departments_of_two_roles_add_up(self, personas, api):
        view = list(Permission.objects.filter(codename="view_employee"))
        roles = [
            services.role_create(
                actor=personas.admin,
                code=f"chosen_{unit}",
                name=f"chosen {unit}",
                data_scope="chosen",
                permissions=view,
                departments=[personas.units[unit]],
            )
            for unit in ("FIN", "CS")
        ]
        services.employee_update(
            actor=personas.admin, employee=personas.emp("outsider"), roles=roles
        )
        response = api(User.objects.get(username="outsider")).get("/api/v1/employees/")
        assert usernames(response) == {"finance", "service", "outsider"}

    def test_a_shared_record_is_listed_and_retrieved(self, personas, api):
        core_services.record_share(
            actor=personas.admin,
            record=personas.emp("finance"),
            user=personas.sales1,
            access="read",
        )
        client = api(User.objects.get(username="sales1"))
        assert usernames(client.get("/api/v1/employees/")) == {"sales1", "finance"}
        assert client.get(f"/api/v1/employees/{personas.emp('finance').pk}/").status_code == 200

    def test_an_employee_who_has_left_is_refused(self, personas, api):
        services.employee_leave(actor=personas.admin, employee=personas.emp("management"))
        response = api(User.objects.get(username="management")).get("/api/v1/employees/")
        assert response.status_code in (401, 403)


def _new_employee(**overrides) -> dict:
    data = {"username": "sales3", "name": "钱七", "mobile": "13912345678"}
    data.update(overrides)
    return data


class TestEmployeeApiCreate:
    def test_the_administrator_creates_an_employee(self, personas, api):
        salesperson = Role.objects.get(code="salesperson")
        response = api(personas.admin).post(
            "/api/v1/employees/",
            _new_employee(
                department=personas.units["S1"].pk,
                roles=[salesperson.pk],
                id_number="11010519491231002X",
            ),
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["username"] == "sales3" and body["roles"] == [salesperson.pk]
        assert body["mobile"] == "139****5678" and body["id_number"] == "110***********002X"
        assert Employee.objects.get(user__username="sales3").employee_no == body["employee_no"]

    def test_an_invalid_mobile_names_the_field_and_saves_nothing(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/employees/",
            _new_employee(mobile="1234", department=personas.units["S1"].pk),
            format="json",
        )
        body = assert_error(response, 400, "invalid", {"mobile"})
        assert body["fields"]["mobile"] == [en(MSG_MOBILE)]
        assert not User.objects.filter(username="sales3").exists()

    def test_missing_required_fields_are_named(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/employees/", {"mobile": "13912345678"}, format="json"
        )
        assert_error(response, 400, "invalid", {"username", "name", "department"})

    def test_a_taken_username_is_a_field_error(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/employees/",
            _new_employee(username="sales1", department=personas.units["S1"].pk),
            format="json",
        )
        assert_error(response, 400, "invalid", {"username"})

    def test_a_weak_password_is_a_field_error(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/employees/",
            _new_employee(department=personas.units["S1"].pk, password="123"),
            format="json",
        )
        assert_error(response, 400, "invalid", {"password"})
        assert not User.objects.filter(username="sales3").exists()

    @pytest.mark.parametrize("persona", ["manager", "leader1", "sales1", "management"])
    def test_only_a_user_with_the_add_permission_may_create(self, personas, api, persona):
        response = api(getattr(personas, persona)).post(
            "/api/v1/employees/", _new_employee(department=personas.units["S1"].pk), format="json"
        )
        assert_error(response, 403, "permission_denied")
        assert not User.objects.filter(username="sales3").exists()


class TestEmployeeApiPartialUpdate:
    def test_the_manager_changes_an_employee_in_scope(self, personas, api):
        sales2 = personas.emp("sales2")
        response = api(personas.manager).patch(
            f"/api/v1/employees/{sales2.pk}/",
            {"name": "吴涛涛", "supervisor": personas.emp("leader1").pk},
            format="json",
        )
        assert response.status_code == 200, response.json()
        sales2 = Employee.objects.get(pk=sales2.pk)
        assert sales2.user.name == "吴涛涛" and sales2.supervisor == personas.emp("leader1")

    def test_an_employee_outside_the_scope_is_not_found(self, personas, api):
        response = api(personas.manager).patch(
            f"/api/v1/employees/{personas.emp('finance').pk}/", {"name": "X"}, format="json"
        )
        assert_error(response, 404, "not_found")
        assert Employee.objects.get(pk=personas.emp("finance").pk).user.name == "马丽华"

    @pytest.mark.parametrize("persona", ["sales1", "leader1", "finance"])
    def test_a_user_without_the_change_permission_is_refused(self, personas, api, persona):
        response = api(getattr(personas, persona)).patch(
            f"/api/v1/employees/{personas.emp('sales1').pk}/", {"name": "X"}, format="json"
        )
        assert_error(response, 403, "permission_denied")

    def test_the_manager_may_not_hand_out_roles(self, personas, api):
        administrator = Role.objects.get(code="administrator")
        response = api(personas.manager).patch(
            f"/api/v1/employees/{personas.emp('manager').pk}/",
            {"roles": [administrator.pk]},
            format="json",
        )
        assert_error(response, 403, "permission_denied")
        assert not personas.emp("manager").roles.filter(pk=administrator.pk).exists()

    def test_the_administrator_changes_roles(self, personas, api):
        leader = Role.objects.get(code="group_leader")
        response = api(personas.admin).patch(
            f"/api/v1/employees/{personas.emp('sales1').pk}/", {"roles": [leader.pk]}, format="json"
        )
        assert response.json()["roles"] == [leader.pk]

    def test_a_supervisor_cycle_names_the_field(self, personas, api):
        response = api(personas.admin).patch(
            f"/api/v1/employees/{personas.emp('manager').pk}/",
            {"supervisor": personas.emp("sales1").pk},
            format="json",
        )
        body = assert_error(response, 400, "invalid", {"supervisor"})
        assert body["fields"]["supervisor"] == [en(services.MSG_SUPERVISOR_CYCLE)]

    def test_the_username_cannot_be_changed(self, personas, api):
        api(personas.admin).patch(
            f"/api/v1/employees/{personas.emp('sales1').pk}/",
            {"username": "renamed"},
            format="json",
        )
        assert User.objects.filter(username="sales1").exists()


class TestEmployeeApiLeave:
    def test_the_manager_lets_an_employee_leave(self, personas, api):
        sales1 = personas.emp("sales1")
        response = api(personas.manager).post(
            f"/api/v1/employees/{sales1.pk}/leave/", {"left_date": "2026-06-30"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == EmployeeStatus.LEFT
        assert not User.objects.get(pk=sales1.user.pk).is_active

    def test_with_a_successor_the_records_move(self, personas, api):
        response = api(personas.manager).post(
            f"/api/v1/employees/{personas.emp('leader1').pk}/leave/",
            {"successor": personas.emp("leader2").pk, "reason": "调岗"},
            format="json",
        )
        assert response.status_code == 200
        assert Employee.objects.get(pk=personas.emp("sales1").pk).supervisor == personas.emp(
            "leader2"
        )

    def test_a_successor_outside_the_scope_is_not_found(self, personas, api):
        response = api(personas.manager).post(
            f"/api/v1/employees/{personas.emp('sales1').pk}/leave/",
            {"successor": personas.emp("finance").pk},
            format="json",
        )
        assert_error(response, 404, "not_found")
        assert Employee.objects.get(pk=personas.emp("sales1").pk).status == EmployeeStatus.ACTIVE

    def test_a_leaving_date_before_the_hire_date_names_the_field(self, personas, api):
        response = api(personas.admin).post(
            f"/api/v1/employees/{personas.emp('sales1').pk}/leave/",
            {"left_date": "2019-01-01"},
            format="json",
        )
        assert_error(response, 400, "invalid", {"left_date"})

    def test_leaving_twice_is_refused(self, personas, api):
        client = api(personas.admin)
        url = f"/api/v1/employees/{personas.emp('sales1').pk}/leave/"
        assert client.post(url, {}, format="json").status_code == 200
        assert_error(client.post(url, {}, format="json"), 400, "invalid", {"status"})

    @pytest.mark.parametrize("persona", ["sales1", "leader1", "finance"])
    def test_a_user_without_the_change_permission_is_refused(self, personas, api, persona):
        response = api(getattr(personas, persona)).post(
            f"/api/v1/employees/{personas.emp('sales1').pk}/leave/", {}, format="json"
        )
        assert_error(response, 403, "permission_denied")
        assert Employee.objects.get(pk=personas.emp("sales1").pk).status == EmployeeStatus.ACTIVE

    def test_an_employee_outside_the_scope_is_not_found(self, personas, api):
        response = api(personas.manager).post(
            f"/api/v1/employees/{personas.emp('finance').pk}/leave/", {}, format="json"
        )
        assert_error(response, 404, "not_found")


class TestRoleApi:
    def test_permissions_are_read_as_app_label_codename(self, personas, api):
        role = Role.objects.get(code="group_leader")
        body = api(personas.manager).get(f"/api/v1/roles/{role.pk}/").json()
        assert (
            "core.export_data" in body["permissions"] and "org.view_employee" in body["permissions"]
        )
        assert body["permissions"] == sorted(body["permissions"])
        assert body["is_system"] is True

    def test_the_administrator_creates_a_role_from_permission_codes(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/roles/",
            {
                "code": "auditor",
                "name": "审计",
                "data_scope": "chosen",
                "departments": [personas.units["FIN"].pk],
                "permissions": ["org.view_employee", "core.export_data"],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["permissions"] == ["core.export_data", "org.view_employee"]
        role = Role.objects.get(code="auditor")
        assert {p.codename for p in role.permissions.all()} == {"view_employee", "export_data"}
        assert not role.is_system

    @pytest.mark.parametrize(
        "code", ["org.fly", "view_employee", "auth.add_user", "org.view_historicalemployee"]
    )
    def test_unknown_or_ungrantable_permissions_are_refused(self, personas, api, code):
        response = api(personas.admin).post(
            "/api/v1/roles/",
            {"code": "x", "name": "X", "data_scope": "all", "permissions": [code]},
            format="json",
        )
        body = assert_error(response, 400, "invalid", {"permissions"})
        assert code in body["fields"]["permissions"][0]
        assert not Role.objects.filter(code="x").exists()

    def test_permissions_must_be_a_list(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/roles/",
            {"code": "x", "name": "X", "data_scope": "all", "permissions": "org.view_role"},
            format="json",
        )
        assert_error(response, 400, "invalid", {"permissions"})

    def test_the_chosen_scope_needs_departments(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/roles/", {"code": "x", "name": "X", "data_scope": "chosen"}, format="json"
        )
        assert_error(response, 400, "invalid", {"departments"})

    def test_the_administrator_changes_a_roles_permissions(self, personas, api):
        role = Role.objects.get(code="promotion")
        response = api(personas.admin).patch(
            f"/api/v1/roles/{role.pk}/", {"permissions": ["org.view_employee"]}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["permissions"] == ["org.view_employee"]

    def test_a_patch_without_permissions_keeps_them(self, personas, api):
        role = Role.objects.get(code="promotion")
        before = set(role.permissions.all())
        api(personas.admin).patch(
            f"/api/v1/roles/{role.pk}/", {"description": "推广"}, format="json"
        )
        assert set(role.permissions.all()) == before

    def test_a_shipped_role_cannot_be_deleted(self, personas, api):
        role = Role.objects.get(code="promotion")
        assert_error(
            api(personas.admin).delete(f"/api/v1/roles/{role.pk}/"), 400, "invalid", {"code"}
        )
        assert Role.objects.filter(pk=role.pk).exists()

    def test_a_role_in_use_cannot_be_deleted(self, personas, api):
        role = services.role_create(
            actor=personas.admin, code="temp", name="临时", data_scope="self"
        )
        services.employee_update(actor=personas.admin, employee=personas.emp("promo"), roles=[role])
        assert_error(
            api(personas.admin).delete(f"/api/v1/roles/{role.pk}/"), 400, "invalid", {"code"}
        )

    def test_an_unused_role_is_deleted(self, personas, api):
        role = services.role_create(
            actor=personas.admin, code="temp", name="临时", data_scope="self"
        )
        assert api(personas.admin).delete(f"/api/v1/roles/{role.pk}/").status_code == 204
        assert not Role.objects.filter(pk=role.pk).exists()

    @pytest.mark.parametrize("persona", ["manager", "management"])
    def test_viewers_may_not_write_roles(self, personas, api, persona):
        client = api(getattr(personas, persona))
        role = Role.objects.get(code="promotion")
        assert client.get("/api/v1/roles/").status_code == 200
        assert_error(
            client.post(
                "/api/v1/roles/", {"code": "x", "name": "X", "data_scope": "all"}, format="json"
            ),
            403,
            "permission_denied",
        )
        assert_error(
            client.patch(f"/api/v1/roles/{role.pk}/", {"name": "X"}, format="json"),
            403,
            "permission_denied",
        )
        assert_error(client.delete(f"/api/v1/roles/{role.pk}/"), 403, "permission_denied")

    def test_a_salesperson_may_not_read_roles(self, personas, api):
        assert_error(api(personas.sales1).get("/api/v1/roles/"), 403, "permission_denied")


class TestPositionApi:
    def test_the_administrator_adds_a_position_and_staff_list_them(self, personas, api):
        response = api(personas.admin).post(
            "/api/v1/positions/", {"name": "销售代表"}, format="json"
        )
        assert response.status_code == 201
        names = [
            row["name"] for row in api(personas.sales1).get("/api/v1/positions/").json()["results"]
        ]
        assert names == ["销售代表"]

    def test_others_may_not_add_positions(self, personas, api):
        response = api(personas.manager).post(
            "/api/v1/positions/", {"name": "销售代表"}, format="json"
        )
        assert_error(response, 403, "permission_denied")


class TestMe:
    def test_it_describes_the_signed_in_user(self, personas, api):
        body = api(personas.leader1).get("/api/v1/me/").json()
        assert body["username"] == "leader1"
        assert body["employee"] == personas.emp("leader1").pk
        assert "core.export_data" in body["permissions"]

    def test_anonymous_callers_must_authenticate(self, personas):
        assert_error(APIClient().get("/api/v1/me/"), 401, "not_authenticated")
