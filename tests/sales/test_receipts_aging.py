"""Receivables aging (应收账款账龄): outstanding per instalment by days overdue (not yet due,
0–30, 31–60, 61–90, over 90), the implicit instalment of what no plan covers (due on the
promised delivery date), grouping by customer / salesperson / group, data scope, the
instalment list, the workbench count and the dashboard's `receipts_by`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketdesk.sales import selectors_receipts as selectors
from marketdesk.sales.models import OrderStatus
from marketdesk.sales.services import receipts as services

from . import test_receipts_helpers as h
from .test_receipts_helpers import days, plan, receive, set_receipt_approval, today

pytestmark = pytest.mark.django_db

order_for = h.order_for
D = Decimal


def buckets(report_row) -> dict:
    return {key: report_row[key] for key in selectors.BUCKET_KEYS if report_row[key]}


class TestBuckets:
    @pytest.mark.parametrize(
        "offset,bucket",
        [
            (1, "not_due"),
            (0, "d0_30"),
            (-30, "d0_30"),
            (-31, "d31_60"),
            (-60, "d31_60"),
            (-61, "d61_90"),
            (-90, "d61_90"),
            (-91, "d90_plus"),
            (-400, "d90_plus"),
        ],
    )
    def test_boundaries(self, sales_personas, order_for, offset, bucket):
        order = order_for(total="1000", order_date=days(-500))
        plan(sales_personas.sales1, order, (days(offset), "1000"))
        report = selectors.aging(actor=sales_personas.finance)
        assert buckets(report["totals"]) == {bucket: D("1000.00")}
        assert selectors.bucket_of(days(offset), today()) == bucket

    def test_every_bucket_and_confirmed_receipts_only(self, sales_personas, order_for):
        order = order_for(total="15000", order_date=days(-200))
        first, second, third, fourth, fifth = plan(
            sales_personas.sales1,
            order,
            (days(-120), "1000"),
            (days(-70), "2000"),
            (days(-45), "3000"),
            (days(-3), "4000"),
            (days(20), "5000"),
        )
        receive(sales_personas.sales1, order, "400", plan=first)
        set_receipt_approval(True)
        receive(sales_personas.sales1, order, "2000", plan=second)  # pending: still outstanding
        report = selectors.aging(actor=sales_personas.finance)
        assert buckets(report["totals"]) == {
            "d90_plus": D("600.00"),
            "d61_90": D("2000.00"),
            "d31_60": D("3000.00"),
            "d0_30": D("4000.00"),
            "not_due": D("5000.00"),
        }
        assert report["totals"]["overdue"] == D("9600.00")
        assert report["totals"]["total"] == D("14600.00")

    def test_an_order_without_plan_is_due_on_its_promised_date(self, sales_personas, order_for):
        order_for(total="8000", order_date=days(-100), promised_date=days(-40))
        report = selectors.aging(actor=sales_personas.finance)
        assert buckets(report["totals"]) == {"d31_60": D("8000.00")}

    def test_the_part_no_plan_covers_is_due_on_the_promised_date(self, sales_personas, order_for):
        order = order_for(total="10000", order_date=days(-100), promised_date=days(-70))
        (first,) = plan(sales_personas.sales1, order, (days(10), "6000"))
        receive(sales_personas.sales1, order, "1000")  # outside the plan
        receive(sales_personas.sales1, order, "2000", plan=first)
        report = selectors.aging(actor=sales_personas.finance)
        assert buckets(report["totals"]) == {"not_due": D("4000.00"), "d61_90": D("3000.00")}
        assert report["totals"]["total"] == order.total - D("3000")

    def test_paid_orders_and_unbooked_orders_are_not_receivables(self, sales_personas, order_for):
        paid = order_for(total="500")
        receive(sales_personas.sales1, paid, "500")
        order_for(total="700", status=OrderStatus.DRAFT)
        order_for(total="900", status=OrderStatus.CANCELLED)
        assert selectors.aging(actor=sales_personas.finance)["rows"] == []


class TestGrouping:
    @pytest.fixture
    def orders(self, sales_personas, customer, order_for):
        other = h.make_customer(sales_personas.sales2, "宁波甬兴机电有限公司")
        return {
            "s1": order_for(total="1000", promised_date=days(-5), order_date=days(-30)),
            "s1b": order_for(
                owner="sales1b", total="2000", promised_date=days(-40), order_date=days(-60)
            ),
            "s2": order_for(
                owner="sales2",
                total="4000",
                customer_=other,
                promised_date=days(5),
                order_date=days(-10),
            ),
        }

    def test_by_customer(self, sales_personas, customer, orders):
        rows = selectors.aging(actor=sales_personas.finance, by="customer")["rows"]
        assert [(r["name"], r["total"], r["overdue"]) for r in rows] == [
            (customer.name, D("3000.00"), D("3000.00")),
            ("宁波甬兴机电有限公司", D("4000.00"), D("0.00")),
        ]

    def test_by_salesperson(self, sales_personas, orders):
        rows = selectors.aging(actor=sales_personas.finance, by="owner")["rows"]
        assert {r["name"]: r["total"] for r in rows} == {
            "王芳": D("1000.00"),
            "孙浩": D("2000.00"),
            "吴涛": D("4000.00"),
        }

    def test_by_group(self, sales_personas, orders):
        rows = selectors.aging(actor=sales_personas.finance, by="department")["rows"]
        assert {r["name"]: r["total"] for r in rows} == {
            "销售一组": D("3000.00"),
            "销售二组": D("4000.00"),
        }

    @pytest.mark.parametrize(
        "who,total",
        [
            ("sales1", "1000.00"),
            ("sales1b", "2000.00"),
            ("leader1", "3000.00"),
            ("leader2", "4000.00"),
            ("manager", "7000.00"),
            ("finance", "7000.00"),
            ("management", "7000.00"),
            ("service", "0"),
            ("outsider", "0"),
        ],
    )
    def test_scope(self, sales_personas, orders, who, total):
        report = selectors.aging(actor=getattr(sales_personas, who), by="owner")
        assert report["totals"]["total"] == D(total)

    def test_filters(self, sales_personas, orders):
        report = selectors.aging(
            actor=sales_personas.finance,
            filters={"department": sales_personas.units["S1"], "owner": None, "q": ""},
        )
        assert report["totals"]["total"] == D("3000.00")
        report = selectors.aging(actor=sales_personas.finance, filters={"q": "甬兴"})
        assert report["totals"]["total"] == D("4000.00")
        report = selectors.aging(
            actor=sales_personas.finance, filters={"owner": sales_personas.sales1b}
        )
        assert report["totals"]["total"] == D("2000.00")


class TestInstalments:
    def test_explicit_and_implicit_rows_in_one_list(self, sales_personas, order_for):
        planned = order_for(total="10000", order_date=days(-90), promised_date=days(-50))
        plan(sales_personas.sales1, planned, (days(-20), "3000"), (days(15), "5000"))
        bare = order_for(total="4000", order_date=days(-60), promised_date=days(-35))
        rows = list(
            selectors.instalments(actor=sales_personas.finance).order_by(
                "row_due", "row_instalment"
            )
        )
        assert [
            (r["row_order_number"], r["row_instalment"], r["row_outstanding"]) for r in rows
        ] == [
            (planned.number, 0, D("2000.00")),  # what the plan leaves out, due 50 days ago
            (bare.number, 0, D("4000.00")),
            (planned.number, 1, D("3000.00")),
            (planned.number, 2, D("5000.00")),
        ]
        page = selectors.instalment_rows(rows, today())
        assert [r["bucket"] for r in page] == ["d31_60", "d31_60", "d0_30", "not_due"]
        assert page[0]["days"] == 50

    def test_overdue_only_and_scope(self, sales_personas, order_for):
        order = order_for(total="10000")
        plan(sales_personas.sales1, order, (days(-1), "3000"), (days(0), "7000"))
        assert selectors.instalments(actor=sales_personas.finance, overdue_only=True).count() == 1
        assert selectors.instalments(actor=sales_personas.sales2).count() == 0
        assert selectors.instalments(actor=sales_personas.leader1).count() == 2

    def test_the_workbench_counts_my_overdue_instalments(self, sales_personas, order_for):
        order = order_for(total="10000", promised_date=days(-1), order_date=days(-20))
        assert selectors.overdue_count(actor=sales_personas.sales1) == 1  # implicit
        plan(sales_personas.sales1, order, (days(-3), "4000"), (days(-2), "4000"))
        assert selectors.overdue_count(actor=sales_personas.sales1) == 3
        assert selectors.overdue_count(actor=sales_personas.sales1b) == 0
        assert selectors.overdue_count(actor=sales_personas.leader1) == 0  # their own orders


class TestReceiptsBy:
    def test_confirmed_receipts_per_unit_and_person_within_scope(
        self, sales_personas, customer, order_for
    ):
        other = h.make_customer(sales_personas.sales2, "温州瓯江电气有限公司")
        one = order_for(total="10000")
        two = order_for(owner="sales2", customer_=other, total="10000")
        receive(sales_personas.sales1, one, "1000", on=days(-3))
        receive(sales_personas.sales1, one, "500", on=days(-40))  # before the period
        receive(sales_personas.sales2, two, "2000", on=days(-2))
        cancelled = receive(sales_personas.sales2, two, "700", on=days(-2))
        services.receipt_cancel(actor=sales_personas.finance, receipt=cancelled, reason="退票")
        set_receipt_approval(True)
        receive(sales_personas.sales2, two, "300", on=days(-1))  # pending: not counted
        start, end = days(-10), today()
        by_unit = selectors.receipts_by(actor=sales_personas.finance, start=start, end=end)
        assert [(r["name"], r["amount"], r["count"]) for r in by_unit] == [
            ("销售二组", D("2000.00"), 1),
            ("销售一组", D("1000.00"), 1),
        ]
        by_person = selectors.receipts_by(
            actor=sales_personas.leader1, start=start, end=end, by="owner"
        )
        assert [(r["id"], r["amount"]) for r in by_person] == [
            (sales_personas.sales1.pk, D("1000.00"))
        ]
        with pytest.raises(ValueError):
            selectors.receipts_by(actor=sales_personas.finance, start=start, end=end, by="x")
