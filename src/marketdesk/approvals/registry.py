"""Documents register here to go through approval. The engine calls only this protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Model


def _no_lines(document: Any) -> list[tuple[str, str]]:
    return []


def _no_category(document: Any) -> str:
    return ""


def _url(document: Any) -> str:
    getter = getattr(document, "get_absolute_url", None)
    return getter() if getter else ""


Hook = Callable[[Any, Any], None]  # (document, approval request)


@dataclass(frozen=True)
class ApprovalDocument:
    """What a document type tells the engine about its documents."""

    key: str  # e.g. "finance.expense_claim"
    label: Any  # translated name, e.g. 费用报销单
    model: type[Model]
    title: Callable[[Any], str]
    amount: Callable[[Any], Decimal | None]
    department: Callable[[Any], Any]  # an org Department, or None
    submitter: Callable[[Any], Any]  # the user who submits
    category: Callable[[Any], str] = _no_category
    lines: Callable[[Any], list[tuple[str, str]]] = _no_lines  # key facts shown to the approver
    url: Callable[[Any], str] = _url
    snapshot: Callable[[Any], dict] | None = None  # kept per revision
    on_approved: Hook | None = None
    on_rejected: Hook | None = None
    on_returned: Hook | None = None
    on_withdrawn: Hook | None = None
    categories: list[tuple[str, Any]] = field(default_factory=list)  # offered in the flow editor


_documents: dict[str, ApprovalDocument] = {}


def register_document(document: ApprovalDocument) -> None:
    _documents[document.key] = document


def document_type(key: str) -> ApprovalDocument:
    try:
        return _documents[key]
    except KeyError as exc:
        raise LookupError(f"Unknown approval document type {key!r}") from exc


def document_type_for(instance: Model) -> ApprovalDocument:
    for document in _documents.values():
        if isinstance(instance, document.model):
            return document
    raise LookupError(f"{type(instance).__name__} is not registered for approval")


def document_types() -> list[ApprovalDocument]:
    return list(_documents.values())


def document_type_choices() -> list[tuple[str, Any]]:
    return [(document.key, document.label) for document in _documents.values()]
