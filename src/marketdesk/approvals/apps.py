from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "marketdesk.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from . import registrations  # noqa: F401
