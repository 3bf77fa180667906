"""REST API of orders, coordination tasks and deliveries (/api/v1/sales/orders|tasks|deliveries):
the same selectors, services and permissions as the pages."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from marketdesk.approvals.services import latest_request

from .. import selectors_orders as selectors
from ..forms_orders import DeliveryFilter, OrderFilter, TaskFilter
from ..models import (
    CoordinationTask,
    Delivery,
    DeliveryLine,
    OrderLine,
    PaymentTerms,
    Product,
    SalesOrder,
)
from ..permissions import SalesPerm
from ..pricing import price_for
from ..services import deliveries as delivery_services
from ..services import orders as services

QTY = {"max_digits": 12, "decimal_places": 2}


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


class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer the caller may see (others do not exist for the caller)."""

    def get_queryset(self):
        from marketdesk.crm.selectors import customer_list

        return customer_list(self.context["request"].user)


class VisibleContactField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        from marketdesk.crm.selectors import contact_list

        return contact_list(actor=self.context["request"].user)


class VisibleOpportunityField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        from marketdesk.core.scope import scoped

        from ..models import Opportunity

        return scoped(
            Opportunity.objects.all(),
            actor=self.context["request"].user,
            perm=SalesPerm.VIEW_OPPORTUNITY,
        )


Comment = inline_serializer(
    "SalesOrderComment", {"comment": serializers.CharField(required=False, allow_blank=True)}
)
Reason = inline_serializer("SalesOrderReason", {"reason": serializers.CharField()})


# Orders -----------------------------------------------------------------------------------------


class SalesOrderLineSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    quantity = serializers.DecimalField(**QTY)
    discount = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, default=Decimal("0")
    )
    open_quantity = serializers.DecimalField(read_only=True, **QTY)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "line_no",
            "product",
            "product_code",
            "product_name",
            "unit",
            "description",
            "quantity",
            "list_price",
            "price_list",
            "unit_price",
            "discount",
            "amount",
            "delivered_quantity",
            "open_quantity",
        ]
        read_only_fields = [
            "id",
            "line_no",
            "list_price",
            "price_list",
            "unit_price",
            "amount",
            "delivered_quantity",
        ]


class SalesOrderSerializer(serializers.ModelSerializer):
    """An order with its lines. Write: customer, contact, opportunity, dates, payment terms,
    title, notes and the lines (product, quantity, discount %, description); prices, amounts
    and totals are the service's."""

    customer = VisibleCustomerField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact = VisibleContactField(required=False, allow_null=True)
    opportunity = VisibleOpportunityField(required=False, allow_null=True)
    owner = serializers.CharField(read_only=True)
    order_date = serializers.DateField(required=False)
    payment_terms = serializers.ChoiceField(choices=PaymentTerms.choices, required=False)
    lines = SalesOrderLineSerializer(many=True)
    approval_request = serializers.SerializerMethodField()
    submit = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=(
            "On create: submit at once, in the same transaction (confirmed within the owner's "
            "authority, else sent for approval). A refused submission (credit limit, no "
            "approval flow) is a 400 and nothing is saved."
        ),
    )

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "number",
            "title",
            "customer",
            "customer_name",
            "contact",
            "opportunity",
            "owner",
            "department",
            "order_date",
            "promised_date",
            "payment_terms",
            "channel_tier",
            "status",
            "list_amount",
            "total",
            "max_discount",
            "approval_reasons",
            "approval_request",
            "credit_warning",
            "receipted_amount",
            "received_amount",
            "confirmed_at",
            "delivered_on",
            "on_time",
            "completed_at",
            "cancelled_at",
            "cancel_reason",
            "notes",
            "lines",
            "created_at",
            "submit",
        ]
        read_only_fields = [
            "number",
            "department",
            "channel_tier",
            "status",
            "list_amount",
            "total",
            "max_discount",
            "approval_reasons",
            "credit_warning",
            "receipted_amount",
            "received_amount",
            "confirmed_at",
            "delivered_on",
            "on_time",
            "completed_at",
            "cancelled_at",
            "cancel_reason",
            "created_at",
        ]

    def get_approval_request(self, obj) -> int | None:
        latest = latest_request(obj)
        return latest.pk if latest else None


class SalesPriceQuery(serializers.Serializer):
    product = serializers.IntegerField()
    customer = serializers.IntegerField(required=False)
    quantity = serializers.DecimalField(required=False, default=Decimal("1"), **QTY)
    on = serializers.DateField(required=False)


PriceResult = inline_serializer(
    "SalesOrderLinePrice",
    {
        "product": serializers.IntegerField(),
        "unit": serializers.CharField(),
        "unit_price": serializers.DecimalField(max_digits=14, decimal_places=2),
        "list_price": serializers.DecimalField(max_digits=14, decimal_places=2),
        "price_list": serializers.CharField(allow_blank=True),
    },
)


class SalesOnTimeRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()
    delivered = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)


class OrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Sales orders (合同/订单, R4.2.2): drafts with lines priced from the price lists, submit
    (confirmed at once within authority, else to approval), withdraw, confirm, production,
    completion and cancellation; the line price and the on-time delivery rates."""

    queryset = SalesOrder.objects.none()
    serializer_class = SalesOrderSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": SalesPerm.VIEW_ORDER,
        "WRITE": SalesPerm.ADD_ORDER,
        "price": SalesPerm.ADD_ORDER,
        "confirm": SalesPerm.CONFIRM_ORDER,
        "complete": SalesPerm.CONFIRM_ORDER,
        "start_production": SalesPerm.CHANGE_TASK,
        "ready": SalesPerm.CHANGE_TASK,
        "cancel": [SalesPerm.ADD_ORDER, SalesPerm.CONFIRM_ORDER],
    }
    filterset_class = OrderFilter
    search_fields = ["number", "title", "customer__name"]
    ordering_fields = ["order_date", "promised_date", "total", "number"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            selectors.order_list(actor=self.request.user)
            .prefetch_related("lines__product")
            .order_by("-order_date", "-pk")
        )

    def _fields(self, data: dict) -> dict:
        fields = dict(data)
        fields["lines"] = [dict(line) for line in fields["lines"]] if "lines" in fields else None
        return fields

    def perform_create(self, serializer):
        fields = self._fields(serializer.validated_data)
        if fields.pop("submit", False):
            serializer.instance = services.order_create_submit(
                actor=self.request.user, keep_draft=False, **fields
            ).order
        else:
            serializer.instance = services.order_create(actor=self.request.user, **fields)

    def perform_update(self, serializer):
        fields = self._fields(serializer.validated_data)
        fields.pop("submit", None)  # submit a saved draft with the `submit` action
        serializer.instance = services.order_update(
            actor=self.request.user, order=serializer.instance, **fields
        )

    def _order(self, order) -> Response:
        order.refresh_from_db()
        return Response(SalesOrderSerializer(order, context=self.get_serializer_context()).data)

    @extend_schema(request=Comment, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Confirmed at once within the owner's authority; otherwise sent for approval
        (`approval_request` is then set)."""
        order = self.get_object()
        services.order_submit(
            actor=request.user, order=order, comment=request.data.get("comment", "")
        )
        return self._order(order)

    @extend_schema(request=Comment, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        order = self.get_object()
        services.order_withdraw(
            actor=request.user, order=order, reason=request.data.get("comment", "")
        )
        return self._order(order)

    @extend_schema(request=None, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        order = self.get_object()
        services.order_confirm(actor=request.user, order=order)
        return self._order(order)

    @extend_schema(request=None, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"], url_path="start-production", url_name="start-production")
    def start_production(self, request, pk=None):
        order = self.get_object()
        services.order_start_production(actor=request.user, order=order)
        return self._order(order)

    @extend_schema(request=None, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"])
    def ready(self, request, pk=None):
        order = self.get_object()
        services.order_mark_ready(actor=request.user, order=order)
        return self._order(order)

    @extend_schema(request=None, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        order = self.get_object()
        services.order_complete(actor=request.user, order=order)
        return self._order(order)

    @extend_schema(request=Reason, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        services.order_cancel(
            actor=request.user, order=order, reason=request.data.get("reason", "")
        )
        return self._order(order)

    @extend_schema(parameters=[SalesPriceQuery], responses=PriceResult)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def price(self, request):
        """The price a line gets: product, customer (its level and channel tier), quantity,
        order date."""
        query = SalesPriceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        product = (
            selectors.orderable_products(actor=request.user).filter(pk=data["product"]).first()
        )
        if product is None:
            raise NotFound
        customer = None
        if data.get("customer"):
            from marketdesk.crm.selectors import customer_list

            customer = customer_list(request.user).filter(pk=data["customer"]).first()
            if customer is None:
                raise NotFound
        price = price_for(
            product=product,
            customer_level=customer.level if customer else "",
            channel_tier=services.channel_tier_of(customer) if customer else "direct",
            on=data.get("on") or timezone.localdate(),
            quantity=data["quantity"] if data["quantity"] > 0 else Decimal("1"),
        )
        return Response(
            {
                "product": product.pk,
                "unit": product.unit,
                "unit_price": f"{price.unit_price:.2f}",
                "list_price": f"{price.list_price:.2f}",
                "price_list": str(price.price_list) if price.price_list else "",
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="default: 1 January"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="default: today"),
            OpenApiParameter("by", OpenApiTypes.STR, enum=["department", "owner"]),
        ],
        responses=SalesOnTimeRowSerializer(many=True),
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="on-time",
        url_name="on-time",
        filter_backends=[],
        pagination_class=None,
    )
    def on_time(self, request):
        """On-time delivery rate per unit or salesperson for orders delivered in the period."""
        today = timezone.localdate()
        try:
            start = datetime.date.fromisoformat(request.query_params.get("start") or "")
        except ValueError:
            start = today.replace(month=1, day=1)
        try:
            end = datetime.date.fromisoformat(request.query_params.get("end") or "")
        except ValueError:
            end = today
        by = request.query_params.get("by") or "department"
        if by not in ("department", "owner"):
            raise serializers.ValidationError({"by": ["department | owner"]})
        rows = selectors.on_time_rates(actor=request.user, start=start, end=end, by=by)
        return Response(SalesOnTimeRowSerializer(rows, many=True).data)


# Coordination tasks --------------------------------------------------------------------------------


class SalesTaskSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    customer_name = serializers.CharField(source="order.customer.name", read_only=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=CoordinationTask._meta.get_field("owner").related_model.objects.filter(
            is_active=True
        ),
        required=False,
        allow_null=True,
    )

    class Meta:
        model = CoordinationTask
        fields = [
            "id",
            "order",
            "order_number",
            "customer_name",
            "kind",
            "title",
            "department",
            "owner",
            "due_date",
            "status",
            "done_at",
            "notes",
            "created_at",
        ]
        read_only_fields = ["order", "kind", "title", "department", "status", "done_at"]


TaskNote = inline_serializer(
    "SalesTaskNote", {"note": serializers.CharField(required=False, allow_blank=True)}
)


class TaskViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Coordination tasks to 生产部 and 物流部: reassign, reschedule, start, done. Comments go
    through /api/v1 comments of the record timeline."""

    queryset = CoordinationTask.objects.none()
    serializer_class = SalesTaskSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.VIEW_TASK, "WRITE": SalesPerm.CHANGE_TASK}
    filterset_class = TaskFilter
    search_fields = ["order__number", "title"]
    ordering_fields = ["due_date", "status"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.task_list(actor=self.request.user).order_by("due_date", "pk")

    def perform_update(self, serializer):
        data = serializer.validated_data
        kwargs = {}
        if "owner" in data:
            kwargs["owner"] = data["owner"]
        if "due_date" in data:
            kwargs["due_date"] = data["due_date"]
        if "notes" in data:
            kwargs["notes"] = data["notes"]
        serializer.instance = services.task_update(
            actor=self.request.user, task=serializer.instance, **kwargs
        )

    def _task(self, task) -> Response:
        task.refresh_from_db()
        return Response(SalesTaskSerializer(task, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=SalesTaskSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        task = self.get_object()
        services.task_start(actor=request.user, task=task)
        return self._task(task)

    @extend_schema(request=TaskNote, responses=SalesTaskSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        task = self.get_object()
        services.task_done(actor=request.user, task=task, note=request.data.get("note", ""))
        return self._task(task)


# Deliveries ------------------------------------------------------------------------------------------


class SalesDeliveryLineSerializer(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id")
    line_no = serializers.IntegerField(source="order_line.line_no", read_only=True)
    product_name = serializers.CharField(source="order_line.product.name", read_only=True)
    quantity = serializers.DecimalField(**QTY)

    class Meta:
        model = DeliveryLine
        fields = ["order_line", "line_no", "product_name", "quantity"]


class SalesDeliverySerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="order_id")
    order_number = serializers.CharField(source="order.number", read_only=True)
    lines = SalesDeliveryLineSerializer(many=True)
    shipped_on = serializers.DateField(required=False)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "carrier",
            "shipment_no",
            "shipped_on",
            "signed_on",
            "signed_by",
            "status",
            "notes",
            "lines",
            "created_at",
        ]
        read_only_fields = ["number", "signed_on", "signed_by", "status", "created_at"]


class SalesDeliverySignInput(serializers.Serializer):
    signed_on = serializers.DateField(required=False)
    signed_by = serializers.CharField(required=False, allow_blank=True, max_length=60)


class DeliveryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Deliveries (发货): quantities per order line (partial deliveries allowed, never more than
    is open), signing for (签收), cancelling one not yet signed for."""

    queryset = Delivery.objects.none()
    serializer_class = SalesDeliverySerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": SalesPerm.VIEW_DELIVERY,
        "WRITE": SalesPerm.ADD_DELIVERY,
        "sign": [SalesPerm.VIEW_DELIVERY, SalesPerm.VIEW_ORDER],
    }
    filterset_class = DeliveryFilter
    search_fields = ["number", "shipment_no", "order__number"]
    ordering_fields = ["shipped_on", "number"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return (
            selectors.delivery_list(actor=self.request.user)
            .prefetch_related("lines__order_line__product")
            .order_by("-shipped_on", "-pk")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        order = selectors.order_list(actor=self.request.user).filter(pk=data["order_id"]).first()
        if order is None:
            raise serializers.ValidationError({"order": ["?"]})
        quantities: dict = {}
        for row in data["lines"]:
            key = row["order_line_id"]
            quantities[key] = quantities.get(key, Decimal("0")) + row["quantity"]
        serializer.instance = delivery_services.delivery_create(
            actor=self.request.user,
            order=order,
            quantities=quantities,
            shipped_on=data.get("shipped_on"),
            carrier=data.get("carrier", ""),
            shipment_no=data.get("shipment_no", ""),
            notes=data.get("notes", ""),
        )

    def _delivery(self, delivery) -> Response:
        delivery.refresh_from_db()
        return Response(
            SalesDeliverySerializer(delivery, context=self.get_serializer_context()).data
        )

    @extend_schema(request=SalesDeliverySignInput, responses=SalesDeliverySerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        delivery = self.get_object()
        data = SalesDeliverySignInput(data=request.data)
        data.is_valid(raise_exception=True)
        delivery_services.delivery_sign(
            actor=request.user, delivery=delivery, **data.validated_data
        )
        return self._delivery(delivery)

    @extend_schema(request=Reason, responses=SalesDeliverySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        delivery = self.get_object()
        delivery_services.delivery_cancel(
            actor=request.user, delivery=delivery, reason=request.data.get("reason", "")
        )
        return self._delivery(delivery)


def register(router) -> None:
    """Add this part's viewsets to the project router."""
    router.register("sales/orders", OrderViewSet, basename="sales-order")
    router.register("sales/tasks", TaskViewSet, basename="sales-task")
    router.register("sales/deliveries", DeliveryViewSet, basename="sales-delivery")
