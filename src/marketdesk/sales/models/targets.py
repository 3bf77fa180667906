"""Targets per company, unit or person, and the rollups the dashboard reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel

from .common import MONEY, ZERO


class TargetMetric(models.TextChoices):
    ORDER_AMOUNT = "orders", _("Order amount")
    RECEIPTS = "receipts", _("Receipts")


class TargetSubject(models.TextChoices):
    COMPANY = "company", _("Company")
    DEPARTMENT = "department", _("Unit")
    PERSON = "person", _("Person")


MONTH_FIELDS = [f"m{month:02d}" for month in range(1, 13)]


class RfmSegment(models.TextChoices):
    """The 8 segments of the RFM model (R, F, M each high or low), stored on CustomerAccount."""

    IMPORTANT_VALUE = "important_value", _("Important value customer")
    IMPORTANT_KEEP = "important_keep", _("Important keep customer")
    IMPORTANT_DEVELOP = "important_develop", _("Important develop customer")
    IMPORTANT_RETAIN = "important_retain", _("Important win-back customer")
    GENERAL_VALUE = "general_value", _("General value customer")
    GENERAL_KEEP = "general_keep", _("General keep customer")
    GENERAL_DEVELOP = "general_develop", _("General develop customer")
    GENERAL_RETAIN = "general_retain", _("General win-back customer")


class SalesTarget(BaseModel):
    """A yearly target split into 12 months (the year is their sum, checked by the database)."""

    year = models.PositiveSmallIntegerField(_("year"))
    metric = models.CharField(_("metric"), max_length=10, choices=TargetMetric.choices)
    subject = models.CharField(_("for"), max_length=10, choices=TargetSubject.choices)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    annual = models.DecimalField(_("year total"), default=ZERO, **MONEY)
    m01 = models.DecimalField(_("January"), default=ZERO, **MONEY)
    m02 = models.DecimalField(_("February"), default=ZERO, **MONEY)
    m03 = models.DecimalField(_("March"), default=ZERO, **MONEY)
    m04 = models.DecimalField(_("April"), default=ZERO, **MONEY)
    m05 = models.DecimalField(_("May"), default=ZERO, **MONEY)
    m06 = models.DecimalField(_("June"), default=ZERO, **MONEY)
    m07 = models.DecimalField(_("July"), default=ZERO, **MONEY)
    m08 = models.DecimalField(_("August"), default=ZERO, **MONEY)
    m09 = models.DecimalField(_("September"), default=ZERO, **MONEY)
    m10 = models.DecimalField(_("October"), default=ZERO, **MONEY)
    m11 = models.DecimalField(_("November"), default=ZERO, **MONEY)
    m12 = models.DecimalField(_("December"), default=ZERO, **MONEY)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-year", "metric", "subject", "pk"]
        constraints = [
            # Rounded to the cent: SQLite adds decimals as floating point numbers.
            models.CheckConstraint(
                condition=Q(annual=Round(sum((F(name) for name in MONTH_FIELDS[1:]), F("m01")), 2)),
                name="sales_target_year_is_sum_of_months",
            ),
            models.CheckConstraint(
                condition=Q(annual__gte=0) & Q(**{f"{name}__gte": 0 for name in MONTH_FIELDS}),
                name="sales_target_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    Q(subject="company", department__isnull=True, user__isnull=True)
                    | Q(subject="department", department__isnull=False, user__isnull=True)
                    | Q(subject="person", user__isnull=False)
                ),
                name="sales_target_subject_fields",
            ),
            models.UniqueConstraint(
                fields=["year", "metric"],
                condition=Q(subject="company"),
                name="sales_target_one_company",
            ),
            models.UniqueConstraint(
                fields=["year", "metric", "department"],
                condition=Q(subject="department"),
                name="sales_target_one_per_unit",
            ),
            models.UniqueConstraint(
                fields=["year", "metric", "user"],
                condition=Q(subject="person"),
                name="sales_target_one_per_person",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.department or _("Company")
        return f"{self.year} {self.get_metric_display()} · {who}"

    def month(self, month: int):
        return getattr(self, MONTH_FIELDS[month - 1])


class SalesRollup(models.Model):
    """One cell of the dashboard: a month, a unit and a person, with sums of booked orders (by
    order date), their lines, confirmed receipts (by date received) and deliveries (by
    delivery date, and how many on time). Recomputed cell by cell from the source rows (never
    incremented blindly), so it always equals a direct recomputation (sales/rollups.py)."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    department_id = models.IntegerField(default=0, help_text="0: no unit")
    owner_id = models.IntegerField()
    order_count = models.PositiveIntegerField(default=0)
    order_amount = models.DecimalField(default=ZERO, max_digits=16, decimal_places=2)
    line_count = models.PositiveIntegerField(default=0)
    receipt_amount = models.DecimalField(default=ZERO, max_digits=16, decimal_places=2)
    delivered_count = models.PositiveIntegerField(default=0)
    on_time_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("sales rollup")
        verbose_name_plural = _("sales rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "owner_id", "department_id"],
                name="sales_rollup_cell",
            )
        ]
        indexes = [models.Index(fields=["year", "month"], name="sales_rollup_period")]


class SalesUnitRollup(models.Model):
    """The amounts of one unit in one month: the sum of its SalesRollup cells over all its
    people, kept with them (sales/rollups.py recomputes the units of every month it touches,
    and the rebuild rebuilds them). The company-wide dashboard reads these few thousand rows
    instead of grouping tens of thousands of person cells."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    department_id = models.IntegerField(default=0, help_text="0: no unit")
    order_amount = models.DecimalField(default=ZERO, max_digits=16, decimal_places=2)
    receipt_amount = models.DecimalField(default=ZERO, max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("sales unit rollup")
        verbose_name_plural = _("sales unit rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "department_id"], name="sales_unit_rollup_cell"
            )
        ]


class RollupDirty(models.Model):
    """A cell to recompute: written in the same transaction as the change, consumed by the
    rollup job every minute (or by a dashboard read that finds the job late)."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    department_id = models.IntegerField(default=0)
    owner_id = models.IntegerField()
    marked_at = models.DateTimeField(auto_now_add=True)
