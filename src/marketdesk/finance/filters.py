"""Filter sets shared by the finance list pages and the API (same filters in both)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from marketdesk.org.models import Department

from .models import (
    AdjustmentKind,
    Budget,
    BudgetAdjustment,
    BudgetLine,
    ClaimStatus,
    ControlMode,
    DocStatus,
    ExpenseCategory,
    ExpenseClaim,
    ExpenseRequest,
    Family,
)


def _units():
    return Department.objects.filter(active=True).order_by("path")


class InDepartmentMixin:
    def in_department(self, queryset, name, value):
        """A unit includes its sub-units."""
        return queryset.filter(department__path__startswith=value.path) if value else queryset


class ClaimFilter(InDepartmentMixin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ClaimStatus.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=_units(), method="in_department"
    )
    category = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            label=_("Category"),
            queryset=ExpenseCategory.objects.order_by("family", "sort_order"),
            method="with_category",
        )
    )
    submitted_from = django_filters.DateFilter(
        label=_("Submitted on or after"), field_name="submitted_at", lookup_expr="date__gte"
    )
    submitted_to = django_filters.DateFilter(
        label=_("Submitted on or before"), field_name="submitted_at", lookup_expr="date__lte"
    )

    class Meta:
        model = ExpenseClaim
        fields = ["status", "department", "category", "submitted_from", "submitted_to"]

    def with_category(self, queryset, name, value):
        if not value:
            return queryset
        ids = [value.pk, *value.children.values_list("pk", flat=True)]
        return queryset.filter(lines__category__in=ids).distinct()


class BudgetFilter(InDepartmentMixin, django_filters.FilterSet):
    fiscal_year = django_filters.NumberFilter(label=_("Fiscal year"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DocStatus.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("Unit"), queryset=_units(), method="in_department"
    )

    class Meta:
        model = Budget
        fields = ["fiscal_year", "status", "department"]


class LineFilter(django_filters.FilterSet):
    fiscal_year = django_filters.NumberFilter(
        label=_("Fiscal year"), field_name="budget__fiscal_year"
    )
    family = django_filters.ChoiceFilter(
        label=_("Family"), choices=Family.choices, field_name="category__family"
    )
    mode = django_filters.ChoiceFilter(label=_("Control"), choices=ControlMode.choices)
    alert = django_filters.BooleanFilter(label=_("Near or over budget"), method="alerted")

    class Meta:
        model = BudgetLine
        fields = ["fiscal_year", "family", "mode", "alert"]

    def alerted(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(alert_level__gte=1) if value else queryset.filter(alert_level=0)


class ExpenseRequestFilter(InDepartmentMixin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DocStatus.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=_units(), method="in_department"
    )

    class Meta:
        model = ExpenseRequest
        fields = ["status", "department"]


class AdjustmentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=AdjustmentKind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DocStatus.choices)

    class Meta:
        model = BudgetAdjustment
        fields = ["kind", "status"]
