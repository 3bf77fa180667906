"""Money helpers and the settings row shared by every part of sales."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}
QTY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]
POSITIVE = [MinValueValidator(Decimal("0.01"))]
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ChannelTier(models.TextChoices):
    """Who the order is sold to, for price lists (R6 channel policies reuse it)."""

    DIRECT = "direct", _("Direct customer")
    TIER1 = "tier1", _("Tier-1 distributor")
    TIER2 = "tier2", _("Tier-2 distributor")
    RETAIL = "retail", _("Retailer")


class CreditMode(models.TextChoices):
    WARN = "warn", _("Warn only")
    BLOCK = "block", _("Block the order")


class PayMethod(models.TextChoices):
    BANK = "bank", _("Bank transfer")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")
    OTHER = "other", _("Other")


class SalesSettings(models.Model):
    """One row: the company's sales rules (changed by the marketing manager or admin)."""

    default_max_discount = models.DecimalField(
        _("discount a salesperson may give without approval (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=PERCENT,
    )
    approval_amount = models.DecimalField(
        _("orders above this amount need approval (CNY)"),
        default=Decimal("200000.00"),
        validators=NOT_NEGATIVE,
        **MONEY,
    )
    receipt_approval = models.BooleanField(
        _("receipts need approval"),
        default=False,
        help_text=_("When on, a registered receipt counts only after finance approves it."),
    )
    credit_mode = models.CharField(
        _("when a credit limit is passed"),
        max_length=8,
        choices=CreditMode.choices,
        default=CreditMode.WARN,
    )
    delivery_alert_days = models.PositiveSmallIntegerField(
        _("warn this many days before a promised delivery date"), default=3
    )

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(default_max_discount__gte=0) & Q(default_max_discount__lte=100),
                name="sales_settings_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(approval_amount__gte=0), name="sales_settings_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Sales settings"))
