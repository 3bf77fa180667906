"""REST API of the opportunities part of sales (/api/v1/sales/...): opportunities with their
stage moves and end states, the funnel and the pipeline, stage groups and competitors. The same
services, selectors and permissions as the pages."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from marketdesk.crm.models import Contact, Customer

from .. import selectors_opportunities as selectors
from ..forms_opportunities import OpportunityFilter
from ..models import Competitor, Opportunity, Stage, StageGroup
from ..permissions import SalesPerm
from ..services import opportunities as services

MONEY = {"max_digits": 14, "decimal_places": 2}


class PermRequired(permissions.BasePermission):
    """The view's `perms`: by action name, then READ/WRITE; a list means any one of them."""

    def has_permission(self, request, view):
        perms = getattr(view, "perms", {})
        perm = perms.get(getattr(view, "action", None) or "") or perms.get(
            "READ" if request.method in permissions.SAFE_METHODS else "WRITE"
        )
        if perm is None:
            return True
        wanted = perm if isinstance(perm, (list, tuple)) else [perm]
        return any(request.user.has_perm(p) for p in wanted)


# Opportunities ------------------------------------------------------------------------------------


class RivalSerializer(serializers.Serializer):
    competitor = serializers.IntegerField(source="competitor_id")
    name = serializers.CharField(source="competitor.name")
    their_price = serializers.DecimalField(allow_null=True, **MONEY)
    notes = serializers.CharField()


class OpportunitySerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True, default=None)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="open, won, lost or invalid (OpportunityStatus)"
    )
    win_percent = serializers.IntegerField(read_only=True)
    weighted_amount = serializers.DecimalField(read_only=True, **MONEY)
    competitors = RivalSerializer(source="rivals", many=True, read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "number",
            "name",
            "customer",
            "customer_name",
            "contact",
            "contact_name",
            "owner",
            "owner_name",
            "department",
            "stage_group",
            "stage",
            "stage_name",
            "win_percent",
            "status",
            "end_reason",
            "lost_to",
            "expected_amount",
            "weighted_amount",
            "expected_close_date",
            "closed_at",
            "competitors",
            "notes",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class UsableCustomerField(serializers.PrimaryKeyRelatedField):
    """Only customers the caller sees in crm (others do not exist for them)."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Customer.objects.none()
        return selectors.customer_choices(actor=request.user)


class OpportunityInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    customer = UsableCustomerField()
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False
    )
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(), required=False, allow_null=True
    )
    expected_amount = serializers.DecimalField(
        min_value=Decimal("0"), default=Decimal("0.00"), **MONEY
    )
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    competitors = serializers.PrimaryKeyRelatedField(
        queryset=Competitor.objects.all(), many=True, required=False
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class MoveInput(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class LoseInput(ReasonInput):
    competitor = serializers.PrimaryKeyRelatedField(
        queryset=Competitor.objects.all(), required=False, allow_null=True
    )


ConvertResult = inline_serializer(
    "SalesOpportunityConvertResult",
    {"opportunity": OpportunitySerializer(), "order_url": serializers.CharField()},
)
FunnelRowSerializer = inline_serializer(
    "SalesFunnelRow",
    {
        "stage": serializers.IntegerField(allow_null=True),
        "label": serializers.CharField(),
        "count": serializers.IntegerField(),
        "amount": serializers.DecimalField(**MONEY),
        "conversion": serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True),
    },
    many=True,
)
PipelineSerializer = inline_serializer(
    "SalesPipelineSummary",
    {
        "count": serializers.IntegerField(),
        "amount": serializers.DecimalField(**MONEY),
        "weighted_amount": serializers.DecimalField(**MONEY),
    },
)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class OpportunityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Opportunities (商机): open one on a customer you work on, move it through the stages of
    its group, end it as won, lost (with the reason and the competitor) or invalid, reopen it,
    convert it to an order. Each caller sees their data scope."""

    queryset = Opportunity.objects.none()
    serializer_class = OpportunitySerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": SalesPerm.VIEW_OPPORTUNITY,
        "WRITE": SalesPerm.ADD_OPPORTUNITY,
        "convert": [SalesPerm.ADD_ORDER],
    }
    filterset_class = OpportunityFilter
    search_fields = ["number", "name", "customer__name"]
    ordering_fields = ["created_at", "expected_amount", "expected_close_date", "number"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            selectors.opportunity_list(actor=self.request.user)
            .prefetch_related("rivals__competitor")
            .order_by("-created_at", "-pk")
        )

    def _out(self, opportunity: Opportunity, status: int = 200) -> Response:
        opportunity = self.get_queryset().get(pk=opportunity.pk)
        return Response(OpportunitySerializer(opportunity).data, status=status)

    @extend_schema(request=OpportunityInput, responses={201: OpportunitySerializer})
    def create(self, request):
        data = OpportunityInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_create(actor=request.user, **data.validated_data)
        return self._out(opportunity, 201)

    @extend_schema(request=OpportunityInput(partial=True), responses=OpportunitySerializer)
    def partial_update(self, request, pk=None):
        opportunity = self.get_object()
        data = OpportunityInput(data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k in request.data}
        opportunity = services.opportunity_update(
            actor=request.user, opportunity=opportunity, **values
        )
        return self._out(opportunity)

    @extend_schema(request=MoveInput, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move to another stage of the opportunity's group (as the board does)."""
        data = MoveInput(data=request.data)
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_move(
            actor=request.user, opportunity=self.get_object(), stage=data.validated_data["stage"]
        )
        return self._out(opportunity)

    @extend_schema(request=ReasonInput, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_win(
            actor=request.user, opportunity=self.get_object(), **data.validated_data
        )
        return self._out(opportunity)

    @extend_schema(request=LoseInput, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        """Lost: the reason is required; the competitor it was lost to is optional."""
        data = LoseInput(data=request.data)
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_lose(
            actor=request.user, opportunity=self.get_object(), **data.validated_data
        )
        return self._out(opportunity)

    @extend_schema(request=ReasonInput, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def invalidate(self, request, pk=None):
        """Invalid (无效): the reason is required."""
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_invalidate(
            actor=request.user, opportunity=self.get_object(), **data.validated_data
        )
        return self._out(opportunity)

    @extend_schema(request=None, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        opportunity = services.opportunity_reopen(actor=request.user, opportunity=self.get_object())
        return self._out(opportunity)

    @extend_schema(request=None, responses=ConvertResult)
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Win the opportunity (if open) and get the address of the order form for it."""
        opportunity = services.opportunity_convert(
            actor=request.user, opportunity=self.get_object()
        )
        opportunity = self.get_queryset().get(pk=opportunity.pk)
        return Response(
            {
                "opportunity": OpportunitySerializer(opportunity).data,
                "order_url": selectors.order_create_url(opportunity),
            }
        )

    @extend_schema(responses=PipelineSerializer)
    @action(detail=False, methods=["get"])
    def pipeline(self, request):
        """Open opportunities in your scope: count, expected amount, weighted amount."""
        summary = selectors.pipeline_summary(actor=request.user)
        return Response(
            {
                "count": summary.count,
                "amount": _money(summary.amount),
                "weighted_amount": _money(summary.weighted_amount),
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("stage_group", OpenApiTypes.INT, description="default: yours"),
            OpenApiParameter("start", OpenApiTypes.DATE, description="default: 1 January"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="default: today"),
        ],
        responses=FunnelRowSerializer,
    )
    @action(detail=False, methods=["get"])
    def funnel(self, request):
        """The funnel of a stage group: deals reaching each stage, with the conversion rate to
        the next one, from the stage changes in the period; the last row is the deals won."""
        today = timezone.localdate()
        try:
            start = datetime.date.fromisoformat(
                request.query_params.get("start") or f"{today.year}-01-01"
            )
            end = datetime.date.fromisoformat(request.query_params.get("end") or str(today))
        except ValueError:
            raise serializers.ValidationError(
                {
                    "start": [
                        serializers.DateField.default_error_messages["invalid"].format(
                            format="YYYY-MM-DD"
                        )
                    ]
                }
            ) from None
        raw = request.query_params.get("stage_group", "")
        group = (
            StageGroup.objects.filter(pk=int(raw)).first()
            if raw.isdigit()
            else selectors.stage_group_for_user(request.user)
        )
        if group is None:
            return Response([])
        rows = selectors.funnel(actor=request.user, stage_group=group, start=start, end=end)
        return Response(
            [
                {
                    "stage": row.stage.pk if row.stage else None,
                    "label": row.label,
                    "count": row.count,
                    "amount": _money(row.amount),
                    "conversion": str(row.conversion) if row.conversion is not None else None,
                }
                for row in rows
            ]
        )


# Stage groups -----------------------------------------------------------------------------------


class StageSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, allow_null=True)
    win_percent = serializers.IntegerField(min_value=0, max_value=100)
    sort_order = serializers.IntegerField(min_value=0, max_value=10000)

    class Meta:
        model = Stage
        fields = ["id", "name", "win_percent", "sort_order"]


class StageGroupSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True)

    class Meta:
        model = StageGroup
        fields = ["id", "name", "department", "active", "stages"]
        validators = []  # the service names the field (one active group per unit)


class StageGroupViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Stage groups (销售阶段组): the stages (name, win %, order) a unit's opportunities go
    through; one active group per unit and one company default."""

    queryset = StageGroup.objects.none()
    serializer_class = StageGroupSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": [SalesPerm.VIEW_OPPORTUNITY, SalesPerm.CHANGE_STAGE_GROUP],
        "WRITE": SalesPerm.CHANGE_STAGE_GROUP,
    }
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.stage_group_list(include_inactive=True)

    def _save(self, request, group: StageGroup | None, partial: bool) -> StageGroup:
        data = StageGroupSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        stages = values.get("stages")
        if stages is None and group is not None:
            stages = [
                {
                    "id": s.pk,
                    "name": s.name,
                    "win_percent": s.win_percent,
                    "sort_order": s.sort_order,
                }
                for s in selectors.stages_of(group)
            ]
        return services.stage_group_save(
            actor=request.user,
            group=group,
            name=values.get("name", group.name if group else ""),
            department=values.get("department", group.department if group else None),
            active=values.get("active", group.active if group else True),
            stages=[dict(stage) for stage in stages or []],
        )

    @extend_schema(request=StageGroupSerializer, responses={201: StageGroupSerializer})
    def create(self, request):
        group = self._save(request, None, partial=False)
        return Response(StageGroupSerializer(selectors.stage_group_get(pk=group.pk)).data, 201)

    @extend_schema(request=StageGroupSerializer(partial=True), responses=StageGroupSerializer)
    def partial_update(self, request, pk=None):
        group = self._save(request, self.get_object(), partial=True)
        return Response(StageGroupSerializer(selectors.stage_group_get(pk=group.pk)).data)


# Competitors --------------------------------------------------------------------------------------


class CompetitorSerializer(serializers.ModelSerializer):
    deals = serializers.IntegerField(read_only=True)
    won_against = serializers.IntegerField(read_only=True)
    lost_to_them = serializers.IntegerField(read_only=True)

    class Meta:
        model = Competitor
        fields = [
            "id",
            "name",
            "website",
            "strengths",
            "weaknesses",
            "active",
            "deals",
            "won_against",
            "lost_to_them",
        ]
        validators = []
        extra_kwargs = {"name": {"validators": []}}


class CompetitorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Competitors (竞争对手) with how often they are on your deals, and won or lost against."""

    queryset = Competitor.objects.none()
    serializer_class = CompetitorSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": [SalesPerm.VIEW_OPPORTUNITY, SalesPerm.CHANGE_COMPETITOR],
        "WRITE": SalesPerm.CHANGE_COMPETITOR,
    }
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.competitor_list(actor=self.request.user)

    @extend_schema(request=CompetitorSerializer, responses={201: CompetitorSerializer})
    def create(self, request):
        data = CompetitorSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        competitor = services.competitor_save(actor=request.user, **data.validated_data)
        return Response(CompetitorSerializer(self.get_queryset().get(pk=competitor.pk)).data, 201)

    @extend_schema(request=CompetitorSerializer(partial=True), responses=CompetitorSerializer)
    def partial_update(self, request, pk=None):
        competitor = self.get_object()
        data = CompetitorSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {
            "name": competitor.name,
            "website": competitor.website,
            "strengths": competitor.strengths,
            "weaknesses": competitor.weaknesses,
            "active": competitor.active,
            **data.validated_data,
        }
        competitor = services.competitor_save(actor=request.user, competitor=competitor, **values)
        return Response(CompetitorSerializer(self.get_queryset().get(pk=competitor.pk)).data)


def register(router) -> None:
    """Add this part's viewsets to the project router."""
    router.register("sales/opportunities", OpportunityViewSet, basename="sales-opportunity")
    router.register("sales/stage-groups", StageGroupViewSet, basename="sales-stage-group")
    router.register("sales/competitors", CompetitorViewSet, basename="sales-competitor")
