from django.urls import path

from . import import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("new/<str:kind>/", import_views.import_new, name="new"),
    path("template/<str:kind>/", import_views.import_template, name="template"),
    path("<int:job_id>/", import_views.import_detail, name="detail"),
    path("<int:job_id>/errors/", import_views.import_errors, name="errors"),
]
