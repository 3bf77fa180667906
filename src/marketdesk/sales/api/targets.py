"""REST API of the targets part of sales: targets (with copy and split), the dashboard figures,
rankings and RFM scores, through the same services, selectors and permissions as the pages."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.functional import Promise
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from marketdesk.org.models import Department

from .. import selectors_targets as selectors
from ..forms_targets import RfmFilter, TargetFilter
from ..models import CustomerAccount, RfmSegment, SalesTarget, TargetMetric, TargetSubject
from ..permissions import SalesPerm
from ..services import targets as services

MONEY = {"max_digits": 14, "decimal_places": 2}


class PermRequired(permissions.BasePermission):
    """The view's `perms`: by action name, then READ/WRITE."""

    def has_permission(self, request, view):
        perms = getattr(view, "perms", {})
        perm = perms.get(getattr(view, "action", None) or "") or perms.get(
            "READ" if request.method in permissions.SAFE_METHODS else "WRITE"
        )
        return perm is None or request.user.has_perm(perm)


def plain(value: Any) -> Any:
    """JSON-ready: money as strings with two places (as the serializers give it), lazy text
    as text, dates in ISO form."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _int(value, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def _period(request) -> tuple[int, int]:
    today = timezone.localdate()
    year = _int(request.query_params.get("year"), today.year, 2000, 2100)
    month = _int(
        request.query_params.get("month"), today.month if year == today.year else 12, 1, 12
    )
    return year, month


YEAR_PARAM = OpenApiParameter("year", int, description="Year (default: this year)")
MONTH_PARAM = OpenApiParameter(
    "month", int, description="Month 1-12 (default: this month, or 12 for a past year)"
)


# Targets ------------------------------------------------------------------------------------------


class MonthsField(serializers.ListField):
    """The 12 monthly amounts of a target (January first)."""

    def get_attribute(self, instance):
        return [instance.month(number) for number in range(1, 13)]


class TargetSerializer(serializers.ModelSerializer):
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    annual = serializers.DecimalField(required=False, allow_null=True, **MONEY)
    months = MonthsField(
        child=serializers.DecimalField(min_value=Decimal("0"), **MONEY),
        min_length=12,
        max_length=12,
        help_text="12 monthly amounts, January first; the year total is their sum.",
    )
    who = serializers.SerializerMethodField()

    class Meta:
        model = SalesTarget
        fields = [
            "id",
            "year",
            "metric",
            "subject",
            "department",
            "user",
            "who",
            "annual",
            "months",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []  # one target per subject: the service says so, naming the field

    def get_who(self, target: SalesTarget) -> str:
        if target.subject == TargetSubject.COMPANY:
            return str(TargetSubject.COMPANY.label)
        if target.subject == TargetSubject.DEPARTMENT:
            return str(target.department)
        return target.user.name if target.user else ""


class TargetUpdateSerializer(serializers.Serializer):
    months = serializers.ListField(
        child=serializers.DecimalField(min_value=Decimal("0"), **MONEY),
        min_length=12,
        max_length=12,
    )
    annual = serializers.DecimalField(required=False, allow_null=True, **MONEY)


class TargetCopyInput(serializers.Serializer):
    year = serializers.IntegerField(min_value=2001, max_value=2100)
    percent = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, default=Decimal("0")
    )
    metric = serializers.ChoiceField(choices=TargetMetric.choices, required=False, allow_blank=True)


class TargetSplitInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=[("even", "even"), ("seasonal", "seasonal")])
    annual = serializers.DecimalField(
        required=False, allow_null=True, min_value=Decimal("0"), **MONEY
    )


ActualsOutput = inline_serializer(
    "SalesTargetActuals",
    {
        "months": serializers.ListField(
            child=inline_serializer(
                "SalesTargetMonth",
                {
                    "month": serializers.IntegerField(),
                    "target": serializers.DecimalField(**MONEY),
                    "actual": serializers.DecimalField(**MONEY),
                    "rate": serializers.DecimalField(max_digits=8, decimal_places=1),
                },
            )
        ),
        "annual": serializers.DecimalField(**MONEY),
        "actual": serializers.DecimalField(**MONEY),
        "rate": serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True),
    },
)


class TargetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Sales targets (R2.2.4): a year total and 12 months of order amount or receipts for the
    company, a unit or a person. PATCH sets the months; `copy` copies last year's targets,
    `split` spreads a year total over the months."""

    queryset = SalesTarget.objects.none()
    serializer_class = TargetSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.VIEW_TARGET, "WRITE": SalesPerm.CHANGE_TARGET}
    filterset_class = TargetFilter
    search_fields = ["department__name", "user__name"]
    ordering_fields = ["year", "annual"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.target_list(actor=self.request.user).order_by("-year", "metric", "pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.target_create(
            actor=self.request.user,
            year=data["year"],
            metric=data["metric"],
            subject=data["subject"],
            department=data.get("department"),
            user=data.get("user"),
            months=data["months"],
            annual=data.get("annual"),
        )

    @extend_schema(request=TargetUpdateSerializer, responses=TargetSerializer)
    def partial_update(self, request, *args, **kwargs):
        target = self.get_object()
        data = TargetUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = services.target_update(
            actor=request.user,
            target=target,
            months=data.validated_data["months"],
            annual=data.validated_data.get("annual"),
        )
        return Response(TargetSerializer(target).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.target_delete(actor=self.request.user, target=instance)

    @extend_schema(request=TargetCopyInput, responses={201: TargetSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def copy(self, request):
        """Copy last year's targets into `year`, every month changed by `percent`."""
        data = TargetCopyInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.targets_copy_from_last_year(
            actor=request.user,
            year=data.validated_data["year"],
            percent=data.validated_data.get("percent") or Decimal("0"),
            metric=data.validated_data.get("metric") or None,
        )
        return Response(TargetSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TargetSplitInput, responses=TargetSerializer)
    @action(detail=True, methods=["post"])
    def split(self, request, pk=None):
        """Spread the year total (or a new one) evenly or like last year's actual months."""
        target = self.get_object()
        data = TargetSplitInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = services.target_split(
            actor=request.user,
            target=target,
            mode=data.validated_data["mode"],
            annual=data.validated_data.get("annual"),
        )
        return Response(TargetSerializer(target).data)

    @extend_schema(responses=ActualsOutput)
    @action(detail=True, methods=["get"])
    def actuals(self, request, pk=None):
        """Target, actual and achievement per month (from the rollups)."""
        target = self.get_object()
        actual = selectors.target_actuals([target])[target.pk]
        total = sum(actual, Decimal("0.00"))
        return Response(
            plain(
                {
                    "months": [
                        {
                            "month": m,
                            "target": target.month(m),
                            "actual": actual[m - 1],
                            "rate": selectors.rate(actual[m - 1], target.month(m)),
                        }
                        for m in range(1, 13)
                    ],
                    "annual": target.annual,
                    "actual": total,
                    "rate": selectors.rate(total, target.annual),
                }
            )
        )


# Dashboard and rankings ---------------------------------------------------------------------------


class DashboardViewSet(viewsets.ViewSet):
    """The sales dashboard's figures for the caller's scope (the page's data as JSON)."""

    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.VIEW_DASHBOARD, "rebuild": SalesPerm.CHANGE_TARGET}

    @extend_schema(
        parameters=[
            YEAR_PARAM,
            MONTH_PARAM,
            OpenApiParameter("metric", str, enum=TargetMetric.values),
            OpenApiParameter("by", str, enum=["unit", "person"]),
            OpenApiParameter("period", str, enum=["month", "year"], description="Rankings of"),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description=(
            "level (company/unit/self), kpis (order amount and receipts: year, month, year to "
            "date, MoM, YoY), rows and total (12 months of target, actual and achievement of "
            "the chosen metric; by unit, every unit of the tree in path order, a unit's actuals "
            "including the units below it, with depth, parent and children), trend, rankings, "
            "funnel, status (marks not yet in the figures)."
        ),
    )
    def list(self, request):
        year, month = _period(request)
        metric = request.query_params.get("metric")
        services.rollups_catch_up()
        data = selectors.dashboard(
            actor=request.user,
            year=year,
            month=month,
            metric=metric if metric in TargetMetric.values else TargetMetric.ORDER_AMOUNT,
            by="person" if request.query_params.get("by") == "person" else "unit",
            rankings_period="year" if request.query_params.get("period") == "year" else "month",
        )
        return Response(plain(data))

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def rebuild(self, request):
        """Recompute every dashboard figure from the orders and receipts."""
        return Response(plain(services.rollups_rebuild_now(actor=request.user)))


class RankingsViewSet(viewsets.ViewSet):
    """Salespeople ranked by order amount, receipts, new customers and follow-ups."""

    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.VIEW_DASHBOARD}

    @extend_schema(
        parameters=[
            YEAR_PARAM,
            MONTH_PARAM,
            OpenApiParameter("period", str, enum=["month", "year"]),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description=(
            "boards: orders, receipts, new_customers, follow_ups; each with rows (position, "
            "user_id, name, unit, value: null where a salesperson may not see a colleague's "
            "figure) and me (the caller's own place)."
        ),
    )
    def list(self, request):
        year, month = _period(request)
        services.rollups_catch_up()
        data = selectors.rankings(
            actor=request.user,
            year=year,
            month=None if request.query_params.get("period") == "year" else month,
            limit=20,
        )
        return Response(plain(data))


# RFM ----------------------------------------------------------------------------------------------


class RfmSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_number = serializers.CharField(source="customer.number", read_only=True)
    segment_label = serializers.SerializerMethodField()

    class Meta:
        model = CustomerAccount
        fields = [
            "customer",
            "customer_name",
            "customer_number",
            "last_order_on",
            "order_count",
            "order_amount",
            "recency",
            "frequency",
            "monetary",
            "rfm_segment",
            "segment_label",
            "rfm_updated_at",
        ]
        read_only_fields = fields

    def get_segment_label(self, account: CustomerAccount) -> str:
        labels = dict(RfmSegment.choices)
        return str(labels.get(account.rfm_segment, account.rfm_segment))


RfmSummary = inline_serializer(
    "SalesRfmSegment",
    {
        "segment": serializers.ChoiceField(choices=RfmSegment.choices),
        "label": serializers.CharField(),
        "count": serializers.IntegerField(),
        "amount": serializers.DecimalField(**MONEY),
        "share": serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True),
        "computed_at": serializers.DateTimeField(allow_null=True),
    },
    many=True,
)


class RfmViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Customers' RFM scores (recency, frequency, monetary: 1-5) and segment (R5.1.1)."""

    queryset = CustomerAccount.objects.none()
    serializer_class = RfmSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.VIEW_DASHBOARD, "compute": SalesPerm.CHANGE_TARGET}
    filterset_class = RfmFilter
    search_fields = ["customer__name", "customer__number"]
    ordering_fields = ["order_amount", "last_order_on", "order_count"]

    def get_queryset(self):
        return selectors.rfm_accounts(actor=self.request.user).order_by("-order_amount", "pk")

    @extend_schema(responses=RfmSummary)
    @action(detail=False, methods=["get"])
    def summary(self, request):
        """Customers and order amount per segment."""
        return Response(plain(selectors.rfm_summary(actor=request.user)))

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def compute(self, request):
        """Compute the RFM scores now (the nightly job does it at 03:00)."""
        return Response(plain(services.rfm_recompute(actor=request.user)))


def register(router) -> None:
    """Add this part's viewsets to the project router."""
    router.register("sales/targets", TargetViewSet, basename="sales-target")
    router.register("sales/dashboard", DashboardViewSet, basename="sales-dashboard")
    router.register("sales/rankings", RankingsViewSet, basename="sales-rankings")
    router.register("sales/rfm", RfmViewSet, basename="sales-rfm")
