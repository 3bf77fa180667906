from django.urls import path

from . import views

app_name = "crm"

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/count/", views.customer_list_count, name="customer_list_count"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/export/", views.customer_export, name="customer_export"),
    path("customers/bulk/", views.customer_bulk, name="customer_bulk"),
    path("customers/duplicates/", views.duplicate_check, name="duplicate_check"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/reveal/", views.customer_reveal, name="customer_reveal"),
    path("customers/<int:pk>/follow-up/", views.follow_up_create, name="follow_up_create"),
    path("customers/<int:pk>/do/<str:action>/", views.customer_action, name="customer_action"),
    path("customers/<int:customer_pk>/contacts/new/", views.contact_form, name="contact_create"),
    path("customers/<int:customer_pk>/contacts/<int:pk>/", views.contact_form, name="contact_edit"),
    path(
        "customers/<int:customer_pk>/contacts/<int:pk>/delete/",
        views.contact_delete,
        name="contact_delete",
    ),
    path("segments/", views.segment_save, name="segment_save"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    path("pool/", views.pool_customers, name="pool_customers"),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("revisits/", views.revisit_list, name="revisit_list"),
    path("revisits/<int:pk>/", views.revisit_detail, name="revisit_detail"),
    path("analysis/", views.analysis, name="analysis"),
    path("settings/", views.crm_settings, name="settings"),
    path("settings/pools/new/", views.pool_form, name="pool_create"),
    path("settings/pools/<int:pk>/", views.pool_form, name="pool_edit"),
    path("pools/<int:pk>/", views.pool_detail, name="pool_detail"),
    path("settings/tags/", views.tag_create, name="tag_create"),
    path("settings/limits/new/", views.limit_form, name="limit_create"),
    path("settings/limits/<int:pk>/delete/", views.limit_delete, name="limit_delete"),
    path("exports/", views.export_request_list, name="export_request_list"),
    path("exports/new/", views.export_request_create, name="export_request_create"),
    path("exports/<int:pk>/", views.export_request_detail, name="export_request_detail"),
]
