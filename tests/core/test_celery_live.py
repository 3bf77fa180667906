"""Background work through a real Celery worker on Redis (skipped unless CELERY_LIVE=1).

With REDIS_URL set, settings turn CELERY_TASK_ALWAYS_EAGER off, so tasks go to Redis and a
separate worker process runs them against the database in DATABASE_URL. The worker cannot see
pytest-django's test database, so these tests use the DATABASE_URL database itself (migrated
here) without pytest-django's db fixtures, commit their own rows and delete them afterwards.
Give them a throw-away database, and run them on their own:

    createdb -h 127.0.0.1 -U postgres md_live
    export TESTING=1 REDIS_URL=redis://127.0.0.1:6379/15 \\
           DATABASE_URL=postgres://postgres@127.0.0.1:5432/md_live CELERY_LIVE=1
    .venv/bin/marketdesk migrate --noinput -v0
    .venv/bin/celery -A marketdesk worker --pool=solo -l warning &
    .venv/bin/python -m pytest -q -m celery_live tests/core/test_celery_live.py
    kill %1
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dj_database_url
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction

from marketdesk.core.models import DeliveryLog, Notification, RobotKind, RobotWebhook
from marketdesk.core.notifications import notify
from marketdesk.core.tasks import deliver_notification, ping

pytestmark = [
    pytest.mark.celery_live,
    pytest.mark.skipif(
        os.environ.get("CELERY_LIVE") != "1",
        reason=(
            "needs Redis and a running Celery worker: set CELERY_LIVE=1, REDIS_URL and "
            "DATABASE_URL, start `celery -A marketdesk worker` (see this module's docstring)"
        ),
    ),
]

TIMEOUT = 20


@pytest.fixture(scope="module")
def live_db(django_db_blocker):
    """The very database the worker uses (DATABASE_URL), migrated; not a test copy."""
    if not os.environ.get("REDIS_URL") or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("REDIS_URL must be set: without it tasks run in-process, not on the worker")
    if not os.environ.get("DATABASE_URL"):
        pytest.fail("DATABASE_URL must name a throw-away database shared with the worker")
    wanted = dj_database_url.parse(os.environ["DATABASE_URL"])["NAME"]
    if str(connection.settings_dict["NAME"]) != str(wanted):
        pytest.fail(
            "another test module switched to a test database; run the live tests on their "
            "own: pytest -m celery_live tests/core/test_celery_live.py"
        )
    with django_db_blocker.unblock():
        call_command("migrate", verbosity=0, interactive=False)
        yield
        connection.close()


@pytest.fixture
def live_user(live_db):
    """A user with an email address, committed so the worker sees it; removed afterwards."""
    tag = uuid.uuid4().hex[:10]
    user = get_user_model().objects.create_user(
        username=f"celery-live-{tag}", password=None, email=f"live-{tag}@example.cn"
    )
    yield user
    DeliveryLog.objects.filter(notification__recipient=user).delete()
    Notification.objects.filter(recipient=user).delete()
    user.delete()


def wait_for(check, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    return check()


def test_the_worker_answers_a_ping(live_db):
    assert ping.delay(41).get(timeout=TIMEOUT) == 42


def test_a_delivery_task_round_trips(live_user):
    with transaction.atomic():
        row = Notification.objects.create(recipient=live_user, title="live round trip")
    result = deliver_notification.delay(row.pk, robots=False)
    assert result.get(timeout=TIMEOUT) == 1  # one email, sent by the worker
    row.refresh_from_db()
    assert row.emailed_at is not None
    assert DeliveryLog.objects.get(notification=row, channel="email").ok


def test_notify_hands_delivery_to_the_worker_after_commit(live_user):
    with transaction.atomic():
        [row] = notify(recipients=[live_user], title="live notify", kind="live-test")
        time.sleep(1)
        # not committed yet: nothing was sent to the worker
        assert not DeliveryLog.objects.filter(notification_id=row.pk).exists()
    assert wait_for(
        lambda: Notification.objects.filter(pk=row.pk, emailed_at__isnull=False).exists()
    ), "the worker did not deliver the notification in time (is a worker running?)"


class _Robot(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Robot.received.append(json.loads(body.decode("utf-8")))
        answer = b'{"errcode":0,"errmsg":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_the_worker_posts_to_a_group_robot(live_user):
    if RobotWebhook.objects.filter(active=True).exists():
        pytest.skip("this database has robots of its own; the test would post to them")
    _Robot.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    robot = RobotWebhook.objects.create(
        name=f"live robot {live_user.username}",
        kind=RobotKind.WECOM,
        url=f"http://127.0.0.1:{server.server_address[1]}/send",
        kinds="live-test",
    )
    try:
        notify(recipients=[live_user], title="机器人", body="来自 worker", kind="live-test")
        assert wait_for(lambda: _Robot.received), "the worker did not post to the robot"
        assert _Robot.received[0] == {"msgtype": "text", "text": {"content": "机器人\n来自 worker"}}
        assert wait_for(lambda: DeliveryLog.objects.filter(channel="wecom", ok=True).exists())
    finally:
        DeliveryLog.objects.filter(target=robot.name).delete()
        robot.delete()
        server.shutdown()
        server.server_close()
