"""Forms of the finance pages. They parse input; the services check the rules."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.org.models import Department

from .models import (
    AdjustmentKind,
    BudgetLine,
    ControlMode,
    ExpenseCategory,
    ExpenseRequest,
    PayMethod,
    PeriodKind,
    VoucherKind,
)

MONEY = {"max_digits": 14, "decimal_places": 2}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LineChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, line: BudgetLine) -> str:
        available = getattr(line, "available_amount", None)
        available = line.available if available is None else available
        return f"{line} · {_('available')} ¥{available:,.2f}"


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, category: ExpenseCategory) -> str:
        return str(category)


class BudgetForm(forms.Form):
    fiscal_year = forms.IntegerField(label=_("Fiscal year"), min_value=2000, max_value=2100)
    department = forms.ModelChoiceField(
        label=_("Unit"), queryset=Department.objects.filter(active=True).order_by("path")
    )
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    period_kind = forms.ChoiceField(
        label=_("Periods"), choices=PeriodKind.choices, initial=PeriodKind.QUARTER
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class BudgetEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    period_kind = forms.ChoiceField(label=_("Periods"), choices=PeriodKind.choices)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class BudgetCategoryForm(forms.Form):
    """One grid row: a category's amount in every period."""

    category = CategoryChoiceField(
        label=_("Category"), queryset=ExpenseCategory.objects.filter(active=True)
    )
    mode = forms.ChoiceField(label=_("Control"), choices=ControlMode.choices)

    def __init__(self, *args, periods: int = 4, period_kind: str = PeriodKind.QUARTER, **kwargs):
        super().__init__(*args, **kwargs)
        self.periods = periods
        for number in range(1, periods + 1):
            label = f"Q{number}" if period_kind == PeriodKind.QUARTER else f"{number:02d}"
            self.fields[f"p{number}"] = forms.DecimalField(
                label=label, min_value=Decimal("0"), initial=Decimal("0"), **MONEY
            )

    def amounts(self) -> list[Decimal]:
        return [self.cleaned_data[f"p{number}"] for number in range(1, self.periods + 1)]


class CopyForm(forms.Form):
    fiscal_year = forms.IntegerField(label=_("For fiscal year"), min_value=2000, max_value=2100)
    percent = forms.DecimalField(
        label=_("Change every amount by (%)"),
        initial=Decimal("0"),
        max_digits=6,
        decimal_places=2,
        help_text=_("e.g. 5 for 5 % more, -10 for 10 % less"),
    )


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AdjustmentKind.choices)
    line = LineChoiceField(label=_("Line that gets the money"), queryset=BudgetLine.objects.none())
    from_line = LineChoiceField(
        label=_("Line the money comes from (transfers)"),
        queryset=BudgetLine.objects.none(),
        required=False,
    )
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=Decimal("0.01"), **MONEY)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines
        self.fields["from_line"].queryset = lines


class ExpenseRequestForm(forms.Form):
    title = forms.CharField(label=_("Purpose"), max_length=200)
    line = LineChoiceField(label=_("Budget line"), queryset=BudgetLine.objects.none())
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=Decimal("0.01"), **MONEY)
    expected_on = forms.DateField(label=_("Expected on"), required=False, widget=DATE)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines


class ClaimForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    expense_request = forms.ModelChoiceField(
        label=_("Expense request (事前申请)"),
        queryset=ExpenseRequest.objects.none(),
        required=False,
        help_text=_("Needed for claims above the threshold."),
    )

    def __init__(self, *args, requests=None, **kwargs):
        super().__init__(*args, **kwargs)
        if requests is not None:
            self.fields["expense_request"].queryset = requests


class ClaimLineForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    spent_on = forms.DateField(label=_("Date"), widget=DATE)
    category = CategoryChoiceField(
        label=_("Category"), queryset=ExpenseCategory.objects.filter(active=True)
    )
    budget_line = LineChoiceField(label=_("Budget line"), queryset=BudgetLine.objects.none())
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=Decimal("0.01"), **MONEY)
    description = forms.CharField(label=_("Description"), max_length=300)

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        if lines is not None:
            self.fields["budget_line"].queryset = lines


class BaseClaimLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, lines=None, **kwargs):
        self.lines = lines
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"lines": self.lines}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            lines=self.lines,
        )
        self.add_fields(form, None)
        return form


ClaimLineFormSet = forms.formset_factory(
    ClaimLineForm,
    formset=BaseClaimLineFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    can_delete=True,
)


class VoucherForm(forms.Form):
    line = forms.ModelChoiceField(label=_("Claim line"), queryset=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=VoucherKind.choices)
    code = forms.CharField(label=_("Invoice code"), max_length=20, required=False)
    number = forms.CharField(label=_("Number"), max_length=40)
    issued_on = forms.DateField(label=_("Date"), required=False, widget=DATE)
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), min_value=Decimal("0"), initial=Decimal("0"), **MONEY
    )
    tax = forms.DecimalField(label=_("Tax"), min_value=Decimal("0"), initial=Decimal("0"), **MONEY)
    file = forms.FileField(label=_("Scan"), required=False)

    def __init__(self, *args, claim=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = claim.lines.select_related("category").order_by("pk")
        self.fields["line"].empty_label = None  # the first line is chosen unless told otherwise
        self.fields["line"].label_from_instance = lambda line: (
            f"{line.spent_on} {line.category.name} ¥{line.amount:,.2f}"
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Review note (needed when an amount is reduced)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.DecimalField(
                label=f"{line.spent_on} {line.category.name}",
                min_value=Decimal("0"),
                initial=line.amount,
                **MONEY,
            )

    def approved(self) -> dict[int, Decimal]:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] for line in self.lines}


class PostForm(forms.Form):
    voucher_no = forms.CharField(label=_("Accounting voucher no."), max_length=40)
    posted_on = forms.DateField(label=_("Posting date"), widget=DATE, initial=timezone.localdate)
    account = forms.CharField(label=_("Account"), max_length=40, required=False)


class PayForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE, initial=timezone.localdate)
    method = forms.ChoiceField(label=_("Payment method"), choices=PayMethod.choices)


class PeriodForm(forms.Form):
    """The accounting page's date range (defaults: this month)."""

    start = forms.DateField(label=_("From"), widget=DATE, required=False)
    end = forms.DateField(label=_("To"), widget=DATE, required=False)

    def range(self) -> tuple[datetime.date, datetime.date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        start = data.get("start") or today.replace(day=1)
        end = data.get("end") or today
        return (start, end) if start <= end else (end, start)
