"""The receipts demo step (53) on the demo company: plans by payment terms, receipts, unpaid
instalments in every aging bucket, receipts waiting for finance, credit limits with one
customer over its limit; run twice, it does nothing the second time. The orders of step 52
are stood in for by helper orders (see test_receipts_helpers)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from marketdesk.crm import services as crm_services
from marketdesk.sales import selectors_receipts as selectors
from marketdesk.sales.credit import credit_check
from marketdesk.sales.demo.receipts import build_receipts
from marketdesk.sales.models import (
    CustomerAccount,
    OrderStatus,
    PaymentTerms,
    Receipt,
    ReceiptStatus,
    SalesSettings,
)

from .test_receipts_helpers import days, make_order

pytestmark = pytest.mark.django_db

TERMS = [
    PaymentTerms.NET30,
    PaymentTerms.INSTALMENTS,
    PaymentTerms.PREPAID,
    PaymentTerms.NET60,
    PaymentTerms.ON_DELIVERY,
]


@pytest.fixture
def demo_orders(catalogue):
    from marketdesk.org.demo import build_org

    build_org()
    users = {u.username: u for u in get_user_model().objects.all()}
    sellers = ["wangfang", "sunhao", "wutao", "zhengli"]
    customers = [
        crm_services.customer_create(
            actor=users[seller],
            kind="company",
            name=f"{city}测试客户有限公司",
            level="A",
            province="浙江省",
            city=city,
        )
        for seller, city in zip(sellers, ["杭州市", "宁波市", "温州市", "嘉兴市"], strict=True)
    ]
    orders = []
    for index, ago in enumerate([420, 330, 260, 200, 170, 140, 120, 100, 80, 65, 50, 35, 20, 8]):
        orders.append(
            make_order(
                owner=users[sellers[index % 4]],
                customer=customers[index % 4],
                product=catalogue["terminal"],
                total=f"{(index % 5 + 1) * 36000}.00",
                order_date=days(-ago),
                promised_date=days(-ago + 25),
                payment_terms=TERMS[index % len(TERMS)],
                status=OrderStatus.DELIVERED if ago > 60 else OrderStatus.CONFIRMED,
            )
        )
    make_order(
        owner=users["wangfang"],
        customer=customers[0],
        product=catalogue["terminal"],
        status=OrderStatus.DRAFT,
    )
    return orders


def test_the_demo_step(demo_orders):
    summary = build_receipts()
    assert "receipts" in summary, summary
    system = get_user_model().objects.get(username="system")
    totals = selectors.aging(actor=system)["totals"]
    for bucket in selectors.BUCKET_KEYS:
        assert totals[bucket] > 0, (bucket, totals)
    statuses = set(Receipt.objects.values_list("status", flat=True))
    assert {ReceiptStatus.CONFIRMED, ReceiptStatus.PENDING, ReceiptStatus.REJECTED} <= statuses
    assert ReceiptStatus.CANCELLED in statuses
    assert Receipt.objects.exclude(reference="").count() == Receipt.objects.count()
    assert SalesSettings.objects.get(pk=1).receipt_approval
    limited = CustomerAccount.objects.filter(credit_limit__isnull=False)
    assert limited.exists()
    over = [a for a in limited if credit_check(customer=a.customer, amount=0).over_limit]
    assert len(over) == 1
    for order in demo_orders:
        order.refresh_from_db()
        assert order.received_amount <= order.receipted_amount <= order.total
    assert build_receipts() == "skipped"
