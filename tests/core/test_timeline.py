"""A record's timeline (core/timeline.py): change history with personal data masked, comments
with @mentions, scheduled activities and their overdue flag, and the workbench counts."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from marketdesk.core import services
from marketdesk.core.models import Activity, Comment, Notification
from marketdesk.core.timeline import timeline_entries
from marketdesk.org import services as org_services
from marketdesk.org.models import Employee

pytestmark = pytest.mark.django_db


def in_english(client):
    """Pages in English: the header for anonymous pages, the language cookie for signed-in
    ones (a signed-in user's saved language applies unless the browser chose one)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def record(personas) -> Employee:
    return personas.emp("sales1")


@pytest.fixture
def ct() -> int:
    return ContentType.objects.get_for_model(Employee).pk


def today() -> datetime.date:
    return timezone.localdate()


def schedule(personas, record, *, due, assignee=None, summary="回访客户", actor=None):
    return services.activity_schedule(
        actor=actor or personas.manager,
        record=record,
        kind="call",
        summary=summary,
        due_date=due,
        assignee=assignee or personas.sales1,
    )


def of_kind(entries, kind):
    return [entry for entry in entries if entry.kind == kind]


class TestHistory:
    def test_the_creation_is_the_first_entry(self, personas, record):
        entries = timeline_entries(record)
        assert entries[-1].kind == "created"

    def test_a_change_shows_the_field_with_old_and_new_values(self, personas, record):
        org_services.employee_update(actor=personas.manager, employee=record, gender="F")
        with translation.override("en"):
            changed = of_kind(timeline_entries(record), "changed")
        assert changed[0].changes == [("gender", "—", "Female")]

    def test_a_change_of_personal_data_is_masked(self, personas, record):
        org_services.employee_update(
            actor=personas.manager, employee=record, address="北京市朝阳区建国路88号"
        )
        with translation.override("en"):
            changed = of_kind(timeline_entries(record), "changed")
        assert changed[0].changes == [("address", "***", "***")]
        text = repr(changed)
        assert "建国路" not in text and "世纪大道" not in text

    def test_a_change_of_a_related_record_shows_its_name(self, personas, record):
        org_services.employee_update(
            actor=personas.manager, employee=record, supervisor=personas.emp("leader2")
        )
        with translation.override("en"):
            changes = of_kind(timeline_entries(record), "changed")[0].changes
        assert ("supervisor", "李强", "周敏") in changes

    def test_newest_first(self, personas, record):
        org_services.employee_update(actor=personas.manager, employee=record, gender="F")
        services.comment_add(actor=personas.manager, record=record, body="later")
        kinds = [entry.kind for entry in timeline_entries(record)]
        assert kinds[0] == "comment"
        assert kinds[-1] == "created"

    def test_the_record_page_shows_the_masked_change(self, client_for, personas, record):
        org_services.employee_update(
            actor=personas.manager, employee=record, address="北京市朝阳区建国路88号"
        )
        page = client_for(personas.manager).get(f"/org/employees/{record.pk}/").content.decode()
        assert "***" in page
        assert "建国路88号" not in page.split('id="tab-timeline"')[1]


class TestComments:
    def test_a_comment_appears_on_the_timeline(self, personas, record):
        services.comment_add(actor=personas.manager, record=record, body="  请补充资料  ")
        comments = of_kind(timeline_entries(record), "comment")
        assert [(c.text, c.who) for c in comments] == [("请补充资料", personas.manager)]

    def test_an_empty_comment_is_refused(self, personas, record):
        with pytest.raises(ValidationError) as caught:
            services.comment_add(actor=personas.manager, record=record, body="   ")
        assert "body" in caught.value.message_dict

    def test_a_mention_by_username_notifies_that_user(self, personas, record):
        comment = services.comment_add(
            actor=personas.manager, record=record, body="@sales1 请更新地址，@leader1 知悉"
        )
        assert set(comment.mentions.all()) == {personas.sales1, personas.leader1}
        for user in (personas.sales1, personas.leader1):
            notification = Notification.objects.get(recipient=user)
            assert notification.kind == "mention"
            assert notification.url == record.get_absolute_url()
            assert "请更新地址" in notification.body
        assert not Notification.objects.filter(recipient=personas.manager).exists()

    def test_a_mention_by_chinese_name_notifies(self, personas, record):
        services.comment_add(actor=personas.manager, record=record, body="@王芳 看一下")
        assert Notification.objects.filter(recipient=personas.sales1, kind="mention").count() == 1

    def test_one_notification_per_person_however_often_mentioned(self, personas, record):
        services.comment_add(actor=personas.manager, record=record, body="@sales1 @sales1 @王芳")
        assert Notification.objects.filter(recipient=personas.sales1).count() == 1

    def test_mentioning_oneself_notifies_nobody(self, personas, record):
        services.comment_add(actor=personas.manager, record=record, body="@manager note to self")
        assert not Notification.objects.exists()

    def test_an_inactive_user_is_not_notified(self, personas, record):
        personas.sales1b.is_active = False
        personas.sales1b.save(update_fields=["is_active"])
        services.comment_add(actor=personas.manager, record=record, body="@sales1b hi")
        assert not Notification.objects.exists()

    def test_a_mention_of_someone_who_may_not_see_the_record_does_not_leak_it(
        self, personas, record
    ):
        # sales2 (another group) may not see sales1's record: no notification with its text
        comment = services.comment_add(
            actor=personas.manager, record=record, body="@sales2 身份证号见附件"
        )
        assert not Notification.objects.filter(recipient=personas.sales2).exists()
        assert not comment.mentions.exists()

    def test_a_comment_needs_sight_of_the_record(self, personas, record):
        with pytest.raises(PermissionDenied):
            services.comment_add(actor=personas.sales2, record=record, body="hello")
        assert not Comment.objects.exists()

    def test_comment_on_the_page(self, client_for, personas, record, ct):
        client = client_for(personas.sales1)
        response = client.post(
            f"/records/{ct}/{record.pk}/comments/", {"body": "@leader1 已更新", "next": "/"}
        )
        assert response.status_code == 302
        assert Comment.objects.get().author == personas.sales1
        assert Notification.objects.filter(recipient=personas.leader1, kind="mention").exists()

    def test_comment_on_a_record_out_of_sight_is_404(self, client_for, personas, record, ct):
        response = client_for(personas.sales2).post(
            f"/records/{ct}/{record.pk}/comments/", {"body": "hi"}
        )
        assert response.status_code == 404
        assert not Comment.objects.exists()


class TestActivities:
    def test_a_scheduled_activity_appears_and_notifies_the_assignee(self, personas, record):
        activity = schedule(personas, record, due=today() + datetime.timedelta(days=2))
        entries = of_kind(timeline_entries(record), "activity")
        assert [entry.activity for entry in entries] == [activity]
        notification = Notification.objects.get(recipient=personas.sales1)
        assert notification.kind == "activity"
        assert "回访客户" in notification.title

    def test_scheduling_for_oneself_sends_no_notification(self, personas, record):
        schedule(personas, record, due=today(), assignee=personas.manager)
        assert not Notification.objects.exists()

    def test_the_assignee_must_be_able_to_see_the_record(self, personas, record):
        with pytest.raises(ValidationError) as caught:
            schedule(personas, record, due=today(), assignee=personas.sales2)
        assert "assignee" in caught.value.message_dict
        assert not Activity.objects.exists()

    def test_scheduling_needs_the_right_to_change_the_record(self, personas, record):
        with pytest.raises(PermissionDenied):
            schedule(personas, record, due=today(), actor=personas.sales1)

    def test_overdue_until_done(self, personas, record):
        activity = schedule(personas, record, due=today() - datetime.timedelta(days=1))
        assert activity.is_overdue
        done = services.activity_done(actor=personas.sales1, activity=activity, result="已打电话")
        assert done.done_at is not None
        assert done.done_by == personas.sales1
        assert done.result == "已打电话"
        assert not done.is_overdue

    def test_due_today_is_not_overdue(self, personas, record):
        assert not schedule(personas, record, due=today()).is_overdue

    def test_done_twice_keeps_the_first(self, personas, record):
        activity = schedule(personas, record, due=today())
        first = services.activity_done(actor=personas.sales1, activity=activity, result="one")
        second = services.activity_done(actor=personas.manager, activity=activity, result="two")
        assert (second.done_at, second.done_by, second.result) == (
            first.done_at,
            personas.sales1,
            "one",
        )

    def test_someone_who_only_sees_the_record_may_not_mark_another_s_activity_done(
        self, personas, record
    ):
        activity = schedule(personas, record, due=today())
        with pytest.raises(PermissionDenied):
            services.activity_done(actor=personas.leader1, activity=activity)

    def test_the_timeline_shows_planned_overdue_and_done(self, client_for, personas, record):
        schedule(personas, record, due=today() + datetime.timedelta(days=3), summary="计划中")
        schedule(personas, record, due=today() - datetime.timedelta(days=3), summary="已逾期")
        done = schedule(
            personas, record, due=today() - datetime.timedelta(days=5), summary="完成了"
        )
        services.activity_done(actor=personas.sales1, activity=done)
        client = client_for(personas.manager)
        in_english(client)
        page = client.get(f"/org/employees/{record.pk}/").content.decode()
        timeline = page.split('id="tab-timeline"')[1]

        def badge(summary):
            line = timeline[timeline.index(summary) :]
            return re.search(r'badge text-bg-(\w+)">(\w+)<', line).groups()

        assert badge("计划中") == ("warning", "Planned")
        assert badge("已逾期") == ("danger", "Overdue")
        assert badge("完成了") == ("success", "Done")

    def test_schedule_on_the_page(self, client_for, personas, record, ct):
        client = client_for(personas.manager)
        url = f"/records/{ct}/{record.pk}/activities/"
        assert client.get(url).status_code == 200
        response = client.post(
            url,
            {
                "kind": "visit",
                "summary": "上门拜访",
                "due_date": today().isoformat(),
                "assignee": personas.sales1.pk,
                "next": f"/org/employees/{record.pk}/",
            },
        )
        assert response.status_code == 302
        assert Activity.objects.get().summary == "上门拜访"

    def test_schedule_page_of_a_record_out_of_sight_is_404(self, client_for, personas, record, ct):
        assert (
            client_for(personas.sales2).get(f"/records/{ct}/{record.pk}/activities/").status_code
            == 404
        )

    def test_an_assignee_who_may_not_see_is_shown_on_the_form(
        self, client_for, personas, record, ct
    ):
        client = client_for(personas.manager)
        response = client.post(
            f"/records/{ct}/{record.pk}/activities/",
            {
                "kind": "call",
                "summary": "x",
                "due_date": today().isoformat(),
                "assignee": personas.sales2.pk,
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["assignee"]
        assert not Activity.objects.exists()

    def test_mark_done_on_the_page(self, client_for, personas, record):
        activity = schedule(personas, record, due=today())
        response = client_for(personas.sales1).post(
            f"/activities/{activity.pk}/done/", {"result": "ok"}
        )
        assert response.status_code == 302
        activity.refresh_from_db()
        assert activity.done_at is not None

    def test_mark_done_of_a_record_out_of_sight_is_404(self, client_for, personas, record):
        activity = schedule(personas, record, due=today())
        assert (
            client_for(personas.sales2).post(f"/activities/{activity.pk}/done/").status_code == 404
        )
        activity.refresh_from_db()
        assert activity.done_at is None


class TestWorkbench:
    def counts(self, client) -> dict[str, int]:
        page = client.get("/").content.decode()
        return {
            key: int(count)
            for key, count in re.findall(
                r'data-todo="([\w.]+)">.*?class="md-kpi[^"]*">(\d+)<', page, re.S
            )
        }

    def test_due_today_and_overdue_counts(self, client_for, personas, record):
        schedule(personas, record, due=today())
        schedule(personas, record, due=today())
        schedule(personas, record, due=today() - datetime.timedelta(days=1))
        schedule(personas, record, due=today() + datetime.timedelta(days=1))
        done = schedule(personas, record, due=today() - datetime.timedelta(days=2))
        services.activity_done(actor=personas.sales1, activity=done)
        schedule(personas, record, due=today(), assignee=personas.leader1)  # someone else's
        counts = self.counts(client_for(personas.sales1))
        assert counts["core.activities_today"] == 2
        assert counts["core.activities_overdue"] == 1

    def test_the_workbench_lists_open_activities_with_the_overdue_badge(
        self, client_for, personas, record
    ):
        schedule(personas, record, due=today() - datetime.timedelta(days=1), summary="逾期电话")
        client = client_for(personas.sales1)
        in_english(client)
        page = client.get("/").content.decode()
        assert "逾期电话" in page
        assert "Overdue" in page

    def test_nothing_due_shows_zero(self, client_for, personas):
        counts = self.counts(client_for(personas.sales2))
        assert counts["core.activities_today"] == 0
        assert counts["core.activities_overdue"] == 0
