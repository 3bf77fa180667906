"""Filter sets shared by the list pages and the API (same filters in both)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import DataScope, Department, Employee, EmployeeStatus, Position, Role


class EmployeeFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        label=_("Department"),
        queryset=Department.objects.filter(active=True).order_by("path"),
        method="in_department",
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=EmployeeStatus.choices)
    role = django_filters.ModelChoiceFilter(
        label=_("Role"), queryset=Role.objects.order_by("name"), field_name="roles"
    )
    position = django_filters.ModelChoiceFilter(
        label=_("Position"), queryset=Position.objects.order_by("name")
    )
    hired_after = django_filters.DateFilter(
        label=_("Hired on or after"), field_name="hire_date", lookup_expr="gte"
    )

    class Meta:
        model = Employee
        fields = ["department", "status", "role", "position", "hired_after"]

    def in_department(self, queryset, name, value):
        """A unit includes its sub-units (销售一组 is part of 营销部)."""
        return queryset.filter(department__path__startswith=value.path) if value else queryset


class DepartmentFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter(label=_("Kind"))
    parent = django_filters.NumberFilter(label=_("Parent unit"))
    active = django_filters.BooleanFilter(label=_("In use"))

    class Meta:
        model = Department
        fields = ["kind", "parent", "active"]


class RoleFilter(django_filters.FilterSet):
    data_scope = django_filters.ChoiceFilter(label=_("Data scope"), choices=DataScope.choices)

    class Meta:
        model = Role
        fields = ["data_scope", "is_system"]
