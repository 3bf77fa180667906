"""The opportunity board in a real browser (Playwright driving Debian's Chromium): a card dragged
to another column is saved and the totals follow; a card that may not move goes back with the
server's reason on it; on a phone the "Move to" list moves the card. Skips without Chromium."""

# ruff: noqa: F811  (the fixtures imported from test_opportunities_fixtures)
from __future__ import annotations

import os

import pytest
from django.test import Client

from marketdesk.sales.models import Opportunity
from marketdesk.sales.services import opportunities as services

from .test_opportunities_fixtures import (  # noqa: F401
    customers,
    groups,
    make_opp,
    root,
    stage,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def board_page(browser, live_server):
    """board_page(user, **context options) -> a page signed in as `user` on the board."""
    contexts = []

    def open_as(user, **options):
        client = Client()
        client.force_login(user, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        context = browser.new_context(base_url=live_server.url, locale="en-GB", **options)
        context.set_default_timeout(20_000)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                },
                {"name": "django_language", "value": "en", "url": live_server.url},
            ]
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/sales/opportunities/board/")
        page.wait_for_load_state("networkidle")
        return page

    yield open_as
    for context in contexts:
        context.close()


def column(page, group, name):
    return page.locator(f'section[data-stage="{stage(group, name).pk}"]')


def wait_for_stage(opportunity, name, tries=100):
    import time

    for _ in range(tries):
        if Opportunity.objects.get(pk=opportunity.pk).stage.name == name:
            return True
        time.sleep(0.1)
    return False


def test_dragging_a_card_moves_it_and_updates_the_totals(
    sales_personas, groups, make_opp, board_page
):
    opportunity = make_opp("sales1", amount="100000.00")
    page = board_page(sales_personas.sales1)
    card = page.locator(f"#card-{opportunity.pk}")
    target = column(page, groups["default"], "商务谈判")
    card.drag_to(target.locator("[data-dropzone]"))
    target.locator(f"#card-{opportunity.pk}").wait_for()
    assert wait_for_stage(opportunity, "商务谈判")
    page.wait_for_function(
        "el => el.textContent === '70,000.00'",
        arg=target.locator('[data-total="weighted"]').element_handle(),
    )
    assert (
        column(page, groups["default"], "初步接洽").locator('[data-total="count"]').inner_text()
        == "0"
    )


def test_a_card_that_may_not_move_goes_back_with_the_reason(
    sales_personas, groups, make_opp, board_page
):
    opportunity = make_opp("sales1")
    page = board_page(sales_personas.sales1)
    services.opportunity_win(actor=sales_personas.sales1, opportunity=opportunity)  # meanwhile
    card = page.locator(f"#card-{opportunity.pk}")
    card.drag_to(column(page, groups["default"], "方案报价").locator("[data-dropzone]"))
    card.locator(".md-card-error").filter(has_text="reopen it first").wait_for()
    assert (
        column(page, groups["default"], "初步接洽").locator(f"#card-{opportunity.pk}").count() == 1
    )
    assert Opportunity.objects.get(pk=opportunity.pk).stage.name == "初步接洽"


def test_on_a_phone_the_move_to_list_moves_the_card(sales_personas, groups, make_opp, board_page):
    opportunity = make_opp("sales1")
    page = board_page(sales_personas.sales1, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.select_option(f"#move-{opportunity.pk}", str(stage(groups["default"], "需求确认").pk))
    column(page, groups["default"], "需求确认").locator(f"#card-{opportunity.pk}").wait_for()
    assert wait_for_stage(opportunity, "需求确认")
    width = page.evaluate("document.querySelector('[data-md-board]').scrollWidth")
    assert width > 390  # the columns scroll sideways
