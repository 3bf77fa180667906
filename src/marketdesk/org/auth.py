"""Permissions come from the roles an active employee holds (roles as data)."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import Permission

from .models import EmployeeStatus

CACHE_ATTR = "_md_role_perm_cache"


def role_permissions(user) -> set[str]:
    if not user.is_active or user.is_anonymous:
        return set()
    cached = getattr(user, CACHE_ATTR, None)
    if cached is None:
        rows = (
            Permission.objects.filter(
                role__employees__user=user, role__employees__status=EmployeeStatus.ACTIVE
            )
            .values_list("content_type__app_label", "codename")
            .distinct()
        )
        cached = {f"{app_label}.{codename}" for app_label, codename in rows}
        setattr(user, CACHE_ATTR, cached)
    return cached


class RolePermissionBackend(BaseBackend):
    def get_all_permissions(self, user_obj, obj=None):
        return role_permissions(user_obj)

    def has_perm(self, user_obj, perm, obj=None):
        return perm in role_permissions(user_obj)

    def has_module_perms(self, user_obj, app_label):
        return any(perm.startswith(f"{app_label}.") for perm in role_permissions(user_obj))
