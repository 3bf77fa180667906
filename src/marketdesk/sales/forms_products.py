"""Forms and filters of the products and prices pages. Forms parse input; the services
check the rules. The filter sets serve the list pages and the API alike."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from marketdesk.crm.models import CustomerLevel

from .models import (
    ChannelTier,
    CreditMode,
    PriceList,
    Product,
    ProductCategory,
    ProductStatus,
)
from .selectors_products import orderable_products, roles_for_authority
from .services.products import LEVEL_CHOICES, TIER_CHOICES

MONEY = {"max_digits": 14, "decimal_places": 2}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, category: ProductCategory) -> str:
        return f"{category.name} ({category.code})"


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, product: Product) -> str:
        spec = f" · {product.spec}" if product.spec else ""
        return f"{product.code} {product.name}{spec} ({product.unit})"


class CategoryForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Letters, digits, - and _; used by the product import."),
    )
    name = forms.CharField(label=_("Name"), max_length=60)
    parent = CategoryChoiceField(
        label=_("Parent category"), queryset=ProductCategory.objects.none(), required=False
    )
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, initial=0, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, exclude_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = ProductCategory.objects.order_by("sort_order", "code")
        if exclude_pk:
            parents = parents.exclude(pk=exclude_pk)
        self.fields["parent"].queryset = parents


class ProductForm(forms.Form):
    code = forms.CharField(label=_("Product code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120)
    category = CategoryChoiceField(label=_("Category"), queryset=ProductCategory.objects.none())
    unit = forms.CharField(label=_("Unit"), max_length=10, help_text=_("e.g. 台, 套, 项, 年"))
    spec = forms.CharField(label=_("Specification"), max_length=200, required=False)
    list_price = forms.DecimalField(label=_("List price (CNY)"), min_value=Decimal("0"), **MONEY)
    cost = forms.DecimalField(
        label=_("Cost (CNY)"), min_value=Decimal("0"), required=False, **MONEY
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=ProductStatus.choices, initial=ProductStatus.ACTIVE
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, show_cost: bool = True, current_category=None, **kwargs):
        super().__init__(*args, **kwargs)
        categories = ProductCategory.objects.filter(active=True)
        if current_category is not None:
            categories = categories | ProductCategory.objects.filter(pk=current_category.pk)
        self.fields["category"].queryset = categories.order_by("sort_order", "code")
        if not show_cost:
            del self.fields["cost"]


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    customer_level = forms.ChoiceField(
        label=_("Customer level"), choices=LEVEL_CHOICES, required=False
    )
    channel_tier = forms.ChoiceField(label=_("Channel tier"), choices=TIER_CHOICES, required=False)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(
        label=_("Valid to"), widget=DATE, required=False, help_text=_("Blank: no end date.")
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=0,
        max_value=32767,
        initial=10,
        help_text=_("When several lists apply, the highest priority wins."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PriceListCopyForm(forms.Form):
    name = forms.CharField(label=_("Name of the copy"), max_length=80)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=_("Valid to"), widget=DATE, required=False)
    percent = forms.DecimalField(
        label=_("Change every price by (%)"),
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        help_text=_("e.g. 3 for 3 % higher, -5 for 5 % lower."),
    )


class PriceListItemForm(forms.Form):
    product = ProductChoiceField(label=_("Product"), queryset=Product.objects.none())
    min_quantity = forms.DecimalField(
        label=_("From quantity"),
        min_value=Decimal("0.01"),
        initial=Decimal("1"),
        max_digits=12,
        decimal_places=2,
    )
    price = forms.DecimalField(label=_("Price (CNY)"), min_value=Decimal("0"), **MONEY)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.exclude(
            status=ProductStatus.DISCONTINUED
        ).order_by("code")


class DiscountAuthorityForm(forms.Form):
    role = forms.ModelChoiceField(label=_("Role"), queryset=None, required=False)
    user = forms.ModelChoiceField(label=_("Person"), queryset=None, required=False)
    max_discount = forms.DecimalField(
        label=_("Maximum discount (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles_for_authority()
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, employee__status="active")
            .order_by("name")
        )
        self.fields["user"].label_from_instance = lambda user: (
            f"{user.name or user.username} ({user.username})"
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("role")) == bool(data.get("user")):
            raise forms.ValidationError(_("Choose either a role or a person, not both."))
        return data


class SalesSettingsForm(forms.Form):
    default_max_discount = forms.DecimalField(
        label=_("Discount a salesperson may give without approval (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Used for anyone without a discount authority of their own or of a role."),
    )
    approval_amount = forms.DecimalField(
        label=_("Orders above this amount need approval (CNY)"),
        min_value=Decimal("0"),
        **MONEY,
    )
    receipt_approval = forms.BooleanField(
        label=_("Receipts need approval"),
        required=False,
        help_text=_("When on, a registered receipt counts only after finance approves it."),
    )
    credit_mode = forms.ChoiceField(
        label=_("When a credit limit is passed"), choices=CreditMode.choices
    )
    delivery_alert_days = forms.IntegerField(
        label=_("Warn this many days before a promised delivery date"),
        min_value=0,
        max_value=365,
    )


class PriceQuoteForm(forms.Form):
    """The price checker: which price would an order line get?"""

    product = ProductChoiceField(label=_("Product"), queryset=Product.objects.none())
    customer_level = forms.ChoiceField(
        label=_("Customer level"), choices=[("", "—"), *CustomerLevel.choices], required=False
    )
    channel_tier = forms.ChoiceField(
        label=_("Channel tier"), choices=ChannelTier.choices, initial=ChannelTier.DIRECT
    )
    on = forms.DateField(label=_("Order date"), widget=DATE)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.01"),
        initial=Decimal("1"),
        max_digits=12,
        decimal_places=2,
    )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = orderable_products(actor)


# Filters (list pages and API) ---------------------------------------------------------------


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=ProductCategory.objects.order_by("sort_order", "code"),
        method="in_category",
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProductStatus.choices)

    class Meta:
        model = Product
        fields = ["category", "status"]

    def in_category(self, queryset, name, value):
        """A category includes its direct sub-categories."""
        if not value:
            return queryset
        return queryset.filter(
            category__in=[value.pk, *value.children.values_list("pk", flat=True)]
        )


PRICE_LIST_STATES = [
    ("current", _("In force")),
    ("scheduled", _("Not started yet")),
    ("expired", _("Ended")),
    ("inactive", _("Inactive")),
]


class PriceListFilter(django_filters.FilterSet):
    customer_level = django_filters.ChoiceFilter(
        label=_("Customer level"), choices=CustomerLevel.choices
    )
    channel_tier = django_filters.ChoiceFilter(label=_("Channel tier"), choices=ChannelTier.choices)
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=PRICE_LIST_STATES, method="in_state"
    )

    class Meta:
        model = PriceList
        fields = ["customer_level", "channel_tier", "state"]

    def in_state(self, queryset, name, value):
        from django.db.models import Q
        from django.utils import timezone

        today = timezone.localdate()
        if value == "inactive":
            return queryset.filter(active=False)
        queryset = queryset.filter(active=True)
        if value == "scheduled":
            return queryset.filter(valid_from__gt=today)
        if value == "expired":
            return queryset.filter(valid_to__lt=today)
        if value == "current":
            return queryset.filter(valid_from__lte=today).filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=today)
            )
        return queryset
