"""The order pages per role: who sees which orders (data scope, coordinators through their
tasks), 404 for ids out of scope, pages in zh-Hans and English, the order form with its live
price endpoint and per-line errors, the actions, deliveries, tasks, the on-time report, exports,
the customer 360 panel, the workbench and the search box."""

# ruff: noqa: F811  (the fixtures imported from test_orders_fixtures)
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from marketdesk.sales.models import Delivery, OrderStatus, SalesOrder

from .test_orders_fixtures import (  # noqa: F401
    ORDER_DAY,
    as_user,
    confirm,
    confirmed,
    future,
    make_order,
    new_customer,
    order_flow,
    rows,
    ship,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(make_order, sales_personas):
    """Orders in different scopes: sales1's (confirmed), sales1b's (draft), sales2's
    (confirmed)."""
    theirs_1b = new_customer(sales_personas.sales1b, "苏州园区电子有限公司")
    theirs_2 = new_customer(sales_personas.sales2, "南京长江物流有限公司")
    return {
        "sales1": confirm(make_order()),
        "sales1b": make_order(user=sales_personas.sales1b, of=theirs_1b),
        "sales2": confirm(make_order(user=sales_personas.sales2, of=theirs_2)),
    }


VISIBLE = {
    "sales1": {"sales1"},
    "sales1b": {"sales1b"},
    "sales2": {"sales2"},
    "leader1": {"sales1", "sales1b"},  # own group
    "leader2": {"sales2"},
    "manager": {"sales1", "sales1b", "sales2"},  # marketing and below
    "finance": {"sales1", "sales1b", "sales2"},
    "management": {"sales1", "sales1b", "sales2"},
    "service": {"sales1", "sales1b", "sales2"},  # customer service sees every order (R5.2)
    "prd_coord": {"sales1", "sales2"},  # orders with a task for 生产部
    "log_coord": {"sales1", "sales2"},
}


class TestScope:
    @pytest.mark.parametrize("who", sorted(VISIBLE))
    def test_each_role_lists_what_its_scope_allows(self, book, sales_personas, as_user, who):
        response = as_user(getattr(sales_personas, who)).get("/sales/orders/")
        assert response.status_code == 200
        page = response.content.decode()
        assert {key for key, order in book.items() if order.number in page} == VISIBLE[who]

    @pytest.mark.parametrize("who", sorted(VISIBLE))
    def test_a_detail_out_of_scope_is_a_404(self, book, sales_personas, as_user, who):
        client = as_user(getattr(sales_personas, who))
        for key, order in book.items():
            expected = 200 if key in VISIBLE[who] else 404
            assert client.get(f"/sales/orders/{order.pk}/").status_code == expected, key

    @pytest.mark.parametrize("who", ["promo", "outsider"])
    def test_without_the_permission_the_pages_are_refused(self, book, sales_personas, as_user, who):
        client = as_user(getattr(sales_personas, who))
        assert client.get("/sales/orders/").status_code == 403
        assert client.get(f"/sales/orders/{book['sales1'].pk}/").status_code == 404
        assert client.get("/sales/orders/new/").status_code == 403

    def test_guessing_a_task_or_delivery_id_is_a_404(self, book, sales_personas, as_user):
        delivery = ship(book["sales1"], sales_personas.log_coord, {1: "1"})
        task = book["sales1"].tasks.first()
        client = as_user(sales_personas.leader2)
        assert client.get(f"/sales/tasks/{task.pk}/").status_code == 404
        assert client.get(f"/sales/deliveries/{delivery.pk}/").status_code == 404
        assert client.post(f"/sales/deliveries/{delivery.pk}/sign/").status_code == 404
        assert client.post(f"/sales/orders/{book['sales1'].pk}/cancel/").status_code == 404


class TestPages:
    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    def test_every_page_renders(self, book, sales_personas, as_user, language):
        order = book["sales1"]
        delivery = ship(order, sales_personas.log_coord, {1: "1"})
        task = order.tasks.get(kind="production")
        for user, urls in [
            (
                sales_personas.sales1,
                [
                    "/sales/orders/",
                    "/sales/orders/new/",
                    f"/sales/orders/{order.pk}/",
                    f"/sales/orders/{book['sales1'].pk}/",
                    "/sales/tasks/",
                    f"/sales/tasks/{task.pk}/",
                    "/sales/deliveries/",
                    f"/sales/deliveries/{delivery.pk}/",
                    "/sales/orders/on-time/",
                    f"/crm/customers/{order.customer_id}/",
                ],
            ),
            (sales_personas.sales1b, [f"/sales/orders/{book['sales1b'].pk}/edit/"]),
            (
                sales_personas.log_coord,
                [f"/sales/orders/{order.pk}/deliveries/new/", f"/sales/tasks/{task.pk}/"],
            ),
        ]:
            client = as_user(user, language)
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

    def test_the_detail_shows_status_actions_lines_and_tasks(self, book, sales_personas, as_user):
        page = as_user(sales_personas.sales1b).get(f"/sales/orders/{book['sales1b'].pk}/")
        html = page.content.decode()
        assert 'data-status="draft"' in html
        assert 'id="md-submit-order"' in html and "Submit and confirm" in html
        assert "ZT-100" in html
        leader = as_user(sales_personas.leader1).get(f"/sales/orders/{book['sales1b'].pk}/")
        assert 'id="md-confirm-order"' in leader.content.decode()
        assert 'id="md-submit-order"' not in leader.content.decode()

    def test_the_coordinator_sees_the_production_actions(self, book, sales_personas, as_user):
        html = (
            as_user(sales_personas.prd_coord)
            .get(f"/sales/orders/{book['sales1'].pk}/")
            .content.decode()
        )
        assert 'id="md-start-order"' in html and 'id="md-ship-order"' in html
        assert 'id="md-cancel-toggle"' not in html

    def test_an_htmx_list_request_renders_the_rows_only(self, book, sales_personas, as_user):
        response = as_user(sales_personas.manager).get(
            "/sales/orders/?status=confirmed", HTTP_HX_REQUEST="true"
        )
        html = response.content.decode()
        assert 'id="list-results"' in html and "<html" not in html
        assert book["sales1"].number in html and book["sales1b"].number not in html

    def test_the_customer_filter_of_the_list(self, book, sales_personas, as_user):
        page = as_user(sales_personas.manager).get(
            f"/sales/orders/?customer={book['sales2'].customer_id}"
        )
        html = page.content.decode()
        assert book["sales2"].number in html and book["sales1"].number not in html


class TestOrderForm:
    def post(self, client, catalogue, customer, lines, **extra):
        data = {
            "customer": customer.pk,
            "contact": "",
            "title": "产线改造",
            "order_date": ORDER_DAY.isoformat(),
            "promised_date": future().isoformat(),
            "payment_terms": "net30",
            "notes": "",
            "lines-TOTAL_FORMS": str(len(lines)),
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
        }
        for index, (key, quantity, discount) in enumerate(lines):
            data[f"lines-{index}-product"] = catalogue[key].pk if key else ""
            data[f"lines-{index}-quantity"] = quantity
            data[f"lines-{index}-discount"] = discount
            data[f"lines-{index}-description"] = ""
        data.update(extra)
        return client.post("/sales/orders/new/", data)

    def test_a_new_order_is_saved_as_a_draft(self, sales_personas, customer, catalogue, as_user):
        client = as_user(sales_personas.sales1)
        response = self.post(
            client, catalogue, customer, [("terminal", "2", "0"), ("gateway", "1", "3")]
        )
        order = SalesOrder.objects.get()
        assert response.status_code == 302 and response.url == f"/sales/orders/{order.pk}/"
        assert order.status == OrderStatus.DRAFT
        assert order.total == Decimal("22000.00") + Decimal("3395.00")

    def test_save_and_submit_confirms_within_authority(
        self, sales_personas, customer, catalogue, as_user
    ):
        client = as_user(sales_personas.sales1)
        self.post(client, catalogue, customer, [("terminal", "1", "0")], submit="1")
        assert SalesOrder.objects.get().status == OrderStatus.CONFIRMED

    def test_a_bad_line_shows_its_error_and_nothing_is_saved(
        self, sales_personas, customer, catalogue, as_user
    ):
        client = as_user(sales_personas.sales1)
        response = self.post(
            client, catalogue, customer, [("terminal", "1", "0"), ("gateway", "0", "0")]
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Line 2: the quantity must be positive." in html
        assert not SalesOrder.objects.exists()

    def test_header_errors_name_the_field(self, sales_personas, customer, catalogue, as_user):
        client = as_user(sales_personas.sales1)
        response = self.post(
            client,
            catalogue,
            customer,
            [("terminal", "1", "0")],
            promised_date=(ORDER_DAY.replace(day=1)).isoformat(),
        )
        assert "The promised delivery date cannot be before the order date." in (
            response.content.decode()
        )
        assert not SalesOrder.objects.exists()

    def test_a_customer_outside_the_scope_is_not_accepted(
        self, sales_personas, catalogue, as_user, sales_settings
    ):
        theirs = new_customer(sales_personas.sales2, "南京长江物流有限公司")
        response = self.post(
            as_user(sales_personas.sales1), catalogue, theirs, [("terminal", "1", "0")]
        )
        assert response.status_code == 200
        assert not SalesOrder.objects.exists()

    def test_the_form_is_prefilled_from_a_customer(
        self, sales_personas, customer, as_user, catalogue
    ):
        html = (
            as_user(sales_personas.sales1)
            .get(f"/sales/orders/new/?customer={customer.pk}")
            .content.decode()
        )
        assert f'<option value="{customer.pk}" selected>' in html
        assert "钱进" in html  # the primary contact

    def test_the_form_is_prefilled_from_an_opportunity(
        self, sales_personas, customer, as_user, catalogue
    ):
        from marketdesk.sales.models import Opportunity, Stage, StageGroup

        group = StageGroup.objects.create(name="默认阶段")
        stage = Stage.objects.create(group=group, name="合同签订", win_percent=90, sort_order=1)
        opportunity = Opportunity.objects.create(
            number="SJ-1",
            name="杭州产线项目",
            customer=customer,
            owner=sales_personas.sales1,
            stage_group=group,
            stage=stage,
        )
        html = (
            as_user(sales_personas.sales1)
            .get(f"/sales/orders/new/?opportunity={opportunity.pk}")
            .content.decode()
        )
        assert "杭州产线项目" in html and f'name="opportunity" value="{opportunity.pk}"' in html

    def test_only_the_owner_edits_a_draft(self, book, sales_personas, as_user):
        assert (
            as_user(sales_personas.sales1)
            .get(f"/sales/orders/{book['sales1b'].pk}/edit/")
            .status_code
            == 404
        )
        assert (
            as_user(sales_personas.leader1)
            .get(f"/sales/orders/{book['sales1b'].pk}/edit/")
            .status_code
            == 403
        )
        assert (
            as_user(sales_personas.sales1)
            .get(f"/sales/orders/{book['sales1'].pk}/edit/")
            .status_code
            == 403
        )

    def test_the_price_endpoint(self, sales_personas, customer, catalogue, as_user):
        client = as_user(sales_personas.sales1)
        url = "/sales/orders/price/"
        data = client.get(
            url,
            {
                "product": catalogue["terminal"].pk,
                "customer": customer.pk,
                "quantity": "12",
                "on": "2026-03-04",
            },
        ).json()
        assert data["unit_price"] == "10500.00" and data["list_price"] == "12000.00"
        assert data["unit"] == "台"
        theirs = new_customer(sales_personas.sales2, "南京长江物流有限公司", level="A")
        other = client.get(url, {"product": catalogue["terminal"].pk, "customer": theirs.pk}).json()
        assert other["unit_price"] == "12000.00"  # an unseen customer is not used for pricing
        assert client.get(url, {"product": "999999"}).status_code == 404
        assert (
            as_user(sales_personas.finance)
            .get(url, {"product": catalogue["terminal"].pk})
            .status_code
            == 403
        )

    def test_the_customer_and_contact_pickers(self, sales_personas, customer, as_user):
        client = as_user(sales_personas.sales1)
        html = client.get("/sales/orders/customer-options/", {"q": "西湖"}).content.decode()
        assert customer.name in html
        theirs = new_customer(sales_personas.sales2, "南京长江物流有限公司")
        assert (
            theirs.name
            not in client.get("/sales/orders/customer-options/", {"q": "长江"}).content.decode()
        )
        contacts = client.get(
            "/sales/orders/contact-options/", {"customer": customer.pk}
        ).content.decode()
        assert "钱进" in contacts
        assert (
            'option value=""'
            in client.get(
                "/sales/orders/contact-options/", {"customer": theirs.pk}
            ).content.decode()
        )


class TestActions:
    def test_submit_cancel_and_messages(self, book, sales_personas, as_user):
        client = as_user(sales_personas.sales1b)
        order = book["sales1b"]
        response = client.post(f"/sales/orders/{order.pk}/submit/", follow=True)
        assert "Order confirmed" in response.content.decode()
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
        response = client.post(f"/sales/orders/{order.pk}/cancel/", {"reason": "x"}, follow=True)
        assert response.status_code == 200
        assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED  # not theirs
        leader = as_user(sales_personas.leader1)
        response = leader.post(f"/sales/orders/{order.pk}/cancel/", {"reason": ""}, follow=True)
        assert "Give the reason for cancelling." in response.content.decode()
        leader.post(f"/sales/orders/{order.pk}/cancel/", {"reason": "客户取消"})
        assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.CANCELLED

    def test_a_submission_needing_approval(self, make_order, sales_personas, as_user, order_flow):
        order = make_order(lines=(("terminal", "1", "9"),))
        client = as_user(sales_personas.sales1)
        page = client.get(f"/sales/orders/{order.pk}/").content.decode()
        assert 'id="md-approval-reasons"' in page and "Submit for approval" in page
        response = client.post(f"/sales/orders/{order.pk}/submit/", follow=True)
        assert "Submitted for approval." in response.content.decode()
        html = as_user(sales_personas.leader1).get(f"/sales/orders/{order.pk}/").content.decode()
        assert "Decide on the approval" in html

    def test_production_then_delivery_through_the_pages(self, book, sales_personas, as_user):
        order = book["sales1"]
        prd = as_user(sales_personas.prd_coord)
        prd.post(f"/sales/orders/{order.pk}/start/")
        prd.post(f"/sales/orders/{order.pk}/ready/")
        order.refresh_from_db()
        assert order.status == OrderStatus.READY
        log = as_user(sales_personas.log_coord)
        line = order.lines.get()
        response = log.post(
            f"/sales/orders/{order.pk}/deliveries/new/",
            {f"line_{line.pk}": "5", "shipped_on": ORDER_DAY.isoformat(), "carrier": "顺丰"},
        )
        assert "Line 1: only 2 台 are still to ship." in response.content.decode()
        response = log.post(
            f"/sales/orders/{order.pk}/deliveries/new/",
            {f"line_{line.pk}": "1", "shipped_on": ORDER_DAY.isoformat(), "carrier": "顺丰"},
        )
        delivery = Delivery.objects.get()
        assert response.status_code == 302 and response.url == f"/sales/deliveries/{delivery.pk}/"
        assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.PARTLY_SHIPPED
        log.post(
            f"/sales/deliveries/{delivery.pk}/sign/",
            {"signed_on": ORDER_DAY.isoformat(), "signed_by": "钱进"},
        )
        delivery.refresh_from_db()
        assert delivery.status == "signed"

    def test_the_sales_person_cannot_open_the_delivery_form(self, book, sales_personas, as_user):
        response = as_user(sales_personas.sales1).get(
            f"/sales/orders/{book['sales1'].pk}/deliveries/new/"
        )
        assert response.status_code == 403

    def test_task_actions(self, book, sales_personas, as_user):
        task = book["sales1"].tasks.get(kind="logistics")
        client = as_user(sales_personas.log_coord)
        client.post(
            f"/sales/tasks/{task.pk}/update/",
            {
                "owner": sales_personas.log_coord.pk,
                "due_date": future(10).isoformat(),
                "notes": "预约车辆",
            },
        )
        client.post(f"/sales/tasks/{task.pk}/start/")
        task.refresh_from_db()
        assert task.owner == sales_personas.log_coord and task.status == "in_progress"
        response = as_user(sales_personas.sales1).post(f"/sales/tasks/{task.pk}/done/", follow=True)
        assert response.status_code == 200
        task.refresh_from_db()
        assert task.status == "in_progress"  # the salesperson only follows it

    def test_a_coordinator_lists_the_units_tasks(self, book, sales_personas, as_user):
        html = as_user(sales_personas.prd_coord).get("/sales/tasks/?mine=true").content.decode()
        assert book["sales1"].number in html and book["sales2"].number in html
        assert as_user(sales_personas.promo).get("/sales/tasks/").status_code == 403


class TestReportsAndExports:
    def test_on_time_page_and_export(self, book, sales_personas, as_user):
        order = book["sales1"]
        delivery = ship(order, sales_personas.log_coord)
        from marketdesk.sales.services import deliveries

        deliveries.delivery_sign(
            actor=sales_personas.log_coord, delivery=delivery, signed_on=ORDER_DAY
        )
        client = as_user(sales_personas.manager)
        html = client.get("/sales/orders/on-time/?start=2026-01-01&end=2026-12-31").content.decode()
        assert "销售一组" in html and "100.0 %" in html
        html = client.get(
            "/sales/orders/on-time/?start=2026-01-01&end=2026-12-31&by=owner"
        ).content.decode()
        assert "王芳" in html
        response = client.get("/sales/orders/on-time/?start=2026-01-01&end=2026-12-31&format=xlsx")
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert [cell.value for cell in sheet[2]][:3] == ["销售一组", 1, 1]
        assert (
            as_user(sales_personas.sales1).get("/sales/orders/on-time/?format=csv").status_code
            == 403
        )

    def test_order_export_respects_scope(self, book, sales_personas, as_user):
        response = as_user(sales_personas.leader1).get("/sales/orders/export/?format=xlsx")
        sheet = load_workbook(io.BytesIO(response.content)).active
        numbers = {row[0].value for row in sheet.iter_rows(min_row=2)}
        assert numbers == {book["sales1"].number, book["sales1b"].number}
        csv = as_user(sales_personas.manager).get("/sales/orders/export/?format=csv")
        assert book["sales2"].number in b"".join(csv.streaming_content).decode()
        assert as_user(sales_personas.sales1).get("/sales/orders/export/").status_code == 403


class TestIntegrations:
    def test_the_customer_page_shows_the_purchase_history(self, book, sales_personas, as_user):
        order = book["sales1"]
        html = (
            as_user(sales_personas.sales1)
            .get(f"/crm/customers/{order.customer_id}/")
            .content.decode()
        )
        assert "Orders / purchase history" in html and order.number in html
        assert "¥22,000.00" in html

    def test_the_workbench_shows_the_order_to_dos(self, book, sales_personas, as_user):
        html = as_user(sales_personas.sales1b).get("/").content.decode()
        assert "Orders waiting for my action" in html
        html = as_user(sales_personas.prd_coord).get("/").content.decode()
        assert "My coordination tasks due" in html

    def test_the_search_box_finds_an_order_by_number_within_scope(
        self, book, sales_personas, as_user
    ):
        number, link = book["sales1"].number, f"/sales/orders/{book['sales1'].pk}/"
        found = as_user(sales_personas.sales1).get("/search/", {"q": number}).content.decode()
        assert link in found
        hidden = as_user(sales_personas.sales2).get("/search/", {"q": number}).content.decode()
        assert link not in hidden

    def test_the_signed_contract_is_attached_by_the_owner(self, book, sales_personas, as_user):
        from django.contrib.contenttypes.models import ContentType
        from django.core.files.uploadedfile import SimpleUploadedFile

        order = book["sales1"]
        ct = ContentType.objects.get_for_model(SalesOrder).pk
        upload = SimpleUploadedFile(
            "合同.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"
        )
        as_user(sales_personas.sales1).post(
            f"/records/{ct}/{order.pk}/files/", {"file": upload, "description": "已盖章合同"}
        )
        from marketdesk.core.models import Attachment

        assert Attachment.objects.filter(object_id=order.pk, content_type_id=ct).count() == 1
