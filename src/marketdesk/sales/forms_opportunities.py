"""Forms and the list filter of the opportunity pages (the API uses the same FilterSet). Forms
parse input; the services check the rules."""

from __future__ import annotations

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from marketdesk.crm import selectors as crm_selectors
from marketdesk.crm.models import Contact, Customer
from marketdesk.org.models import Department

from . import selectors_opportunities as selectors
from .models import (
    Competitor,
    Opportunity,
    OpportunityStatus,
    Stage,
    StageGroup,
)

MONEY = {"max_digits": 14, "decimal_places": 2}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CUSTOMER_OPTIONS = 200  # customers offered in the select before searching


def customer_label(customer: Customer) -> str:
    return f"{customer.name} ({customer.number})"


def customer_options(queryset, selected: Customer | None = None) -> list[tuple]:
    rows = list(queryset[:CUSTOMER_OPTIONS])
    if selected is not None and all(row.pk != selected.pk for row in rows):
        rows.insert(0, selected)
    return [("", "---------")] + [(row.pk, customer_label(row)) for row in rows]


def owner_queryset(actor, also: list[int] | None = None):
    """People the actor may pick as an owner or filter by: their employee scope (crm's list of
    owners, at most 300), as a plain queryset a choice field can look a value up in."""
    ids = [user.pk for user in crm_selectors.owner_choices(actor=actor)] + (also or [])
    return get_user_model().objects.filter(pk__in=ids).order_by("name")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return user.name or user.username


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, stage: Stage) -> str:
        return f"{stage.name} · {stage.win_percent}%"


class OpportunityForm(forms.Form):
    """New or changed opportunity. The customer select offers the first customers by name and
    a search box reloads it; any customer the actor may use is accepted."""

    name = forms.CharField(label=_("Name"), max_length=120)
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )
    owner = UserChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())
    stage = StageChoiceField(label=_("Stage"), queryset=Stage.objects.none(), required=False)
    expected_amount = forms.DecimalField(
        label=_("Expected amount (CNY)"), min_value=Decimal("0"), initial=Decimal("0"), **MONEY
    )
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=DATE
    )
    competitors = forms.ModelMultipleChoiceField(
        label=_("Competitors"),
        queryset=Competitor.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Hold Ctrl (or ⌘) to choose several."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, actor, opportunity: Opportunity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        customers = selectors.customer_choices(actor=actor)
        field = self.fields["customer"]
        field.queryset = customers
        selected = self._selected_customer(customers, opportunity)
        field.widget.choices = customer_options(customers, selected)
        self.fields["contact"].queryset = selectors.contact_choices(customer=selected)
        self.fields["owner"].queryset = owner_queryset(
            actor, also=[actor.pk] + ([opportunity.owner_id] if opportunity else [])
        )
        group = opportunity.stage_group if opportunity else selectors.stage_group_for_user(actor)
        self.stage_group = group
        self.fields["stage"].queryset = (
            Stage.objects.filter(group=group).order_by("sort_order")
            if group
            else Stage.objects.none()
        )
        if opportunity is not None:
            self.fields["stage"].required = True
        else:
            self.fields["stage"].help_text = _("Empty: the first stage.")
        kept = list(opportunity.competitors.values_list("pk", flat=True)) if opportunity else []
        self.fields["competitors"].queryset = Competitor.objects.filter(
            Q(active=True) | Q(pk__in=kept)
        ).order_by("name")

    def _selected_customer(self, customers, opportunity) -> Customer | None:
        raw = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if isinstance(raw, Customer):
            return raw
        if raw not in (None, "") and str(raw).isdigit():
            found = customers.filter(pk=int(raw)).first()
            if found is not None:
                return found
        return opportunity.customer if opportunity else None

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["competitors"] = list(data.get("competitors") or [])
        data["notes"] = data.get("notes") or ""
        return data


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("Move to"), queryset=Stage.objects.none())

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        # Any stage id is accepted here; the service says when it is not one of the group's.
        self.fields["stage"].queryset = Stage.objects.all()
        self.fields["stage"].error_messages["invalid_choice"] = _("Choose one of the stages.")
        self.opportunity = opportunity


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LoseForm(ReasonForm):
    competitor = forms.ModelChoiceField(
        label=_("Lost to"),
        queryset=Competitor.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label=_("(no competitor / unknown)"),
    )


class RivalForm(forms.Form):
    competitor = forms.ModelChoiceField(
        label=_("Competitor"), queryset=Competitor.objects.filter(active=True).order_by("name")
    )
    their_price = forms.DecimalField(
        label=_("Their price (CNY)"), required=False, min_value=Decimal("0"), **MONEY
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=200)


class StageGroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    department = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=Department.objects.filter(active=True).order_by("path"),
        required=False,
        empty_label=_("(company default)"),
        help_text=_("Its opportunities and those of the units below it use this group."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class StageForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Stage"), max_length=40)
    win_percent = forms.IntegerField(label=_("Win %"), min_value=0, max_value=100)
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=10000)


StageFormSet = forms.formset_factory(StageForm, extra=1, can_delete=True)


class CompetitorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    strengths = forms.CharField(
        label=_("Strengths"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    weaknesses = forms.CharField(
        label=_("Weaknesses"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


# Filters ------------------------------------------------------------------------------------------

SCENES = [("mine", _("Mine")), ("team", _("My team"))]


def _month_range(value: str) -> tuple[datetime.date, datetime.date] | None:
    try:
        year, month = (int(part) for part in value.split("-", 1))
        first = datetime.date(year, month, 1)
    except (TypeError, ValueError):
        return None
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month"})

    def clean(self, value):
        value = super().clean(value)
        if value and _month_range(value) is None:
            raise forms.ValidationError(_("Give a month as YYYY-MM."))
        return value


class MonthFilter(django_filters.CharFilter):
    field_class = MonthField


class OpportunityFilter(django_filters.FilterSet):
    scene = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ChoiceFilter(label=_("Show"), choices=SCENES, method="in_scene")
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OpportunityStatus.choices)
    stage_group = django_filters.ModelChoiceFilter(
        label=_("Stage group"), queryset=StageGroup.objects.order_by("name")
    )
    stage = django_filters.ModelChoiceFilter(
        label=_("Stage"), queryset=Stage.objects.select_related("group")
    )
    owner = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(label=_("Owner"), queryset=get_user_model().objects.none())
    )
    department = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            label=_("Unit"),
            queryset=Department.objects.filter(active=True).order_by("path"),
            method="in_department",
        )
    )
    competitor = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            label=_("Competitor"),
            queryset=Competitor.objects.order_by("name"),
            method="with_competitor",
        )
    )
    close_month = extend_schema_field(OpenApiTypes.STR)(
        MonthFilter(label=_("Close month"), method="in_month")
    )
    customer = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(label=_("Customer"), field_name="customer_id")
    )

    class Meta:
        model = Opportunity
        fields = [
            "scene",
            "status",
            "stage_group",
            "stage",
            "owner",
            "department",
            "competitor",
            "close_month",
            "customer",
        ]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self.filters["owner"].queryset = owner_queryset(user)

    def in_scene(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value == "mine" and user is not None:
            return queryset.filter(owner=user)
        return queryset

    def in_department(self, queryset, name, value):
        return queryset.filter(department__path__startswith=value.path) if value else queryset

    def with_competitor(self, queryset, name, value):
        return queryset.filter(rivals__competitor=value).distinct() if value else queryset

    def in_month(self, queryset, name, value):
        bounds = _month_range(value) if value else None
        if bounds is None:
            return queryset
        return queryset.filter(expected_close_date__range=bounds)


class BoardFilterForm(forms.Form):
    """The board's choices: which stage group, whose cards, which close month, open or closed."""

    group = forms.ModelChoiceField(
        label=_("Stage group"), queryset=StageGroup.objects.none(), required=False
    )
    scene = forms.ChoiceField(
        label=_("Show"), choices=[("", _("All I may see")), *SCENES], required=False
    )
    owner = UserChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    month = MonthField(label=_("Close month"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Open")), ("all", _("All")), *OpportunityStatus.choices[1:]],
        required=False,
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["group"].queryset = selectors.stage_group_list()
        self.fields["owner"].queryset = owner_queryset(actor)

    def chosen_group(self) -> StageGroup | None:
        chosen = self.cleaned_data.get("group") if self.is_valid() else None
        return (
            chosen
            or selectors.stage_group_for_user(self.actor)
            or (selectors.stage_group_list().first())
        )

    def apply(self, queryset):
        if not self.is_valid():
            return queryset.filter(status=OpportunityStatus.OPEN)
        data = self.cleaned_data
        if data.get("scene") == "mine":
            queryset = queryset.filter(owner=self.actor)
        if data.get("owner"):
            queryset = queryset.filter(owner=data["owner"])
        if data.get("month"):
            queryset = queryset.filter(expected_close_date__range=_month_range(data["month"]))
        status = data.get("status") or OpportunityStatus.OPEN
        if status != "all":
            queryset = queryset.filter(status=status)
        return queryset


def this_month() -> str:
    return f"{timezone.localdate():%Y-%m}"
