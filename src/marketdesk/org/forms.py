"""Forms of the organisation pages. They only parse input; services check the rules."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import (
    Company,
    DataScope,
    Department,
    DepartmentKind,
    Employee,
    EmployeeStatus,
    Position,
    Role,
)


class CompanyForm(forms.ModelForm):
    fiscal_year_start_month = forms.TypedChoiceField(
        label=_("fiscal year starts in month"),
        choices=[(month, month) for month in range(1, 13)],
        coerce=int,
    )

    class Meta:
        model = Company
        fields = [
            "name",
            "short_name",
            "credit_code",
            "fiscal_year_start_month",
            "currency",
            "default_language",
        ]

    def clean_credit_code(self):
        from marketdesk.core.validators import normalise_credit_code

        value = self.cleaned_data["credit_code"]
        return normalise_credit_code(value) if value else value


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    code = forms.CharField(label=_("Code"), max_length=30)
    kind = forms.ChoiceField(label=_("Kind"), choices=DepartmentKind.choices)
    parent = forms.ModelChoiceField(
        label=_("Parent unit"), queryset=Department.objects.none(), required=False
    )
    head = forms.ModelChoiceField(label=_("Head"), queryset=Employee.objects.none(), required=False)
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = selectors.department_choices()
        self.fields["head"].queryset = selectors.active_employee_choices()


class EmployeeForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")},
    )
    name = forms.CharField(label=_("Full name"), max_length=60)
    mobile = forms.CharField(label=_("Mobile"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    position = forms.ModelChoiceField(
        label=_("Position"), queryset=Position.objects.none(), required=False
    )
    supervisor = forms.ModelChoiceField(
        label=_("Supervisor"), queryset=Employee.objects.none(), required=False
    )
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=Role.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    gender = forms.ChoiceField(
        label=_("Gender"), required=False, choices=[("", "—"), ("M", _("Male")), ("F", _("Female"))]
    )
    hire_date = forms.DateField(
        label=_("Hire date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    id_number = forms.CharField(label=_("ID card number"), max_length=18, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Leave empty if the employee does not sign in yet; an administrator can set it later from the employee page."
        ),
    )

    def __init__(self, *args, editing: bool = False, can_assign_roles: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.department_choices()
        self.fields["position"].queryset = Position.objects.order_by("name")
        self.fields["supervisor"].queryset = selectors.active_employee_choices()
        self.fields["roles"].queryset = Role.objects.order_by("-is_system", "name")
        # Handing out roles is the role administrator's permission (services check it too).
        self.fields["roles"].disabled = not can_assign_roles
        if editing:
            self.fields["username"].disabled = True
            self.fields["username"].required = False
            del self.fields["password"]

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data.get("password")
        if password:
            validate_password(password)
        return password


class LeaveForm(forms.Form):
    left_date = forms.DateField(
        label=_("Leaving date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    successor = forms.ModelChoiceField(
        label=_("Successor (receives all records)"),
        queryset=Employee.objects.none(),
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, employee: Employee, actor, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people the actor may see can receive the records (as in the API).
        self.fields["successor"].queryset = (
            selectors.employee_list(actor=actor)
            .filter(status=EmployeeStatus.ACTIVE)
            .exclude(pk=employee.pk)
            .order_by("department__path", "user__name")
        )


class RoleForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    data_scope = forms.ChoiceField(label=_("Data scope"), choices=DataScope.choices)
    departments = forms.ModelMultipleChoiceField(
        label=_("Chosen departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    permissions = forms.ModelMultipleChoiceField(
        label=_("Permissions"),
        queryset=Role.permissions.field.related_model.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = selectors.department_choices()
        self.fields["permissions"].queryset = selectors.grantable_permissions()
        for app_label, label in selectors.scoped_modules():
            self.fields[f"scope__{app_label}"] = forms.ChoiceField(
                label=label,
                choices=[("", _("Same as the role's data scope"))] + list(DataScope.choices),
                required=False,
            )
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].required = False

    def module_scope_fields(self):
        return [self[name] for name in self.fields if name.startswith("scope__")]

    def pop_app_scopes(self, data: dict) -> dict:
        """Take the per-module scope fields out of cleaned data as {app_label: scope}."""
        return {
            name.removeprefix("scope__"): data.pop(name)
            for name in list(data)
            if name.startswith("scope__")
        }


class PositionForm(forms.ModelForm):
    class Meta:
        model = Position
        fields = ["name", "description"]


LANGUAGE_CHOICES = settings.LANGUAGES
