"""Deliveries (R4.2.2): partial deliveries, never more than is open, signing for, the order's
delivered date and on-time flag, cancelling a delivery, and who may do each."""

# ruff: noqa: F811  (the fixtures imported from test_orders_fixtures)
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from marketdesk.sales.models import Delivery, DeliveryStatus, OrderStatus, SalesOrder
from marketdesk.sales.services import deliveries as services

from .test_orders_fixtures import (  # noqa: F401  (fixtures)
    ORDER_DAY,
    confirm,
    confirmed,
    make_order,
    ship,
)

pytestmark = pytest.mark.django_db
DAY2 = ORDER_DAY + datetime.timedelta(days=2)


def lines_of(order):
    return {line.line_no: line for line in order.lines.all()}


class TestPartialDelivery:
    def test_a_partial_delivery_then_the_rest(self, confirmed, sales_personas):
        log = sales_personas.log_coord
        first = ship(confirmed, log, {1: "1", 2: "4"})
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.PARTLY_SHIPPED
        assert lines_of(confirmed)[1].delivered_quantity == Decimal("1")
        assert lines_of(confirmed)[1].open_quantity == Decimal("1")
        assert confirmed.tasks.get(kind="logistics").status == "in_progress"
        assert first.number.startswith("FH")
        ship(confirmed, log, {1: "1"})
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.SHIPPED
        assert set(confirmed.tasks.values_list("status", flat=True)) == {"done"}

    def test_more_than_is_open_is_refused_naming_the_line(self, confirmed, sales_personas, english):
        ship(confirmed, sales_personas.log_coord, {1: "1"})
        with pytest.raises(ValidationError) as caught:
            ship(confirmed, sales_personas.log_coord, {1: "2", 2: "1"})
        assert caught.value.message_dict == {
            "lines[1].quantity": ["Line 1: only 1 台 are still to ship."]
        }
        assert Delivery.objects.count() == 1
        assert lines_of(confirmed)[2].delivered_quantity == 0

    @pytest.mark.parametrize("quantity", ["-1", "0.001"])
    def test_a_bad_quantity_is_refused(self, confirmed, sales_personas, quantity):
        with pytest.raises(ValidationError) as caught:
            ship(confirmed, sales_personas.log_coord, {2: quantity})
        assert "lines[2].quantity" in caught.value.message_dict

    def test_nothing_to_ship_is_refused(self, confirmed, sales_personas):
        with pytest.raises(ValidationError) as caught:
            ship(confirmed, sales_personas.log_coord, {1: "0"})
        assert "lines" in caught.value.message_dict

    def test_a_line_of_another_order_is_refused(self, confirmed, make_order, sales_personas):
        other = confirm(make_order())
        with pytest.raises(ValidationError):
            services.delivery_create(
                actor=sales_personas.log_coord,
                order=confirmed,
                quantities={other.lines.get().pk: Decimal("1")},
                shipped_on=ORDER_DAY,
            )

    def test_the_shipping_date_is_between_the_order_date_and_today(self, confirmed, sales_personas):
        for day in (
            ORDER_DAY - datetime.timedelta(days=1),
            timezone.localdate() + datetime.timedelta(days=1),
        ):
            with pytest.raises(ValidationError) as caught:
                ship(confirmed, sales_personas.log_coord, {1: "1"}, day=day)
            assert "shipped_on" in caught.value.message_dict

    def test_a_draft_is_not_shipped(self, make_order, sales_personas):
        with pytest.raises((ValidationError, PermissionDenied)):
            ship(make_order(), sales_personas.leader1)

    def test_from_ready_to_shipped(self, confirmed, sales_personas):
        task = confirmed.tasks.get(kind="production")
        from marketdesk.sales.services import orders as order_services

        order_services.task_done(actor=sales_personas.prd_coord, task=task)
        ship(confirmed, sales_personas.leader1)
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.SHIPPED


class TestWhoShips:
    @pytest.mark.parametrize("who", ["log_coord", "prd_coord", "leader1", "manager"])
    def test_who_may_ship(self, confirmed, sales_personas, who):
        ship(confirmed, getattr(sales_personas, who), {1: "1"})

    @pytest.mark.parametrize(
        "who", ["sales1", "sales1b", "leader2", "finance", "service", "outsider"]
    )
    def test_who_may_not_ship(self, confirmed, sales_personas, who):
        with pytest.raises(PermissionDenied):
            ship(confirmed, getattr(sales_personas, who), {1: "1"})


class TestSigning:
    def test_all_signed_and_shipped_makes_the_order_delivered_on_time(
        self, confirmed, sales_personas
    ):
        log = sales_personas.log_coord
        first = ship(confirmed, log, {1: "2"})
        services.delivery_sign(actor=log, delivery=first, signed_on=DAY2, signed_by="钱进")
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.PARTLY_SHIPPED  # line 2 still open
        second = ship(confirmed, log, {2: "4"}, day=DAY2)
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.SHIPPED
        services.delivery_sign(
            actor=sales_personas.sales1,
            delivery=second,
            signed_on=DAY2 + datetime.timedelta(days=1),
        )
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.DELIVERED
        assert confirmed.delivered_on == DAY2 + datetime.timedelta(days=1)  # the last signature
        assert confirmed.on_time is True
        first.refresh_from_db()
        assert first.status == DeliveryStatus.SIGNED and first.signed_by == "钱进"

    def test_signed_after_the_promised_date_is_late(self, make_order, sales_personas):
        order = confirm(make_order(promised=ORDER_DAY + datetime.timedelta(days=1)))
        delivery = ship(order, sales_personas.log_coord)
        services.delivery_sign(actor=sales_personas.log_coord, delivery=delivery, signed_on=DAY2)
        order.refresh_from_db()
        assert order.status == OrderStatus.DELIVERED and order.on_time is False

    def test_signing_dates_are_checked(self, confirmed, sales_personas):
        delivery = ship(confirmed, sales_personas.log_coord, day=DAY2)
        for day in (ORDER_DAY, timezone.localdate() + datetime.timedelta(days=1)):
            with pytest.raises(ValidationError) as caught:
                services.delivery_sign(
                    actor=sales_personas.log_coord, delivery=delivery, signed_on=day
                )
            assert "signed_on" in caught.value.message_dict
        services.delivery_sign(actor=sales_personas.log_coord, delivery=delivery, signed_on=DAY2)
        with pytest.raises(ValidationError):  # once only
            services.delivery_sign(
                actor=sales_personas.log_coord, delivery=delivery, signed_on=DAY2
            )

    @pytest.mark.parametrize("who", ["sales1b", "leader2", "finance"])
    def test_who_may_not_sign(self, confirmed, sales_personas, who):
        delivery = ship(confirmed, sales_personas.log_coord)
        with pytest.raises(PermissionDenied):
            services.delivery_sign(
                actor=getattr(sales_personas, who), delivery=delivery, signed_on=DAY2
            )

    def test_delivered_and_paid_completes_the_order(self, confirmed, sales_personas):
        SalesOrder.objects.filter(pk=confirmed.pk).update(
            receipted_amount=confirmed.total, received_amount=confirmed.total
        )
        delivery = ship(confirmed, sales_personas.log_coord)
        services.delivery_sign(actor=sales_personas.log_coord, delivery=delivery, signed_on=DAY2)
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.COMPLETED
        assert confirmed.delivered_on == DAY2


class TestCancelDelivery:
    def test_a_cancelled_delivery_opens_its_quantities_again(self, confirmed, sales_personas):
        log = sales_personas.log_coord
        delivery = ship(confirmed, log)
        with pytest.raises(ValidationError):
            services.delivery_cancel(actor=log, delivery=delivery, reason="")
        services.delivery_cancel(actor=log, delivery=delivery, reason="地址错误，退回")
        confirmed.refresh_from_db()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.CANCELLED and "地址错误" in delivery.notes
        assert confirmed.status == OrderStatus.READY
        assert all(line.delivered_quantity == 0 for line in confirmed.lines.all())
        assert confirmed.tasks.get(kind="logistics").status == "in_progress"
        ship(confirmed, log)  # can ship again

    def test_cancelling_one_of_two_leaves_the_order_partly_shipped(self, confirmed, sales_personas):
        log = sales_personas.log_coord
        ship(confirmed, log, {1: "2"})
        second = ship(confirmed, log, {2: "4"})
        services.delivery_cancel(actor=log, delivery=second, reason="客户要求延后")
        confirmed.refresh_from_db()
        assert confirmed.status == OrderStatus.PARTLY_SHIPPED

    def test_a_signed_delivery_cannot_be_cancelled(self, confirmed, sales_personas):
        log = sales_personas.log_coord
        delivery = ship(confirmed, log)
        services.delivery_sign(actor=log, delivery=delivery, signed_on=DAY2)
        with pytest.raises(ValidationError):
            services.delivery_cancel(actor=log, delivery=delivery, reason="x")

    @pytest.mark.parametrize("who", ["sales1", "leader2"])
    def test_who_may_not_cancel(self, confirmed, sales_personas, who):
        delivery = ship(confirmed, sales_personas.log_coord)
        with pytest.raises(PermissionDenied):
            services.delivery_cancel(
                actor=getattr(sales_personas, who), delivery=delivery, reason="x"
            )
