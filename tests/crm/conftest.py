"""Fixtures of the CRM tests: pools, limits and customers are set up through the CRM services
as the product would, by the marketing manager (who manages pools) or the owner."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from marketdesk.crm import services
from marketdesk.crm.models import CrmSettings, CustomerPool

from .factories import make_customer_factory

# A fixed moment for rules that count days: Wednesday 2026-03-04 10:00 in Shanghai.
NOW = timezone.make_aware(datetime.datetime(2026, 3, 4, 10, 0))


@pytest.fixture
def english():
    """Messages are compared in English (the shared conftest restores the default after).
    Not autouse: other test modules of this folder keep the default language."""
    translation.activate("en")


@pytest.fixture
def now() -> datetime.datetime:
    return NOW


@pytest.fixture
def pool(personas) -> CustomerPool:
    """The default pool of the marketing department, with the shipped rules."""
    return services.pool_save(
        actor=personas.manager,
        name="华东公海",
        department=personas.units["MKT"],
        is_default=True,
    )


@pytest.fixture
def crm_settings(db) -> CrmSettings:
    from marketdesk.crm import selectors

    return selectors.crm_settings()


@pytest.fixture
def make_customer(personas, pool):
    """make_customer(owner, **fields) -> a customer created by `owner` (None: into the pool,
    created by the manager)."""
    return make_customer_factory()
