"""Opportunities (商机): stage groups per department, stages with a win %, competitors."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel

from .common import MONEY, NOT_NEGATIVE


class StageGroup(BaseModel):
    """The stages one department works with. No department: the company default."""

    name = models.CharField(_("name"), max_length=60)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage group")
        verbose_name_plural = _("stage groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["department"],
                condition=Q(department__isnull=False, active=True),
                name="sales_one_stage_group_per_department",
            ),
            models.UniqueConstraint(
                fields=["active"],
                condition=Q(department__isnull=True, active=True),
                name="sales_one_default_stage_group",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    group = models.ForeignKey(
        StageGroup, verbose_name=_("stage group"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=40)
    win_percent = models.PositiveSmallIntegerField(_("win %"))
    sort_order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["group", "sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["group", "sort_order"], name="sales_stage_order"),
            models.UniqueConstraint(fields=["group", "name"], name="sales_stage_name"),
            models.CheckConstraint(
                condition=Q(win_percent__lte=100), name="sales_stage_win_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.win_percent}%)"


class Competitor(BaseModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", pgettext_lazy("opportunity", "Lost")  # 输单, not the customer stage 流失
    INVALID = "invalid", _("Invalid")


class Opportunity(BaseModel):
    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    customer = models.ForeignKey(
        "crm.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    contact = models.ForeignKey(
        "crm.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    stage_group = models.ForeignKey(
        StageGroup, verbose_name=_("stage group"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
        db_index=True,
    )
    end_reason = models.TextField(_("reason"), blank=True)
    lost_to = models.ForeignKey(
        Competitor,
        verbose_name=_("lost to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expected_amount = models.DecimalField(
        _("expected amount"), validators=NOT_NEGATIVE, default=0, **MONEY
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    competitors = models.ManyToManyField(
        Competitor,
        verbose_name=_("competitors"),
        through="OpportunityCompetitor",
        blank=True,
        related_name="opportunities",
    )
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "status"], name="sales_opp_owner_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "won"]) | ~Q(end_reason=""),
                name="sales_opp_end_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(expected_amount__gte=0), name="sales_opp_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("sales:opportunity_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == OpportunityStatus.OPEN

    @property
    def win_percent(self) -> int:
        """The win % of the stage; a won deal is certain, a lost or invalid one worth nothing."""
        if self.status == OpportunityStatus.WON:
            return 100
        if self.status != OpportunityStatus.OPEN:
            return 0
        return self.stage.win_percent

    @property
    def weighted_amount(self) -> Decimal:
        """Expected amount x win % of the stage (加权金额), to the cent."""
        amount = Decimal(self.expected_amount) * self.win_percent / 100
        return amount.quantize(Decimal("0.01"))


class OpportunityCompetitor(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="rivals")
    competitor = models.ForeignKey(
        Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, related_name="+"
    )
    their_price = models.DecimalField(
        _("their price"), null=True, blank=True, validators=NOT_NEGATIVE, **MONEY
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("competitor on the deal")
        verbose_name_plural = _("competitors on the deal")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "competitor"], name="sales_opp_competitor_once"
            )
        ]


class OpportunityStageChange(models.Model):
    """Every move between stages and into an end state: the funnel's conversion rates."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=8, choices=OpportunityStatus.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["at", "pk"]
