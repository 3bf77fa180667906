"""Notifications (core/notifications.py): in-app rows, delivery after commit by email and to
group robots (WeCom, DingTalk, Feishu), the bell, the notifications page and the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import transaction

from marketdesk.core.models import DeliveryLog, Notification, RobotKind, RobotWebhook
from marketdesk.core.notifications import (
    broadcast,
    deliver,
    deliver_many,
    notify,
    send_to_robot,
)

pytestmark = pytest.mark.django_db


class RobotServer:
    """A stand-in for a group robot's webhook on 127.0.0.1: records each JSON body."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.answer: dict = {"errcode": 0, "errmsg": "ok"}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                server.requests.append(
                    {
                        "path": self.path,
                        "query": parse_qs(urlsplit(self.path).query),
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(raw.decode("utf-8")),
                    }
                )
                data = json.dumps(server.answer).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def robot_server(monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    server = RobotServer()
    yield server
    server.close()


def make_robot(server, kind=RobotKind.WECOM, *, name=None, path="/send", **fields):
    return RobotWebhook.objects.create(
        name=name or f"{kind} group", kind=kind, url=f"{server.url}{path}", **fields
    )


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


class TestNotify:
    def test_one_row_per_recipient(self, personas):
        rows = notify(
            recipients=[personas.sales1, personas.sales2, personas.sales1, None],
            title="预算已批准",
            body="详情见预算",
            url="/budgets/1/",
            kind="approval",
        )
        assert len(rows) == 2
        assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
            "sales1",
            "sales2",
        ]
        row = Notification.objects.get(recipient=personas.sales1)
        assert (row.title, row.body, row.url, row.kind, row.read_at) == (
            "预算已批准",
            "详情见预算",
            "/budgets/1/",
            "approval",
            None,
        )

    def test_inactive_users_are_skipped(self, personas):
        personas.sales2.is_active = False
        personas.sales2.save(update_fields=["is_active"])
        notify(recipients=[personas.sales1, personas.sales2], title="x")
        assert list(Notification.objects.values_list("recipient__username", flat=True)) == [
            "sales1"
        ]

    def test_a_long_title_is_cut_to_fit(self, personas):
        notify(recipients=[personas.sales1], title="长" * 300)
        assert len(Notification.objects.get().title) == 200

    def test_nobody_to_notify_is_fine(self, personas, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            assert notify(recipients=[], title="x") == []


class TestEmail:
    def test_email_goes_out_after_commit(self, personas, django_capture_on_commit_callbacks):
        with_email(personas.sales1, "wangfang@example.cn")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notify(recipients=[personas.sales1], title="新任务", body="请处理", url="/x/")
            assert mail.outbox == []  # nothing leaves before the transaction commits
        assert len(callbacks) == 1
        callbacks[0]()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["wangfang@example.cn"]
        assert message.subject == "新任务"
        assert "请处理" in message.body and "/x/" in message.body
        notification = Notification.objects.get()
        assert notification.emailed_at is not None
        assert DeliveryLog.objects.get(channel="email").ok

    def test_a_rolled_back_action_sends_nothing(self, personas, django_capture_on_commit_callbacks):
        with_email(personas.sales1, "wangfang@example.cn")
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            notify(recipients=[personas.sales1], title="x")
            raise RuntimeError("the action failed")
        assert mail.outbox == []
        assert not Notification.objects.exists()

    def test_no_email_address_no_email(self, personas, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            notify(recipients=[personas.sales1], title="x")
        assert mail.outbox == []
        assert Notification.objects.get().emailed_at is None

    def test_an_email_is_sent_once_however_often_delivered(self, personas):
        with_email(personas.sales1, "wangfang@example.cn")
        row = notify(recipients=[personas.sales1], title="x")[0]
        deliver(row.pk)
        deliver(row.pk)
        assert len(mail.outbox) == 1

    def test_a_failing_mail_server_is_logged_not_raised(self, personas):
        with_email(personas.sales1, "wangfang@example.cn")
        row = notify(recipients=[personas.sales1], title="x")[0]
        with mock.patch(
            "marketdesk.core.notifications.send_mail", side_effect=OSError("connection refused")
        ):
            assert deliver(row.pk) == 0
        log = DeliveryLog.objects.get(channel="email")
        assert not log.ok
        assert "connection refused" in log.detail
        assert Notification.objects.get().emailed_at is None  # tried again next time

    def test_delivering_a_deleted_notification_does_nothing(self, personas):
        assert deliver(999999) == 0


class TestOneDeliveryPerTransaction:
    """notify() calls of one transaction are delivered by one background task."""

    def test_two_calls_one_task_both_emailed(self, personas, django_capture_on_commit_callbacks):
        with_email(personas.sales1, "wangfang@example.cn")
        with_email(personas.sales2, "lina@example.cn")
        with (
            mock.patch("marketdesk.core.tasks.deliver_notifications.delay") as delay,
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            transaction.atomic(),
        ):
            [first] = notify(recipients=[personas.sales1], title="生产任务")
            second = notify(recipients=[personas.sales2, personas.leader1], title="物流任务")
        assert len(callbacks) == 1
        delay.assert_called_once_with(
            [first.pk, second[0].pk, second[1].pk], robots=[first.pk, second[0].pk]
        )
        deliver_many(*delay.call_args.args, **delay.call_args.kwargs)
        assert sorted(m.to[0] for m in mail.outbox) == ["lina@example.cn", "wangfang@example.cn"]
        assert DeliveryLog.objects.filter(channel="email", ok=True).count() == 2
        assert Notification.objects.filter(emailed_at__isnull=False).count() == 2

    def test_in_the_real_order_both_are_sent(self, personas, django_capture_on_commit_callbacks):
        with_email(personas.sales1, "wangfang@example.cn")
        with_email(personas.sales2, "lina@example.cn")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(recipients=[personas.sales1], title="a")
            notify(recipients=[personas.sales2], title="b")
        assert sorted(m.subject for m in mail.outbox) == ["a", "b"]

    def test_a_later_transaction_gets_its_own_delivery(
        self, personas, django_capture_on_commit_callbacks
    ):
        with_email(personas.sales1, "wangfang@example.cn")
        with django_capture_on_commit_callbacks(execute=True):
            notify(recipients=[personas.sales1], title="a")
        with django_capture_on_commit_callbacks(execute=True):
            notify(recipients=[personas.sales1], title="b")
        assert [m.subject for m in mail.outbox] == ["a", "b"]

    def test_a_rolled_back_savepoint_sends_only_the_rest(
        self, personas, django_capture_on_commit_callbacks
    ):
        with_email(personas.sales1, "wangfang@example.cn")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(recipients=[personas.sales1], title="kept")
            with pytest.raises(RuntimeError), transaction.atomic():
                notify(recipients=[personas.sales1], title="rolled back")
                raise RuntimeError
            notify(recipients=[personas.sales1], title="kept too")
        assert sorted(m.subject for m in mail.outbox) == ["kept", "kept too"]

    def test_first_call_in_a_rolled_back_savepoint_does_not_lose_the_rest(
        self, personas, django_capture_on_commit_callbacks
    ):
        with_email(personas.sales1, "wangfang@example.cn")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            with pytest.raises(RuntimeError), transaction.atomic():
                notify(recipients=[personas.sales1], title="rolled back")
                raise RuntimeError
            notify(recipients=[personas.sales1], title="kept")
        assert [m.subject for m in mail.outbox] == ["kept"]

    def test_failing_mail_is_logged_per_notification(self, personas):
        with_email(personas.sales1, "wangfang@example.cn")
        row = notify(recipients=[personas.sales1], title="x")[0]
        with mock.patch(
            "marketdesk.core.notifications.send_mail", side_effect=OSError("connection refused")
        ):
            assert deliver_many([row.pk]) == 0
        assert not DeliveryLog.objects.get(channel="email").ok
        assert deliver_many([row.pk]) == 1  # tried again next time
        assert deliver_many([row.pk, 999999]) == 0  # sent once; unknown ids skipped


class TestRobots:
    def test_wecom_gets_a_text_message(self, personas, robot_server):
        make_robot(robot_server, RobotKind.WECOM, path="/cgi-bin/webhook/send?key=abc")
        [row] = notify(recipients=[personas.sales1], title="审批通过", body="费用报销", url="/e/1/")
        assert deliver(row.pk) == 1
        [request] = robot_server.requests
        assert request["body"] == {
            "msgtype": "text",
            "text": {"content": "审批通过\n费用报销\n/e/1/"},
        }
        assert request["query"] == {"key": ["abc"]}
        assert request["content_type"].startswith("application/json")
        log = DeliveryLog.objects.get(channel="wecom")
        assert log.ok and log.notification_id == row.pk

    def test_dingtalk_gets_a_text_message_signed_in_the_url(self, personas, robot_server):
        secret = "SEC0123456789abcdef"
        make_robot(
            robot_server,
            RobotKind.DINGTALK,
            path="/robot/send?access_token=tok",
            secret=secret,
        )
        row = notify(recipients=[personas.sales1], title="t", body="b")[0]
        before = int(time.time() * 1000)
        deliver(row.pk)
        [request] = robot_server.requests
        assert request["body"] == {"msgtype": "text", "text": {"content": "t\nb"}}
        query = request["query"]
        assert query["access_token"] == ["tok"]
        timestamp = query["timestamp"][0]
        assert abs(int(timestamp) - before) < 60_000
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        assert query["sign"] == [expected]

    def test_dingtalk_without_a_secret_is_not_signed(self, personas, robot_server):
        make_robot(robot_server, RobotKind.DINGTALK)
        deliver(notify(recipients=[personas.sales1], title="t")[0].pk)
        assert "sign" not in robot_server.requests[0]["query"]

    def test_feishu_gets_its_own_shape_signed_in_the_body(self, personas, robot_server):
        robot_server.answer = {"code": 0, "msg": "success"}
        secret = "feishu-secret"
        make_robot(robot_server, RobotKind.FEISHU, secret=secret)
        deliver(notify(recipients=[personas.sales1], title="t", body="b", url="/u/")[0].pk)
        body = robot_server.requests[0]["body"]
        assert body["msg_type"] == "text"
        assert body["content"] == {"text": "t\nb\n/u/"}
        expected = base64.b64encode(
            hmac.new(f"{body['timestamp']}\n{secret}".encode(), b"", hashlib.sha256).digest()
        ).decode()
        assert body["sign"] == expected
        assert DeliveryLog.objects.get(channel="feishu").ok

    def test_only_robots_that_take_the_kind_and_are_active(self, personas, robot_server):
        make_robot(robot_server, name="approvals", path="/a", kinds="approval, mention")
        make_robot(robot_server, name="risk", path="/r", kinds="risk")
        make_robot(robot_server, name="everything", path="/all")
        make_robot(robot_server, name="off", path="/off", active=False)
        deliver(notify(recipients=[personas.sales1], title="x", kind="approval")[0].pk)
        assert sorted(r["path"] for r in robot_server.requests) == ["/a", "/all"]

    def test_one_post_per_event_not_per_recipient(
        self, personas, robot_server, django_capture_on_commit_callbacks
    ):
        make_robot(robot_server)
        with django_capture_on_commit_callbacks(execute=True):
            notify(recipients=[personas.sales1, personas.sales2, personas.leader1], title="x")
        assert len(robot_server.requests) == 1

    def test_one_post_per_notify_call_of_a_transaction(
        self, personas, robot_server, django_capture_on_commit_callbacks
    ):
        make_robot(robot_server)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(recipients=[personas.sales1, personas.sales2], title="生产任务")
            notify(recipients=[personas.sales1, personas.sales2], title="物流任务")
        texts = sorted(r["body"]["text"]["content"] for r in robot_server.requests)
        assert texts == ["物流任务", "生产任务"]

    def test_a_robot_gets_a_notification_once_however_often_delivered(self, personas, robot_server):
        make_robot(robot_server)
        row = notify(recipients=[personas.sales1], title="x")[0]
        deliver(row.pk)
        deliver(row.pk)
        assert len(robot_server.requests) == 1

    def test_notify_reaches_the_robot_after_commit(
        self, personas, robot_server, django_capture_on_commit_callbacks
    ):
        make_robot(robot_server)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notify(recipients=[personas.sales1], title="提醒")
        assert robot_server.requests == []
        for callback in callbacks:
            callback()
        assert robot_server.requests[0]["body"]["text"]["content"] == "提醒"

    def test_a_refusing_robot_is_logged_and_does_not_raise(self, personas, robot_server):
        robot_server.answer = {"errcode": 310000, "errmsg": "sign not match"}
        make_robot(robot_server, RobotKind.DINGTALK)
        row = notify(recipients=[personas.sales1], title="x")[0]
        assert deliver(row.pk) == 0
        log = DeliveryLog.objects.get()
        assert not log.ok
        assert "sign not match" in log.detail
        assert Notification.objects.filter(pk=row.pk).exists()

    def test_a_robot_answering_500_is_logged(self, personas, robot_server):
        robot_server.status = 500
        robot = make_robot(robot_server)
        assert send_to_robot(robot, "x") is False
        assert not DeliveryLog.objects.get().ok

    def test_an_unreachable_robot_is_logged_and_others_still_get_it(self, personas, robot_server):
        RobotWebhook.objects.create(
            name="gone", kind=RobotKind.WECOM, url="http://127.0.0.1:9/nothing-listens"
        )
        make_robot(robot_server, name="alive")
        row = notify(recipients=[personas.sales1], title="x")[0]
        assert deliver(row.pk) == 1
        logs = dict(DeliveryLog.objects.values_list("target", "ok"))
        assert logs == {"gone": False, "alive": True}
        assert len(robot_server.requests) == 1

    def test_a_failed_robot_is_tried_again_on_the_next_delivery(self, personas, robot_server):
        robot_server.status = 502
        make_robot(robot_server)
        row = notify(recipients=[personas.sales1], title="x")[0]
        deliver(row.pk)
        robot_server.status = 200
        deliver(row.pk)
        assert [log.ok for log in DeliveryLog.objects.order_by("pk")] == [False, True]

    def test_broadcast_posts_to_every_matching_robot(self, personas, robot_server):
        make_robot(robot_server, name="a", path="/a")
        make_robot(robot_server, name="b", path="/b", kinds="risk")
        make_robot(robot_server, name="c", path="/c", kinds="other")
        assert broadcast(kind="risk", text="风险预警") == 2
        assert sorted(r["path"] for r in robot_server.requests) == ["/a", "/b"]


class TestPages:
    def test_the_bell_partial_lists_the_latest(self, client_for, personas):
        notify(recipients=[personas.sales1], title="第一条")
        notify(recipients=[personas.sales1], title="第二条")
        notify(recipients=[personas.sales2], title="别人的")
        response = client_for(personas.sales1).get("/notifications/", {"bell": "1"})
        page = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in page
        assert page.index("第二条") < page.index("第一条")
        assert "别人的" not in page

    def test_the_unread_count_shows_on_every_page(self, client_for, personas):
        notify(recipients=[personas.sales1], title="a")
        notify(recipients=[personas.sales1], title="b")
        page = client_for(personas.sales1).get("/").content.decode()
        assert re.search(r'id="md-unread">2<', page)

    def test_the_notifications_page_and_the_unread_filter(self, client_for, personas):
        notify(recipients=[personas.sales1], title="已读的")
        Notification.objects.update(read_at="2026-01-01T00:00:00Z")
        notify(recipients=[personas.sales1], title="未读的")
        client = client_for(personas.sales1)
        page = client.get("/notifications/").content.decode()
        assert "已读的" in page and "未读的" in page
        unread = client.get("/notifications/", {"unread": "1"}).content.decode()
        assert "未读的" in unread and "已读的" not in unread

    def test_the_page_shows_only_the_user_s_own(self, client_for, personas):
        notify(recipients=[personas.sales2], title="别人的")
        assert "别人的" not in client_for(personas.sales1).get("/notifications/").content.decode()

    def test_mark_one_read(self, client_for, personas):
        first = notify(recipients=[personas.sales1], title="a")[0]
        second = notify(recipients=[personas.sales1], title="b")[0]
        response = client_for(personas.sales1).post("/notifications/read/", {"id": first.pk})
        assert response.status_code == 302
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.read_at is not None and second.read_at is None

    def test_mark_all_read(self, client_for, personas):
        notify(recipients=[personas.sales1], title="a")
        notify(recipients=[personas.sales1], title="b")
        client_for(personas.sales1).post("/notifications/read/")
        assert not Notification.objects.filter(read_at__isnull=True).exists()

    def test_one_cannot_mark_another_user_s_notification(self, client_for, personas):
        other = notify(recipients=[personas.sales2], title="a")[0]
        client_for(personas.sales1).post("/notifications/read/", {"id": other.pk})
        client_for(personas.sales1).post("/notifications/read/")
        other.refresh_from_db()
        assert other.read_at is None

    def test_the_page_needs_sign_in(self, client, personas):
        assert client.get("/notifications/").status_code == 302


class TestApi:
    def test_list_only_one_s_own_and_filter_unread(self, api_for, personas):
        notify(recipients=[personas.sales1], title="a")
        notify(recipients=[personas.sales1], title="b")
        notify(recipients=[personas.sales2], title="c")
        Notification.objects.filter(title="a").update(read_at="2026-01-01T00:00:00Z")
        api = api_for(personas.sales1)
        assert [n["title"] for n in api.get("/api/v1/notifications/").json()["results"]] == [
            "b",
            "a",
        ]
        unread = api.get("/api/v1/notifications/", {"unread": "1"}).json()["results"]
        assert [n["title"] for n in unread] == ["b"]

    def test_another_user_s_notification_is_404(self, api_for, personas):
        other = notify(recipients=[personas.sales2], title="c")[0]
        assert api_for(personas.sales1).get(f"/api/v1/notifications/{other.pk}/").status_code == 404

    def test_mark_read_by_ids(self, api_for, personas):
        first = notify(recipients=[personas.sales1], title="a")[0]
        notify(recipients=[personas.sales1], title="b")
        other = notify(recipients=[personas.sales2], title="c")[0]
        response = api_for(personas.sales1).post(
            "/api/v1/notifications/mark-read/", {"ids": [first.pk, other.pk]}, format="json"
        )
        assert response.json() == {"marked": 1}
        assert set(
            Notification.objects.filter(read_at__isnull=True).values_list("title", flat=True)
        ) == {
            "b",
            "c",
        }

    def test_mark_all_read(self, api_for, personas):
        notify(recipients=[personas.sales1], title="a")
        notify(recipients=[personas.sales1], title="b")
        response = api_for(personas.sales1).post(
            "/api/v1/notifications/mark-read/", {}, format="json"
        )
        assert response.json() == {"marked": 2}

    def test_bad_ids_are_a_400_naming_the_field(self, api_for, personas):
        response = api_for(personas.sales1).post(
            "/api/v1/notifications/mark-read/", {"ids": ["x"]}, format="json"
        )
        assert response.status_code == 400
        assert "ids" in response.json()["fields"]
