"""The demo command builds the CRM data (pools, customers with contacts, follow-ups, revisits)
on an empty database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from marketdesk.core import demo
from marketdesk.core.models import Notification
from marketdesk.crm.models import (
    Contact,
    Customer,
    CustomerPool,
    FollowUp,
    OwnerChange,
    Revisit,
    RevisitStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_and_crm_only(monkeypatch):
    """The organisation and CRM steps only: later apps' steps have their own tests."""
    wanted = {name: step for name, step in demo._steps.items() if name in ("organisation", "crm")}
    monkeypatch.setattr(demo, "_steps", wanted)


def test_demo_builds_crm_data_on_an_empty_database(org_and_crm_only):
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "demo: crm: 96 customers, 2 pools" in out.getvalue()
    assert Customer.objects.count() == 96
    assert CustomerPool.objects.count() == 2
    assert Customer.objects.filter(owner__isnull=True).count() == 11
    assert Customer.objects.filter(locked=True).count() == 1
    assert Contact.objects.exists() and FollowUp.objects.exists()
    assert OwnerChange.objects.count() == 96
    assert Revisit.objects.filter(status=RevisitStatus.DONE).count() == 6
    assert Notification.objects.filter(title__contains="2").exists()
