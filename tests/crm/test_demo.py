"""The demo command builds the CRM data (pools, customers with contacts, follow-ups, revisits)
on an empty database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

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


def test_demo_builds_crm_data_on_an_empty_database():
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
