"""A salesperson on a phone (375 x 812): offcanvas navigation, no sideways page scroll, a
usable employee table."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips these tests and says why
    expect = None

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PAGE_WIDTH = "document.documentElement.scrollWidth"


def test_a_salesperson_works_on_a_phone(open_page, e2e_personas, sign_in, results_dir):
    sales1 = e2e_personas.emp("sales1")
    page = open_page(**PHONE)
    sign_in(page, "sales1")
    sidebar = page.locator("#md-sidebar")
    expect(sidebar).to_be_hidden()
    assert page.evaluate(PAGE_WIDTH) <= 375 + 1
    _assert_content_starts_under_the_top_bar(page)
    page.screenshot(path=str(results_dir / "mobile-workbench.png"), full_page=True)

    page.tap("button[aria-controls='md-sidebar']")
    expect(sidebar).to_be_visible()
    expect(sidebar).to_have_class(re.compile(r"\bshow\b"))
    sidebar.locator("a[href='/org/employees/']").tap()
    expect(page.locator('main[data-view="org:employee_list"]')).to_be_visible()
    expect(sidebar).to_be_hidden()
    _assert_content_starts_under_the_top_bar(page)

    table = page.locator("#list-results table")
    expect(table).to_be_visible()
    assert page.evaluate(PAGE_WIDTH) <= 375 + 1  # a wide table scrolls inside its own box
    wrapper = page.locator("#list-results .table-responsive")
    assert wrapper.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    link = table.locator(f"a[href='/org/employees/{sales1.pk}/']")
    expect(link).to_be_in_viewport()
    link.tap()
    page.wait_for_url(f"**/org/employees/{sales1.pk}/")
    assert page.evaluate(PAGE_WIDTH) <= 375 + 1


def _assert_content_starts_under_the_top_bar(page) -> None:
    """The hidden navigation column must not leave an empty block above the page's content."""
    bar = page.locator("header.md-topbar").bounding_box()
    main = page.locator("main").bounding_box()
    assert bar is not None and main is not None
    assert main["y"] <= bar["y"] + bar["height"] + 16, (
        f"<main> starts at y={main['y']:.0f} px, the top bar ends at "
        f"{bar['y'] + bar['height']:.0f} px"
    )
