"""The shell every page shares: sign-in by mobile, language switch, bell, global search, sign-out."""

from __future__ import annotations

import pytest

from marketdesk.core.notifications import notify

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips these tests and says why
    expect = None

pytestmark = pytest.mark.browser

WORKBENCH = 'main[data-view="core:workbench"]'


def test_the_manager_signs_in_by_mobile_and_uses_the_top_bar(page, e2e_personas, sign_in):
    notify(recipients=[e2e_personas.manager], title="E2E 待审批的年度计划", url="/")
    sales1 = e2e_personas.emp("sales1")

    sign_in(page, "13900000002")  # 张伟, the marketing manager, by mobile number
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")  # a zh-CN browser gets Chinese
    expect(page.locator(f"{WORKBENCH} #md-todos")).to_be_attached()

    with page.expect_navigation():
        page.select_option("#md-language", "en")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator(f"{WORKBENCH} h1")).to_have_text("My workbench")
    expect(page.locator("#md-language")).to_have_value("en")
    with page.expect_navigation():
        page.select_option("#md-language", "zh-hans")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#md-language")).to_have_value("zh-hans")
    expect(page.locator(WORKBENCH)).to_be_visible()

    expect(page.locator("#md-unread")).to_have_text("1")
    page.click("#md-bell")
    bell = page.locator("#md-bell-menu")
    expect(bell).to_be_visible()
    expect(bell).to_contain_text("E2E 待审批的年度计划")  # loaded by htmx on first open

    page.fill("#md-search", "王芳")
    page.locator("#md-search-results a", has_text="王芳").click()
    page.wait_for_url(f"**/org/employees/{sales1.pk}/")
    expect(page.locator('main[data-view="org:employee_detail"] h1')).to_contain_text("王芳")

    page.click("#md-user-menu")
    page.click("#md-logout")
    expect(page.locator('main[data-view="core:login"]')).to_be_visible()
    page.goto("/")
    expect(page.locator('main[data-view="core:login"]')).to_be_visible()  # signed out for real


def test_every_asset_of_the_shell_loads(page, e2e_personas, sign_in):
    failures: list[str] = []
    page.on(
        "response",
        lambda response: (
            failures.append(f"{response.status} {response.url}")
            if response.status >= 400 and "/static/" in response.url
            else None
        ),
    )
    sign_in(page, "manager")
    page.goto("/org/employees/")
    page.wait_for_load_state("networkidle")
    assert failures == []
