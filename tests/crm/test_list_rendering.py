"""crm/list_rendering.py: the customer list's filter bar is the markup of `{{ field|bs }}`,
and its rows show what the row template showed (links, badges, owner, dates, overdue)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import RequestFactory
from django.test.html import parse_html
from django.utils import formats, timezone, translation

from marketdesk.core.templatetags.md import BADGE_COLOURS, bs
from marketdesk.crm import selectors, services
from marketdesk.crm.filters import CustomerFilter
from marketdesk.crm.list_rendering import field_html, options_html

from . import helpers
from .helpers import text

pytestmark = pytest.mark.django_db

book, as_user = helpers.book, helpers.as_user  # fixtures

LIST = "/crm/customers/"


def _filterset(user, params):
    request = RequestFactory().get(LIST, params)
    request.user = user
    owners = list(selectors.owner_choices(actor=user))
    filterset = CustomerFilter(request.GET, queryset=selectors.customer_list(user), request=request)
    choices = {
        "owner": [(owner.pk, str(owner)) for owner in owners],
        "department": filterset.filters["department"].queryset.values_list("pk", "name"),
        "tag": filterset.filters["tag"].queryset.values_list("pk", "name"),
    }
    return filterset, choices


class TestFilterBar:
    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    def test_every_field_is_the_markup_of_the_bs_filter(self, personas, book, language):
        tag = services.tag_create(actor=personas.manager, name="重点 <VIP>", color="danger")
        params = {
            "stage": "intention",
            "level": "bogus",  # an invalid choice: its error and is-invalid
            "owner": personas.sales1b.pk,
            "department": personas.units["S1"].pk,
            "tag": tag.pk,
            "province": '江苏 "南"',
            "contacted_before": "2026-01-02",
            "locked": "true",
        }
        with translation.override(language):
            for query in (params, {}):
                filterset, choices = _filterset(personas.manager, query)
                form = filterset.form
                form.is_valid()
                assert form.errors if query else not form.errors
                for bound_field in form:
                    fast = field_html(bound_field, "sm", choices.get(bound_field.name))
                    assert parse_html(str(fast)) == parse_html(str(bs(bound_field, "sm"))), (
                        bound_field.name
                    )

    def test_the_owner_and_unit_options_are_those_of_the_filter(self, personas, book):
        filterset, choices = _filterset(personas.leader1, {"owner": personas.sales1.pk})
        html = str(field_html(filterset.form["owner"], "sm", choices["owner"]))
        owners = re.findall(r'<option value="(\d+)"', html)
        assert owners == [str(user.pk) for user in filterset.filters["owner"].queryset]
        assert f'<option value="{personas.sales1.pk}" selected>' in html

    def test_options_are_escaped(self):
        assert str(options_html([(1, "<b>&</b>")])) == (
            '<option value="1">&lt;b&gt;&amp;&lt;/b&gt;</option>'
        )


class TestRows:
    def test_a_row_shows_the_customer(self, personas, book, as_user):
        tag = services.tag_create(actor=personas.manager, name="重点", color="danger")
        services.customer_tag(actor=personas.sales1, customer=book.sales1, tags=[tag])
        services.customer_set_locked(actor=personas.leader1, customer=book.sales1, locked=True)
        due = timezone.now() - datetime.timedelta(hours=2)
        services.follow_up_create(
            actor=personas.sales1,
            customer=book.sales1,
            kind="phone",
            content="约好再打",
            at=timezone.now() - datetime.timedelta(days=1),
            next_at=due,
        )
        html = text(as_user(personas.manager).get(LIST, {"scene": "all", "q": "东方机械"}))
        html = html[html.find('id="list-results"') :]
        customer = book.sales1.__class__.objects.get(pk=book.sales1.pk)
        with translation.override("en"):
            last = formats.date_format(
                timezone.localtime(customer.last_contact_at), "SHORT_DATETIME_FORMAT"
            )
            following = formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")
        short = timezone.localtime(due).strftime("%m-%d %H:%M")
        assert f'value="{customer.pk}" form="md-bulk" aria-label="Select"' in html
        assert f'<a href="/crm/customers/{customer.pk}/" class="fw-semibold">' in html
        assert 'title="Locked"' in html
        place = f" · {customer.city}" if customer.city else ""
        assert f'<div class="small text-body-secondary">{customer.number}{place} <span' in html
        assert '<span class="badge text-bg-danger">重点</span>' in html
        colour = BADGE_COLOURS[customer.stage]
        assert f'<span class="badge text-bg-{colour}">{customer.get_stage_display()}</span>' in html
        assert f'<td class="md-hide-phone">{personas.sales1}</td>' in html
        assert f'<td class="md-hide-phone small">{last}</td>' in html
        assert f'<span class="text-danger fw-semibold">{following}</span>' in html
        assert f'text-danger"><i class="bi bi-alarm"></i> {short}</div>' in html

    def test_a_pool_customer_shows_pool_and_dashes(self, personas, book, as_user):
        html = text(as_user(personas.manager).get(LIST, {"scene": "all", "q": "宁波港口"}))
        html = html[html.find('id="list-results"') :]
        assert '<td class="md-hide-phone">Pool</td>' in html
        assert '<td class="md-hide-phone small">—</td>' in html
        assert '<td class="small md-hide-phone">—</td>' in html
        assert "bi-alarm" not in html and "bi-lock-fill" not in html
