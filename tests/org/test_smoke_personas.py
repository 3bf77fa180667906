"""The personas fixture builds the organisation the other tests rely on."""

from marketdesk.core.scope import scope_for
from marketdesk.org.permissions import OrgPerm


def test_personas_have_their_roles_scopes(personas):
    assert scope_for(personas.management, OrgPerm.VIEW_EMPLOYEE).all
    manager_scope = scope_for(personas.manager, OrgPerm.VIEW_EMPLOYEE)
    assert personas.units["S1"].pk in manager_scope.department_ids
    assert personas.units["FIN"].pk not in manager_scope.department_ids
    assert scope_for(personas.leader1, OrgPerm.VIEW_EMPLOYEE).department_ids == {
        personas.units["S1"].pk
    }
    assert scope_for(personas.sales1, OrgPerm.VIEW_EMPLOYEE).department_ids == frozenset()
    assert scope_for(personas.outsider, OrgPerm.VIEW_EMPLOYEE).empty
