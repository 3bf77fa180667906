from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    ApiToken,
    DocumentSequence,
    ImportJob,
    JobRun,
    LoginAttempt,
    PersonalDataAccessLog,
    RobotWebhook,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "name", "mobile", "is_active", "is_staff"]
    search_fields = ["username", "name", "mobile"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("MarketDesk", {"fields": ["name", "mobile", "language"]}),
    ]


@admin.register(DocumentSequence)
class DocumentSequenceAdmin(admin.ModelAdmin):
    list_display = ["doc_type", "name", "prefix", "reset", "padding"]


@admin.register(RobotWebhook)
class RobotWebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "active", "kinds"]


@admin.register(PersonalDataAccessLog)
class PersonalDataAccessLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "action", "description", "row_count", "ip_address"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "username", "ip_address", "success", "reason"]
    list_filter = ["success", "reason"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash"]


admin.site.register(ImportJob)
admin.site.register(JobRun)
