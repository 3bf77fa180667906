"""Shared set-up of the CRM page, API and permission tests: signed-in clients that ask for
English, a small book of customers spread over the personas' scopes, and plain helpers.

Fixtures here are imported by the test modules that use them (`from .helpers import ...`);
the other CRM fixtures (`pool`, `make_customer`, `crm_settings`) come from conftest.py."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.utils import translation
from openpyxl import load_workbook

from marketdesk.crm import services
from marketdesk.crm.models import Contact, Customer

# Who holds which CRM rights (crm/registrations.py, org/roles.py).
MAY_VIEW = ["manager", "leader1", "sales1", "sales1b", "leader2", "sales2", "promo", "service"]
MAY_VIEW += ["management", "admin"]
MAY_NOT_VIEW = ["finance", "outsider"]
MAY_CLAIM = ["manager", "leader1", "sales1", "sales1b", "leader2", "sales2"]
MAY_ASSIGN = ["manager", "leader1", "leader2"]
MAY_ANALYSE = ["manager", "leader1", "leader2", "promo", "management"]
MAY_MANAGE_SETTINGS = ["manager", "admin"]


@dataclass
class Book:
    """Customers in different scopes. Mobiles are unique so a search finds exactly one."""

    sales1: Customer  # 王芳's, group 1
    sales1b: Customer  # 孙浩's, group 1
    leader1: Customer  # 李强's, group 1
    sales2: Customer  # 吴涛's, group 2
    pooled: Customer  # in the default pool (department: marketing)
    service: Customer  # 黄婷's (customer service department): outside marketing
    contact: Contact  # on the sales1 customer

    def ids(self, *names: str) -> set[int]:
        return {getattr(self, name).pk for name in names}


@pytest.fixture
def book(personas, pool, make_customer) -> Book:
    manager = personas.manager
    sales1 = make_customer(personas.sales1, name="上海东方机械有限公司", mobile="13811110001")
    return Book(
        sales1=sales1,
        sales1b=make_customer(personas.sales1b, name="苏州园区电子有限公司", mobile="13811110002"),
        leader1=make_customer(personas.leader1, name="杭州西湖软件有限公司", mobile="13811110003"),
        sales2=make_customer(personas.sales2, name="南京长江物流有限公司", mobile="13811110004"),
        pooled=make_customer(None, name="宁波港口贸易有限公司", mobile="13811110005"),
        service=make_customer(
            personas.service, actor=manager, name="合肥科大仪器有限公司", mobile="13811110006"
        ),
        contact=services.contact_create(
            actor=personas.sales1,
            customer=sales1,
            name="陈经理",
            mobile="13922220001",
            title="采购经理",
        ),
    )


@pytest.fixture
def as_user(client_for):
    """A signed-in page client that has chosen English (the language cookie wins)."""

    def make(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def api(api_for):
    """An API client for the user that asks for English messages."""

    def make(user):
        client = api_for(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        return client

    language = translation.get_language()
    yield make
    translation.activate(language)


def text(response) -> str:
    return response.content.decode()


def listed_ids(response) -> set[int]:
    """Customers linked from the rows of a list page (#list-results)."""
    html = text(response)
    start = html.find('id="list-results"')
    assert start >= 0, "no #list-results on the page"
    return {int(pk) for pk in re.findall(r'href="/crm/customers/(\d+)/"', html[start:])}


def api_ids(response) -> set[int]:
    body = response.json()
    assert response.status_code == 200, body
    return {row["id"] for row in body["results"]}


def assert_error(response, status: int, code: str, fields: set[str] | None = None) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code and body["message"]
    if fields is not None:
        assert set(body["fields"]) == fields, body
    return body


def xlsx_rows(response) -> list[list]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def flash(response) -> list[str]:
    """The messages of the page a client followed a redirect to."""
    return [str(m) for m in response.context["messages"]] if response.context else []


# The smallest valid PNG: one transparent pixel.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)
