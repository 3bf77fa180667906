"""A record's timeline: its change history, comments and scheduled activities, newest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils.translation import gettext as _

from .models import Activity, Comment
from .registry import timeline_providers


@dataclass
class TimelineEntry:
    kind: str  # "created" | "changed" | "comment" | "activity"
    at: Any
    who: Any
    text: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    activity: Activity | None = None


def _label(model: type[Model], name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _display(model: type[Model], name: str, value: Any) -> str:
    try:
        model_field = model._meta.get_field(name)
    except Exception:
        return "" if value is None else str(value)
    if value in (None, ""):
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if (
        model_field.is_relation
        and model_field.related_model is not None
        and not isinstance(value, list)
    ):
        related = model_field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


HIDDEN_FIELDS = {"updated_at", "updated_by", "path", "depth", "password", "last_login"}
MASKED_FIELDS = {"mobile", "id_number", "address"}


def history_entries(record: Model, limit: int = 50) -> list[TimelineEntry]:
    history = getattr(record, "history", None)
    if history is None:
        return []
    model = type(record)
    records = list(
        history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    entries = []
    for index, item in enumerate(records[:limit]):
        who = item.history_user
        if item.history_type == "+":
            entries.append(
                TimelineEntry("created", item.history_date, who, _("created this record"))
            )
            continue
        previous = records[index + 1] if index + 1 < len(records) else None
        if previous is None:
            continue
        delta = item.diff_against(previous)
        changes = []
        for change in delta.changes:
            if change.field in HIDDEN_FIELDS:
                continue
            if change.field in MASKED_FIELDS:
                changes.append((_label(model, change.field), "***", "***"))
                continue
            old = change.old
            new = change.new
            if isinstance(old, list) or isinstance(new, list):  # m2m: list of through rows
                old = [str(v) for v in (old or [])]
                new = [str(v) for v in (new or [])]
                changes.append((_label(model, change.field), f"{len(old)}", f"{len(new)}"))
                continue
            changes.append(
                (
                    _label(model, change.field),
                    _display(model, change.field, old),
                    _display(model, change.field, new),
                )
            )
        if changes:
            entries.append(TimelineEntry("changed", item.history_date, who, changes=changes))
    return entries


def timeline_entries(record: Model) -> list[TimelineEntry]:
    content_type = ContentType.objects.get_for_model(record)
    entries = history_entries(record)
    for comment in Comment.objects.filter(
        content_type=content_type, object_id=record.pk
    ).select_related("author")[:100]:
        entries.append(TimelineEntry("comment", comment.created_at, comment.author, comment.body))
    for activity in (
        Activity.objects.filter(content_type=content_type, object_id=record.pk)
        .select_related("assignee", "created_by")
        .order_by("-created_at")[:100]
    ):
        entries.append(
            TimelineEntry(
                "activity",
                activity.created_at,
                activity.created_by,
                activity.summary,
                activity=activity,
            )
        )
    for provider in timeline_providers():  # e.g. approval steps, from apps above the kernel
        entries.extend(provider(record))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
