from django.urls import path

from . import account_views, views

app_name = "core"

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("login/", account_views.login_view, name="login"),
    path("login/otp/", account_views.login_otp, name="login_otp"),
    path("logout/", account_views.logout_view, name="logout"),
    path("account/", account_views.account, name="account"),
    path("account/password/", account_views.password_change, name="password_change"),
    path("account/totp/", account_views.totp_setup, name="totp_setup"),
    path("account/totp/disable/", account_views.totp_disable, name="totp_disable"),
    path("account/tokens/", account_views.token_create, name="token_create"),
    path("account/tokens/<int:token_id>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("search/", views.search, name="search"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notification_read, name="notification_read"),
    path(
        "records/<int:content_type_id>/<int:object_id>/files/",
        views.attachment_upload,
        name="attachment_upload",
    ),
    path(
        "records/<int:content_type_id>/<int:object_id>/comments/",
        views.comment_add,
        name="comment_add",
    ),
    path(
        "records/<int:content_type_id>/<int:object_id>/activities/",
        views.activity_add,
        name="activity_add",
    ),
    path("files/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("files/<int:attachment_id>/delete/", views.attachment_delete, name="attachment_delete"),
    path("activities/<int:activity_id>/done/", views.activity_done, name="activity_done"),
]
