"""Permission codenames of the sales app, named once."""

from enum import StrEnum


class SalesPerm(StrEnum):
    # Products, categories and price lists
    VIEW_PRODUCT = "sales.view_product"
    CHANGE_PRODUCT = "sales.change_product"
    VIEW_PRICE_LIST = "sales.view_pricelist"
    CHANGE_PRICE_LIST = "sales.change_pricelist"
    CHANGE_DISCOUNT_AUTHORITY = "sales.change_discountauthority"
    CHANGE_SETTINGS = "sales.change_salessettings"
    # Opportunities, stage groups, competitors
    VIEW_OPPORTUNITY = "sales.view_opportunity"
    ADD_OPPORTUNITY = "sales.add_opportunity"
    CHANGE_STAGE_GROUP = "sales.change_stagegroup"
    CHANGE_COMPETITOR = "sales.change_competitor"
    # Orders, coordination tasks, deliveries (R4.2.2)
    VIEW_ORDER = "sales.view_salesorder"
    ADD_ORDER = "sales.add_salesorder"
    CONFIRM_ORDER = "sales.confirm_salesorder"
    VIEW_TASK = "sales.view_coordinationtask"
    CHANGE_TASK = "sales.change_coordinationtask"
    VIEW_DELIVERY = "sales.view_delivery"
    ADD_DELIVERY = "sales.add_delivery"
    # Receipts and credit
    VIEW_RECEIPT = "sales.view_receipt"
    ADD_RECEIPT = "sales.add_receipt"
    APPROVE_RECEIPT = "sales.change_receipt"
    CHANGE_CREDIT = "sales.change_customeraccount"
    # Targets and the dashboard
    VIEW_TARGET = "sales.view_salestarget"
    CHANGE_TARGET = "sales.change_salestarget"
    VIEW_DASHBOARD = "sales.view_sales_dashboard"
