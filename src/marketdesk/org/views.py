"""Organisation pages: departments, employees (with handover), roles, company settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketdesk.core.listing import filtered, list_page
from marketdesk.core.masking import (
    can_export,
    can_view_personal_data,
    log_personal_data_access,
    log_unmasked_view,
)
from marketdesk.core.models import PersonalDataAction
from marketdesk.core.spreadsheets import csv_response, xlsx_response

from . import selectors, services
from .exports import employee_columns
from .filters import EmployeeFilter
from .forms import CompanyForm, DepartmentForm, EmployeeForm, LeaveForm, PositionForm, RoleForm
from .models import DataScope, Employee
from .permissions import OrgPerm


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _apply_errors(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form fields it names (others go on top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# Departments ------------------------------------------------------------------------------


@login_required
def department_list(request):
    _require(request, OrgPerm.VIEW_DEPARTMENT)
    departments = list(
        selectors.department_list(
            actor=request.user, include_inactive=request.GET.get("all") == "1"
        )
    )
    top = sorted((d for d in departments if d.employee_count), key=lambda d: -d.employee_count)[:15]
    chart = {
        "tooltip": {},
        "grid": {"left": 8, "right": 16, "top": 8, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": True, "data": [d.name for d in top]},
        "series": [
            {"type": "bar", "name": str(_("Employees")), "data": [d.employee_count for d in top]}
        ],
    }
    return render(
        request,
        "org/department_list.html",
        {"departments": departments, "chart": chart if top else None},
    )


@login_required
def department_detail(request, pk: int):
    department = selectors.department_get(actor=request.user, pk=pk)
    employees = selectors.employee_list(actor=request.user).filter(department=department)[:200]
    children = selectors.department_list(actor=request.user).filter(parent=department)
    return render(
        request,
        "org/department_detail.html",
        {
            "department": department,
            "employees": employees,
            "children": children,
            "can_edit": request.user.has_perm(OrgPerm.CHANGE_DEPARTMENT),
        },
    )


@login_required
def department_form(request, pk: int | None = None):
    department = selectors.department_get(actor=request.user, pk=pk) if pk else None
    _require(request, OrgPerm.CHANGE_DEPARTMENT if department else OrgPerm.ADD_DEPARTMENT)
    initial = {}
    if department:
        initial = {
            f: getattr(department, f)
            for f in ("name", "code", "kind", "parent", "head", "sort_order")
        }
    elif request.GET.get("parent", "").isdigit():
        initial = {"parent": int(request.GET["parent"])}
    form = DepartmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if department:
                department = services.department_update(
                    actor=request.user, department=department, **form.cleaned_data
                )
            else:
                department = services.department_create(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("org:department_detail", pk=department.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "org/department_form.html", {"form": form, "department": department})


@login_required
@require_POST
def department_toggle(request, pk: int):
    department = selectors.department_get(actor=request.user, pk=pk)
    try:
        services.department_update(
            actor=request.user, department=department, active=not department.active
        )
        messages.success(request, _("Saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("org:department_detail", pk=pk)


# Employees --------------------------------------------------------------------------------

EMPLOYEE_SORTS = {
    "no": "employee_no",
    "name": "user__name",
    "department": "department__path",
    "hire_date": "hire_date",
    "status": "status",
}
EMPLOYEE_SEARCH = ["user__name", "user__username", "employee_no", "user__mobile__exact", "email"]


@login_required
def employee_list(request):
    _require(request, OrgPerm.VIEW_EMPLOYEE)
    result = list_page(
        request,
        selectors.employee_list(actor=request.user),
        sorts=EMPLOYEE_SORTS,
        default_sort="department",
        filterset_class=EmployeeFilter,
        search_fields=EMPLOYEE_SEARCH,
    )
    context = {
        "result": result,
        "can_add": request.user.has_perm(OrgPerm.ADD_EMPLOYEE),
        "export_url": reverse("org:employee_export") if can_export(request.user) else "",
        **_bulk_context(request),
    }
    template = (
        "org/employee_list.html#results"
        if request.htmx and not request.htmx.boosted
        else "org/employee_list.html"
    )
    return render(request, template, context)


def _bulk_context(request) -> dict:
    """The bulk bar of the employee list: only for users who may hand out roles."""
    if not (
        request.user.has_perm(OrgPerm.CHANGE_EMPLOYEE)
        and request.user.has_perm(OrgPerm.CHANGE_ROLE)
    ):
        return {"bulk_roles": None}
    roles = list(selectors.role_list(actor=request.user))
    options = "".join(
        f'<option value="{role.pk}">{conditional_escape(str(role))}</option>' for role in roles
    )
    extra = mark_safe(  # noqa: S308 (role names are escaped above)
        f'<select name="role" class="form-select form-select-sm w-auto" aria-label="{conditional_escape(_("Role"))}">'
        f"{options}</select>"
    )
    return {
        "bulk_roles": roles,
        "bulk_actions": [("grant_role", _("Grant role")), ("revoke_role", _("Remove role"))],
        "bulk_extra": extra,
    }


@login_required
def employee_export(request):
    _require(request, OrgPerm.VIEW_EMPLOYEE)
    if not can_export(request.user):
        raise PermissionDenied
    queryset, _filterset, _search = filtered(
        request,
        selectors.employee_list(actor=request.user),
        filterset_class=EmployeeFilter,
        search_fields=EMPLOYEE_SEARCH,
    )
    queryset = queryset.order_by("department__path", "employee_no")
    unmasked = can_view_personal_data(request.user)
    count = queryset.count()
    log_personal_data_access(
        actor=request.user,
        action=PersonalDataAction.EXPORT,
        description=f"employees export ({'unmasked' if unmasked else 'masked'}): {request.GET.urlencode()}"[
            :300
        ],
        model=Employee,
        row_count=count,
        request=request,
    )
    columns = employee_columns(unmasked=unmasked)
    rows = queryset.iterator(chunk_size=2000)
    if request.GET.get("format") == "csv":
        return csv_response(filename=_("employees"), columns=columns, rows=rows)
    return xlsx_response(
        filename=_("employees"), sheet_title=_("Employees"), columns=columns, rows=rows
    )


@login_required
def employee_detail(request, pk: int):
    employee = selectors.employee_get(actor=request.user, pk=pk)
    handovers = employee.handovers_out.select_related("to_employee__user").all()[:20]
    return render(
        request,
        "org/employee_detail.html",
        {
            "employee": employee,
            "can_edit": request.user.has_perm(OrgPerm.CHANGE_EMPLOYEE),
            "can_unmask": can_view_personal_data(request.user),
            "reports": selectors.employee_list(actor=request.user).filter(supervisor=employee)[:50],
            "handovers": handovers,
        },
    )


@login_required
@require_POST
def employee_reveal(request, pk: int):
    """Show the personal data unmasked (a permission; every reveal is logged)."""
    employee = selectors.employee_get(actor=request.user, pk=pk)
    if not can_view_personal_data(request.user):
        raise PermissionDenied
    log_unmasked_view(
        actor=request.user,
        record=employee,
        fields=["mobile", "id_number", "address"],
        request=request,
    )
    return render(
        request, "org/employee_detail.html#personal", {"employee": employee, "unmasked": True}
    )


def _employee_initial(employee: Employee) -> dict:
    initial = {
        name: getattr(employee, name)
        for name in (
            "department",
            "position",
            "supervisor",
            "gender",
            "hire_date",
            "id_number",
            "address",
            "email",
        )
    }
    initial.update(
        {
            "username": employee.user.username,
            "name": employee.user.name,
            "mobile": employee.user.mobile or "",
            "roles": list(employee.roles.values_list("pk", flat=True)),
        }
    )
    return initial


@login_required
def employee_form(request, pk: int | None = None):
    employee = selectors.employee_get(actor=request.user, pk=pk) if pk else None
    _require(request, OrgPerm.CHANGE_EMPLOYEE if employee else OrgPerm.ADD_EMPLOYEE)
    if employee and not can_view_personal_data(request.user):
        raise PermissionDenied  # editing shows personal data unmasked
    form = EmployeeForm(
        request.POST or None,
        initial=_employee_initial(employee) if employee else None,
        editing=bool(employee),
        can_assign_roles=request.user.has_perm(OrgPerm.CHANGE_ROLE),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        roles = list(data.pop("roles"))
        try:
            if employee:
                data.pop("username", None)
                employee = services.employee_update(
                    actor=request.user, employee=employee, roles=roles, **data
                )
            else:
                employee = services.employee_create(actor=request.user, roles=roles, **data)
            messages.success(request, _("Saved."))
            return redirect("org:employee_detail", pk=employee.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "org/employee_form.html", {"form": form, "employee": employee})


@login_required
def employee_leave(request, pk: int):
    employee = selectors.employee_get(actor=request.user, pk=pk)
    _require(request, OrgPerm.CHANGE_EMPLOYEE)
    form = LeaveForm(request.POST or None, employee=employee, actor=request.user)
    if request.method == "POST" and form.is_valid():
        successor = form.cleaned_data["successor"]
        if successor is not None and not request.user.has_perm(OrgPerm.HANDOVER_EMPLOYEE):
            raise PermissionDenied
        try:
            services.employee_leave(actor=request.user, employee=employee, **form.cleaned_data)
            messages.success(request, _("The employee is marked as left."))
            return redirect("org:employee_detail", pk=employee.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "org/employee_leave.html", {"form": form, "employee": employee})


# Roles ------------------------------------------------------------------------------------


@login_required
def role_list(request):
    _require(request, OrgPerm.VIEW_ROLE)
    return render(
        request,
        "org/role_list.html",
        {
            "roles": selectors.role_list(actor=request.user),
            "can_add": request.user.has_perm(OrgPerm.ADD_ROLE),
        },
    )


PERMISSION_ACTIONS = {
    "add": gettext_lazy("Add"),
    "change": gettext_lazy("Change"),
    "delete": gettext_lazy("Delete"),
    "view": gettext_lazy("View"),
}


def permission_label(permission) -> str:
    """Django stores default permission names in English ("Can view employee"); show them in
    the user's language. Custom permissions carry translatable names already."""
    action, _sep, model_name = permission.codename.partition("_")
    model = permission.content_type.model_class()
    if action in PERMISSION_ACTIONS and model is not None and model_name == model._meta.model_name:
        return f"{PERMISSION_ACTIONS[action]} · {model._meta.verbose_name}"
    return _(permission.name)


def _permission_groups(role=None, form=None):
    """Permissions grouped by app and model, for the role page's checkbox grid."""
    chosen = set()
    if form is not None and form.is_bound:
        chosen = {int(v) for v in form.data.getlist("permissions") if str(v).isdigit()}
    elif role is not None:
        chosen = set(role.permissions.values_list("pk", flat=True))
    groups: dict[str, list] = {}
    for permission in selectors.grantable_permissions():
        model = permission.content_type.model_class()
        label = (
            f"{model._meta.app_config.verbose_name} · {model._meta.verbose_name}"
            if model
            else permission.content_type.model
        )
        permission.label = permission_label(permission)
        groups.setdefault(label, []).append((permission, permission.pk in chosen))
    return groups


@login_required
def role_detail(request, pk: int):
    role = selectors.role_get(actor=request.user, pk=pk)
    members = selectors.employee_list(actor=request.user).filter(roles=role)[:200]
    groups = {k: [p for p, on in v if on] for k, v in _permission_groups(role).items()}
    return render(
        request,
        "org/role_detail.html",
        {
            "role": role,
            "members": members,
            "groups": {k: v for k, v in groups.items() if v},
            "module_scopes": [
                (label, dict(DataScope.choices).get(role.app_scopes[app], role.app_scopes[app]))
                for app, label in selectors.scoped_modules()
                if app in role.app_scopes
            ],
            "can_edit": request.user.has_perm(OrgPerm.CHANGE_ROLE),
        },
    )


@login_required
def role_form(request, pk: int | None = None):
    role = selectors.role_get(actor=request.user, pk=pk) if pk else None
    _require(request, OrgPerm.CHANGE_ROLE if role else OrgPerm.ADD_ROLE)
    initial = None
    if role:
        initial = {
            "code": role.code,
            "name": role.name,
            "description": role.description,
            "data_scope": role.data_scope,
            "departments": list(role.departments.all()),
            "permissions": list(role.permissions.all()),
            **{f"scope__{app}": scope for app, scope in role.app_scopes.items()},
        }
    form = RoleForm(request.POST or None, initial=initial, editing=bool(role))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        permissions, departments = list(data.pop("permissions")), list(data.pop("departments"))
        data["app_scopes"] = form.pop_app_scopes(data)
        try:
            if role:
                data.pop("code", None)
                role = services.role_update(
                    actor=request.user,
                    role=role,
                    permissions=permissions,
                    departments=departments,
                    **data,
                )
            else:
                role = services.role_create(
                    actor=request.user, permissions=permissions, departments=departments, **data
                )
            messages.success(request, _("Saved."))
            return redirect("org:role_detail", pk=role.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(
        request,
        "org/role_form.html",
        {"form": form, "role": role, "groups": _permission_groups(role, form)},
    )


@login_required
@require_POST
def role_delete(request, pk: int):
    role = selectors.role_get(actor=request.user, pk=pk)
    try:
        services.role_delete(actor=request.user, role=role)
        messages.success(request, _("Role deleted."))
        return redirect("org:role_list")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("org:role_detail", pk=pk)


# Company and positions ---------------------------------------------------------------------


@login_required
def company(request):
    _require(request, OrgPerm.CHANGE_COMPANY)
    current = selectors.company_get()
    form = CompanyForm(request.POST or None, instance=current)
    position_form = PositionForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.company_update(actor=request.user, company=current, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("org:company")
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(
        request,
        "org/company.html",
        {
            "form": form,
            "positions": selectors.position_list(actor=request.user),
            "position_form": position_form,
        },
    )


@login_required
@require_POST
def position_save(request, pk: int | None = None):
    _require(request, OrgPerm.CHANGE_POSITION)
    position = None
    if pk is not None:
        position = selectors.position_list(actor=request.user).filter(pk=pk).first()
        if position is None:
            raise Http404
    form = PositionForm(request.POST, instance=position)
    if form.is_valid():
        try:
            services.position_save(actor=request.user, position=position, **form.cleaned_data)
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(
            request,
            " ".join(f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items()),
        )
    return redirect("org:company")


@login_required
def employee_password(request, pk: int):
    """Set a sign-in password for an employee (administrators)."""
    from django import forms as django_forms

    employee = selectors.employee_get(actor=request.user, pk=pk)
    if not (request.user.has_perm(OrgPerm.CHANGE_EMPLOYEE) and request.user.is_staff):
        raise PermissionDenied

    class PasswordForm(django_forms.Form):
        password = django_forms.CharField(
            label=_("New password"), widget=django_forms.PasswordInput, strip=False
        )

    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.employee_set_password(
                actor=request.user, employee=employee, password=form.cleaned_data["password"]
            )
            messages.success(
                request, _("The password was set. Tell the employee in person or by phone.")
            )
            return redirect("org:employee_detail", pk=employee.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "org/employee_password.html", {"form": form, "employee": employee})


@login_required
@require_POST
def employee_bulk(request):
    """Bulk actions of the employee list: grant or remove a role for the selected employees."""
    _require(request, OrgPerm.CHANGE_EMPLOYEE)
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    employees = list(
        selectors.employee_list(actor=request.user).filter(pk__in=ids)
    )  # out-of-scope ids drop out
    action = request.POST.get("action")
    role = selectors.role_list(actor=request.user).filter(pk=request.POST.get("role") or 0).first()
    if action not in ("grant_role", "revoke_role") or role is None:
        messages.error(request, _("Choose an action and a role."))
    else:
        try:
            count = services.employees_change_role(
                actor=request.user, employees=employees, role=role, grant=action == "grant_role"
            )
            messages.success(request, _("%(count)s employee(s) changed.") % {"count": count})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("org:employee_list")
    return redirect(target)
