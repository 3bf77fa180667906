"""What the kernel itself puts on the workbench: the user's own scheduled activities."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Activity
from .registry import TodoItem, register_todo_provider


def _activity_todos(actor):
    today = timezone.localdate()
    open_ = Activity.objects.filter(assignee=actor, done_at__isnull=True)
    url = reverse("core:workbench") + "#activities"
    yield TodoItem(
        "core.activities_today",
        _("Activities due today"),
        open_.filter(due_date=today).count(),
        url,
        "primary",
    )
    yield TodoItem(
        "core.activities_overdue",
        _("Overdue activities"),
        open_.filter(due_date__lt=today).count(),
        url,
        "danger",
    )


register_todo_provider(_activity_todos)
