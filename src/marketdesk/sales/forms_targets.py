"""Forms and filters of the targets pages. They parse input; the services check the rules."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from marketdesk.org.models import Department

from .models import (
    MONTH_FIELDS,
    CustomerAccount,
    RfmSegment,
    SalesTarget,
    TargetMetric,
    TargetSubject,
)

MONEY = {"max_digits": 14, "decimal_places": 2}
MONTH_LABELS = [
    _("January"),
    _("February"),
    _("March"),
    _("April"),
    _("May"),
    _("June"),
    _("July"),
    _("August"),
    _("September"),
    _("October"),
    _("November"),
    _("December"),
]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        unit = getattr(getattr(user, "employee", None), "department", None)
        return f"{user.name} · {unit}" if unit else user.name


class TargetForm(forms.Form):
    """A target: whose and which figure (new targets only), the year total and 12 months."""

    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    metric = forms.ChoiceField(label=_("Metric"), choices=TargetMetric.choices)
    subject = forms.ChoiceField(label=_("For"), choices=TargetSubject.choices)
    department = forms.ModelChoiceField(
        label=_("Unit"), queryset=Department.objects.none(), required=False
    )
    user = PersonChoiceField(
        label=_("Person"), queryset=get_user_model().objects.none(), required=False
    )
    annual = forms.DecimalField(
        label=_("Year total (CNY)"),
        min_value=Decimal("0"),
        required=False,
        help_text=_("Must equal the sum of the months. Enter it and split it, or fill the months."),
        **MONEY,
    )

    def __init__(self, *args, units=None, people=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["department"].queryset = units
        if people is not None:
            self.fields["user"].queryset = people.select_related("employee__department")
        for name, label in zip(MONTH_FIELDS, MONTH_LABELS, strict=True):
            self.fields[name] = forms.DecimalField(
                label=label, min_value=Decimal("0"), initial=Decimal("0"), **MONEY
            )
            self.fields[name].widget.attrs.update({"step": "0.01", "data-month": name})
        self.fields["annual"].widget.attrs.update({"step": "0.01"})
        self.editing = editing
        if editing:
            for name in ("year", "metric", "subject", "department", "user"):
                self.fields[name].disabled = True
                self.fields[name].required = False

    @property
    def month_fields(self):
        return [self[name] for name in MONTH_FIELDS]

    @property
    def head_fields(self):
        return [self[name] for name in ("year", "metric", "subject", "department", "user")]

    def months(self) -> list[Decimal]:
        return [self.cleaned_data.get(name) or Decimal("0") for name in MONTH_FIELDS]


class SplitForm(forms.Form):
    """The year total alone, when the user asks to split it into months."""

    annual = forms.DecimalField(label=_("Year total (CNY)"), min_value=Decimal("0"), **MONEY)


class CopyForm(forms.Form):
    year = forms.IntegerField(label=_("Copy into year"), min_value=2001, max_value=2100)
    percent = forms.DecimalField(
        label=_("Change every amount by (%)"),
        initial=Decimal("0"),
        max_digits=6,
        decimal_places=2,
        help_text=_("e.g. 10 for 10 % more than last year, -5 for 5 % less"),
    )
    metric = forms.ChoiceField(
        label=_("Metric"),
        choices=[("", _("Both"))] + list(TargetMetric.choices),
        required=False,
    )


class TargetFilter(django_filters.FilterSet):
    """The filter bar of the target list, and the API's query parameters."""

    year = django_filters.NumberFilter(label=_("Year"))
    metric = django_filters.ChoiceFilter(label=_("Metric"), choices=TargetMetric.choices)
    subject = django_filters.ChoiceFilter(label=_("For"), choices=TargetSubject.choices)

    class Meta:
        model = SalesTarget
        fields = ["year", "metric", "subject"]


class RfmFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(
        label=_("Segment"), field_name="rfm_segment", choices=RfmSegment.choices
    )
    recency = django_filters.NumberFilter(label=_("R"))
    frequency = django_filters.NumberFilter(label=_("F"))
    monetary = django_filters.NumberFilter(label=_("M"))

    class Meta:
        model = CustomerAccount
        fields: list[str] = []
