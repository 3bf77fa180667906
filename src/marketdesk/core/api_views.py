"""REST endpoints of the kernel: current user, notifications, attachments, API tokens."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from . import selectors, services
from .models import ApiToken, Attachment, Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "kind", "created_at", "read_at"]


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        unread = self.request.query_params.get("unread") in {"1", "true"}
        return selectors.notification_list(actor=self.request.user, unread_only=unread)

    @extend_schema(
        request=inline_serializer(
            "MarkRead",
            {"ids": serializers.ListField(child=serializers.IntegerField(), required=False)},
        ),
        responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)
        ):
            raise serializers.ValidationError({"ids": ["A list of notification ids is expected."]})
        count = services.notification_mark_read(actor=request.user, notification_ids=ids)
        return Response({"marked": count})


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.StringRelatedField()
    record_type = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "record_type",
            "object_id",
            "original_name",
            "mime_type",
            "size",
            "description",
            "uploaded_by",
            "uploaded_at",
        ]

    def get_record_type(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class AttachmentUploadSerializer(serializers.Serializer):
    record_type = serializers.CharField(help_text="app_label.model, e.g. org.employee")
    object_id = serializers.IntegerField()
    file = serializers.FileField(allow_empty_file=True)  # the service names the empty file
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class AttachmentViewSet(
    mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Attachments of records the caller may see. List with ?record_type=org.employee&object_id=1."""

    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None
    lookup_value_regex = r"\d+"

    def _record(self, record_type: str, object_id) -> object:
        app_label, _, model = (record_type or "").partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        if content_type is None or not str(object_id).isdigit():
            raise serializers.ValidationError({"record_type": ["Unknown record type or id."]})
        return selectors.visible_record(
            actor=self.request.user, content_type_id=content_type.pk, object_id=int(object_id)
        )

    def get_object(self):
        return selectors.attachment_get(actor=self.request.user, attachment_id=self.kwargs["pk"])

    def get_queryset(self):
        return Attachment.objects.none()

    def list(self, request):
        record = self._record(
            request.query_params.get("record_type", ""), request.query_params.get("object_id", "")
        )
        return Response(AttachmentSerializer(selectors.attachment_list_for(record), many=True).data)

    @extend_schema(request=AttachmentUploadSerializer, responses=AttachmentSerializer)
    def create(self, request):
        payload = AttachmentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = self._record(
            payload.validated_data["record_type"], payload.validated_data["object_id"]
        )
        attachment = services.attachment_add(
            actor=request.user,
            record=record,
            upload=payload.validated_data["file"],
            description=payload.validated_data.get("description", ""),
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.attachment_delete(actor=request.user, attachment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.mime_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ApiTokenSerializer(serializers.ModelSerializer):
    token = serializers.SerializerMethodField(
        help_text="The raw token, shown only in the create response."
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "token",
        ]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]

    def get_token(self, obj) -> str | None:
        return self.context.get("raw")


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own personal tokens; DELETE revokes."""

    serializer_class = ApiTokenSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    def create(self, request):
        payload = ApiTokenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        token, raw = services.api_token_create(
            actor=request.user,
            name=payload.validated_data["name"],
            expires_at=payload.validated_data.get("expires_at"),
        )
        return Response(
            ApiTokenSerializer(token, context={"raw": raw}).data, status=status.HTTP_201_CREATED
        )

    def destroy(self, request, pk=None):
        services.api_token_revoke(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(responses=inline_serializer("Health", {"status": serializers.CharField()}))
@api_view(["GET"])
@permission_classes([AllowAny])
def health(request):
    return Response({"status": "ok"})
