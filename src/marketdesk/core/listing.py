"""The list page machinery every app uses: search, filters, sorting and pagination in the
database, plus export of the same filtered rows (no page loads a whole table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import EmptyPage, InvalidPage, Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest

PER_PAGE_CHOICES = (20, 50, 100)


@dataclass
class ListResult:
    page: Page
    search: str
    sort: str
    filterset: Any
    querystring: str  # the current filters without page/sort, for links
    per_page: int
    sort_keys: list[str] = field(default_factory=list)

    @property
    def rows(self):
        return self.page.object_list


def search_filter(queryset: QuerySet, text: str, fields: list[str]) -> QuerySet:
    text = text.strip()
    if not text or not fields:
        return queryset
    condition = Q()
    for name in fields:
        condition |= (
            Q(**{name: text})
            if name.endswith("__exact") or name.endswith("=")
            else Q(**{f"{name}__icontains": text})
        )
    return queryset.filter(condition)


def filtered(request: HttpRequest, queryset: QuerySet, *, filterset_class=None, search_fields=None):
    """Apply the filter form and search box; returns (queryset, filterset, search)."""
    filterset = None
    if filterset_class is not None:
        filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
        if filterset.is_bound and filterset.is_valid():
            queryset = filterset.qs
        elif filterset.is_bound:
            queryset = (
                queryset.none()
            )  # an invalid filter shows its error and no rows, never all rows
    search = request.GET.get("q", "")[:100]
    queryset = search_filter(queryset, search, search_fields or [])
    return queryset, filterset, search


def list_page(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    sorts: dict[str, str],
    default_sort: str,
    filterset_class=None,
    search_fields: list[str] | None = None,
    paginator_class: type[Paginator] = Paginator,
) -> ListResult:
    queryset, filterset, search = filtered(
        request, queryset, filterset_class=filterset_class, search_fields=search_fields
    )
    sort = request.GET.get("sort", default_sort)
    key = sort.lstrip("-")
    if key not in sorts:
        sort, key = default_sort, default_sort.lstrip("-")
    order = sorts[key]
    queryset = queryset.order_by(f"-{order}" if sort.startswith("-") else order, "-pk")
    try:
        per_page = int(request.GET.get("per_page", PER_PAGE_CHOICES[0]))
    except ValueError:
        per_page = PER_PAGE_CHOICES[0]
    per_page = per_page if per_page in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]
    paginator = paginator_class(queryset, per_page)
    requested = request.GET.get("page") or 1
    try:
        page = paginator.page(requested)
    except EmptyPage:  # past the end: the last page; zero or below: the first
        page = paginator.page(paginator.num_pages if str(requested).isdigit() else 1)
    except InvalidPage:  # not a whole number ("abc", "1.5")
        page = paginator.page(1)
    params = request.GET.copy()
    for name in ("page", "sort"):
        params.pop(name, None)
    return ListResult(
        page=page,
        search=search,
        sort=sort,
        filterset=filterset,
        querystring=params.urlencode(),
        per_page=per_page,
        sort_keys=list(sorts),
    )
