"""Personal data masking and the log of unmasked views and exports (R5.1.3, PIPL)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from .models import PersonalDataAccessLog, PersonalDataAction

VIEW_PERSONAL_DATA = "core.view_personal_data"
EXPORT_DATA = "core.export_data"


def mask_mobile(value: str | None) -> str:
    """13812345678 -> 138****5678; other lengths keep the first 3 and last 2."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) >= 11:
        return f"{digits[:-8]}****{digits[-4:]}"
    if len(digits) > 5:
        return f"{digits[:3]}{'*' * (len(digits) - 5)}{digits[-2:]}"
    return "*" * len(digits)


def mask_id_number(value: str | None) -> str:
    """110101199003071234 -> 110***********1234."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_address(value: str | None) -> str:
    """Keep the region (first 6 characters), hide the street and number."""
    if not value:
        return ""
    value = value.strip()
    keep = min(6, max(len(value) // 3, 1))
    return f"{value[:keep]}****"


MASKERS = {"mobile": mask_mobile, "id_number": mask_id_number, "address": mask_address}


def can_view_personal_data(actor) -> bool:
    return bool(actor and actor.is_authenticated and actor.has_perm(VIEW_PERSONAL_DATA))


def can_export(actor) -> bool:
    return bool(actor and actor.is_authenticated and actor.has_perm(EXPORT_DATA))


def client_ip(request) -> str | None:
    """The caller's address for the logs. X-Forwarded-For is believed only behind our own
    reverse proxy (BEHIND_PROXY=true, which is what sets SECURE_PROXY_SSL_HEADER; the proxy
    replaces the header, docs/deployment.md); otherwise any client could write any address
    into the access log. Anything that is not an IP address is ignored."""
    if request is None:
        return None
    candidates = []
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        candidates.append(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def log_personal_data_access(
    *,
    actor,
    action: str,
    description: str,
    record: Model | None = None,
    model: type[Model] | None = None,
    row_count: int = 1,
    request=None,
) -> PersonalDataAccessLog:
    model = type(record) if record is not None else model
    return PersonalDataAccessLog.objects.create(
        user=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(model) if model else None,
        object_id=record.pk if record is not None else None,
        description=description[:300],
        row_count=row_count,
        ip_address=client_ip(request),
    )


def log_unmasked_view(
    *, actor, record: Model, fields: list[str], request=None
) -> PersonalDataAccessLog:
    return log_personal_data_access(
        actor=actor,
        action=PersonalDataAction.VIEW,
        description=f"{record._meta.verbose_name}: {record} ({', '.join(fields)})",
        record=record,
        request=request,
    )
