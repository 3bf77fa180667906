"""REST API of the finance app: categories, budgets and lines, adjustments, expense requests
and claims with their actions; the same services, selectors and permissions as the pages."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from . import selectors, services
from .filters import (
    AdjustmentFilter,
    BudgetFilter,
    ClaimFilter,
    ExpenseRequestFilter,
    LineFilter,
)
from .models import (
    AdjustmentKind,
    Budget,
    BudgetAdjustment,
    BudgetEntry,
    BudgetLine,
    ControlMode,
    ExpenseCategory,
    ExpenseClaim,
    ExpenseClaimLine,
    ExpenseRequest,
    PayMethod,
    PeriodKind,
    Voucher,
    VoucherKind,
)
from .permissions import FinancePerm

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


def _approval_result(approval) -> dict:
    return {"approval_request": approval.pk, "number": approval.number, "status": approval.status}


ApprovalResult = inline_serializer(
    "FinanceApprovalResult",
    {
        "approval_request": serializers.IntegerField(),
        "number": serializers.CharField(),
        "status": serializers.CharField(),
    },
)
Comment = inline_serializer(
    "FinanceComment", {"comment": serializers.CharField(required=False, allow_blank=True)}
)


# Categories ---------------------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpenseCategory
        fields = [
            "id",
            "code",
            "name",
            "family",
            "parent",
            "requires_invoice",
            "requires_contract",
            "account",
            "active",
        ]


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The expense category tree (promotion, sales, customer service); read-only here."""

    queryset = ExpenseCategory.objects.none()
    serializer_class = CategorySerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.category_list()


# Budgets ------------------------------------------------------------------------------------------


class LineSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    total = serializers.DecimalField(read_only=True, **MONEY)
    available = serializers.DecimalField(read_only=True, **MONEY)

    class Meta:
        model = BudgetLine
        fields = [
            "id",
            "budget",
            "category",
            "category_name",
            "period",
            "cost_object_type",
            "cost_object_id",
            "mode",
            "amount",
            "supplement",
            "transfer_in",
            "transfer_out",
            "committed",
            "spent",
            "total",
            "available",
            "alert_level",
            "note",
        ]
        read_only_fields = fields


class BudgetSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(read_only=True)

    class Meta:
        model = Budget
        fields = [
            "id",
            "number",
            "fiscal_year",
            "department",
            "name",
            "period_kind",
            "status",
            "owner",
            "notes",
            "copied_from",
            "approved_at",
            "created_at",
        ]
        read_only_fields = ["number", "status", "copied_from", "approved_at", "created_at"]
        extra_kwargs = {"name": {"required": False}}
        validators = []  # the service says which field is wrong (one budget per unit and year)


class BudgetLineInput(serializers.Serializer):
    category = serializers.PrimaryKeyRelatedField(queryset=ExpenseCategory.objects.all())
    amounts = serializers.ListField(
        child=serializers.DecimalField(min_value=Decimal("0"), **MONEY), min_length=1
    )
    mode = serializers.ChoiceField(choices=ControlMode.choices, default=ControlMode.BLOCK)


class SingleLineInput(serializers.Serializer):
    """One line, optionally for a cost object (a campaign, plan or customer: content type id
    + object id, so later apps can attach)."""

    category = serializers.PrimaryKeyRelatedField(queryset=ExpenseCategory.objects.all())
    period = serializers.IntegerField(min_value=1, max_value=12)
    amount = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
    mode = serializers.ChoiceField(choices=ControlMode.choices, default=ControlMode.BLOCK)
    cost_object_type = serializers.PrimaryKeyRelatedField(
        queryset=ContentType.objects.all(), required=False, allow_null=True
    )
    cost_object_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate(self, data):
        kind, object_id = data.pop("cost_object_type", None), data.pop("cost_object_id", None)
        data["cost_object"] = None
        if kind is None and object_id is None:
            return data
        model = kind.model_class() if kind is not None else None
        found = (
            model._default_manager.filter(pk=object_id).first()
            if model is not None and object_id
            else None
        )
        if found is None:
            raise serializers.ValidationError(
                {"cost_object_id": [_("The cost object was not found.")]}
            )
        data["cost_object"] = found
        return data


class CopyInput(serializers.Serializer):
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100)
    percent = serializers.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))


class BudgetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Budgets (R7.1): create a draft, set its lines per category, submit it to management,
    copy it to the next year with a percentage."""

    queryset = Budget.objects.none()
    serializer_class = BudgetSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": FinancePerm.VIEW_BUDGET,
        "create": FinancePerm.ADD_BUDGET,
        "copy": FinancePerm.ADD_BUDGET,
        "WRITE": FinancePerm.CHANGE_BUDGET,
    }
    filterset_class = BudgetFilter
    search_fields = ["number", "name"]
    ordering_fields = ["fiscal_year", "number"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.budget_list(actor=self.request.user).order_by("-fiscal_year", "pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("status", None)
        serializer.instance = services.budget_create(
            actor=self.request.user,
            fiscal_year=data["fiscal_year"],
            department=data["department"],
            name=data.get("name", ""),
            period_kind=data.get("period_kind", PeriodKind.QUARTER),
            notes=data.get("notes", ""),
        )

    def perform_update(self, serializer):
        fields = {
            k: v
            for k, v in serializer.validated_data.items()
            if k in ("name", "notes", "period_kind")
        }
        serializer.instance = services.budget_update(
            actor=self.request.user, budget=serializer.instance, **fields
        )

    @extend_schema(request=BudgetLineInput, responses=LineSerializer(many=True))
    @action(detail=True, methods=["post"])
    def lines(self, request, pk=None):
        """Set a category's amount for every period of a draft budget."""
        data = BudgetLineInput(data=request.data)
        data.is_valid(raise_exception=True)
        lines = services.budget_category_set(
            actor=request.user, budget=self.get_object(), **data.validated_data
        )
        return Response(LineSerializer(lines, many=True).data)

    @extend_schema(request=SingleLineInput, responses={201: LineSerializer})
    @action(detail=True, methods=["post"], url_path="add-line", url_name="add-line")
    def add_line(self, request, pk=None):
        """Add one line to a draft budget, optionally for a cost object."""
        data = SingleLineInput(data=request.data)
        data.is_valid(raise_exception=True)
        line = services.budget_line_save(
            actor=request.user, budget=self.get_object(), **data.validated_data
        )
        return Response(LineSerializer(line).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=Comment, responses={201: ApprovalResult})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        approval = services.budget_submit(
            actor=request.user, budget=self.get_object(), comment=request.data.get("comment", "")
        )
        return Response(_approval_result(approval), status=status.HTTP_201_CREATED)

    @extend_schema(request=CopyInput, responses={201: BudgetSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        data = CopyInput(data=request.data)
        data.is_valid(raise_exception=True)
        budget = services.budget_copy(
            actor=request.user, source=self.get_object(), **data.validated_data
        )
        return Response(BudgetSerializer(budget).data, status=status.HTTP_201_CREATED)


class EntrySerializer(serializers.ModelSerializer):
    by = serializers.CharField(read_only=True)

    class Meta:
        model = BudgetEntry
        fields = ["id", "kind", "amount", "source_label", "note", "at", "by"]


class LineViewSet(viewsets.ReadOnlyModelViewSet):
    """Budget lines with their running figures; `entries` is the ledger of one line."""

    queryset = BudgetLine.objects.none()
    serializer_class = LineSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {"READ": [FinancePerm.VIEW_BUDGET, FinancePerm.ADD_CLAIM]}
    filterset_class = LineFilter
    ordering_fields = ["period", "spent"]

    def get_queryset(self):
        return selectors.line_list(actor=self.request.user).order_by("budget", "pk")

    @extend_schema(responses=EntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def entries(self, request, pk=None):
        rows = selectors.entries_for(self.get_object())[:500]
        return Response(EntrySerializer(rows, many=True).data)


# Adjustments --------------------------------------------------------------------------------------


class AdjustmentSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(read_only=True)
    line = serializers.PrimaryKeyRelatedField(queryset=BudgetLine.objects.all())
    from_line = serializers.PrimaryKeyRelatedField(
        queryset=BudgetLine.objects.all(), required=False, allow_null=True
    )
    kind = serializers.ChoiceField(choices=AdjustmentKind.choices)

    class Meta:
        model = BudgetAdjustment
        fields = [
            "id",
            "number",
            "kind",
            "line",
            "from_line",
            "amount",
            "reason",
            "status",
            "owner",
            "department",
            "created_at",
        ]
        read_only_fields = ["number", "status", "department", "created_at"]

    def _visible_line(self, line):
        if line is None:
            return None
        actor = self.context["request"].user
        if not selectors.line_list(actor=actor).filter(pk=line.pk).exists():
            raise serializers.ValidationError(
                serializers.PrimaryKeyRelatedField.default_error_messages["does_not_exist"].format(
                    pk_value=line.pk
                )
            )
        return line

    def validate_line(self, line):
        return self._visible_line(line)

    def validate_from_line(self, line):
        return self._visible_line(line)


class AdjustmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Supplementary budgets (追加预算) and transfers (调剂), each approved before it counts."""

    queryset = BudgetAdjustment.objects.none()
    serializer_class = AdjustmentSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": [FinancePerm.VIEW_ADJUSTMENT, FinancePerm.ADD_ADJUSTMENT],
        "WRITE": FinancePerm.ADD_ADJUSTMENT,
    }
    filterset_class = AdjustmentFilter
    search_fields = ["number", "reason"]

    def get_queryset(self):
        return selectors.adjustment_list(actor=self.request.user).order_by("-created_at", "-pk")

    def perform_create(self, serializer):
        serializer.instance = services.adjustment_create(
            actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=Comment, responses={201: ApprovalResult})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        approval = services.adjustment_submit(
            actor=request.user,
            adjustment=self.get_object(),
            comment=request.data.get("comment", ""),
        )
        return Response(_approval_result(approval), status=status.HTTP_201_CREATED)


# Expense requests ---------------------------------------------------------------------------------


class UsableLineField(serializers.PrimaryKeyRelatedField):
    """A budget line the caller may charge (others: "does not exist", no hint)."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return BudgetLine.objects.none()
        return services.usable_lines_for(request.user)


class ExpenseRequestSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(read_only=True)
    line = UsableLineField()

    class Meta:
        model = ExpenseRequest
        fields = [
            "id",
            "number",
            "title",
            "line",
            "amount",
            "consumed",
            "expected_on",
            "description",
            "status",
            "owner",
            "department",
            "created_at",
        ]
        read_only_fields = ["number", "consumed", "status", "department", "created_at"]


class ExpenseRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Expense requests before spending (事前申请): they reserve budget when submitted."""

    queryset = ExpenseRequest.objects.none()
    serializer_class = ExpenseRequestSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": [FinancePerm.VIEW_REQUEST, FinancePerm.ADD_REQUEST],
        "WRITE": FinancePerm.ADD_REQUEST,
        "close": [FinancePerm.ADD_REQUEST, FinancePerm.REVIEW_CLAIM],
    }
    filterset_class = ExpenseRequestFilter
    search_fields = ["number", "title"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.expense_request_list(actor=self.request.user).order_by(
            "-created_at", "-pk"
        )

    def perform_create(self, serializer):
        serializer.instance = services.expense_request_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.expense_request_update(
            actor=self.request.user, request=serializer.instance, **serializer.validated_data
        )

    @extend_schema(request=Comment, responses={201: ApprovalResult})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        approval = services.expense_request_submit(
            actor=request.user, request=self.get_object(), comment=request.data.get("comment", "")
        )
        return Response(_approval_result(approval), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ExpenseRequestSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        document = services.expense_request_close(actor=request.user, request=self.get_object())
        return Response(ExpenseRequestSerializer(document, context={"request": request}).data)


# Claims -------------------------------------------------------------------------------------------


class ClaimLineSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)
    budget_line = UsableLineField()
    category = serializers.PrimaryKeyRelatedField(
        queryset=ExpenseCategory.objects.filter(active=True), required=False
    )

    class Meta:
        model = ExpenseClaimLine
        fields = [
            "id",
            "spent_on",
            "category",
            "budget_line",
            "amount",
            "approved_amount",
            "description",
            "link_type",
            "link_id",
        ]
        read_only_fields = ["approved_amount"]


class VoucherSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True, required=False)
    kind = serializers.ChoiceField(choices=VoucherKind.choices, default=VoucherKind.INVOICE)

    class Meta:
        model = Voucher
        fields = [
            "id",
            "line",
            "kind",
            "code",
            "number",
            "issued_on",
            "amount",
            "tax",
            "attachment",
            "file",
        ]
        read_only_fields = ["attachment"]
        validators = []  # the service names the earlier claim of a duplicate invoice


class ClaimSerializer(serializers.ModelSerializer):
    claimant = serializers.CharField(read_only=True)
    lines = ClaimLineSerializer(many=True)
    vouchers = VoucherSerializer(many=True, read_only=True)
    expense_request = serializers.PrimaryKeyRelatedField(
        queryset=ExpenseRequest.objects.all(), required=False, allow_null=True
    )
    waiting_for = serializers.SerializerMethodField()

    class Meta:
        model = ExpenseClaim
        fields = [
            "id",
            "number",
            "title",
            "claimant",
            "department",
            "expense_request",
            "status",
            "total",
            "approved_total",
            "submitted_at",
            "waiting_for",
            "review_note",
            "voucher_no",
            "posted_on",
            "account",
            "paid_on",
            "pay_method",
            "lines",
            "vouchers",
            "created_at",
        ]
        read_only_fields = [
            "number",
            "department",
            "status",
            "total",
            "approved_total",
            "submitted_at",
            "review_note",
            "voucher_no",
            "posted_on",
            "account",
            "paid_on",
            "pay_method",
            "created_at",
        ]

    def get_waiting_for(self, obj) -> list[str]:
        return [str(user) for user in selectors.claim_holders(obj)]


class ReviewInput(serializers.Serializer):
    approved = serializers.DictField(
        child=serializers.DecimalField(min_value=Decimal("0"), **MONEY),
        required=False,
        help_text="{claim line id: approved amount}; lines left out keep their amount",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PostInput(serializers.Serializer):
    voucher_no = serializers.CharField(max_length=40)
    posted_on = serializers.DateField(required=False)
    account = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class PayInput(serializers.Serializer):
    paid_on = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=PayMethod.choices, default=PayMethod.BANK)


class ClaimViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Expense claims (报销单, R7.2.2): draft with lines, vouchers, submit under budget control,
    withdraw; finance review, posting and payment."""

    queryset = ExpenseClaim.objects.none()
    serializer_class = ClaimSerializer
    permission_classes = [permissions.IsAuthenticated, PermRequired]
    perms = {
        "READ": [FinancePerm.VIEW_CLAIM, FinancePerm.ADD_CLAIM],
        "WRITE": FinancePerm.ADD_CLAIM,
        "review": FinancePerm.REVIEW_CLAIM,
        "post_claim": FinancePerm.POST_CLAIM,
        "pay": FinancePerm.PAY_CLAIM,
    }
    filterset_class = ClaimFilter
    search_fields = ["number", "title"]
    ordering_fields = ["created_at", "total", "number"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            selectors.claim_list(actor=self.request.user)
            .prefetch_related("lines", "vouchers")
            .order_by("-created_at", "-pk")
        )

    def _expense_request(self, value):
        if value is None:
            return None
        return selectors.expense_request_list(actor=self.request.user).filter(pk=value.pk).first()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.claim_create(
            actor=self.request.user,
            title=data["title"],
            lines=[dict(line) for line in data["lines"]],
            expense_request=self._expense_request(data.get("expense_request")),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        kwargs = {}
        if "title" in data:
            kwargs["title"] = data["title"]
        if "lines" in data:
            kwargs["lines"] = [dict(line) for line in data["lines"]]
        if "expense_request" in data:
            kwargs["expense_request"] = self._expense_request(data["expense_request"])
        serializer.instance = services.claim_update(
            actor=self.request.user, claim=serializer.instance, **kwargs
        )

    @extend_schema(request=VoucherSerializer, responses={201: VoucherSerializer})
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def vouchers(self, request, pk=None):
        """Add an invoice (code, number, amount, tax, scan as `file`) or a contract to a line."""
        claim = self.get_object()
        data = VoucherSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        line = values.pop("line")
        if line.claim_id != claim.pk:  # another claim's line: as if it did not exist
            raise serializers.ValidationError(
                {
                    "line": [
                        serializers.PrimaryKeyRelatedField.default_error_messages[
                            "does_not_exist"
                        ].format(pk_value=line.pk)
                    ]
                }
            )
        voucher = services.voucher_add(
            actor=request.user, claim=claim, line=line, upload=values.pop("file", None), **values
        )
        return Response(VoucherSerializer(voucher).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=Comment, responses={201: ApprovalResult})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        approval = services.claim_submit(
            actor=request.user, claim=self.get_object(), comment=request.data.get("comment", "")
        )
        return Response(_approval_result(approval), status=status.HTTP_201_CREATED)

    @extend_schema(request=Comment, responses=ApprovalResult)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        approval = services.claim_withdraw(
            actor=request.user, claim=self.get_object(), reason=request.data.get("comment", "")
        )
        return Response(_approval_result(approval))

    @extend_schema(request=ReviewInput, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        approved = {
            int(key): value
            for key, value in data.validated_data.get("approved", {}).items()
            if str(key).isdigit()
        }
        claim = services.claim_review(
            actor=request.user,
            claim=self.get_object(),
            approved=approved,
            note=data.validated_data["note"],
        )
        return Response(ClaimSerializer(claim, context={"request": request}).data)

    @extend_schema(request=PostInput, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], url_path="post", url_name="post")
    def post_claim(self, request, pk=None):
        """Record the accounting voucher (number, date, account) of a reviewed claim."""
        data = PostInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.claim_post(
            actor=request.user, claim=self.get_object(), **data.validated_data
        )
        return Response(ClaimSerializer(claim, context={"request": request}).data)

    @extend_schema(request=PayInput, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        data = PayInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.claim_pay(
            actor=request.user, claim=self.get_object(), **data.validated_data
        )
        return Response(ClaimSerializer(claim, context={"request": request}).data)


def register(router) -> None:
    router.register("finance/categories", CategoryViewSet, basename="finance-category")
    router.register("finance/budgets", BudgetViewSet, basename="finance-budget")
    router.register("finance/budget-lines", LineViewSet, basename="finance-budget-line")
    router.register("finance/adjustments", AdjustmentViewSet, basename="finance-adjustment")
    router.register("finance/requests", ExpenseRequestViewSet, basename="finance-request")
    router.register("finance/claims", ClaimViewSet, basename="finance-claim")
