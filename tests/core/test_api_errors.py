"""Every API error has one shape: {code, message, fields}."""

from __future__ import annotations

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.test import APIClient

from marketdesk.core.api import exception_handler
from marketdesk.org import services as org_services
from marketdesk.org.models import Role


def body_of(response, status: int) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "message", "fields"}, body
    assert isinstance(body["message"], str) and body["message"]
    return body


class TestErrorsFromTheApi:
    def test_a_validation_error_names_the_field(self, personas, api_for):
        response = api_for(personas.admin).post(
            "/api/v1/employees/",
            {
                "username": "sales3",
                "name": "钱七",
                "department": personas.units["S1"].pk,
                "mobile": "1",
            },
            format="json",
        )
        body = body_of(response, 400)
        assert body["code"] == "invalid"
        assert list(body["fields"]) == ["mobile"]
        assert isinstance(body["fields"]["mobile"], list) and body["fields"]["mobile"][0]

    def test_a_serializer_error_names_the_field(self, personas, api_for):
        response = api_for(personas.admin).post(
            "/api/v1/roles/", {"code": "x", "name": "X", "data_scope": "galaxy"}, format="json"
        )
        assert set(body_of(response, 400)["fields"]) == {"data_scope"}

    def test_a_rule_of_the_service_names_the_field(self, personas, api_for):
        response = api_for(personas.admin).patch(
            f"/api/v1/departments/{personas.units['MKT'].pk}/",
            {"parent": personas.units["S2"].pk},
            format="json",
        )
        assert set(body_of(response, 400)["fields"]) == {"parent"}

    def test_a_rule_over_several_fields_is_a_non_field_error(self, personas, api_for):
        # 销售一组 moved under 总经办, where a unit of that name already exists.
        org_services.department_create(
            actor=personas.admin, name="销售一组", code="GM-S1", parent=personas.units["GM"]
        )
        response = api_for(personas.admin).patch(
            f"/api/v1/departments/{personas.units['S1'].pk}/",
            {"parent": personas.units["GM"].pk},
            format="json",
        )
        body = body_of(response, 400)
        assert "__all__" not in body["fields"]
        assert body["message"]

    def test_forbidden(self, personas, api_for):
        body = body_of(api_for(personas.sales1).get("/api/v1/roles/"), 403)
        assert body == {"code": "permission_denied", "message": body["message"], "fields": {}}

    def test_forbidden_by_a_service(self, personas, api_for):
        administrator = Role.objects.get(code="administrator")
        response = api_for(personas.manager).patch(
            f"/api/v1/employees/{personas.emp('manager').pk}/",
            {"roles": [administrator.pk]},
            format="json",
        )
        assert body_of(response, 403)["code"] == "permission_denied"

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/employees/999999/",
            "/api/v1/employees/abc/",
            "/api/v1/roles/999999/",
            "/api/v1/roles/abc/",
            "/api/v1/departments/999999/",
            "/api/v1/employees/?page=999",
        ],
    )
    def test_not_found(self, personas, api_for, url):
        body = body_of(api_for(personas.admin).get(url), 404)
        assert body["code"] == "not_found" and body["fields"] == {}

    def test_anonymous_callers_get_401(self, personas):
        response = APIClient().get("/api/v1/employees/")
        body = body_of(response, 401)
        assert body["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"

    def test_a_bad_token_gets_401(self, personas):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token md_not-a-real-token")
        assert body_of(client.get("/api/v1/employees/"), 401)["code"] == "authentication_failed"

    def test_a_method_the_endpoint_lacks(self, personas, api_for):
        response = api_for(personas.admin).put(
            f"/api/v1/employees/{personas.emp('sales1').pk}/", {}, format="json"
        )
        assert body_of(response, 405)["code"] == "method_not_allowed"

    def test_malformed_json(self, personas, api_for):
        response = api_for(personas.admin).post(
            "/api/v1/roles/", "{not json", content_type="application/json"
        )
        assert body_of(response, 400)["code"] == "parse_error"

    def test_an_invalid_filter_names_the_field(self, personas, api_for):
        response = api_for(personas.admin).get("/api/v1/employees/", {"status": "retired"})
        assert set(body_of(response, 400)["fields"]) == {"status"}


class TestExceptionHandler:
    def handle(self, exc):
        response = exception_handler(exc, {})
        return response.status_code, response.data

    def test_a_django_validation_error_with_fields(self):
        status, body = self.handle(
            DjangoValidationError({"mobile": ["bad"], "id_number": ["worse"]})
        )
        assert status == 400
        assert body["code"] == "invalid"
        assert body["fields"] == {"mobile": ["bad"], "id_number": ["worse"]}

    def test_a_django_validation_error_without_fields_becomes_the_message(self):
        status, body = self.handle(DjangoValidationError("Something is off."))
        assert (status, body["message"], body["fields"]) == (400, "Something is off.", {})

    def test_djangos_non_field_key_is_not_shown_as_a_field(self):
        status, body = self.handle(
            DjangoValidationError({NON_FIELD_ERRORS: ["Both together."], "name": ["Taken."]})
        )
        assert body["message"] == "Both together."
        assert body["fields"] == {"name": ["Taken."], "non_field_errors": ["Both together."]}

    def test_djangos_non_field_error_alone_is_the_message(self):
        _status, body = self.handle(DjangoValidationError({NON_FIELD_ERRORS: ["Both together."]}))
        assert (body["message"], body["fields"]) == ("Both together.", {})

    def test_nested_errors_are_flattened_with_their_path(self):
        _status, body = self.handle(
            serializers.ValidationError(
                {
                    "lines": [{}, {"amount": ["Must be positive."]}],
                    "address": {"city": ["Required."]},
                }
            )
        )
        assert body["fields"] == {
            "lines[1].amount": ["Must be positive."],
            "address.city": ["Required."],
        }

    def test_a_django_permission_denied_keeps_its_message(self):
        status, body = self.handle(DjangoPermissionDenied("Not yours."))
        assert (status, body) == (
            403,
            {"code": "permission_denied", "message": "Not yours.", "fields": {}},
        )

    def test_a_django_404(self):
        status, body = self.handle(Http404())
        assert (status, body["code"], body["fields"]) == (404, "not_found", {})

    def test_a_throttle(self):
        status, body = self.handle(exceptions.Throttled(wait=3))
        assert (status, body["code"]) == (429, "throttled")

    def test_other_exceptions_are_left_to_django(self):
        assert exception_handler(ValueError("boom"), {}) is None
