"""The list page machinery every app uses: search, filters, sorting and pagination in the
database, plus export of the same filtered rows (no page loads a whole table)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, InvalidPage, Page, Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

PER_PAGE_CHOICES = (20, 50, 100)


def capped_count(queryset: QuerySet, cap: int) -> int:
    """How many rows `queryset` has, counting no further than cap + 1 (a result above `cap`
    means "more than cap"): `SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1)`, so a list of a
    million rows costs what cap + 1 rows cost, on both databases."""
    return queryset.order_by()[: cap + 1].count()


class CappedPaginator(Paginator):
    """A Paginator for very long lists that counts only as far as the requested page needs.

    A page counts at most `first_cap` rows (enough for the first pages), a page further on
    up to the page after it (so "Next" is known), never more than `cap`: the total is exact
    when it is below what was counted; otherwise `capped` is True and `count` is the
    number counted ("more than count"). A page read by cursor (`KeysetPage`) that asks for
    the count gets `first_cap`. `cap_reached` tells that counting further cannot help (the
    list has more than `cap` rows); until then a caller may offer the total counted up to
    `cap` separately (the customer list loads it through htmx).

    Counting the 10,000 rows of `cap` walks 10,000 rows (50-70 ms on PostgreSQL for the
    marketing manager's list filtered by stage at 1M customers); `first_cap` = 1,000 costs a
    tenth of that, and page 1 is what nearly every request shows."""

    cap = 10_000
    first_cap = 1_000
    _capped = False

    @property
    def counting_to(self) -> int:
        return min(self.cap, getattr(self, "_counting_to", self.first_cap))

    def page(self, number):
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            wanted = 1
        if "count" not in self.__dict__:  # not counted yet
            self._counting_to = max(self.first_cap, (wanted + 1) * self.per_page)
        return super().page(number)

    @cached_property
    def count(self) -> int:
        limit = self.counting_to
        found = capped_count(self.object_list, limit)
        self._capped = found > limit
        return min(found, limit)

    @property
    def capped(self) -> bool:
        """The count stopped at its limit: there are more than `count` rows."""
        return self.count is not None and self._capped

    @property
    def cap_reached(self) -> bool:
        """More rows than `cap`: a count further on is not offered."""
        return self.capped and self.counting_to >= self.cap


@dataclass
class ListResult:
    page: Page
    search: str
    sort: str
    filterset: Any
    querystring: str  # the current filters without page/sort, for links
    per_page: int
    sort_keys: list[str] = field(default_factory=list)
    # Where the page loads its total when the paginator stopped counting early (a
    # CappedPaginator past first_cap): a URL answering components/list_count.html.
    count_url: str = ""

    @property
    def rows(self):
        return self.page.object_list

    @property
    def keyset(self) -> bool:
        return isinstance(self.page, KeysetPage)

    @property
    def next_cursor(self) -> str:
        return getattr(self.page, "next_cursor", "")


class KeysetPage(Page):
    """A page of a keyset-paged list: its rows were found from the previous page's last row
    (`?after=`), not by OFFSET, so page 200 costs what page 1 costs. "Next" carries the cursor
    of this page's last row; "Previous" goes back by page number."""

    def __init__(self, object_list, number, paginator, *, more: bool, next_cursor: str):
        super().__init__(object_list, number, paginator)
        self.more = more
        self.next_cursor = next_cursor if more else ""

    def has_next(self) -> bool:
        return self.more

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return max(self.number - 1, 1)

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1


def _encode_cursor(row, field_name: str) -> str:
    value = getattr(row, field_name)
    raw = json.dumps([None if value is None else str(value), row.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(queryset: QuerySet, field_name: str, text: str):
    """(value, pk) of a cursor, or None when it is not one of ours (then page 1 is shown)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, pk = json.loads(raw)
        if value is not None:
            value = queryset.model._meta.get_field(field_name).to_python(value)
        return value, int(pk)
    except (ValueError, TypeError, binascii.Error, ValidationError):
        return None


def _rows_after(queryset: QuerySet, field_name: str, descending: bool, cursor, limit: int):
    """The next `limit` rows after the cursor row, in the list's order (field, then -pk).

    Rows without a value sort first or last depending on the database (PostgreSQL treats
    NULL as largest, SQLite as smallest), so they are read as their own segment; each query
    is a range on the (field, id) indexes."""
    value, pk = cursor
    nulls_first = connections[queryset.db].features.nulls_order_largest == descending
    empty = {f"{field_name}__isnull": True}
    if value is None:
        rows = list(queryset.filter(pk__lt=pk, **empty)[:limit])
        if nulls_first and len(rows) < limit:
            rest = queryset.filter(**{f"{field_name}__isnull": False})
            rows += list(rest[: limit - len(rows)])
        return rows
    op = "lt" if descending else "gt"
    condition = Q(**{f"{field_name}__{op}e": value}) & (
        Q(**{f"{field_name}__{op}": value}) | Q(pk__lt=pk)
    )
    rows = list(queryset.filter(condition)[:limit])
    if not nulls_first and len(rows) < limit:
        rows += list(queryset.filter(**empty)[: limit - len(rows)])
    return rows


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
    keyset: bool = False,
) -> ListResult:
    """One page of `queryset`, searched, filtered and sorted from the request.

    `keyset=True` (very long lists): "Next" links carry the last row's sort value and id
    (`?after=`), and the next page is read from there instead of by OFFSET; the sort keys must
    then be plain columns of the model."""
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
    params = request.GET.copy()
    for name in ("page", "sort", "after"):
        params.pop(name, None)
    cursor = (
        _decode_cursor(queryset, order, request.GET["after"])
        if (keyset and request.GET.get("after"))
        else None
    )
    if keyset and cursor is not None:
        rows = _rows_after(queryset, order, sort.startswith("-"), cursor, per_page + 1)
        number = int(requested) if str(requested).isdigit() and int(requested) > 1 else 2
        page = KeysetPage(
            rows[:per_page],
            number,
            paginator,
            more=len(rows) > per_page,
            next_cursor=_encode_cursor(rows[per_page - 1], order) if len(rows) > per_page else "",
        )
        return ListResult(
            page=page,
            search=search,
            sort=sort,
            filterset=filterset,
            querystring=params.urlencode(),
            per_page=per_page,
            sort_keys=list(sorts),
        )
    try:
        page = paginator.page(requested)
    except EmptyPage:  # past the end: the last page; zero or below: the first
        page = paginator.page(paginator.num_pages if str(requested).isdigit() else 1)
    except InvalidPage:  # not a whole number ("abc", "1.5")
        page = paginator.page(1)
    if keyset:  # a numbered page (by OFFSET); its "Next" continues by cursor
        rows = list(page.object_list)
        page = KeysetPage(
            rows,
            page.number,
            paginator,
            more=page.has_next(),
            next_cursor=_encode_cursor(rows[-1], order) if rows else "",
        )
    return ListResult(
        page=page,
        search=search,
        sort=sort,
        filterset=filterset,
        querystring=params.urlencode(),
        per_page=per_page,
        sort_keys=list(sorts),
    )
