"""Customers and contacts (crm/services.py): creating, changing, the primary contact."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.crm import services
from marketdesk.crm.models import Contact, CustomerKind, CustomerStage, OwnerChange

from .factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


class TestCustomerCreate:
    def test_a_salesperson_creates_a_customer_of_their_own(self, personas, pool):
        customer = services.customer_create(
            actor=personas.sales1,
            name=" 苏州瑞丰精密机械有限公司 ",
            credit_code="91320594ma1mxxxx16",
            mobile="+86 139-1234-5678",
        )
        assert (customer.owner, customer.department) == (personas.sales1, personas.units["S1"])
        assert customer.name == "苏州瑞丰精密机械有限公司"
        assert (customer.credit_code, customer.mobile) == ("91320594MA1MXXXX16", "13912345678")
        assert customer.number.startswith("C")
        assert customer.name_key == "苏州瑞丰精密机械"
        assert OwnerChange.objects.get(customer=customer).kind == "create"

    def test_a_negative_budget_is_an_error_on_the_budget_field(self, personas, pool):
        with pytest.raises(ValidationError) as error:
            services.customer_create(actor=personas.sales1, name="甲公司", budget=-1)
        assert "budget" in error.value.message_dict

    def test_a_salesperson_may_not_create_for_a_colleague(self, personas, pool):
        with pytest.raises(PermissionDenied):
            services.customer_create(actor=personas.sales1, owner=personas.sales1b, name="甲公司")

    def test_a_group_leader_creates_for_a_salesperson(self, personas, pool):
        customer = services.customer_create(
            actor=personas.leader1, owner=personas.sales1, name="甲公司"
        )
        assert customer.owner == personas.sales1

    @pytest.mark.parametrize("who", ["finance", "outsider", "service", "management"])
    def test_people_without_the_permission_may_not_create(self, personas, pool, who):
        with pytest.raises(PermissionDenied):
            services.customer_create(actor=getattr(personas, who), name="甲公司")

    def test_bad_codes_are_named_on_their_fields(self, personas, pool):
        with pytest.raises(ValidationError) as exc:
            services.customer_create(
                actor=personas.sales1, name="甲公司", credit_code="123", mobile="12345"
            )
        assert set(exc.value.message_dict) == {"credit_code", "mobile"}

    def test_an_individual_has_no_credit_code_and_a_company_no_birthday(self, personas, pool):
        with pytest.raises(ValidationError) as exc:
            services.customer_create(
                actor=personas.sales1,
                name="张三",
                kind=CustomerKind.INDIVIDUAL,
                credit_code="91320594MA1MXXXX16",
            )
        assert exc.value.message_dict == {
            "credit_code": ["Only a company has a unified social credit code."]
        }
        with pytest.raises(ValidationError) as exc:
            services.customer_create(actor=personas.sales1, name="甲公司", birthday="1990-01-01")
        assert list(exc.value.message_dict) == ["birthday"]

    def test_a_customer_created_with_a_deal_has_a_deal_date(self, personas, pool):
        customer = services.customer_create(
            actor=personas.sales1, name="甲公司", stage=CustomerStage.DEAL
        )
        assert customer.won_at is not None


class TestCustomerUpdate:
    def test_the_owner_changes_the_customer(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_update(
            actor=personas.sales1, customer=customer, name="新名字有限公司", level="A"
        )
        customer = fresh(customer)
        assert (customer.name, customer.name_key, customer.level) == (
            "新名字有限公司",
            "新名字",
            "A",
        )

    def test_a_colleague_may_not(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        with pytest.raises(PermissionDenied):
            services.customer_update(actor=personas.sales1b, customer=customer, level="A")

    def test_the_group_leader_may(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_update(actor=personas.leader1, customer=customer, level="A")
        assert fresh(customer).level == "A"

    def test_a_pool_customer_is_changed_by_pool_managers_only(self, personas, make_customer):
        customer = make_customer(None)
        with pytest.raises(PermissionDenied):
            services.customer_update(actor=personas.leader1, customer=customer, level="A")
        services.customer_update(actor=personas.manager, customer=customer, level="A")

    def test_moving_to_deal_records_the_deal_date_once(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        services.customer_update(actor=personas.sales1, customer=customer, stage="deal")
        won_at = fresh(customer).won_at
        assert won_at is not None
        services.customer_update(actor=personas.sales1, customer=customer, stage="deal")
        assert fresh(customer).won_at == won_at


class TestContacts:
    def test_the_first_contact_is_the_primary_one(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        first = services.contact_create(actor=personas.sales1, customer=customer, name="王建华")
        second = services.contact_create(actor=personas.sales1, customer=customer, name="李秀英")
        assert (first.is_primary, second.is_primary) == (True, False)

    def test_a_new_primary_contact_takes_over_from_the_old_one(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        first = services.contact_create(actor=personas.sales1, customer=customer, name="王建华")
        second = services.contact_create(
            actor=personas.sales1, customer=customer, name="李秀英", is_primary=True
        )
        first.refresh_from_db()
        assert (first.is_primary, second.is_primary) == (False, True)

    def test_making_a_contact_primary_demotes_the_old_one(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        first = services.contact_create(actor=personas.sales1, customer=customer, name="王建华")
        second = services.contact_create(actor=personas.sales1, customer=customer, name="李秀英")
        services.contact_update(actor=personas.sales1, contact=second, is_primary=True)
        assert list(
            Contact.objects.filter(customer=customer, is_primary=True).values_list("pk", flat=True)
        ) == [second.pk]
        first.refresh_from_db()
        assert not first.is_primary

    def test_a_contact_mobile_is_normalised(self, personas, make_customer):
        contact = services.contact_create(
            actor=personas.sales1,
            customer=make_customer(personas.sales1),
            name="王建华",
            mobile="139 1234 5678",
        )
        assert contact.mobile == "13912345678"

    def test_a_colleague_may_not_add_contacts(self, personas, make_customer):
        customer = make_customer(personas.sales1)
        with pytest.raises(PermissionDenied):
            services.contact_create(actor=personas.sales2, customer=customer, name="王建华")
