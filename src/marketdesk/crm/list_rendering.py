"""Cheap HTML for the customer list page: its rows as plain dicts, its filter bar's selects as
joined strings.

With a 20,000-person organisation the filter bar offers ~1,400 units and up to 300 owners;
Django renders every <option> through a template include (~0.1 ms each), and each of the 50
rows ran an inclusion tag, a {% url %}, date filters and translation look-ups: 100-250 ms of
CPU per page. Here the options are formatted directly (the markup of Django's widget
templates, from the widget's own attributes and value) and the rows are computed once in the
view, so the page template only prints strings. bench/scenarios/crm_list.py measures it."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from marketdesk.core.templatetags.md import BADGE_COLOURS, bs, widget_css

from .models import CustomerStage

Choices = Iterable[tuple[object, object]]  # (value, label) pairs


def _escape(value) -> str:
    """conditional_escape for the thousands of option labels (same output, less overhead):
    a SafeString as it is, anything else (a lazy translation too) escaped as text."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _attrs_html(attrs: dict) -> str:
    """As `django/forms/widgets/attrs.html`: ` name="value"`, a bare ` name` for True."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f" {name}")
        elif value is not False:
            parts.append(f' {name}="{conditional_escape(str(value))}"')
    return "".join(parts)


def _widget_attrs(bound_field, size: str) -> dict:
    """The attributes `{{ field|bs:size }}` gives the widget (its classes, id, required)."""
    widget = bound_field.field.widget
    attrs = bound_field.build_widget_attrs({"class": widget_css(bound_field, size)}, widget)
    if bound_field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound_field.auto_id)
    return widget.build_attrs(widget.attrs, attrs)


def _model_choices(field, choices: Choices) -> list[tuple[object, object]]:
    """What the field's ModelChoiceIterator yields (empty and null options first), with the
    model rows given as (pk, label) pairs instead of read one instance at a time."""
    head: list[tuple[object, object]] = []
    if field.empty_label is not None:
        head.append(("", field.empty_label))
    if getattr(field, "null_label", None) is not None:
        head.append((field.null_value, field.null_label))
    return head + list(choices)


def select_html(bound_field, size: str = "", choices: Choices | None = None) -> SafeString:
    """A single <select> as `{{ field|bs:size }}` renders it; `choices` replaces the rows of a
    model choice field (same order, same labels)."""
    widget = bound_field.field.widget
    attrs = _widget_attrs(bound_field, size)
    value = widget.format_value(bound_field.value())  # a list of str (a str for booleans)
    if choices is not None:
        options = _model_choices(bound_field.field, choices)
    else:
        options = list(widget.choices)
    parts = [f'<select name="{conditional_escape(bound_field.html_name)}"{_attrs_html(attrs)}>']
    has_selected = False
    for option_value, label in options:
        if isinstance(label, list | tuple):  # an optgroup: the widget's own rendering
            return bs(bound_field, size)
        option_value = "" if option_value is None else str(option_value)
        selected = not has_selected and option_value in value
        has_selected |= selected
        parts.append(
            f'<option value="{_escape(option_value)}"'
            f"{' selected' if selected else ''}>{_escape(label)}</option>"
        )
    parts.append("</select>")
    return mark_safe("\n".join(parts))  # noqa: S308 (every value escaped above)


def input_html(bound_field, size: str = "") -> SafeString:
    """An <input> as `{{ field|bs:size }}` renders it."""
    widget = bound_field.field.widget
    attrs = _widget_attrs(bound_field, size)
    value = widget.format_value(bound_field.value())
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    name = conditional_escape(bound_field.html_name)
    return mark_safe(  # noqa: S308 (every value escaped)
        f'<input type="{widget.input_type}" name="{name}"{shown}{_attrs_html(attrs)}>'
    )


# Widgets whose Django templates are exactly what select_html / input_html write.
_SELECTS = (forms.Select, forms.NullBooleanSelect)
_INPUTS = (forms.TextInput, forms.DateInput, forms.NumberInput, forms.EmailInput)


def field_html(bound_field, size: str = "", choices: Choices | None = None) -> SafeString:
    """`{{ field|bs:size }}`, formatted directly for plain selects and inputs."""
    kind = type(bound_field.field.widget)
    if kind in _SELECTS:
        return select_html(bound_field, size, choices)
    if kind in _INPUTS:
        return input_html(bound_field, size)
    return bs(bound_field, size)


def filter_fields(form, *, choices: dict[str, Choices], size: str = "sm") -> list[dict]:
    """The filter bar's fields: id, label, rendered widget, errors; `choices` gives the rows
    of model choice fields by field name."""
    return [
        {
            "id": bound_field.id_for_label,
            "label": bound_field.label,
            "html": field_html(bound_field, size, choices.get(bound_field.name)),
            "errors": bound_field.errors,
        }
        for bound_field in form
    ]


def options_html(choices: Choices) -> SafeString:
    """<option>s of (value, label) pairs (the bulk bar's owners and tags)."""
    return mark_safe(  # noqa: S308 (every value escaped)
        "".join(
            f'<option value="{_escape(value)}">{_escape(label)}</option>'
            for value, label in choices
        )
    )


def customer_rows(customers: Sequence, *, now) -> list[dict]:
    """The list's rows as strings: link, name, number, city, tags, stage badge, owner and the
    contact times in the user's time zone and language (what the template's filters gave)."""
    detail = reverse("crm:customer_detail", args=[0]).removesuffix("0/")
    short = get_format("SHORT_DATETIME_FORMAT")
    pool = _("Pool")
    stages = {value: str(label) for value, label in CustomerStage.choices}
    rows = []
    for customer in customers:
        last = customer.last_contact_at
        following = customer.next_contact_at
        if following is not None:
            following_local = timezone.localtime(following)
        rows.append(
            {
                "pk": customer.pk,
                "url": f"{detail}{customer.pk}/",
                "name": customer.name,
                "locked": customer.locked,
                "number": customer.number,
                "city": customer.city,
                "tags": [(tag.color, tag.name) for tag in customer.tags.all()],
                "level": customer.level,
                "stage": stages.get(customer.stage, customer.stage),
                "stage_colour": BADGE_COLOURS.get(str(customer.stage), "light"),
                "owner": str(customer.owner) if customer.owner_id else pool,
                "last_contact": date_format(timezone.localtime(last), short) if last else "",
                "next_contact": date_format(following_local, short) if following else "",
                "next_contact_short": date_format(following_local, "m-d H:i") if following else "",
                "overdue": following is not None and following < now,
            }
        )
    return rows
