"""Template tags for the shared page parts: sortable headers, pagination links, badges,
form fields, the timeline and the attachments panel."""

from __future__ import annotations

from django import template
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html

from marketdesk.core import masking

register = template.Library()

BADGE_COLOURS = {
    "active": "success",
    "done": "success",
    "approved": "success",
    "left": "secondary",
    "failed": "danger",
    "rejected": "danger",
    "pending": "warning",
    "running": "info",
    "draft": "secondary",
    "overdue": "danger",
    # customers (crm)
    "potential": "secondary",
    "intention": "info",
    "deal": "success",
    "lost": "danger",
    "dormant": "dark",
    "planned": "primary",
    "used": "secondary",
}


@register.simple_tag(takes_context=True)
def sort_th(context, key: str, label, css: str = ""):
    """A table header that sorts by `key`; a second click reverses the order."""
    result = context["result"]
    current = result.sort
    is_current = current.lstrip("-") == key
    descending = current.startswith("-")
    next_sort = f"-{key}" if is_current and not descending else key
    arrow = ""
    if is_current:
        arrow = format_html(
            ' <i class="bi bi-caret-{}-fill small"></i>', "down" if descending else "up"
        )
    qs = result.querystring
    href = f"?{qs + '&' if qs else ''}sort={next_sort}"
    aria = ("descending" if descending else "ascending") if is_current else "none"
    return format_html(
        '<th class="{}" aria-sort="{}"><a class="text-reset text-decoration-none" href="{}" '
        'hx-get="{}" hx-target="#list-results" hx-push-url="true">{}{}</a></th>',
        css,
        aria,
        href,
        href,
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    result = context["result"]
    parts = [p for p in (result.querystring, f"sort={result.sort}", f"page={number}") if p]
    return "?" + "&".join(parts)


@register.inclusion_tag("components/badge.html")
def status_badge(value, label=None):
    return {
        "colour": BADGE_COLOURS.get(str(value), "light"),
        "label": label if label is not None else value,
    }


def _widget_class(bound_field) -> str:
    widget = bound_field.field.widget
    input_type = getattr(widget, "input_type", "")
    if input_type in ("checkbox", "radio"):
        return "form-check-input"
    if input_type == "select" or widget.__class__.__name__.endswith("Select"):
        return "form-select form-select-sm" if getattr(widget, "md_small", False) else "form-select"
    return "form-control"


def widget_css(bound_field, size: str = "") -> str:
    """The class attribute `bs` gives a field's widget: its own classes, Bootstrap's (small
    with size "sm") and is-invalid when the field has errors."""
    css = _widget_class(bound_field)
    if size == "sm":
        css = (
            css.replace("form-select", "form-select form-select-sm")
            if "select" in css
            else css + " form-control-sm"
        )
    if bound_field.errors:
        css += " is-invalid"
    existing = bound_field.field.widget.attrs.get("class", "")
    return f"{existing} {css}".strip()


@register.filter
def bs(bound_field, size: str = ""):
    """Render a bound field with Bootstrap's classes (and is-invalid when it has errors)."""
    return bound_field.as_widget(attrs={"class": widget_css(bound_field, size)})


@register.inclusion_tag("components/field.html")
def field(bound_field, css: str = ""):
    return {"field": bound_field, "css": css}


@register.filter
def masked(value, kind: str) -> str:
    return masking.MASKERS[kind](value)


@register.filter
def content_type_id(record) -> int:
    return ContentType.objects.get_for_model(record).pk


@register.inclusion_tag("components/timeline.html", takes_context=True)
def timeline(context, record, can_edit: bool = True):
    from marketdesk.core.timeline import timeline_entries

    return {
        "record": record,
        "entries": timeline_entries(record),
        "can_edit": can_edit,
        "ct": ContentType.objects.get_for_model(record).pk,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("components/attachments.html", takes_context=True)
def attachments_panel(context, record, can_edit: bool = True):
    from marketdesk.core.selectors import attachment_list_for

    return {
        "record": record,
        "attachments": attachment_list_for(record),
        "can_edit": can_edit,
        "ct": ContentType.objects.get_for_model(record).pk,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def amount(value) -> str:
    """12000 -> 12,000.00 (money is shown with two places and thousands separators)."""
    from decimal import Decimal, InvalidOperation

    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)
