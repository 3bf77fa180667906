"""Every read of the CRM app, limited to what the actor may see."""

from __future__ import annotations

import datetime
from collections import Counter
from enum import StrEnum

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from marketdesk.core import listing
from marketdesk.core.models import RecordAccess, RecordShare
from marketdesk.core.scope import in_rows, is_shared_for_write, scope_for, scoped
from marketdesk.org.models import Department, Employee, EmployeeStatus
from marketdesk.org.selectors import employee_for_user

from . import name_search
from .matching import name_key
from .models import (
    Contact,
    CrmSettings,
    Customer,
    CustomerExportRequest,
    CustomerPool,
    CustomerStage,
    FollowUp,
    HoldingLimit,
    OwnerChange,
    Revisit,
    RevisitStatus,
    Segment,
)
from .permissions import CrmPerm


class Scene(StrEnum):
    """The list's views: mine, team member of, my subordinates', the pool, all I may see."""

    MINE = "mine"
    TEAM = "team"
    SUBORDINATES = "subordinates"
    POOL = "pool"
    ALL = "all"


def crm_settings() -> CrmSettings:
    settings = CrmSettings.objects.order_by("pk").first()
    return settings or CrmSettings.objects.create()


def _shared_customer_ids(actor, access: str | None = None) -> QuerySet:
    shares = RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), user=actor
    )
    if access:
        shares = shares.filter(access=access)
    return shares.values("object_id")


def customer_list(actor, *, scene: str = Scene.ALL) -> QuerySet[Customer]:
    """Customers the actor may see, narrowed to a scene of the list."""
    base = Customer.objects.select_related("owner", "department")
    if scene == Scene.POOL:
        return pool_customers(actor=actor)
    if not actor.has_perm(CrmPerm.VIEW_CUSTOMER):
        return base.none()
    if scene == Scene.MINE:
        return base.filter(owner=actor)
    if scene == Scene.TEAM:
        return base.filter(pk__in=_shared_customer_ids(actor))
    visible = scoped(base, actor=actor, perm=CrmPerm.VIEW_CUSTOMER)
    if scene == Scene.SUBORDINATES:
        people = subordinate_user_ids(actor, limit=NARROW_UNITS + 1)
        if len(people) <= NARROW_UNITS:  # a group's people: the owner index
            return visible.filter(owner_id__in=people)
        # most of the company (a manager's 16,000): a subquery, tested row by row on SQLite
        return visible.filter(in_rows(visible, "owner_id", subordinate_users(actor)))
    return visible


def subordinate_users(actor) -> QuerySet:
    """People below the actor, as a subquery of user ids: direct reports and everyone in the
    units the actor heads (a marketing manager's are most of the company: 16,000 people as
    literal ids cost 260 ms of CPU per query to build and send)."""
    employee = employee_for_user(actor)
    if employee is None:
        return Employee.objects.none().values("user_id")
    headed = list(
        Department.objects.filter(head=employee, active=True).values_list("path", flat=True)
    )
    condition = Q(supervisor=employee)
    for path in headed:
        condition |= Q(department__path__startswith=path)
    return (
        Employee.objects.filter(condition, status=EmployeeStatus.ACTIVE)
        .exclude(user=actor)
        .order_by()
        .values("user_id")
    )


def subordinate_user_ids(actor, *, limit: int | None = None) -> list[int]:
    """The user ids of `subordinate_users` (the first `limit` of them, when given)."""
    people = subordinate_users(actor).values_list("user_id", flat=True)
    return list(people if limit is None else people[:limit])


def search_condition(text: str, *, actor=None, scene: str = Scene.ALL) -> Q:
    """Name (normalised, any part), customer number, credit code, or a mobile of the customer
    or of one of its contacts (a digit string of 4 or more matches mobiles by prefix).

    Index-friendly on a million customers: the name part goes through the bigram index of
    `name_search` (same rows as `name_key__contains`), a mobile prefix is a range
    (`mobile >= '1391234' AND mobile < '1391235'`, the same rows as `startswith` for digits),
    which SQLite's B-tree index can use where its LIKE cannot. The alternatives are one
    `id IN (... UNION ...)` subquery: as ORs beside the scope and the list's ORDER BY ...
    LIMIT, PostgreSQL walked the last-contact index through every customer (15 s for a
    mobile that matches nothing).

    Given the searcher (`actor`, `scene`), two exceptions, both the same rows:

    - a narrow scene (own customers, a team, a group: `_scope_branches`) is searched from its
      own indexes: `id IN (owned AND name ... UNION unit's AND name ... UNION shared AND
      name ...)`. The bigram index would hand over every match of the company (30,000 for a
      common trade word, 1 s), and the scope's `OR id IN (shared)` hides from the planner
      how few customers the searcher sees;
    - in a wide scene, a name word PostgreSQL expects in more than 5,000 of the customers they
      may see (`name_search.is_common`) is searched as plain conditions, so the list's ORDER
      BY ... LIMIT walks the sort index and stops after 50 instead of reading and sorting
      every match."""
    return _search(text, actor=actor, scene=scene)[0]


def _search(text: str, *, actor, scene: str) -> tuple[Q, bool]:
    """`search_condition`, and whether it holds only customers of the scene: the branches of
    the scope (owner, units, shares) in the "all I may see", mine and team scenes, whose union
    is exactly the scene's customers (`customer_search` then leaves out the scope's filter)."""
    text = (text or "").strip()[:100]
    if not text:
        return Q(), False
    digits = text.replace(" ", "").replace("-", "").removeprefix("+86")
    if digits.isdigit() and len(digits) >= 4:
        return Q(
            pk__in=Customer.objects.filter(_digit_prefix("mobile", digits))
            .order_by()
            .values("pk")
            .union(
                Contact.objects.filter(_digit_prefix("mobile", digits))
                .order_by()  # no ORDER BY inside a UNION (SQLite refuses it)
                .values("customer_id"),
                Customer.objects.filter(number=text).order_by().values("pk"),
            )
        ), False
    key = name_key(text) or text.lower()
    branches = _scope_branches(actor, scene, key)
    if branches is not None:
        plain = _plain_name_condition(text, key)
        found = [
            Customer.objects.filter(branch, plain).order_by().values("pk") for branch in branches
        ]
        covers = scene in (Scene.ALL, Scene.MINE, Scene.TEAM)
        return Q(pk__in=found[0].union(*found[1:]) if len(found) > 1 else found[0]), covers
    return _word_condition(text, key, actor, scene), False


def _word_condition(text: str, key: str, actor, scene: str) -> Q:
    if _common_word(key, actor, scene):
        return _plain_name_condition(text, key)
    found = Customer.objects.filter(name_search.name_condition(key)).order_by().values("pk")
    others = [Customer.objects.filter(number=text.upper()).order_by().values("pk")]
    if len(text) == 18:
        others.append(Customer.objects.filter(credit_code=text.upper()).order_by().values("pk"))
    return Q(pk__in=found.union(*others))


def _plain_name_condition(text: str, key: str) -> Q:
    """The name, number or credit code as plain conditions (no bigram index)."""
    condition = Q(name_key__contains=key) | Q(number=text.upper())
    if len(text) == 18:
        condition |= Q(credit_code=text.upper())
    return condition


NARROW_SCOPE = 20_000  # customers owned or in the units of a scene searched from its indexes
NARROW_UNITS = 200  # units (or subordinates) at most in such a scene: literal ids
# A longer subtree (a regional director's 232 units, ~140,000 customers at 1M) is searched from
# its indexes too on PostgreSQL, while it holds at most this many times the names the word is
# expected in: its units' branch is an index-only scan of crm_cust_dept_contact, which includes
# the name and number (140,000 entries: ~15 ms), where the bigram index would read all the
# word's matches from the table (30,000 heap rows for a common trade word: 130-320 ms).
UNIT_SCAN_RATIO = 20
UNIT_SCAN_MAX = 300_000  # beyond, a common word walks the sort index (`_common_word`)


def _scope_branches(actor, scene: str, key: str) -> list[Q] | None:
    """Indexable conditions (owner, units, team shares) whose union holds every customer of
    the actor's `scene`, when its owned and unit customers are at most NARROW_SCOPE and not
    more than the customers expected to have `key` in their name (else the bigram index hands
    over fewer rows; `name_search.expected_matches`); on PostgreSQL also a long subtree that
    holds at most UNIT_SCAN_RATIO times the names expected (its units' branch is read from an
    index alone). None for a wide scene (all customers, a long subtree otherwise, many
    subordinates, the pool)."""
    if actor is None or scene == Scene.POOL or not actor.has_perm(CrmPerm.VIEW_CUSTOMER):
        return None
    wide = False
    shared = [Q(pk__in=_shared_customer_ids(actor))]
    if scene == Scene.TEAM:
        return shared
    if scene == Scene.MINE:
        owned, shared = [Q(owner=actor)], []
    elif scene == Scene.SUBORDINATES:
        people = subordinate_user_ids(actor, limit=NARROW_UNITS + 1)
        if len(people) > NARROW_UNITS:
            return None
        owned, shared = [Q(owner_id__in=people)], []
    else:  # everything the scope shows (core.scope.scoped): own, the units', shared
        scope = scope_for(actor, CrmPerm.VIEW_CUSTOMER)
        wide = len(scope.department_ids) > NARROW_UNITS
        if scope.all or scope.empty or (wide and connection.vendor != "postgresql"):
            return None
        owned = [Q(owner_id=scope.user_id)] if scope.user_id is not None else []
        if scope.department_ids:
            owned.append(Q(department_id__in=scope.departments_filter()))
    if owned:
        expected = name_search.expected_matches(key, at_most=NARROW_SCOPE)
        if wide:  # see UNIT_SCAN_RATIO
            if expected is None:
                return None
            limit = min(expected * UNIT_SCAN_RATIO, UNIT_SCAN_MAX)
        else:
            limit = NARROW_SCOPE if expected is None else min(NARROW_SCOPE, expected)
        # a long subtree: its units alone (PostgreSQL guesses half the table for an OR with a
        # subquery); their customers hold the owner's nearly always
        rows = Customer.objects.filter(owned[-1] if wide else owned[0] | owned[-1]).values("pk")
        if name_search.more_rows_than(rows, limit):
            return None
    return owned + shared


def _common_word(key: str, actor, scene: str) -> bool:
    """A common word for this searcher: in the "all I may see" scene of someone who sees all
    customers or whole units, in the "my subordinates" scene of someone with many, and in the
    pool (its own index, `crm_cust_pool_contact`, holds its rows in the list's order; a narrow
    scene, `_scope_branches`, was handled before)."""
    if actor is None:
        return False
    if scene == Scene.POOL:
        return name_search.is_common(key)
    if not actor.has_perm(CrmPerm.VIEW_CUSTOMER):
        return False
    if scene == Scene.SUBORDINATES:
        rows = Customer.objects.filter(owner_id__in=subordinate_users(actor))
        return name_search.is_common(key, rows=rows)
    if scene != Scene.ALL:
        return False
    scope = scope_for(actor, CrmPerm.VIEW_CUSTOMER)
    if scope.all:
        return name_search.is_common(key)
    return bool(scope.department_ids) and name_search.is_common(
        key, department_ids=scope.department_ids
    )


def customer_search(*, actor, text: str, scene: str = Scene.ALL) -> QuerySet[Customer]:
    """`customer_list(actor, scene)` filtered by the search `text` (all of it when empty).
    When the search goes through the scope's branches, which hold exactly the scene's
    customers, they replace the scope's filter: for a long subtree PostgreSQL estimates
    `owner OR unit IN (subquery) OR shared` at most of the table and scanned it (390 ms for a
    regional director's common word, against 35 ms from the branches)."""
    condition, covers = _search(text, actor=actor, scene=scene)
    if covers:
        return Customer.objects.select_related("owner", "department").filter(condition)
    return customer_list(actor, scene=scene).filter(condition)


def customer_get(*, actor, pk: int) -> Customer:
    """One customer the actor may see (a pool customer if the pool is the actor's); else 404."""
    customer = (
        customer_list(actor).filter(pk=pk).first()
        or pool_customers(actor=actor).filter(pk=pk).first()
    )
    if customer is None:
        raise Http404
    return customer


def can_edit_customer(*, actor, customer: Customer) -> bool:
    """The owner, a team member with write access, or someone whose scope covers the customer
    and who may change customers."""
    if customer.owner_id is None:
        return bool(
            actor.has_perm(CrmPerm.MANAGE_SETTINGS)
            or (customer.pool_id and customer.pool.admins.filter(pk=actor.pk).exists())
        )
    if customer.owner_id == actor.pk and actor.has_perm(CrmPerm.VIEW_CUSTOMER):
        return True
    if is_shared_for_write(customer, actor):
        return True
    if not actor.has_perm(CrmPerm.CHANGE_CUSTOMER):
        return False
    return scoped(  # shares were handled above: a read-only team member may not edit
        Customer.objects.filter(pk=customer.pk),
        actor=actor,
        perm=CrmPerm.CHANGE_CUSTOMER,
        shared=False,
    ).exists()


def can_follow_up(*, actor, customer: Customer) -> bool:
    """Anyone who may add follow-ups and sees the (owned) customer: the owner and team, and
    customer service answering the hotline (R5.2.1). Pool customers are claimed first."""
    return bool(
        customer.owner_id is not None
        and actor.has_perm(CrmPerm.ADD_FOLLOW_UP)
        and (
            can_edit_customer(actor=actor, customer=customer)
            or scoped(  # seen through the role's scope; a read-only team member only reads
                Customer.objects.filter(pk=customer.pk),
                actor=actor,
                perm=CrmPerm.VIEW_CUSTOMER,
                shared=False,
            ).exists()
        )
    )


def team_members(customer: Customer) -> QuerySet[RecordShare]:
    return RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
    ).select_related("user")


# Pools ------------------------------------------------------------------------------------


def pool_list(*, actor) -> QuerySet[CustomerPool]:
    pools = CustomerPool.objects.filter(active=True)
    if actor.is_superuser or actor.has_perm(CrmPerm.MANAGE_SETTINGS):
        return CustomerPool.objects.all()
    if not actor.has_perm(CrmPerm.CLAIM_CUSTOMER) and not actor.has_perm(CrmPerm.ASSIGN_CUSTOMER):
        return pools.filter(admins=actor)
    return pools.filter(Q(members=actor) | Q(members__isnull=True) | Q(admins=actor)).distinct()


def pool_visible(*, actor, pool: CustomerPool) -> bool:
    return pool_list(actor=actor).filter(pk=pool.pk).exists()


def pool_get(*, actor, pk: int) -> CustomerPool:
    pool = pool_list(actor=actor).filter(pk=pk).first()
    if pool is None:
        raise Http404
    return pool


def pool_customers(*, actor, pool: CustomerPool | None = None) -> QuerySet[Customer]:
    pools = pool_list(actor=actor)
    queryset = Customer.objects.select_related("pool", "department", "previous_owner").filter(
        owner__isnull=True
    )
    if pool is not None:
        return queryset.filter(pool=pool) if pools.filter(pk=pool.pk).exists() else queryset.none()
    if actor.is_superuser or actor.has_perm(CrmPerm.MANAGE_SETTINGS):
        return queryset
    # the few pools as ids: as a subquery PostgreSQL joins the pools first and reads each
    # pool's rows by bitmap, where the list's order walks the pool's own index
    return queryset.filter(pool__in=list(pools.values_list("pk", flat=True)))


def holding_limits(*, actor) -> QuerySet[HoldingLimit]:
    if not actor.has_perm(CrmPerm.MANAGE_SETTINGS):
        return HoldingLimit.objects.none()
    return HoldingLimit.objects.select_related("user", "department")


# Contacts, follow-ups, owner changes ------------------------------------------------------


def contact_list(*, actor, customer: Customer | None = None) -> QuerySet[Contact]:
    if customer is not None:
        customer_get(actor=actor, pk=customer.pk)
        return Contact.objects.filter(customer=customer)
    visible = customer_list(actor).values("pk")
    return Contact.objects.select_related("customer").filter(customer_id__in=visible)


def contact_get(*, actor, pk: int) -> Contact:
    contact = Contact.objects.select_related("customer").filter(pk=pk).first()
    if contact is None:
        raise Http404
    customer_get(actor=actor, pk=contact.customer_id)
    return contact


def follow_up_files(follow_ups) -> dict[int, list]:
    """Photos and files of these follow-ups, in one query: {follow-up id: [attachment, ...]}."""
    from marketdesk.core.models import Attachment

    ids = [f.pk for f in follow_ups]
    files: dict[int, list] = {}
    if not ids:
        return files
    for attachment in Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(FollowUp), object_id__in=ids
    ).order_by("uploaded_at"):
        files.setdefault(attachment.object_id, []).append(attachment)
    return files


def follow_up_list(*, actor, customer: Customer | None = None) -> QuerySet[FollowUp]:
    queryset = FollowUp.objects.select_related("user", "customer").prefetch_related("contacts")
    if customer is not None:
        return queryset.filter(customer=customer)
    if not actor.has_perm(CrmPerm.VIEW_CUSTOMER):
        return queryset.none()
    scope = scope_for(actor, CrmPerm.VIEW_CUSTOMER)
    if scope.all:
        return queryset
    return queryset.filter(
        Q(user=actor)
        | Q(department_id__in=scope.departments_filter())
        | Q(customer_id__in=_shared_customer_ids(actor))
    )


def owner_changes(customer: Customer) -> QuerySet[OwnerChange]:
    return customer.owner_changes.select_related("from_user", "to_user", "by", "pool")


def follow_ups_due(*, actor, today: datetime.date | None = None) -> dict[str, QuerySet]:
    """What the workbench shows: follow-ups due today, overdue, and customers contacted today."""
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    mine = Customer.objects.filter(owner=actor)
    return {
        "due_today": mine.filter(next_contact_at__gte=start, next_contact_at__lt=end),
        "overdue": mine.filter(next_contact_at__lt=start),
        "contacted_today": FollowUp.objects.filter(user=actor, at__gte=start, at__lt=end),
    }


# Revisits ---------------------------------------------------------------------------------


def revisit_list(*, actor) -> QuerySet[Revisit]:
    queryset = Revisit.objects.select_related("customer", "assignee")
    if not actor.has_perm(CrmPerm.VIEW_REVISIT):
        return queryset.none()
    return scoped(
        queryset, actor=actor, perm=CrmPerm.VIEW_REVISIT, owner_field="assignee", shared=False
    )


def revisit_get(*, actor, pk: int) -> Revisit:
    revisit = revisit_list(actor=actor).filter(pk=pk).first()
    if revisit is None:
        raise Http404
    return revisit


def revisits_due(*, actor, today: datetime.date | None = None) -> QuerySet[Revisit]:
    today = today or timezone.localdate()
    return Revisit.objects.filter(assignee=actor, status=RevisitStatus.PLANNED, due_date__lte=today)


# Segments and export requests -------------------------------------------------------------


def segment_list(*, actor) -> QuerySet[Segment]:
    return Segment.objects.filter(Q(user=actor) | Q(shared=True)).order_by("name")


def segment_get(*, actor, pk: int) -> Segment:
    segment = segment_list(actor=actor).filter(pk=pk).first()
    if segment is None:
        raise Http404
    return segment


def export_request_list(*, actor) -> QuerySet[CustomerExportRequest]:
    return scoped(
        CustomerExportRequest.objects.select_related("requester"),
        actor=actor,
        perm=CrmPerm.REQUEST_EXPORT,
        owner_field="requester",
        shared=False,
    )


def export_request_get(*, actor, pk: int) -> CustomerExportRequest:
    request = export_request_list(actor=actor).filter(pk=pk).first()
    if request is None:
        raise Http404
    return request


def approved_export(*, actor, row_count: int, query: str) -> CustomerExportRequest | None:
    """An approved, unused export request of the actor for exactly these filters, covering
    `row_count` rows (the list may have grown a little since the request)."""
    return (
        CustomerExportRequest.objects.filter(
            requester=actor, status="approved", row_count__gte=row_count, query=query[:500]
        )
        .order_by("approved_at")
        .first()
    )


# Analysis (R5.1.2) ------------------------------------------------------------------------


def customer_analysis(*, actor, start: datetime.date, end: datetime.date) -> dict:
    """Counts by stage, level, industry, region, source and products of interest; new and
    dormant customers per month; follow-ups per salesperson in the period."""
    customers = customer_list(actor)
    start_at = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time.max))

    def by(field: str) -> list[tuple[str, int]]:
        return [
            (row[field], row["n"])
            for row in customers.values(field).annotate(n=Count("pk")).order_by("-n")[:20]
        ]

    interests: Counter[str] = Counter()
    for text in (
        customers.exclude(products_of_interest="")
        .values_list("products_of_interest", flat=True)
        .iterator(chunk_size=5000)
    ):
        for item in text.replace("，", ",").replace("、", ",").split(","):
            if item.strip():
                interests[item.strip()] += 1
    new_by_month = list(
        customers.filter(created_at__gte=start_at, created_at__lte=end_at)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    dormant_by_month = list(
        customers.filter(
            stage=CustomerStage.DORMANT, updated_at__gte=start_at, updated_at__lte=end_at
        )
        .annotate(month=TruncMonth("updated_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    activity = list(
        follow_up_list(actor=actor)
        .filter(at__gte=start_at, at__lte=end_at)
        .values("user__name", "kind")
        .annotate(n=Count("pk"))
        .order_by("user__name")
    )
    return {
        "total": customers.count(),
        "stage": by("stage"),
        "level": by("level"),
        "industry": by("industry"),
        "province": by("province"),
        "source": by("source"),
        "interests": interests.most_common(15),
        "new_by_month": new_by_month,
        "dormant_by_month": dormant_by_month,
        "activity": activity,
    }


def customers_won(*, department_ids, start: datetime.date, end: datetime.date) -> dict:
    """Customers whose first deal fell in [start, end], per unit, each unit counting its
    sub-units too (the "crm.customers_won" business metric; no actor: an aggregate)."""
    from decimal import Decimal

    units = {d.pk: d.path for d in Department.objects.filter(pk__in=list(department_ids))}
    if not units:
        return {}
    start_at = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time.max))
    per_unit = (
        Customer.objects.filter(won_at__gte=start_at, won_at__lte=end_at, department__isnull=False)
        .values("department__path")
        .annotate(n=Count("pk"))
    )
    totals = dict.fromkeys(units, Decimal(0))
    for row in per_unit:
        for unit_id, path in units.items():
            if row["department__path"].startswith(path):
                totals[unit_id] += row["n"]
    return totals


def share_access_choices() -> list[tuple[str, str]]:
    return list(RecordAccess.choices)


# Search and paging helpers (bench/README.md, issue 4) ----------------------------------------


def _digit_prefix(field_name: str, digits: str) -> Q:
    """`field` starts with the digit string `digits`, as a range an index can serve."""
    following = digits[:-1] + chr(ord(digits[-1]) + 1)  # "1399" -> "139:" (":" follows "9")
    return Q(**{f"{field_name}__gte": digits, f"{field_name}__lt": following})


OWNER_CHOICES_LIMIT = 300


def owner_filter_users(*, actor) -> QuerySet:
    """People a list may filter by owner: the active employees in the actor's own employee
    scope (a salesperson: themselves; a group leader: the group; the marketing manager: the
    whole department), as a lazy queryset (the owner filter reads it only for a given
    owner)."""
    from django.contrib.auth import get_user_model

    from marketdesk.org.selectors import employee_list

    users = employee_list(actor=actor).filter(status=EmployeeStatus.ACTIVE).values("user_id")
    return get_user_model().objects.filter(pk__in=users, is_active=True).order_by("name")


def owner_choices(*, actor) -> QuerySet:
    """The first 300 of `owner_filter_users` by name: what a <select> offers (a company of
    thousands does not put them all in one); the owner filter accepts all of them."""
    return owner_filter_users(actor=actor)[:OWNER_CHOICES_LIMIT]


LIST_COUNT_CAP = 10_000  # rows a list counts at most: 200 pages of 50
LIST_PAGE_COUNT_CAP = 1_000  # rows the list page itself counts (the rest: customer_list_count)
SEARCH_COUNT_CAP = 1_000  # rows a search counts at most (a common word matches tens of thousands)


def capped_count(queryset: QuerySet, cap: int = LIST_COUNT_CAP) -> int:
    """How many rows `queryset` has, counting no further than cap + 1 (a result above `cap`
    shows as "more than 10,000"); see core.listing.capped_count."""
    return listing.capped_count(queryset, cap)


class CappedPaginator(listing.CappedPaginator):
    """The customer list's paginator (core.listing.CappedPaginator): page 1 counts up to
    1,000 rows (LIST_PAGE_COUNT_CAP), a page further on up to the page after it, never more
    than 10,000 (LIST_COUNT_CAP); past 1,000 the page says "more than 1,000" and loads the
    count up to 10,000 in a second request (views.customer_list_count)."""

    cap = LIST_COUNT_CAP
    first_cap = LIST_PAGE_COUNT_CAP


class SearchPaginator(CappedPaginator):
    """The list's paginator when a search word is given: the count stops at 1,000
    (SEARCH_COUNT_CAP), which a common word reaches after reading ~1/30 of what 10,000 need."""

    cap = SEARCH_COUNT_CAP


name_search.connect_signals()
