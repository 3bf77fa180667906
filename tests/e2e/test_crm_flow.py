"""The CRM in the browser: 王芳 (salesperson) claims a customer from the pool, records a
follow-up with the next one due later today, and finds it on her workbench under
"Follow-ups due today"; and the customer list fits a phone's width."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from marketdesk.crm import services
from marketdesk.crm.models import Customer, FollowUp

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
NAME = "宁波港口贸易有限公司"


@pytest.fixture
def pooled(e2e_personas) -> Customer:
    manager = e2e_personas.manager
    services.pool_save(
        actor=manager, name="华东公海", department=e2e_personas.units["MKT"], is_default=True
    )
    return services.customer_create(actor=manager, name=NAME, mobile="13811110005", to_pool=True)


def _later_today() -> datetime.datetime:
    """Later today in the server's time zone, as the datetime-local input takes it."""
    now = timezone.localtime()
    later = now.replace(hour=23, minute=58, second=0, microsecond=0)
    if later <= now + datetime.timedelta(minutes=1):
        pytest.skip("too close to midnight for a follow-up due later today")
    return later


def test_a_salesperson_claims_follows_up_and_sees_it_due_today(page, e2e_personas, pooled, sign_in):
    sign_in(page, "sales1")
    expect(page.locator('[data-todo="crm.due_today"] .md-kpi')).to_have_text("0")

    page.goto("/crm/pool/")
    row = page.locator("#list-results tbody tr", has_text=NAME)
    with page.expect_navigation(timeout=30_000):
        row.locator("button.md-claim").click()
    assert page.url.endswith("/crm/pool/")
    expect(page.locator("#list-results")).not_to_contain_text(NAME)
    assert Customer.objects.get(pk=pooled.pk).owner == e2e_personas.sales1

    page.goto(f"/crm/customers/{pooled.pk}/")
    expect(page.locator("#md-owner")).to_have_text("王芳")
    page.click("#md-add-follow-up")
    form = page.locator("#md-follow-up-form")
    expect(form).to_be_visible()
    next_at = _later_today()
    form.locator("select[name=kind]").select_option("phone")
    form.locator("textarea[name=content]").fill("电话沟通，客户需要报价单")
    form.locator("input[name=next_at]").fill(next_at.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation(timeout=30_000):
        page.click("#md-save-follow-up")
    page.wait_for_url(re.compile(rf"/crm/customers/{pooled.pk}/"))
    expect(page.locator("#md-next-contact")).not_to_have_text("—")
    follow_up = FollowUp.objects.get(customer=pooled)
    assert follow_up.next_at == next_at

    page.goto("/")
    card = page.locator('[data-todo="crm.due_today"]')
    expect(card).to_contain_text(re.compile("今日待跟进|Follow-ups due today"))
    expect(card.locator(".md-kpi")).to_have_text("1")
    expect(card).to_contain_text(NAME)
    card.click()
    expect(page.locator("#list-results tbody")).to_contain_text(NAME)


def test_the_customer_list_fits_a_phone(open_page, e2e_personas, pooled, sign_in):
    sales1 = e2e_personas.sales1
    for number in range(3):
        services.customer_create(
            actor=sales1,
            name=f"上海浦东新区张江高科技园区精密仪器制造第{number}分公司",
            mobile=f"1381111001{number}",
            city="上海",
        )
    page = open_page(**PHONE)
    sign_in(page, "sales1")
    page.goto("/crm/customers/")
    expect(page.locator('main[data-view="crm:customer_list"]')).to_be_visible()
    expect(page.locator("#list-results tbody tr")).to_have_count(3)
    assert page.evaluate(PAGE_WIDTH) <= 375 + 1
    wrapper = page.locator("#list-results .table-responsive")
    assert wrapper.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    page.goto("/crm/pool/")
    assert page.evaluate(PAGE_WIDTH) <= 375 + 1


def test_a_long_list_shows_its_total_after_the_rows(
    open_page, e2e_personas, pooled, sign_in, monkeypatch
):
    from marketdesk.core import listing
    from marketdesk.crm import selectors

    monkeypatch.setattr(selectors.CappedPaginator, "first_cap", 1)
    monkeypatch.setattr(listing, "PER_PAGE_CHOICES", (1, 20, 50, 100))
    for number in range(3):
        services.customer_create(
            actor=e2e_personas.sales1, name=f"苏州工业园区测试{number}有限公司", city="苏州"
        )
    page = open_page()
    sign_in(page, "sales1")
    page.goto("/crm/customers/?per_page=1")
    expect(page.locator("#list-results tbody tr")).to_have_count(1)
    # the page counted 2 rows ("more than 2"), then htmx loaded the total in place
    expect(page.locator('[hx-get*="/crm/customers/count/"]')).to_have_count(0)
    expect(page.locator("#list-results [aria-live]")).to_contain_text("3")
    page.locator("#list-results .pagination a").last.click()  # "Next", by cursor
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator("#list-results [aria-live]")).to_contain_text("3")
