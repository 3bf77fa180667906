"""Permission codenames of the CRM app, named once."""

from enum import StrEnum


class CrmPerm(StrEnum):
    VIEW_CUSTOMER = "crm.view_customer"
    ADD_CUSTOMER = "crm.add_customer"
    CHANGE_CUSTOMER = "crm.change_customer"
    DELETE_CUSTOMER = "crm.delete_customer"
    CLAIM_CUSTOMER = "crm.claim_customer"
    ASSIGN_CUSTOMER = "crm.assign_customer"
    LOCK_CUSTOMER = "crm.lock_customer"
    VIEW_ANALYSIS = "crm.view_customer_analysis"
    MANAGE_SETTINGS = "crm.manage_crm_settings"
    ADD_FOLLOW_UP = "crm.add_followup"
    VIEW_REVISIT = "crm.view_revisit"
    CHANGE_REVISIT = "crm.change_revisit"
    REQUEST_EXPORT = "crm.add_customerexportrequest"
