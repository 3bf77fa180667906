"""Session idle/absolute timeouts and the administrators' second factor."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

SESSION_STARTED = "md_started"
SESSION_SEEN = "md_seen"


class SessionTimeoutMiddleware:
    """Log out after SESSION_IDLE_TIMEOUT_MINUTES idle or SESSION_ABSOLUTE_TIMEOUT_HOURS in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.get(SESSION_STARTED, now)
            seen = request.session.get(SESSION_SEEN, now)
            idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            absolute_limit = settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
            if now - seen > idle_limit or now - started > absolute_limit:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                messages.info(request, _("You were signed out after a period of inactivity."))
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.get_full_path()}")
            request.session[SESSION_STARTED] = started
            if now - seen > 30:  # avoid a session write on every request
                request.session[SESSION_SEEN] = now
        return self.get_response(request)


class TwoFactorMiddleware:
    """When REQUIRE_ADMIN_2FA is on, administrators must set up TOTP before anything else."""

    ALLOWED_PREFIXES = ("/account/", "/static/", "/i18n/", "/logout/", "/login/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            getattr(settings, "REQUIRE_ADMIN_2FA", False)
            and user is not None
            and user.is_authenticated
            and (user.is_superuser or user.is_staff)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and not request.path.startswith("/api/")
        ):
            device = getattr(user, "totp", None) if hasattr(user, "totp") else None
            if device is None or device.confirmed_at is None:
                messages.warning(request, _("Administrators must set up two-factor sign-in first."))
                return redirect("core:totp_setup")
        return self.get_response(request)
