"""Budgets, budget lines with their ledger, adjustments (追加预算 / 调剂), expense requests
(事前申请), expense claims (报销单) with vouchers, and the finance settings (R7)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]
POSITIVE = [MinValueValidator(Decimal("0.01"))]


class FinanceSettings(models.Model):
    """One row: the thresholds of budget control (changed in the admin)."""

    request_threshold = models.DecimalField(
        _("expense request needed above (CNY)"),
        default=Decimal("20000.00"),
        validators=NOT_NEGATIVE,
        help_text=_("A claim above this amount needs an approved expense request (事前申请)."),
        **MONEY,
    )
    near_percent = models.PositiveSmallIntegerField(
        _("warn when a line is used up to (%)"), default=90
    )

    class Meta:
        verbose_name = _("finance settings")
        verbose_name_plural = _("finance settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(near_percent__gte=1) & Q(near_percent__lte=100),
                name="finance_settings_near_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(request_threshold__gte=0), name="finance_settings_threshold"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Finance settings"))


class Family(models.TextChoices):
    """The regulation's three cost families (R7.1)."""

    PROMOTION = "promotion", _("Promotion costs")
    SALES = "sales", _("Sales costs")
    SERVICE = "service", _("Customer service costs")


class ExpenseCategory(BaseModel):
    """A node of the category tree (促销费用 > 广告费 ...); vouchers required per category."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    family = models.CharField(_("family"), max_length=12, choices=Family.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    requires_invoice = models.BooleanField(_("invoice required"), default=True)
    requires_contract = models.BooleanField(_("contract required"), default=False)
    account = models.CharField(
        _("ledger account"), max_length=40, blank=True, help_text=_("e.g. 6601.01 销售费用-广告费")
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expense category")
        verbose_name_plural = _("expense categories")
        ordering = ["family", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="finance_category_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Months")
    QUARTER = "quarter", _("Quarters")


class ControlMode(models.TextChoices):
    BLOCK = "block", _("Block (hard stop)")
    WARN = "warn", _("Warn only")


class DocStatus(models.TextChoices):
    """States of the documents that go through approval (budgets, adjustments, requests)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("In approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


EDITABLE = (DocStatus.DRAFT, DocStatus.REJECTED, DocStatus.RETURNED, DocStatus.WITHDRAWN)


class Budget(BaseModel):
    """The marketing expense budget of one unit for one fiscal year (R7.1)."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    department = models.ForeignKey(
        "org.Department", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=120)
    period_kind = models.CharField(
        _("periods"), max_length=8, choices=PeriodKind.choices, default=PeriodKind.QUARTER
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DocStatus.choices, default=DocStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["-fiscal_year", "department__path"]
        permissions = [
            ("view_accounting", _("Can see expense accounting")),
            ("view_analysis", _("Can see expense analysis")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "fiscal_year"], name="finance_one_budget_per_unit_and_year"
            ),
            models.CheckConstraint(
                condition=Q(fiscal_year__gte=2000) & Q(fiscal_year__lte=2100),
                name="finance_budget_year_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("finance:budget_detail", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def period_count(self) -> int:
        return 12 if self.period_kind == PeriodKind.MONTH else 4


def _available_expression():
    return (
        F("amount") + F("supplement") + F("transfer_in") - F("transfer_out") - F("committed")
    ) - F("spent")


class BudgetLine(models.Model):
    """Budget × category × period (× optional cost object). The running figures are columns,
    changed only in a transaction that holds the row lock, and every change is a BudgetEntry."""

    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), on_delete=models.CASCADE, related_name="lines"
    )
    category = models.ForeignKey(
        ExpenseCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.PositiveSmallIntegerField(_("period"))
    cost_object_type = models.ForeignKey(
        ContentType,
        verbose_name=_("cost object type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cost_object_id = models.PositiveBigIntegerField(_("cost object id"), null=True, blank=True)
    cost_object = GenericForeignKey("cost_object_type", "cost_object_id")
    mode = models.CharField(
        _("control"), max_length=6, choices=ControlMode.choices, default=ControlMode.BLOCK
    )
    amount = models.DecimalField(_("budgeted"), default=ZERO, validators=NOT_NEGATIVE, **MONEY)
    supplement = models.DecimalField(_("supplements"), default=ZERO, **MONEY)
    transfer_in = models.DecimalField(_("transferred in"), default=ZERO, **MONEY)
    transfer_out = models.DecimalField(_("transferred out"), default=ZERO, **MONEY)
    committed = models.DecimalField(_("committed"), default=ZERO, **MONEY)
    spent = models.DecimalField(_("spent"), default=ZERO, **MONEY)
    alert_level = models.PositiveSmallIntegerField(
        default=0, editable=False
    )  # alert already told: 0 none, 1 near, 2 over; once per crossing
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        ordering = ["budget", "category__family", "category__sort_order", "period", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(supplement__gte=0)
                & Q(transfer_in__gte=0)
                & Q(transfer_out__gte=0)
                & Q(committed__gte=0)
                & Q(spent__gte=0),
                name="finance_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(period__gte=1) & Q(period__lte=12), name="finance_line_period_range"
            ),
            # Under hard control the line can never go below zero, whatever the code does.
            models.CheckConstraint(
                condition=Q(mode="warn")
                | Q(
                    amount__gte=F("committed")
                    + F("spent")
                    + F("transfer_out")
                    - F("supplement")
                    - F("transfer_in")
                ),
                name="finance_block_line_never_overspent",
            ),
            models.CheckConstraint(
                condition=Q(cost_object_type__isnull=True, cost_object_id__isnull=True)
                | Q(cost_object_type__isnull=False, cost_object_id__isnull=False),
                name="finance_line_cost_object_complete",
            ),
            models.UniqueConstraint(
                fields=["budget", "category", "period"],
                condition=Q(cost_object_type__isnull=True),
                name="finance_one_line_per_category_period",
            ),
            models.UniqueConstraint(
                fields=["budget", "category", "period", "cost_object_type", "cost_object_id"],
                condition=Q(cost_object_type__isnull=False),
                name="finance_one_line_per_category_period_object",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.budget.department} {self.budget.fiscal_year} · {self.category} · {self.period_label}"

    def get_absolute_url(self) -> str:
        return reverse("finance:line_detail", args=[self.pk])

    @property
    def period_label(self) -> str:
        if self.budget.period_kind == PeriodKind.QUARTER:
            return f"Q{self.period}"
        return f"{self.period:02d}"

    @property
    def total(self) -> Decimal:
        """What may be spent: approved + supplements + transfers in - transfers out."""
        return self.amount + self.supplement + self.transfer_in - self.transfer_out

    @property
    def used(self) -> Decimal:
        return self.committed + self.spent

    @property
    def available(self) -> Decimal:
        return self.total - self.used

    @property
    def usage_percent(self) -> Decimal:
        if self.total <= 0:
            return Decimal("100") if self.used > 0 else ZERO
        return (self.used * 100 / self.total).quantize(Decimal("0.1"))


class EntryKind(models.TextChoices):
    COMMIT = "commit", _("Committed")
    RELEASE = "release", _("Released")
    SPEND = "spend", _("Spent")
    UNSPEND = "unspend", _("Spent amount reduced")
    SUPPLEMENT = "supplement", _("Supplement")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")


class BudgetEntry(models.Model):
    """The ledger of a line: every movement, so the columns can be recomputed and audited.
    committed = commit - release - spend; spent = spend - unspend."""

    line = models.ForeignKey(
        BudgetLine, verbose_name=_("line"), on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    source_label = models.CharField(_("document"), max_length=60, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("budget entry")
        verbose_name_plural = _("budget entries")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["source_type", "source_id"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_entry_amount_positive")
        ]


class AdjustmentKind(models.TextChoices):
    SUPPLEMENT = "supplement", _("Supplementary budget (追加预算)")
    TRANSFER = "transfer", _("Transfer between lines (调剂)")


class BudgetAdjustment(BaseModel):
    """A change of an approved budget: more money for a line, or money moved between lines;
    approved through the engine before it takes effect (R7.2.1)."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=AdjustmentKind.choices)
    line = models.ForeignKey(
        BudgetLine, verbose_name=_("line"), on_delete=models.PROTECT, related_name="adjustments"
    )
    from_line = models.ForeignKey(
        BudgetLine,
        verbose_name=_("from line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    amount = models.DecimalField(_("amount (CNY)"), validators=POSITIVE, **MONEY)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=DocStatus.choices, default=DocStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("budget adjustment")
        verbose_name_plural = _("budget adjustments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_adjustment_positive"),
            models.CheckConstraint(
                condition=Q(kind="supplement", from_line__isnull=True)
                | (Q(kind="transfer", from_line__isnull=False) & ~Q(from_line=F("line"))),
                name="finance_adjustment_lines",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("finance:adjustment_detail", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE


class ExpenseRequest(BaseModel):
    """事前申请: approval before spending above the threshold; it commits budget, and the later
    claim consumes what it reserved."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    title = models.CharField(_("purpose"), max_length=200)
    line = models.ForeignKey(
        BudgetLine, verbose_name=_("budget line"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount (CNY)"), validators=POSITIVE, **MONEY)
    consumed = models.DecimalField(_("used by claims"), default=ZERO, **MONEY)
    expected_on = models.DateField(_("expected on"), null=True, blank=True)
    description = models.TextField(_("details"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DocStatus.choices, default=DocStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expense request")
        verbose_name_plural = _("expense requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_request_positive"),
            models.CheckConstraint(
                condition=Q(consumed__gte=0) & Q(consumed__lte=F("amount")),
                name="finance_request_consumed_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("finance:request_detail", args=[self.pk])

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.consumed

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("In approval")
    APPROVED = "approved", _("Waiting for finance review")
    REVIEWED = "reviewed", _("Waiting for posting")
    POSTED = "posted", _("Posted, waiting for payment")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLAIM_EDITABLE = (
    ClaimStatus.DRAFT,
    ClaimStatus.REJECTED,
    ClaimStatus.RETURNED,
    ClaimStatus.WITHDRAWN,
)
CLAIM_SPENT = (ClaimStatus.APPROVED, ClaimStatus.REVIEWED, ClaimStatus.POSTED, ClaimStatus.PAID)


class PayMethod(models.TextChoices):
    BANK = "bank", _("Bank transfer")
    CASH = "cash", _("Cash")
    OFFSET = "offset", _("Offset against a loan")


class ExpenseClaim(BaseModel):
    """报销单: what an employee spent, with vouchers, through approval, review, posting, payment."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimant"),
        on_delete=models.PROTECT,
        related_name="expense_claims",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    expense_request = models.ForeignKey(
        ExpenseRequest,
        verbose_name=_("expense request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ClaimStatus.choices,
        default=ClaimStatus.DRAFT,
        db_index=True,
    )
    total = models.DecimalField(_("amount claimed"), default=ZERO, **MONEY)
    approved_total = models.DecimalField(
        _("amount approved"), null=True, blank=True, validators=NOT_NEGATIVE, **MONEY
    )
    request_used = models.DecimalField(
        _("taken from the expense request"), default=ZERO, editable=False, **MONEY
    )  # given back to the request when the claim is rejected, returned or withdrawn
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # Finance review (R7.2.2) and accounting (R7.3.1)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    voucher_no = models.CharField(_("accounting voucher no."), max_length=40, blank=True)
    posted_on = models.DateField(_("posting date"), null=True, blank=True)
    account = models.CharField(_("account"), max_length=40, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    pay_method = models.CharField(
        _("payment method"), max_length=8, choices=PayMethod.choices, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expense claim")
        verbose_name_plural = _("expense claims")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("review_expenseclaim", _("Can review expense claims (finance)")),
            ("post_expenseclaim", _("Can post expense claims")),
            ("pay_expenseclaim", _("Can record payment of expense claims")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(request_used__gte=0), name="finance_claim_total"
            ),
            models.CheckConstraint(
                condition=Q(approved_total__isnull=True)
                | (Q(approved_total__gte=0) & Q(approved_total__lte=F("total"))),
                name="finance_claim_approved_range",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["posted", "paid"])
                | (Q(posted_on__isnull=False) & ~Q(voucher_no="")),
                name="finance_claim_posted_has_voucher",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False),
                name="finance_claim_paid_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("finance:claim_detail", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status in CLAIM_EDITABLE

    @property
    def payable(self) -> Decimal:
        return self.approved_total if self.approved_total is not None else self.total


class ExpenseClaimLine(models.Model):
    claim = models.ForeignKey(
        ExpenseClaim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="lines"
    )
    spent_on = models.DateField(_("date"))
    category = models.ForeignKey(
        ExpenseCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    budget_line = models.ForeignKey(
        BudgetLine, verbose_name=_("budget line"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount (CNY)"), validators=POSITIVE, **MONEY)
    approved_amount = models.DecimalField(
        _("approved amount"), null=True, blank=True, validators=NOT_NEGATIVE, **MONEY
    )
    description = models.CharField(_("description"), max_length=300)
    link_type = models.ForeignKey(
        ContentType,
        verbose_name=_("linked record type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    link_id = models.PositiveBigIntegerField(_("linked record id"), null=True, blank=True)
    link = GenericForeignKey("link_type", "link_id")  # a customer, order or campaign

    class Meta:
        verbose_name = _("claim line")
        verbose_name_plural = _("claim lines")
        ordering = ["claim", "spent_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="finance_claim_line_positive"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | (Q(approved_amount__gte=0) & Q(approved_amount__lte=F("amount"))),
                name="finance_claim_line_approved_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.spent_on} {self.category} ¥{self.amount}"

    @property
    def effective_amount(self) -> Decimal:
        return self.approved_amount if self.approved_amount is not None else self.amount


class VoucherKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice (发票)")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other voucher")


class Voucher(models.Model):
    """A voucher of a claim line: an invoice (code + number, amount, tax, scan) or a contract."""

    claim = models.ForeignKey(
        ExpenseClaim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="vouchers"
    )
    line = models.ForeignKey(
        ExpenseClaimLine,
        verbose_name=_("claim line"),
        on_delete=models.CASCADE,
        related_name="vouchers",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=VoucherKind.choices, default=VoucherKind.INVOICE
    )
    code = models.CharField(_("invoice code"), max_length=20, blank=True)
    number = models.CharField(_("number"), max_length=40)
    issued_on = models.DateField(_("date"), null=True, blank=True)
    amount = models.DecimalField(_("amount (CNY)"), default=ZERO, validators=NOT_NEGATIVE, **MONEY)
    tax = models.DecimalField(_("tax"), default=ZERO, validators=NOT_NEGATIVE, **MONEY)
    attachment = models.ForeignKey(
        "core.Attachment",
        verbose_name=_("scan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["claim", "pk"]
        constraints = [
            # One invoice is claimed once (发票不得重复报销), across all claims.
            models.UniqueConstraint(
                fields=["code", "number"],
                condition=Q(kind="invoice", active=True),
                name="finance_invoice_claimed_once",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(tax__gte=0) & Q(tax__lte=F("amount")),
                name="finance_voucher_amounts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.number}".strip()
