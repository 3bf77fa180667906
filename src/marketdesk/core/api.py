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
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler  # noqa: I001

from .listing import CappedPaginator, _decode_cursor, _encode_cursor, _rows_after


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class KeysetPagination(Pagination):
    """Page numbers, plus paging by cursor for long lists: the `next` link carries
    `?after=<cursor>` (the last row's sort value and id, as the HTML list's "Next"), and a
    request with `after` reads the rows after that row in the list's order (`keyset_field`
    descending, then -id) by a range on the list's index, not by OFFSET: page 200 costs what
    page 1 costs. Such a page has `count` null (counting a million rows is what cursor
    paging avoids) and no `previous`. An `after` that is not a cursor of this list is
    ignored (page 1). The queryset must be ordered by (-keyset_field, -pk).

    A numbered page counts as far as it needs (core.listing.CappedPaginator): up to 1,000
    rows for the first pages, up to the page after it further on, never past 10,000; when
    the count stopped there, `count_capped` is true ("more than `count`"). Page numbers
    therefore reach the first 10,000 rows; `next` (a cursor) goes on past them."""

    keyset_field = "last_contact_at"
    django_paginator_class = CappedPaginator

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.cursor = None
        text = request.query_params.get("after")
        cursor = _decode_cursor(queryset, self.keyset_field, text) if text else None
        if cursor is None:
            rows = super().paginate_queryset(queryset, request, view)
            self.last = rows[-1] if rows and self.page.has_next() else None
            return rows
        self.cursor = cursor
        size = self.get_page_size(request)
        rows = _rows_after(queryset, self.keyset_field, True, cursor, size + 1)
        self.last = rows[size - 1] if len(rows) > size else None
        return rows[:size]

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param) or 1
        if number in self.last_page_strings:  # the last page the cap lets one number
            paginator.first_cap = paginator.cap
            return paginator.num_pages
        return number

    def _next_link(self):
        if self.last is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, self.page_query_param)
        return replace_query_param(url, "after", _encode_cursor(self.last, self.keyset_field))

    def get_paginated_response(self, data):
        paginator = None if self.cursor else self.page.paginator
        return Response(
            {
                "count": paginator.count if paginator else None,
                "count_capped": bool(paginator and paginator.capped),
                "next": self._next_link(),
                "previous": None if self.cursor else self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        properties = schema["properties"]
        properties["count"]["nullable"] = True
        properties["count"]["description"] = (
            "Rows matching, counted up to 1,000 on the first pages (up to the next page "
            "further on, at most 10,000); see count_capped. Null on a page read by cursor "
            "(after)."
        )
        properties["count_capped"] = {
            "type": "boolean",
            "example": False,
            "description": (
                "True when counting stopped at its cap: there are more than `count` rows. "
                "Whether there is a next page is told by `next` (not null)."
            ),
        }
        schema["required"] = [*schema.get("required", []), "count_capped"]
        properties = {key: properties[key] for key in ("count", "count_capped", *properties)}
        schema["properties"] = properties
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "after",
                "required": False,
                "in": "query",
                "description": "Cursor from the `next` link: the rows after that row.",
                "schema": {"type": "string"},
            },
        ]


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
