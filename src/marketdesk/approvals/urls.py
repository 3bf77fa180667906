from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bulk-approve/", views.bulk_approve, name="bulk_approve"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("tasks/<int:pk>/<str:action>/", views.task_action, name="task_action"),
    path("flows/", views.flow_list, name="flow_list"),
    path("flows/new/", views.flow_edit, name="flow_create"),
    path("flows/<int:pk>/", views.flow_edit, name="flow_edit"),
    path("flows/<int:pk>/preview/", views.flow_preview, name="flow_preview"),
    path("delegations/", views.delegations, name="delegations"),
    path("general/", views.general_list, name="general_list"),
    path("general/new/", views.general_form, name="general_create"),
    path("general/<int:pk>/", views.general_detail, name="general_detail"),
    path("general/<int:pk>/edit/", views.general_form, name="general_edit"),
    path("general/<int:pk>/<str:action>/", views.general_action, name="general_action"),
]
