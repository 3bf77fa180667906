"""Forms and filter sets of the receipts pages (the API uses the same filter sets). Forms parse
input; the services check the rules."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.crm.models import Customer
from marketdesk.org.models import Department

from .models import ChannelTier, PayMethod, Receipt, ReceiptPlan, ReceiptStatus

MONEY = {"max_digits": 14, "decimal_places": 2}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _units():
    return Department.objects.filter(active=True).order_by("path")


class PlanChoiceField(forms.ModelChoiceField):
    """Instalments with what is still open on each (`rooms`: plan id -> amount)."""

    rooms: dict = {}

    def label_from_instance(self, plan: ReceiptPlan) -> str:
        room = self.rooms.get(plan.pk, plan.outstanding)
        return _("Instalment %(number)s · due %(date)s · open ¥%(room)s") % {
            "number": plan.instalment,
            "date": plan.due_date,
            "room": f"{room:,.2f}",
        }


class ReceiptForm(forms.Form):
    plan = PlanChoiceField(
        label=_("Instalment"),
        queryset=ReceiptPlan.objects.none(),
        required=False,
        empty_label=_("(not in the plan)"),
    )
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=Decimal("0.01"), **MONEY)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    method = forms.ChoiceField(label=_("Method"), choices=PayMethod.choices)
    reference = forms.CharField(
        label=_("Bank or payment reference"),
        max_length=80,
        required=False,
        help_text=_("The bank's transaction number, the cheque number or the payment order no."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, plans=None, **kwargs):
        super().__init__(*args, **kwargs)
        plans = list(plans or [])
        open_ids = [plan.pk for plan in plans if plan.room > 0]
        self.fields["plan"].queryset = ReceiptPlan.objects.filter(pk__in=open_ids).order_by(
            "instalment"
        )
        self.fields["plan"].rooms = {plan.pk: plan.room for plan in plans}
        if not self.is_bound:
            self.initial.setdefault("received_on", timezone.localdate())
            first = next((plan for plan in plans if plan.room > 0), None)
            if first is not None:
                self.initial.setdefault("plan", first.pk)
                self.initial.setdefault("amount", first.room)
                self.initial.setdefault("method", first.method)


class PlanForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    instalment = forms.IntegerField(
        label=_("Instalment no."), min_value=1, max_value=999, required=False
    )
    due_date = forms.DateField(label=_("Due date"), widget=DATE)
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=Decimal("0.01"), **MONEY)
    method = forms.ChoiceField(label=_("Method"), choices=PayMethod.choices, initial=PayMethod.BANK)
    notes = forms.CharField(label=_("Notes"), max_length=200, required=False)


PlanFormSet = forms.formset_factory(PlanForm, extra=1, can_delete=True, max_num=60)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class CreditForm(forms.Form):
    credit_limit = forms.DecimalField(
        label=_("Credit limit (CNY)"),
        min_value=Decimal("0"),
        required=False,
        help_text=_("Open receivables plus a new order may not pass it. Empty: no limit."),
        **MONEY,
    )
    channel_tier = forms.ChoiceField(label=_("Channel tier"), choices=ChannelTier.choices)


# Filters ------------------------------------------------------------------------------------------


class InDepartmentMixin:
    def in_department(self, queryset, name, value):
        """A unit includes its sub-units."""
        return queryset.filter(department__path__startswith=value.path) if value else queryset


class ReceiptFilter(InDepartmentMixin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReceiptStatus.choices)
    method = django_filters.ChoiceFilter(label=_("Method"), choices=PayMethod.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=_units(), method="in_department"
    )
    received_from = django_filters.DateFilter(
        label=_("Received on or after"),
        field_name="received_on",
        lookup_expr="gte",
        widget=DATE,
    )
    received_to = django_filters.DateFilter(
        label=_("Received on or before"),
        field_name="received_on",
        lookup_expr="lte",
        widget=DATE,
    )
    order = django_filters.NumberFilter(label=_("Order"), field_name="order_id")

    class Meta:
        model = Receipt
        fields = ["status", "method", "department", "received_from", "received_to", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["order"].widget = forms.HiddenInput()


class PlanFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(label=_("Order"), field_name="order_id")
    due_from = django_filters.DateFilter(
        label=_("Due on or after"), field_name="due_date", lookup_expr="gte"
    )
    due_to = django_filters.DateFilter(
        label=_("Due on or before"), field_name="due_date", lookup_expr="lte"
    )

    class Meta:
        model = ReceiptPlan
        fields = ["order", "due_from", "due_to"]


CREDIT_STATES = [
    ("limited", _("With a limit")),
    ("over", _("Over the limit")),
    ("open", _("With open receivables")),
]


class CreditFilter(InDepartmentMixin, django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("Show"), choices=CREDIT_STATES, method="in_state")
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=_units(), method="in_department"
    )

    class Meta:
        model = Customer
        fields = ["state", "department"]

    def in_state(self, queryset, name, value):
        if value == "limited":
            return queryset.filter(credit_limit__isnull=False)
        if value == "over":
            return queryset.filter(credit_limit__isnull=False, available__lt=0)
        if value == "open":
            return queryset.filter(open_receivables__gt=0)
        return queryset


AGING_BY = [
    ("customer", _("Customer")),
    ("owner", _("Salesperson")),
    ("department", _("Group")),
    ("instalment", _("Instalment")),
]


class AgingForm(forms.Form):
    """The aging report's controls (GET)."""

    by = forms.ChoiceField(label=_("Group by"), choices=AGING_BY, required=False)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    owner = forms.ModelChoiceField(
        label=_("Salesperson"), queryset=get_user_model().objects.none(), required=False
    )
    q = forms.CharField(label=_("Customer or order no."), max_length=100, required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("My orders only"), required=False)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _units()
        if owners is not None:
            self.fields["owner"].queryset = owners

    def values(self) -> dict:
        """Valid input, or the defaults (an invalid choice is ignored, as on a list page)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "by": data.get("by") or "customer",
            "department": data.get("department"),
            "owner": data.get("owner"),
            "q": data.get("q", ""),
            "overdue": bool(data.get("overdue")),
            "mine": bool(data.get("mine")),
        }
