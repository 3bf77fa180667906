"""The metrics registry (core/metrics.py) as finance's analysis reads it, and the demo step."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from marketdesk.core import metrics

pytestmark = pytest.mark.django_db


class TestMetrics:
    def test_nothing_registered_gives_an_empty_answer(self):
        metrics.unregister_metric("test.nothing")
        assert (
            metrics.metric(
                "test.nothing",
                department_ids=[1],
                start=datetime.date(2026, 1, 1),
                end=datetime.date(2026, 12, 31),
            )
            == {}
        )

    def test_a_provider_answers_per_department(self):
        def provider(*, department_ids, start, end):
            return {department_id: 3 for department_id in department_ids}

        metrics.register_metric("test.won", "won", provider)
        try:
            assert metrics.metric(
                "test.won",
                department_ids=[4, 5],
                start=datetime.date(2026, 1, 1),
                end=datetime.date(2026, 1, 31),
            ) == {4: Decimal(3), 5: Decimal(3)}
        finally:
            metrics.unregister_metric("test.won")

    def test_the_analysis_divides_spending_by_customers_won(
        self, personas, client_for, make_claim, django_capture_on_commit_callbacks
    ):
        from marketdesk.finance import services

        from .conftest import approve_all

        claim = make_claim(personas.sales1, "900.00")
        approve_all(
            services.claim_submit(actor=personas.sales1, claim=claim),
            personas,
            django_capture_on_commit_callbacks,
        )
        s1 = personas.units["S1"].pk
        metrics.register_metric(
            metrics.CUSTOMERS_WON, "won", lambda *, department_ids, start, end: {s1: Decimal(3)}
        )
        try:
            page = client_for(personas.finance).get("/finance/analysis/?year=2026").content.decode()
        finally:
            metrics.unregister_metric(metrics.CUSTOMERS_WON)
        results = page.split('id="md-results"')[1]
        assert "300.00" in results  # ¥900 / 3 customers


class TestDemo:
    def test_the_demo_builds_budgets_and_claims_whose_ledgers_agree(self):
        from marketdesk.approvals.demo import build_approvals
        from marketdesk.finance.demo import build_finance
        from marketdesk.finance.models import BudgetLine, ClaimStatus, ExpenseClaim
        from marketdesk.finance.services import recompute
        from marketdesk.org.demo import build_org

        build_org()
        build_approvals()
        assert "claims" in build_finance()
        statuses = set(ExpenseClaim.objects.values_list("status", flat=True))
        assert {
            ClaimStatus.PAID,
            ClaimStatus.POSTED,
            ClaimStatus.APPROVED,
            ClaimStatus.SUBMITTED,
            ClaimStatus.RETURNED,
            ClaimStatus.DRAFT,
        } <= statuses
        assert BudgetLine.objects.filter(alert_level__gte=1).exists()  # a line above 90 %
        for line in BudgetLine.objects.all():
            for name, value in recompute(line).items():
                assert getattr(line, name) == value
        assert build_finance() == "skipped"  # idempotent
