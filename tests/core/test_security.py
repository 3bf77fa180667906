"""Sign-in and account security: log-in, lockout, session timeouts, TOTP, the administrators'
second factor, password change, personal API tokens, open redirects and `check --deploy`."""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pyotp
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from marketdesk.core.models import ApiToken, LoginAttempt, TOTPDevice
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def in_english(client):
    """Pages in English: the header for anonymous pages, the language cookie for signed-in
    ones (a signed-in user's saved language applies unless the browser chose one)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


LOGIN = "/login/"
WORKBENCH = "/"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(client):
    """Pages in English so the tests can read the messages."""
    in_english(client)
    return client


def sign_in(client, login: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": login, "password": password, **extra})


def signed_in_as(client):
    response = client.get("/api/v1/me/")
    return response.json().get("username") if response.status_code == 200 else None


class TestLogIn:
    def test_a_user_signs_in_with_the_username(self, client, personas):
        response = sign_in(client, "sales1")
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert signed_in_as(client) == "sales1"
        assert LoginAttempt.objects.filter(username="sales1", success=True).exists()

    def test_a_user_signs_in_with_the_mobile(self, client, personas):
        response = sign_in(client, "139 0000 0004")
        assert response.status_code == 302
        assert signed_in_as(client) == "sales1"

    def test_the_mobile_may_carry_the_country_code(self, client, personas):
        sign_in(client, "+8613900000004")
        assert signed_in_as(client) == "sales1"

    def test_a_wrong_password_is_refused_with_a_plain_message(self, client, personas):
        response = sign_in(client, "sales1", "not-the-password")
        assert response.status_code == 200
        assert "The username/mobile or password is wrong." in response.content.decode()
        assert signed_in_as(client) is None
        assert LoginAttempt.objects.filter(
            username="sales1", success=False, reason="password"
        ).exists()

    def test_an_unknown_user_gets_the_same_message(self, client, personas):
        response = sign_in(client, "nobody")
        assert "The username/mobile or password is wrong." in response.content.decode()

    def test_an_inactive_user_cannot_sign_in(self, client, personas):
        user = personas.sales2
        user.is_active = False
        user.save(update_fields=["is_active"])
        response = sign_in(client, "sales2")
        assert response.status_code == 200
        assert "The username/mobile or password is wrong." in response.content.decode()
        assert signed_in_as(client) is None
        assert LoginAttempt.objects.filter(username="sales2", reason="inactive").exists()

    def test_the_login_page_shows_for_anonymous_users(self, client, personas):
        assert client.get(LOGIN).status_code == 200

    def test_a_page_needs_sign_in(self, client, personas):
        response = client.get(WORKBENCH)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)

    def test_sign_out_needs_post(self, client, client_for, personas):
        client = client_for(personas.sales1)
        assert client.get("/logout/").status_code == 405
        assert client.post("/logout/").status_code == 302
        assert signed_in_as(client) is None


class TestLockout:
    LIMIT = settings.LOGIN_FAILURE_LIMIT

    def fail(self, client, login="sales1", times=None):
        for _ in range(times or self.LIMIT):
            sign_in(client, login, "wrong-password")

    def test_the_account_locks_after_the_limit_of_failures(self, client, personas):
        self.fail(client, times=self.LIMIT - 1)
        assert sign_in(client, "sales1").status_code == 302  # one short: still opens
        client.logout()
        self.fail(client)
        response = sign_in(client, "sales1")
        assert response.status_code == 200
        assert "Too many failed attempts" in response.content.decode()
        assert signed_in_as(client) is None

    def test_a_locked_account_refuses_the_right_password_and_logs_it(self, client, personas):
        self.fail(client)
        sign_in(client, "sales1")
        assert signed_in_as(client) is None
        assert LoginAttempt.objects.filter(
            username="sales1", success=False, reason="locked"
        ).exists()

    def test_the_failure_that_reaches_the_limit_says_the_account_is_locked(self, client, personas):
        self.fail(client, times=self.LIMIT - 1)
        response = sign_in(client, "sales1", "wrong-password")
        assert f"Try again in {settings.LOGIN_LOCKOUT_MINUTES} minutes" in response.content.decode()

    def test_failures_by_username_and_by_mobile_count_together(self, client, personas):
        self.fail(client, "sales1", times=self.LIMIT - 2)
        self.fail(client, "13900000004", times=2)
        sign_in(client, "13900000004")
        assert signed_in_as(client) is None
        sign_in(client, "sales1")
        assert signed_in_as(client) is None

    def test_another_user_is_not_locked(self, client, personas):
        self.fail(client)
        sign_in(client, "sales1b")
        assert signed_in_as(client) == "sales1b"

    def test_the_lock_ends_after_the_lockout_time(self, client, personas):
        self.fail(client)
        sign_in(client, "sales1")  # refused while locked
        later = timezone.now() + datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            response = sign_in(client, "sales1")
        assert response.status_code == 302
        assert signed_in_as(client) == "sales1"

    def test_trying_while_locked_does_not_extend_the_lock(self, client, personas):
        self.fail(client)
        minutes = settings.LOGIN_LOCKOUT_MINUTES
        LoginAttempt.objects.update(
            created_at=timezone.now() - datetime.timedelta(minutes=minutes - 1)
        )
        for _ in range(self.LIMIT):  # someone keeps trying while the account is locked
            sign_in(client, "sales1")
        assert signed_in_as(client) is None
        # the lock ends LOGIN_LOCKOUT_MINUTES after the last real failure
        LoginAttempt.objects.exclude(reason="locked").update(
            created_at=timezone.now() - datetime.timedelta(minutes=minutes + 1)
        )
        sign_in(client, "sales1")
        assert signed_in_as(client) == "sales1"

    def test_a_success_resets_the_count(self, client, personas):
        self.fail(client, times=self.LIMIT - 1)
        sign_in(client, "sales1")
        client.post("/logout/")
        self.fail(client, times=self.LIMIT - 1)
        sign_in(client, "sales1")
        assert signed_in_as(client) == "sales1"


class TestSessionTimeouts:
    def touch(self, client):
        return client.get(WORKBENCH)

    def set_session(self, client, **values):
        session = client.session
        for key, value in values.items():
            session[key] = value
        session.save()

    def test_the_first_request_stamps_start_and_last_seen(self, client_for, personas):
        client = client_for(personas.sales1)
        assert self.touch(client).status_code == 200
        session = client.session
        assert abs(session["md_started"] - time.time()) < 60
        assert abs(session["md_seen"] - time.time()) < 60

    def test_an_idle_session_is_signed_out(self, client_for, personas):
        client = client_for(personas.sales1)
        self.touch(client)
        self.set_session(client, md_seen=time.time() - 31 * 60)
        response = self.touch(client)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
        assert signed_in_as(client) is None

    def test_the_idle_time_out_tells_the_user_why(self, client_for, personas):
        client = client_for(personas.sales1)
        in_english(client)
        self.touch(client)
        self.set_session(client, md_seen=time.time() - 31 * 60)
        response = client.get("/notifications/?unread=1", follow=True)
        assert "You were signed out" in response.content.decode()
        assert response.redirect_chain[0][0] == f"{LOGIN}?next=/notifications/%3Funread%3D1"

    def test_a_session_used_within_the_idle_time_stays(self, client_for, personas):
        client = client_for(personas.sales1)
        self.touch(client)
        self.set_session(client, md_seen=time.time() - 29 * 60)
        assert self.touch(client).status_code == 200
        assert abs(client.session["md_seen"] - time.time()) < 60  # activity renews it

    def test_a_session_ends_after_the_absolute_time_however_active(self, client_for, personas):
        client = client_for(personas.sales1)
        self.touch(client)
        self.set_session(client, md_started=time.time() - 12 * 3600 - 60, md_seen=time.time())
        response = self.touch(client)
        assert response.status_code == 302
        assert signed_in_as(client) is None

    def test_an_idle_api_session_gets_no_data(self, client_for, personas):
        client = client_for(personas.sales1)
        self.touch(client)
        self.set_session(client, md_seen=time.time() - 31 * 60)
        response = client.get("/api/v1/notifications/")
        assert response.status_code in (401, 403)


def totp_code(secret: str, at: datetime.datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def turn_on_totp(client, user) -> TOTPDevice:
    assert client.get("/account/totp/").status_code == 200
    device = TOTPDevice.objects.get(user=user)
    response = client.post("/account/totp/", {"code": totp_code(device.secret, timezone.now())})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed_at is not None
    return device


class TestTOTP:
    def test_set_up_with_a_code_from_the_app(self, client_for, personas):
        client = client_for(personas.sales1)
        device = turn_on_totp(client, personas.sales1)
        assert len(device.secret) >= 16

    def test_a_wrong_code_does_not_turn_it_on(self, client_for, personas):
        client = client_for(personas.sales1)
        client.get("/account/totp/")
        response = client.post("/account/totp/", {"code": "000000"})
        assert response.status_code == 200
        assert TOTPDevice.objects.get(user=personas.sales1).confirmed_at is None

    def test_the_set_up_page_does_not_show_the_key_of_a_device_in_use(self, client_for, personas):
        client = client_for(personas.sales1)
        device = turn_on_totp(client, personas.sales1)
        response = client.get("/account/totp/")
        assert device.secret not in response.content.decode()
        device.refresh_from_db()
        assert device.confirmed_at is not None

    def test_sign_in_then_asks_for_the_code(self, client, personas):
        client.force_login(personas.sales1, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        device = turn_on_totp(client, personas.sales1)
        client.post("/logout/")
        response = sign_in(client, "sales1", next="/notifications/")
        assert response["Location"] == "/login/otp/"
        assert signed_in_as(client) is None  # the password alone does not sign in
        later = timezone.now() + datetime.timedelta(seconds=30)
        with mock.patch("django.utils.timezone.now", return_value=later):
            response = client.post("/login/otp/", {"code": totp_code(device.secret, later)})
        assert response.status_code == 302
        assert response["Location"] == "/notifications/"
        assert signed_in_as(client) == "sales1"

    def test_a_wrong_code_is_refused(self, client, personas):
        client.force_login(personas.sales1, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        turn_on_totp(client, personas.sales1)
        client.post("/logout/")
        sign_in(client, "sales1")
        response = client.post("/login/otp/", {"code": "123456"})
        assert response.status_code == 200
        assert "The code is wrong or expired." in response.content.decode()
        assert signed_in_as(client) is None
        assert LoginAttempt.objects.filter(username="sales1", reason="totp").exists()

    def test_a_code_cannot_be_used_twice(self, client, personas):
        client.force_login(personas.sales1, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        device = turn_on_totp(client, personas.sales1)
        client.post("/logout/")
        later = timezone.now() + datetime.timedelta(seconds=30)
        code = totp_code(device.secret, later)
        with mock.patch("django.utils.timezone.now", return_value=later):
            sign_in(client, "sales1")
            client.post("/login/otp/", {"code": code})
            assert signed_in_as(client) == "sales1"
            client.post("/logout/")
            sign_in(client, "sales1")
            response = client.post("/login/otp/", {"code": code})
        assert "The code is wrong or expired." in response.content.decode()
        assert signed_in_as(client) is None

    def test_the_code_used_to_set_up_cannot_sign_in(self, client, personas):
        client.force_login(personas.sales1, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        now = timezone.now()
        client.get("/account/totp/")
        device = TOTPDevice.objects.get(user=personas.sales1)
        code = totp_code(device.secret, now)
        with mock.patch("django.utils.timezone.now", return_value=now):
            client.post("/account/totp/", {"code": code})
            client.post("/logout/")
            sign_in(client, "sales1")
            client.post("/login/otp/", {"code": code})
        assert signed_in_as(client) is None

    def test_the_code_step_is_not_open_without_the_password(self, client, personas):
        response = client.get("/login/otp/")
        assert response.status_code == 302
        assert response["Location"] == LOGIN

    def test_guessing_codes_locks_the_account(self, client, personas):
        client.force_login(personas.sales1, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        device = turn_on_totp(client, personas.sales1)
        client.post("/logout/")
        # each round: the right password, then a few wrong codes; signing in with the password
        # again must not reset the count of wrong codes
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            sign_in(client, "sales1")
            client.post("/login/otp/", {"code": "000000"})
        later = timezone.now() + datetime.timedelta(seconds=30)
        with mock.patch("django.utils.timezone.now", return_value=later):
            sign_in(client, "sales1")
            client.post("/login/otp/", {"code": totp_code(device.secret, later)})
        assert signed_in_as(client) is None

    def test_a_user_may_turn_it_off(self, client_for, personas):
        client = client_for(personas.sales1)
        turn_on_totp(client, personas.sales1)
        assert client.post("/account/totp/disable/").status_code == 302
        assert not TOTPDevice.objects.filter(user=personas.sales1).exists()


class TestAdministratorSecondFactor:
    def test_an_administrator_without_totp_is_sent_to_set_it_up(
        self, settings, client_for, personas
    ):
        settings.REQUIRE_ADMIN_2FA = True
        client = client_for(personas.admin)
        response = client.get(WORKBENCH)
        assert response.status_code == 302
        assert response["Location"] == reverse("core:totp_setup")
        assert client.get("/org/employees/").status_code == 302
        assert client.get("/account/totp/").status_code == 200

    def test_a_superuser_without_totp_is_sent_to_set_it_up(self, settings, client_for, personas):
        settings.REQUIRE_ADMIN_2FA = True
        root = type(personas.admin).objects.get(username="system")
        response = client_for(root).get(WORKBENCH)
        assert response["Location"] == reverse("core:totp_setup")

    def test_the_redirect_explains_why(self, settings, client_for, personas):
        settings.REQUIRE_ADMIN_2FA = True
        client = client_for(personas.admin)
        in_english(client)
        response = client.get(WORKBENCH, follow=True)
        assert "Administrators must set up two-factor sign-in first." in response.content.decode()

    def test_an_administrator_with_totp_goes_on(self, settings, client_for, personas):
        client = client_for(personas.admin)
        turn_on_totp(client, personas.admin)
        settings.REQUIRE_ADMIN_2FA = True
        assert client.get(WORKBENCH).status_code == 200

    def test_an_administrator_may_not_turn_it_off(self, settings, client_for, personas):
        client = client_for(personas.admin)
        turn_on_totp(client, personas.admin)
        settings.REQUIRE_ADMIN_2FA = True
        client.post("/account/totp/disable/")
        assert TOTPDevice.objects.filter(user=personas.admin).exists()

    def test_a_salesperson_is_not_asked(self, settings, client_for, personas):
        settings.REQUIRE_ADMIN_2FA = True
        assert client_for(personas.sales1).get(WORKBENCH).status_code == 200

    def test_nobody_is_asked_when_the_setting_is_off(self, settings, client_for, personas):
        settings.REQUIRE_ADMIN_2FA = False
        assert client_for(personas.admin).get(WORKBENCH).status_code == 200


class TestPasswordChange:
    def test_a_user_changes_the_password_and_stays_signed_in(self, client_for, personas):
        client = client_for(personas.sales1)
        response = client.post(
            "/account/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "Brand-new-2026-pass",
                "new_password2": "Brand-new-2026-pass",
            },
        )
        assert response.status_code == 302
        assert signed_in_as(client) == "sales1"
        personas.sales1.refresh_from_db()
        assert personas.sales1.check_password("Brand-new-2026-pass")
        client.post("/logout/")
        sign_in(client, "sales1")
        assert signed_in_as(client) is None
        sign_in(client, "sales1", "Brand-new-2026-pass")
        assert signed_in_as(client) == "sales1"

    def test_the_old_password_is_required(self, client_for, personas):
        client = client_for(personas.sales1)
        response = client.post(
            "/account/password/",
            {
                "old_password": "wrong",
                "new_password1": "Brand-new-2026-pass",
                "new_password2": "Brand-new-2026-pass",
            },
        )
        assert response.status_code == 200
        personas.sales1.refresh_from_db()
        assert personas.sales1.check_password(PASSWORD)

    def test_a_weak_password_is_refused(self, client_for, personas):
        client = client_for(personas.sales1)
        response = client.post(
            "/account/password/",
            {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
        )
        assert response.status_code == 200
        personas.sales1.refresh_from_db()
        assert personas.sales1.check_password(PASSWORD)


def token_client(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}", HTTP_ACCEPT_LANGUAGE="en")
    return api


class TestApiTokens:
    def create(self, api_for, user, **data) -> dict:
        response = api_for(user).post(
            "/api/v1/tokens/", {"name": "BI report", **data}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    def test_the_raw_value_is_shown_once_and_only_its_hash_is_stored(self, api_for, personas):
        body = self.create(api_for, personas.sales1)
        raw = body["token"]
        assert raw.startswith("md_")
        token = ApiToken.objects.get(pk=body["id"])
        assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in {token.name, token.prefix, token.key_hash}
        listed = api_for(personas.sales1).get("/api/v1/tokens/").json()
        assert all(item["token"] is None for item in listed["results"])

    def test_a_token_authenticates_api_calls(self, api_for, personas):
        raw = self.create(api_for, personas.sales1)["token"]
        response = token_client(raw).get("/api/v1/me/")
        assert response.status_code == 200
        assert response.json()["username"] == "sales1"
        assert ApiToken.objects.get(user=personas.sales1).last_used_at is not None

    def test_a_made_up_token_gets_401(self, personas):
        response = token_client("md_made-up").get("/api/v1/me/")
        assert response.status_code == 401
        assert set(response.json()) == {"code", "message", "fields"}

    def test_a_revoked_token_gets_401(self, api_for, personas):
        body = self.create(api_for, personas.sales1)
        assert api_for(personas.sales1).delete(f"/api/v1/tokens/{body['id']}/").status_code == 204
        response = token_client(body["token"]).get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json() == {
            "code": "authentication_failed",
            "message": "Invalid or revoked token.",
            "fields": {},
        }
        assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None

    def test_an_expired_token_gets_401(self, api_for, personas):
        body = self.create(api_for, personas.sales1)
        ApiToken.objects.filter(pk=body["id"]).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
        response = token_client(body["token"]).get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"

    def test_an_expiry_in_the_past_is_refused(self, api_for, personas):
        past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
        response = api_for(personas.sales1).post(
            "/api/v1/tokens/", {"name": "old", "expires_at": past}, format="json"
        )
        assert response.status_code == 400
        assert "expires_at" in response.json()["fields"]

    def test_a_token_of_an_inactive_user_gets_401(self, api_for, personas):
        raw = self.create(api_for, personas.sales1)["token"]
        personas.sales1.is_active = False
        personas.sales1.save(update_fields=["is_active"])
        assert token_client(raw).get("/api/v1/me/").status_code == 401

    def test_a_user_cannot_revoke_another_user_s_token_through_the_api(self, api_for, personas):
        body = self.create(api_for, personas.sales1)
        response = api_for(personas.sales2).delete(f"/api/v1/tokens/{body['id']}/")
        assert response.status_code == 404
        assert ApiToken.objects.get(pk=body["id"]).revoked_at is None
        assert token_client(body["token"]).get("/api/v1/me/").status_code == 200

    def test_a_user_cannot_revoke_another_user_s_token_on_the_page(
        self, api_for, client_for, personas
    ):
        body = self.create(api_for, personas.sales1)
        response = client_for(personas.manager).post(f"/account/tokens/{body['id']}/revoke/")
        assert response.status_code == 404
        assert ApiToken.objects.get(pk=body["id"]).revoked_at is None

    def test_tokens_list_only_the_caller_s_own(self, api_for, personas):
        self.create(api_for, personas.sales1)
        assert api_for(personas.sales2).get("/api/v1/tokens/").json()["count"] == 0

    def test_the_account_page_shows_a_new_token_once(self, client_for, personas):
        client = client_for(personas.sales1)
        response = client.post("/account/tokens/", {"name": "Excel"}, follow=True)
        token = ApiToken.objects.get(user=personas.sales1)
        page = response.content.decode()
        assert f'<code id="md-new-token" class="user-select-all">{token.prefix}' in page
        assert 'id="md-new-token"' not in client.get("/account/").content.decode()

    def test_revoking_on_the_page(self, api_for, client_for, personas):
        body = self.create(api_for, personas.sales1)
        client = client_for(personas.sales1)
        assert client.post(f"/account/tokens/{body['id']}/revoke/").status_code == 302
        assert token_client(body["token"]).get("/api/v1/me/").status_code == 401

    def test_a_token_needs_a_name(self, client_for, personas):
        client_for(personas.sales1).post("/account/tokens/", {"name": "  "})
        assert not ApiToken.objects.exists()


class TestOpenRedirect:
    EVIL = [
        "https://evil.example/",
        "//evil.example/x",
        "https:/\\evil.example",
        "javascript:alert(1)",
    ]

    @pytest.mark.parametrize("target", EVIL)
    def test_next_to_another_site_is_ignored_after_sign_in(self, client, personas, target):
        response = sign_in(client, "sales1", next=target)
        assert response.status_code == 302
        assert response["Location"] == "/"

    @pytest.mark.parametrize("target", EVIL)
    def test_next_to_another_site_is_ignored_when_signed_in(self, client_for, personas, target):
        response = client_for(personas.sales1).get(LOGIN, {"next": target})
        assert response["Location"] == "/"

    def test_next_within_the_site_is_followed(self, client, personas):
        response = sign_in(client, "sales1", next="/notifications/?unread=1")
        assert response["Location"] == "/notifications/?unread=1"

    def test_the_back_link_of_a_form_does_not_leave_the_site(self, client_for, personas):
        response = client_for(personas.sales1).post(
            "/notifications/read/", {"next": "https://evil.example/"}
        )
        assert response["Location"] == "/notifications/"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "TESTING", "PYTEST", "SECURE_", "SESSION_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="marketdesk.settings",
        PYTHONPATH=str(REPO / "src"),
        MARKETDESK_ENV_FILE=str(tmp_path / "no.env"),
        MARKETDESK_DATA_DIR=str(tmp_path / "data"),
        DEBUG="false",
        SECURE_HTTPS="true",
        SECRET_KEY=secrets.token_urlsafe(64)[:60],
        ALLOWED_HOSTS="md.example.cn",
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
