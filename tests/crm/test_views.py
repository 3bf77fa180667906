"""The customer pages: the list (scenes, search, filters, sort, pages, htmx rows, saved
filters, bulk actions, export), the customer 360 page and its actions, forms and their errors,
contacts, follow-ups, the pool, revisits, analysis, settings and the workbench to-dos."""

from __future__ import annotations

import datetime
import re
from unittest.mock import patch

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from marketdesk.approvals import services as approval_services
from marketdesk.approvals.models import ApprovalTask, ApproverKind, StepMode, TaskStatus
from marketdesk.core.models import Attachment, PersonalDataAccessLog, RecordShare
from marketdesk.crm import selectors, services
from marketdesk.crm.models import (
    Contact,
    Customer,
    CustomerExportRequest,
    CustomerPool,
    FollowUp,
    HoldingLimit,
    Revisit,
    Segment,
)

from . import helpers
from .helpers import TINY_PNG, flash, listed_ids, text, xlsx_rows

pytestmark = pytest.mark.django_db

book, as_user = helpers.book, helpers.as_user  # fixtures

LIST = "/crm/customers/"


def plain(response) -> str:
    """The text of an HTML fragment without its tags."""
    return re.sub(r"<[^>]+>", "", text(response)).strip()


def detail(customer) -> str:
    return f"/crm/customers/{customer.pk}/"


def action(customer, name: str) -> str:
    return f"/crm/customers/{customer.pk}/do/{name}/"


def later_today() -> datetime.datetime:
    """A moment later today (local time), for a follow-up due today."""
    now = timezone.localtime()
    end = now.replace(hour=23, minute=58, second=0, microsecond=0)
    return end if end > now else now + datetime.timedelta(seconds=30)


def fresh(customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


# The list ------------------------------------------------------------------------------------


class TestCustomerList:
    def test_the_scenes(self, personas, book, as_user):
        services.customer_assign(
            actor=personas.manager, customer=book.pooled, to_user=personas.leader2
        )
        from marketdesk.core import services as core_services

        core_services.record_share(
            actor=personas.sales2, record=book.sales2, user=personas.leader1, access="read"
        )
        leader1 = as_user(personas.leader1)
        scenes = {
            scene: listed_ids(leader1.get(LIST, {"scene": scene}))
            for scene in ("mine", "team", "subordinates", "all")
        }
        assert scenes == {
            "mine": book.ids("leader1"),
            "team": book.ids("sales2"),  # shared with the group leader
            "subordinates": book.ids("sales1", "sales1b"),
            "all": book.ids("sales1", "sales1b", "leader1", "sales2"),
        }
        assert listed_ids(leader1.get(LIST)) == book.ids("leader1")  # mine by default
        assert listed_ids(leader1.get(LIST, {"scene": "nonsense"})) == book.ids("leader1")
        manager = as_user(personas.manager)  # the same test client, signed in again
        assert listed_ids(manager.get(LIST, {"scene": "subordinates"})) == book.ids(
            "sales1", "sales1b", "leader1", "sales2", "pooled"
        )
        assert listed_ids(manager.get(LIST, {"scene": "mine"})) == set()

    def test_search_by_a_name_fragment_a_mobile_and_a_contacts_mobile(
        self, personas, book, as_user
    ):
        client = as_user(personas.manager)
        found = {
            q: listed_ids(client.get(LIST, {"scene": "all", "q": q}))
            for q in ("东方机械", "长江", "13811110004", "1381111000", "139 2222 0001", "nothing")
        }
        assert found == {
            "东方机械": book.ids("sales1"),
            "长江": book.ids("sales2"),
            "13811110004": book.ids("sales2"),
            "1381111000": book.ids("sales1", "sales1b", "leader1", "sales2", "pooled"),
            "139 2222 0001": book.ids("sales1"),  # the contact's mobile
            "nothing": set(),
        }
        number = book.sales2.number
        assert listed_ids(client.get(LIST, {"scene": "all", "q": number})) == book.ids("sales2")
        # the search never reaches outside the scope
        assert listed_ids(as_user(personas.sales1).get(LIST, {"q": "长江"})) == set()

    def test_the_filters(self, personas, book, make_customer, as_user):
        services.customer_update(actor=personas.sales1, customer=book.sales1, stage="intention")
        key = make_customer(personas.sales1b, name="无锡太湖重工有限公司", level="A")
        services.follow_up_create(
            actor=personas.sales1,
            customer=book.sales1,
            kind="phone",
            content="约好下午再打",
            next_at=later_today(),
        )
        services.follow_up_create(
            actor=personas.sales1b,
            customer=book.sales1b,
            kind="phone",
            content="上周联系过",
            at=timezone.now() - datetime.timedelta(days=3),
            next_at=timezone.now() - datetime.timedelta(days=2),
        )
        client = as_user(personas.leader1)

        def ids(**params):
            return listed_ids(client.get(LIST, {"scene": "all", **params}))

        assert ids(stage="intention") == book.ids("sales1")
        assert ids(level="A") == {key.pk}
        assert ids(owner=personas.sales1b.pk) == book.ids("sales1b") | {key.pk}
        assert ids(due="today") == book.ids("sales1")
        assert ids(due="overdue") == book.ids("sales1b")
        assert ids(department=personas.units["S1"].pk, level="B") == book.ids(
            "sales1", "sales1b", "leader1"
        )

    def test_an_invalid_filter_shows_its_error_and_no_rows(self, personas, book, as_user):
        response = as_user(personas.manager).get(LIST, {"scene": "all", "stage": "bogus"})
        assert response.status_code == 200
        assert listed_ids(response) == set()
        assert "Select a valid choice" in text(response)
        assert "No customers match." in text(response)

    def test_sorting(self, personas, book, as_user):
        client = as_user(personas.manager)

        def order(sort):
            html = text(client.get(LIST, {"scene": "all", "sort": sort}))
            html = html[html.find('id="list-results"') :]
            return [int(pk) for pk in re.findall(r'href="/crm/customers/(\d+)/"', html)]

        by_name = order("name")
        keys = dict(Customer.objects.filter(pk__in=by_name).values_list("pk", "name_key"))
        assert [keys[pk] for pk in by_name] == sorted(keys.values())
        assert order("-name") == list(reversed(by_name))
        created = order("created")
        assert created == sorted(created)  # created one after another
        assert order("no_such_sort") == order("-last_contact")

    def test_pagination(self, personas, pool, make_customer, as_user):
        for number in range(22):
            make_customer(personas.sales1, name=f"分页测试客户{number:02d}有限公司")
        client = as_user(personas.sales1)
        first = listed_ids(client.get(LIST, {"sort": "name"}))
        second = listed_ids(client.get(LIST, {"sort": "name", "page": 2}))
        assert len(first) == 20 and len(second) == 2 and not first & second
        assert listed_ids(client.get(LIST, {"sort": "name", "page": 99})) == second  # the last
        assert len(listed_ids(client.get(LIST, {"per_page": 50}))) == 22
        assert len(listed_ids(client.get(LIST, {"page": "abc"}))) == 20

    def test_a_search_counts_up_to_its_own_cap(self, personas, book, as_user, monkeypatch):
        from marketdesk.crm import selectors

        monkeypatch.setattr(selectors.SearchPaginator, "cap", 2)
        client = as_user(personas.manager)
        html = text(client.get(LIST, {"scene": "all", "q": "1381111000"}))
        assert "More than 2 records" in html
        assert "5 records" in text(client.get(LIST, {"scene": "all"}))  # no search: 10,000

    def test_a_long_list_loads_its_total_after_the_rows(self, personas, book, as_user, monkeypatch):
        from marketdesk.core import listing
        from marketdesk.crm import selectors

        monkeypatch.setattr(selectors.CappedPaginator, "first_cap", 2)
        monkeypatch.setattr(listing, "PER_PAGE_CHOICES", (1, 20))
        client = as_user(personas.manager)
        response = client.get(LIST, {"scene": "all", "per_page": 1})
        html = response.content.decode()
        assert "More than 2 records" in text(response) and "narrow the filters" not in html
        assert len(listed_ids(response)) == 1 and "Next" in text(response)
        url = re.search(r'hx-get="(/crm/customers/count/\?[^"]*)"', html).group(1)
        assert "scene=all" in url and "&amp;page=" not in url and "after=" not in url
        total = client.get(url.replace("&amp;", "&"), HTTP_HX_REQUEST="true")
        assert plain(total) == "5 records"
        # "Next" goes by cursor; that page counts first_cap rows too and loads the total
        after = re.search(r'href="\?([^"]*after=[^"]*)"', html).group(1).replace("&amp;", "&")
        by_cursor = client.get(f"{LIST}?{after}")
        assert "More than 2 records" in text(by_cursor) and "narrow" not in text(by_cursor)
        assert "/crm/customers/count/" in by_cursor.content.decode()
        # a page further on counts up to the page after it (its "Next" is known)
        second = client.get(LIST, {"scene": "all", "per_page": 1, "page": 2})
        assert "More than 3 records" in text(second) and "Next" in text(second)
        fourth = client.get(LIST, {"scene": "all", "per_page": 1, "page": 4})
        assert (
            "5 records" in text(fourth) and "/crm/customers/count/" not in fourth.content.decode()
        )

    def test_the_total_has_the_lists_scope_filters_and_caps(
        self, personas, book, as_user, monkeypatch
    ):
        from marketdesk.crm import selectors

        count = "/crm/customers/count/"
        leader = as_user(personas.leader1)
        assert plain(leader.get(count, {"scene": "all"})) == "3 records"
        assert plain(leader.get(count, {"scene": "all", "q": "东方"})) == "1 record"
        manager = as_user(personas.manager)  # the same test client, signed in again
        assert plain(manager.get(count, {"scene": "all"})) == "5 records"
        assert plain(manager.get(count, {"stage": "bogus"})) == "0 records"
        monkeypatch.setattr(selectors, "LIST_COUNT_CAP", 4)
        capped = plain(manager.get(count, {"scene": "all"}))
        assert capped == "More than 4 records: narrow the filters to see the rest"
        monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 0)
        searched = plain(manager.get(count, {"scene": "all", "q": "东方"}))
        assert searched.startswith("More than 0 records")
        assert as_user(personas.outsider).get(count).status_code == 403

    def test_the_owner_filter_takes_anyone_in_scope_not_only_the_offered_owners(
        self, personas, book, as_user, monkeypatch
    ):
        from marketdesk.crm import selectors

        monkeypatch.setattr(selectors, "OWNER_CHOICES_LIMIT", 1)  # the <select> offers one
        offered = list(selectors.owner_choices(actor=personas.manager))
        name = next(
            n for n in ("sales1", "sales1b", "sales2") if getattr(personas, n) not in offered
        )
        owner = getattr(personas, name)
        client = as_user(personas.manager)
        response = client.get(LIST, {"scene": "all", "owner": owner.pk})
        assert listed_ids(response) == book.ids(name)
        html = response.content.decode()
        assert re.search(rf'<option value="{owner.pk}" selected>', html)
        outside = as_user(personas.leader1).get(LIST, {"scene": "all", "owner": personas.sales2.pk})
        assert listed_ids(outside) == set()  # not in the leader's scope: the filter's error
        assert "Select a valid choice" in text(outside)

    def test_an_htmx_request_renders_only_the_rows(self, personas, book, as_user):
        response = as_user(personas.manager).get(
            LIST, {"scene": "all", "q": "长江"}, HTTP_HX_REQUEST="true"
        )
        html = text(response).strip()
        assert html.startswith('<div id="list-results">')
        assert "<html" not in html and "md-filter-bar" not in html
        assert listed_ids(response) == book.ids("sales2")


class TestSegments:
    def test_a_saved_filter_is_listed_with_its_count(self, personas, book, make_customer, as_user):
        make_customer(personas.sales1b, name="常州新能源有限公司", level="A")
        client = as_user(personas.leader1)
        response = client.post(
            "/crm/segments/", {"name": "重点客户", "query": "scene=all&level=A"}, follow=True
        )
        assert "Filter saved." in flash(response)
        segment = Segment.objects.get(user=personas.leader1, name="重点客户")
        assert segment.query == "scene=all&level=A"
        html = text(client.get(LIST))
        assert re.search(
            r'href="\?scene=all&amp;level=A">重点客户 <span class="badge[^"]*">1</span>', html
        )

        with patch.object(selectors, "LIST_PAGE_COUNT_CAP", 0):  # the badge counts 1,000 at most
            html = text(client.get(LIST))
        assert re.search(r'level=A">重点客户 <span class="badge[^"]*">0\+</span>', html)

        again = client.post("/crm/segments/", {"name": "重点客户", "query": "level=B"}, follow=True)
        assert "You already have a saved filter with this name." in flash(again)
        assert Segment.objects.filter(user=personas.leader1).count() == 1

        # another person's saved filter is theirs: 404, not deleted
        assert as_user(personas.sales1).post(f"/crm/segments/{segment.pk}/delete/").status_code == (
            404
        )
        client = as_user(personas.leader1)
        client.post(f"/crm/segments/{segment.pk}/delete/")
        assert not Segment.objects.filter(pk=segment.pk).exists()


class TestBulkActions:
    def test_assign_reports_the_customers_that_fail(self, personas, book, as_user):
        response = as_user(personas.leader1).post(
            "/crm/customers/bulk/",
            {
                "ids": [book.sales1.pk, book.sales1b.pk, book.sales2.pk],  # the last: not in scope
                "action": "assign",
                "to_user": personas.sales1b.pk,
            },
            follow=True,
        )
        messages = flash(response)
        assert "1 customers done." in messages
        assert "苏州园区电子有限公司: The customer already belongs to 孙浩." in messages
        assert fresh(book.sales1).owner == personas.sales1b
        assert fresh(book.sales2).owner == personas.sales2

    def test_tag_and_return(self, personas, book, as_user):
        tag = services.tag_create(actor=personas.leader1, name="展会线索")
        client = as_user(personas.leader1)
        client.post(
            "/crm/customers/bulk/",
            {"ids": [book.sales1.pk, book.sales1b.pk], "action": "tag", "tag": tag.pk},
        )
        assert set(tag.customers.values_list("pk", flat=True)) == book.ids("sales1", "sales1b")

        services.customer_set_locked(actor=personas.leader1, customer=book.sales1b, locked=True)
        no_reason = client.post(
            "/crm/customers/bulk/", {"ids": [book.sales1.pk], "action": "return"}, follow=True
        )
        assert "Give a reason to return customers to the pool." in flash(no_reason)
        response = client.post(
            "/crm/customers/bulk/",
            {"ids": [book.sales1.pk, book.sales1b.pk], "action": "return", "reason": "重新分配"},
            follow=True,
        )
        messages = flash(response)
        assert "1 customers done." in messages
        assert any(m.startswith("苏州园区电子有限公司: A locked customer") for m in messages)
        assert fresh(book.sales1).owner is None and fresh(book.sales1b).owner == personas.sales1b

    def test_a_salesperson_has_no_assign_action(self, personas, book, as_user):
        client = as_user(personas.sales1)
        assert 'value="assign"' not in text(client.get(LIST))
        client.post(
            "/crm/customers/bulk/",
            {"ids": [book.sales1.pk], "action": "assign", "to_user": personas.sales1b.pk},
        )
        assert fresh(book.sales1).owner == personas.sales1


class TestExport:
    def test_masked_without_the_personal_data_permission_and_logged(self, personas, book, as_user):
        response = as_user(personas.leader1).get(
            "/crm/customers/export/", {"scene": "all", "format": "xlsx"}
        )
        assert response.status_code == 200
        rows = xlsx_rows(response)
        mobile = rows[0].index("Mobile")
        assert sorted(r[mobile] for r in rows[1:]) == ["138****0001", "138****0002", "138****0003"]
        log = PersonalDataAccessLog.objects.get(user=personas.leader1)
        assert (log.action, log.row_count) == ("export", 3)
        assert "masked" in log.description
        csv = as_user(personas.leader1).get(
            "/crm/customers/export/", {"scene": "all", "q": "东方", "format": "csv"}
        )
        lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
        assert len(lines) == 2 and "138****0001" in lines[1] and "13811110001" not in lines[1]
        assert PersonalDataAccessLog.objects.filter(user=personas.leader1).count() == 2

    def test_unmasked_for_who_may_see_personal_data(self, personas, book, as_user):
        response = as_user(personas.manager).get(
            "/crm/customers/export/", {"scene": "all", "q": "长江", "format": "xlsx"}
        )
        rows = xlsx_rows(response)
        assert rows[1][rows[0].index("Mobile")] == "13811110004"
        assert "unmasked" in PersonalDataAccessLog.objects.get(user=personas.manager).description

    def test_a_salesperson_may_not_export(self, personas, book, as_user):
        response = as_user(personas.sales1).get("/crm/customers/export/")
        assert response.status_code == 403
        assert not PersonalDataAccessLog.objects.exists()

    def test_a_large_export_needs_an_approved_request_and_downloads_once(
        self, personas, book, as_user, django_capture_on_commit_callbacks
    ):
        services.settings_update(actor=personas.manager, export_approval_rows=2)
        approval_services.flow_save(
            actor=personas.admin,
            flow=None,
            fields={"name": "客户导出审批", "doc_type": "crm.customer_export", "priority": 100},
            departments=[],
            cc_users=[],
            steps=[
                {"name": "上级", "approver_kind": ApproverKind.SUPERVISOR, "mode": StepMode.ANY}
            ],
        )
        client = as_user(personas.leader1)
        response = client.get("/crm/customers/export/", {"scene": "all", "format": "xlsx"})
        assert response.status_code == 302
        assert response["Location"].startswith("/crm/exports/new/?")
        assert "rows=3" in response["Location"]
        assert not PersonalDataAccessLog.objects.exists()

        form = client.get(response["Location"])
        assert "This export has 3 customers" in text(form)
        assert form.context["query"] == "scene=all"
        submitted = client.post(
            "/crm/exports/new/", {"query": "scene=all", "rows": 3, "reason": "季度客户盘点"}
        )
        export = CustomerExportRequest.objects.get(requester=personas.leader1)
        assert submitted["Location"] == f"/crm/exports/{export.pk}/"
        assert export.status == "pending"
        assert client.get("/crm/customers/export/", {"scene": "all"}).status_code == 302

        task = ApprovalTask.objects.get(approver=personas.manager, status=TaskStatus.WAITING)
        with django_capture_on_commit_callbacks(execute=True):  # the approval hooks
            approval_services.task_approve(actor=personas.manager, task=task)
        export.refresh_from_db()
        assert export.status == "approved"
        page = client.get(f"/crm/exports/{export.pk}/")
        assert "Download (once)" in text(page)

        download = client.get("/crm/customers/export/", {"scene": "all", "format": "xlsx"})
        assert download.status_code == 200 and len(xlsx_rows(download)) == 4
        export.refresh_from_db()
        assert export.status == "used"
        assert export.number in PersonalDataAccessLog.objects.get().description
        assert client.get("/crm/customers/export/", {"scene": "all"}).status_code == 302

    def test_a_request_that_cannot_be_submitted_leaves_nothing_behind(self, personas, as_user):
        response = as_user(personas.leader1).post(
            "/crm/exports/new/", {"query": "scene=all", "rows": 3, "reason": "季度客户盘点"}
        )
        assert response.status_code == 200  # no approval flow for exports: an error
        assert "errorlist" in text(response) or "alert-danger" in text(response)
        assert not CustomerExportRequest.objects.exists()


# One customer --------------------------------------------------------------------------------


class TestCustomerPage:
    def test_contacts_are_masked_and_revealed_with_a_log(self, personas, book, as_user):
        leader = text(as_user(personas.leader1).get(detail(book.sales1)))
        assert "139****0001" in leader and "13922220001" not in leader
        assert "Show (logged)" not in leader
        assert as_user(personas.leader1).post(f"{detail(book.sales1)}reveal/").status_code == 403

        client = as_user(personas.manager)
        page = text(client.get(detail(book.sales1)))
        assert "139****0001" in page and "Show (logged)" in page
        assert not PersonalDataAccessLog.objects.exists()
        revealed = client.post(f"{detail(book.sales1)}reveal/", HTTP_HX_REQUEST="true")
        assert "13922220001" in text(revealed) and "13811110001" in text(revealed)
        assert text(revealed).strip().startswith('<div id="md-contacts">')
        assert f"/contacts/{book.contact.pk}/" in text(revealed)  # still editable
        log = PersonalDataAccessLog.objects.get(user=personas.manager)
        assert (log.action, log.object_id) == ("view", book.sales1.pk)

    def test_the_page_offers_what_the_user_may_do(self, personas, book, as_user):
        owner = text(as_user(personas.sales1).get(detail(book.sales1)))
        assert 'id="md-add-follow-up"' in owner and 'id="md-return"' in owner
        assert "md-assign-modal" not in owner and 'id="md-claim"' not in owner
        pooled = text(as_user(personas.sales1).get(detail(book.pooled)))
        assert 'id="md-claim"' in pooled and 'id="md-add-follow-up"' not in pooled
        leader = text(as_user(personas.leader1).get(detail(book.sales1)))
        assert "md-assign-modal" in leader and "Lock (never returns to the pool)" in leader


class TestCustomerForm:
    def test_a_salesperson_creates_a_customer(self, personas, pool, as_user):
        response = as_user(personas.sales1).post(
            "/crm/customers/new/",
            {
                "kind": "company",
                "name": "厦门鹭岛食品有限公司",
                "credit_code": "91350200ma2y12340y",
                "mobile": "+86 138-1234-5678",
                "level": "B",
                "stage": "potential",
                "source": "exhibition",
            },
        )
        assert response.status_code == 302, response.context["form"].errors
        customer = Customer.objects.get(name="厦门鹭岛食品有限公司")
        assert response.status_code == 302 and response["Location"] == detail(customer)
        assert customer.owner == personas.sales1 and customer.mobile == "13812345678"
        assert customer.credit_code == "91350200MA2Y12340Y"

    def test_bad_input_is_named_on_its_field(self, personas, pool, as_user):
        response = as_user(personas.sales1).post(
            "/crm/customers/new/",
            {
                "kind": "company",
                "name": "厦门鹭岛食品有限公司",
                "credit_code": "12345",
                "mobile": "1234",
                "level": "B",
                "stage": "potential",
                "source": "other",
            },
        )
        assert response.status_code == 200
        form = response.context["form"]
        assert set(form.errors) == {"credit_code", "mobile"}
        html = text(response)
        assert re.search(
            r'id="id_credit_code"[^>]*is-invalid|is-invalid[^>]*id="id_credit_code"', html
        )
        assert 'value="厦门鹭岛食品有限公司"' in html  # nothing typed is lost
        assert not Customer.objects.filter(name="厦门鹭岛食品有限公司").exists()

    def _duplicate(self, client, name: str):
        return client.post(
            "/crm/customers/new/",
            {
                "kind": "company",
                "name": name,
                "level": "B",
                "stage": "potential",
                "source": "other",
            },
        )

    def test_a_duplicate_name_outside_the_scope_names_only_the_owner(self, personas, book, as_user):
        response = self._duplicate(as_user(personas.sales2), "杭州西湖软件有限公司")
        errors = response.context["form"].errors["name"]
        assert errors == ["A customer with this name already exists: belongs to 李强, 销售一组."]
        assert f"/crm/customers/{book.leader1.pk}/" not in text(response)
        assert Customer.objects.filter(name="杭州西湖软件有限公司").count() == 1

    def test_a_duplicate_name_in_scope_shows_the_customer(self, personas, book, as_user):
        response = self._duplicate(as_user(personas.leader1), "上海东方机械有限公司")
        assert response.context["form"].errors["name"] == [
            "A customer with this name already exists: 上海东方机械有限公司 (belongs to 王芳, 销售一组)."
        ]

    def test_warn_mode_asks_to_confirm_and_saves_on_the_second_submit(
        self, personas, book, as_user
    ):
        services.settings_update(actor=personas.manager, duplicate_mode="warn")
        client = as_user(personas.sales2)
        first = self._duplicate(client, "杭州西湖软件有限公司")
        html = text(first)
        assert 'type="checkbox" name="confirm_duplicates"' in html
        assert "Possible duplicates were found" in html
        assert Customer.objects.filter(name="杭州西湖软件有限公司").count() == 1
        second = client.post(
            "/crm/customers/new/",
            {
                "kind": "company",
                "name": "杭州西湖软件有限公司",
                "level": "B",
                "stage": "potential",
                "source": "other",
                "confirm_duplicates": "on",
            },
        )
        assert second.status_code == 302
        assert Customer.objects.filter(name="杭州西湖软件有限公司").count() == 2

    def test_the_duplicate_check_as_one_types(self, personas, book, as_user):
        html = text(
            as_user(personas.sales2).get("/crm/customers/duplicates/", {"name": "杭州西湖软件"})
        )
        assert "belongs to 李强, 销售一组" in html
        assert f"/crm/customers/{book.leader1.pk}/" not in html
        typed = as_user(personas.sales2).get(
            "/crm/customers/duplicates/", {"mobile": "138-1111-0001"}
        )
        assert "belongs to 王芳, 销售一组" in text(typed)  # the mobile as typed is normalised

    def test_editing(self, personas, book, as_user):
        client = as_user(personas.leader1)
        form = client.get(f"{detail(book.sales1)}edit/")
        assert form.status_code == 200 and 'value="上海东方机械有限公司"' in text(form)
        response = client.post(
            f"{detail(book.sales1)}edit/",
            {
                "kind": "company",
                "name": "上海东方机械有限公司",
                "mobile": "13811110001",
                "level": "A",
                "stage": "intention",
                "source": "other",
            },
        )
        assert response.status_code == 302
        customer = fresh(book.sales1)
        assert (customer.level, customer.stage) == ("A", "intention")
        assert as_user(personas.sales1b).get(f"{detail(book.sales1)}edit/").status_code == 404


class TestCustomerActions:
    def test_claim_and_return(self, personas, book, as_user):
        client = as_user(personas.sales1)
        response = client.post(action(book.pooled, "claim"), follow=True)
        assert "The customer is yours now." in flash(response)
        assert fresh(book.pooled).owner == personas.sales1

        no_reason = client.post(action(book.pooled, "return"), {"reason": ""}, follow=True)
        assert "Give a reason." in flash(no_reason)
        assert fresh(book.pooled).owner == personas.sales1
        returned = client.post(action(book.pooled, "return"), {"reason": "客户无预算"})
        assert returned.status_code == 302
        assert fresh(book.pooled).owner is None

    def test_a_claim_already_taken_says_so_or_is_404_out_of_scope(self, personas, book, as_user):
        services.customer_claim(actor=personas.sales1b, customer=book.pooled)
        response = as_user(personas.leader1).post(action(book.pooled, "claim"), follow=True)
        assert "This customer is no longer in the pool; someone else has claimed it." in flash(
            response
        )
        assert as_user(personas.sales2).post(action(book.pooled, "claim")).status_code == 404
        assert fresh(book.pooled).owner == personas.sales1b

    def test_assign_lock_and_unlock(self, personas, book, as_user):
        client = as_user(personas.leader1)
        client.post(action(book.sales1, "lock"))
        assert fresh(book.sales1).locked
        client.post(action(book.sales1, "unlock"))
        assert not fresh(book.sales1).locked
        response = client.post(
            action(book.sales1, "assign"),
            {"to_user": personas.sales1b.pk, "keep_as_member": "on", "reason": "调整区域"},
            follow=True,
        )
        assert "Assigned." in flash(response)
        assert fresh(book.sales1).owner == personas.sales1b
        share = RecordShare.objects.get(object_id=book.sales1.pk, user=personas.sales1)
        assert share.access == "read"
        empty = client.post(action(book.sales1, "assign"), {}, follow=True)
        assert "Choose the new owner." in flash(empty)

    def test_team_members(self, personas, book, as_user):
        client = as_user(personas.sales1)
        client.post(
            action(book.sales1, "add_member"), {"user": personas.sales2.pk, "access": "write"}
        )
        assert as_user(personas.sales2).get(detail(book.sales1)).status_code == 200
        assert "吴涛" in text(as_user(personas.sales1).get(detail(book.sales1)))
        as_user(personas.sales1).post(
            action(book.sales1, "remove_member"), {"user": personas.sales2.pk}
        )
        assert as_user(personas.sales2).get(detail(book.sales1)).status_code == 404

    def test_schedule_a_revisit(self, personas, book, as_user):
        due = timezone.localdate() + datetime.timedelta(days=5)
        client = as_user(personas.sales1)
        client.post(
            action(book.sales1, "schedule_revisit"),
            {"due_date": due.isoformat(), "channel": "visit"},
        )
        revisit = Revisit.objects.get(customer=book.sales1)
        assert (revisit.due_date, revisit.channel, revisit.assignee) == (
            due,
            "visit",
            personas.sales1,
        )
        bad = client.post(action(book.sales1, "schedule_revisit"), {"due_date": "x"}, follow=True)
        assert "Enter a due date." in flash(bad)

    def test_an_unknown_action_is_404(self, personas, book, as_user):
        assert as_user(personas.sales1).post(action(book.sales1, "explode")).status_code == 404
        assert as_user(personas.sales1).get(action(book.sales1, "claim")).status_code == 405


class TestContacts:
    def test_create_edit_and_delete(self, personas, book, as_user):
        client = as_user(personas.sales1)
        url = f"{detail(book.sales1)}contacts/new/"
        bad = client.post(url, {"name": "刘工", "mobile": "123"})
        assert set(bad.context["form"].errors) == {"mobile"}
        created = client.post(url, {"name": "刘工", "mobile": "13933334444", "title": "技术总监"})
        assert created.status_code == 302
        contact = Contact.objects.get(name="刘工")
        assert contact.customer == book.sales1 and not contact.is_primary

        edit = f"{detail(book.sales1)}contacts/{contact.pk}/"
        assert client.get(edit).status_code == 200
        client.post(edit, {"name": "刘工", "mobile": "13933334444", "is_primary": "on"})
        contact.refresh_from_db()
        assert contact.is_primary
        assert not Contact.objects.get(pk=book.contact.pk).is_primary

        client.post(f"{edit}delete/")
        assert not Contact.objects.filter(pk=contact.pk).exists()

    def test_a_mobile_of_another_customer_is_a_duplicate(self, personas, book, as_user):
        url = f"{detail(book.sales1)}contacts/new/"
        blocked = as_user(personas.sales1).post(url, {"name": "吴", "mobile": "13811110004"})
        assert blocked.context["form"].errors["mobile"] == [
            "A customer or contact with this mobile already exists: belongs to 吴涛, 销售二组."
        ]
        services.settings_update(actor=personas.manager, duplicate_mode="warn")
        client = as_user(personas.sales1)
        warned = client.post(url, {"name": "吴", "mobile": "13811110004"})
        assert "Save again to confirm." in text(warned)
        assert 'name="confirm_duplicates" value="on"' in text(warned)
        assert not Contact.objects.filter(name="吴").exists()
        saved = client.post(
            url, {"name": "吴", "mobile": "13811110004", "confirm_duplicates": "on"}
        )
        assert saved.status_code == 302
        assert Contact.objects.filter(name="吴", customer=book.sales1).exists()

    def test_a_contact_of_another_customer_is_404_under_this_one(self, personas, book, as_user):
        other = services.contact_create(actor=personas.sales1b, customer=book.sales1b, name="赵")
        client = as_user(personas.leader1)  # may see both customers
        assert client.get(f"{detail(book.sales1)}contacts/{other.pk}/").status_code == 404
        assert client.post(f"{detail(book.sales1)}contacts/{other.pk}/delete/").status_code == 404
        assert Contact.objects.filter(pk=other.pk).exists()


class TestFollowUps:
    def test_a_follow_up_with_a_next_time_a_photo_and_a_check_in(self, personas, book, as_user):
        next_at = later_today()
        photo = SimpleUploadedFile("现场.png", TINY_PNG, content_type="image/png")
        response = as_user(personas.sales1).post(
            f"{detail(book.sales1)}follow-up/",
            {
                "kind": "visit",
                "content": "上门拜访，看了车间",
                "next_at": timezone.localtime(next_at).strftime("%Y-%m-%dT%H:%M"),
                "stage": "intention",
                "contacts": [book.contact.pk],
                "latitude": "31.230416",
                "longitude": "121.473701",
                "check_in_address": "上海市黄浦区人民大道200号",
                "files": [photo],
            },
        )
        assert response.status_code == 302, response.context["form"].errors
        follow_up = FollowUp.objects.get(customer=book.sales1)
        assert (follow_up.kind, str(follow_up.latitude), str(follow_up.longitude)) == (
            "visit",
            "31.230416",
            "121.473701",
        )
        assert follow_up.check_in_address == "上海市黄浦区人民大道200号"
        assert list(follow_up.contacts.all()) == [book.contact]
        attachment = Attachment.objects.get(
            content_type=ContentType.objects.get_for_model(FollowUp), object_id=follow_up.pk
        )
        assert (attachment.original_name, attachment.mime_type) == ("现场.png", "image/png")
        customer = fresh(book.sales1)
        assert customer.stage == "intention"
        assert customer.next_contact_at == next_at.replace(second=0, microsecond=0)
        page = text(as_user(personas.sales1).get(detail(book.sales1)))
        assert "上门拜访，看了车间" in page and "31.230416" in page

    def test_errors_are_named_on_their_fields(self, personas, book, as_user):
        earlier = timezone.localtime() - datetime.timedelta(days=1)
        response = as_user(personas.sales1).post(
            f"{detail(book.sales1)}follow-up/",
            {"kind": "phone", "content": "", "next_at": earlier.strftime("%Y-%m-%dT%H:%M")},
        )
        assert response.status_code == 200
        assert "content" in response.context["form"].errors
        response = as_user(personas.sales1).post(
            f"{detail(book.sales1)}follow-up/",
            {"kind": "phone", "content": "电话", "next_at": earlier.strftime("%Y-%m-%dT%H:%M")},
        )
        assert response.context["form"].errors["next_at"] == [
            "The next follow-up must be after this one."
        ]
        assert 'data-field="next_at"' in text(response)
        response = as_user(personas.sales1).post(
            f"{detail(book.sales1)}follow-up/",
            {"kind": "visit", "content": "拜访", "latitude": "91", "longitude": "121.5"},
        )
        assert set(response.context["form"].errors) == {"latitude"}
        photo = SimpleUploadedFile("病毒.png", b"MZ not a picture", content_type="image/png")
        response = as_user(personas.sales1).post(
            f"{detail(book.sales1)}follow-up/",
            {"kind": "phone", "content": "电话", "files": [photo]},
        )
        assert response.status_code == 200
        assert not FollowUp.objects.exists()

    def test_someone_who_may_only_see_the_customer_may_not_follow_up(self, personas, book, as_user):
        services.customer_assign(
            actor=personas.manager, customer=book.pooled, to_user=personas.sales1
        )
        from marketdesk.core import services as core_services

        core_services.record_share(
            actor=personas.sales1, record=fresh(book.pooled), user=personas.sales2, access="read"
        )
        response = as_user(personas.sales2).get(detail(book.pooled))
        assert response.status_code == 200 and 'id="md-add-follow-up"' not in text(response)

    def test_the_follow_up_list(self, personas, book, as_user):
        services.follow_up_create(
            actor=personas.sales1, customer=book.sales1, kind="phone", content="今天电话"
        )
        services.follow_up_create(
            actor=personas.sales1b,
            customer=book.sales1b,
            kind="email",
            content="上周邮件",
            at=timezone.now() - datetime.timedelta(days=7),
        )
        leader = as_user(personas.leader1)
        assert "今天电话" in text(leader.get("/crm/follow-ups/"))
        assert "上周邮件" in text(leader.get("/crm/follow-ups/"))
        today = text(leader.get("/crm/follow-ups/", {"today": "true"}))
        assert "今天电话" in today and "上周邮件" not in today
        rows = leader.get("/crm/follow-ups/", {"kind": "email"}, HTTP_HX_REQUEST="true")
        assert text(rows).strip().startswith('<div id="list-results">')
        assert "上周邮件" in text(rows) and "今天电话" not in text(rows)
        mine = text(
            as_user(personas.sales1).get("/crm/follow-ups/", {"mine": "true", "today": "true"})
        )
        assert "今天电话" in mine and "上周邮件" not in mine
        assert "今天电话" not in text(as_user(personas.sales2).get("/crm/follow-ups/"))


class TestPoolPage:
    def test_the_pool_lists_its_customers_and_claims_from_the_row(self, personas, book, as_user):
        client = as_user(personas.sales1)
        page = text(client.get("/crm/pool/"))
        assert "宁波港口贸易有限公司" in page and "上海东方机械有限公司" not in page
        response = client.post(action(book.pooled, "claim"), {"next": "/crm/pool/?level=B"})
        assert response["Location"] == "/crm/pool/?level=B"
        assert fresh(book.pooled).owner == personas.sales1
        assert "宁波港口贸易有限公司" not in text(client.get("/crm/pool/"))

    def test_an_unsafe_next_is_ignored(self, personas, book, as_user):
        response = as_user(personas.sales1).post(
            action(book.pooled, "claim"), {"next": "https://evil.example/"}
        )
        assert response["Location"] == detail(book.pooled)

    def test_search_and_filters_of_the_pool(self, personas, book, make_customer, as_user):
        make_customer(None, name="温州瓯江鞋业有限公司", level="A")
        client = as_user(personas.sales1)
        assert "温州瓯江鞋业有限公司" in text(client.get("/crm/pool/", {"level": "A"}))
        assert "宁波港口贸易有限公司" not in text(client.get("/crm/pool/", {"level": "A"}))
        assert "宁波港口贸易有限公司" in text(client.get("/crm/pool/", {"q": "宁波"}))


class TestRevisits:
    def test_listed_and_recorded(self, personas, book, as_user):
        revisit = services.revisit_schedule(
            actor=personas.sales1, customer=book.sales1, due_date=timezone.localdate()
        )
        client = as_user(personas.sales1)
        assert "上海东方机械有限公司" in text(
            client.get("/crm/revisits/", {"mine": "true", "due": "true"})
        )
        bad = client.post(f"/crm/revisits/{revisit.pk}/", {"channel": "phone"})
        assert "satisfaction" in bad.context["form"].errors
        response = client.post(
            f"/crm/revisits/{revisit.pk}/",
            {"channel": "phone", "satisfaction": "4", "opinions": "交货及时"},
        )
        assert response.status_code == 302
        revisit.refresh_from_db()
        assert (revisit.status, revisit.satisfaction) == ("done", 4)
        assert Revisit.objects.filter(customer=book.sales1, status="planned").exists()
        done = text(client.get(f"/crm/revisits/{revisit.pk}/"))
        assert "交货及时" in done and "Record revisit" not in done

    def test_the_leader_sees_the_groups_revisits_others_do_not(self, personas, book, as_user):
        services.revisit_schedule(
            actor=personas.sales1, customer=book.sales1, due_date=timezone.localdate()
        )
        assert "上海东方机械有限公司" in text(as_user(personas.leader1).get("/crm/revisits/"))
        assert "上海东方机械有限公司" not in text(as_user(personas.sales2).get("/crm/revisits/"))


class TestAnalysis:
    def test_the_page_and_its_spreadsheet(self, personas, book, as_user):
        services.follow_up_create(
            actor=personas.sales1, customer=book.sales1, kind="phone", content="电话"
        )
        client = as_user(personas.leader1)
        page = client.get("/crm/analysis/")
        assert page.status_code == 200
        assert "3 customers in your scope." in text(page)
        assert page.context["charts"]["stage"]["series"][0]["data"] == [3]
        response = client.get("/crm/analysis/", {"format": "xlsx"})
        assert response.status_code == 200
        rows = xlsx_rows(response)
        assert rows[0] == ["Dimension", "Value", "Count"]
        assert ["Stage", "Potential", 3] in rows
        assert ["Follow-ups", "王芳 · phone", 1] in rows

    def test_promotion_staff_see_the_page_but_may_not_export(self, personas, book, as_user):
        client = as_user(personas.promo)
        assert client.get("/crm/analysis/").status_code == 200
        assert client.get("/crm/analysis/", {"format": "xlsx"}).status_code == 403

    def test_a_bad_period_falls_back(self, personas, book, as_user):
        response = as_user(personas.manager).get(
            "/crm/analysis/", {"start": "x", "end": "2020-13-1"}
        )
        assert response.status_code == 200


class TestSettings:
    def test_the_rules(self, personas, pool, crm_settings, as_user):
        client = as_user(personas.manager)
        response = client.post(
            "/crm/settings/",
            {
                "duplicate_mode": "warn",
                "export_approval_rows": 500,
                "revisit_days_a": 30,
                "revisit_days_b": 60,
                "revisit_days_c": 90,
                "low_satisfaction": 9,
                "dormant_days": 180,
            },
        )
        assert response.status_code == 200
        assert "low_satisfaction" in response.context["form"].errors
        crm_settings.refresh_from_db()
        assert crm_settings.duplicate_mode == "block"
        client.post(
            "/crm/settings/",
            {
                "duplicate_mode": "warn",
                "export_approval_rows": 500,
                "revisit_days_a": 30,
                "revisit_days_b": 60,
                "revisit_days_c": 90,
                "low_satisfaction": 2,
                "dormant_days": 180,
            },
        )
        crm_settings.refresh_from_db()
        assert (crm_settings.duplicate_mode, crm_settings.export_approval_rows) == ("warn", 500)

    def test_pools(self, personas, pool, as_user):
        client = as_user(personas.manager)
        response = client.post(
            "/crm/settings/pools/new/",
            {
                "name": "华南公海",
                "provinces": "广东, 广西",
                "active": "on",
                "remind_days_before": 3,
                "reclaim_cooldown_days": 7,
                "daily_claim_cap": 5,
                "members": [personas.sales1.pk],
            },
        )
        assert response.status_code == 302, response.context["form"].errors
        south = CustomerPool.objects.get(name="华南公海")
        assert list(south.members.all()) == [personas.sales1]
        assert "华南公海" in text(client.get("/crm/settings/"))
        edit = client.post(
            f"/crm/settings/pools/{south.pk}/",
            {"name": "华东公海", "remind_days_before": 3, "reclaim_cooldown_days": 7},
        )
        assert edit.status_code == 200 and "name" in edit.context["form"].errors
        assert CustomerPool.objects.get(pk=south.pk).name == "华南公海"

    def test_limits(self, personas, pool, as_user):
        client = as_user(personas.manager)
        both = client.post(
            "/crm/settings/limits/new/",
            {"user": personas.sales1.pk, "department": personas.units["S1"].pk, "max_owned": 5},
        )
        assert "Choose a person or a department, not both." in text(both)
        client.post("/crm/settings/limits/new/", {"user": personas.sales1.pk, "max_owned": 5})
        limit = HoldingLimit.objects.get(user=personas.sales1)
        assert limit.max_owned == 5
        assert as_user(personas.leader1).post(
            f"/crm/settings/limits/{limit.pk}/delete/"
        ).status_code == (404)
        as_user(personas.manager).post(f"/crm/settings/limits/{limit.pk}/delete/")
        assert not HoldingLimit.objects.exists()


class TestWorkbench:
    def test_a_salesperson_sees_the_follow_ups_due_today(self, personas, book, as_user):
        services.follow_up_create(
            actor=personas.sales1,
            customer=book.sales1,
            kind="phone",
            content="下午回电",
            next_at=later_today(),
        )
        response = as_user(personas.sales1).get("/")
        todo = {t.key: t for t in response.context["todos"]}["crm.due_today"]
        assert (str(todo.label), todo.count) == ("Follow-ups due today", 1)
        assert todo.items == [{"label": "上海东方机械有限公司", "url": detail(book.sales1)}]
        html = text(response)
        card = html[html.find('data-todo="crm.due_today"') :]
        assert re.search(r"Follow-ups due today</div>\s*<div[^>]*>1</div>", card)
        assert listed_ids(as_user(personas.sales1).get(todo.url)) == book.ids("sales1")

    def test_nothing_due_shows_zero(self, personas, book, as_user):
        response = as_user(personas.sales1b).get("/")
        todo = {t.key: t for t in response.context["todos"]}["crm.due_today"]
        assert todo.count == 0
