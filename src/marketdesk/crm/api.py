"""REST API of the CRM app: customers (scenes, search, filters), the pool actions, contacts,
follow-ups, revisits, duplicate check and analysis, with the same rules as the pages."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from marketdesk.core.api import KeysetPagination
from marketdesk.core.masking import (
    can_view_personal_data,
    log_personal_data_access,
    log_unmasked_view,
    mask_address,
    mask_mobile,
)
from marketdesk.core.models import PersonalDataAction
from marketdesk.core.validators import normalise_mobile
from marketdesk.org.api import PermRequired

from . import selectors, services
from .filters import CustomerFilter, FollowUpFilter, PoolCustomerFilter, RevisitFilter
from .models import (
    Contact,
    Customer,
    CustomerKind,
    CustomerLevel,
    CustomerPool,
    CustomerSource,
    CustomerStage,
    DecisionRole,
    FollowUp,
    FollowUpKind,
    Industry,
    Revisit,
    Tag,
)
from .permissions import CrmPerm
from .selectors import Scene

User = get_user_model()

UNMASK_PARAM = OpenApiParameter(
    "unmask", bool, description="Show mobiles and addresses unmasked (permission; logged)"
)
SCENE_PARAM = OpenApiParameter(
    "scene",
    str,
    enum=[s.value for s in Scene if s != Scene.POOL],
    description="mine | team | subordinates | all (default all)",
)
SEARCH_PARAM = OpenApiParameter("q", str, description="Name, number, credit code or mobile")


def _pk(kwargs) -> int:
    pk = str(kwargs.get("pk", ""))
    if not pk.isdigit():
        raise Http404
    return int(pk)


class ContactSerializer(serializers.ModelSerializer):
    mobile = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "name",
            "title",
            "mobile",
            "email",
            "wechat",
            "birthday",
            "is_primary",
            "decision_role",
            "notes",
        ]

    def get_mobile(self, contact) -> str:
        return contact.mobile if self.context.get("unmasked") else mask_mobile(contact.mobile)


class ContactWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False)
    title = serializers.CharField(max_length=50, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    wechat = serializers.CharField(max_length=40, required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    is_primary = serializers.BooleanField(required=False)
    decision_role = serializers.ChoiceField(
        choices=DecisionRole.choices, required=False, allow_blank=True
    )
    notes = serializers.CharField(max_length=200, required=False, allow_blank=True)
    confirm_duplicates = serializers.BooleanField(required=False, default=False)


class CustomerSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_name = serializers.SerializerMethodField()
    department_name = serializers.SerializerMethodField()
    mobile = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    in_pool = serializers.BooleanField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "kind",
            "name",
            "credit_code",
            "mobile",
            "industry",
            "province",
            "city",
            "district",
            "address",
            "source",
            "level",
            "stage",
            "owner",
            "owner_name",
            "department",
            "department_name",
            "pool",
            "in_pool",
            "locked",
            "tags",
            "products_of_interest",
            "budget",
            "purchase_timing",
            "pain_points",
            "birthday",
            "member_since",
            "notes",
            "last_contact_at",
            "next_contact_at",
            "won_at",
            "created_at",
        ]

    def get_owner_name(self, customer) -> str:
        return str(customer.owner) if customer.owner_id else ""

    def get_department_name(self, customer) -> str:
        return customer.department.name if customer.department_id else ""

    def get_mobile(self, customer) -> str:
        return customer.mobile if self.context.get("unmasked") else mask_mobile(customer.mobile)

    def get_address(self, customer) -> str:
        return customer.address if self.context.get("unmasked") else mask_address(customer.address)


class CustomerWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CustomerKind.choices, required=False)
    name = serializers.CharField(max_length=100, required=False)
    credit_code = serializers.CharField(max_length=24, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True)
    industry = serializers.ChoiceField(choices=Industry.choices, required=False, allow_blank=True)
    province = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=20, required=False, allow_blank=True)
    district = serializers.CharField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=CustomerSource.choices, required=False)
    level = serializers.ChoiceField(choices=CustomerLevel.choices, required=False)
    stage = serializers.ChoiceField(choices=CustomerStage.choices, required=False)
    products_of_interest = serializers.CharField(max_length=200, required=False, allow_blank=True)
    budget = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    purchase_timing = serializers.CharField(max_length=60, required=False, allow_blank=True)
    pain_points = serializers.CharField(required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    member_since = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    to_pool = serializers.BooleanField(required=False, default=False)
    confirm_duplicates = serializers.BooleanField(required=False, default=False)


class FollowUpSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "customer",
            "customer_name",
            "user",
            "user_name",
            "kind",
            "at",
            "content",
            "next_at",
            "stage",
            "contacts",
            "latitude",
            "longitude",
            "check_in_address",
            "created_at",
        ]
        read_only_fields = fields


class FollowUpWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FollowUpKind.choices)
    content = serializers.CharField()
    at = serializers.DateTimeField(required=False, allow_null=True)
    next_at = serializers.DateTimeField(required=False, allow_null=True)
    stage = serializers.ChoiceField(choices=CustomerStage.choices, required=False, allow_blank=True)
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False
    )
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-90),
        max_value=Decimal(90),
        required=False,
        allow_null=True,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-180),
        max_value=Decimal(180),
        required=False,
        allow_null=True,
    )
    check_in_address = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RevisitSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    assignee_name = serializers.CharField(source="assignee.name", read_only=True)

    class Meta:
        model = Revisit
        fields = [
            "id",
            "customer",
            "customer_name",
            "assignee",
            "assignee_name",
            "due_date",
            "status",
            "channel",
            "done_at",
            "satisfaction",
            "experience",
            "opinions",
            "suggestions",
        ]
        read_only_fields = fields


class RevisitRecordSerializer(serializers.Serializer):
    satisfaction = serializers.IntegerField(min_value=1, max_value=5)
    channel = serializers.ChoiceField(choices=FollowUpKind.choices, required=False)
    experience = serializers.CharField(required=False, allow_blank=True)
    opinions = serializers.CharField(required=False, allow_blank=True)
    suggestions = serializers.CharField(required=False, allow_blank=True)


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class AssignSerializer(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    keep_as_member = serializers.BooleanField(required=False, default=False)
    cascade = serializers.BooleanField(required=False, default=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerPool
        fields = [
            "id",
            "name",
            "department",
            "provinces",
            "is_default",
            "active",
            "no_follow_up_days_a",
            "no_follow_up_days_b",
            "no_follow_up_days_c",
            "no_deal_days_a",
            "no_deal_days_b",
            "no_deal_days_c",
            "deal_exempt",
            "remind_days_before",
            "reclaim_cooldown_days",
            "daily_claim_cap",
        ]


class _UnmaskMixin:
    def unmasked(self) -> bool:
        wants = self.request.query_params.get("unmask") in {"1", "true"}
        if wants and not can_view_personal_data(self.request.user):
            raise PermissionDenied("You may not see personal data unmasked.")
        return wants


class CustomerViewSet(_UnmaskMixin, viewsets.GenericViewSet):
    """Customers in the caller's scope, by scene. Mobiles and addresses are masked unless
    ?unmask=1 (a permission; every unmasked read is logged)."""

    serializer_class = CustomerSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": CrmPerm.VIEW_CUSTOMER,
        "create": CrmPerm.ADD_CUSTOMER,
        "claim": CrmPerm.CLAIM_CUSTOMER,
        "assign": CrmPerm.ASSIGN_CUSTOMER,
        "lock": CrmPerm.LOCK_CUSTOMER,
        "unlock": CrmPerm.LOCK_CUSTOMER,
        "destroy": CrmPerm.DELETE_CUSTOMER,
        "follow_ups": CrmPerm.VIEW_CUSTOMER,
        "contacts": CrmPerm.VIEW_CUSTOMER,
        "return_to_pool": CrmPerm.VIEW_CUSTOMER,
        "WRITE": CrmPerm.VIEW_CUSTOMER,  # editing: the service checks owner / scope / share
    }
    filterset_class = CustomerFilter
    pagination_class = KeysetPagination  # ordered by (-last_contact_at, -id): `next` is a cursor

    def get_queryset(self):
        scene = self.request.query_params.get("scene") or Scene.ALL
        if scene not in {Scene.MINE, Scene.TEAM, Scene.SUBORDINATES, Scene.ALL}:
            scene = Scene.ALL
        text = self.request.query_params.get("q", "")[:100]
        queryset = selectors.customer_search(actor=self.request.user, text=text, scene=scene)
        return queryset.prefetch_related("tags").order_by("-last_contact_at", "-pk")

    def get_object(self):
        return selectors.customer_get(actor=self.request.user, pk=_pk(self.kwargs))

    def _out(self, customer, *, status_code=status.HTTP_200_OK):
        customer = Customer.objects.select_related("owner", "department").get(pk=customer.pk)
        return Response(CustomerSerializer(customer).data, status=status_code)

    @extend_schema(parameters=[SCENE_PARAM, SEARCH_PARAM, UNMASK_PARAM])
    def list(self, request):
        unmasked = self.unmasked()
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        if unmasked:
            log_personal_data_access(
                actor=request.user,
                action=PersonalDataAction.VIEW,
                description=f"customers list (API, unmasked): {request.GET.urlencode()}",
                model=Customer,
                row_count=len(page),
                request=request,
            )
        return self.get_paginated_response(
            CustomerSerializer(page, many=True, context={"unmasked": unmasked}).data
        )

    @extend_schema(parameters=[UNMASK_PARAM])
    def retrieve(self, request, pk=None):
        customer = self.get_object()
        unmasked = self.unmasked()
        if unmasked:
            log_unmasked_view(
                actor=request.user, record=customer, fields=["mobile", "address"], request=request
            )
        return Response(CustomerSerializer(customer, context={"unmasked": unmasked}).data)

    @extend_schema(request=CustomerWriteSerializer, responses={201: CustomerSerializer})
    def create(self, request):
        payload = CustomerWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if not data.get("name"):
            raise serializers.ValidationError({"name": ["This field is required."]})
        data.setdefault("kind", CustomerKind.COMPANY)
        customer = services.customer_create(actor=request.user, **data)
        return self._out(customer, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=CustomerWriteSerializer, responses=CustomerSerializer)
    def partial_update(self, request, pk=None):
        customer = self.get_object()
        payload = CustomerWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        unknown = sorted({"owner", "to_pool"} & set(request.data))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: ["Use the assign, claim or return actions to change the owner."]
                    for name in unknown
                }
            )
        data.pop("owner", None)
        data.pop("to_pool", None)
        customer = services.customer_update(actor=request.user, customer=customer, **data)
        return self._out(customer)

    def destroy(self, request, pk=None):
        services.customer_delete(actor=request.user, customer=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        customer = services.customer_claim(actor=request.user, customer=self.get_object())
        return self._out(customer)

    @extend_schema(request=ReturnSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_pool(self, request, pk=None):
        payload = ReturnSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        customer = services.customer_return(
            actor=request.user, customer=self.get_object(), **payload.validated_data
        )
        return self._out(customer)

    @extend_schema(request=AssignSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        payload = AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        customer = services.customer_assign(
            actor=request.user, customer=self.get_object(), **payload.validated_data
        )
        return self._out(customer)

    @extend_schema(request=None, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def lock(self, request, pk=None):
        customer = services.customer_set_locked(
            actor=request.user, customer=self.get_object(), locked=True
        )
        return self._out(customer)

    @extend_schema(request=None, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        customer = services.customer_set_locked(
            actor=request.user, customer=self.get_object(), locked=False
        )
        return self._out(customer)

    @extend_schema(methods=["GET"], responses=FollowUpSerializer(many=True), parameters=[])
    @extend_schema(
        methods=["POST"], request=FollowUpWriteSerializer, responses={201: FollowUpSerializer}
    )
    @action(detail=True, methods=["get", "post"], url_path="follow-ups")
    def follow_ups(self, request, pk=None):
        customer = self.get_object()
        if request.method == "GET":
            rows = selectors.follow_up_list(actor=request.user, customer=customer)[:200]
            return Response(FollowUpSerializer(rows, many=True).data)
        if not request.user.has_perm(CrmPerm.ADD_FOLLOW_UP):
            raise PermissionDenied
        payload = FollowUpWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        follow_up = services.follow_up_create(
            actor=request.user, customer=customer, **payload.validated_data
        )
        return Response(FollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], responses=ContactSerializer(many=True), parameters=[UNMASK_PARAM]
    )
    @extend_schema(
        methods=["POST"], request=ContactWriteSerializer, responses={201: ContactSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def contacts(self, request, pk=None):
        customer = self.get_object()
        if request.method == "GET":
            unmasked = self.unmasked()
            if unmasked:
                log_unmasked_view(
                    actor=request.user, record=customer, fields=["contacts.mobile"], request=request
                )
            return Response(
                ContactSerializer(
                    customer.contacts.all(), many=True, context={"unmasked": unmasked}
                ).data
            )
        payload = ContactWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if not data.get("name"):
            raise serializers.ValidationError({"name": ["This field is required."]})
        contact = services.contact_create(actor=request.user, customer=customer, **data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactViewSet(_UnmaskMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One contact (of a customer the caller may see): read, change, delete."""

    serializer_class = ContactSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": CrmPerm.VIEW_CUSTOMER, "WRITE": CrmPerm.VIEW_CUSTOMER}

    def get_queryset(self):
        return selectors.contact_list(actor=self.request.user)

    def get_object(self):
        return selectors.contact_get(actor=self.request.user, pk=_pk(self.kwargs))

    @extend_schema(parameters=[UNMASK_PARAM])
    def retrieve(self, request, pk=None):
        contact = self.get_object()
        unmasked = self.unmasked()
        if unmasked:
            log_unmasked_view(
                actor=request.user, record=contact, fields=["mobile"], request=request
            )
        return Response(ContactSerializer(contact, context={"unmasked": unmasked}).data)

    @extend_schema(request=ContactWriteSerializer, responses=ContactSerializer)
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        payload = ContactWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        contact = services.contact_update(
            actor=request.user, contact=contact, **payload.validated_data
        )
        return Response(ContactSerializer(contact).data)

    def destroy(self, request, pk=None):
        services.contact_delete(actor=request.user, contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PoolCustomerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Customers in the pools the caller belongs to (claim them with POST customers/{id}/claim/)."""

    serializer_class = CustomerSerializer
    queryset = Customer.objects.none()  # for the schema; get_queryset() is scoped
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": CrmPerm.CLAIM_CUSTOMER}
    filterset_class = PoolCustomerFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        queryset = selectors.pool_customers(actor=self.request.user)
        text = self.request.query_params.get("q", "")[:100]
        if text.strip():
            queryset = queryset.filter(selectors.search_condition(text))
        return queryset.order_by("-pooled_at", "-pk")

    @extend_schema(parameters=[SEARCH_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FollowUpSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": CrmPerm.VIEW_CUSTOMER}
    filterset_class = FollowUpFilter

    def get_queryset(self):
        return selectors.follow_up_list(actor=self.request.user).order_by("-at", "-pk")

    def get_object(self):
        follow_up = self.get_queryset().filter(pk=_pk(self.kwargs)).first()
        if follow_up is None:
            raise Http404
        return follow_up


class RevisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RevisitSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": CrmPerm.VIEW_REVISIT, "record": CrmPerm.CHANGE_REVISIT}
    filterset_class = RevisitFilter

    def get_queryset(self):
        return selectors.revisit_list(actor=self.request.user).order_by("due_date", "pk")

    def get_object(self):
        return selectors.revisit_get(actor=self.request.user, pk=_pk(self.kwargs))

    @extend_schema(request=RevisitRecordSerializer, responses=RevisitSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        payload = RevisitRecordSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        revisit = services.revisit_record(
            actor=request.user, revisit=self.get_object(), **payload.validated_data
        )
        return Response(RevisitSerializer(revisit).data)


class PoolViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customer pools and their rules (managing them needs crm.manage_crm_settings)."""

    serializer_class = PoolSerializer
    queryset = CustomerPool.objects.none()  # for the schema; get_queryset() is scoped
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": None, "WRITE": CrmPerm.MANAGE_SETTINGS}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomerPool.objects.none()
        return selectors.pool_list(actor=self.request.user).order_by("name")

    def get_object(self):
        return selectors.pool_get(actor=self.request.user, pk=_pk(self.kwargs))

    def perform_create(self, serializer):
        serializer.instance = services.pool_save(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.pool_save(
            actor=self.request.user, pool=serializer.instance, **serializer.validated_data
        )


DUPLICATE_RESPONSE = inline_serializer(
    "CustomerDuplicate",
    {
        "field": serializers.CharField(),
        "where": serializers.CharField(),
        "customer": serializers.IntegerField(allow_null=True),
    },
    many=True,
)


def _stored_mobile(typed: str) -> str:
    """The mobile as the service stores it; "" (matching nothing) if it is not a mobile."""
    try:
        return normalise_mobile(typed[:20]) if typed.strip() else ""
    except DjangoValidationError:
        return ""


class DuplicateCheckViewSet(viewsets.ViewSet):
    """Customers that look like the one about to be saved (outside the caller's scope only
    as "belongs to 李强, 销售一组", without the id)."""

    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": CrmPerm.VIEW_CUSTOMER}

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str),
            OpenApiParameter("credit_code", str),
            OpenApiParameter("mobile", str),
            OpenApiParameter("kind", str, enum=[k.value for k in CustomerKind]),
        ],
        responses=DUPLICATE_RESPONSE,
    )
    def list(self, request):
        params = request.query_params
        matches = services.find_duplicates(
            actor=request.user,
            name=params.get("name", "")[:100],
            credit_code=params.get("credit_code", "").strip().upper()[:18],
            mobiles=[_stored_mobile(params.get("mobile", ""))],
            kind=params.get("kind", CustomerKind.COMPANY),
        )
        return Response(
            [
                {
                    "field": m.field,
                    "where": m.where,
                    "customer": m.customer_id if m.visible else None,
                }
                for m in matches
            ]
        )


class AnalysisViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": CrmPerm.VIEW_ANALYSIS}

    @extend_schema(
        parameters=[
            OpenApiParameter("start", datetime.date),
            OpenApiParameter("end", datetime.date),
        ],
        responses=inline_serializer(
            "CustomerAnalysis",
            {"total": serializers.IntegerField(), "stage": serializers.JSONField()},
        ),
    )
    def list(self, request):
        today = timezone.localdate()
        try:
            start = datetime.date.fromisoformat(request.query_params.get("start", ""))
        except ValueError:
            start = today.replace(month=1, day=1)
        try:
            end = datetime.date.fromisoformat(request.query_params.get("end", ""))
        except ValueError:
            end = today
        data = selectors.customer_analysis(actor=request.user, start=start, end=end)
        for key in ("new_by_month", "dormant_by_month"):
            data[key] = [
                {"month": r["month"].strftime("%Y-%m"), "count": r["n"]} for r in data[key]
            ]
        data["activity"] = [
            {"user": r["user__name"], "kind": r["kind"], "count": r["n"]} for r in data["activity"]
        ]
        for key in ("stage", "level", "industry", "province", "source", "interests"):
            data[key] = [{"value": k, "count": n} for k, n in data[key]]
        return Response(data)


def register(router) -> None:
    router.register("crm/customers", CustomerViewSet, basename="crm-customer")
    router.register("crm/contacts", ContactViewSet, basename="crm-contact")
    router.register("crm/pool", PoolCustomerViewSet, basename="crm-pool-customer")
    router.register("crm/follow-ups", FollowUpViewSet, basename="crm-follow-up")
    router.register("crm/revisits", RevisitViewSet, basename="crm-revisit")
    router.register("crm/pools", PoolViewSet, basename="crm-pool")
    router.register("crm/duplicates", DuplicateCheckViewSet, basename="crm-duplicate")
    router.register("crm/analysis", AnalysisViewSet, basename="crm-analysis")
