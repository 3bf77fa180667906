"""Who may do what in the CRM, per shipped role, on the pages and the API; and no id guessing:
a customer (or its contact, follow-up, revisit) outside the caller's scope answers exactly as
an id that does not exist, 404 wherever the caller holds the permission."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from marketdesk.crm import services
from marketdesk.crm.models import Customer, FollowUp, Revisit

from . import helpers
from .helpers import (
    MAY_ANALYSE,
    MAY_ASSIGN,
    MAY_CLAIM,
    MAY_MANAGE_SETTINGS,
    MAY_NOT_VIEW,
    MAY_VIEW,
    api_ids,
    listed_ids,
)

book, as_user, api = helpers.book, helpers.as_user, helpers.api  # fixtures

pytestmark = pytest.mark.django_db

EVERYONE = MAY_VIEW + MAY_NOT_VIEW
MISSING = 987654


# Which customers each role sees --------------------------------------------------------------

VISIBLE = {
    "sales1": {"sales1"},  # own records
    "sales1b": {"sales1b"},
    "leader1": {"sales1", "sales1b", "leader1"},  # own group
    "leader2": {"sales2"},
    "sales2": {"sales2"},
    "manager": {"sales1", "sales1b", "leader1", "sales2", "pooled"},  # marketing and below
    # customer service and promotion see every customer (crm/registrations.py, grant_scope)
    "promo": {"sales1", "sales1b", "leader1", "sales2", "pooled", "service"},
    "service": {"sales1", "sales1b", "leader1", "sales2", "pooled", "service"},
    "management": {"sales1", "sales1b", "leader1", "sales2", "pooled", "service"},  # all
    "admin": {"sales1", "sales1b", "leader1", "sales2", "pooled", "service"},
}


class TestScope:
    def test_the_list_page_shows_exactly_the_customers_in_scope(self, personas, book, as_user):
        for who, expected in VISIBLE.items():
            response = as_user(getattr(personas, who)).get(
                "/crm/customers/", {"scene": "all", "per_page": 100}
            )
            assert response.status_code == 200, who
            assert listed_ids(response) == book.ids(*expected), who

    def test_the_api_lists_exactly_the_customers_in_scope(self, personas, book, api):
        for who, expected in VISIBLE.items():
            response = api(getattr(personas, who)).get("/api/v1/crm/customers/", {"page_size": 100})
            assert api_ids(response) == book.ids(*expected), who

    def test_people_without_the_customer_permission_are_refused(self, personas, book, as_user, api):
        for who in MAY_NOT_VIEW:
            user = getattr(personas, who)
            for url in ("/crm/customers/", "/crm/follow-ups/", "/crm/customers/export/"):
                assert as_user(user).get(url).status_code == 403, (who, url)
            assert as_user(user).get(f"/crm/customers/{book.sales1.pk}/").status_code == 404
            for url in ("/api/v1/crm/customers/", "/api/v1/crm/follow-ups/"):
                assert api(user).get(url).status_code == 403, (who, url)

    def test_anonymous_visitors_are_sent_to_sign_in(self, personas, book, client):
        for url in ("/crm/customers/", f"/crm/customers/{book.sales1.pk}/", "/crm/pool/"):
            response = client.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"], url
        assert client.get("/api/v1/crm/customers/").status_code in (401, 403)

    def test_a_read_only_team_member_sees_but_may_not_edit(self, personas, book, as_user):
        from marketdesk.core import services as core_services

        core_services.record_share(
            actor=personas.sales1, record=book.sales1, user=personas.sales2, access="read"
        )
        client = as_user(personas.sales2)
        assert client.get(f"/crm/customers/{book.sales1.pk}/").status_code == 200
        response = client.get("/crm/customers/", {"scene": "team"})
        assert listed_ids(response) == {book.sales1.pk}
        assert client.get(f"/crm/customers/{book.sales1.pk}/edit/").status_code == 403


# Which pages each role may open ----------------------------------------------------------------


PAGES = {
    "customer_list": ("/crm/customers/", MAY_VIEW),
    "customer_create": ("/crm/customers/new/", ["manager", "leader1", "sales1", "promo"]),
    "pool": ("/crm/pool/", MAY_CLAIM),
    "follow_ups": ("/crm/follow-ups/", MAY_VIEW),
    "revisits": ("/crm/revisits/", ["manager", "leader1", "sales1", "service", "management"]),
    "analysis": ("/crm/analysis/", MAY_ANALYSE),
    "settings": ("/crm/settings/", MAY_MANAGE_SETTINGS),
    "pool_create": ("/crm/settings/pools/new/", MAY_MANAGE_SETTINGS),
    "limit_create": ("/crm/settings/limits/new/", MAY_MANAGE_SETTINGS),
    "export_request": ("/crm/exports/new/", ["manager", "leader1", "leader2"]),
    "export_requests": ("/crm/exports/", ["manager", "leader1", "leader2"]),
}
ROLES = ["manager", "leader1", "sales1", "promo", "service", "management", "admin", "finance"]
ROLES += ["outsider"]


def test_who_may_open_which_page(personas, pool, as_user):
    for page, (url, allowed) in PAGES.items():
        for who in ROLES:
            status = as_user(getattr(personas, who)).get(url).status_code
            assert status == (200 if who in allowed else 403), (page, who, status)


class TestSettingsArePostedOnlyWithThePermission:
    def test_a_group_leader_cannot_change_the_rules(self, personas, pool, crm_settings, as_user):
        response = as_user(personas.leader1).post(
            "/crm/settings/", {"duplicate_mode": "warn", "export_approval_rows": 1}
        )
        assert response.status_code == 403
        crm_settings.refresh_from_db()
        assert (crm_settings.duplicate_mode, crm_settings.export_approval_rows) == ("block", 1000)

    def test_a_group_leader_cannot_change_a_pool_through_the_api(self, personas, pool, api):
        response = api(personas.leader1).patch(
            f"/api/v1/crm/pools/{pool.pk}/", {"daily_claim_cap": 999}, format="json"
        )
        assert response.status_code == 403
        pool.refresh_from_db()
        assert pool.daily_claim_cap == 20


class TestActionsPerRole:
    """The pool and owner actions need their own permission, on the page and the API."""

    def test_only_who_may_assign_assigns(self, personas, book, as_user, api):
        url = f"/api/v1/crm/customers/{book.pooled.pk}/assign/"
        for who in ("sales1", "promo", "service", "management", "admin"):
            user = getattr(personas, who)
            as_user(user).post(
                f"/crm/customers/{book.pooled.pk}/do/assign/", {"to_user": personas.sales1b.pk}
            )
            response = api(user).post(url, {"to_user": personas.sales1b.pk}, format="json")
            assert response.status_code == 403, who
        assert Customer.objects.get(pk=book.pooled.pk).owner is None
        for who in MAY_ASSIGN:  # each takes it from the previous one
            response = api(getattr(personas, who)).post(
                f"/api/v1/crm/customers/{book.pooled.pk}/assign/",
                {"to_user": getattr(personas, who).pk},
                format="json",
            )
            assert response.status_code == 200, (who, response.json())
            assert response.json()["owner"] == getattr(personas, who).pk
            services.customer_return(
                actor=getattr(personas, who), customer=book.pooled, reason="再分配"
            )

    def test_who_may_not_claim_cannot(self, personas, book, as_user, api):
        for who in ("promo", "service", "management", "admin", "finance"):
            user = getattr(personas, who)
            as_user(user).post(f"/crm/customers/{book.pooled.pk}/do/claim/")
            response = api(user).post(f"/api/v1/crm/customers/{book.pooled.pk}/claim/")
            assert response.status_code == 403, who
        assert Customer.objects.get(pk=book.pooled.pk).owner is None

    def test_a_salesperson_may_not_lock_even_their_own(self, personas, book, as_user, api):
        as_user(personas.sales1).post(f"/crm/customers/{book.sales1.pk}/do/lock/")
        response = api(personas.sales1).post(f"/api/v1/crm/customers/{book.sales1.pk}/lock/")
        assert response.status_code == 403
        assert not Customer.objects.get(pk=book.sales1.pk).locked

    def test_the_group_leader_locks_a_customer_of_the_group(self, personas, book, api):
        response = api(personas.leader1).post(f"/api/v1/crm/customers/{book.sales1.pk}/lock/")
        assert response.status_code == 200 and response.json()["locked"] is True

    def test_only_the_manager_deletes(self, personas, book, as_user, api):
        for who in ("sales1", "leader1"):
            response = api(getattr(personas, who)).delete(
                f"/api/v1/crm/customers/{book.sales1.pk}/"
            )
            assert response.status_code == 403
        assert Customer.objects.filter(pk=book.sales1.pk).exists()
        response = as_user(personas.manager).post(f"/crm/customers/{book.sales1.pk}/do/delete/")
        assert response.status_code == 302
        assert not Customer.objects.filter(pk=book.sales1.pk).exists()

    def test_promotion_and_customer_service_see_every_customer_but_change_none(
        self, personas, book, as_user, api
    ):
        lead = services.customer_create(actor=personas.promo, name="推广线索有限公司")
        services.customer_assign(actor=personas.manager, customer=lead, to_user=personas.sales1)
        for who in ("promo", "service"):
            client = as_user(getattr(personas, who))
            assert client.get(f"/crm/customers/{lead.pk}/").status_code == 200, who
            assert client.get(f"/crm/customers/{book.sales1.pk}/edit/").status_code == 403, who
            response = api(getattr(personas, who)).patch(
                f"/api/v1/crm/customers/{book.sales1.pk}/", {"level": "C"}, format="json"
            )
            assert response.status_code == 403, who
        assert Customer.objects.get(pk=book.sales1.pk).level == "B"

    def test_customer_service_records_follow_ups_on_its_own_customers(self, personas, book, api):
        response = api(personas.service).post(
            f"/api/v1/crm/customers/{book.service.pk}/follow-ups/",
            {"kind": "phone", "content": "售后回访，设备运行正常"},
            format="json",
        )
        assert response.status_code == 201, response.json()


# No id guessing ------------------------------------------------------------------------------


def _page_urls(customer_id: int, contact_id: int) -> list[tuple[str, str]]:
    base = f"/crm/customers/{customer_id}"
    urls = [
        ("get", f"{base}/"),
        ("get", f"{base}/edit/"),
        ("post", f"{base}/edit/"),
        ("post", f"{base}/reveal/"),
        ("get", f"{base}/follow-up/"),
        ("post", f"{base}/follow-up/"),
        ("get", f"{base}/contacts/new/"),
        ("post", f"{base}/contacts/new/"),
        ("get", f"{base}/contacts/{contact_id}/"),
        ("post", f"{base}/contacts/{contact_id}/"),
        ("post", f"{base}/contacts/{contact_id}/delete/"),
    ]
    for action in (
        "claim",
        "return",
        "assign",
        "lock",
        "unlock",
        "delete",
        "add_member",
        "remove_member",
        "schedule_revisit",
    ):
        urls.append(("post", f"{base}/do/{action}/"))
    return urls


def _api_urls(customer_id: int, contact_id: int) -> list[tuple[str, str]]:
    base = f"/api/v1/crm/customers/{customer_id}"
    return [
        ("get", f"{base}/"),
        ("patch", f"{base}/"),
        ("delete", f"{base}/"),
        ("post", f"{base}/claim/"),
        ("post", f"{base}/return/"),
        ("post", f"{base}/assign/"),
        ("post", f"{base}/lock/"),
        ("post", f"{base}/unlock/"),
        ("get", f"{base}/follow-ups/"),
        ("post", f"{base}/follow-ups/"),
        ("get", f"{base}/contacts/"),
        ("post", f"{base}/contacts/"),
        ("get", f"/api/v1/crm/contacts/{contact_id}/"),
        ("patch", f"/api/v1/crm/contacts/{contact_id}/"),
        ("delete", f"/api/v1/crm/contacts/{contact_id}/"),
    ]


def _payload(personas) -> dict:
    return {
        "name": "改名有限公司",
        "reason": "无需求",
        "to_user": personas.sales1b.pk,
        "user": personas.sales1b.pk,
        "access": "write",
        "kind": "phone",
        "content": "猜一个编号",
        "due_date": "2030-01-01",
        "channel": "phone",
        "satisfaction": 5,
    }


# Someone holding the permissions the URLs need, and a customer outside their scope.
GUESSERS = [
    ("sales1", "sales1b"),  # same group, still not theirs
    ("leader1", "sales2"),
    ("manager", "service"),
    ("leader2", "leader1"),
]


def _contact_of(customer: Customer, personas) -> int:
    contact = customer.contacts.first()
    if contact is None:
        contact = services.contact_create(
            actor=personas.manager if customer.owner != personas.service else personas.service,
            customer=customer,
            name="联系人",
        )
    return contact.pk


class TestNoIdGuessing:
    def test_pages_answer_an_out_of_scope_customer_as_a_missing_one(self, personas, book, as_user):
        payload = _payload(personas)
        for who, whose in GUESSERS:
            customer = getattr(book, whose)
            before = Customer.objects.filter(pk=customer.pk).values().get()
            contact_id = _contact_of(customer, personas)
            client = as_user(getattr(personas, who))
            for (method, url), (_same, missing_url) in zip(
                _page_urls(customer.pk, contact_id), _page_urls(MISSING, MISSING), strict=True
            ):
                out_of_scope = getattr(client, method)(url, payload).status_code
                missing = getattr(client, method)(missing_url, payload).status_code
                assert out_of_scope == missing == 404, (who, method, url, out_of_scope, missing)
            assert Customer.objects.filter(pk=customer.pk).values().get() == before
            assert customer.contacts.filter(pk=contact_id).exists()
            assert not FollowUp.objects.filter(customer=customer).exists()

    def test_the_api_answers_an_out_of_scope_customer_as_a_missing_one(self, personas, book, api):
        payload = _payload(personas)
        for who, whose in GUESSERS:
            customer = getattr(book, whose)
            before = Customer.objects.filter(pk=customer.pk).values().get()
            contact_id = _contact_of(customer, personas)
            client = api(getattr(personas, who))
            for (method, url), (_same, missing_url) in zip(
                _api_urls(customer.pk, contact_id), _api_urls(MISSING, MISSING), strict=True
            ):
                out_of_scope = getattr(client, method)(url, payload, format="json")
                missing = getattr(client, method)(missing_url, payload, format="json")
                where = (who, method, url)
                assert out_of_scope.status_code == missing.status_code, where
                assert out_of_scope.json() == missing.json(), where
                # 403 only where the role lacks the permission for every customer (lock, delete)
                assert out_of_scope.status_code in (403, 404), where
            assert Customer.objects.filter(pk=customer.pk).values().get() == before
            assert customer.contacts.filter(pk=contact_id).exists()

    def test_follow_ups_revisits_and_pools_of_others_are_404(self, personas, book, api, as_user):
        follow_up = services.follow_up_create(
            actor=personas.sales2, customer=book.sales2, kind="phone", content="电话沟通报价"
        )
        revisit = services.revisit_schedule(
            actor=personas.sales2,
            customer=book.sales2,
            due_date=timezone.localdate() + datetime.timedelta(days=3),
        )
        client = api(personas.sales1)
        assert client.get(f"/api/v1/crm/follow-ups/{follow_up.pk}/").status_code == 404
        assert client.get(f"/api/v1/crm/revisits/{revisit.pk}/").status_code == 404
        response = client.post(
            f"/api/v1/crm/revisits/{revisit.pk}/record/", {"satisfaction": 5}, format="json"
        )
        assert response.status_code == 404
        page = as_user(personas.sales1)
        assert page.get(f"/crm/revisits/{revisit.pk}/").status_code == 404
        assert page.post(f"/crm/revisits/{revisit.pk}/", {"satisfaction": 5}).status_code == 404
        assert Revisit.objects.get(pk=revisit.pk).status == "planned"
        assert api(personas.sales2).get(f"/api/v1/crm/follow-ups/{follow_up.pk}/").status_code == (
            200
        )

    def test_a_pool_of_which_one_is_not_a_member_is_hidden(self, personas, pool, book, api):
        services.pool_save(actor=personas.manager, pool=pool, members=[personas.sales2])
        client = api(personas.sales1)
        assert client.get(f"/api/v1/crm/pools/{pool.pk}/").status_code == 404
        assert client.get(f"/api/v1/crm/customers/{book.pooled.pk}/").status_code == 404
        assert client.post(f"/api/v1/crm/customers/{book.pooled.pk}/claim/").status_code == 404
        assert Customer.objects.get(pk=book.pooled.pk).owner is None
