"""Organisation pages in the browser: list filters, masked personal data, the employee form,
the timeline, and data scope on a guessed URL."""

from __future__ import annotations

import re

import pytest

from marketdesk.org.models import Employee

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips these tests and says why
    expect = None

pytestmark = pytest.mark.browser

ROW_LINKS = "#list-results tbody a[href^='/org/employees/']"


def test_the_admin_finds_an_employee_and_reveals_the_mobile(page, e2e_personas, sign_in):
    s1 = e2e_personas.units["S1"]
    sales1 = e2e_personas.emp("sales1")
    sign_in(page, "admin")

    page.click("#md-sidebar a[href='/org/employees/']")
    expect(page.locator('main[data-view="org:employee_list"]')).to_be_visible()
    expect(page.locator(ROW_LINKS)).to_have_count(12)

    page.select_option("#id_department", str(s1.pk))  # htmx re-renders the rows
    expect(page.locator(ROW_LINKS)).to_have_count(3)  # 李强, 王芳, 孙浩
    page.fill("#id_q", "王芳")
    page.press("#id_q", "Enter")
    expect(page.locator(ROW_LINKS)).to_have_count(1)
    assert f"department={s1.pk}" in page.url  # the filters are in the address, shareable

    page.locator(ROW_LINKS, has_text="王芳").click()
    page.wait_for_url(f"**/org/employees/{sales1.pk}/")
    mobile = page.locator("#md-personal [data-field=mobile]")
    expect(mobile).to_contain_text("****")
    expect(mobile).not_to_contain_text("13900000004")
    page.click("#md-reveal")
    expect(mobile).to_have_text("13900000004")


def test_the_admin_creates_an_employee_and_comments_on_the_timeline(page, e2e_personas, sign_in):
    s2 = e2e_personas.units["S2"]
    sign_in(page, "admin")
    page.goto("/org/employees/")
    page.click("main a[href='/org/employees/new/']")
    expect(page.locator('main[data-view="org:employee_create"]')).to_be_visible()

    page.fill("#id_username", "chenjing")
    page.fill("#id_name", "陈静")
    page.fill("#id_mobile", "12345")
    page.select_option("#id_department", str(s2.pk))
    page.click("main form[method=post] button[type=submit]")
    expect(page.locator(".invalid-feedback[data-field=mobile]")).to_be_visible()
    expect(page.locator("#id_mobile")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#id_username")).to_have_value("chenjing")  # nothing typed is lost
    assert not Employee.objects.filter(user__username="chenjing").exists()

    page.fill("#id_mobile", "13900000099")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(r"/org/employees/\d+/$"))
    created = Employee.objects.get(user__username="chenjing")
    assert page.url.endswith(f"/org/employees/{created.pk}/")
    assert created.user.mobile == "13900000099"
    expect(page.locator("main h1")).to_contain_text("陈静")

    page.click("button[data-bs-target='#tab-timeline']")
    page.fill("#tab-timeline textarea[name=body]", "入职第一天：已发放工牌")
    with page.expect_navigation():
        page.click("#tab-timeline form button[type=submit]")
    page.click("button[data-bs-target='#tab-timeline']")  # the reload opens on Profile
    comment = page.locator("#tab-timeline .md-timeline-entry[data-kind=comment]")
    expect(comment).to_have_count(1)
    expect(comment).to_be_visible()
    expect(comment).to_contain_text("入职第一天：已发放工牌")


def test_a_salesperson_gets_404_on_a_colleagues_page(page, e2e_personas, sign_in):
    colleague = e2e_personas.emp("sales1b")  # same group, but a salesperson sees only self
    sign_in(page, "sales1")
    response = page.goto(f"/org/employees/{colleague.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("main .display-4")).to_have_text("404")
    expect(page.locator("main")).not_to_contain_text("孙浩")
