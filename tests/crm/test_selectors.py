"""What each role sees (crm/selectors.py): the scenes of the customer list (mine, team,
subordinates, pool, all) per shipped role, no id guessing, pool membership, and masking."""

from __future__ import annotations

import pytest
from django.http import Http404

from marketdesk.core import services as core_services
from marketdesk.core.masking import can_view_personal_data, mask_mobile
from marketdesk.crm import selectors, services
from marketdesk.crm.selectors import Scene

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def book(personas, make_customer):
    """One customer per salesperson and group leader 1, and one in the pool."""
    return {
        "sales1": make_customer(personas.sales1, name="王芳的客户", mobile="13811110001"),
        "sales1b": make_customer(personas.sales1b, name="孙浩的客户"),
        "leader1": make_customer(personas.leader1, name="李强的客户"),
        "sales2": make_customer(personas.sales2, name="吴涛的客户"),
        "pool": make_customer(None, name="公海客户"),
    }


def names(queryset, book) -> list[str]:
    keys = {customer.pk: key for key, customer in book.items()}
    return sorted(keys[pk] for pk in queryset.values_list("pk", flat=True))


EVERYONE = ["leader1", "pool", "sales1", "sales1b", "sales2"]
SALES = ["leader1", "sales1", "sales1b", "sales2"]

SCENES = {
    # persona: {scene: customers seen}
    "sales1": {"all": ["sales1"], "mine": ["sales1"], "subordinates": [], "pool": ["pool"]},
    "leader1": {
        "all": ["leader1", "sales1", "sales1b"],
        "mine": ["leader1"],
        "subordinates": ["sales1", "sales1b"],
        "pool": ["pool"],
    },
    "leader2": {"all": ["sales2"], "mine": [], "subordinates": ["sales2"], "pool": ["pool"]},
    "manager": {"all": EVERYONE, "mine": [], "subordinates": SALES, "pool": ["pool"]},
    # Direct reports (the manager owns none) and units headed (总经办): not the whole chain.
    "management": {"all": EVERYONE, "mine": [], "subordinates": [], "pool": []},
    # Promotion analyses and customer service answers every customer (grant_scope "crm" ALL).
    "promo": {"all": EVERYONE, "mine": [], "subordinates": [], "pool": []},
    "service": {"all": EVERYONE, "mine": [], "subordinates": [], "pool": []},
    "finance": {"all": [], "mine": [], "subordinates": [], "pool": []},
    "admin": {"all": EVERYONE, "mine": [], "subordinates": [], "pool": ["pool"]},
    "outsider": {"all": [], "mine": [], "subordinates": [], "pool": []},
}


class TestCustomerListScenes:
    @pytest.mark.parametrize("who", list(SCENES))
    def test_each_role_sees_its_scope_in_each_scene(self, personas, book, who):
        actor = getattr(personas, who)
        seen = {
            scene: names(selectors.customer_list(actor, scene=scene), book) for scene in SCENES[who]
        }
        assert seen == SCENES[who]

    def test_the_team_scene_lists_customers_shared_with_me(self, personas, book):
        assert names(selectors.customer_list(personas.sales2, scene=Scene.TEAM), book) == []
        core_services.record_share(
            actor=personas.sales1, record=book["sales1"], user=personas.sales2, access="read"
        )
        assert names(selectors.customer_list(personas.sales2, scene=Scene.TEAM), book) == ["sales1"]
        assert names(selectors.customer_list(personas.sales2), book) == ["sales1", "sales2"]

    def test_a_pool_with_members_is_seen_by_its_members_only(self, personas, pool, book):
        services.pool_save(actor=personas.manager, pool=pool, members=[personas.sales2])
        assert names(selectors.customer_list(personas.sales1, scene=Scene.POOL), book) == []
        assert names(selectors.customer_list(personas.sales2, scene=Scene.POOL), book) == ["pool"]

    def test_a_pool_administrator_sees_the_pool_without_being_a_member(self, personas, pool, book):
        services.pool_save(
            actor=personas.manager, pool=pool, members=[personas.sales2], admins=[personas.leader1]
        )
        assert names(selectors.customer_list(personas.leader1, scene=Scene.POOL), book) == ["pool"]


class TestCustomerGet:
    @pytest.mark.parametrize(
        "who, key",
        [
            ("sales1", "sales1b"),
            ("sales1", "sales2"),
            ("leader1", "sales2"),
            ("leader2", "sales1"),
            ("finance", "sales1"),
            ("outsider", "pool"),
        ],
    )
    def test_a_customer_outside_the_scope_is_not_found(self, personas, book, who, key):
        with pytest.raises(Http404):
            selectors.customer_get(actor=getattr(personas, who), pk=book[key].pk)

    @pytest.mark.parametrize(
        "who, key",
        [
            ("sales1", "sales1"),
            ("leader1", "sales1b"),
            ("manager", "sales2"),
            ("sales2", "pool"),
            ("promo", "sales2"),
            ("service", "sales1"),
        ],
    )
    def test_a_customer_in_the_scope_is_found(self, personas, book, who, key):
        assert selectors.customer_get(actor=getattr(personas, who), pk=book[key].pk) == book[key]

    def test_an_id_that_does_not_exist_is_not_found_either(self, personas, book):
        with pytest.raises(Http404):
            selectors.customer_get(actor=personas.manager, pk=10**9)

    def test_contacts_of_a_hidden_customer_are_not_found(self, personas, book):
        contact = services.contact_create(
            actor=personas.sales1, customer=book["sales1"], name="王建华"
        )
        with pytest.raises(Http404):
            selectors.contact_get(actor=personas.sales2, pk=contact.pk)
        assert selectors.contact_get(actor=personas.leader1, pk=contact.pk) == contact


class TestSearch:
    def test_search_finds_by_name_variant_and_mobile_within_the_scope(self, personas, book):
        assert names(selectors.customer_search(actor=personas.leader1, text="王芳"), book) == [
            "sales1"
        ]
        assert names(selectors.customer_search(actor=personas.leader1, text="1381111"), book) == [
            "sales1"
        ]
        assert names(selectors.customer_search(actor=personas.sales2, text="1381111"), book) == []

    def test_search_finds_a_customer_by_a_contact_mobile(self, personas, book):
        services.contact_create(
            actor=personas.sales2, customer=book["sales2"], name="马超", mobile="13922223333"
        )
        found = selectors.customer_search(actor=personas.manager, text="139 2222 3333")
        assert names(found, book) == ["sales2"]


class TestMasking:
    """Mobiles are shown masked unless the role may view personal data (the pages and the API
    apply core.masking; here: who has the permission, and what the mask shows)."""

    @pytest.mark.parametrize(
        "who, unmasked",
        [
            ("sales1", False),
            ("leader1", False),
            ("promo", False),
            ("service", False),
            ("finance", False),
            ("manager", True),
            ("management", True),
            ("admin", True),
        ],
    )
    def test_who_sees_mobiles_unmasked(self, personas, who, unmasked):
        assert can_view_personal_data(getattr(personas, who)) is unmasked

    def test_a_customer_mobile_masks_to_its_first_three_and_last_four_digits(self, book):
        assert mask_mobile(book["sales1"].mobile) == "138****0001"
