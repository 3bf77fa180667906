from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("departments/", views.department_list, name="department_list"),
    path("departments/new/", views.department_form, name="department_create"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path("departments/<int:pk>/edit/", views.department_form, name="department_edit"),
    path("departments/<int:pk>/toggle/", views.department_toggle, name="department_toggle"),
    path("employees/", views.employee_list, name="employee_list"),
    path("employees/export/", views.employee_export, name="employee_export"),
    path("employees/bulk/", views.employee_bulk, name="employee_bulk"),
    path("employees/new/", views.employee_form, name="employee_create"),
    path("employees/<int:pk>/", views.employee_detail, name="employee_detail"),
    path("employees/<int:pk>/edit/", views.employee_form, name="employee_edit"),
    path("employees/<int:pk>/reveal/", views.employee_reveal, name="employee_reveal"),
    path("employees/<int:pk>/leave/", views.employee_leave, name="employee_leave"),
    path("employees/<int:pk>/password/", views.employee_password, name="employee_password"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_form, name="role_create"),
    path("roles/<int:pk>/", views.role_detail, name="role_detail"),
    path("roles/<int:pk>/edit/", views.role_form, name="role_edit"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("company/", views.company, name="company"),
    path("positions/new/", views.position_save, name="position_create"),
    path("positions/<int:pk>/", views.position_save, name="position_edit"),
]
