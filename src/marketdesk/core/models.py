"""Kernel data: users, numbering, attachments, timeline, notifications, logs, jobs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in. Chinese names are one field (`name`); mobile is a log-in."""

    name = models.CharField(_("name"), max_length=60, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, null=True, unique=True)
    # Empty: follow the browser (and the company default). Set when the user picks a language.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="", blank=True
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return str(self)


class BaseModel(models.Model):
    """Created/updated at and by, on every business record."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True


class SequenceReset(models.TextChoices):
    YEARLY = "yearly", _("Every year")
    MONTHLY = "monthly", _("Every month")
    NEVER = "never", _("Never")


class DocumentSequence(models.Model):
    """How one document type is numbered, e.g. EXP-2026-000123."""

    doc_type = models.CharField(_("document type"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=20)
    reset = models.CharField(
        _("reset"), max_length=10, choices=SequenceReset.choices, default=SequenceReset.YEARLY
    )
    padding = models.PositiveSmallIntegerField(_("digits"), default=6)
    separator = models.CharField(_("separator"), max_length=2, default="-", blank=True)

    class Meta:
        verbose_name = _("document numbering")
        verbose_name_plural = _("document numbering")
        constraints = [
            models.CheckConstraint(
                condition=Q(padding__gte=1) & Q(padding__lte=12), name="core_sequence_padding_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class SequenceCounter(models.Model):
    """The last number handed out for one sequence in one period (year, month or all time)."""

    sequence = models.ForeignKey(
        DocumentSequence, on_delete=models.CASCADE, related_name="counters"
    )
    period = models.CharField(max_length=8, blank=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "period"], name="core_counter_unique_period"
            )
        ]


class RecordAccess(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class RecordShare(models.Model):
    """A user who may see (or also change) one record beyond their data scope: a team member."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares"
    )
    access = models.CharField(max_length=8, choices=RecordAccess.choices, default=RecordAccess.READ)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="core_share_unique_member"
            )
        ]
        indexes = [models.Index(fields=["user", "content_type"])]


class Attachment(models.Model):
    """A file on any record. Stored privately; downloaded only through a permission check."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    mime_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="core_attachment_size")
        ]

    def __str__(self) -> str:
        return self.original_name


class Comment(models.Model):
    """A note on a record's timeline; @mentions notify."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"), max_length=5000)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"])]


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")
    TODO = "todo", _("To-do")


class Activity(models.Model):
    """A scheduled activity on a record (Odoo's chatter activities): due date, assignee."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(
        _("type"), max_length=10, choices=ActivityKind.choices, default=ActivityKind.TODO
    )
    summary = models.CharField(_("summary"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    due_date = models.DateField(_("due date"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["assignee", "done_at", "due_date"]),
        ]

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_date < timezone.localdate()


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=40, default="info")
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]
        ordering = ["-created_at", "-id"]


class RobotKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    FEISHU = "feishu", _("Feishu group robot")


class RobotWebhook(BaseModel):
    """A group robot (企业微信 / 钉钉 / 飞书) that receives notifications of chosen kinds."""

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("platform"), max_length=10, choices=RobotKind.choices)
    url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    kinds = models.CharField(
        _("notification kinds"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated notification kinds; empty means all."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")

    def __str__(self) -> str:
        return self.name

    def accepts(self, kind: str) -> bool:
        wanted = {k.strip() for k in self.kinds.split(",") if k.strip()}
        return not wanted or kind in wanted


class DeliveryLog(models.Model):
    """Each attempt to deliver a notification through an outside channel."""

    channel = models.CharField(max_length=20)
    target = models.CharField(max_length=200)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, null=True, blank=True)
    ok = models.BooleanField(default=False)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One spreadsheet import: validated as a whole, written all or nothing."""

    kind = models.CharField(_("import"), max_length=60)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    mode = models.CharField(_("mode"), max_length=10, default="create")
    key_field = models.CharField(_("match on"), max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    @property
    def progress(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (ImportStatus.DONE, ImportStatus.FAILED) else 0
        return int(self.processed_rows * 100 / self.total_rows)


class PersonalDataAction(models.TextChoices):
    VIEW = "view", _("Viewed unmasked")
    EXPORT = "export", _("Exported")


class PersonalDataAccessLog(models.Model):
    """Who saw personal data unmasked, or exported records, and when (PIPL, R5.1.3)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=PersonalDataAction.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    description = models.CharField(_("what"), max_length=300)
    row_count = models.PositiveIntegerField(default=1)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        ordering = ["-created_at"]
        permissions = [
            ("view_personal_data", _("Can see personal data unmasked")),
            ("export_data", _("Can export records")),
            ("import_data", _("Can import records")),
        ]


class LoginAttempt(models.Model):
    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    success = models.BooleanField(default=False)
    reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["username", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
        ]
        ordering = ["-created_at"]


class ApiToken(models.Model):
    """A personal API token; only a hash is stored and it can be revoked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]


class TOTPDevice(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp"
    )
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_counter = models.BigIntegerField(default=0)


class JobRun(models.Model):
    """One run of a scheduled job for one slot; the unique key makes each slot run once."""

    job = models.CharField(max_length=80)
    slot = models.CharField(max_length=40)
    status = models.CharField(max_length=10, default="running")
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="core_jobrun_once_per_slot")
        ]
        ordering = ["-started_at"]
