"""'Save and submit' of a new order in one transaction (`order_create_submit`): the same rules
and results as saving a draft and submitting it (`order_create` + `order_submit`), the order
written once; a refused submission keeps the draft (the form) or saves nothing (the API)."""

# ruff: noqa: F811  (the fixtures imported from test_orders_fixtures)
from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from marketdesk.approvals.models import ApprovalRequest
from marketdesk.core.models import Notification
from marketdesk.crm.models import CustomerStage
from marketdesk.org import services as org_services
from marketdesk.sales.models import (
    CreditMode,
    CustomerAccount,
    OrderStatus,
    PriceList,
    PriceListItem,
    RollupDirty,
    SalesOrder,
)
from marketdesk.sales.services import orders as services

from .test_orders_api import body
from .test_orders_fixtures import (  # noqa: F401  (fixtures)
    ORDER_DAY,
    approve_all,
    as_user,
    future,
    new_customer,
    order_flow,
    rows,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/sales/"


def _fields(customer, catalogue, lines, **extra):
    return {
        "customer": customer,
        "lines": rows(catalogue, *lines),
        "order_date": ORDER_DAY,
        "promised_date": future(20),
        **extra,
    }


def _two_steps(actor, fields) -> SalesOrder:
    order = services.order_create(actor=actor, **fields)
    with contextlib.suppress(ValidationError):  # refused: the draft stays
        services.order_submit(actor=actor, order=order)
    order.refresh_from_db()
    return order


def _one_step(actor, fields) -> SalesOrder:
    done = services.order_create_submit(actor=actor, **fields)
    order = SalesOrder.objects.get(pk=done.order.pk)
    return order


def _state(order: SalesOrder) -> dict:
    """What the order is after submission, without its identity (number, times, ids)."""
    return {
        "status": order.status,
        "total": order.total,
        "list_amount": order.list_amount,
        "max_discount": order.max_discount,
        "approval_reasons": order.approval_reasons,
        "credit_warning": order.credit_warning,
        "channel_tier": order.channel_tier,
        "department": order.department_id,
        "confirmed": order.confirmed_at is not None,
        "lines": [
            (
                line.line_no,
                line.product_id,
                line.quantity,
                line.list_price,
                line.price_list_id,
                line.unit_price,
                line.discount,
                line.amount,
            )
            for line in order.lines.order_by("line_no")
        ],
        "tasks": sorted(
            (task.kind, task.department_id, task.owner_id, task.due_date, task.status)
            for task in order.tasks.all()
        ),
        "approval": sorted(
            (request.status, request.category, request.amount)
            for request in ApprovalRequest.objects.filter(object_id=order.pk)
        ),
        "notified": sorted(
            (n.recipient_id, n.kind)
            for n in Notification.objects.filter(url__contains="/sales/tasks/").filter(
                title__contains=order.number
            )
        ),
        "marked": RollupDirty.objects.filter(
            owner_id=order.owner_id, year=order.order_date.year, month=order.order_date.month
        ).exists(),
    }


CASES = {
    # name: (lines, settings, credit limit)
    "within authority": ((("terminal", "2", "5"),), {}, None),
    "discount above authority": ((("terminal", "1", "0"), ("gateway", "2", "6")), {}, None),
    "total above the approval amount": (
        (("terminal", "2", "0"),),
        {"approval_amount": Decimal("20000")},
        None,
    ),
    "credit limit passed, warn": ((("terminal", "2", "0"),), {}, Decimal("10000")),
    "credit limit passed, block": (
        (("terminal", "2", "0"),),
        {"credit_mode": CreditMode.BLOCK},
        Decimal("10000"),
    ),
}


class TestSameAsTwoSteps:
    @pytest.mark.parametrize("case", CASES)
    def test_the_result_is_the_same_as_saving_then_submitting(
        self, case, sales_personas, customer, catalogue, sales_settings, order_flow
    ):
        lines, settings, limit = CASES[case]
        for name, value in settings.items():
            setattr(sales_settings, name, value)
        sales_settings.save()
        if limit is not None:
            CustomerAccount.objects.create(customer=customer, credit_limit=limit)
        actor = sales_personas.sales1
        other = new_customer(actor, "杭州恒泰精密机械有限公司", level=customer.level)
        if limit is not None:  # each customer its own limit: the first order is not counted
            CustomerAccount.objects.create(customer=other, credit_limit=limit)
        two = _state(_two_steps(actor, _fields(customer, catalogue, lines)))
        RollupDirty.objects.all().delete()
        one = _state(_one_step(actor, _fields(other, catalogue, lines)))
        assert one == two
        assert SalesOrder.objects.count() == 2

    def test_without_an_approval_flow_the_draft_is_kept_and_the_reason_given(
        self, sales_personas, customer, catalogue, english
    ):
        done = services.order_create_submit(
            actor=sales_personas.sales1, **_fields(customer, catalogue, (("terminal", "1", "20"),))
        )
        assert done.refused is not None and done.approval is None
        order = SalesOrder.objects.get()
        assert order.status == OrderStatus.DRAFT
        assert order.approval_reasons == "" and not order.tasks.exists()
        assert order.lines.count() == 1

    def test_a_blocking_credit_limit_keeps_the_draft_or_saves_nothing(
        self, sales_personas, customer, catalogue, sales_settings, english
    ):
        sales_settings.credit_mode = CreditMode.BLOCK
        sales_settings.save()
        CustomerAccount.objects.create(customer=customer, credit_limit=Decimal("10000"))
        fields = _fields(customer, catalogue, (("terminal", "2", "0"),))
        with pytest.raises(ValidationError) as caught:
            services.order_create_submit(actor=sales_personas.sales1, keep_draft=False, **fields)
        assert "credit" in caught.value.message_dict
        assert not SalesOrder.objects.exists()
        done = services.order_create_submit(actor=sales_personas.sales1, **fields)
        assert "credit" in done.refused.message_dict
        assert SalesOrder.objects.get().status == OrderStatus.DRAFT

    def test_approval_then_confirms_and_creates_the_tasks(
        self,
        sales_personas,
        customer,
        catalogue,
        order_flow,
        django_capture_on_commit_callbacks,
    ):
        done = services.order_create_submit(
            actor=sales_personas.sales1,
            comment="战略客户",
            **_fields(customer, catalogue, (("terminal", "1", "9"),)),
        )
        assert done.order.status == OrderStatus.IN_APPROVAL and done.refused is None
        approve_all(done.approval, django_capture_on_commit_callbacks)
        order = SalesOrder.objects.get()
        assert order.status == OrderStatus.CONFIRMED
        assert {task.kind for task in order.tasks.all()} == {"production", "logistics"}


class TestReadsBeforeTheWrite:
    def test_a_tier_changed_after_pricing_prices_the_lines_again(
        self, sales_personas, customer, catalogue, sales_settings
    ):
        """The read-only checks run before the write transaction; the account, read again
        under its lock, decides the price list."""
        import datetime

        tier1 = PriceList.objects.create(
            name="一级经销价",
            channel_tier="tier1",
            valid_from=datetime.date(2026, 1, 1),
            priority=30,
        )
        PriceListItem.objects.create(
            price_list=tier1, product=catalogue["gateway"], price=Decimal("2800.00")
        )
        actor = sales_personas.sales1
        fields = _fields(customer, catalogue, (("gateway", "1", "0"),))
        fields.pop("customer")
        order, rows = services._draft(actor=actor, customer=customer, **fields)
        assert order.channel_tier == "direct" and rows[0]["unit_price"] == Decimal("3500.00")
        CustomerAccount.objects.create(customer=customer, channel_tier="tier1")  # meanwhile
        done = services._create_submit(
            actor, order, rows, sales_settings, [], comment="", keep_draft=True
        )
        saved = SalesOrder.objects.get(pk=done.order.pk)
        assert saved.channel_tier == "tier1" and saved.status == OrderStatus.CONFIRMED
        assert saved.lines.get().unit_price == Decimal("2800.00")
        assert saved.total == Decimal("2800.00")


class TestWrittenOnce:
    def test_a_confirmed_order_has_one_history_row_by_its_salesperson(
        self, sales_personas, customer, catalogue
    ):
        done = services.order_create_submit(
            actor=sales_personas.sales1, **_fields(customer, catalogue, (("terminal", "1", "0"),))
        )
        history = list(done.order.history.all())
        assert [(row.history_type, row.status) for row in history] == [("+", "confirmed")]
        assert history[0].history_user == sales_personas.sales1

    def test_the_customer_becomes_a_deal_customer(self, sales_personas, customer, catalogue):
        customer.stage, customer.won_at = CustomerStage.INTENTION, None
        customer.save()
        done = services.order_create_submit(
            actor=sales_personas.sales1, **_fields(customer, catalogue, (("terminal", "1", "0"),))
        )
        customer.refresh_from_db()
        assert customer.stage == CustomerStage.DEAL
        assert customer.won_at == done.order.confirmed_at

    def test_a_bad_line_saves_nothing_and_gives_the_number_back(
        self, sales_personas, customer, catalogue, english
    ):
        with pytest.raises(ValidationError) as caught:
            services.order_create_submit(
                actor=sales_personas.sales1,
                **_fields(customer, catalogue, (("terminal", "1", "0"), ("gateway", "0", "0"))),
            )
        assert caught.value.message_dict["lines[2].quantity"] == [
            "Line 2: the quantity must be positive."
        ]
        assert not SalesOrder.objects.exists()
        done = services.order_create_submit(
            actor=sales_personas.sales1, **_fields(customer, catalogue, (("terminal", "1", "0"),))
        )
        assert done.order.number.endswith("-00001")

    def test_the_statements_of_a_confirmed_order(
        self, sales_personas, customer, catalogue, django_assert_max_num_queries
    ):
        root = sales_personas.management.__class__.objects.get(username="system")
        for unit, head in (("PRD", "prd_coord"), ("LOG", "log_coord")):  # the tasks' owners
            org_services.department_update(
                actor=root,
                department=sales_personas.units[unit],
                head=sales_personas.employees[head],
            )
        fields = _fields(customer, catalogue, (("terminal", "1", "0"), ("gateway", "2", "0")))
        services.order_create_submit(actor=sales_personas.sales1, **fields)  # warm caches
        # the savepoint of the test's atomic block and its release; scope, account, unit,
        # number (2), products, price lists, their items, settings, receivables, authority,
        # order + history, mark, lines, units of the tasks, tasks + history, notifications
        with django_assert_max_num_queries(22):
            services.order_create_submit(actor=sales_personas.sales1, **fields)


class TestWho:
    def test_without_the_permission_nothing_is_saved(self, sales_personas, customer, catalogue):
        with pytest.raises(PermissionDenied):
            services.order_create_submit(
                actor=sales_personas.finance,
                **_fields(customer, catalogue, (("terminal", "1", "0"),)),
            )
        assert not SalesOrder.objects.exists()

    def test_a_customer_outside_the_scope_is_refused(
        self, sales_personas, customer, catalogue, english
    ):
        with pytest.raises(ValidationError) as caught:
            services.order_create_submit(
                actor=sales_personas.sales2,
                **_fields(customer, catalogue, (("terminal", "1", "0"),)),
            )
        assert "customer" in caught.value.message_dict
        assert not SalesOrder.objects.exists()


class TestApi:
    def test_create_with_submit_confirms_at_once(
        self, sales_personas, customer, catalogue, api_for, sales_settings
    ):
        response = api_for(sales_personas.sales1).post(
            BASE + "orders/",
            body(customer, catalogue, ("terminal", "1", "0"), submit=True),
            format="json",
        )
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["status"] == "confirmed" and "submit" not in data
        assert SalesOrder.objects.get().tasks.count() == 2

    def test_a_refused_submission_is_a_400_and_nothing_is_saved(
        self, sales_personas, customer, catalogue, api_for, sales_settings
    ):
        sales_settings.credit_mode = CreditMode.BLOCK
        sales_settings.save()
        CustomerAccount.objects.create(customer=customer, credit_limit=Decimal("1000"))
        client = api_for(sales_personas.sales1)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        response = client.post(
            BASE + "orders/",
            body(customer, catalogue, ("terminal", "1", "0"), submit=True),
            format="json",
        )
        assert response.status_code == 400
        assert "credit" in response.json()["fields"]
        assert not SalesOrder.objects.exists()

    def test_without_submit_it_is_a_draft(
        self, sales_personas, customer, catalogue, api_for, sales_settings
    ):
        response = api_for(sales_personas.sales1).post(
            BASE + "orders/", body(customer, catalogue, ("terminal", "1", "0")), format="json"
        )
        assert response.json()["status"] == "draft"

    def test_the_schema_documents_submit(self, api_for, sales_personas):
        schema = api_for(sales_personas.sales1).get("/api/schema/?format=json").json()
        fields = schema["components"]["schemas"]["SalesOrderRequest"]["properties"]
        assert "submit" in fields and fields["submit"]["writeOnly"] is True


class TestForm:
    def _post(self, client, customer, catalogue, key="terminal", **extra):
        data = {
            "customer": customer.pk,
            "contact": "",
            "title": "产线改造",
            "order_date": ORDER_DAY.isoformat(),
            "promised_date": future().isoformat(),
            "payment_terms": "net30",
            "notes": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-product": catalogue[key].pk,
            "lines-0-quantity": "1",
            "lines-0-discount": "0",
            "lines-0-description": "",
            "submit": "1",
            **extra,
        }
        return client.post("/sales/orders/new/", data, follow=True)

    def test_save_and_submit_confirms_and_says_so(
        self, sales_personas, customer, catalogue, as_user, sales_settings
    ):
        response = self._post(as_user(sales_personas.sales1), customer, catalogue)
        order = SalesOrder.objects.get()
        assert order.status == OrderStatus.CONFIRMED
        assert response.redirect_chain[-1][0] == f"/sales/orders/{order.pk}/"
        assert "Order confirmed; production and logistics are told." in response.content.decode()

    def test_a_refused_submission_keeps_the_draft_and_says_why(
        self, sales_personas, customer, catalogue, as_user, sales_settings
    ):
        sales_settings.credit_mode = CreditMode.BLOCK
        sales_settings.save()
        CustomerAccount.objects.create(customer=customer, credit_limit=Decimal("1000"))
        response = self._post(as_user(sales_personas.sales1), customer, catalogue)
        order = SalesOrder.objects.get()
        assert order.status == OrderStatus.DRAFT and order.lines.count() == 1
        html = response.content.decode()
        assert "credit limit" in html
        assert "The order was saved as a draft." in html
