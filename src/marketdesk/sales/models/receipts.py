"""Receipt plans and receipts (回款), the customer's credit limit and sales profile (RFM)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel

from .common import MONEY, NOT_NEGATIVE, POSITIVE, ZERO, ChannelTier, PayMethod
from .orders import SalesOrder


class ReceiptPlan(BaseModel):
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="receipt_plans"
    )
    instalment = models.PositiveSmallIntegerField(_("instalment no."))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    method = models.CharField(
        _("method"), max_length=8, choices=PayMethod.choices, default=PayMethod.BANK
    )
    received_amount = models.DecimalField(_("received"), default=ZERO, **MONEY)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("receipt plan")
        verbose_name_plural = _("receipt plans")
        ordering = ["order", "instalment"]
        indexes = [models.Index(fields=["due_date"], name="sales_plan_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "instalment"], name="sales_plan_instalment_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="sales_plan_amount"),
            models.CheckConstraint(
                condition=Q(received_amount__gte=0) & Q(received_amount__lte=F("amount")),
                name="sales_plan_received_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} #{self.instalment}"

    @property
    def outstanding(self):
        return self.amount - self.received_amount


class ReceiptStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Receipt(BaseModel):
    number = models.CharField(_("receipt no."), max_length=30, unique=True, editable=False)
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="receipts"
    )
    plan = models.ForeignKey(
        ReceiptPlan,
        verbose_name=_("instalment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    customer = models.ForeignKey(
        "crm.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        "core.User", verbose_name=_("salesperson"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    received_on = models.DateField(_("received on"))
    method = models.CharField(
        _("method"), max_length=8, choices=PayMethod.choices, default=PayMethod.BANK
    )
    reference = models.CharField(_("bank or payment reference"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReceiptStatus.choices, default=ReceiptStatus.CONFIRMED
    )
    notes = models.TextField(_("notes"), blank=True)
    decided_by = models.ForeignKey(
        "core.User",
        verbose_name=_("approved or rejected by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True)
    reason = models.TextField(_("reason for rejecting or cancelling"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-received_on", "-pk"]
        indexes = [
            models.Index(fields=["owner", "received_on"], name="sales_receipt_owner_date"),
            models.Index(fields=["department", "received_on"], name="sales_receipt_dept_date"),
            models.Index(fields=["status", "received_on"], name="sales_receipt_status_date"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="sales_receipt_amount"),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "cancelled"]) | ~Q(reason=""),
                name="sales_receipt_end_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("sales:receipt_detail", args=[self.pk])

    @property
    def counts(self) -> bool:
        """Registered against the order total (waiting for approval or confirmed)."""
        return self.status in (ReceiptStatus.PENDING, ReceiptStatus.CONFIRMED)


class CustomerAccount(models.Model):
    """The sales side of a customer: credit limit, channel tier, and RFM scores computed from
    the customer's orders (recency, frequency, monetary; 1 to 5 each)."""

    customer = models.OneToOneField(
        "crm.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="sales_account",
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        null=True,
        blank=True,
        validators=NOT_NEGATIVE,
        help_text=_("Open receivables plus a new order may not pass it. Empty: no limit."),
        **MONEY,
    )
    channel_tier = models.CharField(
        _("channel tier"), max_length=8, choices=ChannelTier.choices, default=ChannelTier.DIRECT
    )
    last_order_on = models.DateField(_("last order"), null=True, blank=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    order_amount = models.DecimalField(_("order amount"), default=ZERO, **MONEY)
    recency = models.PositiveSmallIntegerField(_("R"), null=True, blank=True)
    frequency = models.PositiveSmallIntegerField(_("F"), null=True, blank=True)
    monetary = models.PositiveSmallIntegerField(_("M"), null=True, blank=True)
    rfm_segment = models.CharField(_("RFM segment"), max_length=20, blank=True, db_index=True)
    rfm_updated_at = models.DateTimeField(_("RFM computed at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["rfm_updated_at"])

    class Meta:
        verbose_name = _("customer sales account")
        verbose_name_plural = _("customer sales accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                name="sales_account_credit_limit",
            ),
        ]

    def __str__(self) -> str:
        return str(self.customer)

    def get_absolute_url(self) -> str:
        return reverse("crm:customer_detail", args=[self.customer_id])
