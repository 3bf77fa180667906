"""Session idle/absolute timeouts and the administrators' second factor."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.messages.storage import default_storage
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .auth import has_second_factor, is_administrator

SESSION_STARTED = "md_started"
SESSION_SEEN = "md_seen"
SEEN_WRITE_EVERY = 30  # seconds; avoids a session write on every request


def _redirect_with_message(request, to: str, level: int, text: str):
    """These middlewares run before MessageMiddleware (they must see the user first), so
    request._messages does not exist yet: store the message on the response ourselves."""
    response = redirect(to)
    storage = default_storage(request)
    storage.add(level, text)
    storage.update(response)
    return response


class SessionTimeoutMiddleware:
    """Log out after SESSION_IDLE_TIMEOUT_MINUTES idle or SESSION_ABSOLUTE_TIMEOUT_HOURS in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.get(SESSION_STARTED)
            seen = request.session.get(SESSION_SEEN)
            idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            absolute_limit = settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
            if (seen is not None and now - seen > idle_limit) or (
                started is not None and now - started > absolute_limit
            ):
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                login_url = reverse(settings.LOGIN_URL)
                if request.method == "GET":
                    query = QueryDict(mutable=True)
                    query["next"] = request.get_full_path()
                    login_url += "?" + query.urlencode(safe="/")
                return _redirect_with_message(
                    request,
                    login_url,
                    messages.INFO,
                    _("You were signed out after a period of inactivity."),
                )
            if started is None:
                request.session[SESSION_STARTED] = now
            if seen is None or now - seen > SEEN_WRITE_EVERY:
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
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and not request.path.startswith("/api/")
            and is_administrator(user)
            and not has_second_factor(user)
        ):
            return _redirect_with_message(
                request,
                reverse("core:totp_setup"),
                messages.WARNING,
                _("Administrators must set up two-factor sign-in first."),
            )
        return self.get_response(request)
