"""The finance services: the available amount and every term of it, block and warn control,
supplements and transfers, expense requests, vouchers and duplicate invoices, authority
levels, finance review, posting and payment, alerts, and the ledger agreeing with the columns."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from marketdesk.approvals import services as approvals
from marketdesk.approvals.services import latest_request
from marketdesk.core.models import Notification
from marketdesk.finance import services
from marketdesk.finance.models import (
    AdjustmentKind,
    BudgetEntry,
    BudgetLine,
    ClaimStatus,
    ControlMode,
    DocStatus,
    EntryKind,
    ExpenseClaim,
    FinanceSettings,
    Voucher,
)
from marketdesk.finance.services import control

from .conftest import DAY, approve_all, pending_task, run_hooks

pytestmark = pytest.mark.django_db
D = Decimal


def fresh(line) -> BudgetLine:
    return BudgetLine.objects.get(pk=line.pk)


def assert_ledger_agrees(line) -> None:
    line = fresh(line)
    figures = control.recompute(line)
    for name, value in figures.items():
        assert getattr(line, name) == value, name


class TestAvailableAmount:
    """available = approved + supplements + transfers in - transfers out - committed - spent"""

    def test_a_fresh_line_has_its_approved_amount(self, line_of):
        line = line_of()
        assert line.amount == D("10000.00")
        assert line.available == D("10000.00")

    def test_submitting_commits_the_amount(self, personas, make_claim, line_of, flows):
        claim = make_claim(personas.sales1, "1200.00")
        services.claim_submit(actor=personas.sales1, claim=claim)
        line = fresh(line_of())
        assert (line.committed, line.spent, line.available) == (D("1200"), D("0"), D("8800"))
        assert_ledger_agrees(line)

    def test_approval_turns_committed_into_spent(
        self, personas, make_claim, line_of, django_capture_on_commit_callbacks
    ):
        claim = make_claim(personas.sales1, "1200.00")
        request = services.claim_submit(actor=personas.sales1, claim=claim)
        approve_all(request, personas, django_capture_on_commit_callbacks)
        line = fresh(line_of())
        assert (line.committed, line.spent, line.available) == (D("0"), D("1200"), D("8800"))
        assert ExpenseClaim.objects.get(pk=claim.pk).status == ClaimStatus.APPROVED
        assert_ledger_agrees(line)

    @pytest.mark.parametrize("how", ["reject", "return", "withdraw"])
    def test_rejection_return_or_withdrawal_releases_it(
        self, personas, make_claim, line_of, django_capture_on_commit_callbacks, how
    ):
        claim = make_claim(personas.sales1, "1200.00")
        request = services.claim_submit(actor=personas.sales1, claim=claim)
        task = pending_task(request)
        if how == "reject":
            action = lambda: approvals.task_reject(actor=task.approver, task=task, reason="超标")  # noqa: E731
        elif how == "return":
            action = lambda: approvals.task_return(actor=task.approver, task=task, reason="补发票")  # noqa: E731
        else:
            action = lambda: services.claim_withdraw(actor=personas.sales1, claim=claim)  # noqa: E731
        run_hooks(django_capture_on_commit_callbacks, action)
        line = fresh(line_of())
        assert (line.committed, line.spent, line.available) == (D("0"), D("0"), D("10000"))
        claim.refresh_from_db()
        assert (
            claim.status
            == {"reject": "rejected", "return": "returned", "withdraw": "withdrawn"}[how]
        )
        assert claim.editable
        assert_ledger_agrees(line)

    def test_the_hooks_run_once_even_if_called_twice(
        self, personas, make_claim, line_of, django_capture_on_commit_callbacks
    ):
        claim = make_claim(personas.sales1, "500.00")
        request = services.claim_submit(actor=personas.sales1, claim=claim)
        approve_all(request, personas, django_capture_on_commit_callbacks)
        services.claim_on_approved(claim)  # a repeated hook changes nothing
        services.claim_on_ended(ClaimStatus.REJECTED)(claim)
        line = fresh(line_of())
        assert (line.committed, line.spent) == (D("0"), D("500"))

    def test_supplement_adds_when_approved(
        self, personas, line_of, flows, django_capture_on_commit_callbacks
    ):
        line = line_of()
        adjustment = services.adjustment_create(
            actor=personas.sales1,
            kind=AdjustmentKind.SUPPLEMENT,
            line=line,
            amount=D("3000"),
            reason="春季展会加场",
        )
        request = services.adjustment_submit(actor=personas.sales1, adjustment=adjustment)
        assert fresh(line).available == D("10000")  # nothing before approval (R7.2.1)
        approve_all(request, personas, django_capture_on_commit_callbacks)
        line = fresh(line)
        assert (line.supplement, line.available) == (D("3000"), D("13000"))
        adjustment.refresh_from_db()
        assert adjustment.status == DocStatus.APPROVED
        assert_ledger_agrees(line)

    def test_transfer_moves_money_between_lines(
        self, personas, line_of, flows, django_capture_on_commit_callbacks
    ):
        source, target = line_of("travel", 2), line_of("travel", 1)
        adjustment = services.adjustment_create(
            actor=personas.manager,
            kind=AdjustmentKind.TRANSFER,
            line=target,
            from_line=source,
            amount=D("4000"),
            reason="一季度出差多",
        )
        request = services.adjustment_submit(actor=personas.manager, adjustment=adjustment)
        assert fresh(source).available == D("6000")  # reserved while in approval
        assert fresh(target).available == D("10000")
        approve_all(request, personas, django_capture_on_commit_callbacks)
        source, target = fresh(source), fresh(target)
        assert (source.transfer_out, source.committed, source.available) == (
            D("4000"),
            D("0"),
            D("6000"),
        )
        assert (target.transfer_in, target.available) == (D("4000"), D("14000"))
        assert_ledger_agrees(source)
        assert_ledger_agrees(target)

    def test_a_rejected_transfer_gives_the_reservation_back(
        self, personas, line_of, flows, django_capture_on_commit_callbacks
    ):
        source, target = line_of("travel", 2), line_of("travel", 1)
        adjustment = services.adjustment_create(
            actor=personas.manager,
            kind=AdjustmentKind.TRANSFER,
            line=target,
            from_line=source,
            amount=D("4000"),
            reason="一季度出差多",
        )
        request = services.adjustment_submit(actor=personas.manager, adjustment=adjustment)
        task = pending_task(request)
        run_hooks(
            django_capture_on_commit_callbacks,
            lambda: approvals.task_reject(actor=task.approver, task=task, reason="不同意"),
        )
        assert fresh(source).available == D("10000")
        assert fresh(target).available == D("10000")

    def test_a_transfer_cannot_take_more_than_is_left(self, personas, line_of, flows):
        adjustment = services.adjustment_create(
            actor=personas.manager,
            kind=AdjustmentKind.TRANSFER,
            line=line_of("travel", 1),
            from_line=line_of("travel", 2),
            amount=D("10000.01"),
            reason="x",
        )
        with pytest.raises(ValidationError) as error:
            services.adjustment_submit(actor=personas.manager, adjustment=adjustment)
        assert "from_line" in error.value.message_dict
        assert fresh(line_of("travel", 2)).committed == 0

    def test_finance_review_reduction_releases_the_difference(
        self, personas, make_claim, line_of, django_capture_on_commit_callbacks
    ):
        claim = make_claim(personas.sales1, "1000.00")
        approve_all(
            services.claim_submit(actor=personas.sales1, claim=claim),
            personas,
            django_capture_on_commit_callbacks,
        )
        line_pk = claim.lines.get().pk
        services.claim_review(
            actor=personas.finance,
            claim=claim,
            approved={line_pk: D("800")},
            note="招待超标准部分不予报销",
        )
        line = fresh(line_of())
        assert (line.spent, line.available) == (D("800"), D("9200"))
        claim.refresh_from_db()
        assert claim.approved_total == D("800") and claim.status == ClaimStatus.REVIEWED
        assert_ledger_agrees(line)


class TestBlockAndWarn:
    def test_block_refuses_a_claim_over_the_available_amount(
        self, personas, make_claim, line_of, flows
    ):
        claim = make_claim(personas.sales1, "10000.01")
        FinanceSettings.objects.update(request_threshold=D("99999"))
        with pytest.raises(services.OverBudget) as error:
            services.claim_submit(actor=personas.sales1, claim=claim)
        assert error.value.shortfall == D("0.01")
        assert "budget_line" in error.value.message_dict
        line = fresh(line_of())
        assert (line.committed, line.spent) == (D("0"), D("0"))
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.DRAFT
        assert latest_request(claim) is None
        assert (
            not BudgetEntry.objects.exists() or not BudgetEntry.objects.filter(line=line).exists()
        )

    def test_block_accepts_exactly_the_available_amount(self, personas, make_claim, line_of, flows):
        FinanceSettings.objects.update(request_threshold=D("99999"))
        claim = make_claim(personas.sales1, "10000.00")
        services.claim_submit(actor=personas.sales1, claim=claim)
        assert fresh(line_of()).available == 0

    def test_warn_lets_it_through_and_tells_the_unit_head(
        self, personas, make_budget, category, make_claim, flows
    ):
        FinanceSettings.objects.update(request_threshold=D("99999"))
        budget = make_budget(unit="S1", mode=ControlMode.WARN)
        line = budget.lines.get(category=category("travel"), period=1)
        claim = make_claim(personas.sales1, "12000.00", line=line)
        services.claim_submit(actor=personas.sales1, claim=claim)
        line = fresh(line)
        assert line.available == D("-2000")
        assert line.alert_level == control.ALERT_OVER
        assert (
            Notification.objects.filter(
                recipient=personas.manager, kind="finance.budget_alert"
            ).count()
            == 1
        )

    def test_the_database_refuses_an_overspent_block_line(self, line_of):
        line = line_of()
        with pytest.raises(IntegrityError), transaction.atomic():
            BudgetLine.objects.filter(pk=line.pk).update(committed=D("10000.01"))

    def test_the_database_refuses_negative_figures(self, line_of):
        with pytest.raises(IntegrityError), transaction.atomic():
            BudgetLine.objects.filter(pk=line_of().pk).update(spent=D("-1"))

    def test_a_draft_budget_cannot_be_charged(self, personas, make_budget, category, flows):
        budget = make_budget(unit="S1", approve=False)
        line = budget.lines.get(category=category("travel"), period=1)
        with pytest.raises(ValidationError) as error:
            services.claim_create(
                actor=personas.sales1,
                title="x",
                lines=[
                    {
                        "spent_on": DAY,
                        "category": category("travel"),
                        "budget_line": line,
                        "amount": D("10"),
                        "description": "x",
                    }
                ],
            )
        assert "lines[1].budget_line" in error.value.message_dict


class TestAlerts:
    def test_near_budget_is_told_once_per_crossing(
        self, personas, make_claim, line_of, django_capture_on_commit_callbacks
    ):
        def count():
            return Notification.objects.filter(kind="finance.budget_alert").count()

        first = make_claim(personas.sales1, "9000.00")
        services.claim_submit(actor=personas.sales1, claim=first)
        assert count() == 1
        assert fresh(line_of()).alert_level == control.ALERT_NEAR
        second = make_claim(personas.sales1b, "100.00")
        services.claim_submit(actor=personas.sales1b, claim=second)
        assert count() == 1  # still above 90 %: not told again
        run_hooks(
            django_capture_on_commit_callbacks,
            lambda: services.claim_withdraw(actor=personas.sales1, claim=first),
        )
        assert fresh(line_of()).alert_level == control.ALERT_NONE
        third = make_claim(personas.sales1, "9000.00")
        services.claim_submit(actor=personas.sales1, claim=third)
        assert count() == 2  # a new crossing


class TestExpenseRequests:
    def test_a_claim_above_the_threshold_needs_a_request(self, personas, make_claim, flows):
        FinanceSettings.objects.update(request_threshold=D("1000"))
        claim = make_claim(personas.sales1, "1500.00")
        with pytest.raises(ValidationError) as error:
            services.claim_submit(actor=personas.sales1, claim=claim)
        assert "expense_request" in error.value.message_dict

    def test_the_request_commits_and_the_claim_consumes_it(
        self, personas, make_claim, line_of, flows, django_capture_on_commit_callbacks
    ):
        FinanceSettings.objects.update(request_threshold=D("1000"))
        request = services.expense_request_create(
            actor=personas.sales1, title="杭州客户拜访", line=line_of(), amount=D("3000")
        )
        approval = services.expense_request_submit(actor=personas.sales1, request=request)
        assert fresh(line_of()).committed == D("3000")
        approve_all(approval, personas, django_capture_on_commit_callbacks)
        request.refresh_from_db()
        assert request.status == DocStatus.APPROVED
        claim = make_claim(personas.sales1, "2000.00", request=request)
        claim_approval = services.claim_submit(actor=personas.sales1, claim=claim)
        line = fresh(line_of())
        assert line.committed == D("3000")  # 1000 still reserved by the request + 2000 claim
        request.refresh_from_db()
        assert (request.consumed, request.remaining) == (D("2000"), D("1000"))
        task = pending_task(claim_approval)
        run_hooks(
            django_capture_on_commit_callbacks,
            lambda: approvals.task_reject(actor=task.approver, task=task, reason="x"),
        )
        request.refresh_from_db()
        assert request.consumed == 0
        assert fresh(line_of()).committed == D("3000")  # back with the request
        services.expense_request_close(actor=personas.sales1, request=request)
        assert fresh(line_of()).committed == 0
        assert_ledger_agrees(line_of())

    def test_a_request_over_a_blocked_line_is_refused(self, personas, line_of, flows):
        request = services.expense_request_create(
            actor=personas.sales1, title="大额", line=line_of(), amount=D("10000.50")
        )
        with pytest.raises(services.OverBudget):
            services.expense_request_submit(actor=personas.sales1, request=request)
        request.refresh_from_db()
        assert request.status == DocStatus.DRAFT


class TestVouchers:
    def test_the_same_invoice_cannot_be_claimed_twice(self, personas, make_claim, line_of):
        first = make_claim(personas.sales1, "100.00")
        invoice = first.vouchers.get()
        second = make_claim(personas.sales1b, "100.00", invoice=False)
        with pytest.raises(ValidationError) as error:
            services.voucher_add(
                actor=personas.sales1b,
                claim=second,
                line=second.lines.get(),
                code=invoice.code,
                number=invoice.number,
                amount=D("100"),
            )
        assert first.number in error.value.message_dict["number"][0]
        assert second.vouchers.count() == 0

    def test_the_database_refuses_a_duplicate_invoice(self, personas, make_claim):
        first = make_claim(personas.sales1, "100.00")
        invoice = first.vouchers.get()
        with pytest.raises(IntegrityError), transaction.atomic():
            Voucher.objects.create(
                claim=first, line=first.lines.get(), code=invoice.code, number=invoice.number
            )

    def test_a_claim_without_the_invoice_scan_cannot_be_submitted(
        self, personas, make_claim, flows
    ):
        claim = make_claim(personas.sales1, "100.00", invoice=False)
        with pytest.raises(ValidationError) as error:
            services.claim_submit(actor=personas.sales1, claim=claim)
        assert "vouchers" in error.value.message_dict

    def test_a_contract_is_needed_where_the_category_says(
        self, personas, make_budget, category, make_claim, flows
    ):
        budget = make_budget(unit="PRO", amounts={"advertising": ["50000"] * 4})
        line = budget.lines.get(category=category("advertising"), period=1)
        claim = make_claim(personas.promo, "2000.00", code="advertising", line=line)
        with translation.override("en"), pytest.raises(ValidationError) as error:
            services.claim_submit(actor=personas.promo, claim=claim)
        assert error.value.error_dict["vouchers"][0].code == "contract_required" or (
            "contract" in " ".join(error.value.message_dict["vouchers"]).lower()
        )
        services.voucher_add(
            actor=personas.promo,
            claim=claim,
            line=claim.lines.get(),
            kind="contract",
            number="HT-2026-018",
        )
        services.claim_submit(actor=personas.promo, claim=claim)

    def test_invoices_must_cover_the_amount(self, personas, make_claim, flows):
        claim = make_claim(personas.sales1, "100.00", invoice=False)
        services.voucher_add(
            actor=personas.sales1,
            claim=claim,
            line=claim.lines.get(),
            code="1",
            number="99",
            amount=D("60"),
        )
        with pytest.raises(ValidationError):
            services.claim_submit(actor=personas.sales1, claim=claim)


class TestAuthorityLevels:
    def plan(self, request):
        return [step["name"] for step in request.plan]

    def test_up_to_5000_the_leader_and_the_manager_decide(self, personas, make_claim):
        claim = make_claim(personas.sales1, "5000.00")
        request = services.claim_submit(actor=personas.sales1, claim=claim)
        assert self.plan(request) == ["直属上级", "营销部经理"]
        assert request.category == "sales"

    def test_above_5000_management_decides_too(self, personas, make_claim):
        FinanceSettings.objects.update(request_threshold=D("99999"))
        claim = make_claim(personas.sales1, "5000.01")
        request = services.claim_submit(actor=personas.sales1, claim=claim)
        assert self.plan(request) == ["直属上级", "营销部经理", "总经理"]


class TestReviewPostPay:
    @pytest.fixture
    def approved(self, personas, make_claim, django_capture_on_commit_callbacks):
        claim = make_claim(personas.sales1, "1000.00")
        approve_all(
            services.claim_submit(actor=personas.sales1, claim=claim),
            personas,
            django_capture_on_commit_callbacks,
        )
        claim.refresh_from_db()
        return claim

    def test_the_whole_way_to_payment(self, personas, approved):
        services.claim_review(actor=personas.finance, claim=approved)
        services.claim_post(
            actor=personas.finance, claim=approved, voucher_no="记-2026-0311", account="6601.21"
        )
        services.claim_pay(actor=personas.finance, claim=approved)
        approved.refresh_from_db()
        assert approved.status == ClaimStatus.PAID
        assert approved.approved_total == D("1000")
        assert Notification.objects.filter(
            recipient=personas.sales1, kind="finance.claim_paid"
        ).exists()

    def test_only_finance_reviews(self, personas, approved):
        with pytest.raises(PermissionDenied):
            services.claim_review(actor=personas.manager, claim=approved)

    def test_a_reduction_needs_a_reason(self, personas, approved):
        with pytest.raises(ValidationError) as error:
            services.claim_review(
                actor=personas.finance, claim=approved, approved={approved.lines.get().pk: D("1")}
            )
        assert "note" in error.value.message_dict
        approved.refresh_from_db()
        assert approved.status == ClaimStatus.APPROVED

    def test_more_than_claimed_cannot_be_approved(self, personas, approved):
        with pytest.raises(ValidationError):
            services.claim_review(
                actor=personas.finance,
                claim=approved,
                approved={approved.lines.get().pk: D("1000.01")},
                note="x",
            )

    def test_posting_needs_review_first_and_a_voucher_number(self, personas, approved):
        with pytest.raises(ValidationError):
            services.claim_post(actor=personas.finance, claim=approved, voucher_no="记-1")
        services.claim_review(actor=personas.finance, claim=approved)
        with pytest.raises(ValidationError) as error:
            services.claim_post(actor=personas.finance, claim=approved, voucher_no=" ")
        assert "voucher_no" in error.value.message_dict


class TestBudgets:
    def test_an_approved_budget_is_locked(self, personas, budget, category):
        with pytest.raises(ValidationError):
            services.budget_category_set(
                actor=personas.manager,
                budget=budget,
                category=category("travel"),
                amounts=[D("1")] * 4,
            )

    def test_only_budget_managers_compile_budgets(self, personas):
        with pytest.raises(PermissionDenied):
            services.budget_create(
                actor=personas.sales1, fiscal_year=2026, department=personas.units["S1"]
            )

    def test_one_budget_per_unit_and_year(self, personas, budget):
        with pytest.raises(ValidationError) as error:
            services.budget_create(
                actor=personas.manager, fiscal_year=2026, department=personas.units["MKT"]
            )
        assert "fiscal_year" in error.value.message_dict

    def test_copy_last_year_with_a_percentage(
        self, personas, budget, line_of, flows, django_capture_on_commit_callbacks
    ):
        adjustment = services.adjustment_create(
            actor=personas.manager,
            kind=AdjustmentKind.SUPPLEMENT,
            line=line_of(),
            amount=D("1000"),
            reason="x",
        )
        approve_all(
            services.adjustment_submit(actor=personas.manager, adjustment=adjustment),
            personas,
            django_capture_on_commit_callbacks,
        )
        copy = services.budget_copy(
            actor=personas.manager, source=budget, fiscal_year=2027, percent=D("5")
        )
        assert copy.status == DocStatus.DRAFT and copy.copied_from == budget
        amounts = sorted(copy.lines.values_list("period", "amount"))
        assert amounts == [
            (1, D("11550.00")),
            (2, D("10500.00")),
            (3, D("10500.00")),
            (4, D("10500.00")),
        ]

    def test_periods_must_fit_the_budget(self, personas, category, flows):
        budget = services.budget_create(
            actor=personas.manager, fiscal_year=2026, department=personas.units["S2"]
        )
        with pytest.raises(ValidationError) as error:
            services.budget_line_save(
                actor=personas.manager,
                budget=budget,
                category=category("travel"),
                period=5,
                amount=D("1"),
            )
        assert "period" in error.value.message_dict


class TestClaimRules:
    def test_the_date_must_fall_in_the_line_period(self, personas, line_of, category):
        with pytest.raises(ValidationError) as error:
            services.claim_create(
                actor=personas.sales1,
                title="x",
                lines=[
                    {
                        "spent_on": DAY.replace(month=5),
                        "category": category("travel"),
                        "budget_line": line_of(),
                        "amount": D("10"),
                        "description": "x",
                    }
                ],
            )
        assert "lines[1].spent_on" in error.value.message_dict

    def test_an_outsider_cannot_charge_marketing_lines(self, personas, line_of, category):
        with pytest.raises((PermissionDenied, ValidationError)):
            services.claim_create(
                actor=personas.outsider,
                title="x",
                lines=[
                    {
                        "spent_on": DAY,
                        "category": category("travel"),
                        "budget_line": line_of(),
                        "amount": D("10"),
                        "description": "x",
                    }
                ],
            )

    def test_only_the_claimant_submits(self, personas, make_claim):
        claim = make_claim(personas.sales1, "10.00")
        with pytest.raises(PermissionDenied):
            services.claim_submit(actor=personas.sales1b, claim=claim)

    def test_a_submitted_claim_cannot_be_changed(self, personas, make_claim):
        claim = make_claim(personas.sales1, "10.00")
        services.claim_submit(actor=personas.sales1, claim=claim)
        with pytest.raises(ValidationError):
            services.claim_update(actor=personas.sales1, claim=claim, title="改")

    def test_handover_moves_draft_claims_only(self, personas, make_claim):
        draft = make_claim(personas.sales1, "10.00")
        sent = make_claim(personas.sales1, "20.00")
        services.claim_submit(actor=personas.sales1, claim=sent)
        assert services.handover_claims(personas.sales1, personas.sales1b, personas.admin) == 1
        draft.refresh_from_db()
        sent.refresh_from_db()
        assert draft.claimant == personas.sales1b and sent.claimant == personas.sales1

    def test_the_ledger_names_its_source(self, personas, make_claim, line_of):
        claim = make_claim(personas.sales1, "10.00")
        services.claim_submit(actor=personas.sales1, claim=claim)
        entry = BudgetEntry.objects.get(line=line_of(), kind=EntryKind.COMMIT)
        assert entry.source == claim and entry.source_label == claim.number
        assert entry.by == personas.sales1


class TestAdjustmentReach:
    def test_a_line_out_of_reach_cannot_be_adjusted(self, personas, make_budget, category, flows):
        budget = make_budget(unit="S2")
        line = budget.lines.get(category=category("travel"), period=1)
        with pytest.raises(ValidationError) as error:
            services.adjustment_create(
                actor=personas.sales1,
                kind=AdjustmentKind.SUPPLEMENT,
                line=line,
                amount=D("100"),
                reason="x",
            )
        assert "line" in error.value.message_dict
