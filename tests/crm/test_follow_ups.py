"""Follow-ups (跟进记录) and revisits (回访) (crm/services.py): a follow-up moves the customer's
last and next contact and stage; a revisit is scored 1-5, a low score warns the group leader
and the next revisit is planned by level; the nightly job plans revisits of deals."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.core import services as core_services
from marketdesk.core.models import Notification
from marketdesk.crm import selectors, services
from marketdesk.crm.models import CustomerStage, FollowUpKind, Revisit, RevisitStatus

from .conftest import NOW
from .factories import fresh, frozen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def follow_up(actor, customer, **fields):
    fields.setdefault("kind", FollowUpKind.PHONE)
    fields.setdefault("content", "电话沟通需求")
    with frozen(NOW):
        return services.follow_up_create(actor=actor, customer=customer, **fields)


@pytest.fixture
def customer(personas, make_customer):
    return make_customer(personas.sales1, at=NOW - 10 * DAY)


class TestFollowUpCreate:
    def test_it_moves_the_last_and_next_contact_and_the_stage(self, personas, customer):
        record = follow_up(
            personas.sales1,
            customer,
            at=NOW - HOUR,
            next_at=NOW + 3 * DAY,
            stage=CustomerStage.INTENTION,
        )
        customer = fresh(customer)
        assert (customer.last_contact_at, customer.next_contact_at) == (NOW - HOUR, NOW + 3 * DAY)
        assert customer.stage == CustomerStage.INTENTION
        assert (record.user, record.department) == (personas.sales1, personas.units["S1"])

    def test_a_deal_records_its_date(self, personas, customer):
        follow_up(personas.sales1, customer, at=NOW - HOUR, stage=CustomerStage.DEAL)
        assert fresh(customer).won_at == NOW - HOUR

    def test_an_older_follow_up_does_not_move_the_last_contact_back(self, personas, customer):
        follow_up(personas.sales1, customer, at=NOW - HOUR)
        follow_up(personas.sales1, customer, at=NOW - 2 * DAY)
        assert fresh(customer).last_contact_at == NOW - HOUR

    def test_the_next_follow_up_must_be_after_this_one(self, personas, customer):
        with pytest.raises(ValidationError) as exc:
            follow_up(personas.sales1, customer, at=NOW - HOUR, next_at=NOW - HOUR)
        assert exc.value.message_dict == {"next_at": ["The next follow-up must be after this one."]}

    def test_a_follow_up_in_the_future_is_refused(self, personas, customer):
        with pytest.raises(ValidationError) as exc:
            follow_up(personas.sales1, customer, at=NOW + HOUR)
        assert list(exc.value.message_dict) == ["at"]

    @pytest.mark.parametrize(
        "coordinates", [{"latitude": Decimal("31.2")}, {"longitude": Decimal("121.4")}]
    )
    def test_coordinates_come_in_pairs(self, personas, customer, coordinates):
        with pytest.raises(ValidationError) as exc:
            follow_up(personas.sales1, customer, kind=FollowUpKind.VISIT, **coordinates)
        assert exc.value.message_dict == {
            "latitude": ["Give both latitude and longitude, or neither."]
        }

    def test_a_visit_checks_in_with_coordinates(self, personas, customer):
        record = follow_up(
            personas.sales1,
            customer,
            kind=FollowUpKind.VISIT,
            latitude=Decimal("31.230416"),
            longitude=Decimal("121.473701"),
            check_in_address="上海市浦东新区",
        )
        assert (record.latitude, record.check_in_address) == (
            Decimal("31.230416"),
            "上海市浦东新区",
        )

    def test_coordinates_out_of_range_are_refused(self, personas, customer):
        with pytest.raises(ValidationError):
            follow_up(personas.sales1, customer, latitude=Decimal("91"), longitude=Decimal("121"))

    def test_contacts_must_belong_to_the_customer(self, personas, customer, make_customer):
        other = make_customer(personas.sales1)
        stranger = services.contact_create(actor=personas.sales1, customer=other, name="外人")
        with pytest.raises(ValidationError) as exc:
            follow_up(personas.sales1, customer, contacts=[stranger])
        assert exc.value.message_dict == {"contacts": ["This contact belongs to another customer."]}

    def test_contacts_of_the_customer_are_linked(self, personas, customer):
        contact = services.contact_create(actor=personas.sales1, customer=customer, name="王建华")
        record = follow_up(personas.sales1, customer, contacts=[contact])
        assert list(record.contacts.all()) == [contact]

    def test_a_colleague_may_not_follow_up_my_customer(self, personas, customer):
        with pytest.raises(PermissionDenied):
            follow_up(personas.sales2, customer)

    def test_a_team_member_with_write_access_may(self, personas, customer):
        core_services.record_share(
            actor=personas.sales1, record=customer, user=personas.sales1b, access="write"
        )
        follow_up(personas.sales1b, customer)
        assert fresh(customer).last_contact_at == NOW

    def test_it_shows_on_the_workbench_when_due(self, personas, customer):
        follow_up(personas.sales1, customer, at=NOW - HOUR, next_at=NOW + 2 * HOUR)
        due = selectors.follow_ups_due(actor=personas.sales1, today=NOW.date())
        assert list(due["due_today"]) == [fresh(customer)]
        assert list(due["overdue"]) == []


@pytest.fixture
def planned(personas, customer):
    return services.revisit_schedule(
        actor=personas.sales1, customer=customer, due_date=datetime.date(2026, 3, 4)
    )


class TestRevisitRecord:
    def test_a_revisit_is_recorded_and_the_next_one_planned_by_level(
        self, personas, customer, planned
    ):
        with frozen(NOW):
            services.revisit_record(
                actor=personas.sales1, revisit=planned, satisfaction=4, opinions="满意"
            )
        planned.refresh_from_db()
        assert (planned.status, planned.satisfaction, planned.done_at) == (
            RevisitStatus.DONE,
            4,
            NOW,
        )
        (next_one,) = Revisit.objects.filter(customer=customer, status=RevisitStatus.PLANNED)
        assert next_one.due_date == datetime.date(2026, 3, 4) + 90 * DAY  # level B
        assert next_one.assignee == personas.sales1
        assert fresh(customer).last_contact_at == NOW

    @pytest.mark.parametrize("score", [0, 6])
    def test_the_score_is_1_to_5(self, personas, planned, score):
        with pytest.raises(ValidationError) as exc:
            services.revisit_record(actor=personas.sales1, revisit=planned, satisfaction=score)
        assert "satisfaction" in exc.value.message_dict

    def test_a_low_score_warns_the_group_leader(self, personas, planned):
        services.revisit_record(
            actor=personas.sales1, revisit=planned, satisfaction=2, opinions="售后响应慢"
        )
        (warning,) = Notification.objects.filter(recipient=personas.leader1)
        assert warning.title.startswith("Low satisfaction:")
        assert (warning.body, warning.kind) == ("售后响应慢", "warning")
        assert not Notification.objects.filter(recipient=personas.manager).exists()

    def test_a_good_score_warns_nobody(self, personas, planned):
        services.revisit_record(actor=personas.sales1, revisit=planned, satisfaction=3)
        assert not Notification.objects.filter(recipient=personas.leader1).exists()

    def test_the_low_score_threshold_is_a_setting(self, personas, planned):
        services.settings_update(actor=personas.manager, low_satisfaction=3)
        services.revisit_record(actor=personas.sales1, revisit=planned, satisfaction=3)
        assert Notification.objects.filter(recipient=personas.leader1).count() == 1

    def test_a_revisit_is_recorded_once(self, personas, planned):
        services.revisit_record(actor=personas.sales1, revisit=planned, satisfaction=5)
        with pytest.raises(ValidationError):
            services.revisit_record(actor=personas.sales1, revisit=planned, satisfaction=5)

    def test_someone_outside_the_scope_may_not_record_it(self, personas, planned):
        with pytest.raises(PermissionDenied):
            services.revisit_record(actor=personas.sales2, revisit=planned, satisfaction=5)

    def test_scheduling_again_moves_the_planned_revisit(self, personas, customer, planned):
        again = services.revisit_schedule(
            actor=personas.sales1, customer=customer, due_date=datetime.date(2026, 4, 1)
        )
        assert again.pk == planned.pk
        assert Revisit.objects.get(pk=planned.pk).due_date == datetime.date(2026, 4, 1)


class TestRevisitsGenerate:
    def test_a_deal_gets_a_revisit_planned_by_its_level(self, personas, make_customer):
        with frozen(NOW):
            deal = make_customer(personas.sales1, level="A", stage=CustomerStage.DEAL)
            make_customer(personas.sales1, stage=CustomerStage.INTENTION)
        assert services.revisits_generate(today=NOW.date()) == 1
        (revisit,) = Revisit.objects.all()
        assert (revisit.customer_id, revisit.assignee) == (deal.pk, personas.sales1)
        assert revisit.due_date == NOW.date() + 30 * DAY

    def test_a_second_run_plans_nothing_more(self, personas, make_customer):
        make_customer(personas.sales1, stage=CustomerStage.DEAL)
        services.revisits_generate(today=NOW.date())
        assert services.revisits_generate(today=NOW.date()) == 0
        assert Revisit.objects.count() == 1

    def test_the_next_revisit_counts_from_the_last_one_done(self, personas, make_customer):
        with frozen(NOW - 200 * DAY):
            deal = make_customer(personas.sales1, stage=CustomerStage.DEAL)
        revisit = services.revisit_schedule(
            actor=personas.sales1, customer=deal, due_date=(NOW - 60 * DAY).date()
        )
        with frozen(NOW - 60 * DAY):
            services.revisit_record(actor=personas.sales1, revisit=revisit, satisfaction=5)
        Revisit.objects.filter(status=RevisitStatus.PLANNED).delete()  # as if cancelled
        services.revisits_generate(today=NOW.date())
        planned = Revisit.objects.get(status=RevisitStatus.PLANNED)
        assert planned.due_date == (NOW - 60 * DAY).date() + 90 * DAY

    def test_an_overdue_plan_is_due_today(self, personas, make_customer):
        with frozen(NOW - 400 * DAY):
            make_customer(personas.sales1, stage=CustomerStage.DEAL)
        services.revisits_generate(today=NOW.date())
        assert Revisit.objects.get().due_date == NOW.date()

    def test_pool_customers_get_no_revisits(self, personas, make_customer):
        make_customer(None, stage=CustomerStage.DEAL)
        assert services.revisits_generate(today=NOW.date()) == 0
