"""The demo command builds the approval flows and requests on an empty database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from marketdesk.approvals.models import ApprovalFlow, ApprovalRequest, GeneralRequest, RequestStatus

pytestmark = pytest.mark.django_db


def test_demo_builds_flows_and_requests_on_an_empty_database():
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "demo: approvals: 2 flows, 5 general requests" in out.getvalue()
    # the approval demo's own two flows of the general request (other apps add theirs)
    assert ApprovalFlow.objects.filter(doc_type="approvals.general").count() == 2
    assert GeneralRequest.objects.count() == 5
    statuses = set(ApprovalRequest.objects.values_list("status", flat=True))
    assert {RequestStatus.IN_PROGRESS, RequestStatus.APPROVED, RequestStatus.RETURNED} <= statuses
