from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "marketdesk.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from . import api, jobs, notifications, registrations  # noqa: F401  (registers jobs, todos, schema)
        from .history import cache_manager_classes

        cache_manager_classes()
