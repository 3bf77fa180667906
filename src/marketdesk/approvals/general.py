"""The general approval form (通用审批单): create, change while editable, submit."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from marketdesk.core.numbering import next_number
from marketdesk.org.selectors import employee_for_user

from . import services
from .models import ApprovalRequest, GeneralRequest
from .permissions import ApprovalPerm

MSG_NO_EMPLOYEE = _("Only employees can submit requests.")


def _check(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(services.MSG_NO_PERMISSION)


@transaction.atomic
def general_request_create(
    *,
    actor,
    title: str,
    kind: str,
    amount: Decimal | None = None,
    needed_by: datetime.date | None = None,
    description: str = "",
) -> GeneralRequest:
    _check(actor, ApprovalPerm.ADD_GENERAL)
    employee = employee_for_user(actor)
    if employee is None:
        raise PermissionDenied(MSG_NO_EMPLOYEE)
    request = GeneralRequest(
        number=next_number("GR"),
        title=title,
        kind=kind,
        amount=amount,
        needed_by=needed_by,
        description=description,
        owner=actor,
        department=employee.department,
        created_by=actor,
        updated_by=actor,
    )
    request._history_user = actor
    request.full_clean()
    request.save()
    return request


@transaction.atomic
def general_request_update(*, actor, request: GeneralRequest, **fields) -> GeneralRequest:
    request = GeneralRequest.objects.select_for_update().get(pk=request.pk)
    if request.owner_id != actor.pk:
        raise PermissionDenied(services.MSG_NOT_SUBMITTER)
    services.assert_editable(request)
    for name, value in fields.items():
        setattr(request, name, value)
    request.updated_by = actor
    request._history_user = actor
    request.full_clean()
    request.save()
    return request


def general_request_submit(*, actor, request: GeneralRequest, comment: str = "") -> ApprovalRequest:
    return services.request_submit(actor=actor, document=request, comment=comment)
