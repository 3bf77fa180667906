"""Helpers shared by the CRM scenarios (not a scenario: the name starts with "_")."""

from __future__ import annotations

from marketdesk.crm.models import Customer
from marketdesk.org.models import Employee, EmployeeStatus


def crm_actors(org) -> dict[str, object]:
    """The people the CRM scenarios act as: the generated org's actors, plus `member`, the
    salesperson of the leader's group who owns the most customers (the owner filter)."""
    group_id = Employee.objects.get(user=org.leader).department_id
    members = Employee.objects.filter(
        department_id=group_id, status=EmployeeStatus.ACTIVE
    ).values_list("user_id", flat=True)
    counts = {user_id: Customer.objects.filter(owner_id=user_id).count() for user_id in members}
    member_id = max(counts, key=lambda user_id: (counts[user_id], -user_id))
    from django.contrib.auth import get_user_model

    return {
        "salesperson": org.salesperson,
        "leader": org.leader,
        "region": org.region,
        "manager": org.manager,
        "management": org.management,
        "member": get_user_model().objects.get(pk=member_id),
    }


def deep_page(rows: int, per_page: int, wanted: int) -> int:
    """Page `wanted`, or the last page when there are fewer rows."""
    return max(1, min(wanted, -(-rows // per_page)))


def login(client, user):
    client.force_login(user, backend="marketdesk.core.auth.UsernameOrMobileBackend")
    client.raise_request_exception = False  # a broken page is reported, not fatal
    return client


def probe(client, url, params, note) -> bool:
    """One request: True when it answers 200; else a note (the page is work in progress)."""
    import logging

    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        response = client.get(url, params, secure=True)
    finally:
        logger.setLevel(level)
    if response.status_code != 200:
        note(f"GET {url} {params} answered {response.status_code}: not measured")
        return False
    return True
