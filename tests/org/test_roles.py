"""The shipped roles: `sync_shipped_roles` adds what is missing and never takes anything away."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from marketdesk.org import services
from marketdesk.org.models import DataScope, Role
from marketdesk.org.roles import SHIPPED, grant, sync_shipped_roles


def codes(role: Role) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in role.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def perm(code: str) -> Permission:
    app_label, _, codename = code.partition(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


class TestSyncShippedRoles:
    def test_every_shipped_role_exists_with_its_scope_and_permissions(self, db):
        sync_shipped_roles()
        for shipped in SHIPPED.values():
            role = Role.objects.get(code=shipped.code)
            assert role.is_system
            assert role.data_scope == shipped.data_scope
            assert codes(role) >= {
                c for c in shipped.permissions if c.split(".")[0] in {"org", "core"}
            }

    def test_it_is_idempotent(self, db):
        sync_shipped_roles()
        before = {role.code: codes(role) for role in Role.objects.all()}
        assert sync_shipped_roles() == 0
        assert Role.objects.count() == len(before)
        assert {role.code: codes(role) for role in Role.objects.all()} == before

    def test_it_recreates_a_missing_role_only(self, db):
        sync_shipped_roles()
        Role.objects.filter(code="promotion").delete()
        assert sync_shipped_roles() == 1
        assert Role.objects.filter(code="promotion", is_system=True).exists()

    def test_it_never_removes_a_permission_an_administrator_added(self, personas):
        role = Role.objects.get(code="salesperson")
        extra = perm("core.export_data")
        services.role_update(
            actor=personas.admin, role=role, permissions=[*role.permissions.all(), extra]
        )
        sync_shipped_roles()
        assert "core.export_data" in codes(Role.objects.get(code="salesperson"))

    def test_it_keeps_an_administrators_scope_and_name(self, personas):
        role = Role.objects.get(code="group_leader")
        services.role_update(
            actor=personas.admin, role=role, data_scope=DataScope.SUBTREE, name="组长"
        )
        sync_shipped_roles()
        role.refresh_from_db()
        assert (role.data_scope, role.name) == (DataScope.SUBTREE, "组长")


class TestGrant:
    @pytest.fixture
    def restore_promotion(self):
        saved = set(SHIPPED["promotion"].permissions)
        yield
        SHIPPED["promotion"].permissions = saved

    def test_a_later_app_extends_a_shipped_role(self, db, restore_promotion):
        sync_shipped_roles()
        grant("promotion", "core.export_data")
        sync_shipped_roles()
        assert "core.export_data" in codes(Role.objects.get(code="promotion"))

    def test_granting_to_one_role_leaves_the_others_alone(self, db, restore_promotion):
        # salesperson and promotion are built from the same set of read permissions
        grant("promotion", "core.export_data")
        assert "core.export_data" not in SHIPPED["salesperson"].permissions
        sync_shipped_roles()
        assert "core.export_data" not in codes(Role.objects.get(code="salesperson"))

    def test_a_permission_that_does_not_exist_yet_is_skipped(self, db, restore_promotion):
        grant("promotion", "campaigns.view_campaign")
        sync_shipped_roles()
        assert "campaigns.view_campaign" not in codes(Role.objects.get(code="promotion"))
