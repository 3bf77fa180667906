"""Writes of kernel data: attachments, comments, activities, notifications, sharing."""

from __future__ import annotations

import datetime
import os
import re
import unicodedata
import uuid

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Activity, ApiToken, Attachment, Comment, Notification, RecordShare
from .notifications import notify
from .selectors import can_edit_record, can_see_record

ALLOWED_BY_CONTENT = {
    "application/pdf": {"pdf"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/png": {"png"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/heic": {"heic"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {"pptx"},
    "application/zip": {"zip", "ofd", "docx", "xlsx", "pptx"},
    "application/x-ole-storage": {"doc", "xls", "ppt"},
    "application/msword": {"doc"},
    "application/vnd.ms-excel": {"xls"},
}
TEXT_EXTENSIONS = {"txt", "csv"}
MSG_TYPE_NOT_ALLOWED = gettext_lazy(
    "This kind of file is not accepted: %(name)s. Accepted: PDF, images, Office documents, OFD e-invoices, ZIP, text."
)
MSG_TOO_LARGE = gettext_lazy("%(name)s is larger than %(limit)s MB.")
MSG_EMPTY = gettext_lazy("%(name)s is empty.")
MSG_NOT_ALLOWED = gettext_lazy("You may not change this record.")
MSG_NOT_VISIBLE = gettext_lazy("You may not see this record.")
MSG_ASSIGNEE_CANNOT_SEE = gettext_lazy("%(who)s may not see this record.")


MAX_NAME_LENGTH = 120


def safe_file_name(name: str) -> str:
    """Keep letters (Chinese too), digits, dot, dash, underscore; no paths, no control chars."""
    name = unicodedata.normalize("NFKC", os.path.basename(name.replace("\\", "/"))).strip()
    name = re.sub(r"[^\w.\-\u4e00-\u9fff ]+", "_", name).strip(" .") or "file"
    # shorten the stem, never the extension: the type check reads it
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if not dot or len(extension) > 10:
            return name[:MAX_NAME_LENGTH]
        name = f"{stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip(' .')}.{extension}"
    return name


def detect_type(upload: UploadedFile, extension: str) -> str:
    """The file's real type from its first bytes; the extension must agree with it."""
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        allowed = ALLOWED_BY_CONTENT.get(kind.mime, set())
        if extension in allowed:
            return "application/zip" if extension == "ofd" else kind.mime
        return ""
    if extension in TEXT_EXTENSIONS and b"\x00" not in head:
        for encoding in ("utf-8", "gb18030"):
            try:
                head.decode(encoding)
                return "text/csv" if extension == "csv" else "text/plain"
            except UnicodeDecodeError:
                continue
    return ""


@transaction.atomic
def attachment_add(
    *, actor, record: Model, upload: UploadedFile, description: str = ""
) -> Attachment:
    if not can_edit_record(actor=actor, record=record):
        raise PermissionDenied(MSG_NOT_ALLOWED)
    name = safe_file_name(upload.name or "file")
    if upload.size == 0:
        raise ValidationError({"file": MSG_EMPTY % {"name": name}})
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {"file": MSG_TOO_LARGE % {"name": name, "limit": limit // (1024 * 1024)}}
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    mime = detect_type(upload, extension)
    if not mime:
        raise ValidationError({"file": MSG_TYPE_NOT_ALLOWED % {"name": name}})
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        original_name=name,
        mime_type=mime,
        size=upload.size,
        description=description[:200],
        uploaded_by=actor,
    )
    attachment.file.save(f"{uuid.uuid4().hex}.{extension or 'bin'}", upload, save=False)
    attachment.full_clean()
    attachment.save()
    return attachment


@transaction.atomic
def attachment_delete(*, actor, attachment: Attachment) -> None:
    record = attachment.record
    if record is None or not can_edit_record(actor=actor, record=record):
        raise PermissionDenied(MSG_NOT_ALLOWED)
    stored = attachment.file.name
    attachment.delete()
    storage = attachment.file.storage
    transaction.on_commit(lambda: storage.delete(stored))


MENTION = re.compile(r"@([\w\u4e00-\u9fff.\-]{1,60})")


def _mentioned_users(body: str, record: Model) -> list:
    """Active users named by @username or @name who may see `record`: a mention never sends
    a record's text to someone outside its data scope."""
    names = set(MENTION.findall(body))
    if not names:
        return []
    user_model = get_user_model()
    candidates = list(user_model.objects.filter(is_active=True).filter(username__in=names)) + list(
        user_model.objects.filter(is_active=True, name__in=names).exclude(username__in=names)
    )
    return [user for user in candidates if can_see_record(actor=user, record=record)]


@transaction.atomic
def comment_add(*, actor, record: Model, body: str) -> Comment:
    if not can_see_record(actor=actor, record=record):
        raise PermissionDenied(MSG_NOT_VISIBLE)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    comment = Comment(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        author=actor,
        body=body,
    )
    comment.full_clean()
    comment.save()
    mentioned = [user for user in _mentioned_users(body, record) if user.pk != actor.pk]
    if mentioned:
        comment.mentions.set(mentioned)
        notify(
            recipients=mentioned,
            title=_("%(who)s mentioned you on %(what)s") % {"who": actor, "what": record},
            body=body[:500],
            url=_record_url(record),
            kind="mention",
        )
    return comment


def _record_url(record: Model) -> str:
    getter = getattr(record, "get_absolute_url", None)
    return getter() if getter else ""


@transaction.atomic
def activity_schedule(
    *,
    actor,
    record: Model,
    kind: str,
    summary: str,
    due_date: datetime.date,
    assignee,
    note: str = "",
) -> Activity:
    if not can_edit_record(actor=actor, record=record):
        raise PermissionDenied(MSG_NOT_ALLOWED)
    if not can_see_record(actor=assignee, record=record):
        raise ValidationError({"assignee": MSG_ASSIGNEE_CANNOT_SEE % {"who": assignee}})
    activity = Activity(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        kind=kind,
        summary=summary,
        note=note,
        due_date=due_date,
        assignee=assignee,
        created_by=actor,
    )
    activity.full_clean()
    activity.save()
    if assignee.pk != actor.pk:
        notify(
            recipients=[assignee],
            title=_("New activity for you: %(summary)s") % {"summary": summary},
            body=_("Due %(date)s, on %(what)s") % {"date": due_date.isoformat(), "what": record},
            url=_record_url(record),
            kind="activity",
        )
    return activity


@transaction.atomic
def activity_done(*, actor, activity: Activity, result: str = "") -> Activity:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.assignee_id != actor.pk and not can_edit_record(
        actor=actor, record=activity.record
    ):
        raise PermissionDenied(MSG_NOT_ALLOWED)
    if activity.done_at is None:
        activity.done_at = timezone.now()
        activity.done_by = actor
        activity.result = result
        activity.save(update_fields=["done_at", "done_by", "result"])
    return activity


def notification_mark_read(*, actor, notification_ids: list[int] | None = None) -> int:
    queryset = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())


@transaction.atomic
def record_share(*, actor, record: Model, user, access: str) -> RecordShare:
    if not can_edit_record(actor=actor, record=record):
        raise PermissionDenied(MSG_NOT_ALLOWED)
    share, _created = RecordShare.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        user=user,
        defaults={"access": access},
    )
    return share


@transaction.atomic
def record_unshare(*, actor, record: Model, user) -> None:
    if not can_edit_record(actor=actor, record=record):
        raise PermissionDenied(MSG_NOT_ALLOWED)
    RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk, user=user
    ).delete()


def api_token_create(
    *, actor, name: str, expires_at: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    from .api_auth import hash_token, new_token_value

    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the tool that will use it.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    raw = new_token_value()
    token = ApiToken.objects.create(
        user=actor, name=name[:80], prefix=raw[:10], key_hash=hash_token(raw), expires_at=expires_at
    )
    return token, raw


def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk:
        raise PermissionDenied(MSG_NOT_ALLOWED)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
