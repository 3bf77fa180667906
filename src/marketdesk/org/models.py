"""Company, department tree, positions, employees and roles with their data scope (R2)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from marketdesk.core.models import BaseModel


class Company(BaseModel):
    """The one company this installation serves (its settings)."""

    name = models.CharField(_("company name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year starts in month"), default=1
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    default_language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("company")
        constraints = [
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1) & Q(fiscal_year_start_month__lte=12),
                name="org_company_fiscal_month_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentKind(models.TextChoices):
    DEPARTMENT = "department", _("Department")
    GROUP = "group", _("Group")
    MANAGEMENT = "management", _("Management")


class Department(BaseModel):
    """A unit in the tree of any depth. `path` (/1/4/9/) makes "this unit and below" one query."""

    name = models.CharField(_("name"), max_length=80)
    code = models.CharField(_("code"), max_length=30, unique=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=DepartmentKind.choices, default=DepartmentKind.DEPARTMENT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    head = models.ForeignKey(
        "Employee",
        verbose_name=_("head"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_units",
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    path = models.CharField(max_length=255, db_index=True, editable=False, default="/")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path", "sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="org_department_unique_name_in_parent"
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="org_department_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("org:department_detail", args=[self.pk])


class Position(BaseModel):
    name = models.CharField(_("name"), max_length=60, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataScope(models.TextChoices):
    SELF = "self", _("Own records only")
    DEPARTMENT = "department", _("Own department")
    SUBTREE = "subtree", _("Own department and below")
    CHOSEN = "chosen", _("Chosen departments")
    ALL = "all", _("All")


class Role(BaseModel):
    """A set of permissions plus the data scope they apply with."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    permissions = models.ManyToManyField(Permission, verbose_name=_("permissions"), blank=True)
    data_scope = models.CharField(
        _("data scope"), max_length=12, choices=DataScope.choices, default=DataScope.SELF
    )
    departments = models.ManyToManyField(
        Department, verbose_name=_("chosen departments"), blank=True, related_name="+"
    )
    # Per module (app label), a data scope that replaces `data_scope` for that module's
    # permissions, e.g. customer service sees every customer ({"crm": "all"}) but only its own
    # unit's employees.
    app_scopes = models.JSONField(_("data scope per module"), default=dict, blank=True)
    is_system = models.BooleanField(_("shipped role"), default=False)
    history = HistoricalRecords(m2m_fields=[permissions, departments])

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        # Shipped roles keep their English name as a message id, so they show in the user's language.
        return gettext(self.name) if self.is_system else self.name

    def scope_for_app(self, app_label: str) -> str:
        return self.app_scopes.get(app_label) or self.data_scope

    @property
    def display_description(self) -> str:
        return (
            gettext(self.description) if self.is_system and self.description else self.description
        )


class EmployeeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEFT = "left", _("Left")


class Employee(BaseModel):
    """A member of staff; one-to-one with a user account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="employee",
    )
    employee_no = models.CharField(_("employee no."), max_length=30, unique=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="employees"
    )
    position = models.ForeignKey(
        Position,
        verbose_name=_("position"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
    )
    supervisor = models.ForeignKey(
        "self",
        verbose_name=_("supervisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    roles = models.ManyToManyField(
        Role, verbose_name=_("roles"), blank=True, related_name="employees"
    )
    gender = models.CharField(
        _("gender"), max_length=1, blank=True, choices=[("M", _("Male")), ("F", _("Female"))]
    )
    id_number = models.CharField(_("ID card number"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=EmployeeStatus.choices, default=EmployeeStatus.ACTIVE
    )
    left_date = models.DateField(_("left on"), null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[roles])

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["department__path", "employee_no"]
        permissions = [("handover_employee", _("Can hand over a departing employee's records"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active", left_date__isnull=True) | Q(status="left"),
                name="org_employee_left_date_only_when_left",
            ),
            models.CheckConstraint(
                condition=~Q(supervisor=F("id")), name="org_employee_not_own_supervisor"
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("org:employee_detail", args=[self.pk])

    @property
    def name(self) -> str:
        return str(self.user)

    @property
    def mobile(self) -> str:
        return self.user.mobile or ""


class Handover(BaseModel):
    """A departing employee's records moved to a successor in one logged action (离职继承)."""

    from_employee = models.ForeignKey(
        Employee, verbose_name=_("from"), on_delete=models.PROTECT, related_name="handovers_out"
    )
    to_employee = models.ForeignKey(
        Employee, verbose_name=_("to"), on_delete=models.PROTECT, related_name="handovers_in"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    moved = models.JSONField(_("records moved"), default=dict)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_employee=F("to_employee")), name="org_handover_distinct"
            )
        ]
