"""RFM scores: recency, frequency and monetary quintiles (1-5, ties share a score) and the 8
segments computed set-based from booked orders equal a plain Python computation (hypothesis);
accounts without booked orders lose their scores; the list is scoped; the CRM customer
analysis page shows the RFM section through crm's registry (crm never imports sales)."""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdesk.crm import services as crm_services
from marketdesk.crm.registry import analysis_sections
from marketdesk.sales import selectors_targets as selectors
from marketdesk.sales.models import BOOKED, CustomerAccount, OrderStatus, RfmSegment, SalesOrder
from marketdesk.sales.services import targets as services

from .test_targets_rollups import make_order

pytestmark = pytest.mark.django_db
_names = itertools.count(1)


def new_customer(owner, name=None):
    return crm_services.customer_create(
        actor=owner,
        kind="company",
        name=name or f"苏州测试{next(_names)}号科技有限公司",
        level="B",
        province="江苏省",
        city="苏州市",
        source="website",
    )


def reference() -> dict[int, tuple]:
    """{customer id: (last order, count, amount, R, F, M, segment)} computed plainly."""
    stats: dict[int, list] = defaultdict(lambda: [None, 0, Decimal("0")])
    for order in SalesOrder.objects.filter(status__in=BOOKED):
        row = stats[order.customer_id]
        row[0] = max(row[0] or order.order_date, order.order_date)
        row[1] += 1
        row[2] += order.total
    n = len(stats)

    def scores(index: int) -> dict[int, int]:
        values = sorted(v[index] for v in stats.values())
        return {
            cid: 1 + (5 * values.index(v[index])) // n  # index() = rank - 1 of the first tie
            for cid, v in stats.items()
        }

    r, f, m = scores(0), scores(1), scores(2)
    return {
        cid: (*v, r[cid], f[cid], m[cid], services.rfm_segment(r[cid], f[cid], m[cid]))
        for cid, v in stats.items()
    }


def computed() -> dict[int, tuple]:
    return {
        a.customer_id: (
            a.last_order_on,
            a.order_count,
            a.order_amount,
            a.recency,
            a.frequency,
            a.monetary,
            a.rfm_segment,
        )
        for a in CustomerAccount.objects.exclude(rfm_segment="")
    }


@pytest.fixture
def customers(sales_personas):
    p = sales_personas
    return [new_customer(p.sales1) for _ in range(3)] + [new_customer(p.sales2) for _ in range(3)]


ORDERS = st.lists(
    st.fixed_dictionaries(
        {
            "customer": st.integers(0, 5),
            "day": st.dates(datetime.date(2024, 1, 1), datetime.date(2026, 6, 30)),
            "cents": st.integers(0, 10_000_000),
            "status": st.sampled_from(list(OrderStatus.values)),
        }
    ),
    max_size=14,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(orders=ORDERS)
def test_rfm_scores_equal_a_plain_computation(sales_personas, customers, orders):
    with transaction.atomic():
        for o in orders:
            customer = customers[o["customer"]]
            make_order(
                customer=customer,
                owner=customer.owner,
                department=customer.department,
                order_date=o["day"],
                total=Decimal(o["cents"]) / 100,
                status=o["status"],
                mark=False,
            )
        services.rfm_compute()
        assert computed() == reference()
        services.rfm_compute()  # idempotent
        assert computed() == reference()
        transaction.set_rollback(True)


class TestRfm:
    def test_scores_and_segments_of_a_small_book(self, sales_personas, customers):
        p = sales_personas
        best, lapsed, *others = customers
        for day in (1, 2, 3):
            make_order(
                customer=best,
                owner=p.sales1,
                department=p.units["S1"],
                order_date=datetime.date(2026, 3, day),
                total="90000.00",
                mark=False,
            )
        for day in (1, 2):
            make_order(
                customer=lapsed,
                owner=p.sales1,
                department=p.units["S1"],
                order_date=datetime.date(2024, 1, day),
                total="80000.00",
                mark=False,
            )
        for index, customer in enumerate(others):
            make_order(
                customer=customer,
                owner=customer.owner,
                department=customer.department,
                order_date=datetime.date(2025, 6, 1 + index),
                total="100.00",
                mark=False,
            )
        result = services.rfm_compute()
        assert result["scored"] == 6 and result["created"] == 6
        best_account = CustomerAccount.objects.get(customer=best)
        assert (best_account.recency, best_account.frequency, best_account.monetary) == (5, 5, 5)
        assert best_account.rfm_segment == RfmSegment.IMPORTANT_VALUE
        assert best_account.order_count == 3 and best_account.order_amount == Decimal("270000.00")
        assert best_account.last_order_on == datetime.date(2026, 3, 3)
        assert CustomerAccount.objects.get(customer=lapsed).rfm_segment == (
            RfmSegment.IMPORTANT_KEEP
        )
        assert computed() == reference()

    def test_a_customer_whose_orders_were_all_cancelled_loses_the_scores(
        self, sales_personas, customers
    ):
        order = make_order(
            customer=customers[0],
            owner=sales_personas.sales1,
            department=sales_personas.units["S1"],
            order_date=datetime.date(2026, 1, 5),
            total="10.00",
            mark=False,
        )
        services.rfm_compute()
        SalesOrder.objects.filter(pk=order.pk).update(
            status=OrderStatus.CANCELLED, cancel_reason="客户取消"
        )
        result = services.rfm_compute()
        assert result["cleared"] == 1
        account = CustomerAccount.objects.get(customer=customers[0])
        assert (account.rfm_segment, account.recency, account.order_count) == ("", None, 0)

    def test_an_existing_account_keeps_its_credit_limit(self, sales_personas, customers):
        CustomerAccount.objects.create(customer=customers[0], credit_limit=Decimal("50000.00"))
        make_order(
            customer=customers[0],
            owner=sales_personas.sales1,
            department=sales_personas.units["S1"],
            order_date=datetime.date(2026, 1, 5),
            total="10.00",
            mark=False,
        )
        assert services.rfm_compute()["created"] == 0
        account = CustomerAccount.objects.get(customer=customers[0])
        assert account.credit_limit == Decimal("50000.00") and account.recency == 1

    def test_only_the_manager_recomputes_by_hand(self, sales_personas):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            services.rfm_recompute(actor=sales_personas.sales1)
        assert services.rfm_recompute(actor=sales_personas.manager)["scored"] == 0


VISIBLE = {
    "sales1": {0, 1, 2},
    "sales2": {3, 4, 5},
    "leader1": {0, 1, 2},
    "leader2": {3, 4, 5},
    "manager": {0, 1, 2, 3, 4, 5},
    "management": {0, 1, 2, 3, 4, 5},
    "sales1b": set(),
    "promo": set(),
    "outsider": set(),
}


class TestRfmScope:
    @pytest.fixture
    def scored(self, sales_personas, customers):
        for customer in customers:
            make_order(
                customer=customer,
                owner=customer.owner,
                department=customer.department,
                order_date=datetime.date(2026, 2, 1),
                total="10.00",
                mark=False,
            )
        services.rfm_compute()
        return customers

    @pytest.mark.parametrize("who", sorted(VISIBLE))
    def test_each_role_sees_its_customers(self, sales_personas, scored, who):
        seen = set(
            selectors.rfm_accounts(actor=getattr(sales_personas, who)).values_list(
                "customer_id", flat=True
            )
        )
        assert seen == {scored[i].pk for i in VISIBLE[who]}

    def test_the_summary_counts_the_segments_in_scope(self, sales_personas, scored):
        summary = selectors.rfm_summary(actor=sales_personas.leader1)
        assert len(summary) == 8
        assert sum(row["count"] for row in summary) == 3
        assert sum(row["share"] or 0 for row in summary) == Decimal("100.0")


class TestCrmAnalysisSection:
    def test_the_section_is_registered_with_crm_for_dashboard_users(self, sales_personas):
        keys = [s.key for s in analysis_sections(sales_personas.manager)]
        assert "sales.rfm" in keys
        assert "sales.rfm" not in [s.key for s in analysis_sections(sales_personas.promo)]

    def test_the_customer_analysis_page_shows_rfm(self, sales_personas, customers, client_for):
        make_order(
            customer=customers[0],
            owner=sales_personas.sales1,
            department=sales_personas.units["S1"],
            order_date=datetime.date(2026, 2, 1),
            total="10.00",
            mark=False,
        )
        services.rfm_compute()
        client = client_for(sales_personas.manager)
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        page = client.get("/crm/analysis/").content.decode()
        assert "Customer value (RFM)" in page and 'id="md-analysis-rfm"' in page
        promo_page = client_for(sales_personas.promo).get("/crm/analysis/").content.decode()
        assert 'id="md-analysis-rfm"' not in promo_page

    def test_no_section_before_any_scores(self, sales_personas, client_for):
        page = client_for(sales_personas.manager).get("/crm/analysis/").content.decode()
        assert 'id="md-analysis-rfm"' not in page
