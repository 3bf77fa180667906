"""Reads of kernel data, limited to what the asking user may see."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet
from django.http import Http404

from .models import Activity, Attachment, ImportJob, Notification
from .registry import record_type_for


def visible_record(*, actor, content_type_id: int, object_id: int) -> Model:
    """The record if `actor` may see it; 404 otherwise (unknown type, no such row, out of scope)."""
    content_type = ContentType.objects.filter(pk=content_type_id).first()
    if content_type is None:
        raise Http404
    record_type = record_type_for(f"{content_type.app_label}.{content_type.model}")
    if record_type is None:
        raise Http404
    record = record_type.visible(actor).filter(pk=object_id).first()
    if record is None:
        raise Http404
    return record


def can_see_record(*, actor, record: Model) -> bool:
    record_type = record_type_for(record._meta.label_lower)
    return bool(record_type and record_type.visible(actor).filter(pk=record.pk).exists())


def can_edit_record(*, actor, record: Model) -> bool:
    record_type = record_type_for(record._meta.label_lower)
    return bool(record_type and record_type.editable(actor, record))


def attachment_list_for(record: Model) -> QuerySet[Attachment]:
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("uploaded_by")


def attachment_get(*, actor, attachment_id: int) -> Attachment:
    """An attachment whose record `actor` may see; 404 otherwise."""
    attachment = Attachment.objects.select_related("content_type").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    visible_record(
        actor=actor, content_type_id=attachment.content_type_id, object_id=attachment.object_id
    )
    return attachment


def notification_list(*, actor, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=actor)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def unread_notification_count(*, actor) -> int:
    if not actor.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).count()


def activity_list_for_user(*, actor, open_only: bool = True) -> QuerySet[Activity]:
    queryset = Activity.objects.filter(assignee=actor).select_related("content_type")
    if open_only:
        queryset = queryset.filter(done_at__isnull=True)
    return queryset.order_by("due_date", "pk")


def import_job_list(*, actor) -> QuerySet[ImportJob]:
    queryset = (
        ImportJob.objects.all()
        if actor.is_superuser
        else ImportJob.objects.filter(created_by=actor)
    )
    return queryset.order_by("-created_at")


def import_job_get(*, actor, job_id: int) -> ImportJob:
    job = import_job_list(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job
