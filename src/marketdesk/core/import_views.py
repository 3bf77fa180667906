"""Import pages: my imports, the upload form per kind, a job's progress and errors, templates."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import selectors
from .imports import (
    ImportMode,
    ImportSpec,
    allowed_modes,
    available_imports,
    can_import,
    error_columns,
    get_import,
    import_job_start,
    import_label,
    refresh_progress,
    template_response,
)
from .models import ImportJob, ImportStatus
from .spreadsheets import xlsx_response


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("How to import"),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    key_field = forms.ChoiceField(label=gettext_lazy("Find existing records by"), required=False)

    def __init__(self, *args, spec: ImportSpec, modes: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mode"].choices = modes
        self.fields["mode"].initial = ImportMode.CREATE
        self.fields["key_field"].choices = [
            (key, force_str(spec.column(key).header)) for key in spec.match_keys if spec.column(key)
        ]
        if len(modes) < 2 or not spec.match_keys:
            del self.fields["key_field"]


def _spec(kind: str) -> ImportSpec:
    spec = get_import(kind)
    if spec is None:
        raise Http404
    return spec


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def import_list(request):
    page = Paginator(selectors.import_job_list(actor=request.user), 20).get_page(
        request.GET.get("page")
    )
    for job in page:
        job.kind_label = import_label(job.kind)
    return render(
        request, "core/imports/list.html", {"page": page, "specs": available_imports(request.user)}
    )


@login_required
def import_new(request, kind: str):
    spec = _spec(kind)
    if not can_import(request.user, spec):
        raise PermissionDenied
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        spec=spec,
        modes=allowed_modes(request.user, spec),
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_start(
                actor=request.user,
                kind=spec.key,
                upload=form.cleaned_data["file"],
                mode=form.cleaned_data["mode"],
                key_field=form.cleaned_data.get("key_field", ""),
                language=request.LANGUAGE_CODE,
            )
            return redirect("imports:detail", job_id=job.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "core/imports/new.html", {"spec": spec, "form": form})


@login_required
def import_template(request, kind: str):
    spec = _spec(kind)
    if not can_import(request.user, spec):
        raise PermissionDenied
    return template_response(spec)


@login_required
def import_detail(request, job_id: int):
    job = refresh_progress(selectors.import_job_get(actor=request.user, job_id=job_id))
    spec = get_import(job.kind)
    context = {
        "job": job,
        "spec": spec,
        "running": job.status in (ImportStatus.PENDING, ImportStatus.RUNNING),
        "mode_label": _mode_label(job),
        "key_label": force_str(spec.column(job.key_field).header)
        if spec and spec.column(job.key_field)
        else "",
    }
    partial = request.htmx and not request.htmx.boosted
    template = "core/imports/detail.html#status" if partial else "core/imports/detail.html"
    return render(request, template, context)


@login_required
def import_errors(request, job_id: int):
    job = selectors.import_job_get(actor=request.user, job_id=job_id)
    return xlsx_response(
        filename=_("import-errors"),
        sheet_title=_("Errors"),
        columns=error_columns(),
        rows=job.errors or [],
    )


def _mode_label(job: ImportJob) -> str:
    return force_str(dict(ImportMode.choices).get(job.mode, job.mode))
