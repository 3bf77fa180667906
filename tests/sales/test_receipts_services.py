"""The receipts services (回款): receipt plans per order, receipts within the order total and
the instalment's outstanding, optional approval by finance, reversal on reject and cancel,
the rollup marks and the orders part's hook; who may do what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from marketdesk.sales.models import (
    OrderStatus,
    Receipt,
    ReceiptPlan,
    ReceiptStatus,
    RollupDirty,
    SalesOrder,
)
from marketdesk.sales.services import orders as order_services
from marketdesk.sales.services import receipts as services

from . import test_receipts_helpers as h
from .test_receipts_helpers import days, plan, receive, set_receipt_approval, today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

order_for = h.order_for
order = h.order


def figures(order) -> tuple[Decimal, Decimal]:
    order.refresh_from_db()
    return order.receipted_amount, order.received_amount


def messages(exc: ValidationError) -> str:
    return " ".join(
        " ".join(str(m) for m in v)
        for v in getattr(exc, "message_dict", {"": exc.messages}).values()
    )


class TestReceiptPlansSet:
    def test_it_sets_instalments_on_a_confirmed_order(self, sales_personas, order):
        plans = plan(sales_personas.sales1, order, (days(10), "30000"), (days(40), "70000"))
        assert [(p.instalment, p.amount) for p in plans] == [
            (1, Decimal("30000.00")),
            (2, Decimal("70000.00")),
        ]
        assert plans[0].created_by == sales_personas.sales1

    def test_a_draft_order_may_have_a_plan(self, sales_personas, order_for):
        draft = order_for(status=OrderStatus.DRAFT)
        assert len(plan(sales_personas.sales1, draft, (days(10), "1000"))) == 1

    @pytest.mark.parametrize("status", [OrderStatus.IN_APPROVAL, OrderStatus.CANCELLED])
    def test_it_refuses_an_order_in_approval_or_cancelled(self, sales_personas, order_for, status):
        other = order_for(status=status)
        with pytest.raises(ValidationError) as error:
            plan(sales_personas.sales1, other, (days(10), "1000"))
        assert "order" in error.value.message_dict
        assert not ReceiptPlan.objects.exists()

    def test_plans_above_the_total_name_the_instalment(self, sales_personas, order):
        with pytest.raises(ValidationError) as error:
            plan(
                sales_personas.sales1,
                order,
                (days(10), "40000"),
                (days(20), "40000"),
                (days(30), "30000"),
            )
        assert list(error.value.message_dict) == ["plans[3].amount"]
        text = messages(error.value)
        assert "Instalment 3" in text and "110,000.00" in text and "100,000.00" in text
        assert not ReceiptPlan.objects.exists()

    def test_the_plan_may_add_up_to_exactly_the_total(self, sales_personas, order):
        plan(sales_personas.sales1, order, (days(10), "40000"), (days(20), "60000"))
        assert sum(p.amount for p in order.receipt_plans.all()) == order.total

    def test_row_errors_name_the_row_and_field(self, sales_personas, order):
        with pytest.raises(ValidationError) as error:
            services.receipt_plans_set(
                actor=sales_personas.sales1,
                order=order,
                plans=[
                    {"instalment": 1, "due_date": days(5), "amount": Decimal("0")},
                    {"instalment": 1, "due_date": None, "amount": Decimal("10.001")},
                    {"instalment": 0, "due_date": days(5), "amount": Decimal("5"), "method": "x"},
                ],
            )
        assert set(error.value.message_dict) == {
            "plans[1].amount",
            "plans[2].instalment",
            "plans[2].due_date",
            "plans[2].amount",
            "plans[3].instalment",
            "plans[3].method",
        }

    def test_instalment_numbers_can_swap(self, sales_personas, order):
        first, second = plan(sales_personas.sales1, order, (days(10), "10"), (days(20), "20"))
        services.receipt_plans_set(
            actor=sales_personas.sales1,
            order=order,
            plans=[
                {"id": first.pk, "instalment": 2, "due_date": days(10), "amount": Decimal("10")},
                {"id": second.pk, "instalment": 1, "due_date": days(20), "amount": Decimal("20")},
            ],
        )
        assert ReceiptPlan.objects.get(pk=first.pk).instalment == 2
        assert ReceiptPlan.objects.get(pk=second.pk).instalment == 1

    def test_rows_left_out_are_removed(self, sales_personas, order):
        first, _second = plan(sales_personas.sales1, order, (days(10), "10"), (days(20), "20"))
        services.receipt_plans_set(
            actor=sales_personas.sales1,
            order=order,
            plans=[
                {"id": first.pk, "instalment": 1, "due_date": days(10), "amount": Decimal("10")}
            ],
        )
        assert list(order.receipt_plans.values_list("pk", flat=True)) == [first.pk]

    def test_a_plan_with_receipts_cannot_be_removed_or_cut_below_them(self, sales_personas, order):
        first, second = plan(sales_personas.sales1, order, (days(-5), "30000"), (days(20), "20"))
        receive(sales_personas.sales1, order, "25000", plan=first)
        with pytest.raises(ValidationError) as error:
            services.receipt_plans_set(
                actor=sales_personas.sales1,
                order=order,
                plans=[
                    {
                        "id": second.pk,
                        "instalment": 2,
                        "due_date": days(20),
                        "amount": Decimal("20"),
                    }
                ],
            )
        assert "Instalment 1" in messages(error.value)
        with pytest.raises(ValidationError) as error:
            services.receipt_plan_update(
                actor=sales_personas.sales1, plan=first, amount=Decimal("24999.99")
            )
        assert list(error.value.message_dict) == ["amount"]
        assert "25,000.00" in messages(error.value)
        services.receipt_plan_update(
            actor=sales_personas.sales1, plan=first, amount=Decimal("25000")
        )
        assert ReceiptPlan.objects.get(pk=first.pk).amount == Decimal("25000.00")

    def test_money_registered_outside_the_plan_leaves_less_room(self, sales_personas, order):
        receive(sales_personas.sales1, order, "30000")  # no plan yet: outside any plan
        with pytest.raises(ValidationError) as error:
            plan(sales_personas.sales1, order, (days(10), "50000"), (days(20), "20001"))
        text = messages(error.value)
        assert "Instalment 2" in text and "70,000.00" in text and "30,000.00" in text
        assert len(plan(sales_personas.sales1, order, (days(10), "70000"))) == 1


class TestSinglePlanServices:
    def test_create_numbers_the_next_instalment(self, sales_personas, order):
        plan(sales_personas.sales1, order, (days(10), "10000"))
        made = services.receipt_plan_create(
            actor=sales_personas.sales1,
            order=order,
            due_date=days(30),
            amount=Decimal("20000"),
            method="cheque",
        )
        assert (made.instalment, made.method) == (2, "cheque")

    def test_create_over_the_total_is_an_amount_error(self, sales_personas, order):
        with pytest.raises(ValidationError) as error:
            services.receipt_plan_create(
                actor=sales_personas.sales1,
                order=order,
                due_date=days(30),
                amount=Decimal("100000.01"),
            )
        assert list(error.value.message_dict) == ["amount"]
        assert "Instalment 1" in messages(error.value)

    def test_delete(self, sales_personas, order):
        (only,) = plan(sales_personas.sales1, order, (days(10), "10000"))
        services.receipt_plan_delete(actor=sales_personas.sales1, plan=only)
        assert not order.receipt_plans.exists()


class TestPlanPermissions:
    @pytest.mark.parametrize("who", ["sales1", "leader1", "manager", "finance"])
    def test_who_may_set_the_plan(self, sales_personas, order, who):
        plan(getattr(sales_personas, who), order, (days(10), "10"))

    @pytest.mark.parametrize(
        "who", ["sales1b", "sales2", "leader2", "service", "management", "outsider", "promo"]
    )
    def test_who_may_not(self, sales_personas, order, who):
        with pytest.raises(PermissionDenied):
            plan(getattr(sales_personas, who), order, (days(10), "10"))
        assert not ReceiptPlan.objects.exists()


class TestReceiptRegister:
    def test_a_confirmed_receipt_moves_the_order_and_the_plan(self, sales_personas, order):
        first, _ = plan(sales_personas.sales1, order, (days(-5), "30000"), (days(30), "70000"))
        RollupDirty.objects.all().delete()
        receipt = receive(sales_personas.sales1, order, "30000", plan=first, reference="BK001")
        assert receipt.status == ReceiptStatus.CONFIRMED
        assert receipt.number == f"HK-{today():%Y}-00001"
        assert (receipt.customer, receipt.owner, receipt.department) == (
            order.customer,
            order.owner,
            order.department,
        )
        assert receipt.method == "bank"
        assert figures(order) == (Decimal("30000.00"), Decimal("30000.00"))
        assert ReceiptPlan.objects.get(pk=first.pk).received_amount == Decimal("30000.00")
        mark = RollupDirty.objects.get()
        assert (mark.year, mark.month, mark.owner_id, mark.department_id) == (
            today().year,
            today().month,
            order.owner_id,
            order.department_id,
        )

    def test_the_method_defaults_to_the_instalments(self, sales_personas, order):
        (only,) = services.receipt_plans_set(
            actor=sales_personas.sales1,
            order=order,
            plans=[
                {
                    "instalment": 1,
                    "due_date": days(5),
                    "amount": Decimal("500"),
                    "method": "wechat",
                }
            ],
        )
        assert receive(sales_personas.sales1, order, "100", plan=only).method == "wechat"

    def test_it_never_passes_the_order_total(self, sales_personas, order):
        receive(sales_personas.sales1, order, "99000")
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, order, "1000.01")
        assert list(error.value.message_dict) == ["amount"]
        assert "1,000.00" in messages(error.value)  # what is left
        assert figures(order) == (Decimal("99000.00"), Decimal("99000.00"))
        assert Receipt.objects.count() == 1
        receive(sales_personas.sales1, order, "1000")
        assert figures(order) == (order.total, order.total)

    def test_pending_receipts_count_against_the_total(self, sales_personas, order):
        set_receipt_approval(True)
        receive(sales_personas.sales1, order, "60000")
        with pytest.raises(ValidationError):
            receive(sales_personas.sales1, order, "40000.01")

    def test_it_never_passes_the_instalments_outstanding(self, sales_personas, order):
        first, _ = plan(sales_personas.sales1, order, (days(-5), "30000"), (days(30), "70000"))
        receive(sales_personas.sales1, order, "20000", plan=first)
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, order, "10000.01", plan=first)
        text = messages(error.value)
        assert "instalment 1" in text and "10,000.00" in text
        set_receipt_approval(True)
        receive(sales_personas.sales1, order, "6000", plan=first)  # pending
        with pytest.raises(ValidationError):
            receive(sales_personas.sales1, order, "4000.01", plan=first)
        receive(sales_personas.sales1, order, "4000", plan=first)

    def test_an_instalment_of_another_order_is_refused(self, sales_personas, order, order_for):
        (other_plan,) = plan(sales_personas.sales1, order_for(), (days(5), "100"))
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, order, "100", plan=other_plan)
        assert list(error.value.message_dict) == ["plan"]

    def test_a_fully_planned_order_needs_the_instalment(self, sales_personas, order):
        plan(sales_personas.sales1, order, (days(5), "40000"), (days(30), "60000"))
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, order, "100")
        assert list(error.value.message_dict) == ["plan"]

    def test_the_part_outside_a_partial_plan_takes_receipts_without_instalment(
        self, sales_personas, order
    ):
        plan(sales_personas.sales1, order, (days(5), "40000"))
        receive(sales_personas.sales1, order, "60000")
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, order, "0.01")
        assert list(error.value.message_dict) == ["plan"]

    def test_outside_the_plan_the_amount_is_capped(self, sales_personas, order):
        plan(sales_personas.sales1, order, (days(5), "40000"))
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, order, "60000.01")
        assert list(error.value.message_dict) == ["amount"]
        assert "60,000.00" in messages(error.value)

    @pytest.mark.parametrize(
        "status", [OrderStatus.DRAFT, OrderStatus.IN_APPROVAL, OrderStatus.CANCELLED]
    )
    def test_only_booked_orders_take_receipts(self, sales_personas, order_for, status):
        other = order_for(status=status)
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, other, "100")
        assert list(error.value.message_dict) == ["order"]
        assert not Receipt.objects.exists()

    @pytest.mark.parametrize(
        "amount,field",
        [("0", "amount"), ("-5", "amount"), ("10.001", "amount"), ("abc", "amount")],
    )
    def test_bad_amounts(self, sales_personas, order, amount, field):
        with pytest.raises(ValidationError) as error:
            services.receipt_register(
                actor=sales_personas.sales1, order=order, amount=amount, received_on=today()
            )
        assert list(error.value.message_dict) == [field]

    def test_money_cannot_arrive_tomorrow(self, sales_personas, order):
        with pytest.raises(ValidationError) as error:
            receive(sales_personas.sales1, order, "100", on=days(1))
        assert list(error.value.message_dict) == ["received_on"]

    @pytest.mark.parametrize("who", ["sales1", "leader1", "manager", "finance"])
    def test_who_may_register(self, sales_personas, order, who):
        receive(getattr(sales_personas, who), order, "100")

    @pytest.mark.parametrize(
        "who", ["sales1b", "sales2", "leader2", "management", "service", "outsider"]
    )
    def test_who_may_not_register(self, sales_personas, order, who):
        with pytest.raises(PermissionDenied):
            receive(getattr(sales_personas, who), order, "100")
        assert figures(order) == (Decimal("0.00"), Decimal("0.00"))

    def test_the_database_refuses_receipts_above_the_total(self, order):
        with pytest.raises(IntegrityError), transaction.atomic():
            SalesOrder.objects.filter(pk=order.pk).update(receipted_amount=order.total + 1)


class TestApproval:
    @pytest.fixture(autouse=True)
    def approval_on(self, db):
        set_receipt_approval(True)

    def test_a_pending_receipt_counts_as_registered_not_received(self, sales_personas, order):
        (first,) = plan(sales_personas.sales1, order, (days(5), "50000"))
        RollupDirty.objects.all().delete()
        receipt = receive(sales_personas.sales1, order, "50000", plan=first)
        assert receipt.status == ReceiptStatus.PENDING
        assert figures(order) == (Decimal("50000.00"), Decimal("0.00"))
        assert ReceiptPlan.objects.get(pk=first.pk).received_amount == 0
        assert not RollupDirty.objects.exists()

    def test_finance_approves(self, sales_personas, order):
        (first,) = plan(sales_personas.sales1, order, (days(5), "50000"))
        receipt = receive(sales_personas.sales1, order, "50000", plan=first)
        services.receipt_approve(actor=sales_personas.finance, receipt=receipt)
        receipt.refresh_from_db()
        assert receipt.status == ReceiptStatus.CONFIRMED
        assert receipt.decided_by == sales_personas.finance and receipt.decided_at
        assert figures(order) == (Decimal("50000.00"), Decimal("50000.00"))
        assert ReceiptPlan.objects.get(pk=first.pk).received_amount == Decimal("50000.00")
        assert RollupDirty.objects.filter(owner_id=order.owner_id).exists()

    @pytest.mark.parametrize("who", ["sales1", "leader1", "sales2", "management"])
    def test_who_may_not_approve(self, sales_personas, order, who):
        receipt = receive(sales_personas.finance, order, "100")
        with pytest.raises(PermissionDenied):
            services.receipt_approve(actor=getattr(sales_personas, who), receipt=receipt)
        assert Receipt.objects.get(pk=receipt.pk).status == ReceiptStatus.PENDING

    def test_the_registrant_may_not_approve_their_own(self, sales_personas, order):
        receipt = receive(sales_personas.finance, order, "100")
        with pytest.raises(PermissionDenied):
            services.receipt_approve(actor=sales_personas.finance, receipt=receipt)
        services.receipt_approve(actor=sales_personas.manager, receipt=receipt)

    def test_reject_needs_a_reason_and_gives_the_room_back(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100000")
        with pytest.raises(ValidationError) as error:
            services.receipt_reject(actor=sales_personas.finance, receipt=receipt, reason=" ")
        assert list(error.value.message_dict) == ["reason"]
        services.receipt_reject(actor=sales_personas.finance, receipt=receipt, reason="未到账")
        receipt.refresh_from_db()
        assert (receipt.status, receipt.reason) == (ReceiptStatus.REJECTED, "未到账")
        assert figures(order) == (Decimal("0.00"), Decimal("0.00"))
        receive(sales_personas.sales1, order, "100000")  # the room is back
        assert sales_personas.sales1.notifications.filter(title__contains=receipt.number).exists()

    def test_a_decided_receipt_cannot_be_decided_again(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100")
        services.receipt_approve(actor=sales_personas.finance, receipt=receipt)
        with pytest.raises(ValidationError):
            services.receipt_approve(actor=sales_personas.finance, receipt=receipt)
        with pytest.raises(ValidationError):
            services.receipt_reject(actor=sales_personas.finance, receipt=receipt, reason="x")

    def test_the_registrant_may_cancel_while_pending(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100")
        services.receipt_cancel(actor=sales_personas.sales1, receipt=receipt, reason="录错金额")
        assert Receipt.objects.get(pk=receipt.pk).status == ReceiptStatus.CANCELLED
        assert figures(order) == (Decimal("0.00"), Decimal("0.00"))

    def test_a_pending_receipt_on_an_order_cancelled_since_cannot_be_approved(
        self, sales_personas, order
    ):
        receipt = receive(sales_personas.sales1, order, "100")
        SalesOrder.objects.filter(pk=order.pk).update(status="cancelled", cancel_reason="取消")
        with pytest.raises(ValidationError):
            services.receipt_approve(actor=sales_personas.finance, receipt=receipt)


class TestCancel:
    def test_finance_cancels_a_confirmed_receipt_and_everything_goes_back(
        self, sales_personas, order
    ):
        (first,) = plan(sales_personas.sales1, order, (days(5), "50000"))
        receipt = receive(sales_personas.sales1, order, "50000", plan=first)
        RollupDirty.objects.all().delete()
        services.receipt_cancel(actor=sales_personas.finance, receipt=receipt, reason="支票退票")
        receipt.refresh_from_db()
        assert receipt.status == ReceiptStatus.CANCELLED
        assert figures(order) == (Decimal("0.00"), Decimal("0.00"))
        assert ReceiptPlan.objects.get(pk=first.pk).received_amount == 0
        assert RollupDirty.objects.exists()
        assert sales_personas.sales1.notifications.filter(title__contains=receipt.number).exists()

    def test_a_salesperson_cannot_cancel_a_confirmed_receipt(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100")
        with pytest.raises(PermissionDenied):
            services.receipt_cancel(actor=sales_personas.sales1, receipt=receipt, reason="x")
        assert figures(order) == (Decimal("100.00"), Decimal("100.00"))

    def test_cancel_needs_a_reason(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100")
        with pytest.raises(ValidationError) as error:
            services.receipt_cancel(actor=sales_personas.finance, receipt=receipt, reason="")
        assert list(error.value.message_dict) == ["reason"]

    def test_twice_is_refused(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100")
        services.receipt_cancel(actor=sales_personas.finance, receipt=receipt, reason="x")
        with pytest.raises(ValidationError):
            services.receipt_cancel(actor=sales_personas.finance, receipt=receipt, reason="x")
        assert figures(order) == (Decimal("0.00"), Decimal("0.00"))

    def test_receipts_of_a_completed_order_stay(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100000")
        SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
        with pytest.raises(ValidationError):
            services.receipt_cancel(actor=sales_personas.finance, receipt=receipt, reason="x")

    def test_out_of_scope_is_not_found(self, sales_personas, order):
        receipt = receive(sales_personas.sales1, order, "100")
        set_receipt_approval(True)
        with pytest.raises(PermissionDenied):
            services.receipt_cancel(actor=sales_personas.sales2, receipt=receipt, reason="x")


class TestOrdersHook:
    def test_the_orders_part_hears_of_confirmed_receipts(self, sales_personas, order, monkeypatch):
        heard = []
        monkeypatch.setattr(
            order_services,
            "order_settle",
            lambda order, actor=None: heard.append((order.pk, order.received_amount)),
        )
        set_receipt_approval(True)
        receipt = receive(sales_personas.sales1, order, "100")
        assert heard == []  # pending: nothing received yet
        services.receipt_approve(actor=sales_personas.finance, receipt=receipt)
        assert heard == [(order.pk, Decimal("100.00"))]
        set_receipt_approval(False)
        receive(sales_personas.sales1, order, "50")
        services.receipt_cancel(actor=sales_personas.finance, receipt=receipt, reason="x")
        assert heard[1:] == [(order.pk, Decimal("150.00")), (order.pk, Decimal("50.00"))]


class TestOrderCompletion:
    def test_a_delivered_order_received_in_full_is_completed_by_the_orders_part(
        self, sales_personas, order_for
    ):
        order = order_for(total="1000", status=OrderStatus.DELIVERED)
        receive(sales_personas.sales1, order, "400")
        order.refresh_from_db()
        assert order.status == OrderStatus.DELIVERED
        receive(sales_personas.sales1, order, "600")
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
