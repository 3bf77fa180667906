"""REST API of spreadsheet imports: the caller's own jobs, uploads, templates, the kinds."""

from __future__ import annotations

from django.utils.encoding import force_str
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from . import selectors
from .imports import (
    IMPORT_DATA,
    MSG_NO_PERMISSION,
    MSG_UNKNOWN_KIND,
    ImportMode,
    allowed_modes,
    available_imports,
    can_import,
    get_import,
    import_job_start,
    import_label,
    refresh_progress,
    template_response,
)
from .models import ImportJob


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="Spreadsheet row (the header is row 1); null: the whole file."
    )
    column = serializers.CharField(help_text="Column header as in the file; empty: the whole row.")
    field = serializers.CharField(help_text="Field name of the column, if any.")
    message = serializers.CharField(help_text="In the language the import was started in.")


class ImportJobSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    progress = serializers.IntegerField(read_only=True, help_text="0 to 100.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "kind_label",
            "original_name",
            "mode",
            "key_field",
            "status",
            "total_rows",
            "processed_rows",
            "progress",
            "created_count",
            "updated_count",
            "language",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_kind_label(self, obj) -> str:
        return import_label(obj.kind)


class ImportJobDetailSerializer(ImportJobSerializer):
    errors = ImportErrorSerializer(many=True, read_only=True)

    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "errors"]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="The import kind, e.g. org.employee (see /kinds/).")
    mode = serializers.ChoiceField(choices=ImportMode.choices, default=ImportMode.CREATE)
    key_field = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="With mode=upsert: the column that finds existing records (one of match_keys).",
    )
    file = serializers.FileField(help_text="The filled-in template (.xlsx).")


class ImportColumnSerializer(serializers.Serializer):
    field = serializers.CharField()
    header = serializers.CharField()
    required = serializers.BooleanField()
    help = serializers.CharField()


class ImportKindSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    modes = serializers.ListField(child=serializers.CharField())
    match_keys = serializers.ListField(child=serializers.CharField())
    columns = ImportColumnSerializer(many=True)


KIND_PARAM = OpenApiParameter("kind", str, required=True, description="e.g. org.employee")


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Spreadsheet imports. Every row is checked before anything is written; a file with any
    error imports nothing and the job's `errors` list each row, column and message. Small
    files run during the upload; large ones in the background (poll the job for progress)."""

    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]
    lookup_value_regex = r"\d+"
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at"]
    search_fields = ["original_name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ImportJob.objects.none()
        return selectors.import_job_list(actor=self.request.user)

    def get_object(self):
        return refresh_progress(
            selectors.import_job_get(actor=self.request.user, job_id=int(self.kwargs["pk"]))
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ImportJobDetailSerializer
        return super().get_serializer_class()

    def _spec(self, kind: str | None):
        spec = get_import(kind or "")
        if not self.request.user.has_perm(IMPORT_DATA) or (
            spec is not None and not can_import(self.request.user, spec)
        ):
            raise PermissionDenied(force_str(MSG_NO_PERMISSION))
        if spec is None:
            raise serializers.ValidationError({"kind": [force_str(MSG_UNKNOWN_KIND)]})
        return spec

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportJobDetailSerializer},
        description="Upload a filled-in template. The answer is the job: already done or failed "
        "(with errors) for small files, pending for large ones.",
    )
    def create(self, request):
        self._spec(request.data.get("kind"))
        payload = ImportUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        job = import_job_start(
            actor=request.user,
            kind=data["kind"],
            upload=data["file"],
            mode=data["mode"],
            key_field=data.get("key_field", ""),
            language=getattr(request, "LANGUAGE_CODE", None),
        )
        return Response(ImportJobDetailSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[KIND_PARAM],
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): (
                OpenApiResponse(OpenApiTypes.BINARY, description="The template workbook.")
            )
        },
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def template(self, request):
        return template_response(self._spec(request.query_params.get("kind")))

    @extend_schema(responses=ImportKindSerializer(many=True))
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def kinds(self, request):
        """The imports the caller may run, with their columns and match keys."""
        data = [
            {
                "key": spec.key,
                "label": force_str(spec.label),
                "modes": [value for value, _label in allowed_modes(request.user, spec)],
                "match_keys": list(spec.match_keys),
                "columns": [
                    {
                        "field": column.field,
                        "header": force_str(column.header),
                        "required": column.required,
                        "help": force_str(column.help),
                    }
                    for column in spec.columns
                ],
            }
            for spec in available_imports(request.user)
        ]
        return Response(ImportKindSerializer(data, many=True).data)
