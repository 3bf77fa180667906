"""Administrators set an employee's password (imported employees have none)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.org import services


class TestEmployeeSetPassword:
    def test_an_administrator_sets_a_password_the_employee_can_sign_in_with(self, personas, client):
        admin = personas.admin
        admin.is_staff = True
        admin.save(update_fields=["is_staff"])
        services.employee_set_password(
            actor=admin, employee=personas.emp("sales1"), password="Spring-Sale-2026"
        )
        assert client.login(username="sales1", password="Spring-Sale-2026")

    def test_it_refuses_a_weak_password_naming_the_field(self, personas):
        admin = personas.admin
        admin.is_staff = True
        admin.save(update_fields=["is_staff"])
        with pytest.raises(ValidationError) as info:
            services.employee_set_password(
                actor=admin, employee=personas.emp("sales1"), password="123"
            )
        assert "password" in info.value.message_dict

    def test_a_manager_who_is_not_staff_may_not(self, personas):
        with pytest.raises(PermissionDenied):
            services.employee_set_password(
                actor=personas.manager, employee=personas.emp("sales1"), password="Spring-Sale-2026"
            )

    def test_the_page_is_403_for_a_salesperson_and_works_for_staff(self, personas, client_for):
        employee = personas.emp("sales1b")
        assert client_for(personas.sales1).get(
            f"/org/employees/{employee.pk}/password/"
        ).status_code in (403, 404)
        admin = personas.admin
        admin.is_staff = True
        admin.save(update_fields=["is_staff"])
        client = client_for(admin)
        response = client.post(
            f"/org/employees/{employee.pk}/password/", {"password": "Spring-Sale-2026"}
        )
        assert response.status_code == 302
        employee.user.refresh_from_db()
        assert employee.user.check_password("Spring-Sale-2026")
