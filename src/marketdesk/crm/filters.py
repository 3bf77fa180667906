"""Filter sets shared by the customer pages and the API (same filters in both)."""

from __future__ import annotations

import datetime

import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.org.models import Department

from .models import (
    Customer,
    CustomerKind,
    CustomerLevel,
    CustomerPool,
    CustomerSource,
    CustomerStage,
    FollowUp,
    FollowUpKind,
    Industry,
    Revisit,
    RevisitStatus,
    Tag,
)

User = get_user_model()


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class CustomerFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=CustomerStage.choices)
    level = django_filters.ChoiceFilter(label=_("Level"), choices=CustomerLevel.choices)
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=User.objects.filter(is_active=True, employee__isnull=False).order_by("name"),
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"),
        queryset=Department.objects.filter(active=True, kind__in=["group", "department"]).order_by(
            "path"
        ),
        method="in_department",
    )
    industry = django_filters.ChoiceFilter(label=_("Industry"), choices=Industry.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=CustomerSource.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=CustomerKind.choices)
    province = django_filters.CharFilter(label=_("Province"), lookup_expr="exact")
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), queryset=Tag.objects.order_by("name"), field_name="tags"
    )
    due = django_filters.ChoiceFilter(
        label=_("Next follow-up"),
        choices=[("today", _("Due today")), ("overdue", _("Overdue")), ("week", _("This week"))],
        method="by_due",
    )
    contacted_before = django_filters.DateFilter(
        label=_("Last contact before"), field_name="last_contact_at", method="before_day"
    )
    locked = django_filters.BooleanFilter(label=_("Locked"))

    def __init__(self, *args, request=None, **kwargs):
        """The owner may be anyone of `selectors.owner_filter_users` (not only the 300 the
        filter bar's <select> offers): one query, and only when an owner is given."""
        super().__init__(*args, request=request, **kwargs)
        if request is not None and request.user.is_authenticated:
            from .selectors import owner_filter_users

            self.filters["owner"].queryset = owner_filter_users(actor=request.user)

    class Meta:
        model = Customer
        fields = [
            "stage",
            "level",
            "owner",
            "department",
            "industry",
            "source",
            "kind",
            "province",
            "tag",
            "due",
            "contacted_before",
            "locked",
        ]

    def in_department(self, queryset, name, value):
        return queryset.filter(department__path__startswith=value.path) if value else queryset

    def by_due(self, queryset, name, value):
        start = _day_start(timezone.localdate())
        if value == "today":
            return queryset.filter(
                next_contact_at__gte=start, next_contact_at__lt=start + datetime.timedelta(days=1)
            )
        if value == "overdue":
            return queryset.filter(next_contact_at__lt=start)
        if value == "week":
            return queryset.filter(
                next_contact_at__gte=start, next_contact_at__lt=start + datetime.timedelta(days=7)
            )
        return queryset

    def before_day(self, queryset, name, value):
        return queryset.filter(last_contact_at__lt=_day_start(value)) if value else queryset


class PoolCustomerFilter(django_filters.FilterSet):
    pool = django_filters.ModelChoiceFilter(
        label=_("Pool"), queryset=CustomerPool.objects.filter(active=True)
    )
    level = django_filters.ChoiceFilter(label=_("Level"), choices=CustomerLevel.choices)
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=CustomerStage.choices)
    industry = django_filters.ChoiceFilter(label=_("Industry"), choices=Industry.choices)
    province = django_filters.CharFilter(label=_("Province"))

    class Meta:
        model = Customer
        fields = ["pool", "level", "stage", "industry", "province"]


class FollowUpFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=FollowUpKind.choices)
    user = django_filters.ModelChoiceFilter(
        label=_("By"),
        queryset=User.objects.filter(is_active=True, employee__isnull=False).order_by("name"),
    )
    since = django_filters.DateFilter(label=_("From"), method="from_day")
    until = django_filters.DateFilter(label=_("To"), method="to_day")
    mine = django_filters.BooleanFilter(label=_("Mine only"), method="only_mine")
    today = django_filters.BooleanFilter(label=_("Today"), method="only_today")

    class Meta:
        model = FollowUp
        fields = ["kind", "user", "since", "until"]

    def from_day(self, queryset, name, value):
        return queryset.filter(at__gte=_day_start(value)) if value else queryset

    def to_day(self, queryset, name, value):
        return (
            queryset.filter(at__lt=_day_start(value) + datetime.timedelta(days=1))
            if value
            else queryset
        )

    def only_mine(self, queryset, name, value):
        return queryset.filter(user=self.request.user) if value and self.request else queryset

    def only_today(self, queryset, name, value):
        if not value:
            return queryset
        start = _day_start(timezone.localdate())
        return queryset.filter(at__gte=start, at__lt=start + datetime.timedelta(days=1))


class RevisitFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RevisitStatus.choices)
    satisfaction = django_filters.NumberFilter(label=_("Satisfaction at most"), lookup_expr="lte")
    mine = django_filters.BooleanFilter(label=_("Mine only"), method="only_mine")
    due = django_filters.BooleanFilter(label=_("Due now"), method="only_due")

    class Meta:
        model = Revisit
        fields = ["status", "satisfaction"]

    def only_mine(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value and self.request else queryset

    def only_due(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status=RevisitStatus.PLANNED, due_date__lte=timezone.localdate())
