from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "marketdesk.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import registrations  # noqa: F401

        post_migrate.connect(_sync_roles, dispatch_uid="org.sync_shipped_roles")


def _sync_roles(sender, **kwargs) -> None:
    """After each app migrates (its permissions now exist), bring shipped roles up to date."""
    from .roles import sync_shipped_roles

    sync_shipped_roles()
