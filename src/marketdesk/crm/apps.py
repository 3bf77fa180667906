from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "marketdesk.crm"
    label = "crm"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from . import registrations  # noqa: F401
