"""Permission codenames of the organisation app, named once."""

from enum import StrEnum


class OrgPerm(StrEnum):
    VIEW_DEPARTMENT = "org.view_department"
    ADD_DEPARTMENT = "org.add_department"
    CHANGE_DEPARTMENT = "org.change_department"
    VIEW_EMPLOYEE = "org.view_employee"
    ADD_EMPLOYEE = "org.add_employee"
    CHANGE_EMPLOYEE = "org.change_employee"
    HANDOVER_EMPLOYEE = "org.handover_employee"
    VIEW_ROLE = "org.view_role"
    ADD_ROLE = "org.add_role"
    CHANGE_ROLE = "org.change_role"
    VIEW_POSITION = "org.view_position"
    CHANGE_POSITION = "org.change_position"
    CHANGE_COMPANY = "org.change_company"


class CorePerm(StrEnum):
    VIEW_PERSONAL_DATA = "core.view_personal_data"
    EXPORT_DATA = "core.export_data"
    IMPORT_DATA = "core.import_data"
