"""Bulk actions on the employee list: grant or remove a role for the selected employees."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.org import services
from marketdesk.org.models import Role


class TestEmployeesChangeRole:
    def test_an_administrator_grants_a_role_to_several_employees(self, personas):
        role = Role.objects.get(code="promotion")
        employees = [personas.emp("sales1"), personas.emp("sales2")]
        assert (
            services.employees_change_role(
                actor=personas.admin, employees=employees, role=role, grant=True
            )
            == 2
        )
        assert all(e.roles.filter(pk=role.pk).exists() for e in employees)
        assert (
            services.employees_change_role(
                actor=personas.admin, employees=employees, role=role, grant=False
            )
            == 2
        )

    def test_a_marketing_manager_may_not_hand_out_roles(self, personas):
        role = Role.objects.get(code="administrator")
        with pytest.raises(PermissionDenied):
            services.employees_change_role(
                actor=personas.manager, employees=[personas.emp("sales1")], role=role, grant=True
            )

    def test_nothing_selected_is_an_error(self, personas):
        with pytest.raises(ValidationError):
            services.employees_change_role(
                actor=personas.admin, employees=[], role=Role.objects.first(), grant=True
            )


class TestBulkView:
    def test_the_list_shows_the_bulk_bar_only_to_role_administrators(self, personas, client_for):
        assert b'id="md-bulk"' in client_for(personas.admin).get("/org/employees/").content
        assert b'id="md-bulk"' not in client_for(personas.manager).get("/org/employees/").content

    def test_bulk_grant_through_the_page(self, personas, client_for):
        role = Role.objects.get(code="promotion")
        target = personas.emp("sales1b")
        response = client_for(personas.admin).post(
            "/org/employees/bulk/",
            {
                "ids": [target.pk],
                "action": "grant_role",
                "role": role.pk,
                "next": "/org/employees/",
            },
        )
        assert response.status_code == 302
        assert target.roles.filter(pk=role.pk).exists()

    def test_a_salesperson_is_refused(self, personas, client_for):
        role = Role.objects.get(code="administrator")
        response = client_for(personas.sales1).post(
            "/org/employees/bulk/",
            {"ids": [personas.emp("sales1").pk], "action": "grant_role", "role": role.pk},
        )
        assert response.status_code == 403
        assert not personas.emp("sales1").roles.filter(pk=role.pk).exists()
