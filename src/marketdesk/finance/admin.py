"""Admin of the finance app: categories and settings are set up here; documents are read-only
(they change only through the services, so the ledger stays true)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Budget,
    BudgetEntry,
    BudgetLine,
    ExpenseCategory,
    ExpenseClaim,
    FinanceSettings,
)


@admin.register(FinanceSettings)
class FinanceSettingsAdmin(admin.ModelAdmin):
    list_display = ["request_threshold", "near_percent"]


@admin.register(ExpenseCategory)
class ExpenseCategoryAdmin(SimpleHistoryAdmin):
    list_display = [
        "code",
        "name",
        "family",
        "parent",
        "requires_invoice",
        "requires_contract",
        "account",
        "active",
    ]
    list_filter = ["family", "active"]
    search_fields = ["code", "name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "fiscal_year", "department", "status"]


@admin.register(BudgetLine)
class BudgetLineAdmin(ReadOnlyAdmin):
    list_display = ["budget", "category", "period", "amount", "committed", "spent", "mode"]


@admin.register(BudgetEntry)
class BudgetEntryAdmin(ReadOnlyAdmin):
    list_display = ["line", "kind", "amount", "source_label", "at", "by"]


@admin.register(ExpenseClaim)
class ExpenseClaimAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "claimant", "total", "status"]
    search_fields = ["number", "title"]
