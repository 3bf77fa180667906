"""Forms of the customer pages. They parse input; the services check the rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from marketdesk.org.models import Department

from .models import (
    Contact,
    CrmSettings,
    Customer,
    CustomerExportRequest,
    CustomerPool,
    FollowUp,
    FollowUpKind,
    HoldingLimit,
    Revisit,
    Tag,
)

User = get_user_model()
DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


MOBILE_AS_TYPED = 20  # "+86 138-1234-5678": the service normalises it to 11 digits


def _mobile_as_typed(field: forms.CharField) -> None:
    """Take the mobile as people type it. The model field's own 11-character validator would
    refuse "138 1234 5678" before the service could normalise it, so it is replaced."""
    field.max_length = MOBILE_AS_TYPED
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.validators.append(MaxLengthValidator(MOBILE_AS_TYPED))
    field.widget.attrs.update({"inputmode": "tel", "maxlength": MOBILE_AS_TYPED})


def employees():
    return User.objects.filter(is_active=True, employee__status="active").order_by("name")


class CustomerForm(forms.ModelForm):
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.order_by("name"), required=False
    )
    confirm_duplicates = forms.BooleanField(
        label=_("I have checked the possible duplicates; save anyway"), required=False
    )

    class Meta:
        model = Customer
        fields = [
            "kind",
            "name",
            "credit_code",
            "mobile",
            "level",
            "stage",
            "industry",
            "source",
            "province",
            "city",
            "district",
            "address",
            "products_of_interest",
            "budget",
            "purchase_timing",
            "pain_points",
            "birthday",
            "member_since",
            "notes",
            "tags",
        ]
        widgets = {
            "birthday": DATE,
            "member_since": DATE,
            "pain_points": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, duplicate_warning: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not duplicate_warning:
            self.fields["confirm_duplicates"].widget = forms.HiddenInput()
        self.fields["credit_code"].widget.attrs["maxlength"] = 18
        self.fields["province"].widget.attrs["list"] = "md-provinces"
        _mobile_as_typed(self.fields["mobile"])

    @property
    def provinces(self) -> list[str]:
        from .regions import PROVINCES

        return PROVINCES

    def _post_clean(self):
        # Rules (normalising the mobile and credit code, duplicates) are the service's.
        pass


class ContactForm(forms.ModelForm):
    confirm_duplicates = forms.BooleanField(required=False, widget=forms.HiddenInput())

    class Meta:
        model = Contact
        fields = [
            "name",
            "title",
            "mobile",
            "email",
            "wechat",
            "birthday",
            "decision_role",
            "is_primary",
            "notes",
        ]
        widgets = {"birthday": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _mobile_as_typed(self.fields["mobile"])

    def _post_clean(self):
        pass


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,.pdf,.doc,.docx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class FollowUpForm(forms.ModelForm):
    files = MultipleFileField(label=_("Photos and files"), required=False)

    class Meta:
        model = FollowUp
        fields = [
            "kind",
            "at",
            "content",
            "next_at",
            "stage",
            "contacts",
            "latitude",
            "longitude",
            "check_in_address",
        ]
        widgets = {
            "at": DATETIME,
            "next_at": DATETIME,
            "content": forms.Textarea(attrs={"rows": 3}),
            "latitude": forms.HiddenInput(),
            "longitude": forms.HiddenInput(),
            "contacts": forms.CheckboxSelectMultiple(),
        }

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = customer.contacts.all()
        self.fields["at"].required = False
        self.fields["kind"].initial = FollowUpKind.PHONE
        self.fields["stage"].label = _("Stage afterwards (optional)")
        # named on the field, not as the database constraint's message
        self.fields["latitude"].validators += [MinValueValidator(-90), MaxValueValidator(90)]
        self.fields["longitude"].validators += [MinValueValidator(-180), MaxValueValidator(180)]

    def _post_clean(self):
        pass


class RevisitForm(forms.ModelForm):
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction"),
        choices=[(n, f"{n} ★") for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Revisit
        fields = ["channel", "satisfaction", "experience", "opinions", "suggestions"]
        widgets = {
            "experience": forms.Textarea(attrs={"rows": 2}),
            "opinions": forms.Textarea(attrs={"rows": 2}),
            "suggestions": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self):
        pass


class RevisitScheduleForm(forms.Form):
    due_date = forms.DateField(label=_("Due date"), widget=DATE)
    channel = forms.ChoiceField(label=_("Channel"), choices=FollowUpKind.choices)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class AssignForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())
    keep_as_member = forms.BooleanField(
        label=_("Keep the previous owner as a team member"), required=False
    )
    cascade = forms.BooleanField(
        label=_("Move the customer's open work (revisits, opportunities, orders) too"),
        required=False,
        initial=True,
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = employees()


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Colleague"), queryset=User.objects.none())
    access = forms.ChoiceField(
        label=_("Access"), choices=[("read", _("Read only")), ("write", _("Read and write"))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = employees()


class PoolForm(forms.ModelForm):
    class Meta:
        model = CustomerPool
        fields = [
            "name",
            "department",
            "provinces",
            "is_default",
            "active",
            "no_follow_up_days_a",
            "no_follow_up_days_b",
            "no_follow_up_days_c",
            "no_deal_days_a",
            "no_deal_days_b",
            "no_deal_days_c",
            "deal_exempt",
            "remind_days_before",
            "reclaim_cooldown_days",
            "daily_claim_cap",
            "members",
            "admins",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(active=True).order_by("path")
        self.fields["members"].queryset = employees()
        self.fields["admins"].queryset = employees()

    def _post_clean(self):
        pass


class LimitForm(forms.ModelForm):
    class Meta:
        model = HoldingLimit
        fields = ["user", "department", "max_owned", "max_locked"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = employees()
        self.fields["department"].queryset = Department.objects.filter(active=True).order_by("path")

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("department")):
            raise forms.ValidationError(_("Choose a person or a department, not both."))
        return data

    def _post_clean(self):
        pass


class SettingsForm(forms.ModelForm):
    class Meta:
        model = CrmSettings
        fields = [
            "duplicate_mode",
            "export_approval_rows",
            "revisit_days_a",
            "revisit_days_b",
            "revisit_days_c",
            "low_satisfaction",
            "dormant_days",
        ]


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    shared = forms.BooleanField(label=_("Share with everyone"), required=False)


class ExportRequestForm(forms.ModelForm):
    class Meta:
        model = CustomerExportRequest
        fields = ["reason"]
