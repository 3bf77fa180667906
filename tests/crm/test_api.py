"""REST API of the CRM app (/api/v1/crm/...): the same scope, rules and permissions as the
pages; every error is {code, message, fields} naming the field, and bad input changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema

from marketdesk.core.models import PersonalDataAccessLog
from marketdesk.crm import services
from marketdesk.crm.models import Contact, Customer, CustomerPool, FollowUp, Revisit

from . import helpers
from .helpers import api_ids, assert_error

pytestmark = pytest.mark.django_db

book, api = helpers.book, helpers.api  # fixtures

CUSTOMERS = "/api/v1/crm/customers/"
CRM_VIEWS = (
    "CustomerViewSet",
    "ContactViewSet",
    "PoolCustomerViewSet",
    "FollowUpViewSet",
    "RevisitViewSet",
    "PoolViewSet",
    "DuplicateCheckViewSet",
    "AnalysisViewSet",
    "/crm/",
)


def one(customer) -> str:
    return f"{CUSTOMERS}{customer.pk}/"


def snapshot(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


class TestSchema:
    def test_the_crm_endpoints_are_described_without_warnings(self, personas, api):
        GENERATOR_STATS.reset()
        response = api(personas.admin).get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        schema = response.json()
        validate_schema(schema)
        crm_warnings = [
            w
            for w in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
            if any(name in w for name in CRM_VIEWS) or "/crm/" in w
        ]
        assert not crm_warnings
        paths = schema["paths"]
        for path in (
            "/api/v1/crm/customers/",
            "/api/v1/crm/customers/{id}/",
            "/api/v1/crm/customers/{id}/claim/",
            "/api/v1/crm/customers/{id}/return/",
            "/api/v1/crm/customers/{id}/assign/",
            "/api/v1/crm/customers/{id}/lock/",
            "/api/v1/crm/customers/{id}/follow-ups/",
            "/api/v1/crm/customers/{id}/contacts/",
            "/api/v1/crm/contacts/{id}/",
            "/api/v1/crm/pool/",
            "/api/v1/crm/follow-ups/",
            "/api/v1/crm/revisits/{id}/record/",
            "/api/v1/crm/pools/",
            "/api/v1/crm/duplicates/",
            "/api/v1/crm/analysis/",
        ):
            assert path in paths, path
        assert "put" not in paths["/api/v1/crm/customers/{id}/"]
        names = {p["name"] for p in paths["/api/v1/crm/customers/"]["get"]["parameters"]}
        assert {"scene", "q", "unmask", "stage", "level", "owner", "due", "after"} <= names
        listed = paths["/api/v1/crm/customers/"]["get"]["responses"]["200"]["content"]
        page = listed["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        body = schema["components"]["schemas"][page]
        assert body["properties"]["count_capped"]["type"] == "boolean"
        assert body["properties"]["count"]["nullable"] is True
        assert {"count", "count_capped", "results"} <= set(body["required"])


class TestCustomerList:
    def test_scenes_search_and_filters(self, personas, book, api):
        services.customer_update(actor=personas.sales1, customer=book.sales1, stage="intention")
        services.follow_up_create(
            actor=personas.sales1b,
            customer=book.sales1b,
            kind="phone",
            content="已约",
            at=timezone.now() - datetime.timedelta(days=2),
            next_at=timezone.now() - datetime.timedelta(days=1),
        )
        client = api(personas.leader1)

        def ids(**params):
            return api_ids(client.get(CUSTOMERS, params))

        assert ids() == book.ids("sales1", "sales1b", "leader1")  # all by default
        assert ids(scene="mine") == book.ids("leader1")
        assert ids(scene="subordinates") == book.ids("sales1", "sales1b")
        assert ids(q="东方") == book.ids("sales1")
        assert ids(q="13811110002") == book.ids("sales1b")
        assert ids(q="13922220001") == book.ids("sales1")  # a contact's mobile
        assert ids(q="长江") == set()  # outside the scope
        assert ids(stage="intention") == book.ids("sales1")
        assert ids(owner=personas.sales1b.pk) == book.ids("sales1b")
        assert ids(due="overdue") == book.ids("sales1b")

    def test_next_pages_by_cursor_through_every_row_once(self, personas, book, api):
        now = timezone.now()
        # ties and never-contacted rows: the cursor orders by (last contact, id)
        Customer.objects.filter(pk=book.sales1.pk).update(last_contact_at=now)
        Customer.objects.filter(pk=book.sales1b.pk).update(last_contact_at=now)
        Customer.objects.filter(pk=book.leader1.pk).update(last_contact_at=None)
        client = api(personas.manager)
        everything = [
            row["id"] for row in client.get(CUSTOMERS, {"page_size": 200}).json()["results"]
        ]
        first = client.get(CUSTOMERS, {"page_size": 2}).json()
        assert first["count"] == len(everything) and first["count_capped"] is False
        assert "after=" in first["next"] and first["previous"] is None
        seen, url = [row["id"] for row in first["results"]], first["next"]
        while url:
            page = client.get(url).json()
            assert page["count"] is None and page["previous"] is None
            assert page["count_capped"] is False
            assert 0 < len(page["results"]) <= 2
            seen += [row["id"] for row in page["results"]]
            url = page["next"]
        assert seen == everything  # the same order, no row twice or left out
        by_number = client.get(CUSTOMERS, {"page_size": 2, "page": 2}).json()
        assert [row["id"] for row in by_number["results"]] == everything[2:4]

    def test_the_count_stops_at_its_cap_and_next_still_tells_of_more(
        self, personas, book, api, monkeypatch
    ):
        from marketdesk.core.listing import CappedPaginator

        client = api(personas.manager)
        assert client.get(CUSTOMERS).json()["count"] > 3
        monkeypatch.setattr(CappedPaginator, "first_cap", 2)
        monkeypatch.setattr(CappedPaginator, "cap", 3)
        first = client.get(CUSTOMERS, {"page_size": 1}).json()
        assert (first["count"], first["count_capped"]) == (2, True)  # "more than 2"
        assert "after=" in first["next"]
        second = client.get(CUSTOMERS, {"page_size": 1, "page": 2}).json()
        assert (second["count"], second["count_capped"]) == (3, True)  # up to the next page
        assert second["next"] and second["previous"]
        last = client.get(CUSTOMERS, {"page_size": 1, "page": "last"}).json()
        assert (last["count"], last["count_capped"]) == (3, True)
        assert client.get(CUSTOMERS, {"page_size": 1, "page": 4}).status_code == 404
        exact = client.get(CUSTOMERS, {"page_size": 1, "owner": personas.sales1.pk}).json()
        assert exact["count_capped"] is False and exact["count"] == len(exact["results"]) == 1

    def test_the_owner_filter_takes_anyone_in_scope(self, personas, book, api, monkeypatch):
        from marketdesk.crm import selectors

        monkeypatch.setattr(selectors, "OWNER_CHOICES_LIMIT", 1)  # the page's <select>
        offered = list(selectors.owner_choices(actor=personas.manager))
        name = next(
            n for n in ("sales1", "sales1b", "sales2") if getattr(personas, n) not in offered
        )
        response = api(personas.manager).get(CUSTOMERS, {"owner": getattr(personas, name).pk})
        assert [row["id"] for row in response.json()["results"]] == [getattr(book, name).pk]
        response = api(personas.leader1).get(CUSTOMERS, {"owner": personas.sales2.pk})
        assert_error(response, 400, "invalid", {"owner"})

    def test_a_cursor_that_is_not_ours_shows_the_first_page(self, personas, book, api):
        client = api(personas.manager)
        first = client.get(CUSTOMERS, {"page_size": 2}).json()
        for bad in ("nonsense", "W10", "WyJ4IiwgIjEiXQ"):
            page = client.get(CUSTOMERS, {"page_size": 2, "after": bad})
            assert page.status_code == 200
            assert page.json()["results"] == first["results"]

    def test_an_invalid_filter_is_an_error_on_that_field(self, personas, book, api):
        response = api(personas.manager).get(CUSTOMERS, {"stage": "bogus"})
        assert_error(response, 400, "invalid", {"stage"})

    def test_mobiles_and_addresses_are_masked_unless_asked_and_allowed(self, personas, book, api):
        response = api(personas.leader1).get(CUSTOMERS, {"q": "东方"})
        row = response.json()["results"][0]
        assert row["mobile"] == "138****0001"
        assert_error(
            api(personas.leader1).get(CUSTOMERS, {"unmask": "1"}), 403, "permission_denied"
        )
        unmasked = api(personas.manager).get(CUSTOMERS, {"q": "东方", "unmask": "1"})
        assert unmasked.json()["results"][0]["mobile"] == "13811110001"
        log = PersonalDataAccessLog.objects.get(user=personas.manager)
        assert (log.action, log.row_count) == ("view", 1)

    def test_one_customer_masked_and_unmasked(self, personas, book, api):
        assert api(personas.sales1).get(one(book.sales1)).json()["mobile"] == "138****0001"
        response = api(personas.manager).get(one(book.sales1), {"unmask": "true"})
        assert response.json()["mobile"] == "13811110001"
        assert PersonalDataAccessLog.objects.get(user=personas.manager).object_id == book.sales1.pk
        pooled = api(personas.sales1).get(one(book.pooled)).json()
        assert pooled["in_pool"] is True and pooled["owner"] is None


class TestCustomerWrite:
    def test_a_salesperson_creates_a_customer(self, personas, pool, api):
        response = api(personas.sales1).post(
            CUSTOMERS,
            {
                "name": "厦门鹭岛食品有限公司",
                "credit_code": "91350200ma2y12340y",
                "mobile": "+86 138 1234 5678",
                "level": "A",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["owner"] == personas.sales1.pk and body["owner_name"] == "王芳"
        assert body["credit_code"] == "91350200MA2Y12340Y"
        assert body["mobile"] == "138****5678"
        assert Customer.objects.get(pk=body["id"]).mobile == "13812345678"

    @pytest.mark.parametrize(
        ("payload", "fields"),
        [
            ({}, {"name"}),
            ({"name": "X公司", "mobile": "1234"}, {"mobile"}),
            ({"name": "X公司", "credit_code": "12345"}, {"credit_code"}),
            ({"name": "X公司", "level": "Z", "budget": "-1"}, {"level", "budget"}),
            ({"name": "X公司", "kind": "individual", "credit_code": "91350200MA2Y12340Y"}, None),
        ],
    )
    def test_bad_input_names_the_field_and_saves_nothing(
        self, personas, pool, api, payload, fields
    ):
        response = api(personas.sales1).post(CUSTOMERS, payload, format="json")
        body = assert_error(response, 400, "invalid", fields)
        if fields is None:
            assert "credit_code" in body["fields"]
        assert not Customer.objects.exists()

    def test_a_duplicate_outside_the_scope_names_only_its_owner(self, personas, book, api):
        response = api(personas.sales2).post(
            CUSTOMERS, {"name": "杭州西湖软件有限公司"}, format="json"
        )
        body = assert_error(response, 400, "invalid", {"name"})
        assert body["fields"]["name"] == [
            "A customer with this name already exists: belongs to 李强, 销售一组."
        ]
        assert Customer.objects.filter(name="杭州西湖软件有限公司").count() == 1
        matches = api(personas.sales2).get(
            "/api/v1/crm/duplicates/", {"name": "杭州西湖软件有限公司"}
        )
        assert matches.json() == [
            {"field": "name", "where": "belongs to 李强, 销售一组", "customer": None}
        ]
        mine = api(personas.leader1).get("/api/v1/crm/duplicates/", {"mobile": "+86 138 1111 0001"})
        assert mine.json()[0]["customer"] == book.sales1.pk

    def test_warn_mode_saves_once_confirmed(self, personas, book, api):
        services.settings_update(actor=personas.manager, duplicate_mode="warn")
        client = api(personas.sales2)
        first = client.post(CUSTOMERS, {"name": "杭州西湖软件有限公司"}, format="json")
        body = assert_error(first, 400, "invalid")
        assert body["message"].startswith("Possible duplicates were found.")
        assert "name" in body["fields"]
        second = client.post(
            CUSTOMERS,
            {"name": "杭州西湖软件有限公司", "confirm_duplicates": True},
            format="json",
        )
        assert second.status_code == 201, second.json()

    def test_changes_and_their_errors(self, personas, book, api):
        client = api(personas.leader1)
        response = client.patch(one(book.sales1), {"level": "A"}, format="json")
        assert response.status_code == 200 and response.json()["level"] == "A"
        before = snapshot(Customer, book.sales1.pk)
        for payload, fields in (
            ({"owner": personas.sales1b.pk}, {"owner"}),
            ({"mobile": "abc", "level": "C"}, {"mobile"}),
            ({"name": "苏州园区电子有限公司"}, {"name"}),
            ({"stage": "won"}, {"stage"}),
        ):
            response = client.patch(one(book.sales1), payload, format="json")
            assert_error(response, 400, "invalid", fields)
        assert snapshot(Customer, book.sales1.pk) == before
        assert client.put(one(book.sales1), {"level": "B"}, format="json").status_code == 405

    def test_a_colleague_in_the_same_group_may_not_change_it(self, personas, book, api):
        response = api(personas.sales1b).patch(one(book.sales1), {"level": "C"}, format="json")
        assert_error(response, 404, "not_found")


class TestPoolActions:
    def test_claim_return_assign_lock_unlock(self, personas, book, api):
        sales1 = api(personas.sales1)
        claimed = sales1.post(f"{one(book.pooled)}claim/")
        assert claimed.status_code == 200 and claimed.json()["owner"] == personas.sales1.pk
        assert_error(api(personas.sales2).post(f"{one(book.pooled)}claim/"), 404, "not_found")
        again = api(personas.leader1).post(f"{one(book.pooled)}claim/")  # sees it in the group
        body = assert_error(again, 400, "invalid")
        assert "no longer in the pool" in body["message"]

        assert_error(
            sales1.post(f"{one(book.pooled)}return/", {}, format="json"), 400, "invalid", {"reason"}
        )
        returned = sales1.post(f"{one(book.pooled)}return/", {"reason": "没有预算"}, format="json")
        assert returned.status_code == 200 and returned.json()["in_pool"] is True

        leader = api(personas.leader1)
        same = leader.post(
            f"{one(book.sales1)}assign/", {"to_user": personas.sales1.pk}, format="json"
        )
        assert_error(same, 400, "invalid", {"to_user"})
        missing = leader.post(f"{one(book.sales1)}assign/", {"to_user": 999999}, format="json")
        assert_error(missing, 400, "invalid", {"to_user"})
        assigned = leader.post(
            f"{one(book.sales1)}assign/", {"to_user": personas.sales1b.pk}, format="json"
        )
        assert assigned.json()["owner"] == personas.sales1b.pk
        assert leader.post(f"{one(book.sales1)}lock/").json()["locked"] is True
        locked_return = api(personas.sales1b).post(
            f"{one(book.sales1)}return/", {"reason": "x"}, format="json"
        )
        assert "unlock it first" in assert_error(locked_return, 400, "invalid")["message"]
        assert leader.post(f"{one(book.sales1)}unlock/").json()["locked"] is False

    def test_the_pool_endpoint(self, personas, book, make_customer, api):
        make_customer(None, name="温州瓯江鞋业有限公司", level="A")
        client = api(personas.sales1)
        rows = client.get("/api/v1/crm/pool/").json()["results"]
        assert {r["name"] for r in rows} == {"宁波港口贸易有限公司", "温州瓯江鞋业有限公司"}
        assert {
            r["name"] for r in client.get("/api/v1/crm/pool/", {"level": "A"}).json()["results"]
        } == {"温州瓯江鞋业有限公司"}
        assert [
            r["name"] for r in client.get("/api/v1/crm/pool/", {"q": "宁波"}).json()["results"]
        ] == ["宁波港口贸易有限公司"]
        assert_error(api(personas.promo).get("/api/v1/crm/pool/"), 403, "permission_denied")


class TestFollowUps:
    def test_record_one_with_a_next_time_and_a_check_in(self, personas, book, api):
        next_at = timezone.now() + datetime.timedelta(hours=2)
        response = api(personas.sales1).post(
            f"{one(book.sales1)}follow-ups/",
            {
                "kind": "visit",
                "content": "上门拜访",
                "next_at": next_at.isoformat(),
                "contacts": [book.contact.pk],
                "latitude": "31.230416",
                "longitude": "121.473701",
                "check_in_address": "上海市黄浦区人民大道200号",
                "stage": "intention",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["user"] == personas.sales1.pk and body["contacts"] == [book.contact.pk]
        assert body["latitude"] == "31.230416"
        customer = Customer.objects.get(pk=book.sales1.pk)
        assert customer.next_contact_at == next_at and customer.stage == "intention"
        listed = api(personas.sales1).get(f"{one(book.sales1)}follow-ups/").json()
        assert [f["content"] for f in listed] == ["上门拜访"]

    def test_bad_input_names_the_field_and_saves_nothing(self, personas, book, api):
        other = services.contact_create(actor=personas.sales1b, customer=book.sales1b, name="赵")
        before = snapshot(Customer, book.sales1.pk)
        past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
        future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
        for payload, fields in (
            ({"content": "x"}, {"kind"}),
            ({"kind": "fax", "content": "x"}, {"kind"}),
            ({"kind": "phone", "content": "x", "next_at": past}, {"next_at"}),
            ({"kind": "phone", "content": "x", "at": future}, {"at"}),
            ({"kind": "visit", "content": "x", "latitude": "31.2"}, {"latitude"}),
            ({"kind": "visit", "content": "x", "latitude": "91", "longitude": "1"}, {"latitude"}),
            ({"kind": "phone", "content": "x", "contacts": [other.pk]}, {"contacts"}),
        ):
            response = api(personas.sales1).post(
                f"{one(book.sales1)}follow-ups/", payload, format="json"
            )
            assert_error(response, 400, "invalid", fields)
        assert not FollowUp.objects.exists()
        assert snapshot(Customer, book.sales1.pk) == before

    def test_the_follow_up_list_is_scoped_and_filtered(self, personas, book, api):
        services.follow_up_create(
            actor=personas.sales1, customer=book.sales1, kind="phone", content="电话"
        )
        services.follow_up_create(
            actor=personas.sales2, customer=book.sales2, kind="email", content="邮件"
        )
        leader = api(personas.leader1).get("/api/v1/crm/follow-ups/").json()["results"]
        assert [f["content"] for f in leader] == ["电话"]
        manager = api(personas.manager)
        emails = manager.get("/api/v1/crm/follow-ups/", {"kind": "email"}).json()["results"]
        assert [f["content"] for f in emails] == ["邮件"]
        assert_error(
            manager.get("/api/v1/crm/follow-ups/", {"since": "yesterday"}),
            400,
            "invalid",
            {"since"},
        )


class TestContacts:
    def test_create_read_change_delete(self, personas, book, api):
        client = api(personas.sales1)
        url = f"{one(book.sales1)}contacts/"
        assert_error(client.post(url, {"title": "工程师"}, format="json"), 400, "invalid", {"name"})
        assert_error(
            client.post(url, {"name": "刘工", "mobile": "12"}, format="json"),
            400,
            "invalid",
            {"mobile"},
        )
        assert_error(
            client.post(url, {"name": "刘工", "email": "nope"}, format="json"),
            400,
            "invalid",
            {"email"},
        )
        assert book.sales1.contacts.count() == 1
        created = client.post(url, {"name": "刘工", "mobile": "13933334444"}, format="json")
        assert created.status_code == 201 and created.json()["mobile"] == "139****4444"
        contact_id = created.json()["id"]
        assert {c["name"] for c in client.get(url).json()} == {"陈经理", "刘工"}

        one_contact = f"/api/v1/crm/contacts/{contact_id}/"
        changed = client.patch(one_contact, {"title": "技术总监"}, format="json")
        assert changed.status_code == 200 and changed.json()["title"] == "技术总监"
        before = snapshot(Contact, contact_id)
        assert_error(
            client.patch(one_contact, {"mobile": "x"}, format="json"), 400, "invalid", {"mobile"}
        )
        assert snapshot(Contact, contact_id) == before
        assert client.delete(one_contact).status_code == 204
        assert not Contact.objects.filter(pk=contact_id).exists()

    def test_a_duplicate_mobile_is_named_on_the_field(self, personas, book, api):
        response = api(personas.sales1).post(
            f"{one(book.sales1)}contacts/", {"name": "吴", "mobile": "13811110004"}, format="json"
        )
        body = assert_error(response, 400, "invalid", {"mobile"})
        assert body["fields"]["mobile"] == [
            "A customer or contact with this mobile already exists: belongs to 吴涛, 销售二组."
        ]
        assert not Contact.objects.filter(name="吴").exists()

    def test_promotion_staff_read_but_do_not_write_contacts(self, personas, api):
        customer = services.customer_create(actor=personas.promo, name="推广线索有限公司")
        contact = services.contact_create(actor=personas.promo, customer=customer, name="钱")
        client = api(personas.promo)
        assert client.get(f"/api/v1/crm/contacts/{contact.pk}/").status_code == 200
        unmask = client.get(f"/api/v1/crm/contacts/{contact.pk}/", {"unmask": "1"})
        assert_error(unmask, 403, "permission_denied")


class TestRevisits:
    def test_list_and_record(self, personas, book, api):
        revisit = services.revisit_schedule(
            actor=personas.sales1, customer=book.sales1, due_date=timezone.localdate()
        )
        client = api(personas.sales1)
        rows = client.get("/api/v1/crm/revisits/", {"mine": "true", "due": "true"}).json()
        assert [r["id"] for r in rows["results"]] == [revisit.pk]
        url = f"/api/v1/crm/revisits/{revisit.pk}/record/"
        assert_error(
            client.post(url, {"satisfaction": 6}, format="json"), 400, "invalid", {"satisfaction"}
        )
        assert Revisit.objects.get(pk=revisit.pk).status == "planned"
        done = client.post(url, {"satisfaction": 5, "opinions": "满意"}, format="json")
        assert done.status_code == 200 and done.json()["status"] == "done"
        again = client.post(url, {"satisfaction": 5}, format="json")
        assert "already been recorded" in assert_error(again, 400, "invalid")["message"]
        assert_error(api(personas.promo).get("/api/v1/crm/revisits/"), 403, "permission_denied")


class TestPools:
    def test_the_manager_creates_and_changes_a_pool(self, personas, pool, api):
        client = api(personas.manager)
        created = client.post(
            "/api/v1/crm/pools/",
            {"name": "华南公海", "provinces": "广东,广西", "daily_claim_cap": 5},
            format="json",
        )
        assert created.status_code == 201, created.json()
        south = CustomerPool.objects.get(name="华南公海")
        assert created.json()["id"] == south.pk and south.daily_claim_cap == 5
        taken = client.post("/api/v1/crm/pools/", {"name": "华东公海"}, format="json")
        assert_error(taken, 400, "invalid", {"name"})
        negative = client.patch(
            f"/api/v1/crm/pools/{south.pk}/", {"daily_claim_cap": -1}, format="json"
        )
        assert_error(negative, 400, "invalid", {"daily_claim_cap"})
        changed = client.patch(
            f"/api/v1/crm/pools/{south.pk}/", {"daily_claim_cap": 8}, format="json"
        )
        assert changed.status_code == 200 and changed.json()["daily_claim_cap"] == 8
        assert CustomerPool.objects.count() == 2

    def test_who_may_claim_sees_the_pools_others_see_none(self, personas, pool, api):
        names = [
            p["name"] for p in api(personas.sales1).get("/api/v1/crm/pools/").json()["results"]
        ]
        assert names == ["华东公海"]
        assert api(personas.outsider).get("/api/v1/crm/pools/").json()["results"] == []


class TestAnalysis:
    def test_counts_in_scope(self, personas, book, api):
        body = api(personas.leader1).get("/api/v1/crm/analysis/").json()
        assert body["total"] == 3
        assert body["stage"] == [{"value": "potential", "count": 3}]
        assert api(personas.manager).get("/api/v1/crm/analysis/").json()["total"] == 5
        assert_error(api(personas.sales1).get("/api/v1/crm/analysis/"), 403, "permission_denied")
