from django.urls import path

from . import budget_views, reports, views

app_name = "finance"

urlpatterns = [
    path("", views.claim_list, name="home"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/export/", views.claim_export, name="claim_export"),
    path("claims/new/", views.claim_form, name="claim_create"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/edit/", views.claim_form, name="claim_edit"),
    path("claims/<int:pk>/vouchers/", views.claim_voucher_add, name="claim_voucher_add"),
    path(
        "claims/<int:pk>/vouchers/<int:voucher_pk>/remove/",
        views.claim_voucher_remove,
        name="claim_voucher_remove",
    ),
    path("claims/<int:pk>/<str:action>/", views.claim_action, name="claim_action"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_form, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/edit/", views.request_form, name="request_edit"),
    path("requests/<int:pk>/<str:action>/", views.request_action, name="request_action"),
    path("budgets/", budget_views.budget_list, name="budget_list"),
    path("budgets/new/", budget_views.budget_create, name="budget_create"),
    path("budgets/<int:pk>/", budget_views.budget_detail, name="budget_detail"),
    path("budgets/<int:pk>/edit/", budget_views.budget_edit, name="budget_edit"),
    path("budgets/<int:pk>/lines/", budget_views.budget_lines, name="budget_lines"),
    path(
        "budgets/<int:pk>/lines/<int:line_pk>/delete/",
        budget_views.budget_line_delete,
        name="budget_line_delete",
    ),
    path("budgets/<int:pk>/<str:action>/", budget_views.budget_action, name="budget_action"),
    path("lines/", budget_views.line_list, name="line_list"),
    path("lines/<int:pk>/", budget_views.line_detail, name="line_detail"),
    path("adjustments/", budget_views.adjustment_list, name="adjustment_list"),
    path("adjustments/new/", budget_views.adjustment_create, name="adjustment_create"),
    path("adjustments/<int:pk>/", budget_views.adjustment_detail, name="adjustment_detail"),
    path(
        "adjustments/<int:pk>/<str:action>/",
        budget_views.adjustment_action,
        name="adjustment_action",
    ),
    path("accounting/", reports.accounting, name="accounting"),
    path("analysis/", reports.analysis, name="analysis"),
]
