"""Order services (R4.2.2): pricing and discount authority, the approval threshold, credit,
confirmation with coordination tasks, every state change and who may make it, owner changes,
delivery alerts and the on-time delivery rate."""

# ruff: noqa: F811  (the fixtures imported from test_orders_fixtures)
from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import ApprovalRequest, ApprovalTask, TaskStatus
from marketdesk.core.models import Notification
from marketdesk.crm import services as crm_services
from marketdesk.org import services as org_services
from marketdesk.sales import selectors_orders as selectors
from marketdesk.sales.models import (
    CreditMode,
    CustomerAccount,
    DiscountAuthority,
    OrderStatus,
    PriceList,
    PriceListItem,
    Product,
    ProductStatus,
    RollupDirty,
    SalesOrder,
)
from marketdesk.sales.services import deliveries as delivery_services
from marketdesk.sales.services import orders as services

from .test_orders_fixtures import (  # noqa: F401  (fixtures)
    ORDER_DAY,
    approve_all,
    confirm,
    confirmed,
    future,
    make_order,
    new_customer,
    order_flow,
    rows,
    ship,
)

pytestmark = pytest.mark.django_db


# Pricing ------------------------------------------------------------------------------------------


class TestPricing:
    def test_a_line_takes_its_price_from_the_price_list(self, make_order):
        order = make_order(lines=(("terminal", "2", "0"), ("terminal", "10", "0")))
        first, second = order.lines.order_by("line_no")
        assert first.unit_price == Decimal("11000.00")  # A-customer list
        assert first.list_price == Decimal("12000.00")
        assert first.price_list.name == "A 类客户价 2026"
        assert second.unit_price == Decimal("10500.00")  # from 10 pieces
        assert order.list_amount == Decimal("144000.00")
        assert order.total == Decimal("127000.00")

    def test_without_a_list_the_product_list_price_applies(self, make_order, sales_personas):
        order = make_order(lines=(("gateway", "3", "0"),))
        line = order.lines.get()
        assert line.unit_price == line.list_price == Decimal("3500.00")
        assert line.price_list is None

    def test_the_salesperson_cannot_set_the_unit_price(self, sales_personas, customer, catalogue):
        lines = rows(catalogue, ("terminal", "1", "0"))
        lines[0]["unit_price"] = Decimal("1.00")  # ignored
        order = services.order_create(
            actor=sales_personas.sales1,
            customer=customer,
            lines=lines,
            order_date=ORDER_DAY,
            promised_date=future(),
        )
        assert order.lines.get().unit_price == Decimal("11000.00")

    def test_amount_is_quantity_times_price_less_discount_rounded_half_up(self, make_order):
        order = make_order(lines=(("gateway", "3", "3.33"), ("terminal", "1", "2.5")))
        gateway, terminal = order.lines.order_by("line_no")
        assert gateway.amount == Decimal("10150.35")  # 3 × 3500 × 0.9667
        assert terminal.amount == Decimal("10725.00")
        assert order.total == Decimal("20875.35")
        assert order.max_discount == Decimal("3.33")
        assert services.line_amount(Decimal("1"), Decimal("0.25"), Decimal("10")) == Decimal(
            "0.23"
        )  # 0.225: half up, not to even

    @settings(max_examples=60, deadline=None)
    @given(
        quantity=st.decimals(min_value="0.01", max_value="10000", places=2),
        price=st.decimals(min_value="0", max_value="99999", places=2),
        discount=st.decimals(min_value="0", max_value="100", places=2),
    )
    def test_amount_rule_holds_for_any_numbers(self, quantity, price, discount):
        amount = services.line_amount(quantity, price, discount)
        exact = quantity * price * (1 - discount / 100)
        assert amount == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert (
            Decimal("0") <= amount <= (quantity * price).quantize(Decimal("0.01")) + Decimal("0.01")
        )

    def test_the_customer_account_tier_chooses_the_price_list(
        self, make_order, customer, catalogue
    ):
        CustomerAccount.objects.create(customer=customer, channel_tier="tier1")
        tier1 = PriceList.objects.create(
            name="一级经销价",
            channel_tier="tier1",
            valid_from=datetime.date(2026, 1, 1),
            priority=30,
        )
        PriceListItem.objects.create(
            price_list=tier1, product=catalogue["gateway"], price=Decimal("2800.00")
        )
        order = make_order(lines=(("gateway", "1", "0"),))
        assert order.channel_tier == "tier1"
        assert order.lines.get().unit_price == Decimal("2800.00")

    def test_submit_prices_a_draft_again_when_a_price_changed_since(
        self, make_order, sales_personas, catalogue
    ):
        order = make_order(lines=(("terminal", "2", "0"),))
        assert order.total == Decimal("22000.00")
        PriceListItem.objects.filter(
            price_list=catalogue["key_accounts"], min_quantity=Decimal("1")
        ).update(price=Decimal("9000.00"))
        later = timezone.now() + datetime.timedelta(seconds=5)
        PriceList.objects.filter(pk=catalogue["key_accounts"].pk).update(updated_at=later)
        services.order_submit(actor=sales_personas.sales1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
        assert order.lines.get().unit_price == Decimal("9000.00")
        assert order.total == Decimal("18000.00")

    def test_submit_keeps_the_lines_when_no_price_changed(
        self, make_order, sales_personas, catalogue
    ):
        order = make_order(lines=(("terminal", "2", "0"),))
        line_ids = list(order.lines.values_list("pk", flat=True))
        PriceListItem.objects.filter(price_list=catalogue["key_accounts"]).update(
            price=Decimal("1.00")
        )  # changed without touching the list: not a price change the service made
        services.order_submit(actor=sales_personas.sales1, order=order)
        assert list(order.lines.values_list("pk", flat=True)) == line_ids
        order.refresh_from_db()
        assert order.total == Decimal("22000.00")

    def test_a_product_taken_off_sale_since_the_draft_is_named_at_submit(
        self, make_order, sales_personas, catalogue, english
    ):
        order = make_order(lines=(("terminal", "2", "0"),))
        later = timezone.now() + datetime.timedelta(seconds=5)
        Product.objects.filter(pk=catalogue["terminal"].pk).update(
            status=ProductStatus.DISCONTINUED, updated_at=later
        )
        with pytest.raises(ValidationError) as caught:
            services.order_submit(actor=sales_personas.sales1, order=order)
        assert "lines[1].product" in caught.value.message_dict
        order.refresh_from_db()
        assert order.status == OrderStatus.DRAFT

    def test_editing_prices_the_lines_again(self, make_order, sales_personas, catalogue):
        order = make_order(lines=(("terminal", "2", "0"),))
        services.order_update(
            actor=sales_personas.sales1,
            order=order,
            lines=rows(catalogue, ("terminal", "12", "1")),
            title="扩容",
        )
        order.refresh_from_db()
        assert order.lines.get().unit_price == Decimal("10500.00")
        assert order.total == Decimal("124740.00")
        assert order.title == "扩容"


class TestBadInput:
    def test_a_bad_line_is_named_and_nothing_is_saved(self, make_order, english):
        with pytest.raises(ValidationError) as caught:
            make_order(lines=(("terminal", "1", "0"), ("gateway", "0", "0")))
        assert caught.value.message_dict == {
            "lines[2].quantity": ["Line 2: the quantity must be positive."]
        }
        assert not SalesOrder.objects.exists()

    @pytest.mark.parametrize(
        "line, key, message",
        [
            (
                ("gateway", "1", "101"),
                "discount",
                "Line 1: the discount must be between 0 and 100 %.",
            ),
            (
                ("gateway", "1", "-1"),
                "discount",
                "Line 1: the discount must be between 0 and 100 %.",
            ),
            (
                ("gateway", "1.005", "0"),
                "quantity",
                "Line 1: the quantity may have at most 2 decimal places.",
            ),
            (("gateway", "-2", "0"), "quantity", "Line 1: the quantity must be positive."),
        ],
    )
    def test_each_rule_of_a_line(self, make_order, english, line, key, message):
        with pytest.raises(ValidationError) as caught:
            make_order(lines=(line,))
        assert caught.value.message_dict[f"lines[1].{key}"] == [message]

    def test_a_product_not_on_sale_is_refused(self, make_order, catalogue, english):
        catalogue["platform"].status = ProductStatus.DISCONTINUED
        catalogue["platform"].save()
        with pytest.raises(ValidationError) as caught:
            make_order(lines=(("platform", "1", "0"),))
        assert "is not on sale" in caught.value.message_dict["lines[1].product"][0]

    def test_an_order_needs_a_line(self, sales_personas, customer, sales_settings):
        with pytest.raises(ValidationError) as caught:
            services.order_create(
                actor=sales_personas.sales1,
                customer=customer,
                lines=[],
                order_date=ORDER_DAY,
                promised_date=future(),
            )
        assert "lines" in caught.value.message_dict

    def test_the_promised_date_is_not_before_the_order_date(self, make_order):
        with pytest.raises(ValidationError) as caught:
            make_order(promised=ORDER_DAY - datetime.timedelta(days=1))
        assert "promised_date" in caught.value.message_dict

    def test_only_a_customer_the_salesperson_sees(self, make_order, sales_personas):
        theirs = new_customer(sales_personas.sales2, "南京长江物流有限公司")
        with pytest.raises(ValidationError) as caught:
            make_order(of=theirs)
        assert "customer" in caught.value.message_dict

    def test_the_contact_belongs_to_the_customer(self, make_order, sales_personas):
        other = new_customer(sales_personas.sales1, "上海另一家有限公司")
        stranger = crm_services.contact_create(
            actor=sales_personas.sales1, customer=other, name="路人甲"
        )
        with pytest.raises(ValidationError) as caught:
            make_order(contact=stranger)
        assert "contact" in caught.value.message_dict

    def test_without_the_permission_nobody_creates_orders(self, make_order, sales_personas):
        for who in ("promo", "service", "outsider", "prd_coord"):
            with pytest.raises(PermissionDenied):
                make_order(user=getattr(sales_personas, who))


# Discount authority and the approval threshold -----------------------------------------------------


class TestSubmit:
    def test_within_authority_the_order_is_confirmed_at_once(self, make_order, sales_personas):
        order = make_order(lines=(("terminal", "2", "5"),))  # 5 % = the default authority
        assert services.order_submit(actor=sales_personas.sales1, order=order) is None
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
        assert order.confirmed_at is not None
        assert order.approval_reasons == ""
        assert not ApprovalRequest.objects.exists()

    def test_a_discount_above_authority_goes_to_approval(
        self, make_order, sales_personas, order_flow, english
    ):
        order = make_order(lines=(("terminal", "1", "0"), ("gateway", "2", "6")))
        request = services.order_submit(actor=sales_personas.sales1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.IN_APPROVAL
        assert "discount of 6.00 % is above the authority of 5.00 %" in order.approval_reasons
        assert request.doc_type == "sales.order" and request.category == "discount"
        task = ApprovalTask.objects.get(request=request, status=TaskStatus.WAITING)
        assert task.approver == sales_personas.leader1
        assert not order.tasks.exists()

    def test_a_personal_authority_wins_over_the_default(self, make_order, sales_personas):
        DiscountAuthority.objects.create(user=sales_personas.sales1, max_discount=Decimal("8"))
        order = make_order(lines=(("terminal", "1", "7.5"),))
        services.order_submit(actor=sales_personas.sales1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED

    def test_a_total_above_the_threshold_goes_to_approval(
        self, make_order, sales_personas, sales_settings, order_flow, english
    ):
        sales_settings.approval_amount = Decimal("20000")
        sales_settings.save()
        order = make_order(lines=(("terminal", "2", "0"),))  # ¥22,000
        request = services.order_submit(actor=sales_personas.sales1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.IN_APPROVAL
        assert "the total ¥22,000.00 is above ¥20,000.00" in order.approval_reasons
        assert request.category == "amount"
        assert request.amount == Decimal("22000.00")

    def test_confirmation_makes_the_customer_a_deal_customer_once(self, make_order, sales_personas):
        from marketdesk.crm.models import CustomerStage

        order = make_order(lines=(("terminal", "1", "0"),))
        customer = order.customer
        customer.stage, customer.won_at = CustomerStage.INTENTION, None
        customer.save()
        services.order_submit(actor=sales_personas.sales1, order=order)
        order.refresh_from_db()
        customer.refresh_from_db()
        assert customer.stage == CustomerStage.DEAL
        assert customer.won_at == order.confirmed_at
        history = customer.history.first()
        assert history.stage == CustomerStage.DEAL
        assert history.history_user == sales_personas.sales1
        second = make_order(lines=(("terminal", "1", "0"),))
        services.order_submit(actor=sales_personas.sales1, order=second)
        customer.refresh_from_db()
        assert customer.won_at == order.confirmed_at  # the first deal's date stays

    def test_approval_confirms_and_creates_the_tasks(
        self, make_order, sales_personas, order_flow, django_capture_on_commit_callbacks
    ):
        order = make_order(lines=(("terminal", "1", "9"),))
        request = services.order_submit(actor=sales_personas.sales1, order=order)
        approve_all(request, django_capture_on_commit_callbacks)
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
        assert {t.kind for t in order.tasks.all()} == {"production", "logistics"}
        assert order.approval_reasons  # kept: why it went through approval

    @pytest.mark.parametrize("how", ["reject", "return", "withdraw"])
    def test_a_rejected_returned_or_withdrawn_order_is_a_draft_again(
        self, make_order, sales_personas, order_flow, django_capture_on_commit_callbacks, how
    ):
        order = make_order(lines=(("terminal", "1", "9"),))
        request = services.order_submit(actor=sales_personas.sales1, order=order)
        task = ApprovalTask.objects.get(request=request, status=TaskStatus.WAITING)
        with django_capture_on_commit_callbacks(execute=True):
            if how == "reject":
                approvals.task_reject(actor=task.approver, task=task, reason="折扣过大")
            elif how == "return":
                approvals.task_return(actor=task.approver, task=task, reason="请调整折扣")
            else:
                services.order_withdraw(actor=sales_personas.sales1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.DRAFT
        services.order_update(  # editable again, and can be submitted again
            actor=sales_personas.sales1,
            order=order,
            lines=[{"product": order.lines.get().product, "quantity": 1, "discount": 4}],
        )
        assert services.order_submit(actor=sales_personas.sales1, order=order) is None

    def test_without_a_flow_the_submission_is_refused_and_nothing_changes(
        self, make_order, sales_personas
    ):
        order = make_order(lines=(("terminal", "1", "20"),))
        with pytest.raises(ValidationError):
            services.order_submit(actor=sales_personas.sales1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.DRAFT

    def test_only_the_owner_submits_and_withdraws(self, make_order, sales_personas, order_flow):
        order = make_order(lines=(("terminal", "1", "9"),))
        for who in ("sales1b", "leader1", "manager"):
            with pytest.raises(PermissionDenied):
                services.order_submit(actor=getattr(sales_personas, who), order=order)
        services.order_submit(actor=sales_personas.sales1, order=order)
        with pytest.raises(PermissionDenied):
            services.order_withdraw(actor=sales_personas.leader1, order=order)

    def test_an_order_in_approval_cannot_be_edited(self, make_order, sales_personas, order_flow):
        order = make_order(lines=(("terminal", "1", "9"),))
        services.order_submit(actor=sales_personas.sales1, order=order)
        with pytest.raises(ValidationError):
            services.order_update(actor=sales_personas.sales1, order=order, title="改")


class TestConfirm:
    def test_a_leader_confirms_a_draft_of_the_group(self, make_order, sales_personas):
        order = make_order()
        services.order_confirm(actor=sales_personas.leader1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
        assert Notification.objects.filter(
            recipient=sales_personas.sales1, kind="sales.order_confirmed"
        ).exists()

    def test_nobody_confirms_past_the_authority(self, make_order, sales_personas):
        order = make_order(lines=(("terminal", "1", "9"),))
        with pytest.raises(ValidationError):
            services.order_confirm(actor=sales_personas.leader1, order=order)

    @pytest.mark.parametrize("who", ["sales1", "sales1b", "leader2", "finance", "prd_coord"])
    def test_who_may_not_confirm(self, make_order, sales_personas, who):
        order = make_order()
        with pytest.raises(PermissionDenied):
            services.order_confirm(actor=getattr(sales_personas, who), order=order)

    def test_the_manager_confirms_for_any_group(self, make_order, sales_personas):
        order = make_order()
        services.order_confirm(actor=sales_personas.manager, order=order)
        assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


class TestCredit:
    def test_a_passed_limit_warns_in_warn_mode(self, make_order, sales_personas, customer):
        CustomerAccount.objects.create(customer=customer, credit_limit=Decimal("10000"))
        order = confirm(make_order())
        assert order.status == OrderStatus.CONFIRMED
        assert "credit limit" in order.credit_warning or "信用" in order.credit_warning

    def test_a_passed_limit_blocks_in_block_mode(
        self, make_order, sales_personas, customer, sales_settings
    ):
        sales_settings.credit_mode = CreditMode.BLOCK
        sales_settings.save()
        CustomerAccount.objects.create(customer=customer, credit_limit=Decimal("10000"))
        order = make_order()
        with pytest.raises(ValidationError) as caught:
            services.order_submit(actor=sales_personas.sales1, order=order)
        assert "credit" in caught.value.message_dict
        order.refresh_from_db()
        assert order.status == OrderStatus.DRAFT

    def test_booked_orders_count_against_the_limit(self, make_order, customer):
        CustomerAccount.objects.create(customer=customer, credit_limit=Decimal("30000"))
        first = confirm(make_order())  # ¥22,000
        assert first.credit_warning == ""
        second = confirm(make_order())  # 22,000 + 22,000 > 30,000
        assert second.credit_warning


# Confirmation: coordination tasks --------------------------------------------------------------------


class TestTasks:
    def test_confirming_creates_production_and_logistics_tasks(self, make_order, sales_personas):
        promised = future(20)
        order = confirm(make_order(promised=promised))
        production = order.tasks.get(kind="production")
        logistics = order.tasks.get(kind="logistics")
        assert production.department.code == "PRD"
        assert production.due_date == promised - datetime.timedelta(days=3)
        assert logistics.department.code == "LOG"
        assert logistics.due_date == promised
        assert production.status == logistics.status == "open"
        # no unit head: the unit's coordinators are told
        assert Notification.objects.filter(
            recipient=sales_personas.prd_coord, kind="sales.task"
        ).exists()

    def test_the_task_owner_is_the_unit_head(self, make_order, sales_personas):
        root = sales_personas.management.__class__.objects.get(username="system")
        org_services.department_update(
            actor=root,
            department=sales_personas.units["PRD"],
            head=sales_personas.employees["prd_coord"],
        )
        order = confirm(make_order())
        assert order.tasks.get(kind="production").owner == sales_personas.prd_coord
        assert order.tasks.get(kind="logistics").owner is None

    def test_production_is_never_due_before_today(self, make_order):
        order = confirm(make_order(promised=future(1)))
        assert order.tasks.get(kind="production").due_date == timezone.localdate()

    def test_confirming_marks_the_rollup_cells(self, make_order):
        order = make_order()
        assert not RollupDirty.objects.exists()
        confirm(order)
        assert RollupDirty.objects.filter(
            year=2026, month=3, owner_id=order.owner_id, department_id=order.department_id
        ).exists()

    def test_the_timeline_shows_who_changed_the_state(self, confirmed, sales_personas):
        last = confirmed.history.order_by("-history_date", "-history_id").first()
        assert last.status == "confirmed"
        assert last.history_user == sales_personas.sales1


# Production, completion, cancellation: who may -------------------------------------------------------


class TestProduction:
    def test_starting_the_production_task_puts_the_order_in_production(
        self, confirmed, sales_personas
    ):
        task = confirmed.tasks.get(kind="production")
        services.task_start(actor=sales_personas.prd_coord, task=task)
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.IN_PRODUCTION
        services.task_done(actor=sales_personas.prd_coord, task=task, note="已完工")
        confirmed.refresh_from_db()
        task.refresh_from_db()
        assert confirmed.status == OrderStatus.READY
        assert task.status == "done" and task.done_at and "已完工" in task.notes

    def test_order_actions_move_the_production_task(self, confirmed, sales_personas):
        services.order_start_production(actor=sales_personas.leader1, order=confirmed)
        assert confirmed.tasks.get(kind="production").status == "in_progress"
        services.order_mark_ready(actor=sales_personas.prd_coord, order=confirmed)
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.READY
        assert confirmed.tasks.get(kind="production").status == "done"

    @pytest.mark.parametrize("who", ["sales1", "sales1b", "leader2", "log_coord", "finance"])
    def test_who_may_not_move_production(self, confirmed, sales_personas, who):
        user = getattr(sales_personas, who)
        with pytest.raises(PermissionDenied):
            services.order_start_production(actor=user, order=confirmed)
        with pytest.raises(PermissionDenied):
            services.task_start(actor=user, task=confirmed.tasks.get(kind="production"))

    def test_a_draft_cannot_go_into_production(self, make_order, sales_personas):
        with pytest.raises(PermissionDenied):  # no task, and not the leaders' action on a draft
            services.order_start_production(actor=sales_personas.prd_coord, order=make_order())
        with pytest.raises(ValidationError):
            services.order_start_production(actor=sales_personas.leader1, order=make_order())

    def test_a_task_is_reassigned_and_rescheduled(self, confirmed, sales_personas):
        task = confirmed.tasks.get(kind="logistics")
        services.task_update(
            actor=sales_personas.log_coord,
            task=task,
            owner=sales_personas.log_coord,
            due_date=future(40),
            notes="走德邦专线",
        )
        task.refresh_from_db()
        assert task.owner == sales_personas.log_coord and task.notes == "走德邦专线"
        with pytest.raises(PermissionDenied):
            services.task_update(actor=sales_personas.sales1, task=task, notes="x")


class TestCompleteAndCancel:
    def delivered(self, confirmed, sales_personas):
        delivery = ship(confirmed, sales_personas.log_coord)
        delivery_services.delivery_sign(
            actor=sales_personas.log_coord, delivery=delivery, signed_on=ORDER_DAY
        )
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.DELIVERED
        return confirmed

    def test_a_confirmer_completes_a_delivered_order(self, confirmed, sales_personas):
        order = self.delivered(confirmed, sales_personas)
        for who in ("sales1", "leader2", "log_coord"):
            with pytest.raises(PermissionDenied):
                services.order_complete(actor=getattr(sales_personas, who), order=order)
        services.order_complete(actor=sales_personas.leader1, order=order)
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED and order.completed_at

    def test_only_a_delivered_order_is_completed(self, confirmed, sales_personas):
        with pytest.raises(ValidationError):
            services.order_complete(actor=sales_personas.leader1, order=confirmed)

    def test_a_delivered_order_received_in_full_completes_itself(self, confirmed, sales_personas):
        order = self.delivered(confirmed, sales_personas)
        SalesOrder.objects.filter(pk=order.pk).update(
            receipted_amount=order.total, received_amount=order.total
        )
        services.order_settle(order)
        assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.COMPLETED

    def test_the_owner_cancels_a_draft_with_a_reason(self, make_order, sales_personas):
        order = make_order()
        with pytest.raises(ValidationError):
            services.order_cancel(actor=sales_personas.sales1, order=order, reason=" ")
        with pytest.raises(PermissionDenied):
            services.order_cancel(actor=sales_personas.sales1b, order=order, reason="不要了")
        services.order_cancel(actor=sales_personas.sales1, order=order, reason="客户取消")
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "客户取消"

    def test_a_confirmed_order_is_cancelled_by_a_confirmer_and_its_tasks_too(
        self, confirmed, sales_personas
    ):
        with pytest.raises(PermissionDenied):
            services.order_cancel(actor=sales_personas.sales1, order=confirmed, reason="客户取消")
        with pytest.raises(PermissionDenied):
            services.order_cancel(actor=sales_personas.leader2, order=confirmed, reason="x")
        services.order_cancel(actor=sales_personas.leader1, order=confirmed, reason="预算冻结")
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.CANCELLED and confirmed.cancelled_at
        assert set(confirmed.tasks.values_list("status", flat=True)) == {"cancelled"}
        assert RollupDirty.objects.exists()  # it no longer counts as sales

    def test_no_cancelling_once_goods_shipped(self, confirmed, sales_personas):
        ship(confirmed, sales_personas.log_coord, {1: "1"})
        with pytest.raises(ValidationError):
            services.order_cancel(actor=sales_personas.leader1, order=confirmed, reason="x")

    def test_no_cancelling_with_receipts(self, confirmed, sales_personas):
        SalesOrder.objects.filter(pk=confirmed.pk).update(receipted_amount=Decimal("100"))
        with pytest.raises(ValidationError):
            services.order_cancel(actor=sales_personas.leader1, order=confirmed, reason="x")

    def test_an_order_in_approval_is_withdrawn_first(self, make_order, sales_personas, order_flow):
        order = make_order(lines=(("terminal", "1", "9"),))
        services.order_submit(actor=sales_personas.sales1, order=order)
        with pytest.raises(ValidationError):
            services.order_cancel(actor=sales_personas.sales1, order=order, reason="x")

    def test_only_the_owner_edits_a_draft(self, make_order, sales_personas, confirmed):
        order = make_order()
        for who in ("sales1b", "leader1", "manager"):
            with pytest.raises(PermissionDenied):
                services.order_update(actor=getattr(sales_personas, who), order=order, title="x")
        with pytest.raises(ValidationError):
            services.order_update(actor=sales_personas.sales1, order=confirmed, title="x")


# Owner changes ------------------------------------------------------------------------------------


class TestOwnerChange:
    def test_a_customer_transfer_takes_its_open_orders_along(
        self, make_order, confirmed, sales_personas, customer
    ):
        draft = make_order()
        closed = make_order()
        services.order_cancel(actor=sales_personas.sales1, order=closed, reason="作废")
        crm_services.customer_assign(
            actor=sales_personas.manager, customer=customer, to_user=sales_personas.sales2
        )
        for order in (draft, confirmed):
            order.refresh_from_db()
            assert order.owner == sales_personas.sales2
            assert order.department == sales_personas.units["S2"]
        closed.refresh_from_db()
        assert closed.owner == sales_personas.sales1

    def test_a_leaver_hands_open_orders_to_the_successor(self, confirmed, sales_personas):
        moved = services.orders_handover(
            sales_personas.sales1, sales_personas.sales1b, sales_personas.manager
        )
        assert moved == 1
        confirmed.refresh_from_db()
        assert confirmed.owner == sales_personas.sales1b


# Delivery alerts ----------------------------------------------------------------------------------


class TestDeliveryAlerts:
    def test_owner_and_leader_hear_before_the_date_and_once_after_it_slips(
        self, make_order, sales_personas, sales_settings
    ):
        today = timezone.localdate()
        soon = confirm(make_order(promised=today + datetime.timedelta(days=2)))
        later = confirm(make_order(promised=today + datetime.timedelta(days=20)))
        assert services.delivery_alerts(today=today) == "1 due soon, 0 late"
        for user in (sales_personas.sales1, sales_personas.leader1):
            assert (
                Notification.objects.filter(recipient=user, kind="sales.delivery_before").count()
                == 1
            )
        assert services.delivery_alerts(today=today) == "0 due soon, 0 late"  # idempotent
        slipped = today + datetime.timedelta(days=3)
        assert services.delivery_alerts(today=slipped) == "0 due soon, 1 late"
        assert services.delivery_alerts(today=slipped) == "0 due soon, 0 late"
        assert (
            Notification.objects.filter(
                recipient=sales_personas.leader1,
                kind="sales.delivery_after",
                url=soon.get_absolute_url(),
            ).count()
            == 1
        )
        later.refresh_from_db()
        assert later.slip_alerted == ""

    def test_delivered_and_draft_orders_are_left_alone(self, make_order, confirmed, sales_personas):
        make_order(promised=timezone.localdate())
        ship(confirmed, sales_personas.log_coord)
        delivery_services.delivery_sign(
            actor=sales_personas.log_coord, delivery=confirmed.deliveries.get(), signed_on=ORDER_DAY
        )
        far = timezone.localdate() + datetime.timedelta(days=400)
        assert services.delivery_alerts(today=far) == "0 due soon, 0 late"


# On-time delivery rate ----------------------------------------------------------------------------


class TestOnTimeRates:
    def deliver(self, order, user, signed_on):
        delivery = ship(order, user, day=ORDER_DAY)
        delivery_services.delivery_sign(actor=user, delivery=delivery, signed_on=signed_on)

    def test_rates_per_unit_and_per_salesperson_within_the_scope(
        self, make_order, sales_personas, catalogue
    ):
        log = sales_personas.log_coord
        promised = ORDER_DAY + datetime.timedelta(days=10)
        for days in (5, 10, 12):  # on time, on time (the promised day), late
            self.deliver(
                confirm(make_order(promised=promised)),
                log,
                ORDER_DAY + datetime.timedelta(days=days),
            )
        theirs = new_customer(sales_personas.sales2, "南京长江物流有限公司")
        order = services.order_create(
            actor=sales_personas.sales2,
            customer=theirs,
            lines=rows(catalogue, ("gateway", "1", "0")),
            order_date=ORDER_DAY,
            promised_date=promised,
        )
        self.deliver(confirm(order), log, ORDER_DAY + datetime.timedelta(days=11))
        start, end = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
        by_unit = {
            r.label: (r.delivered, r.on_time, r.rate)
            for r in selectors.on_time_rates(actor=sales_personas.manager, start=start, end=end)
        }
        assert by_unit == {"销售一组": (3, 2, Decimal("66.7")), "销售二组": (1, 0, Decimal("0.0"))}
        by_owner = selectors.on_time_rates(
            actor=sales_personas.manager, start=start, end=end, by="owner"
        )
        assert [(r.label, r.rate) for r in by_owner] == [
            ("王芳", Decimal("66.7")),
            ("吴涛", Decimal("0.0")),
        ]
        mine = selectors.on_time_rates(actor=sales_personas.leader1, start=start, end=end)
        assert [r.label for r in mine] == ["销售一组"]
        outside = selectors.on_time_rates(
            actor=sales_personas.manager,
            start=datetime.date(2025, 1, 1),
            end=datetime.date(2025, 12, 31),
        )
        assert outside == []
        assert selectors.on_time_total(by_owner).rate == Decimal("50.0")
