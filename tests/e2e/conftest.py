"""Browser tests: Playwright (sync API) driving Debian's /usr/bin/chromium against live_server.

Every e2e test skips, with the reason, when that chromium or the playwright package is
missing. Pages are opened through `open_page`, which saves a screenshot of each page under
test-results/ when the test fails."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, Personas, build_personas

# Playwright's sync API keeps an event loop running in the test thread, and Django refuses
# ORM calls from a thread with a running loop unless told the caller is synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000  # generous for a loaded CI machine; a passing step takes well under 1 s


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_failed_key] = report.failed
    return report


_failed_key = pytest.StashKey[bool]()


@pytest.fixture
def e2e_personas(transactional_db, live_server) -> Personas:
    """The personas of tests/conftest.py, committed so the live server's thread sees them."""
    return build_personas()


@pytest.fixture
def open_page(browser, live_server, request) -> Iterator[Callable[..., object]]:
    """open_page(**context_options) -> a page in a fresh browser context (own cookies).

    Defaults: desktop viewport, a Chinese browser (Accept-Language zh-CN), base_url set to
    the live server so tests can goto("/org/employees/")."""
    contexts = []

    def make(**options):
        context = browser.new_context(
            **{"base_url": live_server.url, "locale": "zh-CN", "viewport": DESKTOP, **options}
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = request.node.stash.get(_failed_key, True)
    for number, context in enumerate(contexts):
        if failed:
            RESULTS_DIR.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
            for page_number, page in enumerate(context.pages):
                path = RESULTS_DIR / f"failed-{name}-{number}-{page_number}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as exc:  # a crashed page must not hide the real failure
                    print(f"could not save {path}: {exc}")
                else:
                    print(f"screenshot of {page.url}: {path}")
        context.close()


@pytest.fixture
def results_dir() -> Path:
    """test-results/ (gitignored): screenshots worth looking at."""
    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR


@pytest.fixture
def page(open_page):
    return open_page()


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """sign_in(page, login, password=PASSWORD): through the real sign-in form."""

    def do(page, login: str, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.fill("#id_username", login)
        page.fill("#id_password", password)
        page.locator("form:has(#id_password) button[type=submit]").click()
        page.locator('main[data-view="core:workbench"]').wait_for()

    return do
