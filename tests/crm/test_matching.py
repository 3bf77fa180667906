"""Duplicate customers (crm/matching.py, services.find_duplicates): names are compared in a
normalised form; credit codes and mobiles of the customer or its contacts match too; a match
outside the user's scope is shown without its name; the company chooses block or warn."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from marketdesk.crm import services
from marketdesk.crm.matching import name_key
from marketdesk.crm.models import Customer, DuplicateMode

CREDIT_CODE = "91310115MA1K3YJ06U"  # a valid unified social credit code
OTHER_CREDIT_CODE = "91320594MA1MXXXX16"


class TestNameKey:
    @pytest.mark.parametrize(
        "variant",
        [
            "华东智联科技有限公司",
            "华东智联科技股份有限公司",
            "华东智联科技有限责任公司",
            "华东智联科技",
            "华东 智联 科技",
            "华东智联科技（有限公司）",
            "華東智聯科技有限公司",  # traditional characters
            "華東智聯科技（有限公司）",
            "华东智联科技(中国)有限公司",
            "华东·智联-科技，有限公司。",
            "  华东智联科技有限公司  ",
        ],
    )
    def test_variants_of_one_company_name_have_the_same_key(self, variant):
        assert name_key(variant) == name_key("华东智联科技有限公司") == "华东智联科技"

    def test_full_width_letters_and_digits_become_half_width(self):
        assert name_key("ＡＢＣ１２３科技有限公司") == name_key("abc123科技") == "abc123科技"

    def test_english_company_suffixes_are_ignored(self):
        assert name_key("Acme Co., Ltd.") == name_key("ACME Limited") == name_key("acme") == "acme"

    def test_a_group_company_matches_with_and_without_有限公司(self):
        assert name_key("华东集团有限公司") == name_key("华东集团")

    def test_different_companies_keep_different_keys(self):
        assert name_key("华东智联科技有限公司") != name_key("华南智联科技有限公司")

    def test_an_empty_name_has_an_empty_key(self):
        assert name_key("") == name_key(None) == ""


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def messages_of(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.message_dict


class TestFindDuplicates:
    def test_a_name_written_differently_matches(self, personas, make_customer):
        existing = make_customer(personas.sales1, name="华东智联科技有限公司")
        matches = services.find_duplicates(
            actor=personas.sales1, name="華東智聯科技（股份有限公司）"
        )
        assert [(m.field, m.customer_id) for m in matches] == [("name", existing.pk)]

    def test_the_credit_code_matches(self, personas, make_customer):
        existing = make_customer(personas.sales1, credit_code=CREDIT_CODE)
        matches = services.find_duplicates(
            actor=personas.sales1, name="完全不同的名字", credit_code=CREDIT_CODE
        )
        assert [(m.field, m.customer_id) for m in matches] == [("credit_code", existing.pk)]

    def test_the_mobile_of_a_customer_matches(self, personas, make_customer):
        existing = make_customer(personas.sales1, kind="individual", mobile="13812345678")
        matches = services.find_duplicates(actor=personas.sales1, mobiles=["13812345678"])
        assert [(m.field, m.customer_id) for m in matches] == [("mobile", existing.pk)]

    def test_the_mobile_of_a_contact_matches(self, personas, make_customer):
        existing = make_customer(personas.sales1)
        services.contact_create(
            actor=personas.sales1, customer=existing, name="王建华", mobile="13912345678"
        )
        matches = services.find_duplicates(actor=personas.sales1, mobiles=["13912345678"])
        assert [(m.field, m.customer_id) for m in matches] == [("mobile", existing.pk)]

    def test_a_visible_match_shows_the_customer_and_owner(self, personas, make_customer):
        make_customer(personas.sales1, name="华东智联科技有限公司")
        (match,) = services.find_duplicates(actor=personas.leader1, name="华东智联科技")
        assert match.visible
        assert match.where == "华东智联科技有限公司 (belongs to 王芳, 销售一组)"

    def test_a_match_outside_the_scope_names_only_the_owner_and_unit(self, personas, make_customer):
        make_customer(personas.leader1, name="华东智联科技有限公司")
        (match,) = services.find_duplicates(actor=personas.sales2, name="华东智联科技")
        assert not match.visible
        assert match.where == "belongs to 李强, 销售一组"
        assert "华东" not in match.where

    def test_a_pool_match_outside_the_scope_says_only_that_it_is_in_the_pool(
        self, personas, make_customer
    ):
        make_customer(None, name="华东智联科技有限公司")
        (match,) = services.find_duplicates(actor=personas.sales2, name="华东智联科技")
        assert match.where == "in the customer pool"

    def test_two_people_of_the_same_name_are_not_duplicates(self, personas, make_customer):
        make_customer(personas.sales1, name="张伟", kind="individual", mobile="13812345678")
        matches = services.find_duplicates(
            actor=personas.sales1, name="张伟", kind="individual", mobiles=["13912345678"]
        )
        assert matches == []

    def test_nothing_matches_a_new_company(self, personas, make_customer):
        make_customer(personas.sales1, name="华东智联科技有限公司", credit_code=CREDIT_CODE)
        assert services.find_duplicates(actor=personas.sales1, name="西北矿业有限公司") == []


class TestDuplicateModes:
    def test_block_mode_refuses_a_duplicate_even_when_confirmed(self, personas, make_customer):
        make_customer(personas.leader1, name="华东智联科技有限公司")
        with pytest.raises(ValidationError) as exc:
            services.customer_create(
                actor=personas.sales2, name="华东智联科技", confirm_duplicates=True
            )
        assert messages_of(exc)["name"] == [
            "A customer with this name already exists: belongs to 李强, 销售一组."
        ]
        assert Customer.objects.filter(owner=personas.sales2).count() == 0

    def test_block_mode_names_the_credit_code_and_mobile_fields(self, personas, make_customer):
        make_customer(personas.sales1, credit_code=CREDIT_CODE, mobile="13812345678")
        with pytest.raises(ValidationError) as exc:
            services.customer_create(
                actor=personas.sales1,
                name="另一家公司",
                credit_code=CREDIT_CODE.lower(),
                mobile="138-1234-5678",
            )
        assert set(messages_of(exc)) == {"credit_code", "mobile"}

    def test_warn_mode_asks_for_confirmation_then_saves(self, personas, make_customer):
        services.settings_update(actor=personas.manager, duplicate_mode=DuplicateMode.WARN)
        make_customer(personas.leader1, name="华东智联科技有限公司")
        with pytest.raises(ValidationError) as exc:
            services.customer_create(actor=personas.sales2, name="华东智联科技")
        assert exc.value.message_dict["__all__"] == [
            "Possible duplicates were found. Check them, then save again to confirm."
        ]
        customer = services.customer_create(
            actor=personas.sales2, name="华东智联科技", confirm_duplicates=True
        )
        assert customer.owner == personas.sales2

    def test_an_update_that_keeps_the_name_is_not_a_duplicate_of_itself(
        self, personas, make_customer
    ):
        customer = make_customer(personas.sales1, name="华东智联科技有限公司")
        services.customer_update(actor=personas.sales1, customer=customer, notes="更新")

    def test_renaming_to_an_existing_name_is_refused(self, personas, make_customer):
        make_customer(personas.sales1, name="华东智联科技有限公司")
        other = make_customer(personas.sales1, name="西北矿业有限公司")
        with pytest.raises(ValidationError) as exc:
            services.customer_update(actor=personas.sales1, customer=other, name="华东智联科技")
        assert "name" in messages_of(exc)

    def test_a_contact_mobile_of_another_customer_is_refused(self, personas, make_customer):
        first = make_customer(personas.sales1)
        services.contact_create(
            actor=personas.sales1, customer=first, name="王建华", mobile="13912345678"
        )
        second = make_customer(personas.sales2)
        with pytest.raises(ValidationError) as exc:
            services.contact_create(
                actor=personas.sales2, customer=second, name="王建华", mobile="13912345678"
            )
        assert messages_of(exc)["mobile"] == [
            "A customer or contact with this mobile already exists: belongs to 王芳, 销售一组."
        ]
