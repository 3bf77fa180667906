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
from .models import LoginAttempt, TOTPDevice

security_log = logging.getLogger("marketdesk.security")


def normalise_login(value: str) -> str:
    value = (value or "").strip()
    digits = value.replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits if digits.isdigit() else value


# Attempt reasons that do not count towards the lockout: refusals while locked (or the lock
# would never end while someone keeps trying) and a right password that still awaits its
# TOTP code (or signing in again would reset the count of wrong codes).
REASON_LOCKED = "locked"
REASON_FIRST_FACTOR = "first_factor"
NEUTRAL_REASONS = (REASON_LOCKED, REASON_FIRST_FACTOR)


def find_user(login: str):
    """The user whose username or mobile is `login` (already normalised), or None."""
    return (
        get_user_model().objects.filter(Q(username=login) | Q(mobile=login)).order_by("pk").first()
    )


def lock_key(login: str) -> str:
    """Attempts are counted per account (its username) whether it signs in by username or
    mobile; an unknown log-in name is counted as typed."""
    login = normalise_login(login)
    user = find_user(login)
    return user.username if user is not None else login


def is_locked(username: str, ip: str | None = None) -> bool:
    """Locked when the last N counted attempts for this account within the window all failed."""
    since = timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    recent = list(
        LoginAttempt.objects.filter(username=username, created_at__gte=since)
        .exclude(reason__in=NEUTRAL_REASONS)
        .order_by("-created_at", "-pk")
        .values_list("success", flat=True)[: settings.LOGIN_FAILURE_LIMIT]
    )
    return len(recent) >= settings.LOGIN_FAILURE_LIMIT and not any(recent)


def record_attempt(username: str, ip: str | None, *, success: bool, reason: str = "") -> None:
    LoginAttempt.objects.create(
        username=username[:150], ip_address=ip, success=success, reason=reason
    )
    if not success:
        security_log.warning("login failed for %r from %s (%s)", username, ip, reason)


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def is_administrator(user) -> bool:
    """Who must use a second factor when REQUIRE_ADMIN_2FA is on: superusers, staff, and
    whoever holds a permission that lets them grant themselves anything (ADMIN_PERMISSIONS,
    by default changing roles)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    wanted = getattr(settings, "ADMIN_PERMISSIONS", ("org.change_role", "org.add_role"))
    return any(user.has_perm(perm) for perm in wanted)


class UsernameOrMobileBackend(ModelBackend):
    """Authenticates by username or mobile; refuses while the log-in name is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        login = normalise_login(username)
        ip = client_ip(request)
        user = find_user(login)
        key = user.username if user is not None else login
        if is_locked(key, ip):
            record_attempt(key, ip, success=False, reason=REASON_LOCKED)
            # django.contrib.auth.authenticate() swallows this; the view asks is_locked()
            raise PermissionDenied("locked")
        if user is None:
            get_user_model()().set_password(password)  # same work as a real check: no timing oracle
            record_attempt(key, ip, success=False, reason="unknown")
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            second = has_second_factor(user)
            record_attempt(key, ip, success=True, reason=REASON_FIRST_FACTOR if second else "")
            return user
        record_attempt(key, ip, success=False, reason="password" if user.is_active else "inactive")
        return None
