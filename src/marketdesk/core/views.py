"""Kernel pages: workbench, global search, notifications, attachments and the timeline."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import ActivityForm, AttachmentForm, CommentForm
from .models import Activity
from .registry import global_search, todo_items


def _back(request, fallback: str = "/") -> HttpResponseRedirect:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or fallback
    from django.utils.http import url_has_allowed_host_and_scheme

    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return redirect(target)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def workbench(request):
    activities = selectors.activity_list_for_user(actor=request.user)[:10]
    return render(
        request,
        "core/workbench.html",
        {"todos": todo_items(request.user), "activities": activities},
    )


@login_required
def search(request):
    text = request.GET.get("q", "").strip()[:100]
    hits = global_search(request.user, text) if len(text) >= 1 else []
    template = "core/search.html#results" if request.htmx else "core/search.html"
    return render(request, template, {"q": text, "hits": hits})


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    from django.core.paginator import Paginator

    page = Paginator(
        selectors.notification_list(actor=request.user, unread_only=unread_only), 20
    ).get_page(request.GET.get("page"))
    template = (
        "core/notifications.html#bell" if request.GET.get("bell") else "core/notifications.html"
    )
    return render(request, template, {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def notification_read(request):
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    services.notification_mark_read(actor=request.user, notification_ids=ids or None)
    return _back(request, "/notifications/")


@login_required
@require_POST
def attachment_upload(request, content_type_id: int, object_id: int):
    record = selectors.visible_record(
        actor=request.user, content_type_id=content_type_id, object_id=object_id
    )
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return _back(request)
    try:
        services.attachment_add(
            actor=request.user,
            record=record,
            upload=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
        )
        messages.success(request, _("File uploaded."))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _back(request)


@login_required
def attachment_download(request, attachment_id: int):
    attachment = selectors.attachment_get(actor=request.user, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    inline = attachment.mime_type.startswith("image/") or attachment.mime_type == "application/pdf"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.original_name,
        content_type=attachment.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    return response


@login_required
@require_POST
def attachment_delete(request, attachment_id: int):
    attachment = selectors.attachment_get(actor=request.user, attachment_id=attachment_id)
    try:
        services.attachment_delete(actor=request.user, attachment=attachment)
        messages.success(request, _("File deleted."))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _back(request)


@login_required
@require_POST
def comment_add(request, content_type_id: int, object_id: int):
    record = selectors.visible_record(
        actor=request.user, content_type_id=content_type_id, object_id=object_id
    )
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(actor=request.user, record=record, body=form.cleaned_data["body"])
            messages.success(request, _("Comment added."))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
    else:
        messages.error(request, _("Write something first."))
    return _back(request)


@login_required
def activity_add(request, content_type_id: int, object_id: int):
    record = selectors.visible_record(
        actor=request.user, content_type_id=content_type_id, object_id=object_id
    )
    form = ActivityForm(request.POST or None, initial={"assignee": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_schedule(actor=request.user, record=record, **form.cleaned_data)
            messages.success(request, _("Activity scheduled."))
            return _back(request)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "core/activity_form.html", {"form": form, "record": record})


@login_required
@require_POST
def activity_done(request, activity_id: int):
    activity = get_object_or_404(Activity, pk=activity_id)
    selectors.visible_record(
        actor=request.user, content_type_id=activity.content_type_id, object_id=activity.object_id
    )
    try:
        services.activity_done(
            actor=request.user, activity=activity, result=request.POST.get("result", "")
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _back(request)
