"""The "crm.customers_won" business metric that finance's analysis reads (cost per customer won)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from marketdesk.core.metrics import CUSTOMERS_WON, metric, register_metric
from marketdesk.crm import selectors, services
from marketdesk.crm.models import CustomerStage


def test_customers_won_count_per_unit_including_sub_units(personas, make_customer):
    # Other tests (finance) swap the provider for a stub; use crm's own, as at start-up.
    register_metric(CUSTOMERS_WON, "customers won", selectors.customers_won)
    today = timezone.localdate()
    won = make_customer(personas.sales1, name="苏州瑞丰精密机械有限公司")
    services.customer_update(actor=personas.sales1, customer=won, stage=CustomerStage.DEAL)
    make_customer(personas.sales2, name="杭州恒通物流有限公司")  # not won
    group1 = personas.emp("sales1").department
    marketing = personas.units["MKT"]
    figures = metric(
        CUSTOMERS_WON,
        department_ids=[group1.pk, marketing.pk, personas.emp("sales2").department_id],
        start=today - datetime.timedelta(days=1),
        end=today,
    )
    assert figures[group1.pk] == Decimal(1)
    assert figures[marketing.pk] == Decimal(1)
    assert figures[personas.emp("sales2").department_id] == Decimal(0)
    earlier = metric(
        CUSTOMERS_WON,
        department_ids=[marketing.pk],
        start=today - datetime.timedelta(days=60),
        end=today - datetime.timedelta(days=30),
    )
    assert earlier == {marketing.pk: Decimal(0)}
