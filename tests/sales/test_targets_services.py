"""Target services: who may set targets for whom, the year total = sum of the months, clear
errors naming the field (nothing saved), splits evenly or by last year's months, copying last
year's targets; and which targets each role sees."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.org import services as org_services
from marketdesk.sales import selectors_targets as selectors
from marketdesk.sales.models import SalesRollup, SalesTarget, TargetMetric, TargetSubject
from marketdesk.sales.services import targets as services

pytestmark = pytest.mark.django_db

EVEN = [Decimal("1000.00")] * 12


def months(*values) -> list[Decimal]:
    return [Decimal(str(v)) for v in values]


def make(actor, subject=TargetSubject.PERSON, metric=TargetMetric.ORDER_AMOUNT, **kw):
    kw.setdefault("year", 2026)
    kw.setdefault("months", EVEN)
    return services.target_create(actor=actor, metric=metric, subject=subject, **kw)


@pytest.fixture
def targets(personas):
    """2026 order targets: company, both groups, and sales1 / sales1b / sales2."""
    p = personas
    made = {
        "company": make(p.manager, TargetSubject.COMPANY),
        "s1": make(p.manager, TargetSubject.DEPARTMENT, department=p.units["S1"]),
        "s2": make(p.manager, TargetSubject.DEPARTMENT, department=p.units["S2"]),
    }
    for who in ("sales1", "sales1b", "sales2"):
        made[who] = make(p.manager, user=getattr(p, who))
    return made


class TestTargetCreate:
    def test_the_manager_sets_a_person_target_whose_year_is_the_sum(self, personas):
        target = make(personas.manager, user=personas.sales1, months=months(*range(1, 13)))
        assert target.annual == Decimal("78.00")
        assert target.m12 == Decimal("12.00")
        assert target.department == personas.units["S1"]  # seen by the person's unit
        assert target.created_by == personas.manager

    def test_a_year_total_that_differs_from_the_months_is_refused(self, personas):
        with pytest.raises(ValidationError) as error:
            make(personas.manager, user=personas.sales1, annual=Decimal("12001.00"))
        assert "annual" in error.value.message_dict
        assert "12,000.00" in error.value.message_dict["annual"][0]
        assert not SalesTarget.objects.exists()

    def test_a_matching_year_total_is_accepted(self, personas):
        target = make(personas.manager, user=personas.sales1, annual="12000.00")
        assert target.annual == Decimal("12000.00")

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("-1", services.NEGATIVE),
            ("1.005", services.TOO_MANY_PLACES),
            ("1e13", services.TOO_LARGE),
            ("abc", "Enter a number."),
        ],
    )
    def test_a_bad_month_names_the_month(self, personas, english, value, message):
        values = [*EVEN[:2], value, *EVEN[3:]]
        with pytest.raises(ValidationError) as error:
            make(personas.manager, user=personas.sales1, months=values)
        assert error.value.message_dict["m03"] == [str(message)]
        assert not SalesTarget.objects.exists()

    def test_eleven_months_are_refused(self, personas):
        with pytest.raises(ValidationError) as error:
            make(personas.manager, user=personas.sales1, months=EVEN[:11])
        assert "months" in error.value.message_dict

    def test_a_second_target_for_the_same_unit_and_year_is_refused(self, personas, english):
        make(personas.manager, TargetSubject.DEPARTMENT, department=personas.units["S1"])
        with pytest.raises(ValidationError) as error:
            make(personas.manager, TargetSubject.DEPARTMENT, department=personas.units["S1"])
        assert "already" in error.value.message_dict["department"][0]
        # another metric or year is a different target
        make(
            personas.manager,
            TargetSubject.DEPARTMENT,
            TargetMetric.RECEIPTS,
            department=personas.units["S1"],
        )
        make(personas.manager, TargetSubject.DEPARTMENT, department=personas.units["S1"], year=2027)
        assert SalesTarget.objects.count() == 3

    def test_one_company_target_per_year_and_metric(self, personas):
        make(personas.manager, TargetSubject.COMPANY)
        with pytest.raises(ValidationError) as error:
            make(personas.manager, TargetSubject.COMPANY)
        assert "subject" in error.value.message_dict

    @pytest.mark.parametrize("who", ["sales1", "leader1", "management", "finance", "outsider"])
    def test_only_whoever_may_change_targets_sets_them(self, personas, who):
        with pytest.raises(PermissionDenied):
            make(getattr(personas, who), user=personas.sales1)
        assert not SalesTarget.objects.exists()

    def test_a_unit_outside_the_managers_scope_is_refused(self, personas):
        with pytest.raises(ValidationError) as error:
            make(personas.manager, TargetSubject.DEPARTMENT, department=personas.units["FIN"])
        assert error.value.message_dict["department"] == [str(services.OUT_OF_SCOPE)]
        with pytest.raises(ValidationError) as error:
            make(personas.manager, user=personas.finance)
        assert error.value.message_dict["user"] == [str(services.OUT_OF_SCOPE)]

    def test_a_person_needs_an_employee_record(self, personas):
        system = personas.management.__class__.objects.get(username="system")
        with pytest.raises(ValidationError) as error:
            make(personas.manager, user=system)
        assert error.value.message_dict["user"] == [str(services.NOT_AN_EMPLOYEE)]

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"year": 1999}, "year"),
            ({"metric": "profit"}, "metric"),
            ({"subject": "region"}, "subject"),
            ({"subject": TargetSubject.DEPARTMENT}, "department"),
            ({"subject": TargetSubject.PERSON}, "user"),
        ],
    )
    def test_missing_or_bad_fields_are_named(self, personas, kwargs, field):
        base = {
            "actor": personas.manager,
            "year": 2026,
            "metric": TargetMetric.ORDER_AMOUNT,
            "subject": TargetSubject.COMPANY,
            "months": EVEN,
        }
        with pytest.raises(ValidationError) as error:
            services.target_create(**{**base, **kwargs})
        assert field in error.value.message_dict


class TestTargetUpdateAndDelete:
    def test_new_months_give_a_new_year_total(self, targets, personas):
        target = services.target_update(
            actor=personas.manager, target=targets["sales1"], months=months(*[500] * 12)
        )
        assert target.annual == Decimal("6000.00")
        assert target.history.count() == 2

    def test_a_mismatching_total_changes_nothing(self, targets, personas):
        with pytest.raises(ValidationError):
            services.target_update(
                actor=personas.manager, target=targets["sales1"], months=EVEN, annual="1.00"
            )
        targets["sales1"].refresh_from_db()
        assert targets["sales1"].annual == Decimal("12000.00")

    def test_a_leader_may_not_change_a_target(self, targets, personas):
        with pytest.raises(PermissionDenied):
            services.target_update(actor=personas.leader1, target=targets["sales1"], months=EVEN)

    def test_delete(self, targets, personas):
        services.target_delete(actor=personas.manager, target=targets["s2"])
        assert not SalesTarget.objects.filter(pk=targets["s2"].pk).exists()
        with pytest.raises(PermissionDenied):
            services.target_delete(actor=personas.sales1, target=targets["sales1"])


class TestSplit:
    def test_an_even_split_adds_up_to_the_cent(self):
        parts = services.split_months(Decimal("100000.00"))
        assert sum(parts) == Decimal("100000.00")
        assert parts[0] == Decimal("8333.34") and parts[-1] == Decimal("8333.33")

    @settings(max_examples=200, deadline=None)
    @given(
        cents=st.integers(0, 10**13),
        weights=st.one_of(st.none(), st.lists(st.integers(0, 10**9), min_size=12, max_size=12)),
    )
    def test_a_split_always_adds_up_and_follows_the_weights(self, cents, weights):
        total = Decimal(cents) / 100
        parts = services.split_months(total, weights)
        assert len(parts) == 12 and sum(parts) == total
        assert all(part >= 0 and part == part.quantize(Decimal("0.01")) for part in parts)
        shares = weights if weights and sum(weights) else [1] * 12
        for part, share in zip(parts, shares, strict=True):
            exact = Decimal(cents) * share / sum(shares) / 100
            assert abs(part - exact) < Decimal("0.01")

    def test_a_negative_total_is_refused(self):
        with pytest.raises(ValidationError) as error:
            services.split_months("-5")
        assert "annual" in error.value.message_dict

    def test_a_seasonal_split_follows_last_years_months(self, targets, personas):
        sales1 = personas.sales1
        for month, amount in [(2, "100.00"), (6, "300.00")]:
            SalesRollup.objects.create(
                year=2025, month=month, owner_id=sales1.pk, order_amount=Decimal(amount)
            )
        target = services.target_split(
            actor=personas.manager, target=targets["sales1"], mode="seasonal", annual="8000"
        )
        assert target.m02 == Decimal("2000.00") and target.m06 == Decimal("6000.00")
        assert target.m01 == Decimal("0.00") and target.annual == Decimal("8000.00")

    def test_seasonal_without_last_year_is_even(self, targets, personas):
        target = services.target_split(
            actor=personas.manager, target=targets["s2"], mode="seasonal", annual="1200"
        )
        assert [target.month(m) for m in range(1, 13)] == [Decimal("100.00")] * 12

    def test_an_unknown_mode_is_refused(self, targets, personas):
        with pytest.raises(ValidationError) as error:
            services.target_split(actor=personas.manager, target=targets["s2"], mode="random")
        assert "mode" in error.value.message_dict

    def test_unit_seasonality_counts_its_sub_units(self, personas):
        mkt = make(personas.manager, TargetSubject.DEPARTMENT, department=personas.units["MKT"])
        SalesRollup.objects.create(
            year=2025,
            month=3,
            owner_id=personas.sales2.pk,
            department_id=personas.units["S2"].pk,
            order_amount=Decimal("10.00"),
        )
        target = services.target_split(
            actor=personas.manager, target=mkt, mode="seasonal", annual="500"
        )
        assert target.m03 == Decimal("500.00")


class TestCopy:
    def test_last_years_targets_are_copied_with_a_change(self, targets, personas):
        SalesTarget.objects.update(year=2025)
        created = services.targets_copy_from_last_year(
            actor=personas.manager, year=2026, percent=Decimal("10")
        )
        assert len(created) == 6
        copy = SalesTarget.objects.get(
            year=2026, subject=TargetSubject.PERSON, user=personas.sales1
        )
        assert copy.m01 == Decimal("1100.00") and copy.annual == Decimal("13200.00")

    def test_existing_targets_are_kept_and_leavers_skipped(self, targets, personas):
        SalesTarget.objects.update(year=2025)
        kept = make(personas.manager, user=personas.sales1, months=[Decimal("1.00")] * 12)
        root = personas.management.__class__.objects.get(username="system")
        org_services.employee_leave(
            actor=root, employee=personas.emp("sales1b"), left_date=datetime.date(2026, 1, 1)
        )
        created = services.targets_copy_from_last_year(actor=personas.manager, year=2026)
        kept.refresh_from_db()
        assert kept.annual == Decimal("12.00")
        people = {t.user_id for t in created if t.subject == TargetSubject.PERSON}
        assert people == {personas.sales2.pk}  # sales1 kept, sales1b left

    def test_nothing_to_copy_is_an_error_on_the_year(self, personas):
        with pytest.raises(ValidationError) as error:
            services.targets_copy_from_last_year(actor=personas.manager, year=2026)
        assert "year" in error.value.message_dict

    def test_a_silly_percentage_is_refused(self, targets, personas):
        with pytest.raises(ValidationError) as error:
            services.targets_copy_from_last_year(actor=personas.manager, year=2027, percent=-150)
        assert "percent" in error.value.message_dict


VISIBLE = {
    "sales1": {"sales1"},
    "sales2": {"sales2"},
    "leader1": {"s1", "sales1", "sales1b"},
    "leader2": {"s2", "sales2"},
    "manager": {"company", "s1", "s2", "sales1", "sales1b", "sales2"},
    "management": {"company", "s1", "s2", "sales1", "sales1b", "sales2"},
    "finance": {"company", "s1", "s2", "sales1", "sales1b", "sales2"},
    "promo": set(),
    "outsider": set(),
}


class TestTargetScope:
    @pytest.mark.parametrize("who", sorted(VISIBLE))
    def test_each_role_sees_what_its_scope_allows(self, targets, personas, who):
        seen = set(selectors.target_list(actor=getattr(personas, who)).values_list("pk", flat=True))
        assert seen == {targets[key].pk for key in VISIBLE[who]}

    def test_only_the_manager_may_change_them(self, targets, personas):
        assert selectors.can_change_target(actor=personas.manager, target=targets["sales1"])
        assert not selectors.can_change_target(actor=personas.leader1, target=targets["sales1"])
