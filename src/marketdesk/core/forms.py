"""Forms of the kernel's own pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .models import ActivityKind


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=ActivityKind.choices)
    summary = forms.CharField(label=_("Summary"), max_length=200)
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=get_user_model().objects.none())
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("name")
        )


class AttachmentForm(forms.Form):
    # an empty file reaches the service, which says so by name (not "choose a file")
    file = forms.FileField(label=_("File"), allow_empty_file=True)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
