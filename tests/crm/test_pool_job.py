"""The nightly pool job (services.pool_run): customers return to their pool after N days
without a follow-up or without a deal, by level; deals are exempt if the pool says so; locked
customers never return; owners are reminded N days before, once; a second run does nothing."""

from __future__ import annotations

import datetime

import pytest

from marketdesk.core.models import Notification
from marketdesk.crm import services
from marketdesk.crm.models import (
    CustomerStage,
    FollowUpKind,
    OwnerChange,
    OwnerChangeKind,
    Revisit,
    RevisitStatus,
)

from .conftest import NOW
from .factories import fresh, frozen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)
T0 = NOW  # when the customers below were taken on


@pytest.fixture
def owned(personas, make_customer):
    """owned(level="B", owner=sales1, **fields) -> a customer owned since T0."""

    def make(level="B", owner=None, **fields):
        return make_customer(owner or personas.sales1, at=T0, level=level, **fields)

    return make


def in_pool(*customers) -> list[bool]:
    return [fresh(c).owner_id is None for c in customers]


def follow_up(actor, customer, at, **fields):
    with frozen(at):
        return services.follow_up_create(
            actor=actor, customer=customer, kind=FollowUpKind.PHONE, content="电话沟通", **fields
        )


class TestReturnWithoutFollowUp:
    def test_each_level_returns_after_its_own_number_of_days(self, owned):
        a, b, c = owned("A"), owned("B"), owned("C")  # 30, 20 and 15 days by default
        services.pool_run(now=T0 + 15 * DAY - MINUTE)
        assert in_pool(a, b, c) == [False, False, False]
        services.pool_run(now=T0 + 15 * DAY + MINUTE)
        assert in_pool(a, b, c) == [False, False, True]
        services.pool_run(now=T0 + 20 * DAY + MINUTE)
        assert in_pool(a, b, c) == [False, True, True]
        result = services.pool_run(now=T0 + 30 * DAY + MINUTE)
        assert in_pool(a, b, c) == [True, True, True]
        assert result.returned == 1

    def test_a_follow_up_starts_the_count_again(self, personas, owned):
        customer = owned("B")
        follow_up(personas.sales1, customer, T0 + 10 * DAY)
        services.pool_run(now=T0 + 21 * DAY)
        assert in_pool(customer) == [False]
        services.pool_run(now=T0 + 30 * DAY + MINUTE)
        assert in_pool(customer) == [True]

    def test_a_returned_customer_records_its_previous_owner_and_pool(self, personas, owned, pool):
        customer = owned("C")
        result = services.pool_run(now=T0 + 16 * DAY)
        customer = fresh(customer)
        assert result.returned == 1
        assert (customer.previous_owner, customer.pool, customer.pooled_at) == (
            personas.sales1,
            pool,
            T0 + 16 * DAY,
        )
        change = OwnerChange.objects.get(customer=customer, kind=OwnerChangeKind.AUTO_RETURN)
        assert (change.from_user, change.to_user, change.pool, change.at) == (
            personas.sales1,
            None,
            pool,
            T0 + 16 * DAY,
        )
        assert change.reason == "Pool rules of 华东公海"

    def test_its_planned_revisits_are_cancelled(self, personas, owned):
        customer = owned("C")
        services.revisit_schedule(
            actor=personas.sales1, customer=customer, due_date=datetime.date(2026, 5, 1)
        )
        services.pool_run(now=T0 + 16 * DAY)
        assert not Revisit.objects.filter(customer=customer, status=RevisitStatus.PLANNED).exists()

    def test_the_previous_owner_then_waits_out_the_cooldown(self, personas, owned):
        customer = owned("C")
        services.pool_run(now=T0 + 16 * DAY)
        with pytest.raises(Exception, match="you may claim it again"):
            services.customer_claim(actor=personas.sales1, customer=customer, now=T0 + 17 * DAY)
        services.customer_claim(actor=personas.sales1, customer=customer, now=T0 + 23 * DAY)

    def test_a_level_without_a_rule_never_returns_for_lack_of_follow_ups(
        self, personas, owned, pool
    ):
        services.pool_save(
            actor=personas.manager, pool=pool, no_follow_up_days_c=None, no_deal_days_c=None
        )
        customer = owned("C")
        services.pool_run(now=T0 + 400 * DAY)
        assert in_pool(customer) == [False]


class TestReturnWithoutDeal:
    @pytest.fixture(autouse=True)
    def deal_rules_only(self, personas, pool):
        services.pool_save(
            actor=personas.manager,
            pool=pool,
            no_follow_up_days_a=None,
            no_follow_up_days_b=None,
            no_follow_up_days_c=None,
        )

    def test_a_customer_without_a_deal_returns_after_the_level_days(self, personas, owned):
        a, b, c = (owned(level, stage=CustomerStage.INTENTION) for level in "ABC")
        follow_up(personas.sales1, b, T0 + 80 * DAY)  # follow-ups do not stop the deal clock
        services.pool_run(now=T0 + 60 * DAY + MINUTE)
        assert in_pool(a, b, c) == [False, False, True]
        services.pool_run(now=T0 + 90 * DAY + MINUTE)
        assert in_pool(a, b, c) == [False, True, True]
        services.pool_run(now=T0 + 180 * DAY + MINUTE)
        assert in_pool(a, b, c) == [True, True, True]

    def test_a_customer_with_a_deal_stays(self, owned):
        customer = owned("C", stage=CustomerStage.DEAL)
        services.pool_run(now=T0 + 365 * DAY)
        assert in_pool(customer) == [False]


class TestDealExemption:
    def test_a_deal_is_exempt_from_the_follow_up_rule_by_default(self, owned):
        customer = owned("C", stage=CustomerStage.DEAL)
        services.pool_run(now=T0 + 365 * DAY)
        assert in_pool(customer) == [False]

    def test_without_the_exemption_a_deal_returns_for_lack_of_follow_ups(
        self, personas, owned, pool
    ):
        services.pool_save(actor=personas.manager, pool=pool, deal_exempt=False)
        customer = owned("C", stage=CustomerStage.DEAL)
        services.pool_run(now=T0 + 15 * DAY + MINUTE)
        assert in_pool(customer) == [True]


class TestLockedCustomers:
    def test_a_locked_customer_never_returns(self, personas, owned):
        customer = owned("C")
        services.customer_set_locked(actor=personas.leader1, customer=customer, locked=True)
        result = services.pool_run(now=T0 + 1000 * DAY)
        assert in_pool(customer) == [False]
        assert (result.returned, result.reminded) == (0, 0)


class TestProvincePools:
    def test_a_customer_returns_to_its_province_pool_by_its_rules(self, personas, owned, pool):
        south = services.pool_save(
            actor=personas.manager, name="华南公海", provinces="广东省", no_follow_up_days_b=30
        )
        customer = owned("B", province="广东省")
        services.pool_run(now=T0 + 21 * DAY)
        assert in_pool(customer) == [False]
        services.pool_run(now=T0 + 31 * DAY)
        assert fresh(customer).pool == south
        assert in_pool(customer) == [True]


class TestReminders:
    def reminders(self, user) -> list[str]:
        return list(
            Notification.objects.filter(recipient=user, kind="warning").values_list(
                "title", flat=True
            )
        )

    def test_the_owner_is_reminded_days_before_a_return(self, personas, owned):
        owned("B"), owned("B")  # return on day 20; reminded from day 17
        result = services.pool_run(now=T0 + 17 * DAY - MINUTE)
        assert result.reminded == 0
        result = services.pool_run(now=T0 + 17 * DAY + MINUTE)
        assert result.reminded == 2
        assert self.reminders(personas.sales1) == [
            "2 of your customers return to the pool within 3 days"
        ]

    def test_the_owner_is_reminded_only_once(self, personas, owned):
        owned("B")
        services.pool_run(now=T0 + 18 * DAY)
        result = services.pool_run(now=T0 + 19 * DAY)
        assert result.reminded == 0
        assert len(self.reminders(personas.sales1)) == 1

    def test_a_follow_up_after_the_reminder_allows_a_new_one(self, personas, owned):
        customer = owned("B")
        services.pool_run(now=T0 + 18 * DAY)
        follow_up(personas.sales1, customer, T0 + 18 * DAY + MINUTE)
        services.pool_run(now=T0 + 36 * DAY)
        assert len(self.reminders(personas.sales1)) == 2

    def test_each_owner_gets_their_own_count(self, personas, owned):
        owned("B"), owned("B", owner=personas.sales2)
        services.pool_run(now=T0 + 18 * DAY)
        assert len(self.reminders(personas.sales1)) == len(self.reminders(personas.sales2)) == 1

    def test_no_reminders_when_the_pool_does_not_want_them(self, personas, owned, pool):
        services.pool_save(actor=personas.manager, pool=pool, remind_days_before=0)
        owned("B")
        assert services.pool_run(now=T0 + 19 * DAY).reminded == 0


class TestIdempotence:
    def test_a_second_run_does_nothing_more(self, personas, owned):
        customers = [owned("C") for _ in range(3)] + [owned("B")]
        first = services.pool_run(now=T0 + 18 * DAY)
        assert (first.returned, first.reminded) == (3, 1)
        second = services.pool_run(now=T0 + 18 * DAY)
        assert (second.returned, second.reminded) == (0, 0)
        assert OwnerChange.objects.filter(kind=OwnerChangeKind.AUTO_RETURN).count() == 3
        for customer in customers[:3]:
            assert OwnerChange.objects.filter(customer=customer, kind="auto_return").count() == 1

    def test_small_batches_move_every_customer_once(self, owned):
        customers = [owned("C") for _ in range(5)]
        result = services.pool_run(now=T0 + 16 * DAY, batch=2)
        assert result.returned == 5
        assert in_pool(*customers) == [True] * 5
        assert OwnerChange.objects.filter(kind=OwnerChangeKind.AUTO_RETURN).count() == 5


class TestDormant:
    def test_a_potential_customer_without_contact_for_long_becomes_dormant(self, personas, owned):
        customer = owned("A", stage=CustomerStage.INTENTION)
        follow_up(personas.sales1, customer, T0 + DAY)
        services.customer_set_locked(actor=personas.leader1, customer=customer, locked=True)
        result = services.pool_run(now=T0 + 182 * DAY)
        assert result.dormant == 1
        assert fresh(customer).stage == CustomerStage.DORMANT
