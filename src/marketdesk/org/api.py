"""REST API of the organisation app: the same operations and permissions as the pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Permission
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from marketdesk.core.masking import (
    can_view_personal_data,
    log_personal_data_access,
    log_unmasked_view,
    mask_address,
    mask_id_number,
    mask_mobile,
)
from marketdesk.core.models import PersonalDataAction

from . import selectors, services
from .filters import DepartmentFilter, EmployeeFilter, RoleFilter
from .models import Department, Employee, EmployeeStatus, Position, Role
from .permissions import OrgPerm


class PermRequired(permissions.BasePermission):
    """Looks the permission up in the view's `perms` dict by action name first (extra actions
    such as `leave`), then by HTTP method, then READ/WRITE: {"leave": perm, "POST": perm, ...}."""

    def has_permission(self, request, view):
        perms = getattr(view, "perms", {})
        perm = (
            perms.get(getattr(view, "action", None) or "")
            or perms.get(request.method)
            or perms.get("WRITE" if request.method not in permissions.SAFE_METHODS else "READ")
        )
        return perm is None or request.user.has_perm(perm)


class DepartmentSerializer(serializers.ModelSerializer):
    # A default (not only required=False): the unique (parent, name) validator would otherwise
    # demand `parent` on create, so a top-level unit could not be created without "parent": null.
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False, default=None
    )
    head = serializers.PrimaryKeyRelatedField(  # as on the page: only someone still employed
        queryset=Employee.objects.filter(status=EmployeeStatus.ACTIVE),
        allow_null=True,
        required=False,
    )
    employee_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Department
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "parent",
            "head",
            "sort_order",
            "active",
            "path",
            "depth",
            "employee_count",
        ]
        read_only_fields = ["path", "depth"]


class DepartmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DepartmentSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": OrgPerm.VIEW_DEPARTMENT,
        "POST": OrgPerm.ADD_DEPARTMENT,
        "WRITE": OrgPerm.CHANGE_DEPARTMENT,
    }
    filterset_class = DepartmentFilter
    search_fields = ["name", "code"]
    ordering_fields = ["path", "name", "code", "sort_order"]

    def get_queryset(self):
        return selectors.department_list(actor=self.request.user, include_inactive=True)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("active", None)
        serializer.instance = services.department_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = services.department_update(
            actor=self.request.user, department=serializer.instance, **serializer.validated_data
        )


class EmployeeSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    mobile = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    department_name = serializers.CharField(source="department.name", read_only=True)
    roles = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Employee
        fields = [
            "id",
            "employee_no",
            "username",
            "name",
            "mobile",
            "email",
            "department",
            "department_name",
            "position",
            "supervisor",
            "roles",
            "gender",
            "id_number",
            "address",
            "hire_date",
            "status",
            "left_date",
        ]

    def _unmasked(self) -> bool:
        return bool(self.context.get("unmasked"))

    def get_mobile(self, obj) -> str:
        value = obj.user.mobile or ""
        return value if self._unmasked() else mask_mobile(value)

    def get_id_number(self, obj) -> str:
        return obj.id_number if self._unmasked() else mask_id_number(obj.id_number)

    def get_address(self, obj) -> str:
        return obj.address if self._unmasked() else mask_address(obj.address)


class EmployeeWriteSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+$", max_length=150, required=False)
    name = serializers.CharField(max_length=60, required=False)
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(active=True), required=False
    )
    position = serializers.PrimaryKeyRelatedField(
        queryset=Position.objects.all(), required=False, allow_null=True
    )
    supervisor = serializers.PrimaryKeyRelatedField(
        queryset=Employee.objects.filter(status="active"), required=False, allow_null=True
    )
    roles = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), many=True, required=False
    )
    gender = serializers.ChoiceField(choices=[("", ""), ("M", "M"), ("F", "F")], required=False)
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hire_date = serializers.DateField(required=False, allow_null=True)
    password = serializers.CharField(required=False, write_only=True, allow_blank=True)


class LeaveSerializer(serializers.Serializer):
    left_date = serializers.DateField(required=False)
    successor = serializers.PrimaryKeyRelatedField(
        queryset=Employee.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


UNMASK_PARAM = OpenApiParameter(
    "unmask", bool, description="Return personal data unmasked (needs the permission; logged)."
)


class EmployeeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Employees in the caller's data scope. Personal data is masked unless ?unmask=1 (logged)."""

    serializer_class = EmployeeSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": OrgPerm.VIEW_EMPLOYEE,
        "create": OrgPerm.ADD_EMPLOYEE,
        "leave": OrgPerm.CHANGE_EMPLOYEE,
        "WRITE": OrgPerm.CHANGE_EMPLOYEE,
    }
    filterset_class = EmployeeFilter
    search_fields = ["user__name", "user__username", "employee_no"]
    ordering_fields = ["employee_no", "user__name", "hire_date", "department__path"]

    def get_queryset(self):
        return (
            selectors.employee_list(actor=self.request.user)
            .prefetch_related("roles")
            .order_by("department__path", "employee_no")
        )

    def get_object(self):
        pk = str(self.kwargs["pk"])
        if not pk.isdigit():  # /employees/abc/ is a 404 like any unknown id, not a 500
            raise Http404
        return selectors.employee_get(actor=self.request.user, pk=int(pk))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        wants = self.request.query_params.get("unmask") in {"1", "true"}
        if wants and not can_view_personal_data(self.request.user):
            raise PermissionDenied("You may not see personal data unmasked.")
        context["unmasked"] = wants
        return context

    @extend_schema(parameters=[UNMASK_PARAM])
    def list(self, request, *args, **kwargs):
        context = self.get_serializer_context()
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        if context["unmasked"]:
            log_personal_data_access(
                actor=request.user,
                action=PersonalDataAction.VIEW,
                description=f"employees list (API, unmasked): {request.GET.urlencode()}",
                model=Employee,
                row_count=len(page),
                request=request,
            )
        return self.get_paginated_response(
            EmployeeSerializer(page, many=True, context=context).data
        )

    @extend_schema(parameters=[UNMASK_PARAM])
    def retrieve(self, request, *args, **kwargs):
        employee = self.get_object()
        context = self.get_serializer_context()
        if context["unmasked"]:
            log_unmasked_view(
                actor=request.user,
                record=employee,
                fields=["mobile", "id_number", "address"],
                request=request,
            )
        return Response(EmployeeSerializer(employee, context=context).data)

    @extend_schema(request=EmployeeWriteSerializer, responses={201: EmployeeSerializer})
    def create(self, request):
        payload = EmployeeWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        missing = {
            name: ["This field is required."]
            for name in ("username", "name", "department")
            if name not in data
        }
        if missing:
            raise serializers.ValidationError(missing)
        employee = services.employee_create(actor=request.user, **data)
        return Response(EmployeeSerializer(employee).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EmployeeWriteSerializer, responses=EmployeeSerializer)
    def partial_update(self, request, pk=None):
        employee = self.get_object()
        payload = EmployeeWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        data.pop("username", None)
        data.pop("password", None)
        roles = data.pop("roles", None)
        employee = services.employee_update(
            actor=request.user, employee=employee, roles=roles, **data
        )
        return Response(EmployeeSerializer(employee).data)

    @extend_schema(request=LeaveSerializer, responses=EmployeeSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        employee = self.get_object()
        payload = LeaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if data.get("successor") is not None:
            if not request.user.has_perm(OrgPerm.HANDOVER_EMPLOYEE):
                raise PermissionDenied()
            data["successor"] = selectors.employee_get(actor=request.user, pk=data["successor"].pk)
        employee = services.employee_leave(actor=request.user, employee=employee, **data)
        return Response(EmployeeSerializer(employee).data)


class RoleSerializer(serializers.ModelSerializer):
    permissions = serializers.SlugRelatedField(
        many=True,
        slug_field="codename",
        queryset=Permission.objects.none(),
        required=False,
        help_text="Permission codenames as app_label.codename",
    )
    departments = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Department.objects.all(), required=False
    )

    class Meta:
        model = Role
        fields = [
            "id",
            "code",
            "name",
            "description",
            "data_scope",
            "app_scopes",
            "departments",
            "permissions",
            "is_system",
        ]
        read_only_fields = ["is_system"]
        extra_kwargs = {
            "app_scopes": {
                "help_text": "Data scope per module, replacing data_scope for that module's "
                'permissions, e.g. {"crm": "all"}'
            }
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["permissions"] = sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in instance.permissions.all()
        )
        return data

    def to_internal_value(self, data):
        codes = data.get("permissions") if hasattr(data, "get") else None
        rest = (
            {k: v for k, v in data.items() if k != "permissions"}
            if hasattr(data, "items")
            else data
        )
        value = super().to_internal_value(rest)
        if codes is not None:
            if not isinstance(codes, list):
                raise serializers.ValidationError(
                    {"permissions": ["A list of app_label.codename is expected."]}
                )
            found, unknown = [], []
            grantable = selectors.grantable_permissions()
            for code in codes:
                app_label, _, codename = str(code).partition(".")
                permission = grantable.filter(
                    content_type__app_label=app_label, codename=codename
                ).first()
                (found if permission else unknown).append(permission or code)
            if unknown:
                raise serializers.ValidationError(
                    {"permissions": [f"Unknown permission: {', '.join(map(str, unknown))}"]}
                )
            value["permissions"] = found
        return value


class RoleViewSet(viewsets.ModelViewSet):
    serializer_class = RoleSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": OrgPerm.VIEW_ROLE, "POST": OrgPerm.ADD_ROLE, "WRITE": OrgPerm.CHANGE_ROLE}
    filterset_class = RoleFilter
    search_fields = ["name", "code"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.role_list(actor=self.request.user).prefetch_related(
            "permissions__content_type", "departments"
        )

    def perform_create(self, serializer):
        serializer.instance = services.role_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("code", None)
        serializer.instance = services.role_update(
            actor=self.request.user, role=serializer.instance, **data
        )

    def perform_destroy(self, instance):
        services.role_delete(actor=self.request.user, role=instance)


class PositionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Position
        fields = ["id", "name", "description"]


class PositionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = PositionSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"POST": OrgPerm.CHANGE_POSITION}

    def get_queryset(self):
        return selectors.position_list(actor=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.position_save(
            actor=self.request.user, **serializer.validated_data
        )


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField()
    employee = serializers.IntegerField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    permissions = serializers.ListField(child=serializers.CharField())


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    user = request.user
    employee = selectors.employee_for_user(user)
    return Response(
        {
            "id": user.pk,
            "username": user.username,
            "name": str(user),
            "language": user.language or settings.LANGUAGE_CODE,
            "employee": employee.pk if employee else None,
            "department": employee.department.name if employee else None,
            "permissions": sorted(user.get_all_permissions()),
        }
    )


def register(router) -> None:
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("employees", EmployeeViewSet, basename="employee")
    router.register("roles", RoleViewSet, basename="role")
    router.register("positions", PositionViewSet, basename="position")
