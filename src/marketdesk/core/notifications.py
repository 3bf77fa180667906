"""Notifications: in-app (bell), email, and group robots (企业微信 / 钉钉 / 飞书).

`notify()` writes the in-app row inside the caller's transaction and hands outside delivery
to a background task after commit, so a rolled-back action sends nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.utils import timezone, translation

from .models import DeliveryLog, Notification, RobotKind, RobotWebhook

log = logging.getLogger("marketdesk.notifications")


def notify(
    *, recipients: Iterable, title: str, body: str = "", url: str = "", kind: str = "info"
) -> list[Notification]:
    """Notify each recipient once (duplicates and inactive users are skipped)."""
    return notify_many([Message(recipients, title, body, url, kind)])


@dataclass(frozen=True)
class Message:
    """One event to notify: what `notify()` takes, for `notify_many()`."""

    recipients: Iterable
    title: str
    body: str = ""
    url: str = ""
    kind: str = "info"


def notify_many(messages: Iterable[Message]) -> list[Notification]:
    """Several events at once (one insert, one delivery after commit); each event is posted
    to the group robots once, whatever its number of recipients."""
    rows, firsts = [], []
    for message in messages:
        seen: set[int] = set()
        title = message.title[:200]
        for user in message.recipients:
            if user is None or user.pk in seen or not user.is_active:
                continue
            if not seen:
                firsts.append(len(rows))
            seen.add(user.pk)
            rows.append(
                Notification(
                    recipient=user,
                    title=title,
                    body=message.body,
                    url=message.url,
                    kind=message.kind,
                )
            )
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)  # SQLite and PostgreSQL return the ids
    _enqueue_after_commit([row.pk for row in created], [created[i].pk for i in firsts])
    return created


class _Pending:
    """The notifications of one transaction, handed to one background task after it commits
    (an order that makes two tasks queues one delivery, not two). `robots`: the first
    notification of each notify() call: one event, one post in each group chat."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.robots: list[int] = []
        self.done = False

    def add(self, ids: list[int], robots: list[int]) -> None:
        self.ids.extend(ids)
        self.robots.extend(robots)

    def flush(self) -> None:
        self.done = True
        from .tasks import deliver_notifications

        deliver_notifications.delay(self.ids, robots=self.robots)


def _enqueue_after_commit(ids: list[int], robots: list[int]) -> None:
    connection = transaction.get_connection()
    pending = getattr(connection, "_md_pending_notifications", None)
    registered = pending is not None and any(
        callback == pending.flush for _sids, callback, _robust in connection.run_on_commit
    )
    if pending is None or pending.done or not registered or not connection.in_atomic_block:
        pending = _Pending()
        pending.add(ids, robots)
        connection._md_pending_notifications = pending
        transaction.on_commit(pending.flush)  # runs at once outside a transaction
        return
    # Rows of a savepoint rolled back later are skipped at delivery (their ids are gone).
    pending.add(ids, robots)


def deliver(notification_id: int, *, robots: bool = True) -> int:
    """Send one notification by email and (with `robots`) to every active robot that takes its
    kind; returns deliveries made. Safe to repeat: what was delivered is not sent again."""
    return deliver_many([notification_id], robots=[notification_id] if robots else [])


def deliver_many(notification_ids: list[int], *, robots: list[int] = ()) -> int:
    """`deliver` for the notifications of one transaction: one query for them all, the emails
    over one mail connection, one update and one insert for their records. `robots`: the ids
    that also go to the group robots. Safe to repeat; ids rolled back since are skipped."""
    notifications = list(
        Notification.objects.select_related("recipient")
        .filter(pk__in=list(notification_ids), emailed_at__isnull=True)
        .exclude(recipient__email="")
        .order_by("pk")
    )
    emailed, logs = [], []
    sent = _email_many(notifications, emailed, logs)  # no transaction open while mailing
    if logs:
        with transaction.atomic():  # the records of all of them in one write
            if emailed:
                Notification.objects.filter(pk__in=emailed).update(emailed_at=timezone.now())
            DeliveryLog.objects.bulk_create(logs)
    if robots and RobotWebhook.objects.filter(active=True).exists():
        for notification in Notification.objects.filter(pk__in=list(robots)).order_by("pk"):
            sent += _deliver_to_robots(notification)
    return sent


def _email_many(notifications, emailed: list[int], logs: list[DeliveryLog]) -> int:
    sent = 0
    if notifications:
        mail = get_connection(fail_silently=False)
        for notification in notifications:
            recipient = notification.recipient
            with translation.override(recipient.language or settings.LANGUAGE_CODE):
                try:
                    send_mail(
                        notification.title,
                        f"{notification.body}\n\n{notification.url}".strip(),
                        settings.DEFAULT_FROM_EMAIL,
                        [recipient.email],
                        connection=mail,
                    )
                except Exception as exc:  # delivery problems are logged, never lose the row
                    logs.append(
                        DeliveryLog(
                            channel="email",
                            target=recipient.email,
                            notification=notification,
                            ok=False,
                            detail=str(exc),
                        )
                    )
                    continue
            emailed.append(notification.pk)
            logs.append(
                DeliveryLog(
                    channel="email", target=recipient.email, notification=notification, ok=True
                )
            )
            sent += 1
    return sent


def robot_text(notification: Notification) -> str:
    """What a group robot posts: "title\nbody\nurl" (empty parts left out)."""
    parts = (notification.title, notification.body, notification.url)
    return "\n".join(part for part in parts if part)


def _deliver_to_robots(notification: Notification) -> int:
    sent = 0
    text = robot_text(notification)
    for robot in RobotWebhook.objects.filter(active=True).order_by("pk"):
        if not robot.accepts(notification.kind):
            continue
        already = DeliveryLog.objects.filter(
            channel=robot.kind, target=robot.name, notification=notification, ok=True
        ).exists()
        if not already and send_to_robot(robot, text, notification=notification):
            sent += 1
    return sent


def robot_payload(kind: str, text: str) -> dict:
    if kind == RobotKind.FEISHU:
        return {"msg_type": "text", "content": {"text": text}}
    return {"msgtype": "text", "text": {"content": text}}  # WeCom and DingTalk share this shape


def _signed_url(robot: RobotWebhook) -> tuple[str, dict]:
    """DingTalk signs in the URL, Feishu in the body; WeCom needs no signature."""
    extra: dict = {}
    url = robot.url
    if robot.secret and robot.kind == RobotKind.DINGTALK:
        timestamp = str(round(time.time() * 1000))
        digest = hmac.new(
            robot.secret.encode(), f"{timestamp}\n{robot.secret}".encode(), hashlib.sha256
        ).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
    elif robot.secret and robot.kind == RobotKind.FEISHU:
        timestamp = str(int(time.time()))
        digest = hmac.new(f"{timestamp}\n{robot.secret}".encode(), b"", hashlib.sha256).digest()
        extra = {"timestamp": timestamp, "sign": base64.b64encode(digest).decode()}
    return url, extra


def _robot_accepted(body: str) -> bool:
    """WeCom and DingTalk answer {"errcode": 0}, Feishu {"code": 0} (older: {"StatusCode": 0})."""
    try:
        data = json.loads(body or "{}")
    except ValueError:
        return False
    return any(data.get(key) == 0 for key in ("errcode", "code", "StatusCode"))


def send_to_robot(
    robot: RobotWebhook, text: str, *, notification: Notification | None = None
) -> bool:
    url, extra = _signed_url(robot)
    payload = robot_payload(robot.kind, text) | extra
    request = urllib.request.Request(  # noqa: S310 (URL is an administrator's robot setting)
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = response.read(2000).decode(errors="replace")
        ok = 200 <= response.status < 300 and _robot_accepted(body)
    except Exception as exc:  # network errors are recorded, not raised
        body, ok = str(exc), False
    DeliveryLog.objects.create(
        channel=robot.kind, target=robot.name, notification=notification, ok=ok, detail=body[:2000]
    )
    return ok


def broadcast(*, kind: str, text: str) -> int:
    """Post `text` to every active robot that takes notifications of `kind`."""
    return sum(
        1
        for robot in RobotWebhook.objects.filter(active=True)
        if robot.accepts(kind) and send_to_robot(robot, text)
    )
