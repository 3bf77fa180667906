"""REST API of the approval engine: the inbox, request actions, flows, delegations and the
general request form, with the same rules and permissions as the pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from marketdesk.org.models import Department, Role

from . import general, selectors, services
from .models import (
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStep,
    ApprovalTask,
    Delegation,
    GeneralRequest,
)
from .permissions import ApprovalPerm

User = get_user_model()


class TaskSerializer(serializers.ModelSerializer):
    request = serializers.IntegerField(source="request_id", read_only=True)
    number = serializers.CharField(source="request.number", read_only=True)
    title = serializers.CharField(source="request.title", read_only=True)
    amount = serializers.DecimalField(
        source="request.amount", max_digits=14, decimal_places=2, read_only=True
    )
    submitter = serializers.CharField(source="request.submitter", read_only=True)
    lines = serializers.JSONField(source="request.lines", read_only=True)

    class Meta:
        model = ApprovalTask
        fields = [
            "id",
            "request",
            "number",
            "title",
            "amount",
            "submitter",
            "lines",
            "step_name",
            "status",
            "comment",
            "created_at",
            "decided_at",
        ]


class RequestSerializer(serializers.ModelSerializer):
    submitter = serializers.CharField(read_only=True)
    tasks = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "number",
            "doc_type",
            "object_id",
            "revision",
            "title",
            "amount",
            "category",
            "department",
            "submitter",
            "status",
            "plan",
            "current_index",
            "lines",
            "url",
            "submitted_at",
            "finished_at",
            "tasks",
            "events",
        ]

    def get_tasks(self, obj) -> list[dict]:
        return [
            {
                "id": t.pk,
                "step": t.step_index,
                "step_name": t.step_name,
                "approver": str(t.approver),
                "approver_id": t.approver_id,
                "status": t.status,
                "comment": t.comment,
            }
            for t in obj.tasks.select_related("approver").order_by("step_index", "pk")
        ]

    def get_events(self, obj) -> list[dict]:
        return [
            {
                "at": e.at,
                "actor": str(e.actor) if e.actor else None,
                "action": e.action,
                "step": e.step_name,
                "comment": e.comment,
            }
            for e in obj.events.select_related("actor")
        ]


BOX = OpenApiParameter(
    "box",
    str,
    enum=["waiting", "done"],
    description="waiting (待我审批, default) or done (我已审批)",
)
Comment = inline_serializer(
    "ApprovalComment", {"comment": serializers.CharField(required=False, allow_blank=True)}
)
Reason = inline_serializer("ApprovalReason", {"reason": serializers.CharField()})
Target = inline_serializer(
    "ApprovalTarget",
    {
        "user": serializers.IntegerField(),
        "comment": serializers.CharField(required=False, allow_blank=True),
    },
)


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's approval tasks, and the decisions on them."""

    queryset = ApprovalTask.objects.none()  # for the schema; get_queryset() scopes real requests
    serializer_class = TaskSerializer

    def get_queryset(self):
        if self.request.query_params.get("box") == "done":
            return selectors.decided_tasks(actor=self.request.user)
        if self.action == "list":
            return selectors.waiting_tasks(actor=self.request.user)
        return ApprovalTask.objects.filter(approver=self.request.user).select_related(
            "request__submitter"
        )

    @extend_schema(parameters=[BOX])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _respond(self, approval_request):
        return Response(RequestSerializer(approval_request).data)

    @extend_schema(request=Comment, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._respond(
            services.task_approve(
                actor=request.user, task=self.get_object(), comment=request.data.get("comment", "")
            )
        )

    @extend_schema(request=Reason, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._respond(
            services.task_reject(
                actor=request.user, task=self.get_object(), reason=request.data.get("reason", "")
            )
        )

    @extend_schema(request=Reason, responses=RequestSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        return self._respond(
            services.task_return(
                actor=request.user, task=self.get_object(), reason=request.data.get("reason", "")
            )
        )

    def _target(self, request):
        user_id = request.data.get("user")
        user = User.objects.filter(pk=user_id).first() if str(user_id).isdigit() else None
        if user is None:
            raise serializers.ValidationError({"user": ["Choose an existing user."]})
        return user

    @extend_schema(request=Target, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        task = services.task_transfer(
            actor=request.user,
            task=self.get_object(),
            to_user=self._target(request),
            comment=request.data.get("comment", ""),
        )
        return Response(TaskSerializer(task).data)

    @extend_schema(request=Target, responses=RequestSerializer)
    @action(detail=True, methods=["post"], url_path="add-approver")
    def add_approver(self, request, pk=None):
        return self._respond(
            services.task_add_approver(
                actor=request.user,
                task=self.get_object(),
                user=self._target(request),
                comment=request.data.get("comment", ""),
            )
        )

    @extend_schema(
        request=inline_serializer(
            "BulkApprove",
            {
                "ids": serializers.ListField(child=serializers.IntegerField()),
                "comment": serializers.CharField(required=False),
            },
        ),
        responses=inline_serializer(
            "BulkApproved",
            {
                "approved": serializers.ListField(child=serializers.IntegerField()),
                "errors": serializers.DictField(),
            },
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def bulk_approve(self, request):
        ids = request.data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise serializers.ValidationError({"ids": ["A list of task ids is expected."]})
        tasks = selectors.tasks_of(actor=request.user, ids=ids)
        missing = set(ids) - {t.pk for t in tasks}
        done, errors = services.tasks_bulk_approve(
            actor=request.user, tasks=tasks, comment=request.data.get("comment", "")
        )
        errors.update({pk: "Not found." for pk in missing})
        return Response({"approved": done, "errors": {str(k): v for k, v in errors.items()}})


class RequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Requests the caller submitted, acted on, is CC'd on, or may see by data scope."""

    queryset = ApprovalRequest.objects.none()  # for the schema; get_queryset() scopes real requests
    serializer_class = RequestSerializer
    filterset_fields = ["status", "doc_type"]
    search_fields = ["number", "title"]

    def get_queryset(self):
        if self.request.query_params.get("box") == "mine":
            return selectors.submitted_requests(actor=self.request.user)
        if self.request.query_params.get("box") == "cc":
            return selectors.request_list(actor=self.request.user).filter(
                ccs__user=self.request.user
            )
        return selectors.request_list(actor=self.request.user).order_by("-submitted_at", "-pk")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "box", str, enum=["mine", "cc"], description="mine (我发起的) or cc (抄送我的)"
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=Comment, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        approval = services.request_withdraw(
            actor=request.user, request=self.get_object(), reason=request.data.get("reason", "")
        )
        return Response(RequestSerializer(approval).data)


class StepSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, allow_null=True
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ApprovalStep
        fields = [
            "order",
            "name",
            "approver_kind",
            "user",
            "role",
            "levels",
            "department",
            "mode",
            "pass_ratio",
            "min_amount",
            "max_amount",
        ]
        read_only_fields = ["order"]


class FlowSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True)
    departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), many=True, required=False
    )
    cc_users = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), many=True, required=False
    )

    class Meta:
        model = ApprovalFlow
        fields = [
            "id",
            "name",
            "doc_type",
            "description",
            "active",
            "priority",
            "min_amount",
            "max_amount",
            "categories",
            "departments",
            "self_approval",
            "no_approver",
            "resubmit_from",
            "cc_users",
            "reminder_hours",
            "escalate_hours",
            "escalate_to",
            "steps",
        ]


class FlowPerm(permissions.BasePermission):
    def has_permission(self, request, view):
        perm = {"GET": ApprovalPerm.VIEW_FLOW, "POST": ApprovalPerm.ADD_FLOW}.get(
            request.method, ApprovalPerm.CHANGE_FLOW
        )
        return request.user.has_perm(perm)


class FlowViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ApprovalFlow.objects.none()  # for the schema; get_queryset() scopes real requests
    serializer_class = FlowSerializer
    permission_classes = [permissions.IsAuthenticated, FlowPerm]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.flow_list(actor=self.request.user)

    def _save(self, serializer, flow):
        data = dict(serializer.validated_data)
        departments = data.pop("departments", list(flow.departments.all()) if flow else [])
        cc_users = data.pop("cc_users", list(flow.cc_users.all()) if flow else [])
        steps = data.pop("steps", None)
        if steps is None:
            steps = (
                [
                    {k: getattr(s, k) for k in StepSerializer.Meta.fields if k != "order"}
                    for s in flow.steps.order_by("order")
                ]
                if flow
                else []
            )
        serializer.instance = services.flow_save(
            actor=self.request.user,
            flow=flow,
            fields=data,
            departments=departments,
            cc_users=cc_users,
            steps=[dict(s) for s in steps],
        )

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)


class DelegationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Delegation
        fields = ["id", "user", "delegate", "start_date", "end_date", "reason", "active"]
        read_only_fields = ["user", "active"]


class DelegationViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's delegations while away; DELETE ends one."""

    queryset = Delegation.objects.none()  # for the schema; get_queryset() scopes real requests
    serializer_class = DelegationSerializer

    def get_queryset(self):
        return selectors.delegation_list(actor=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.delegation_create(
            actor=self.request.user, **serializer.validated_data
        )

    def destroy(self, request, pk=None):
        services.delegation_end(actor=request.user, delegation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class GeneralRequestSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = GeneralRequest
        fields = [
            "id",
            "number",
            "title",
            "kind",
            "amount",
            "needed_by",
            "description",
            "owner",
            "department",
            "status",
            "created_at",
        ]
        read_only_fields = ["number", "department", "created_at"]

    def get_status(self, obj) -> str:
        latest = services.latest_request(obj)
        return latest.status if latest else "draft"


class GeneralRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = GeneralRequest.objects.none()  # for the schema; get_queryset() scopes real requests
    serializer_class = GeneralRequestSerializer
    search_fields = ["number", "title"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.general_request_list(actor=self.request.user).order_by(
            "-created_at", "-pk"
        )

    def perform_create(self, serializer):
        if not self.request.user.has_perm(ApprovalPerm.ADD_GENERAL):
            raise PermissionDenied()
        serializer.instance = general.general_request_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = general.general_request_update(
            actor=self.request.user, request=serializer.instance, **serializer.validated_data
        )

    @extend_schema(request=Comment, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        approval = general.general_request_submit(
            actor=request.user, request=self.get_object(), comment=request.data.get("comment", "")
        )
        return Response(RequestSerializer(approval).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return Response(
            RequestSerializer(
                services.request_reopen(actor=request.user, document=self.get_object())
            ).data
        )


def register(router) -> None:
    router.register("approvals/tasks", TaskViewSet, basename="approval-task")
    router.register("approvals/requests", RequestViewSet, basename="approval-request")
    router.register("approvals/flows", FlowViewSet, basename="approval-flow")
    router.register("approvals/delegations", DelegationViewSet, basename="approval-delegation")
    router.register("approvals/general-requests", GeneralRequestViewSet, basename="general-request")
