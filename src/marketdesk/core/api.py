"""REST API kernel: one error shape ({code, message, fields}), pagination, token auth."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler  # noqa: I001


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, messages in _flatten(value).items():
                    fields[f"{key}.{sub_key}"] = messages
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub_key, messages in _flatten(item).items():
                        fields[f"{key}[{index}].{sub_key}"] = messages
            else:
                fields[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return fields
    return {
        "non_field_errors": [str(v) for v in (detail if isinstance(detail, list) else [detail])]
    }


def exception_handler(exc, context):
    """Every error is {code, message, fields}; Django's ValidationError maps to 400."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            # Django files errors over several fields (constraints) under "__all__".
            detail = {
                ("non_field_errors" if key == NON_FIELD_ERRORS else key): messages
                for key, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.pop("non_field_errors", [])
        message = non_field[0] if non_field else _("Please correct the errors below.")
        if non_field and fields:
            fields["non_field_errors"] = non_field
        body = {"code": "invalid", "message": message, "fields": fields}
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = {"code": str(code), "message": str(detail), "fields": {}}
    response.data = body
    return response


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "marketdesk.core.api_auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal API token: `Token md_...`",
        }


def error_response(
    message: str, *, code: str = "invalid", fields=None, status_code=status.HTTP_400_BAD_REQUEST
):
    return Response({"code": code, "message": message, "fields": fields or {}}, status=status_code)
