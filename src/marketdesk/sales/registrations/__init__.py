"""What the sales app plugs into the registries, one module per part, plus the shipped roles."""

from django.utils.translation import gettext_lazy as _

from marketdesk.org.models import DataScope
from marketdesk.org.roles import ShippedRole, grant, grant_scope, ship_role

from .. import demo  # noqa: F401  (the demo steps register themselves)
from ..permissions import SalesPerm as P
from . import opportunities, orders, products, receipts, targets  # noqa: F401

ship_role(
    ShippedRole(
        "coordinator",
        _("Production and logistics coordinator"),
        _("Works on the orders' production and delivery tasks for their unit (R4.2.2)."),
        DataScope.DEPARTMENT,
        {"org.view_department", "org.view_employee", "org.view_position"},
    )
)

SELLER = (
    P.VIEW_PRODUCT,
    P.VIEW_PRICE_LIST,
    P.VIEW_OPPORTUNITY,
    P.ADD_OPPORTUNITY,
    P.VIEW_ORDER,
    P.ADD_ORDER,
    P.VIEW_TASK,
    P.VIEW_DELIVERY,
    P.VIEW_RECEIPT,
    P.ADD_RECEIPT,
    P.VIEW_TARGET,
    P.VIEW_DASHBOARD,
)
grant("salesperson", *SELLER)
grant("group_leader", *SELLER, P.CONFIRM_ORDER, P.ADD_DELIVERY, P.CHANGE_TASK)
grant(
    "marketing_manager",
    *P,
)
grant(
    "management",
    P.VIEW_PRODUCT,
    P.VIEW_PRICE_LIST,
    P.VIEW_OPPORTUNITY,
    P.VIEW_ORDER,
    P.VIEW_TASK,
    P.VIEW_DELIVERY,
    P.VIEW_RECEIPT,
    P.VIEW_TARGET,
    P.VIEW_DASHBOARD,
)
grant(
    "finance",
    P.VIEW_PRODUCT,
    P.VIEW_ORDER,
    P.VIEW_DELIVERY,
    P.VIEW_RECEIPT,
    P.ADD_RECEIPT,
    P.APPROVE_RECEIPT,
    P.CHANGE_CREDIT,
    P.VIEW_TARGET,
    P.VIEW_DASHBOARD,
)
grant("customer_service", P.VIEW_PRODUCT, P.VIEW_ORDER, P.VIEW_DELIVERY)
# Customer service answers questions about any customer's orders and deliveries (R5.2).
grant_scope("customer_service", "sales", DataScope.ALL)
grant("promotion", P.VIEW_PRODUCT, P.VIEW_PRICE_LIST)
grant(
    "coordinator",
    P.VIEW_PRODUCT,
    P.VIEW_ORDER,
    P.VIEW_TASK,
    P.CHANGE_TASK,
    P.VIEW_DELIVERY,
    P.ADD_DELIVERY,
)
grant("administrator", P.CHANGE_SETTINGS, P.CHANGE_DISCOUNT_AUTHORITY, P.CHANGE_STAGE_GROUP)
