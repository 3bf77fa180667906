"""Sign-in: username or mobile + password, with lockout after repeated failures."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone

from .masking import client_ip
from .models import LoginAttempt

security_log = logging.getLogger("marketdesk.security")


def normalise_login(value: str) -> str:
    value = (value or "").strip()
    digits = value.replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits if digits.isdigit() else value


def is_locked(username: str, ip: str | None) -> bool:
    """Locked when the last N attempts for this log-in name within the window all failed."""
    since = timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    recent = list(
        LoginAttempt.objects.filter(username=username, created_at__gte=since)
        .order_by("-created_at")
        .values_list("success", flat=True)[: settings.LOGIN_FAILURE_LIMIT]
    )
    return len(recent) >= settings.LOGIN_FAILURE_LIMIT and not any(recent)


def record_attempt(username: str, ip: str | None, *, success: bool, reason: str = "") -> None:
    LoginAttempt.objects.create(
        username=username[:150], ip_address=ip, success=success, reason=reason
    )
    if not success:
        security_log.warning("login failed for %r from %s (%s)", username, ip, reason)


class UsernameOrMobileBackend(ModelBackend):
    """Authenticates by username or mobile; refuses while the log-in name is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        login = normalise_login(username)
        ip = client_ip(request)
        if is_locked(login, ip):
            record_attempt(login, ip, success=False, reason="locked")
            raise PermissionDenied("locked")
        user_model = get_user_model()
        user = user_model.objects.filter(Q(username=login) | Q(mobile=login)).order_by("pk").first()
        if user is None:
            user_model().set_password(password)  # same work as a real check: no timing oracle
            record_attempt(login, ip, success=False, reason="unknown")
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            record_attempt(login, ip, success=True)
            return user
        record_attempt(
            login, ip, success=False, reason="password" if user.is_active else "inactive"
        )
        return None
