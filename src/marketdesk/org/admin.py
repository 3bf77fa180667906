from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Company, Department, Employee, Handover, Position, Role


@admin.register(Company)
class CompanyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "fiscal_year_start_month", "currency"]


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "kind", "parent", "head", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "code"]
    readonly_fields = ["path", "depth"]


@admin.register(Position)
class PositionAdmin(SimpleHistoryAdmin):
    search_fields = ["name"]


@admin.register(Role)
class RoleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "data_scope", "is_system"]
    filter_horizontal = ["permissions", "departments"]


@admin.register(Employee)
class EmployeeAdmin(SimpleHistoryAdmin):
    list_display = ["employee_no", "user", "department", "position", "status"]
    list_filter = ["status", "department"]
    search_fields = ["employee_no", "user__name", "user__username"]
    filter_horizontal = ["roles"]


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ["from_employee", "to_employee", "created_at"]
    readonly_fields = ["moved"]
