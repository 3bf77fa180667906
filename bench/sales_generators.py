"""Fills a generated organisation and CRM (bench/crm_generators.py) with sales: products, orders
with their lines, delivery dates and receipts, over the last three years, set-based.

`build_sales(lines)` writes about `lines` order lines (1 to 5 per order, 2.5 on average), straight
into the tables in chunks of 20,000 orders (SQLite: `executemany`; PostgreSQL: `COPY`), with
primary keys assigned up front. `sales.services.orders.order_create` (a number, prices from the
price lists, a credit check, history, a rollup mark per order) would take hours for millions
of rows; this keeps what the services keep, as far as the dashboard and RFM read it:

- an order's owner and customer: a customer of a 销售 group member, the order owned by the
  customer's owner, `department` = the owner's unit (what order_create sets);
- `total` = the sum of its lines, a line's amount = quantity x unit price (list price less a
  0-10 % discount), `list_amount`, `max_discount`; promised date 7-45 days after the order;
- statuses by age: orders older than 60 days are mostly completed (70 %) or delivered, 3 %
  cancelled (with a reason), a few still shipping; recent ones spread over draft, in
  approval, confirmed, in production, ready, shipped, delivered; delivered and completed
  orders have `delivered_on`, `on_time` (delivered by the promised date) and delivered lines;
- receipts: completed orders are paid in full (one or two confirmed receipts), delivered ones
  half the time in part; `receipted_amount` = `received_amount` = their sum (<= total);
- order dates uniform over three years up to today with a seasonal weight per month (a quiet
  February, strong June and December); numbers `XS-B00000001`, `HK-B00000001` (their own
  prefix, so the real sequences never meet them).

Not written: history rows, coordination tasks, delivery documents, receipt plans, rollups
(call `rollups_rebuild()`), RFM (call `rfm_compute()`).
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from marketdesk.crm.models import Customer
from marketdesk.sales.models import (
    OrderLine,
    OrderStatus,
    Product,
    ProductCategory,
    Receipt,
    ReceiptStatus,
    SalesOrder,
)

from .crm_generators import _Writer, analyse
from .crm_generators import prepare as prepare_crm

CHUNK = 20_000  # orders per write
CENT = Decimal("0.01")
SEASON = [7, 5, 8, 8, 9, 10, 8, 8, 9, 9, 9, 10]
LINES_PER_ORDER = ([1, 2, 3, 4, 5], [30, 25, 20, 15, 10])
OLD = [
    (OrderStatus.COMPLETED, 70),
    (OrderStatus.DELIVERED, 20),
    (OrderStatus.SHIPPED, 4),
    (OrderStatus.CANCELLED, 3),
    (OrderStatus.PARTLY_SHIPPED, 3),
]
RECENT = [
    (OrderStatus.DRAFT, 5),
    (OrderStatus.IN_APPROVAL, 4),
    (OrderStatus.CONFIRMED, 20),
    (OrderStatus.IN_PRODUCTION, 15),
    (OrderStatus.READY, 8),
    (OrderStatus.SHIPPED, 15),
    (OrderStatus.DELIVERED, 20),
    (OrderStatus.COMPLETED, 10),
    (OrderStatus.CANCELLED, 3),
]
DELIVERED = {OrderStatus.DELIVERED, OrderStatus.COMPLETED}
CATALOGUE = [
    ("terminals", "智能终端", [("ZT", "智联终端", "台", 12000), ("GW", "边缘网关", "台", 3500)]),
    ("software", "软件服务", [("SAAS", "云平台年费", "套", 50000), ("APP", "应用授权", "套", 8000)]),
    ("parts", "配件耗材", [("CB", "通信模块", "件", 480), ("BT", "备用电池", "件", 220)]),
    ("service", "维保服务", [("MS", "现场维保", "次", 1500), ("TR", "培训课程", "人天", 3000)]),
]  # fmt: skip
METHODS = ["bank", "bank", "bank", "wechat", "alipay", "cheque"]


@dataclass
class GeneratedSales:
    orders: int
    lines: int
    receipts: int
    seconds: float = 0.0


def sales_generated() -> int:
    return OrderLine.objects.count()


def customers_for(lines: int) -> int:
    """Customers for `lines` order lines: one per 50 lines (200,000 for 10 million)."""
    return max(500, lines // 50)


def _products(system_id: int) -> list[tuple[int, Decimal]]:
    """(id, list price) of the bench catalogue: 4 categories, 8 products in 5 variants each."""
    rows = []
    for code, name, items in CATALOGUE:
        category, _ = ProductCategory.objects.get_or_create(
            code=f"bench-{code}", defaults={"name": name, "created_by_id": system_id}
        )
        for prefix, item, unit, price in items:
            for variant in range(1, 6):
                product, _ = Product.objects.get_or_create(
                    code=f"B-{prefix}-{variant}",
                    defaults={
                        "name": f"{item} {variant} 型",
                        "category": category,
                        "unit": unit,
                        "list_price": Decimal(price * (1 + variant / 10)).quantize(CENT),
                        "cost": Decimal(price * 0.6).quantize(CENT),
                        "created_by_id": system_id,
                    },
                )
                rows.append((product.pk, product.list_price))
    return rows


def _sellers() -> list[tuple[int, int, int]]:
    """(customer id, owner id, unit id) of the customers owned by members of 销售 groups."""
    rows = list(
        Customer.objects.filter(owner__isnull=False, department__name__startswith="销售")
        .order_by("pk")
        .values_list("pk", "owner_id", "department_id")
    )
    if not rows:
        rows = list(
            Customer.objects.filter(owner__isnull=False)
            .order_by("pk")
            .values_list("pk", "owner_id", "department_id")
        )
    if not rows:
        raise RuntimeError("no owned customers: generate the CRM first")
    return rows


class _Rows:
    """Rows of one model as tuples in its column order, fields not given take their default."""

    def __init__(self, model: type[models.Model], writer: _Writer) -> None:
        self.model = model
        self.writer = writer
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        self.rows: list[tuple] = []

    def add(self, **values) -> None:
        row = []
        for f in self.fields:
            value = values[f.attname] if f.attname in values else f.get_default()
            if value is None:
                row.append(None)
            elif isinstance(f, models.DateTimeField):
                row.append(self.writer.dt(value))
            elif isinstance(f, models.DateField):
                row.append(self.writer.date(value))
            elif isinstance(f, models.BooleanField):
                row.append(self.writer.flag(value))
            elif isinstance(f, models.DecimalField):
                row.append(value if self.writer.postgres else str(value))
            else:
                row.append(value)
        self.rows.append(tuple(row))

    def flush(self) -> int:
        count = len(self.rows)
        if self.rows:
            self.writer.write(self.model._meta.db_table, self.columns, self.rows)
        self.rows = []
        return count


def _next_id(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def _order_day(rng: random.Random, today: datetime.date) -> datetime.date:
    """A day in the three years up to today, weighted by the month's season."""
    while True:
        day = today - datetime.timedelta(days=int(rng.random() * 1095))
        if rng.random() * 10 < SEASON[day.month - 1]:
            return day


@transaction.atomic
def build_sales(lines: int, *, seed: int = 5, note=None) -> GeneratedSales:
    """Write orders with about `lines` lines in total, and their receipts."""
    started = time.perf_counter()
    rng = random.Random(seed)
    from django.contrib.auth import get_user_model

    system_id = get_user_model().objects.get(username="system").pk
    products = _products(system_id)
    sellers = _sellers()
    writer = _Writer()
    today = timezone.localdate()
    now = timezone.now().astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)
    order_id, line_id, receipt_id = _next_id(SalesOrder), _next_id(OrderLine), _next_id(Receipt)
    order_rows = _Rows(SalesOrder, writer)
    line_rows = _Rows(OrderLine, writer)
    receipt_rows = _Rows(Receipt, writer)
    made = GeneratedSales(0, 0, 0)
    while made.lines < lines:
        customer_id, owner_id, unit_id = sellers[rng.randrange(len(sellers))]
        day = _order_day(rng, today)
        age = (today - day).days
        statuses = OLD if age > 60 else RECENT
        status = rng.choices([s for s, _ in statuses], weights=[w for _, w in statuses])[0]
        promised = day + datetime.timedelta(days=rng.randrange(7, 46))
        count = min(rng.choices(*LINES_PER_ORDER)[0], lines - made.lines)
        total = list_amount = Decimal("0.00")
        max_discount = Decimal("0.00")
        delivered = status in DELIVERED
        for line_no in range(1, count + 1):
            product_id, list_price = products[rng.randrange(len(products))]
            quantity = Decimal(rng.choice((1, 1, 1, 2, 2, 3, 5, 10)))
            discount = Decimal(rng.choice((0, 0, 0, 2, 5, 8, 10)))
            unit_price = (list_price * (100 - discount) / 100).quantize(CENT)
            amount = (quantity * unit_price).quantize(CENT)
            total += amount
            list_amount += quantity * list_price
            max_discount = max(max_discount, discount)
            line_rows.add(
                id=line_id,
                order_id=order_id,
                line_no=line_no,
                product_id=product_id,
                quantity=quantity,
                list_price=list_price,
                unit_price=unit_price,
                discount=discount,
                amount=amount,
                delivered_quantity=quantity if delivered else Decimal("0.00"),
            )
            line_id += 1
        delivered_on = on_time = None
        if delivered:
            delivered_on = min(day + datetime.timedelta(days=rng.randrange(3, 51)), today)
            on_time = delivered_on <= promised
        received = Decimal("0.00")
        paid = status == OrderStatus.COMPLETED or (
            status == OrderStatus.DELIVERED and rng.random() < 0.5
        )
        if paid and total > 0:
            parts = [total] if rng.random() < 0.7 else [(total / 2).quantize(CENT)]
            if status == OrderStatus.COMPLETED and len(parts) == 1 and rng.random() < 0.3:
                parts = [(total * Decimal("0.3")).quantize(CENT)]
                parts.append(total - parts[0])
            for part in parts:
                if part <= 0:
                    continue
                received_on = min(
                    delivered_on + datetime.timedelta(days=rng.randrange(0, 61)), today
                )
                receipt_rows.add(
                    id=receipt_id,
                    created_at=now,
                    updated_at=now,
                    created_by_id=owner_id,
                    updated_by_id=owner_id,
                    number=f"HK-B{receipt_id:08d}",
                    order_id=order_id,
                    customer_id=customer_id,
                    owner_id=owner_id,
                    department_id=unit_id,
                    amount=part,
                    received_on=received_on,
                    method=rng.choice(METHODS),
                    status=ReceiptStatus.CONFIRMED,
                )
                receipt_id += 1
                received += part
                made.receipts += 1
        booked_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
        order_rows.add(
            id=order_id,
            created_at=now,
            updated_at=now,
            created_by_id=owner_id,
            updated_by_id=owner_id,
            number=f"XS-B{order_id:08d}",
            title="",
            customer_id=customer_id,
            owner_id=owner_id,
            department_id=unit_id,
            order_date=day,
            promised_date=promised,
            status=status,
            list_amount=list_amount.quantize(CENT),
            total=total,
            max_discount=max_discount,
            receipted_amount=received,
            received_amount=received,
            confirmed_at=None
            if status in (OrderStatus.DRAFT, OrderStatus.IN_APPROVAL)
            else booked_at.astimezone(datetime.UTC).replace(tzinfo=None),
            delivered_on=delivered_on,
            on_time=on_time,
            cancel_reason="客户需求变更" if status == OrderStatus.CANCELLED else "",
        )
        order_id += 1
        made.orders += 1
        made.lines += count
        if len(order_rows.rows) >= CHUNK:
            _flush(order_rows, line_rows, receipt_rows)
            if note and made.orders % (CHUNK * 10) == 0:
                note(f"  {made.lines} order lines in {time.perf_counter() - started:.0f} s")
    _flush(order_rows, line_rows, receipt_rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [SalesOrder, OrderLine, Receipt]
            ):
                cursor.execute(sql)
    made.seconds = time.perf_counter() - started
    return made


def _flush(*batches: _Rows) -> None:
    for batch in batches:  # orders first: lines and receipts point at them
        batch.flush()


def prepare(lines: int, note) -> int:
    """The generated organisation, customers and sales of a sales scenario (`lines` order
    lines), made now unless the bench database already holds them (`--reuse`); then the
    rollups are rebuilt and ANALYZE run. Returns the order lines present."""
    from marketdesk.sales.services.targets import rollups_rebuild

    prepare_crm(customers_for(lines), note)
    existing = sales_generated()
    if existing:
        note(f"reusing {existing} order lines")
        return existing
    started_cpu = time.process_time()
    made = build_sales(lines, note=note)
    note(
        f"generated {made.orders} orders, {made.lines} lines and {made.receipts} receipts in "
        f"{made.seconds:.1f} s (CPU {time.process_time() - started_cpu:.1f} s)"
    )
    started = time.perf_counter()
    analyse()
    note(f"ANALYZE in {time.perf_counter() - started:.1f} s")
    result = rollups_rebuild()
    note(f"rollups rebuilt: {result['cells']} cells in {result['seconds']:.1f} s")
    return made.lines
