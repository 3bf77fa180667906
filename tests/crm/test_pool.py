"""The customer pool (公海): claim, assign and transfer, return, lock, and the holding limits
(crm/services.py). The clock is frozen: claims take `now=`, other services run inside
`frozen()`."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.core.models import RecordAccess, RecordShare
from marketdesk.crm import registry, selectors, services
from marketdesk.crm.models import (
    Customer,
    CustomerStage,
    OwnerChange,
    OwnerChangeKind,
    Revisit,
    RevisitStatus,
)

from .conftest import NOW
from .factories import fresh, frozen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DAY = datetime.timedelta(days=1)


def codes(exc: pytest.ExceptionInfo) -> list[str]:
    error = exc.value
    if hasattr(error, "error_dict"):
        return [e.code for errors in error.error_dict.values() for e in errors]
    return [e.code for e in error.error_list]


def changes(customer) -> list[tuple]:
    return [
        (c.kind, c.from_user and c.from_user.username, c.to_user and c.to_user.username)
        for c in OwnerChange.objects.filter(customer=customer).order_by("at", "pk")
    ]


@pytest.fixture
def pooled(make_customer):
    """pooled(**fields) -> a customer in the default pool (created there by the manager)."""

    def make(**fields):
        return make_customer(None, at=NOW - 30 * DAY, **fields)

    return make


@pytest.fixture
def returned_by(personas, make_customer):
    """returned_by(user, at) -> a customer `user` owned and returned to the pool at `at`."""

    def make(user, at=NOW):
        customer = make_customer(user, at=at - 10 * DAY)
        with frozen(at):
            return services.customer_return(actor=user, customer=customer, reason="没有需求")

    return make


class TestCustomerClaim:
    def test_a_salesperson_claims_a_pool_customer(self, personas, pooled):
        customer = services.customer_claim(actor=personas.sales1, customer=pooled(), now=NOW)
        customer = fresh(customer)
        assert customer.owner == personas.sales1
        assert customer.department == personas.units["S1"]
        assert (customer.owned_since, customer.pooled_at) == (NOW, None)
        claim = OwnerChange.objects.get(customer=customer, kind=OwnerChangeKind.CLAIM)
        assert (claim.to_user, claim.by, claim.at) == (personas.sales1, personas.sales1, NOW)

    def test_a_claimed_customer_is_no_longer_in_the_pool(self, personas, pooled):
        customer = pooled()
        services.customer_claim(actor=personas.sales1, customer=customer, now=NOW)
        with pytest.raises(ValidationError) as exc:
            services.customer_claim(actor=personas.sales2, customer=customer, now=NOW)
        assert codes(exc) == ["not_in_pool"]

    @pytest.mark.parametrize("who", ["promo", "service", "finance", "management", "outsider"])
    def test_people_who_may_not_claim_are_refused(self, personas, pooled, who):
        with pytest.raises(PermissionDenied):
            services.customer_claim(actor=getattr(personas, who), customer=pooled(), now=NOW)

    def test_only_members_of_a_pool_with_members_may_claim(self, personas, pool, pooled):
        services.pool_save(actor=personas.manager, pool=pool, members=[personas.sales2])
        customer = pooled()
        with pytest.raises(PermissionDenied):
            services.customer_claim(actor=personas.sales1, customer=customer, now=NOW)
        services.customer_claim(actor=personas.sales2, customer=customer, now=NOW)
        assert fresh(customer).owner == personas.sales2

    def test_an_inactive_pool_cannot_be_claimed_from(self, personas, pool, pooled):
        customer = pooled()
        services.pool_save(actor=personas.manager, pool=pool, active=False)
        with pytest.raises(PermissionDenied):
            services.customer_claim(actor=personas.sales1, customer=customer, now=NOW)


class TestReclaimCooldown:
    def test_the_previous_owner_may_not_reclaim_within_the_cooldown(self, personas, returned_by):
        customer = returned_by(personas.sales1, at=NOW)
        with pytest.raises(ValidationError) as exc:
            services.customer_claim(
                actor=personas.sales1,
                customer=customer,
                now=NOW + 7 * DAY - datetime.timedelta(minutes=1),
            )
        assert codes(exc) == ["cooldown"]
        assert exc.value.messages == [
            "You returned this customer to the pool on 2026-03-04; "
            "you may claim it again from 2026-03-11."
        ]

    def test_the_previous_owner_may_reclaim_once_the_cooldown_is_over(self, personas, returned_by):
        customer = returned_by(personas.sales1, at=NOW)
        services.customer_claim(actor=personas.sales1, customer=customer, now=NOW + 7 * DAY)
        assert fresh(customer).owner == personas.sales1

    def test_someone_else_may_claim_at_once(self, personas, returned_by):
        customer = returned_by(personas.sales1, at=NOW)
        services.customer_claim(actor=personas.sales1b, customer=customer, now=NOW)
        assert fresh(customer).owner == personas.sales1b

    def test_a_pool_without_cooldown_lets_the_previous_owner_reclaim(
        self, personas, pool, returned_by
    ):
        services.pool_save(actor=personas.manager, pool=pool, reclaim_cooldown_days=0)
        customer = returned_by(personas.sales1, at=NOW)
        services.customer_claim(actor=personas.sales1, customer=customer, now=NOW)
        assert fresh(customer).owner == personas.sales1


class TestDailyClaimCap:
    @pytest.fixture(autouse=True)
    def cap_of_two(self, personas, pool):
        services.pool_save(actor=personas.manager, pool=pool, daily_claim_cap=2)

    def test_the_third_claim_of_the_day_is_refused(self, personas, pooled):
        for hour in (9, 10):
            services.customer_claim(
                actor=personas.sales1, customer=pooled(), now=NOW.replace(hour=hour)
            )
        with pytest.raises(ValidationError) as exc:
            services.customer_claim(
                actor=personas.sales1, customer=pooled(), now=NOW.replace(hour=23, minute=59)
            )
        assert codes(exc) == ["daily_cap"]
        assert exc.value.messages == [
            "You have already claimed 2 customers today, the daily limit of this pool."
        ]

    def test_the_cap_starts_again_the_next_day(self, personas, pooled):
        for hour in (9, 10):
            services.customer_claim(
                actor=personas.sales1, customer=pooled(), now=NOW.replace(hour=hour)
            )
        next_morning = NOW.replace(hour=0, minute=1) + DAY
        services.customer_claim(actor=personas.sales1, customer=pooled(), now=next_morning)

    def test_the_cap_is_per_person(self, personas, pooled):
        for hour in (9, 10):
            services.customer_claim(
                actor=personas.sales1, customer=pooled(), now=NOW.replace(hour=hour)
            )
        services.customer_claim(actor=personas.sales1b, customer=pooled(), now=NOW)

    def test_assignments_do_not_count_as_claims(self, personas, pooled):
        with frozen(NOW):
            for _ in range(2):
                services.customer_assign(
                    actor=personas.leader1, customer=pooled(), to_user=personas.sales1
                )
        services.customer_claim(actor=personas.sales1, customer=pooled(), now=NOW)


class TestHoldingLimits:
    def test_a_person_at_the_owned_limit_cannot_claim(self, personas, pooled, make_customer):
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1, max_owned=1, max_locked=None
        )
        make_customer(personas.sales1)
        with pytest.raises(ValidationError) as exc:
            services.customer_claim(actor=personas.sales1, customer=pooled(), now=NOW)
        assert codes(exc) == ["owned_limit"]
        assert exc.value.messages == ["王芳 already owns 1 customers, the limit is 1."]

    def test_a_person_at_the_owned_limit_cannot_create_a_customer(self, personas, make_customer):
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1, max_owned=1, max_locked=None
        )
        make_customer(personas.sales1)
        with pytest.raises(ValidationError) as exc:
            make_customer(personas.sales1)
        assert codes(exc) == ["owned_limit"]

    def test_a_unit_limit_holds_for_each_person_of_the_unit(self, personas, pooled, make_customer):
        services.holding_limit_save(
            actor=personas.manager, department=personas.units["S1"], max_owned=1, max_locked=None
        )
        make_customer(personas.sales1)
        make_customer(personas.sales1b)
        with pytest.raises(ValidationError):
            services.customer_claim(actor=personas.sales1b, customer=pooled(), now=NOW)
        make_customer(personas.sales2)
        services.customer_claim(actor=personas.sales2, customer=pooled(), now=NOW)

    def test_a_limit_of_the_parent_unit_holds_below_it(self, personas, pooled, make_customer):
        services.holding_limit_save(
            actor=personas.manager, department=personas.units["MKT"], max_owned=1, max_locked=None
        )
        make_customer(personas.sales2)
        with pytest.raises(ValidationError):
            services.customer_claim(actor=personas.sales2, customer=pooled(), now=NOW)

    def test_the_nearest_unit_limit_wins(self, personas, pooled, make_customer):
        services.holding_limit_save(
            actor=personas.manager, department=personas.units["MKT"], max_owned=1, max_locked=None
        )
        services.holding_limit_save(
            actor=personas.manager, department=personas.units["S1"], max_owned=3, max_locked=None
        )
        make_customer(personas.sales1)
        services.customer_claim(actor=personas.sales1, customer=pooled(), now=NOW)

    def test_a_personal_limit_overrides_the_unit_limit(self, personas, pooled, make_customer):
        services.holding_limit_save(
            actor=personas.manager, department=personas.units["S1"], max_owned=1, max_locked=None
        )
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1, max_owned=2, max_locked=None
        )
        make_customer(personas.sales1)
        services.customer_claim(actor=personas.sales1, customer=pooled(), now=NOW)

    def test_a_locked_limit_refuses_one_lock_too_many(self, personas, make_customer):
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1, max_owned=None, max_locked=1
        )
        first, second = make_customer(personas.sales1), make_customer(personas.sales1)
        services.customer_set_locked(actor=personas.leader1, customer=first, locked=True)
        with pytest.raises(ValidationError) as exc:
            services.customer_set_locked(actor=personas.leader1, customer=second, locked=True)
        assert codes(exc) == ["locked_limit"]
        assert exc.value.messages == ["王芳 already has 1 locked customers, the limit is 1."]
        assert not fresh(second).locked

    def test_a_unit_locked_limit_holds_for_each_person(self, personas, make_customer):
        services.holding_limit_save(
            actor=personas.manager, department=personas.units["S1"], max_owned=None, max_locked=1
        )
        for owner in (personas.sales1, personas.sales1b):
            services.customer_set_locked(
                actor=personas.leader1, customer=make_customer(owner), locked=True
            )
        with pytest.raises(ValidationError):
            services.customer_set_locked(
                actor=personas.leader1, customer=make_customer(personas.sales1), locked=True
            )

    def test_a_transfer_respects_the_new_owner_limit(self, personas, make_customer):
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1b, max_owned=1, max_locked=None
        )
        make_customer(personas.sales1b)
        customer = make_customer(personas.sales1)
        with pytest.raises(ValidationError) as exc:
            services.customer_assign(
                actor=personas.leader1, customer=customer, to_user=personas.sales1b
            )
        assert codes(exc) == ["owned_limit"]
        assert fresh(customer).owner == personas.sales1

    def test_a_locked_transfer_respects_the_new_owner_locked_limit(self, personas, make_customer):
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1b, max_owned=None, max_locked=1
        )
        services.customer_set_locked(
            actor=personas.leader1, customer=make_customer(personas.sales1b), locked=True
        )
        customer = make_customer(personas.sales1)
        services.customer_set_locked(actor=personas.leader1, customer=customer, locked=True)
        with pytest.raises(ValidationError) as exc:
            services.customer_assign(
                actor=personas.leader1, customer=customer, to_user=personas.sales1b
            )
        assert codes(exc) == ["locked_limit"]


class TestCustomerAssign:
    def test_a_group_leader_assigns_a_pool_customer(self, personas, pooled):
        customer = pooled()
        services.customer_assign(
            actor=personas.leader1, customer=customer, to_user=personas.sales1, reason="区域客户"
        )
        customer = fresh(customer)
        assert (customer.owner, customer.department) == (personas.sales1, personas.units["S1"])
        assert changes(customer)[-1] == ("assign", None, "sales1")

    def test_a_transfer_keeps_the_old_owner_as_a_team_member(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_assign(
            actor=personas.leader1,
            customer=customer,
            to_user=personas.sales1b,
            keep_as_member=True,
        )
        share = RecordShare.objects.get(
            content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
        )
        assert (share.user, share.access) == (personas.sales1, RecordAccess.READ)
        assert list(selectors.customer_list(personas.sales1, scene="team")) == [customer]
        assert changes(customer)[-1] == ("transfer", "sales1", "sales1b")

    def test_without_keeping_the_old_owner_loses_sight_of_the_customer(
        self, personas, make_customer
    ):
        customer = make_customer(personas.sales1)
        services.customer_assign(
            actor=personas.leader1, customer=customer, to_user=personas.sales1b
        )
        with pytest.raises(Exception) as exc:
            selectors.customer_get(actor=personas.sales1, pk=customer.pk)
        assert exc.type.__name__ == "Http404"

    def test_a_transfer_moves_planned_revisits_and_calls_the_hooks(
        self, personas, make_customer, monkeypatch
    ):
        hook = mock.Mock(return_value=0)
        monkeypatch.setitem(registry._owner_hooks, "test.hook", hook)
        customer = make_customer(personas.sales1)
        revisit = services.revisit_schedule(
            actor=personas.sales1, customer=customer, due_date=datetime.date(2026, 4, 1)
        )
        services.customer_assign(actor=personas.leader1, customer=customer, to_user=personas.sales2)
        revisit.refresh_from_db()
        assert (revisit.assignee, revisit.department) == (personas.sales2, personas.units["S2"])
        hook.assert_called_once()
        assert hook.call_args.kwargs == {
            "customer": mock.ANY,
            "from_user": personas.sales1,
            "to_user": personas.sales2,
            "actor": personas.leader1,
        }
        assert hook.call_args.kwargs["customer"].pk == customer.pk

    def test_a_transfer_without_cascade_leaves_revisits_and_hooks_alone(
        self, personas, make_customer, monkeypatch
    ):
        hook = mock.Mock(return_value=0)
        monkeypatch.setitem(registry._owner_hooks, "test.hook", hook)
        customer = make_customer(personas.sales1)
        revisit = services.revisit_schedule(
            actor=personas.sales1, customer=customer, due_date=datetime.date(2026, 4, 1)
        )
        services.customer_assign(
            actor=personas.leader1, customer=customer, to_user=personas.sales1b, cascade=False
        )
        revisit.refresh_from_db()
        assert revisit.assignee == personas.sales1
        hook.assert_not_called()

    def test_a_salesperson_may_not_assign(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        with pytest.raises(PermissionDenied):
            services.customer_assign(
                actor=personas.sales1, customer=customer, to_user=personas.sales1b
            )

    def test_a_group_leader_may_not_transfer_another_group_customer(self, personas, make_customer):
        customer = make_customer(personas.sales2)
        with pytest.raises(PermissionDenied):
            services.customer_assign(
                actor=personas.leader1, customer=customer, to_user=personas.sales1
            )

    def test_the_manager_transfers_across_groups(self, personas, make_customer):
        customer = make_customer(personas.sales2)
        services.customer_assign(actor=personas.manager, customer=customer, to_user=personas.sales1)
        assert fresh(customer).department == personas.units["S1"]

    def test_assigning_to_the_current_owner_is_refused(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        with pytest.raises(ValidationError) as exc:
            services.customer_assign(
                actor=personas.leader1, customer=customer, to_user=personas.sales1
            )
        assert exc.value.message_dict == {"to_user": ["The customer already belongs to 王芳."]}

    def test_a_transfer_keeps_the_lock(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_set_locked(actor=personas.leader1, customer=customer, locked=True)
        services.customer_assign(
            actor=personas.leader1, customer=customer, to_user=personas.sales1b
        )
        assert fresh(customer).locked


class TestCustomerReturn:
    def test_the_owner_returns_a_customer_with_a_reason(self, personas, make_customer, pool):
        customer = make_customer(personas.sales1)
        services.revisit_schedule(
            actor=personas.sales1, customer=customer, due_date=datetime.date(2026, 4, 1)
        )
        with frozen(NOW):
            services.customer_return(actor=personas.sales1, customer=customer, reason=" 无预算 ")
        customer = fresh(customer)
        assert customer.owner is None
        assert (customer.previous_owner, customer.pool, customer.pooled_at) == (
            personas.sales1,
            pool,
            NOW,
        )
        change = OwnerChange.objects.get(customer=customer, kind=OwnerChangeKind.RETURN)
        assert (change.from_user, change.reason, change.pool) == (personas.sales1, "无预算", pool)
        assert not Revisit.objects.filter(customer=customer, status=RevisitStatus.PLANNED).exists()

    def test_a_return_needs_a_reason(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        with pytest.raises(ValidationError) as exc:
            services.customer_return(actor=personas.sales1, customer=customer, reason="  ")
        assert exc.value.message_dict == {"reason": ["Give a reason."]}
        assert fresh(customer).owner == personas.sales1

    def test_a_locked_customer_cannot_be_returned(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_set_locked(actor=personas.leader1, customer=customer, locked=True)
        with pytest.raises(ValidationError) as exc:
            services.customer_return(actor=personas.sales1, customer=customer, reason="不要了")
        assert codes(exc) == ["locked"]

    def test_a_pool_customer_cannot_be_returned_again(self, personas, pooled):
        with pytest.raises(ValidationError) as exc:
            services.customer_return(actor=personas.leader1, customer=pooled(), reason="重复")
        assert codes(exc) == ["in_pool"]

    def test_a_colleague_may_not_return_my_customer(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        with pytest.raises(PermissionDenied):
            services.customer_return(actor=personas.sales1b, customer=customer, reason="抢")

    def test_the_group_leader_returns_a_customer_of_the_group(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_return(actor=personas.leader1, customer=customer, reason="长期无进展")
        assert fresh(customer).previous_owner == personas.sales1

    def test_another_group_leader_may_not(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        with pytest.raises(PermissionDenied):
            services.customer_return(actor=personas.leader2, customer=customer, reason="无")


class TestCustomerSetLocked:
    def test_a_salesperson_may_not_lock(self, personas, make_customer):
        with pytest.raises(PermissionDenied):
            services.customer_set_locked(
                actor=personas.sales1, customer=make_customer(personas.sales1), locked=True
            )

    def test_a_pool_customer_cannot_be_locked(self, personas, pooled):
        with pytest.raises(ValidationError) as exc:
            services.customer_set_locked(actor=personas.manager, customer=pooled(), locked=True)
        assert codes(exc) == ["in_pool"]

    def test_unlocking_is_always_allowed(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_set_locked(actor=personas.leader1, customer=customer, locked=True)
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1, max_owned=None, max_locked=0
        )
        services.customer_set_locked(actor=personas.leader1, customer=customer, locked=False)
        assert not fresh(customer).locked


class TestCreateStraightIntoThePool:
    def test_a_customer_created_into_the_pool_has_no_owner(self, personas, pool):
        customer = services.customer_create(actor=personas.sales1, name="展会线索", to_pool=True)
        assert (customer.owner, customer.pool) == (None, pool)
        assert customer.department == personas.units["S1"]
        assert changes(customer) == [("create", None, None)]

    def test_without_a_pool_a_customer_cannot_go_to_the_pool(self, personas):
        with pytest.raises(ValidationError) as exc:
            services.customer_create(actor=personas.sales1, name="展会线索", to_pool=True)
        assert exc.value.messages == [
            "No customer pool is set up; ask an administrator to create one."
        ]

    def test_a_province_pool_takes_customers_of_its_province(self, personas, pool):
        south = services.pool_save(
            actor=personas.manager, name="华南公海", provinces="广东省，福建省"
        )
        customer = services.customer_create(
            actor=personas.sales1, name="深圳客户", province="广东省", stage=CustomerStage.INTENTION
        )
        assert customer.pool == south
