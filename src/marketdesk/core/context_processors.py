"""What every page of the shell needs: navigation for this user and the unread count."""

from __future__ import annotations

from .registry import nav_items
from .selectors import unread_notification_count


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        item for item in nav_items() if item.permission is None or user.has_perm(item.permission)
    ]
    return {"nav_items": items, "unread_count": unread_notification_count(actor=user)}
