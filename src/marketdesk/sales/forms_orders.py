"""Forms and filter sets of the order pages (the filter sets also serve the API). Forms parse
input; the services check the rules and name the line that is wrong."""

from __future__ import annotations

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.crm.models import Contact, Customer
from marketdesk.org.models import Department

from .models import (
    CoordinationTask,
    Delivery,
    DeliveryStatus,
    OrderStatus,
    PaymentTerms,
    Product,
    SalesOrder,
    TaskKind,
    TaskStatus,
)
from .selectors_orders import OPEN_TASK, UNDELIVERED

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
QTY = {"max_digits": 12, "decimal_places": 2}
CUSTOMER_CHOICES_LIMIT = 300


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, customer: Customer) -> str:
        return f"{customer.name} · {customer.number}"


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, product: Product) -> str:
        return f"{product.code} {product.name}"


class OrderForm(forms.Form):
    customer = CustomerChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        required=False,
        help_text=_("e.g. the project or the contract name"),
    )
    order_date = forms.DateField(label=_("Order date"), widget=DATE)
    promised_date = forms.DateField(label=_("Promised delivery date"), widget=DATE)
    payment_terms = forms.ChoiceField(
        label=_("Payment terms"), choices=PaymentTerms.choices, initial=PaymentTerms.NET30
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, customers=None, own_customers=None, **kwargs):
        """customers: every customer the actor may see (what is accepted); own_customers: the
        shorter list offered in the picker (the search box finds the others)."""
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        field.queryset = customers if customers is not None else Customer.objects.none()
        chosen = self.data.get("customer") or self.initial.get("customer")
        chosen_id = getattr(chosen, "pk", chosen)
        offered = list((own_customers or field.queryset)[:CUSTOMER_CHOICES_LIMIT])
        if chosen_id and str(chosen_id).isdigit() and all(c.pk != int(chosen_id) for c in offered):
            offered = list(field.queryset.filter(pk=chosen_id)) + offered
        field.choices = [("", "---------")] + [
            (c.pk, field.label_from_instance(c)) for c in offered
        ]
        self.fields["contact"].queryset = (
            Contact.objects.filter(customer_id=chosen_id).order_by("-is_primary", "name")
            if chosen_id and str(chosen_id).isdigit()
            else Contact.objects.none()
        )


class OrderLineForm(forms.Form):
    """One order line: the salesperson picks the product, the quantity and a discount; the
    price comes from the price lists (shown, not entered)."""

    product = ProductChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False
    )
    quantity = forms.DecimalField(label=_("Quantity"), required=False, **QTY)
    discount = forms.DecimalField(
        label=_("Discount (%)"), required=False, max_digits=5, decimal_places=2, initial=0
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not data.get("product") and data.get("quantity") in (None, "")


class BaseOrderLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, products=None, **kwargs):
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"products": self.products}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            products=self.products,
        )
        self.add_fields(form, None)
        return form

    def kept(self) -> list[OrderLineForm]:
        """The rows the service gets, in order (deleted and blank rows left out)."""
        return [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) is not None
            and not form.cleaned_data.get("DELETE")
            and not form.is_blank
        ]

    def rows(self) -> list[dict]:
        return [
            {
                "product": form.cleaned_data.get("product"),
                "quantity": form.cleaned_data.get("quantity"),
                "discount": form.cleaned_data.get("discount"),
                "description": form.cleaned_data.get("description", ""),
            }
            for form in self.kept()
        ]


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=BaseOrderLineFormSet, extra=0, min_num=1, can_delete=True
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeliveryForm(forms.Form):
    """A delivery: one quantity field per line that still has goods to ship."""

    shipped_on = forms.DateField(label=_("Shipped on"), widget=DATE, initial=timezone.localdate)
    carrier = forms.CharField(
        label=_("Carrier"), max_length=60, required=False, help_text=_("e.g. 顺丰, 德邦, own truck")
    )
    shipment_no = forms.CharField(label=_("Shipment no."), max_length=60, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.open_quantity > 0]
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.DecimalField(
                label=f"{line.line_no}. {line.product.code} {line.product.name}",
                required=False,
                min_value=Decimal("0"),
                initial=line.open_quantity,
                help_text=_("%(open)s %(unit)s to ship")
                % {"open": f"{line.open_quantity.normalize():f}", "unit": line.product.unit},
                **QTY,
            )

    def line_fields(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]

    def quantities(self) -> dict[int, Decimal]:
        return {
            line.pk: self.cleaned_data.get(f"line_{line.pk}")
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}") is not None
        }


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("Signed for on"), widget=DATE, initial=timezone.localdate)
    signed_by = forms.CharField(label=_("Signed for by"), max_length=60, required=False)


class TaskForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    due_date = forms.DateField(label=_("Due date"), widget=DATE)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, task: CoordinationTask | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True, employee__status="active")
        condition = Q(pk__in=[])
        if task is not None and task.department_id:
            condition |= Q(employee__department=task.department_id)
        if task is not None and task.owner_id:
            condition |= Q(pk=task.owner_id)
        self.fields["owner"].queryset = users.filter(condition).order_by("name")


class TaskDoneForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class OnTimeForm(forms.Form):
    """The period and grouping of the on-time delivery report (default: this year so far)."""

    start = forms.DateField(label=_("From"), widget=DATE, required=False)
    end = forms.DateField(label=_("To"), widget=DATE, required=False)
    by = forms.ChoiceField(
        label=_("Per"),
        choices=[("department", _("Unit")), ("owner", _("Salesperson"))],
        required=False,
    )

    def values(self) -> tuple[datetime.date, datetime.date, str]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        start = data.get("start") or today.replace(month=1, day=1)
        end = data.get("end") or today
        if start > end:
            start, end = end, start
        return start, end, data.get("by") or "department"


# Filter sets (pages and API) -----------------------------------------------------------------------


def _units():
    return Department.objects.filter(active=True).order_by("path")


class OrderFilter(django_filters.FilterSet):
    scene = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[
            ("mine", _("My orders")),
            ("waiting", _("Waiting for me")),
            ("open", _("Not delivered yet")),
        ],
        method="by_scene",
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices)
    department = django_filters.ModelChoiceFilter(
        label=_("Unit"), queryset=_units(), method="in_department"
    )
    late = django_filters.BooleanFilter(label=_("Late or slipping"), method="by_late")
    order_from = django_filters.DateFilter(
        label=_("Ordered on or after"), field_name="order_date", lookup_expr="gte"
    )
    order_to = django_filters.DateFilter(
        label=_("Ordered on or before"), field_name="order_date", lookup_expr="lte"
    )

    class Meta:
        model = SalesOrder
        fields = ["scene", "status", "department", "late", "order_from", "order_to"]

    def in_department(self, queryset, name, value):
        return queryset.filter(department__path__startswith=value.path) if value else queryset

    def by_scene(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        if value == "mine":
            return queryset.filter(owner=user)
        if value == "waiting":
            from .selectors_orders import orders_waiting_for

            return queryset.filter(pk__in=orders_waiting_for(actor=user).values("pk"))
        return queryset.filter(status__in=UNDELIVERED)

    def by_late(self, queryset, name, value):
        if value is None:
            return queryset
        late = Q(status__in=UNDELIVERED, promised_date__lt=timezone.localdate()) | Q(on_time=False)
        return queryset.filter(late) if value else queryset.exclude(late)


class TaskFilter(django_filters.FilterSet):
    mine = django_filters.BooleanFilter(label=_("Mine or my unit's"), method="by_mine")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TaskStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=TaskKind.choices)
    due = django_filters.ChoiceFilter(
        label=_("Due"),
        choices=[("overdue", _("Overdue")), ("soon", _("Within 3 days"))],
        method="by_due",
    )

    class Meta:
        model = CoordinationTask
        fields = ["mine", "status", "kind", "due"]

    def by_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        from .selectors_orders import my_tasks

        return queryset.filter(pk__in=my_tasks(actor=user).values("pk"))

    def by_due(self, queryset, name, value):
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(status__in=OPEN_TASK, due_date__lt=today)
        if value == "soon":
            return queryset.filter(
                status__in=OPEN_TASK, due_date__lte=today + datetime.timedelta(days=3)
            )
        return queryset


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DeliveryStatus.choices)
    shipped_from = django_filters.DateFilter(
        label=_("Shipped on or after"), field_name="shipped_on", lookup_expr="gte"
    )
    shipped_to = django_filters.DateFilter(
        label=_("Shipped on or before"), field_name="shipped_on", lookup_expr="lte"
    )

    class Meta:
        model = Delivery
        fields = ["status", "shipped_from", "shipped_to"]
