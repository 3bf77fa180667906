"""Root URLs: the HTML app per module, the REST API under /api/v1/, schema and docs."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from marketdesk.approvals import api as approvals_api
from marketdesk.core import api_views as core_api
from marketdesk.core import import_api
from marketdesk.core.i18n import set_language
from marketdesk.crm import api as crm_api
from marketdesk.finance import api as finance_api
from marketdesk.org import api as org_api
from marketdesk.sales import api as sales_api

router = DefaultRouter()
router.register("notifications", core_api.NotificationViewSet, basename="notification")
router.register("attachments", core_api.AttachmentViewSet, basename="attachment")
router.register("tokens", core_api.ApiTokenViewSet, basename="token")
router.register("imports", import_api.ImportJobViewSet, basename="import")
org_api.register(router)
approvals_api.register(router)
crm_api.register(router)
finance_api.register(router)
sales_api.register(router)

admin.site.login = login_required(admin.site.login)  # one sign-in page, with its lockout and 2FA

urlpatterns = [
    path(
        "i18n/setlang/", set_language, name="set_language"
    ),  # also saves the choice on the account
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/health/", core_api.health, name="api-health"),
    path("api/v1/me/", org_api.me, name="api-me"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("org/", include("marketdesk.org.urls")),
    path("approvals/", include("marketdesk.approvals.urls")),
    path("crm/", include("marketdesk.crm.urls")),
    path("finance/", include("marketdesk.finance.urls")),
    path("sales/", include("marketdesk.sales.urls")),
    path("imports/", include("marketdesk.core.import_urls")),
    path("", include("marketdesk.core.urls")),
]
