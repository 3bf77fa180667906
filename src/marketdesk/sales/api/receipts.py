"""REST API of the receipts part of sales (/api/v1/sales/...): receipts with approve / reject /
cancel, receipt plans, the receivables aging report and customers' credit accounts. The same
services, selectors, permissions and data scope as the pages."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from marketdesk.core.api import Pagination
from marketdesk.core.scope import scoped
from marketdesk.crm.models import Customer
from marketdesk.org.models import Department

from .. import selectors_receipts as selectors
from ..forms_receipts import CreditFilter, PlanFilter, ReceiptFilter
from ..models import ChannelTier, PayMethod, Receipt, ReceiptPlan, SalesOrder
from ..permissions import SalesPerm
from ..services import receipts as services

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


class ReceivableOrderField(serializers.PrimaryKeyRelatedField):
    """An order the caller may register receipts or plans on (others: "does not exist")."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return SalesOrder.objects.none()
        return scoped(SalesOrder.objects.all(), actor=request.user, perm=SalesPerm.ADD_RECEIPT)


class VisiblePlanField(serializers.PrimaryKeyRelatedField):
    """An instalment of an order the caller sees (others: "does not exist")."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return ReceiptPlan.objects.none()
        return selectors.plan_list(actor=request.user)


# Receipts -----------------------------------------------------------------------------------------


class ReceiptSerializer(serializers.ModelSerializer):
    order = ReceivableOrderField()
    plan = VisiblePlanField(
        required=False,
        allow_null=True,
        help_text="The instalment paid; required when the order's plan covers its whole amount.",
    )
    method = serializers.ChoiceField(choices=PayMethod.choices, required=False)
    order_number = serializers.CharField(source="order.number", read_only=True)
    instalment = serializers.IntegerField(source="plan.instalment", read_only=True, default=None)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    created_by = serializers.StringRelatedField(read_only=True)
    decided_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = Receipt
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "plan",
            "instalment",
            "customer",
            "customer_name",
            "owner",
            "owner_name",
            "department",
            "amount",
            "received_on",
            "method",
            "reference",
            "notes",
            "status",
            "reason",
            "created_by",
            "created_at",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = [
            "number",
            "customer",
            "owner",
            "department",
            "status",
            "reason",
            "created_at",
            "decided_at",
        ]


class ReceiptReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ReceiptViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Receipts (回款) registered against orders and their instalments. With receipt approval
    on, a new receipt is `pending` until finance approves or rejects it."""

    queryset = Receipt.objects.none()
    serializer_class = ReceiptSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": SalesPerm.VIEW_RECEIPT,
        "create": SalesPerm.ADD_RECEIPT,
        "approve": SalesPerm.APPROVE_RECEIPT,
        "reject": SalesPerm.APPROVE_RECEIPT,
        "cancel": SalesPerm.VIEW_RECEIPT,
    }
    filterset_class = ReceiptFilter
    search_fields = ["number", "reference", "order__number", "customer__name"]
    ordering_fields = ["received_on", "amount", "number"]

    def get_queryset(self):
        return selectors.receipt_list(actor=self.request.user).order_by("-received_on", "-pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.receipt_register(
            actor=self.request.user,
            order=data["order"],
            plan=data.get("plan"),
            amount=data["amount"],
            received_on=data["received_on"],
            method=data.get("method"),
            reference=data.get("reference", ""),
            notes=data.get("notes", ""),
        )

    def _result(self, receipt) -> Response:
        receipt = selectors.receipt_list(actor=self.request.user).filter(pk=receipt.pk).first()
        return Response(ReceiptSerializer(receipt, context={"request": self.request}).data)

    @extend_schema(request=None, responses=ReceiptSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Confirm a pending receipt (finance; not the person who registered it)."""
        return self._result(services.receipt_approve(actor=request.user, receipt=self.get_object()))

    @extend_schema(request=ReceiptReasonInput, responses=ReceiptSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = ReceiptReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.receipt_reject(
            actor=request.user, receipt=self.get_object(), reason=data.validated_data["reason"]
        )
        return self._result(receipt)

    @extend_schema(request=ReceiptReasonInput, responses=ReceiptSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Take a receipt back (finance; or its registrant while it is pending)."""
        data = ReceiptReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.receipt_cancel(
            actor=request.user, receipt=self.get_object(), reason=data.validated_data["reason"]
        )
        return self._result(receipt)


# Receipt plans ------------------------------------------------------------------------------------


class ReceiptPlanSerializer(serializers.ModelSerializer):
    order = ReceivableOrderField()
    instalment = serializers.IntegerField(
        min_value=1, max_value=999, required=False, help_text="Default: the next number."
    )
    method = serializers.ChoiceField(choices=PayMethod.choices, default=PayMethod.BANK)
    outstanding = serializers.DecimalField(read_only=True, **MONEY)
    order_number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = ReceiptPlan
        fields = [
            "id",
            "order",
            "order_number",
            "instalment",
            "due_date",
            "amount",
            "method",
            "received_amount",
            "outstanding",
            "notes",
        ]
        read_only_fields = ["received_amount"]
        validators = []  # the service names a repeated instalment number


class ReceiptPlanUpdateSerializer(ReceiptPlanSerializer):
    order = serializers.PrimaryKeyRelatedField(read_only=True)


class ReceiptPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Receipt plans (回款计划): an order's instalments with due date, amount and method. They
    add up to at most the order total; an instalment with receipts cannot be removed."""

    queryset = ReceiptPlan.objects.none()
    serializer_class = ReceiptPlanSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.VIEW_RECEIPT, "WRITE": SalesPerm.ADD_RECEIPT}
    filterset_class = PlanFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.plan_list(actor=self.request.user).order_by("order", "instalment")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return ReceiptPlanUpdateSerializer
        return ReceiptPlanSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.receipt_plan_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = services.receipt_plan_update(
            actor=self.request.user, plan=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.receipt_plan_delete(actor=self.request.user, plan=instance)


# Aging --------------------------------------------------------------------------------------------


class AgingRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    not_due = serializers.DecimalField(**MONEY)
    d0_30 = serializers.DecimalField(**MONEY)
    d31_60 = serializers.DecimalField(**MONEY)
    d61_90 = serializers.DecimalField(**MONEY)
    d90_plus = serializers.DecimalField(**MONEY)
    overdue = serializers.DecimalField(**MONEY, help_text="0 days overdue or more")
    total = serializers.DecimalField(**MONEY)


class AgingTotalsSerializer(serializers.Serializer):
    not_due = serializers.DecimalField(**MONEY)
    d0_30 = serializers.DecimalField(**MONEY)
    d31_60 = serializers.DecimalField(**MONEY)
    d61_90 = serializers.DecimalField(**MONEY)
    d90_plus = serializers.DecimalField(**MONEY)
    overdue = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class AgingBucketSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class AgingReportSerializer(serializers.Serializer):
    today = serializers.DateField()
    by = serializers.CharField()
    buckets = AgingBucketSerializer(many=True)
    totals = AgingTotalsSerializer()
    rows = AgingRowSerializer(many=True)


class AgingInstalmentSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="row_order_id")
    order_number = serializers.CharField(source="row_order_number")
    plan = serializers.IntegerField(source="row_plan_id", allow_null=True)
    instalment = serializers.IntegerField(
        source="row_instalment", help_text="0: the part of the order no instalment covers"
    )
    due_date = serializers.DateField(source="row_due")
    amount = serializers.DecimalField(source="row_amount", **MONEY)
    outstanding = serializers.DecimalField(source="row_outstanding", **MONEY)
    days_overdue = serializers.IntegerField(source="days")
    bucket = serializers.CharField()
    customer = serializers.IntegerField(source="row_customer_id")
    customer_name = serializers.CharField(source="row_customer")
    owner = serializers.IntegerField(source="row_owner_id")
    owner_name = serializers.CharField(source="row_owner")
    department_name = serializers.CharField(source="row_department", allow_null=True)


AGING_PARAMETERS = [
    OpenApiParameter("department", OpenApiTypes.INT, description="Unit id (with its sub-units)"),
    OpenApiParameter("owner", OpenApiTypes.INT, description="Salesperson (user id)"),
    OpenApiParameter("customer", OpenApiTypes.INT, description="Customer id"),
    OpenApiParameter("q", OpenApiTypes.STR, description="Customer name or order number"),
]


def _aging_filters(request) -> dict:
    def number(name):
        value = request.query_params.get(name, "")
        return int(value) if value.isdigit() else None

    filters: dict = {"q": request.query_params.get("q", "")[:100]}
    if (unit := number("department")) is not None:
        filters["department"] = Department.objects.filter(pk=unit).first() or Department(path="/-/")
    if (owner := number("owner")) is not None:
        filters["owner"] = owner
    if (customer := number("customer")) is not None:
        filters["customer"] = customer
    return filters


class AgingViewSet(viewsets.ViewSet):
    """Receivables aging (应收账款账龄): outstanding per instalment by days overdue (not yet
    due, 0–30, 31–60, 61–90, over 90). The part of an order no instalment covers (the whole
    order without a plan) is due on its promised delivery date."""

    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.VIEW_RECEIPT}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "by", OpenApiTypes.STR, enum=list(selectors.DIMENSIONS), description="Grouping"
            ),
            *AGING_PARAMETERS,
        ],
        responses=AgingReportSerializer,
    )
    def list(self, request):
        by = request.query_params.get("by", "customer")
        by = by if by in selectors.DIMENSIONS else "customer"
        report = selectors.aging(actor=request.user, by=by, filters=_aging_filters(request))
        report["buckets"] = [{"key": k, "label": str(label)} for k, label in selectors.BUCKETS]
        return Response(AgingReportSerializer(report).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("overdue", OpenApiTypes.BOOL, description="Only overdue ones"),
            *AGING_PARAMETERS,
        ],
        responses=AgingInstalmentSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def instalments(self, request):
        """Every instalment with money outstanding, oldest due date first (paginated)."""
        today = timezone.localdate()
        rows = selectors.instalments(
            actor=request.user,
            today=today,
            filters=_aging_filters(request),
            overdue_only=request.query_params.get("overdue") in ("1", "true", "True"),
        ).order_by("row_due", "row_order_id", "row_instalment")
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = AgingInstalmentSerializer(selectors.instalment_rows(page, today), many=True).data
        return paginator.get_paginated_response(data)


# Customer accounts (credit limit, channel tier) -----------------------------------------------------


class CustomerAccountSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="pk", read_only=True)
    customer_number = serializers.CharField(source="number", read_only=True)
    customer_name = serializers.CharField(source="name", read_only=True)
    owner_name = serializers.CharField(source="owner.name", read_only=True, default=None)
    credit_limit = serializers.DecimalField(
        min_value=Decimal("0"),
        allow_null=True,
        required=False,
        help_text="null: no limit",
        **MONEY,
    )
    channel_tier = serializers.ChoiceField(
        source="tier", choices=ChannelTier.choices, required=False, allow_null=True
    )
    open_receivables = serializers.DecimalField(read_only=True, **MONEY)
    available = serializers.DecimalField(read_only=True, allow_null=True, **MONEY)

    class Meta:
        model = Customer
        fields = [
            "customer",
            "customer_number",
            "customer_name",
            "owner_name",
            "credit_limit",
            "channel_tier",
            "open_receivables",
            "available",
        ]


class CustomerAccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A customer's sales account by customer id: credit limit and channel tier (finance and
    the marketing manager change them), open receivables and available credit."""

    queryset = Customer.objects.none()
    serializer_class = CustomerAccountSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": [SalesPerm.VIEW_RECEIPT, SalesPerm.CHANGE_CREDIT],
        "WRITE": SalesPerm.CHANGE_CREDIT,
    }
    filterset_class = CreditFilter
    search_fields = ["name", "number"]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.credit_customers(actor=self.request.user).order_by("name", "pk")

    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        data = CustomerAccountSerializer(customer, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {}
        if "credit_limit" in data.validated_data:
            fields["credit_limit"] = data.validated_data["credit_limit"]
        if data.validated_data.get("tier"):
            fields["channel_tier"] = data.validated_data["tier"]
        services.customer_account_update(actor=request.user, customer=customer, **fields)
        fresh = self.get_queryset().get(pk=customer.pk)
        return Response(CustomerAccountSerializer(fresh).data, status=status.HTTP_200_OK)


def register(router) -> None:
    """Add this part's viewsets to the project router."""
    router.register("sales/receipts", ReceiptViewSet, basename="sales-receipt")
    router.register("sales/receipt-plans", ReceiptPlanViewSet, basename="sales-receipt-plan")
    router.register("sales/aging", AgingViewSet, basename="sales-aging")
    router.register(
        "sales/customer-accounts", CustomerAccountViewSet, basename="sales-customer-account"
    )
