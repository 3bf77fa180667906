"""Customers (R5.1): customers and contacts, the customer pool (公海), owner changes,
follow-ups (跟进记录), revisits (回访), saved segments and tags, CRM settings."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    INDIVIDUAL = "individual", _("Individual")


class CustomerLevel(models.TextChoices):
    A = "A", _("A · key")
    B = "B", _("B · normal")
    C = "C", _("C · low")


class CustomerStage(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    INTENTION = "intention", _("Intention")
    DEAL = "deal", _("Deal")
    LOST = "lost", _("Lost")
    DORMANT = "dormant", _("Dormant")


class CustomerSource(models.TextChoices):
    CAMPAIGN = "campaign", _("Campaign")
    CHANNEL = "channel", _("Channel partner")
    REFERRAL = "referral", _("Referral")
    EXHIBITION = "exhibition", _("Exhibition")
    WEBSITE = "website", _("Website")
    COLD_CALL = "cold_call", _("Cold call")
    WECHAT = "wechat", _("WeChat")
    OTHER = "other", _("Other")


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail and wholesale")
    IT = "it", _("Information technology")
    FINANCE = "finance", _("Finance and insurance")
    REAL_ESTATE = "real_estate", _("Real estate and construction")
    EDUCATION = "education", _("Education")
    HEALTHCARE = "healthcare", _("Healthcare")
    LOGISTICS = "logistics", _("Logistics")
    ENERGY = "energy", _("Energy and utilities")
    GOVERNMENT = "government", _("Government and public sector")
    HOSPITALITY = "hospitality", _("Hospitality and catering")
    AGRICULTURE = "agriculture", _("Agriculture")
    OTHER = "other", _("Other")


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    PURCHASER = "purchaser", _("Purchaser")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    OTHER = "other", _("Other")


class DuplicateMode(models.TextChoices):
    BLOCK = "block", _("Block: a duplicate cannot be saved")
    WARN = "warn", _("Warn: show the matches, allow saving after confirmation")


class CrmSettings(models.Model):
    """One row: the company's CRM rules that are not per pool."""

    duplicate_mode = models.CharField(
        _("duplicate customers"),
        max_length=8,
        choices=DuplicateMode.choices,
        default=DuplicateMode.BLOCK,
    )
    export_approval_rows = models.PositiveIntegerField(
        _("export rows needing approval"),
        default=1000,
        help_text=_("An export of more customers than this needs an approved export request."),
    )
    revisit_days_a = models.PositiveIntegerField(_("revisit every (days), level A"), default=30)
    revisit_days_b = models.PositiveIntegerField(_("revisit every (days), level B"), default=90)
    revisit_days_c = models.PositiveIntegerField(_("revisit every (days), level C"), default=180)
    low_satisfaction = models.PositiveSmallIntegerField(
        _("low satisfaction score"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("A revisit scored at or below this notifies the owner's group leader."),
    )
    dormant_days = models.PositiveIntegerField(
        _("dormant after (days without contact)"), default=180
    )

    class Meta:
        verbose_name = _("CRM settings")
        verbose_name_plural = _("CRM settings")

    def revisit_days(self, level: str) -> int:
        return {
            CustomerLevel.A: self.revisit_days_a,
            CustomerLevel.B: self.revisit_days_b,
        }.get(level, self.revisit_days_c)


class CustomerPool(BaseModel):
    """A customer pool (公海) with its return and claim rules."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customer_pools",
        help_text=_("Customers of this unit and its sub-units return to this pool."),
    )
    provinces = models.CharField(
        _("provinces"),
        max_length=300,
        blank=True,
        help_text=_("Optional: customers in these provinces (separated by commas) use this pool."),
    )
    is_default = models.BooleanField(_("default pool"), default=False)
    active = models.BooleanField(_("in use"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="customer_pools",
        help_text=_("Who may see and claim; nobody chosen means everyone who may claim."),
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("administrators"),
        blank=True,
        related_name="administered_pools",
    )
    no_follow_up_days_a = models.PositiveIntegerField(
        _("return after days without follow-up (A)"), null=True, blank=True, default=30
    )
    no_follow_up_days_b = models.PositiveIntegerField(
        _("return after days without follow-up (B)"), null=True, blank=True, default=20
    )
    no_follow_up_days_c = models.PositiveIntegerField(
        _("return after days without follow-up (C)"), null=True, blank=True, default=15
    )
    no_deal_days_a = models.PositiveIntegerField(
        _("return after days without a deal (A)"), null=True, blank=True, default=180
    )
    no_deal_days_b = models.PositiveIntegerField(
        _("return after days without a deal (B)"), null=True, blank=True, default=90
    )
    no_deal_days_c = models.PositiveIntegerField(
        _("return after days without a deal (C)"), null=True, blank=True, default=60
    )
    deal_exempt = models.BooleanField(_("customers with a deal never return"), default=True)
    remind_days_before = models.PositiveIntegerField(_("remind days before a return"), default=3)
    reclaim_cooldown_days = models.PositiveIntegerField(
        _("previous owner may not reclaim for (days)"), default=7
    )
    daily_claim_cap = models.PositiveIntegerField(
        _("claims per person per day"), null=True, blank=True, default=20
    )

    class Meta:
        verbose_name = _("customer pool")
        verbose_name_plural = _("customer pools")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="crm_one_default_pool"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("crm:pool_detail", args=[self.pk])

    def no_follow_up_days(self, level: str) -> int | None:
        return {"A": self.no_follow_up_days_a, "B": self.no_follow_up_days_b}.get(
            level, self.no_follow_up_days_c
        )

    def no_deal_days(self, level: str) -> int | None:
        return {"A": self.no_deal_days_a, "B": self.no_deal_days_b}.get(level, self.no_deal_days_c)


class HoldingLimit(BaseModel):
    """How many customers one person (or each person of a unit) may own and lock."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="customer_limit",
    )
    department = models.OneToOneField(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="customer_limit",
    )
    max_owned = models.PositiveIntegerField(_("owned customers at most"), null=True, blank=True)
    max_locked = models.PositiveIntegerField(_("locked customers at most"), null=True, blank=True)

    class Meta:
        verbose_name = _("holding limit")
        verbose_name_plural = _("holding limits")
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(department__isnull=True))
                | (Q(user__isnull=True) & Q(department__isnull=False)),
                name="crm_limit_user_xor_department",
            )
        ]

    def __str__(self) -> str:
        return str(self.user or self.department)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=30, unique=True)
    color = models.CharField(_("colour"), max_length=20, default="secondary")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(BaseModel):
    """A customer: a company or a person. No owner means the customer is in a pool."""

    number = models.CharField(_("customer no."), max_length=30, unique=True, editable=False)
    kind = models.CharField(
        _("kind"), max_length=12, choices=CustomerKind.choices, default=CustomerKind.COMPANY
    )
    name = models.CharField(_("name"), max_length=100)
    name_key = models.CharField(max_length=100, db_index=True, editable=False)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, db_index=True
    )
    mobile = models.CharField(_("mobile"), max_length=11, blank=True, db_index=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=20, blank=True)
    district = models.CharField(_("district"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=12, choices=CustomerSource.choices, default=CustomerSource.OTHER
    )
    level = models.CharField(
        _("level"), max_length=1, choices=CustomerLevel.choices, default=CustomerLevel.B
    )
    stage = models.CharField(
        _("stage"), max_length=10, choices=CustomerStage.choices, default=CustomerStage.POTENTIAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    pool = models.ForeignKey(
        CustomerPool,
        verbose_name=_("pool"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    products_of_interest = models.CharField(_("products of interest"), max_length=200, blank=True)
    budget = models.DecimalField(
        _("budget"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    purchase_timing = models.CharField(_("purchase timing"), max_length=60, blank=True)
    pain_points = models.TextField(_("pain points"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    member_since = models.DateField(_("member since"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    locked = models.BooleanField(_("locked"), default=False)
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    pooled_at = models.DateTimeField(_("in the pool since"), null=True, blank=True)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    next_contact_at = models.DateTimeField(_("next contact"), null=True, blank=True)
    won_at = models.DateTimeField(_("deal on"), null=True, blank=True)
    return_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(
        excluded_fields=["name_key", "return_reminded_at", "updated_at", "updated_by"],
        m2m_fields=[tags],
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("claim_customer", _("Can claim customers from the pool")),
            ("assign_customer", _("Can assign and transfer customers")),
            ("lock_customer", _("Can lock customers")),
            ("view_customer_analysis", _("Can view the customer analysis")),
            ("manage_crm_settings", _("Can manage pools, limits and CRM settings")),
        ]
        indexes = [
            # The list's order is (-last_contact_at, -id): with "id" in the index PostgreSQL
            # reads the first 50 rows straight from it (without, it sorts every customer
            # with the same last contact, e.g. all never contacted: 0.5-1.2 s on 1M rows).
            models.Index(
                fields=["owner", "stage", "last_contact_at", "id"], name="crm_cust_owner_stage"
            ),
            models.Index(fields=["owner", "last_contact_at", "id"], name="crm_cust_owner_contact"),
            models.Index(
                fields=["department", "stage", "last_contact_at", "id"], name="crm_cust_dept_stage"
            ),
            # the name and number included: a long subtree's search reads its units' names
            # from this index alone (crm.selectors.UNIT_SCAN_RATIO; PostgreSQL)
            models.Index(
                fields=["department", "last_contact_at", "id"],
                include=["name_key", "number"],
                name="crm_cust_dept_contact",
            ),
            models.Index(fields=["stage", "last_contact_at", "id"], name="crm_cust_stage_contact"),
            models.Index(fields=["last_contact_at", "id"], name="crm_cust_contact"),
            models.Index(fields=["pool", "pooled_at"], name="crm_cust_pool"),
            # the pool scene in the list's order: a common word searched in the pool walks
            # only the pool's rows (5 % of 1M), its capped count from the index alone
            # (PostgreSQL; SQLite ignores `include`)
            models.Index(
                fields=["last_contact_at", "id"],
                include=["pool", "name_key", "number"],
                condition=Q(owner__isnull=True),
                name="crm_cust_pool_contact",
            ),
            models.Index(fields=["owner", "next_contact_at"], name="crm_cust_owner_next"),
            # new deal customers per salesperson in a period (sales rankings, finance metric)
            models.Index(
                fields=["won_at", "owner"],
                name="crm_cust_won",
                condition=Q(won_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | Q(locked=False), name="crm_locked_has_owner"
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0), name="crm_budget_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("crm:customer_detail", args=[self.pk])

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None


class Contact(BaseModel):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=50)
    title = models.CharField(_("title"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=40, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    decision_role = models.CharField(
        _("decision role"), max_length=16, choices=DecisionRole.choices, blank=True
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="crm_one_primary_contact"
            )
        ]

    def __str__(self) -> str:
        return self.name


class OwnerChangeKind(models.TextChoices):
    CREATE = "create", _("Created")
    CLAIM = "claim", _("Claimed from the pool")
    ASSIGN = "assign", _("Assigned")
    TRANSFER = "transfer", _("Transferred")
    RETURN = "return", _("Returned to the pool")
    AUTO_RETURN = "auto_return", _("Returned to the pool automatically")
    HANDOVER = "handover", _("Handed over (employee left)")
    IMPORT = "import", _("Imported")


class OwnerChange(models.Model):
    """One row per change of owner: who, from whom, to whom, why."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="owner_changes")
    kind = models.CharField(_("kind"), max_length=12, choices=OwnerChangeKind.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    pool = models.ForeignKey(CustomerPool, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("owner change")
        verbose_name_plural = _("owner changes")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["to_user", "kind", "at"], name="crm_change_claims")]


class FollowUpKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    OTHER = "other", _("Other")


class FollowUp(BaseModel):
    """A follow-up (跟进记录) with a customer."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="customer_follow_ups",
    )
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FollowUpKind.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    content = models.TextField(_("content"))
    next_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    stage = models.CharField(
        _("stage afterwards"), max_length=10, choices=CustomerStage.choices, blank=True
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="follow_ups"
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    check_in_address = models.CharField(_("check-in address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "at"], name="crm_follow_customer"),
            models.Index(fields=["user", "at"], name="crm_follow_user"),
            # follow-ups per person in a period (sales rankings)
            models.Index(fields=["at", "user"], name="crm_follow_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90))
                & (Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180)),
                name="crm_follow_coordinates",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("crm:customer_detail", args=[self.customer_id]) + "#follow-ups"


class RevisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Revisit(BaseModel):
    """A revisit (回访) task and, once done, its record (R5.2.1)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="revisits"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="customer_revisits",
    )
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=10, choices=RevisitStatus.choices, default=RevisitStatus.PLANNED
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=FollowUpKind.choices, default=FollowUpKind.PHONE
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction (1-5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    experience = models.TextField(_("experience of use"), blank=True)
    opinions = models.TextField(_("opinions"), blank=True)
    suggestions = models.TextField(_("suggestions"), blank=True)

    class Meta:
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["assignee", "status", "due_date"], name="crm_revisit_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="crm_revisit_score_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(satisfaction__isnull=False, done_at__isnull=False),
                name="crm_revisit_done_has_score",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="planned"),
                name="crm_one_planned_revisit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.due_date}"

    def get_absolute_url(self) -> str:
        return reverse("crm:revisit_detail", args=[self.pk])


class Segment(BaseModel):
    """A saved filter of the customer list (shown with its count)."""

    name = models.CharField(_("name"), max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_segments"
    )
    query = models.CharField(_("filters"), max_length=500)
    shared = models.BooleanField(_("shared with everyone"), default=False)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="crm_segment_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ExportRequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("In approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    USED = "used", _("Downloaded")


class CustomerExportRequest(BaseModel):
    """A bulk export of customers over the configured size, approved before download (R5.1.3)."""

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="customer_exports",
    )
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    query = models.CharField(_("filters"), max_length=500, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ExportRequestStatus.choices,
        default=ExportRequestStatus.DRAFT,
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer export request")
        verbose_name_plural = _("customer export requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.number} · {self.row_count}"

    def get_absolute_url(self) -> str:
        return reverse("crm:export_request_detail", args=[self.pk])
