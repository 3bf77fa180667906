from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "marketdesk.finance"
    label = "finance"
    verbose_name = _("Budget and expenses")

    def ready(self) -> None:
        from . import registrations  # noqa: F401
