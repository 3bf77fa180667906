"""Shared fixtures: the personas of STYLE.md, built through services as the product would.

manager (营销部经理, scope: department and below), leader1 (销售一组 group leader, own group),
sales1 and sales1b (销售一组 salespeople, own records), sales2 (销售二组 salesperson), promo
(市场推广组), service (客服部), finance (all), management (all), admin (administrator),
outsider (生产部, no role)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from marketdesk.org import services as org_services
from marketdesk.org.models import Department, Employee, Role
from marketdesk.org.roles import sync_shipped_roles

PASSWORD = "Persona-pass-2026"


@dataclass
class Personas:
    units: dict[str, Department] = field(default_factory=dict)
    employees: dict[str, Employee] = field(default_factory=dict)

    def __getattr__(self, name: str):
        employees = self.__dict__.get("employees", {})
        if name in employees:
            return employees[name].user
        raise AttributeError(name)

    def emp(self, name: str) -> Employee:
        return self.employees[name]


PEOPLE = [
    # key, name, unit, roles, supervisor, mobile
    ("management", "刘总", "GM", ["management"], None, "13900000001"),
    ("manager", "张伟", "MKT", ["marketing_manager"], "management", "13900000002"),
    ("leader1", "李强", "S1", ["group_leader", "salesperson"], "manager", "13900000003"),
    ("sales1", "王芳", "S1", ["salesperson"], "leader1", "13900000004"),
    ("sales1b", "孙浩", "S1", ["salesperson"], "leader1", "13900000005"),
    ("leader2", "周敏", "S2", ["group_leader", "salesperson"], "manager", "13900000006"),
    ("sales2", "吴涛", "S2", ["salesperson"], "leader2", "13900000007"),
    ("promo", "赵磊", "PRO", ["promotion"], "manager", "13900000008"),
    ("service", "黄婷", "CS", ["customer_service"], "management", "13900000009"),
    ("finance", "马丽华", "FIN", ["finance"], "management", "13900000010"),
    ("admin", "管理员", "GM", ["administrator"], "management", "13900000011"),
    ("outsider", "林志远", "PRD", [], "management", "13900000012"),
]


def build_personas() -> Personas:
    sync_shipped_roles()
    user_model = get_user_model()
    root = user_model.objects.create_superuser(username="system", password=None, name="系统")
    personas = Personas()
    units = [
        ("GM", "总经办", "management", None),
        ("MKT", "营销部", "department", None),
        ("PRO", "市场推广组", "group", "MKT"),
        ("S1", "销售一组", "group", "MKT"),
        ("S2", "销售二组", "group", "MKT"),
        ("FIN", "财务部", "department", None),
        ("CS", "客服部", "department", None),
        ("PRD", "生产部", "department", None),
    ]
    for code, name, kind, parent in units:
        personas.units[code] = org_services.department_create(
            actor=root, name=name, code=code, kind=kind, parent=personas.units.get(parent)
        )
    roles = {role.code: role for role in Role.objects.all()}
    for index, (key, name, unit, role_codes, boss, mobile) in enumerate(PEOPLE):
        personas.employees[key] = org_services.employee_create(
            actor=root,
            username=key,
            name=name,
            department=personas.units[unit],
            mobile=mobile,
            password=PASSWORD,
            roles=[roles[code] for code in role_codes],
            supervisor=personas.employees.get(boss) if boss else None,
            id_number="11010519491231002X",
            address=f"上海市浦东新区世纪大道{100 + index}号",
            hire_date=datetime.date(2020, 1, 1),
        )
    for unit, head in [
        ("MKT", "manager"),
        ("S1", "leader1"),
        ("S2", "leader2"),
        ("GM", "management"),
    ]:
        org_services.department_update(
            actor=root, department=personas.units[unit], head=personas.employees[head]
        )
    return personas


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def make(user):
        client.logout()
        client.force_login(user, backend="marketdesk.core.auth.UsernameOrMobileBackend")
        return client

    return make


@pytest.fixture
def api_for():
    """api_for(user) -> a DRF APIClient authenticated as that user."""

    def make(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return make


@pytest.fixture(autouse=True)
def _reset_language():
    """A page opened in English must not leave English active for the next test."""
    yield
    from django.utils import translation

    translation.activate(settings_language())


def settings_language() -> str:
    from django.conf import settings

    return settings.LANGUAGE_CODE


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]


# Browser tests (tests/e2e and a few app folders): one Playwright and one Chromium per test
# process. Playwright's sync API runs an event loop in the thread that started it, so a second
# sync_playwright() in the same process fails; every browser test uses this session fixture.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
BROWSER_TIMEOUT_MS = 10_000  # generous for a loaded CI machine; a passing step takes under 1 s


@pytest.fixture(scope="session")
def browser():
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not found at /usr/bin/chromium: apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        pytest.skip(f"the playwright package cannot be imported ({exc}): pip install -e '.[dev]'")
    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
