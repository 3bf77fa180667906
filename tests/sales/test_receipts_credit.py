"""Credit limits (credit.py): open receivables of booked orders, the limit check the orders
part calls (`credit_check(customer=, amount=, exclude_order_id=, lock=True)`), warn or block
mode, and who may set a customer's limit and channel tier."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation

from marketdesk.crm import services as crm_services
from marketdesk.sales.credit import account_for, credit_check, open_receivables
from marketdesk.sales.models import CreditMode, CustomerAccount, OrderStatus, SalesSettings
from marketdesk.sales.services import receipts as services

from . import test_receipts_helpers as h
from .test_receipts_helpers import receive, set_receipt_approval

pytestmark = pytest.mark.django_db

order_for = h.order_for


def set_limit(customer, limit, actor):
    return services.customer_account_update(actor=actor, customer=customer, credit_limit=limit)


class TestOpenReceivables:
    def test_only_booked_orders_count(self, customer, order_for):
        order_for(total="1000")
        order_for(total="2000", status=OrderStatus.DELIVERED)
        order_for(total="4000", status=OrderStatus.DRAFT)
        order_for(total="8000", status=OrderStatus.IN_APPROVAL)
        order_for(total="16000", status=OrderStatus.CANCELLED)
        assert open_receivables(customer.pk) == Decimal("3000.00")

    def test_confirmed_receipts_reduce_them_pending_ones_do_not(
        self, sales_personas, customer, order_for
    ):
        order = order_for(total="10000")
        receive(sales_personas.sales1, order, "3000")
        assert open_receivables(customer.pk) == Decimal("7000.00")
        set_receipt_approval(True)
        receive(sales_personas.sales1, order, "2000")
        assert open_receivables(customer.pk) == Decimal("7000.00")

    def test_money_keeps_two_decimal_places(self, sales_personas, customer, order_for):
        order = order_for(total="85870.40")
        order_for(total="0.10")
        receive(sales_personas.sales1, order, "0.20")
        value = open_receivables(customer.pk)
        assert value == Decimal("85870.30") and value.as_tuple().exponent == -2

    def test_an_order_can_be_left_out(self, customer, order_for):
        first = order_for(total="1000")
        order_for(total="2000")
        assert open_receivables(customer.pk, exclude_order_id=first.pk) == Decimal("2000.00")

    def test_other_customers_do_not_count(self, sales_personas, customer, order_for):
        other = h.make_customer(sales_personas.sales1, "苏州金鸡湖电子有限公司")
        order_for(total="5000", customer_=other)
        assert open_receivables(customer.pk) == 0


class TestCreditCheck:
    def test_without_a_limit_nothing_is_exceeded(self, customer, order_for):
        order_for(total="900000")
        result = credit_check(customer=customer, amount=Decimal("100000"))
        assert result.limit is None and not result.exceeded and not result.blocks
        assert result.message == "" and result.available is None

    def test_within_and_over_the_limit(self, sales_personas, customer, order_for):
        set_limit(customer, Decimal("50000"), sales_personas.finance)
        order_for(total="30000")
        within = credit_check(customer=customer, amount=Decimal("20000"))
        assert not within.exceeded  # exactly at the limit is allowed
        over = credit_check(customer=customer, amount=Decimal("20000.01"))
        assert over.exceeded and not over.blocks  # warn is the default mode
        assert over.available == Decimal("20000.00")
        with translation.override("en"):
            assert over.message == (
                "Open receivables ¥30,000.00 plus this order ¥20,000.01 pass the customer's "
                "credit limit of ¥50,000.00."
            )

    def test_block_mode_blocks(self, sales_personas, customer, order_for):
        SalesSettings.objects.update_or_create(pk=1, defaults={"credit_mode": CreditMode.BLOCK})
        set_limit(customer, Decimal("10000"), sales_personas.finance)
        result = credit_check(customer=customer, amount=Decimal("10000.01"))
        assert result.exceeded and result.blocks and result.mode == CreditMode.BLOCK

    def test_a_zero_limit_allows_no_credit(self, sales_personas, customer):
        set_limit(customer, Decimal("0"), sales_personas.finance)
        assert credit_check(customer=customer, amount=Decimal("0.01")).exceeded
        assert not credit_check(customer=customer, amount=Decimal("0")).exceeded

    def test_the_order_being_checked_is_not_counted_twice(
        self, sales_personas, customer, order_for
    ):
        set_limit(customer, Decimal("50000"), sales_personas.finance)
        order = order_for(total="40000")  # already booked (e.g. confirming after approval)
        result = credit_check(customer=customer, amount=order.total, exclude_order_id=order.pk)
        assert result.open_receivables == 0 and not result.exceeded

    def test_with_lock_inside_a_transaction(self, sales_personas, customer, order_for):
        set_limit(customer, Decimal("100"), sales_personas.finance)
        with transaction.atomic():
            result = credit_check(customer=customer, amount=Decimal("50"), lock=True)
        assert result.limit == Decimal("100.00") and not result.exceeded

    def test_over_limit_before_the_order(self, sales_personas, customer, order_for):
        set_limit(customer, Decimal("1000"), sales_personas.finance)
        order_for(total="1500")
        result = credit_check(customer=customer, amount=Decimal("0"))
        assert result.over_limit and result.available == Decimal("-500.00")


class TestAccountFor:
    def test_it_creates_the_account_once(self, customer):
        first = account_for(customer)
        again = account_for(customer, lock=False)
        assert first.pk == again.pk
        assert CustomerAccount.objects.filter(customer=customer).count() == 1
        assert first.credit_limit is None and first.channel_tier == "direct"


class TestCustomerAccountUpdate:
    @pytest.mark.parametrize("who", ["finance", "manager"])
    def test_finance_and_the_manager_set_limits(self, sales_personas, customer, who):
        account = services.customer_account_update(
            actor=getattr(sales_personas, who),
            customer=customer,
            credit_limit=Decimal("80000"),
            channel_tier="tier1",
        )
        assert (account.credit_limit, account.channel_tier) == (Decimal("80000.00"), "tier1")
        assert account.history.first().history_user == getattr(sales_personas, who)

    @pytest.mark.parametrize(
        "who", ["sales1", "leader1", "sales2", "management", "service", "outsider"]
    )
    def test_others_may_not(self, sales_personas, customer, who):
        with pytest.raises(PermissionDenied):
            set_limit(customer, Decimal("1"), getattr(sales_personas, who))
        assert account_for(customer).credit_limit is None

    def test_empty_means_no_limit(self, sales_personas, customer):
        set_limit(customer, Decimal("5"), sales_personas.finance)
        set_limit(customer, None, sales_personas.finance)
        assert account_for(customer).credit_limit is None

    def test_only_the_limit_changes_when_only_it_is_given(self, sales_personas, customer):
        services.customer_account_update(
            actor=sales_personas.finance, customer=customer, channel_tier="retail"
        )
        set_limit(customer, Decimal("5"), sales_personas.finance)
        assert account_for(customer).channel_tier == "retail"

    @pytest.mark.parametrize(
        "fields,field",
        [
            ({"credit_limit": Decimal("-1")}, "credit_limit"),
            ({"credit_limit": Decimal("1.005")}, "credit_limit"),
            ({"credit_limit": "abc"}, "credit_limit"),
            ({"channel_tier": "vip"}, "channel_tier"),
        ],
    )
    def test_bad_input_names_the_field(self, sales_personas, customer, fields, field):
        with pytest.raises(ValidationError) as error:
            services.customer_account_update(
                actor=sales_personas.finance, customer=customer, **fields
            )
        assert list(error.value.message_dict) == [field]
        assert account_for(customer).credit_limit is None

    def test_a_customer_outside_the_managers_scope(self, sales_personas):
        other = h.make_customer(sales_personas.sales1, "生产部转入客户")
        crm_services.customer_assign(  # now 生产部's, outside 营销部
            actor=sales_personas.manager,
            customer=other,
            to_user=sales_personas.outsider,
            cascade=False,
        )
        with pytest.raises(PermissionDenied):
            set_limit(other, Decimal("1"), sales_personas.manager)
        set_limit(other, Decimal("1"), sales_personas.finance)
