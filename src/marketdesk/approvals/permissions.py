"""Permission codenames of the approval engine, named once."""

from enum import StrEnum


class ApprovalPerm(StrEnum):
    VIEW_FLOW = "approvals.view_approvalflow"
    ADD_FLOW = "approvals.add_approvalflow"
    CHANGE_FLOW = "approvals.change_approvalflow"
    VIEW_REQUEST = "approvals.view_approvalrequest"  # see requests in one's data scope (beyond own)
    ADD_GENERAL = "approvals.add_generalrequest"
    VIEW_GENERAL = "approvals.view_generalrequest"
