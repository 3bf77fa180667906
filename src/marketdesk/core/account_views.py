"""Sign-in, second factor, password change and personal API tokens."""

from __future__ import annotations

import base64
import secrets
import time

import pyotp
import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import (
    authenticate,
    get_user_model,
    login,
    logout,
    update_session_auth_hash,
)
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import auth, services
from .masking import client_ip
from .models import ApiToken, TOTPDevice

PENDING_USER = "md_pending_user"
PENDING_NEXT = "md_pending_next"
PENDING_AT = "md_pending_at"
PENDING_SECONDS = 300  # the code must follow the password within five minutes


class LoginForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username or mobile"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput)


class OTPForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("6-digit code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return "/"


def _locked_message() -> str:
    return _("Too many failed attempts. Try again in %(minutes)s minutes.") % {
        "minutes": settings.LOGIN_LOCKOUT_MINUTES
    }


def verify_totp(device: TOTPDevice, code: str) -> bool:
    """Accept the current code (±1 step); a code is never accepted twice."""
    totp = pyotp.TOTP(device.secret)
    now = timezone.now()
    code = (code or "").strip()
    for offset in (-1, 0, 1):
        counter = totp.timecode(now) + offset
        if counter > device.last_counter and secrets.compare_digest(
            totp.generate_otp(counter), code
        ):
            # conditional update: of two requests racing with one code, only one wins
            won = TOTPDevice.objects.filter(pk=device.pk, last_counter__lt=counter).update(
                last_counter=counter
            )
            device.last_counter = counter
            return bool(won)
    return False


@sensitive_post_parameters("password")
def login_view(request):
    if request.user.is_authenticated:
        return redirect(_safe_next(request, request.GET.get("next")))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login_name = form.cleaned_data["username"]
        # authenticate() swallows the backend's PermissionDenied for a locked account, so
        # the lock is asked for separately to say why
        user = authenticate(request, username=login_name, password=form.cleaned_data["password"])
        if user is None:
            if auth.is_locked(auth.lock_key(login_name)):
                form.add_error(None, _locked_message())
            else:
                form.add_error(None, _("The username/mobile or password is wrong."))
        else:
            next_url = _safe_next(request, request.POST.get("next"))
            if auth.has_second_factor(user):
                request.session[PENDING_USER] = user.pk
                request.session[PENDING_NEXT] = next_url
                request.session[PENDING_AT] = time.time()
                return redirect("core:login_otp")
            login(request, user, backend="marketdesk.core.auth.UsernameOrMobileBackend")
            return redirect(next_url)
    return render(request, "core/login.html", {"form": form, "next": request.GET.get("next", "")})


def _drop_pending(request) -> None:
    for key in (PENDING_USER, PENDING_NEXT, PENDING_AT):
        request.session.pop(key, None)


def login_otp(request):
    """Second step of signing in: the TOTP code. Wrong codes count towards the lockout."""
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if not user_id or time.time() - started > PENDING_SECONDS:
        _drop_pending(request)
        return redirect("core:login")
    user = get_object_or_404(get_user_model(), pk=user_id, is_active=True)
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        _drop_pending(request)
        return redirect("core:login")
    ip = client_ip(request)
    if auth.is_locked(user.username, ip):
        _drop_pending(request)
        auth.record_attempt(user.username, ip, success=False, reason=auth.REASON_LOCKED)
        messages.error(request, _locked_message())
        return redirect("core:login")
    form = OTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if verify_totp(device, form.cleaned_data["code"]):
            next_url = request.session.get(PENDING_NEXT, "/")
            _drop_pending(request)
            auth.record_attempt(user.username, ip, success=True, reason="totp")
            login(request, user, backend="marketdesk.core.auth.UsernameOrMobileBackend")
            return redirect(next_url)
        auth.record_attempt(user.username, ip, success=False, reason="totp")
        form.add_error("code", _("The code is wrong or expired."))
    return render(request, "core/login_otp.html", {"form": form})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("core:login")


@login_required
def account(request):
    tokens = ApiToken.objects.filter(user=request.user)
    device = TOTPDevice.objects.filter(user=request.user).first()
    return render(
        request,
        "core/account.html",
        {
            "tokens": tokens,
            "device": device,
            "new_token": request.session.pop("md_new_token", None),
        },
    )


@login_required
@sensitive_post_parameters()
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was changed."))
        return redirect("core:account")
    return render(request, "core/password_change.html", {"form": form})


@login_required
def totp_setup(request):
    if auth.has_second_factor(request.user):  # never show the key of a device in use again
        messages.info(request, _("Two-factor sign-in is already on."))
        return redirect("core:account")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, defaults={"secret": pyotp.random_base32()}
    )
    if device.confirmed_at is None and request.method == "GET":
        device.secret = pyotp.random_base32()
        device.save(update_fields=["secret"])
    form = OTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if verify_totp(device, form.cleaned_data["code"]):
            device.confirmed_at = timezone.now()
            device.save(update_fields=["confirmed_at"])
            messages.success(request, _("Two-factor sign-in is on."))
            return redirect("core:account")
        form.add_error("code", _("The code is wrong or expired."))
    uri = pyotp.TOTP(device.secret).provisioning_uri(
        name=request.user.username, issuer_name="MarketDesk"
    )
    qr = base64.b64encode(segno.make(uri, error="m").svg_inline(scale=4).encode()).decode()
    return render(
        request,
        "core/totp_setup.html",
        {"form": form, "secret": device.secret, "qr": qr, "device": device},
    )


@login_required
@require_POST
def totp_disable(request):
    if settings.REQUIRE_ADMIN_2FA and auth.is_administrator(request.user):
        messages.error(request, _("Administrators must keep two-factor sign-in on."))
    else:
        TOTPDevice.objects.filter(user=request.user).delete()
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("core:account")


@login_required
@require_POST
def token_create(request):
    try:
        _token, raw = services.api_token_create(
            actor=request.user, name=request.POST.get("name", "")
        )
        request.session["md_new_token"] = raw
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("core:account")


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("core:account")
