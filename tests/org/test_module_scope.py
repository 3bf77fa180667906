"""A role's data scope per module (Role.app_scopes) replaces its own scope for that module only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from marketdesk.core.scope import scope_for
from marketdesk.org import services
from marketdesk.org.models import DataScope, Role
from marketdesk.org.permissions import OrgPerm
from marketdesk.org.roles import SHIPPED, sync_shipped_roles

User = get_user_model()


def fresh(user):
    return User.objects.get(pk=user.pk)


class TestResolver:
    def test_customer_service_sees_all_customers_but_only_its_unit_of_employees(self, personas):
        service = fresh(personas.service)
        assert scope_for(service, "crm.view_customer").all
        employees = scope_for(fresh(personas.service), OrgPerm.VIEW_EMPLOYEE)
        assert not employees.all
        assert employees.department_ids == {personas.emp("service").department_id}

    def test_an_administrators_module_scope_applies_to_that_module_only(self, personas):
        role = Role.objects.get(code="salesperson")
        services.role_update(actor=personas.admin, role=role, app_scopes={"crm": "department"})
        sales1 = fresh(personas.sales1)
        assert scope_for(sales1, "crm.view_customer").department_ids == {
            personas.emp("sales1").department_id
        }
        employees = scope_for(fresh(personas.sales1), OrgPerm.VIEW_EMPLOYEE)
        assert employees.department_ids == frozenset() and employees.user_id == sales1.pk


class TestServices:
    def test_an_unknown_module_or_scope_is_refused_and_nothing_changes(self, personas):
        role = Role.objects.get(code="salesperson")
        before = dict(role.app_scopes)
        with pytest.raises(ValidationError) as caught:
            services.role_update(actor=personas.admin, role=role, app_scopes={"crm": "galaxy"})
        assert "app_scopes" in caught.value.message_dict
        with pytest.raises(ValidationError):
            services.role_update(actor=personas.admin, role=role, app_scopes={"nope": "all"})
        role.refresh_from_db()
        assert role.app_scopes == before

    def test_a_chosen_module_scope_needs_departments(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.role_create(
                actor=personas.admin,
                code="crm-chosen",
                name="CRM chosen",
                data_scope=DataScope.SELF,
                app_scopes={"crm": DataScope.CHOSEN},
            )
        assert "departments" in caught.value.message_dict

    def test_blank_module_scopes_are_dropped(self, personas):
        role = services.role_create(
            actor=personas.admin,
            code="plain",
            name="Plain",
            data_scope=DataScope.SELF,
            app_scopes={"crm": "", "finance": "all"},
        )
        assert role.app_scopes == {"finance": "all"}


class TestSync:
    def test_shipped_module_scopes_are_added_but_an_administrators_choice_is_kept(self, personas):
        role = Role.objects.get(code="customer_service")
        assert role.app_scopes.get("crm") == SHIPPED["customer_service"].app_scopes["crm"]
        Role.objects.filter(pk=role.pk).update(app_scopes={"crm": "department"})
        sync_shipped_roles()
        role.refresh_from_db()
        assert role.app_scopes["crm"] == "department"
        Role.objects.filter(pk=role.pk).update(app_scopes={})
        sync_shipped_roles()
        role.refresh_from_db()
        assert role.app_scopes["crm"] == DataScope.ALL


class TestPagesAndApi:
    def test_the_role_form_saves_a_module_scope(self, personas, client_for):
        role = Role.objects.get(code="promotion")
        client = client_for(personas.admin)
        page = client.get(f"/org/roles/{role.pk}/edit/")
        assert page.status_code == 200
        assert "scope__crm" in page.content.decode()
        data = {
            "name": role.name,
            "description": role.description,
            "data_scope": role.data_scope,
            "permissions": list(role.permissions.values_list("pk", flat=True)),
            "scope__crm": "subtree",
            "scope__finance": "",
        }
        response = client.post(f"/org/roles/{role.pk}/edit/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        role.refresh_from_db()
        assert role.app_scopes == {"crm": "subtree"}

    def test_the_api_shows_and_changes_module_scopes(self, personas, api_for):
        role = Role.objects.get(code="salesperson")
        api = api_for(personas.admin)
        response = api.get(f"/api/v1/roles/{role.pk}/")
        assert "app_scopes" in response.json()
        response = api.patch(
            f"/api/v1/roles/{role.pk}/", {"app_scopes": {"crm": "bogus"}}, format="json"
        )
        assert response.status_code == 400
        assert "app_scopes" in response.json()["fields"]
        response = api.patch(
            f"/api/v1/roles/{role.pk}/", {"app_scopes": {"crm": "department"}}, format="json"
        )
        assert response.status_code == 200, response.content
        role.refresh_from_db()
        assert role.app_scopes == {"crm": "department"}
