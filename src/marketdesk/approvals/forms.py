"""Forms of the approval pages. They parse input; services check the rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from marketdesk.org.models import Department, Role

from .models import ApprovalFlow, ApprovalStep, GeneralRequest
from .registry import document_type_choices


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class UserChoiceForm(forms.Form):
    user = forms.ModelChoiceField(label=_("User"), queryset=get_user_model().objects.none())
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True, employee__isnull=False).order_by("name")
        )


class FlowForm(forms.ModelForm):
    class Meta:
        model = ApprovalFlow
        fields = [
            "name",
            "doc_type",
            "priority",
            "active",
            "description",
            "min_amount",
            "max_amount",
            "categories",
            "departments",
            "self_approval",
            "no_approver",
            "resubmit_from",
            "cc_users",
            "reminder_hours",
            "escalate_hours",
            "escalate_to",
        ]
        widgets = {
            "departments": forms.SelectMultiple(attrs={"size": 5}),
            "cc_users": forms.SelectMultiple(attrs={"size": 5}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doc_type"] = forms.ChoiceField(
            label=_("Document type"), choices=document_type_choices()
        )
        self.fields["departments"].queryset = Department.objects.filter(active=True).order_by(
            "path"
        )
        users = (
            get_user_model().objects.filter(is_active=True, employee__isnull=False).order_by("name")
        )
        self.fields["cc_users"].queryset = users
        self.fields["escalate_to"].queryset = users


class StepForm(forms.ModelForm):
    class Meta:
        model = ApprovalStep
        fields = [
            "name",
            "approver_kind",
            "user",
            "role",
            "levels",
            "department",
            "mode",
            "pass_ratio",
            "min_amount",
            "max_amount",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True, employee__isnull=False).order_by("name")
        )
        self.fields["role"].queryset = Role.objects.order_by("name")
        self.fields["department"].queryset = Department.objects.filter(active=True).order_by("path")


StepFormSet = forms.formset_factory(
    StepForm, extra=0, can_delete=True, min_num=1, validate_min=True
)


class PreviewForm(forms.Form):
    submitter = forms.ModelChoiceField(
        label=_("Submitted by"), queryset=get_user_model().objects.none()
    )
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    category = forms.CharField(label=_("Category"), required=False, max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submitter"].queryset = (
            get_user_model().objects.filter(is_active=True, employee__isnull=False).order_by("name")
        )


class GeneralRequestForm(forms.ModelForm):
    class Meta:
        model = GeneralRequest
        fields = ["title", "kind", "amount", "needed_by", "description"]
        widgets = {
            "needed_by": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 4}),
        }


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(label=_("Delegate"), queryset=get_user_model().objects.none())
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = (
            get_user_model().objects.filter(is_active=True, employee__isnull=False).order_by("name")
        )
        self.fields["delegate"].queryset = queryset.exclude(pk=user.pk) if user else queryset
