"""Credit limits: open receivables plus a new order against the customer's limit (issue 5).

Open receivables are the unpaid part (total minus received) of the customer's booked orders.
The order service calls `credit_check` when an order is submitted or confirmed, holding a
lock on the customer's account row so two orders cannot both slip under the limit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, Sum
from django.utils.translation import gettext as _

from .models import BOOKED, CreditMode, CustomerAccount, SalesOrder, SalesSettings
from .models.common import ZERO

MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreditResult:
    limit: Decimal | None
    open_receivables: Decimal
    amount: Decimal
    mode: str

    @property
    def exceeded(self) -> bool:
        return self.limit is not None and self.open_receivables + self.amount > self.limit

    @property
    def available(self) -> Decimal | None:
        """What the customer may still buy on credit (None without a limit; negative: over)."""
        return None if self.limit is None else self.limit - self.open_receivables

    @property
    def over_limit(self) -> bool:
        """Already over the limit before this amount."""
        return self.limit is not None and self.open_receivables > self.limit

    @property
    def blocks(self) -> bool:
        return self.exceeded and self.mode == CreditMode.BLOCK

    @property
    def message(self) -> str:
        if not self.exceeded:
            return ""
        return _(
            "Open receivables ¥%(open)s plus this order ¥%(amount)s pass the customer's credit "
            "limit of ¥%(limit)s."
        ) % {
            "open": f"{self.open_receivables:,.2f}",
            "amount": f"{self.amount:,.2f}",
            "limit": f"{self.limit:,.2f}",
        }


def open_receivables(customer_id: int, *, exclude_order_id: int | None = None) -> Decimal:
    orders = SalesOrder.objects.filter(customer_id=customer_id, status__in=BOOKED)
    if exclude_order_id:
        orders = orders.exclude(pk=exclude_order_id)
    value = orders.aggregate(v=Sum(F("total") - F("received_amount"), output_field=MONEY_FIELD))[
        "v"
    ]
    return (value or ZERO).quantize(CENT)


def account_for(customer, *, lock: bool = False) -> CustomerAccount:
    """The customer's sales account (created on first use); locked for update when asked.
    One query when the account exists."""
    rows = CustomerAccount.objects.filter(customer_id=customer.pk)
    if lock:
        rows = rows.select_for_update()
    try:
        return rows.get()
    except CustomerAccount.DoesNotExist:
        CustomerAccount.objects.get_or_create(customer_id=customer.pk)
        return rows.get()


def credit_check(
    *,
    customer,
    amount: Decimal,
    exclude_order_id: int | None = None,
    lock=False,
    settings: SalesSettings | None = None,
    account: CustomerAccount | None = None,
):
    """Call inside the transaction that books the order; `lock=True` serialises orders of the
    same customer on its account row (taken before the receivables are read). `settings`: the
    settings row when the caller has it; `account`: the account row when the caller has read
    it (locked, when it needs the lock)."""
    account = account if account is not None else account_for(customer, lock=lock)
    if settings is None:
        settings = SalesSettings.objects.get_or_create(pk=1)[0]
    return CreditResult(
        limit=account.credit_limit,
        open_receivables=open_receivables(customer.pk, exclude_order_id=exclude_order_id),
        amount=amount,
        mode=settings.credit_mode,
    )
