"""Orders (合同/订单) with lines, coordination tasks to production and logistics, deliveries
with partial quantities (R4.2.2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel

from .common import MONEY, NOT_NEGATIVE, PERCENT, POSITIVE, QTY, ZERO, ChannelTier


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_APPROVAL = "in_approval", _("In approval")
    CONFIRMED = "confirmed", _("Confirmed")
    IN_PRODUCTION = "in_production", _("In production")
    READY = "ready", _("Ready to ship")
    PARTLY_SHIPPED = "partly_shipped", _("Partly shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# Orders that count as sales (order amount, receivables, rankings): confirmed and later.
BOOKED = (
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.READY,
    OrderStatus.PARTLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)
EDITABLE = (OrderStatus.DRAFT,)


class PaymentTerms(models.TextChoices):
    PREPAID = "prepaid", _("Payment before delivery")
    ON_DELIVERY = "on_delivery", _("Payment on delivery")
    NET30 = "net30", _("30 days after delivery")
    NET60 = "net60", _("60 days after delivery")
    INSTALMENTS = "instalments", _("Instalments")
    OTHER = "other", _("Other (see notes)")


class SalesOrder(BaseModel):
    number = models.CharField(_("order no."), max_length=30, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=120, blank=True)
    customer = models.ForeignKey(
        "crm.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    contact = models.ForeignKey(
        "crm.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.PROTECT,
        related_name="sales_orders",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    order_date = models.DateField(_("order date"))
    promised_date = models.DateField(_("promised delivery date"))
    payment_terms = models.CharField(
        _("payment terms"), max_length=12, choices=PaymentTerms.choices, default=PaymentTerms.NET30
    )
    channel_tier = models.CharField(
        _("channel tier"), max_length=8, choices=ChannelTier.choices, default=ChannelTier.DIRECT
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    list_amount = models.DecimalField(_("amount at list prices"), default=ZERO, **MONEY)
    total = models.DecimalField(_("total"), default=ZERO, validators=NOT_NEGATIVE, **MONEY)
    max_discount = models.DecimalField(
        _("largest line discount (%)"), max_digits=5, decimal_places=2, default=ZERO
    )
    approval_reasons = models.CharField(_("why approval is needed"), max_length=300, blank=True)
    credit_warning = models.CharField(_("credit warning"), max_length=300, blank=True)
    receipted_amount = models.DecimalField(
        _("registered receipts"),
        default=ZERO,
        help_text=_("Receipts registered (confirmed or waiting for approval)."),
        **MONEY,
    )
    received_amount = models.DecimalField(_("received"), default=ZERO, **MONEY)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    on_time = models.BooleanField(_("delivered on time"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    slip_alerted = models.CharField(max_length=10, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-order_date", "-pk"]
        permissions = [
            ("confirm_salesorder", _("Can confirm, cancel and complete sales orders")),
            ("view_sales_dashboard", _("Can see the sales dashboard, rankings and funnel")),
        ]
        indexes = [
            models.Index(fields=["owner", "order_date"], name="sales_order_owner_date"),
            models.Index(fields=["department", "order_date"], name="sales_order_dept_date"),
            models.Index(fields=["customer", "order_date"], name="sales_order_customer_date"),
            models.Index(fields=["status", "promised_date"], name="sales_order_status_promised"),
            # the rollup recomputation reads an owner's deliveries of a month
            models.Index(fields=["owner", "delivered_on"], name="sales_order_owner_delivered"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="sales_order_total"),
            models.CheckConstraint(
                condition=Q(received_amount__gte=0) & Q(received_amount__lte=F("receipted_amount")),
                name="sales_order_received_range",
            ),
            models.CheckConstraint(
                condition=Q(receipted_amount__lte=F("total")),
                name="sales_order_receipts_within_total",
            ),
            models.CheckConstraint(
                condition=Q(promised_date__gte=F("order_date")),
                name="sales_order_promised_after_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="sales_order_cancel_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.customer}"

    def get_absolute_url(self) -> str:
        return reverse("sales:order_detail", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def booked(self) -> bool:
        return self.status in BOOKED

    @property
    def outstanding(self):
        return self.total - self.received_amount


class OrderLine(models.Model):
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    line_no = models.PositiveSmallIntegerField(_("line"))
    product = models.ForeignKey(
        "sales.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), validators=POSITIVE, **QTY)
    list_price = models.DecimalField(_("list price"), validators=NOT_NEGATIVE, **MONEY)
    price_list = models.ForeignKey(
        "sales.PriceList",
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    unit_price = models.DecimalField(
        _("unit price"), validators=NOT_NEGATIVE, help_text=_("From the price list."), **MONEY
    )
    discount = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT
    )
    amount = models.DecimalField(_("amount"), validators=NOT_NEGATIVE, **MONEY)
    delivered_quantity = models.DecimalField(_("delivered"), default=ZERO, **QTY)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="sales_order_line_no"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_line_quantity"),
            models.CheckConstraint(
                condition=Q(discount__gte=0) & Q(discount__lte=100), name="sales_line_discount"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sales_line_amount"),
            models.CheckConstraint(
                condition=Q(delivered_quantity__gte=0) & Q(delivered_quantity__lte=F("quantity")),
                name="sales_line_delivered_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.line_no} {self.product}"

    @property
    def open_quantity(self):
        return self.quantity - self.delivered_quantity


class TaskKind(models.TextChoices):
    PRODUCTION = "production", _("Production")
    LOGISTICS = "logistics", _("Logistics")
    OTHER = "other", _("Other")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CoordinationTask(BaseModel):
    """Work another unit does for an order (生产部 produces, 物流部 ships), created when the order
    is confirmed. Comments go on the task's timeline."""

    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="tasks"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=120)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("coordination task")
        verbose_name_plural = _("coordination tasks")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"], name="sales_task_status_due")]

    def __str__(self) -> str:
        return f"{self.order.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("sales:task_detail", args=[self.pk])


class DeliveryStatus(models.TextChoices):
    SHIPPED = "shipped", _("Shipped")
    SIGNED = "signed", _("Signed for")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(BaseModel):
    number = models.CharField(_("delivery no."), max_length=30, unique=True, editable=False)
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="deliveries"
    )
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    shipment_no = models.CharField(_("shipment no."), max_length=60, blank=True)
    shipped_on = models.DateField(_("shipped on"))
    signed_on = models.DateField(_("signed for on"), null=True, blank=True)
    signed_by = models.CharField(_("signed for by"), max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SHIPPED
    )
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-shipped_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_on__isnull=True) | Q(signed_on__gte=F("shipped_on")),
                name="sales_delivery_signed_after_shipped",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("sales:delivery_detail", args=[self.pk])


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), validators=POSITIVE, **QTY)

    class Meta:
        verbose_name = _("delivery line")
        verbose_name_plural = _("delivery lines")
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "order_line"], name="sales_delivery_line_once"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_delivery_quantity"),
        ]
