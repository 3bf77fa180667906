"""The demo company's receipts (sales step 53, R4.2.2): receipt plans for the confirmed demo
orders of step 52 by their payment terms, receipts with bank references (most of them on
time, some late or partial), unpaid instalments in every aging bucket, credit limits on a few
customers (one of them over its limit), and receipt approval switched on with receipts
waiting for, approved and rejected by finance (马丽华). Everything goes through the services."""

from __future__ import annotations

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone

from marketdesk.core.demo import DemoStep, register_demo_step

from .. import selectors_receipts as selectors
from ..models import (
    BOOKED,
    OrderStatus,
    PaymentTerms,
    PayMethod,
    Receipt,
    ReceiptPlan,
    SalesOrder,
    SalesSettings,
)
from ..services import receipts as services

TEN_THOUSAND = Decimal("10000")
CENT = Decimal("0.01")
BANKS = ["CMB", "ICBC", "CCB", "BOC", "SPDB", "BOCOM"]
PLAN_NOTES = {
    1: "合同签订后预付款",
    2: "到货验收款",
    3: "质保期满尾款",
}
METHOD_WEIGHTS = [
    PayMethod.BANK,
    PayMethod.BANK,
    PayMethod.BANK,
    PayMethod.BANK,
    PayMethod.CHEQUE,
    PayMethod.ALIPAY,
    PayMethod.WECHAT,
]


def _days(day: datetime.date, n: int) -> datetime.date:
    return day + datetime.timedelta(days=n)


def _split(total: Decimal, shares: list[int]) -> list[Decimal]:
    """Amounts in the given percentages; the last takes the rounding."""
    parts = [
        (total * Decimal(share) / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
        for share in shares[:-1]
    ]
    return [*parts, total - sum(parts, Decimal("0"))]


def _plan_rows(order: SalesOrder, index: int) -> list[dict]:
    """Instalments by the order's payment terms (every fifth order has none: it is due in
    full on the promised delivery date)."""
    if index % 5 == 4:
        return []
    start, promised = order.order_date, order.promised_date
    terms = order.payment_terms
    if terms == PaymentTerms.PREPAID:
        dates, shares = [_days(start, 5)], [100]
    elif terms == PaymentTerms.INSTALMENTS:
        dates = [_days(start, 7), promised, _days(promised, 90)]
        shares = [30, 60, 10]
    elif terms == PaymentTerms.NET60:
        dates, shares = [_days(start, 10), _days(promised, 60)], [30, 70]
    elif terms == PaymentTerms.ON_DELIVERY:
        dates, shares = [promised], [100]
    else:  # 30 days after delivery, with a deposit
        dates, shares = [_days(start, 7), _days(promised, 30)], [30, 70]
    amounts = _split(order.total, shares)
    return [
        {
            "instalment": number,
            "due_date": due,
            "amount": amount,
            "method": PayMethod.CHEQUE if index % 9 == 3 else PayMethod.BANK,
            "notes": PLAN_NOTES.get(number, "") if len(dates) > 1 else "全款",
        }
        for number, (due, amount) in enumerate(zip(dates, amounts, strict=True), start=1)
        if amount > 0
    ]


def _reference(method: str, day: datetime.date, rng: random.Random) -> str:
    if method == PayMethod.CHEQUE:
        return f"支票 {rng.randint(10000000, 99999999)}"
    if method == PayMethod.ALIPAY:
        return f"{day:%Y%m%d}2200{rng.randint(10**11, 10**12 - 1)}"
    if method == PayMethod.WECHAT:
        return f"4200{rng.randint(10**5, 10**6 - 1)}{day:%Y%m%d}{rng.randint(10**7, 10**8 - 1)}"
    return f"{rng.choice(BANKS)}{day:%Y%m%d}{rng.randint(100000, 999999)}"


def _due_items(order: SalesOrder) -> list[tuple]:
    """(due date, plan or None, amount) of the order: its instalments, or the whole order on
    the promised date when it has no plan."""
    plans = list(order.receipt_plans.order_by("instalment"))
    if not plans:
        return [(order.promised_date, None, order.total)]
    return [(plan.due_date, plan, plan.amount) for plan in plans]


def build_receipts() -> str:
    users = {u.username: u for u in get_user_model().objects.all()}
    if "wangfang" not in users or Receipt.objects.exists() or ReceiptPlan.objects.exists():
        return "skipped"
    orders = list(
        SalesOrder.objects.filter(status__in=BOOKED)
        .select_related("customer", "owner")
        .order_by("order_date", "pk")
    )
    if not orders:
        return "skipped (no confirmed orders)"
    finance = users.get("malihua") or users["system"]
    rng = random.Random(53)
    today = timezone.localdate()
    SalesSettings.objects.update_or_create(pk=1, defaults={"receipt_approval": False})

    # Plans, set by each order's salesperson.
    for index, order in enumerate(orders):
        rows = _plan_rows(order, index)
        if rows:
            services.receipt_plans_set(actor=order.owner, order=order, plans=rows)

    # What fell due; keep a few unpaid in every aging bucket (never on completed orders).
    due = [
        (day, plan, amount, order)
        for order in orders
        for day, plan, amount in _due_items(order)
        if day <= today
    ]
    unpaid: set[tuple] = set()
    for bucket in selectors.OVERDUE_KEYS:
        candidates = [
            item
            for item in due
            if selectors.bucket_of(item[0], today) == bucket
            and item[3].status != OrderStatus.COMPLETED
        ]
        rng.shuffle(candidates)
        for _day, plan, _amount, order in candidates[:2]:
            unpaid.add((order.pk, plan.pk if plan else None))

    # Receipts: most on time, some late, every seventh only half.
    payments = []
    for number, (day, plan, amount, order) in enumerate(due):
        if (order.pk, plan.pk if plan else None) in unpaid:
            continue
        late = rng.choice([0, 0, 0, 2, 5, 12, 25])
        paid = amount
        if number % 7 == 6 and order.status != OrderStatus.COMPLETED:
            paid = (amount / 2).quantize(CENT)
        payments.append((min(_days(day, late), today), order, plan, paid))
    payments.sort(key=lambda p: (p[0], p[1].pk))
    for day, order, plan, paid in payments:
        method = plan.method if plan else rng.choice(METHOD_WEIGHTS)
        services.receipt_register(
            actor=finance if rng.random() < 0.35 else order.owner,
            order=order,
            plan=plan,
            amount=paid,
            received_on=day,
            method=method,
            reference=_reference(method, day, rng),
            notes="",
        )

    # A cheque that bounced: registered, then cancelled by finance.
    open_orders = [
        o for o in SalesOrder.objects.filter(pk__in=[o.pk for o in orders]) if o.outstanding > 0
    ]
    bounced = next(
        (
            o
            for o in open_orders
            if o.status != OrderStatus.COMPLETED and not o.receipt_plans.exists()
        ),
        None,
    )
    if bounced is not None:
        cheque = services.receipt_register(
            actor=bounced.owner,
            order=bounced,
            amount=min(bounced.total - bounced.receipted_amount, Decimal("20000")),
            received_on=_days(today, -9),
            method=PayMethod.CHEQUE,
            reference=f"支票 {rng.randint(10000000, 99999999)}",
            notes="客户交来转账支票",
        )
        services.receipt_cancel(
            actor=finance, receipt=cheque, reason="支票因出票人账户余额不足被退票，已通知客户重开。"
        )

    # From now on receipts wait for finance: one approved, one rejected, two waiting.
    SalesSettings.objects.update_or_create(pk=1, defaults={"receipt_approval": True})
    waiting = []
    for order in SalesOrder.objects.filter(pk__in=[o.pk for o in orders]).order_by("-order_date"):
        if len(waiting) == 4:
            break
        if order.status == OrderStatus.COMPLETED or (order.pk, None) in unpaid:
            continue
        plans = [p for p in selectors.order_plans(order) if p.room > 0 and p.due_date > today]
        if plans:
            plan, amount = plans[0], (plans[0].room / 2).quantize(CENT)
        elif not order.receipt_plans.exists() and order.total > order.receipted_amount:
            plan, amount = None, ((order.total - order.receipted_amount) / 2).quantize(CENT)
        else:
            continue
        day = _days(today, -len(waiting))
        waiting.append(
            services.receipt_register(
                actor=order.owner,
                order=order,
                plan=plan,
                amount=amount,
                received_on=day,
                method=PayMethod.BANK,
                reference=_reference(PayMethod.BANK, day, rng),
                notes="客户微信发来转账回单",
            )
        )
    if waiting:
        services.receipt_approve(actor=finance, receipt=waiting[0])
    if len(waiting) > 1:
        services.receipt_reject(
            actor=finance,
            receipt=waiting[1],
            reason="银行流水中未找到该笔款项，请与客户核对付款账户。",
        )

    # Credit limits on the customers with the most open receivables; the first is over.
    open_by_customer = (
        SalesOrder.objects.filter(status__in=BOOKED)
        .values("customer")
        .annotate(open=Sum("total") - Sum("received_amount"))
        .order_by("-open")
    )
    limited = 0
    for position, row in enumerate(open_by_customer[:5]):
        customer = next(o.customer for o in orders if o.customer_id == row["customer"])
        open_amount = row["open"] or Decimal("0")
        if position == 0:
            limit = max((open_amount * Decimal("0.8") // TEN_THOUSAND) * TEN_THOUSAND, TEN_THOUSAND)
        else:
            limit = ((open_amount * Decimal("1.5") // TEN_THOUSAND) + 5) * TEN_THOUSAND
        services.customer_account_update(actor=finance, customer=customer, credit_limit=limit)
        limited += 1

    report = selectors.aging(actor=users["system"])
    buckets = ", ".join(f"{key} ¥{report['totals'][key]:,.0f}" for key in selectors.BUCKET_KEYS)
    return (
        f"{ReceiptPlan.objects.count()} instalments, {Receipt.objects.count()} receipts, "
        f"{limited} credit limits; outstanding {buckets}"
    )


register_demo_step(DemoStep(53, "sales.receipts", build_receipts))
