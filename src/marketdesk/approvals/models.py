"""Approval flows (as data), requests, tasks per approver, events, CCs and delegations."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel

MONEY = {"max_digits": 14, "decimal_places": 2}


class SelfApproval(models.TextChoices):
    SKIP = "skip", _("Skip the submitter")
    SUPERVISOR = "supervisor", _("Pass to the submitter's supervisor")
    FORBID = "forbid", _("Refuse the submission")


class NoApprover(models.TextChoices):
    AUTO_APPROVE = "auto", _("Approve the step automatically")
    ADMINISTRATOR = "admin", _("Send to the administrators")


class ResubmitFrom(models.TextChoices):
    FIRST = "first", _("From the first step")
    REJECTED = "rejected", _("From the step that rejected or returned it")


class ApprovalFlow(BaseModel):
    """A flow for one document type, chosen by conditions; lower priority numbers are tried first."""

    name = models.CharField(_("name"), max_length=100)
    doc_type = models.CharField(_("document type"), max_length=60, db_index=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are tried first.")
    )
    min_amount = models.DecimalField(_("from amount"), null=True, blank=True, **MONEY)
    max_amount = models.DecimalField(_("up to amount"), null=True, blank=True, **MONEY)
    categories = models.CharField(
        _("categories"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated; empty means any category."),
    )
    departments = models.ManyToManyField(
        "org.Department",
        verbose_name=_("departments"),
        blank=True,
        related_name="+",
        help_text=_("Submitters in these units (and their sub-units); empty means anyone."),
    )
    self_approval = models.CharField(
        _("when the approver is the submitter"),
        max_length=12,
        choices=SelfApproval.choices,
        default=SelfApproval.SKIP,
    )
    no_approver = models.CharField(
        _("when no approver is found"),
        max_length=8,
        choices=NoApprover.choices,
        default=NoApprover.ADMINISTRATOR,
    )
    resubmit_from = models.CharField(
        _("resubmission starts"),
        max_length=10,
        choices=ResubmitFrom.choices,
        default=ResubmitFrom.FIRST,
    )
    cc_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("CC"), blank=True, related_name="+"
    )
    reminder_hours = models.PositiveSmallIntegerField(
        _("remind after (hours)"), default=24, help_text=_("0 turns reminders off.")
    )
    escalate_hours = models.PositiveSmallIntegerField(
        _("escalate after (hours)"), default=0, help_text=_("0 turns escalation off.")
    )
    escalate_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalate to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords(m2m_fields=[departments, cc_users])

    class Meta:
        verbose_name = _("approval flow")
        verbose_name_plural = _("approval flows")
        ordering = ["doc_type", "priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(min_amount__lte=F("max_amount")),
                name="approvals_flow_amount_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("approvals:flow_edit", args=[self.pk])

    @property
    def category_list(self) -> list[str]:
        return [c.strip() for c in self.categories.replace("，", ",").split(",") if c.strip()]


class ApproverKind(models.TextChoices):
    USER = "user", _("A named user")
    ROLE = "role", _("Everyone with a role")
    SUPERVISOR = "supervisor", _("The submitter's supervisor")
    SUPERVISOR_LEVELS = "levels", _("Supervisors level by level")
    DEPARTMENT_HEAD = "dept_head", _("Head of the submitter's unit")
    NAMED_DEPARTMENT_HEAD = "named_head", _("Head of a named unit")


class StepMode(models.TextChoices):
    ANY = "any", _("Any one approves (或签)")
    ALL = "all", _("All approve (会签)")
    RATIO = "ratio", _("A share approves")


class ApprovalStep(models.Model):
    flow = models.ForeignKey(ApprovalFlow, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("step name"), max_length=60)
    approver_kind = models.CharField(_("approvers"), max_length=12, choices=ApproverKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.ForeignKey(
        "org.Role",
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    levels = models.PositiveSmallIntegerField(_("levels"), default=1)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mode = models.CharField(_("mode"), max_length=6, choices=StepMode.choices, default=StepMode.ANY)
    pass_ratio = models.DecimalField(
        _("share needed"), max_digits=3, decimal_places=2, null=True, blank=True
    )
    min_amount = models.DecimalField(_("applies from amount"), null=True, blank=True, **MONEY)
    max_amount = models.DecimalField(_("applies up to amount"), null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["flow", "order"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "order"], name="approvals_step_unique_order"),
            models.CheckConstraint(
                condition=~Q(mode="ratio") | (Q(pass_ratio__gt=0) & Q(pass_ratio__lte=1)),
                name="approvals_step_ratio_range",
            ),
            models.CheckConstraint(
                condition=Q(levels__gte=1) & Q(levels__lte=10), name="approvals_step_levels_range"
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(min_amount__lte=F("max_amount")),
                name="approvals_step_amount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class RequestStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApprovalRequest(models.Model):
    """One pass of one revision of a document through its flow. The plan of steps and approvers
    is fixed at submission, so editing a flow never changes requests already under way."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    doc_type = models.CharField(_("document type"), max_length=60, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("content_type", "object_id")
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    flow = models.ForeignKey(
        ApprovalFlow, verbose_name=_("flow"), on_delete=models.PROTECT, related_name="requests"
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), null=True, blank=True, **MONEY)
    category = models.CharField(_("category"), max_length=60, blank=True)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitter"),
        on_delete=models.PROTECT,
        related_name="approval_requests",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RequestStatus.choices,
        default=RequestStatus.IN_PROGRESS,
        db_index=True,
    )
    plan = models.JSONField(
        _("plan"), default=list
    )  # [{"order", "name", "mode", "ratio", "approvers": [ids]}]
    current_index = models.PositiveSmallIntegerField(default=0)  # index into plan
    snapshot = models.JSONField(default=dict, blank=True)
    lines = models.JSONField(
        default=list, blank=True
    )  # key facts for the approver: [[label, value], ...]
    url = models.CharField(max_length=300, blank=True)
    reopened_at = models.DateTimeField(_("reopened for a new revision"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "-revision"])]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(status="in_progress"),
                name="approvals_one_open_request_per_document",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="approvals_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("approvals:request_detail", args=[self.pk])

    @property
    def current_step(self) -> dict | None:
        if self.status != RequestStatus.IN_PROGRESS or self.current_index >= len(self.plan):
            return None
        return self.plan[self.current_index]


class TaskStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned")
    TRANSFERRED = "transferred", _("Transferred")
    CANCELLED = "cancelled", _("No longer needed")


class ApprovalTask(models.Model):
    """One approver's part in one step."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="tasks")
    step_index = models.PositiveSmallIntegerField()
    step_name = models.CharField(max_length=60)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        related_name="approval_tasks",
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="set when delegated or transferred",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.WAITING
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("approval task")
        verbose_name_plural = _("approval tasks")
        ordering = ["request", "step_index", "pk"]
        indexes = [models.Index(fields=["approver", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "step_index", "approver"],
                condition=Q(status="waiting"),
                name="approvals_one_waiting_task_per_approver_step",
            )
        ]


class EventAction(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    RETURNED = "returned", _("returned for changes")
    WITHDRAWN = "withdrawn", _("withdrew")
    TRANSFERRED = "transferred", _("transferred")
    ADDED_APPROVER = "added", _("added an approver")
    AUTO_APPROVED = "auto", _("approved automatically (no approver found)")
    SKIPPED = "skipped", _("skipped (the approver is the submitter)")
    REMINDED = "reminded", _("reminded the approvers")
    ESCALATED = "escalated", _("escalated")
    FINISHED = "finished", _("approval finished")


class ApprovalEvent(models.Model):
    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=12, choices=EventAction.choices)
    step_name = models.CharField(max_length=60, blank=True)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]


class ApprovalCC(models.Model):
    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="ccs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_ccs"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "user"], name="approvals_cc_once")
        ]


class Delegation(BaseModel):
    """While away, an approver's new tasks go to a delegate (date range, inclusive)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.CASCADE,
        related_name="delegations",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegate"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lte=F("end_date")), name="approvals_delegation_dates"
            ),
            models.CheckConstraint(
                condition=~Q(user=F("delegate")), name="approvals_delegation_not_self"
            ),
        ]


class RequestKind(models.TextChoices):
    GENERAL = "general", _("General")
    EVENT = "event", _("Marketing event")
    PURCHASE = "purchase", _("Purchase")
    SEAL = "seal", _("Use of company seal")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other")


class GeneralRequest(BaseModel):
    """A general approval form (通用审批单), like Odoo's Approvals app: anything that needs a yes
    before it happens and has no document of its own yet."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(
        _("category"), max_length=12, choices=RequestKind.choices, default=RequestKind.GENERAL
    )
    amount = models.DecimalField(
        _("amount (CNY)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        **MONEY,
    )
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    description = models.TextField(_("details"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitter"),
        on_delete=models.PROTECT,
        related_name="general_requests",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("general request")
        verbose_name_plural = _("general requests")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="approvals_general_amount_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("approvals:general_detail", args=[self.pk])
