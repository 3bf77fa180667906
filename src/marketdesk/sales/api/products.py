"""REST API of the products part of sales (/api/v1/sales/...): categories, products, price
lists with their items, the price quote, discount authority and the sales settings. The same
services, selectors and permissions as the pages; cost only for those who may change products."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from marketdesk.crm import selectors as crm_selectors
from marketdesk.crm.models import CustomerLevel
from marketdesk.org.models import Role

from .. import pricing
from .. import selectors_products as selectors
from ..forms_products import PriceListFilter, ProductFilter
from ..models import (
    ChannelTier,
    CreditMode,
    DiscountAuthority,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    ProductStatus,
    SalesSettings,
)
from ..permissions import SalesPerm
from ..services import products as services
from ..services.products import LEVEL_CHOICES, TIER_CHOICES

MONEY = {"max_digits": 14, "decimal_places": 2}
QTY = {"max_digits": 12, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2}


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


@extend_schema_field(
    {"type": "string", "enum": ["", *CustomerLevel.values], "description": "Blank: any level"}
)
class LevelField(serializers.ChoiceField):
    """A customer level or blank; documented inline (crm's level enum has its own name)."""

    def __init__(self, **kwargs):
        super().__init__(choices=LEVEL_CHOICES, **kwargs)


def _actor(serializer) -> object | None:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


# Categories ---------------------------------------------------------------------------------


class ProductCategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=ProductCategory.objects.all(), required=False, allow_null=True
    )
    product_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ProductCategory
        fields = ["id", "code", "name", "parent", "sort_order", "active", "product_count"]
        extra_kwargs = {"code": {"validators": []}}  # the service names the clash


class ProductCategoryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Product categories (e.g. 智能终端, 网络设备); changing them needs sales.change_product."""

    queryset = ProductCategory.objects.none()
    serializer_class = ProductCategorySerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": list(selectors.PRODUCT_READERS), "WRITE": SalesPerm.CHANGE_PRODUCT}
    pagination_class = None
    search_fields = ["code", "name"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.category_list(actor=self.request.user)

    def perform_create(self, serializer):
        category = services.category_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = selectors.category_get(actor=self.request.user, pk=category.pk)

    def perform_update(self, serializer):
        category = services.category_update(
            actor=self.request.user, category=serializer.instance, **serializer.validated_data
        )
        serializer.instance = selectors.category_get(actor=self.request.user, pk=category.pk)


# Products -----------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(queryset=ProductCategory.objects.all())
    category_name = serializers.CharField(source="category.name", read_only=True)
    list_price = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
    cost = serializers.DecimalField(
        min_value=Decimal("0"),
        required=False,
        help_text="Only shown to and set by those who may change products (sales.change_product).",
        **MONEY,
    )
    status = serializers.ChoiceField(choices=ProductStatus.choices, default=ProductStatus.ACTIVE)

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "category",
            "category_name",
            "unit",
            "spec",
            "list_price",
            "cost",
            "status",
            "description",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"code": {"validators": []}}  # the service says which product has it

    def get_fields(self):
        fields = super().get_fields()
        actor = _actor(self)
        if actor is not None and not selectors.can_see_cost(actor):
            fields.pop("cost", None)
        return fields


ORDERABLE_PARAM = OpenApiParameter(
    "orderable",
    OpenApiTypes.BOOL,
    description="true: only products a new order may use (on sale, active category)",
)


@extend_schema(parameters=[ORDERABLE_PARAM])
class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The product catalogue (company-wide). `?search=` matches code, name and specification;
    `?orderable=true` gives the products a new order line may use (the product picker)."""

    queryset = Product.objects.none()
    serializer_class = ProductSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": list(selectors.PRODUCT_READERS), "WRITE": SalesPerm.CHANGE_PRODUCT}
    filterset_class = ProductFilter
    search_fields = ["code", "name", "spec"]
    ordering_fields = ["code", "name", "list_price", "updated_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if self.request.query_params.get("orderable") in ("true", "1"):
            queryset = selectors.orderable_products(self.request.user)
        else:
            queryset = selectors.product_list(actor=self.request.user)
        return queryset.order_by("code")

    def perform_create(self, serializer):
        serializer.instance = services.product_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.product_update(
            actor=self.request.user, product=serializer.instance, **serializer.validated_data
        )


# Price lists --------------------------------------------------------------------------------


class PriceListItemSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)

    class Meta:
        model = PriceListItem
        fields = ["id", "product", "product_code", "product_name", "unit", "min_quantity", "price"]


class PriceListItemInput(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    min_quantity = serializers.DecimalField(min_value=Decimal("0.01"), default=Decimal("1"), **QTY)
    price = serializers.DecimalField(min_value=Decimal("0"), **MONEY)


class PriceListItemChange(serializers.Serializer):
    min_quantity = serializers.DecimalField(min_value=Decimal("0.01"), required=False, **QTY)
    price = serializers.DecimalField(min_value=Decimal("0"), **MONEY)


class PriceListSerializer(serializers.ModelSerializer):
    customer_level = LevelField(required=False, default="")
    channel_tier = serializers.ChoiceField(
        choices=TIER_CHOICES, required=False, default="", help_text="Blank: any channel"
    )
    item_count = serializers.IntegerField(read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = PriceList
        fields = [
            "id",
            "name",
            "customer_level",
            "channel_tier",
            "valid_from",
            "valid_to",
            "priority",
            "active",
            "notes",
            "item_count",
            "state",
        ]

    def get_state(self, obj) -> str:
        return selectors.price_list_state(obj)


class PriceListDetailSerializer(PriceListSerializer):
    items = serializers.SerializerMethodField()

    class Meta(PriceListSerializer.Meta):
        fields = [*PriceListSerializer.Meta.fields, "items"]

    @extend_schema_field(PriceListItemSerializer(many=True))
    def get_items(self, obj):
        return PriceListItemSerializer(selectors.price_list_items(obj), many=True).data


class PriceListCopyInput(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True)
    percent = serializers.DecimalField(default=Decimal("0"), **PERCENT)


class PriceListViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Price lists by customer level, channel tier and dates, with their items (quantity
    breaks). The detail includes the items; `items` adds one, `items/{item_id}` changes or
    removes one, `copy` makes an inactive copy with every price changed by a percentage."""

    queryset = PriceList.objects.none()
    serializer_class = PriceListSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": list(selectors.PRICE_READERS), "WRITE": SalesPerm.CHANGE_PRICE_LIST}
    filterset_class = PriceListFilter
    search_fields = ["name", "notes"]
    ordering_fields = ["priority", "valid_from", "name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.price_list_list(actor=self.request.user).order_by(
            "-priority", "-valid_from", "pk"
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PriceListDetailSerializer
        return PriceListSerializer

    def _fresh(self, price_list: PriceList) -> PriceList:
        return selectors.price_list_get(actor=self.request.user, pk=price_list.pk)

    def perform_create(self, serializer):
        price_list = services.price_list_create(
            actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self._fresh(price_list)

    def perform_update(self, serializer):
        price_list = services.price_list_update(
            actor=self.request.user, price_list=serializer.instance, **serializer.validated_data
        )
        serializer.instance = self._fresh(price_list)

    @extend_schema(request=PriceListItemInput, responses={201: PriceListItemSerializer})
    @action(detail=True, methods=["post"], url_path="items", url_name="items")
    def add_item(self, request, pk=None):
        """Add a price (a product from a quantity) to the list."""
        data = PriceListItemInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.price_list_item_save(
            actor=request.user, price_list=self.get_object(), **data.validated_data
        )
        return Response(PriceListItemSerializer(item).data, status=status.HTTP_201_CREATED)

    def _item(self, item_pk) -> PriceListItem:
        from django.http import Http404

        item = selectors.price_list_items(self.get_object()).filter(pk=item_pk).first()
        if item is None:
            raise Http404
        return item

    @extend_schema(
        request=PriceListItemChange,
        responses={200: PriceListItemSerializer, 204: None},
        parameters=[OpenApiParameter("item_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"items/(?P<item_pk>[0-9]+)",
        url_name="item",
    )
    def item(self, request, pk=None, item_pk=None):
        """Change the price (and from-quantity) of an item, or remove it."""
        item = self._item(item_pk)
        if request.method == "DELETE":
            services.price_list_item_delete(actor=request.user, item=item)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = PriceListItemChange(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.price_list_item_save(
            actor=request.user,
            price_list=item.price_list,
            product=item.product,
            item=item,
            price=data.validated_data["price"],
            min_quantity=data.validated_data.get("min_quantity", item.min_quantity),
        )
        return Response(PriceListItemSerializer(item).data)

    @extend_schema(request=PriceListCopyInput, responses={201: PriceListSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        data = PriceListCopyInput(data=request.data)
        data.is_valid(raise_exception=True)
        copy = services.price_list_copy(
            actor=request.user, source=self.get_object(), **data.validated_data
        )
        return Response(PriceListSerializer(self._fresh(copy)).data, status=status.HTTP_201_CREATED)


# Price quote --------------------------------------------------------------------------------


class QuoteQuery(serializers.Serializer):
    product = serializers.IntegerField(help_text="A product on sale")
    customer = serializers.IntegerField(
        required=False, help_text="A customer you may see; its level is used"
    )
    customer_level = LevelField(
        required=False,
        default="",
        help_text="Used when no customer is given; blank: lists open to any level only",
    )
    channel_tier = serializers.ChoiceField(choices=ChannelTier.choices, default=ChannelTier.DIRECT)
    date = serializers.DateField(required=False, help_text="Order date; today when left out")
    quantity = serializers.DecimalField(min_value=Decimal("0.01"), default=Decimal("1"), **QTY)

    def validate_product(self, value):
        product = (
            selectors.orderable_products(self.context["request"].user).filter(pk=value).first()
        )
        if product is None:
            raise serializers.ValidationError(_("Choose a product that is on sale."))
        return product

    def validate_customer(self, value):
        from django.http import Http404

        try:
            return crm_selectors.customer_get(actor=self.context["request"].user, pk=value)
        except Http404 as exc:
            raise serializers.ValidationError(_("This customer was not found.")) from exc


QuoteResult = inline_serializer(
    "SalesPriceQuote",
    {
        "product": serializers.IntegerField(),
        "customer_level": serializers.CharField(),
        "channel_tier": serializers.CharField(),
        "date": serializers.DateField(),
        "quantity": serializers.DecimalField(**QTY),
        "unit_price": serializers.DecimalField(**MONEY),
        "list_price": serializers.DecimalField(**MONEY),
        "price_list": serializers.IntegerField(allow_null=True),
        "price_list_name": serializers.CharField(allow_null=True),
        "amount": serializers.DecimalField(**MONEY),
        "max_discount": serializers.DecimalField(**PERCENT),
        "max_discount_source": serializers.CharField(),
    },
)


class PriceQuoteViewSet(viewsets.GenericViewSet):
    """The price an order line would get, and how much discount the asking user may give."""

    queryset = PriceList.objects.none()
    serializer_class = QuoteQuery
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": [*selectors.PRICE_READERS, SalesPerm.ADD_ORDER]}
    pagination_class = None
    filter_backends: list = []

    @extend_schema(parameters=[QuoteQuery], responses=QuoteResult)
    def list(self, request):
        query = QuoteQuery(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        level = data["customer"].level if data.get("customer") else data.get("customer_level", "")
        on = data.get("date") or timezone.localdate()
        price = pricing.price_for(
            product=data["product"],
            customer_level=level,
            channel_tier=data["channel_tier"],
            on=on,
            quantity=data["quantity"],
        )
        authority = pricing.authority_for(request.user)
        return Response(
            {
                "product": data["product"].pk,
                "customer_level": level,
                "channel_tier": data["channel_tier"],
                "date": on.isoformat(),
                "quantity": f"{data['quantity']:.2f}",
                "unit_price": f"{price.unit_price:.2f}",
                "list_price": f"{price.list_price:.2f}",
                "price_list": price.price_list.pk if price.price_list else None,
                "price_list_name": price.price_list.name if price.price_list else None,
                "amount": f"{(price.unit_price * data['quantity']).quantize(Decimal('0.01')):.2f}",
                "max_discount": f"{authority.max_discount:.2f}",
                "max_discount_source": authority.source,
            }
        )


# Discount authority -------------------------------------------------------------------------


class DiscountAuthoritySerializer(serializers.ModelSerializer):
    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, allow_null=True
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    role_name = serializers.SerializerMethodField()
    user_name = serializers.SerializerMethodField()
    max_discount = serializers.DecimalField(
        min_value=Decimal("0"), max_value=Decimal("100"), **PERCENT
    )

    class Meta:
        model = DiscountAuthority
        fields = ["id", "role", "role_name", "user", "user_name", "max_discount", "updated_at"]
        read_only_fields = ["updated_at"]
        validators: list = []  # role xor person: the service names the field

    def get_role_name(self, obj) -> str | None:
        return str(obj.role) if obj.role_id else None

    def get_user_name(self, obj) -> str | None:
        return str(obj.user) if obj.user_id else None


class DiscountAuthorityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """How much discount a role or a person may give without approval. Creating a row for a
    role or person that already has one replaces its value."""

    queryset = DiscountAuthority.objects.none()
    serializer_class = DiscountAuthoritySerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": SalesPerm.CHANGE_DISCOUNT_AUTHORITY,
        "WRITE": SalesPerm.CHANGE_DISCOUNT_AUTHORITY,
    }
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.discount_authority_list(actor=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.discount_authority_save(
            actor=self.request.user,
            role=data.get("role"),
            user=data.get("user"),
            max_discount=data["max_discount"],
        )

    def perform_update(self, serializer):
        row = serializer.instance
        serializer.instance = services.discount_authority_save(
            actor=self.request.user,
            role=row.role,
            user=row.user,
            max_discount=serializer.validated_data.get("max_discount", row.max_discount),
        )

    def perform_destroy(self, instance):
        services.discount_authority_delete(actor=self.request.user, authority=instance)


# Settings -----------------------------------------------------------------------------------


class SalesSettingsSerializer(serializers.ModelSerializer):
    default_max_discount = serializers.DecimalField(
        min_value=Decimal("0"), max_value=Decimal("100"), **PERCENT
    )
    approval_amount = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
    credit_mode = serializers.ChoiceField(choices=CreditMode.choices)

    class Meta:
        model = SalesSettings
        fields = [
            "default_max_discount",
            "approval_amount",
            "receipt_approval",
            "credit_mode",
            "delivery_alert_days",
        ]


class SalesSettingsViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """The company's sales rules (one row): GET /sales/settings/ or /sales/settings/current/,
    PATCH /sales/settings/current/. Needs sales.change_salessettings."""

    queryset = SalesSettings.objects.none()
    serializer_class = SalesSettingsSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": SalesPerm.CHANGE_SETTINGS, "WRITE": SalesPerm.CHANGE_SETTINGS}
    pagination_class = None
    filter_backends: list = []
    lookup_field = "pk"
    lookup_value_regex = "current"
    http_method_names = ["get", "patch", "put", "head", "options"]

    def get_object(self):
        return pricing.settings_row()

    @extend_schema(responses=SalesSettingsSerializer)
    def list(self, request):
        return Response(SalesSettingsSerializer(pricing.settings_row()).data)

    def perform_update(self, serializer):
        serializer.instance = services.sales_settings_update(
            actor=self.request.user, **serializer.validated_data
        )


def register(router) -> None:
    """Add this part's viewsets to the project router."""
    router.register("sales/products", ProductViewSet, basename="sales-product")
    router.register(
        "sales/product-categories", ProductCategoryViewSet, basename="sales-product-category"
    )
    router.register("sales/price-lists", PriceListViewSet, basename="sales-price-list")
    router.register("sales/price-quote", PriceQuoteViewSet, basename="sales-price-quote")
    router.register(
        "sales/discount-authorities", DiscountAuthorityViewSet, basename="sales-discount-authority"
    )
    router.register("sales/settings", SalesSettingsViewSet, basename="sales-settings")
