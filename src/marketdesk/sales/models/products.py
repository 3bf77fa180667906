"""Product categories, products, price lists and discount authority (issue 5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel
from marketdesk.crm.models import CustomerLevel

from .common import MONEY, NOT_NEGATIVE, PERCENT, POSITIVE, QTY, ChannelTier


class ProductCategory(BaseModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="sales_category_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProductStatus(models.TextChoices):
    ACTIVE = "active", _("On sale")
    INACTIVE = "inactive", _("Not on sale")
    DISCONTINUED = "discontinued", _("Discontinued")


class Product(BaseModel):
    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(_("unit"), max_length=10, help_text=_("e.g. 台, 套, 件, 箱"))
    spec = models.CharField(_("specification"), max_length=200, blank=True)
    list_price = models.DecimalField(_("list price"), validators=NOT_NEGATIVE, **MONEY)
    cost = models.DecimalField(_("cost"), validators=NOT_NEGATIVE, default=0, **MONEY)
    status = models.CharField(
        _("status"), max_length=12, choices=ProductStatus.choices, default=ProductStatus.ACTIVE
    )
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="sales_product_price"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="sales_product_cost"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("sales:product_detail", args=[self.pk])


class PriceList(BaseModel):
    """Prices for a customer level and/or channel tier over a date range. Blank level or tier
    means "any"; among the lists that apply, the highest priority wins, then the newest."""

    name = models.CharField(_("name"), max_length=80)
    customer_level = models.CharField(
        _("customer level"), max_length=1, choices=CustomerLevel.choices, blank=True
    )
    channel_tier = models.CharField(
        _("channel tier"), max_length=8, choices=ChannelTier.choices, blank=True
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=10)
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["-priority", "-valid_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="sales_price_list_dates",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sales:price_list_detail", args=[self.pk])


class PriceListItem(models.Model):
    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="prices"
    )
    min_quantity = models.DecimalField(_("from quantity"), default=1, validators=POSITIVE, **QTY)
    price = models.DecimalField(_("price"), validators=NOT_NEGATIVE, **MONEY)
    # Price changes are audited: the price list's timeline shows this history.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        ordering = ["product__code", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"], name="sales_price_item_unique"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="sales_price_item_price"),
            models.CheckConstraint(
                condition=Q(min_quantity__gt=0), name="sales_price_item_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} ≥{self.min_quantity}: {self.price}"


class DiscountAuthority(BaseModel):
    """The largest discount (off the price list) a role or a person may give without approval.
    A person's own row wins over their roles'; among roles the largest applies; without any row
    the settings' default applies."""

    role = models.ForeignKey(
        "org.Role",
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    max_discount = models.DecimalField(
        _("maximum discount (%)"), max_digits=5, decimal_places=2, validators=PERCENT
    )

    class Meta:
        verbose_name = _("discount authority")
        verbose_name_plural = _("discount authorities")
        constraints = [
            models.CheckConstraint(
                condition=(Q(role__isnull=False) & Q(user__isnull=True))
                | (Q(role__isnull=True) & Q(user__isnull=False)),
                name="sales_discount_role_xor_user",
            ),
            models.CheckConstraint(
                condition=Q(max_discount__gte=0) & Q(max_discount__lte=100),
                name="sales_discount_range",
            ),
            models.UniqueConstraint(
                fields=["role"], condition=Q(role__isnull=False), name="sales_discount_one_per_role"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(user__isnull=False), name="sales_discount_one_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role or self.user}: {self.max_discount}%"
