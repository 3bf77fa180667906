"""Orders (合同/订单, R4.2.2): drafts priced from the price lists, submission under discount
authority and the approval threshold, confirmation with coordination tasks to 生产部 and 物流部,
production and readiness, completion, cancellation, owner changes and the delivery alerts.
Deliveries are in `deliveries.py`.

Lock order, everywhere: the order row, then its lines, then its tasks, then its deliveries.
Every change of state is saved with the actor as the history user, so the order's timeline
shows who did it; rollup cells are marked before and after a change that moves the figures."""

from __future__ import annotations

import copy
import datetime
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import connection, models, transaction
from django.db.models import CheckConstraint, F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import ApprovalRequest
from marketdesk.core.notifications import Message, notify, notify_many
from marketdesk.core.numbering import next_number
from marketdesk.core.scope import scoped
from marketdesk.crm import services as crm_services
from marketdesk.org.models import Department, Employee, EmployeeStatus
from marketdesk.org.selectors import department_head, employee_for_user

from .. import selectors_orders as selectors
from ..credit import account_for, credit_check
from ..models import (
    BOOKED,
    ZERO,
    ChannelTier,
    CoordinationTask,
    CustomerAccount,
    OrderLine,
    OrderStatus,
    PaymentTerms,
    PriceList,
    Product,
    SalesOrder,
    SalesSettings,
    TaskKind,
    TaskStatus,
)
from ..permissions import SalesPerm
from ..pricing import max_discount_for, prices_for, settings_row
from ..rollups import mark_order

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
# The units that produce and ship (by department code; an administrator may rename the units,
# the codes stay). Production is due this many days before the promised date.
PRODUCTION_UNIT = "PRD"
LOGISTICS_UNIT = "LOG"
PRODUCTION_LEAD_DAYS = 3
# What _create_tasks reads of a unit and its head (the task's unit, owner and notification).
UNIT_FIELDS = (
    "name",
    "code",
    "active",
    "head__status",
    "head__user__username",
    "head__user__name",
    "head__user__first_name",
    "head__user__last_name",
    "head__user__email",
    "head__user__is_active",
)

MSG_NO_PERMISSION = _("You do not have permission to do this.")
MSG_NOT_OWNER = _("Only the salesperson who owns the order may do this.")
MSG_NOT_IN_SCOPE = _("This order is not in your area.")
MSG_WRONG_STATE = _("The order is %(status)s; this cannot be done now.")
MSG_CUSTOMER = _("Choose one of the customers you may see.")
MSG_CONTACT = _("The contact must be one of the customer's contacts.")
MSG_OPPORTUNITY = _("The opportunity must be one you may see, of the same customer.")
MSG_PROMISED_BEFORE_ORDER = _("The promised delivery date cannot be before the order date.")
MSG_NO_LINES = _("Add at least one line.")
MSG_LINE_PRODUCT = _("Line %(line)s: choose a product.")
MSG_LINE_NOT_ON_SALE = _("Line %(line)s: %(product)s is not on sale.")
MSG_LINE_QUANTITY = _("Line %(line)s: the quantity must be positive.")
MSG_LINE_QUANTITY_PLACES = _("Line %(line)s: the quantity may have at most 2 decimal places.")
MSG_LINE_DISCOUNT = _("Line %(line)s: the discount must be between 0 and 100 %%.")
MSG_LINE_TOO_LARGE = _("Line %(line)s: the amount is too large.")
MSG_LINE_INVALID = _("Line %(line)s: %(error)s")
MSG_NEEDS_APPROVAL = _(
    "This order needs approval (%(reasons)s); the salesperson submits it for approval."
)
MSG_REASON_DISCOUNT = _("a discount of %(discount)s %% is above the authority of %(authority)s %%")
MSG_REASON_AMOUNT = _("the total ¥%(total)s is above ¥%(limit)s")
MSG_WITHDRAW_FIRST = _("The order is in approval: withdraw it first.")
MSG_CANCEL_REASON = _("Give the reason for cancelling.")
MSG_CANCEL_SHIPPED = _("Goods of this order have been shipped; it can no longer be cancelled.")
MSG_CANCEL_RECEIPTS = _("Receipts are registered on this order; cancel them first.")
MSG_TASK_STATE = _("The task is %(status)s; this cannot be done now.")
MSG_TASK_OWNER = _("Choose an active colleague.")
MSG_DUE_DATE = _("Give the due date.")


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(MSG_NO_PERMISSION)


def _wrong_state(order: SalesOrder) -> ValidationError:
    return ValidationError(MSG_WRONG_STATE % {"status": order.get_status_display()})


def _lock(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)


def _has_lines(order: SalesOrder) -> bool:
    return OrderLine.objects.filter(order_id=order.pk).exists()


def _in_scope(actor, order: SalesOrder, perm: str = SalesPerm.VIEW_ORDER) -> bool:
    """Is the order inside the actor's own data scope (not merely visible through a task)?"""
    return scoped(
        SalesOrder.objects.filter(pk=order.pk),
        actor=actor,
        perm=perm,
        owner_field="owner",
        department_field="department",
    ).exists()


def _rollup_key(order: SalesOrder) -> tuple:
    return (
        order.status in BOOKED,
        order.total,
        order.order_date,
        order.owner_id,
        order.department_id,
        order.delivered_on,
        order.on_time,
    )


# Validation without a query per rule ---------------------------------------------------------------

_LOOKUPS = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _field_value(instance, name: str):
    return getattr(instance, instance._meta.get_field(name).attname)


def _condition(instance, node):
    """A check constraint's condition on the instance in SQL's three-valued logic (None:
    unknown); NotImplemented when it uses something this does not evaluate."""
    if isinstance(node, Q):
        results = []
        for child in node.children:
            result = _condition(instance, child)
            if result is NotImplemented:
                return NotImplemented
            results.append(result)
        if node.connector == Q.AND:
            value = False if False in results else (None if None in results else True)
        elif node.connector == Q.OR:
            value = True if True in results else (None if None in results else False)
        else:
            return NotImplemented
        return value if not node.negated or value is None else not value
    if not isinstance(node, tuple):
        return NotImplemented  # an expression (a function, a lookup object): ask the database
    lookup, expected = node
    name, _sep, kind = lookup.partition("__")
    kind = kind or "exact"
    try:
        actual = _field_value(instance, name)
        if isinstance(expected, F):
            expected = _field_value(instance, expected.name)
        elif not isinstance(expected, (str, int, Decimal, datetime.date, bool, type(None))):
            return NotImplemented
    except (FieldDoesNotExist, AttributeError):
        return NotImplemented
    if kind == "isnull":
        return (actual is None) == bool(expected)
    compare = _LOOKUPS.get(kind)
    if compare is None:
        return NotImplemented
    if actual is None or expected is None:
        return None
    try:
        return compare(actual, expected)
    except TypeError:  # a value full_clean could not convert: leave it to the database's rule
        return NotImplemented


def _validate(instance, *, exclude: Iterable[str] = (), constraints: bool = True) -> None:
    """`full_clean()` without its queries. Every field is cleaned as full_clean cleans it (the
    same messages), but foreign keys are not looked up (the services pass rows they read; the
    database's foreign keys are the guard), unique fields are not queried (document numbers come
    from the sequences; the unique indexes are the guard), and the check constraints are
    evaluated in Python, with full_clean's messages, instead of a SELECT each."""
    exclude = set(exclude)
    meta = instance._meta
    relations = [field for field in meta.concrete_fields if field.many_to_one]
    errors: dict = {}
    try:
        instance.full_clean(
            exclude=exclude | {field.name for field in relations},
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    for field in relations:
        if field.name in exclude:
            continue
        value = getattr(instance, field.attname)
        if field.blank and value in field.empty_values:
            continue
        try:
            models.Field.validate(field, value, instance)  # null and blank, not the lookup
        except ValidationError as exc:
            errors[field.name] = exc.error_list
    skipped = exclude | set(errors)
    for constraint in meta.constraints if constraints else ():
        if not isinstance(constraint, CheckConstraint):
            continue  # unique constraints: the database's index is the guard
        result = _condition(instance, constraint.condition)
        if result is NotImplemented:
            try:
                constraint.validate(type(instance), instance, exclude=skipped)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        elif any(name in skipped for name in _referenced_fields(constraint)):
            continue  # as full_clean: a rule on a field that has an error is not checked
        elif result is False:
            errors.setdefault(NON_FIELD_ERRORS, []).append(
                ValidationError(
                    constraint.get_violation_error_message(),
                    code=constraint.violation_error_code,
                )
            )
    if errors:
        raise ValidationError(errors)


def _referenced_fields(constraint: CheckConstraint) -> set[str]:
    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, Q):
            for child in node.children:
                walk(child)
            return
        if not isinstance(node, tuple):
            return
        lookup, expected = node
        names.add(lookup.split("__", 1)[0])
        if isinstance(expected, F):
            names.add(expected.name.split("__", 1)[0])

    walk(constraint.condition)
    return names


def _save(order: SalesOrder, actor, before: SalesOrder | None) -> SalesOrder:
    """Save with the actor on the history row; mark the rollup cells of the order as it was
    and as it is when the change moves a booked order's figures."""
    if actor is not None:
        order.updated_by = actor
    order._history_user = actor
    _validate(order)
    order.save()
    moved = before is not None and _rollup_key(before) != _rollup_key(order)
    if moved and (before.booked or order.booked):
        mark_order(before, order)
    return order


# Pricing -----------------------------------------------------------------------------------------


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity × unit price × (1 − discount/100), rounded half up to the cent."""
    return (quantity * unit_price * (HUNDRED - discount) / HUNDRED).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _places_ok(value: Decimal) -> bool:
    return value == value.quantize(CENT, rounding=ROUND_HALF_UP)


def channel_tier_of(customer) -> str:
    """The customer's channel tier (kept on its sales account by finance), direct by default."""
    tier = (
        CustomerAccount.objects.filter(customer_id=customer.pk)
        .values_list("channel_tier", flat=True)
        .first()
    )
    return tier or ChannelTier.DIRECT


def _clean_lines(
    *, actor, customer, channel_tier: str, order_date, lines: list[dict]
) -> list[dict]:
    """Check every line and price it; errors name the line (lines[N].field: "Line N: ...")."""
    if not lines:
        raise ValidationError({"lines": [MSG_NO_LINES]})
    wanted = {data.get("product").pk for data in lines if data.get("product") is not None}
    orderable = set(
        selectors.orderable_products(actor=actor)
        .filter(pk__in=wanted)
        .order_by()
        .values_list("pk", flat=True)
    )
    errors: dict[str, list] = {}
    checked = []
    for number, data in enumerate(lines, start=1):
        prefix = f"lines[{number}]."
        product = data.get("product")
        quantity = _decimal(data.get("quantity"))
        discount = _decimal(data.get("discount"))
        discount = ZERO if discount is None else discount
        description = (data.get("description") or "").strip()[:200]
        line_errors: dict[str, str] = {}
        if product is None:
            line_errors["product"] = MSG_LINE_PRODUCT % {"line": number}
        elif product.pk not in orderable:
            line_errors["product"] = MSG_LINE_NOT_ON_SALE % {"line": number, "product": product}
        if quantity is None or quantity <= 0:
            line_errors["quantity"] = MSG_LINE_QUANTITY % {"line": number}
        elif not _places_ok(quantity):
            line_errors["quantity"] = MSG_LINE_QUANTITY_PLACES % {"line": number}
        if discount < 0 or discount > HUNDRED or not _places_ok(discount):
            line_errors["discount"] = MSG_LINE_DISCOUNT % {"line": number}
        if line_errors:
            for field, message in line_errors.items():
                errors.setdefault(prefix + field, []).append(message)
            continue
        checked.append((number, product, quantity, discount, description))
    prices = prices_for(  # the applicable price lists read once for every line
        [(product, quantity) for _n, product, quantity, _d, _t in checked],
        customer_level=customer.level,
        channel_tier=channel_tier,
        on=order_date,
    )
    rows = []
    for (number, product, quantity, discount, description), price in zip(
        checked, prices, strict=True
    ):
        prefix = f"lines[{number}]."
        amount = line_amount(quantity, price.unit_price, discount)
        if amount >= Decimal("1e12") or quantity >= Decimal("1e10"):
            errors.setdefault(prefix + "quantity", []).append(MSG_LINE_TOO_LARGE % {"line": number})
            continue
        rows.append(
            {
                "line_no": number,
                "product": product,
                "description": description,
                "quantity": quantity,
                "list_price": price.list_price,
                "price_list": price.price_list,
                "unit_price": price.unit_price,
                "discount": discount,
                "amount": amount,
            }
        )
    if errors:
        raise ValidationError(errors)
    return rows


LINE_INPUT = ("product", "quantity", "discount", "description")  # what a caller gives of a line


def _totals(order: SalesOrder, rows: list[dict]) -> None:
    order.list_amount = sum(
        ((row["quantity"] * row["list_price"]).quantize(CENT, ROUND_HALF_UP) for row in rows),
        ZERO,
    )
    order.total = sum((row["amount"] for row in rows), ZERO)
    order.max_discount = max((row["discount"] for row in rows), default=ZERO).quantize(CENT)
    if order.total >= Decimal("1e12") or order.list_amount >= Decimal("1e12"):
        raise ValidationError({"lines": [MSG_LINE_TOO_LARGE % {"line": len(rows)}]})


def _write_lines(order: SalesOrder, rows: list[dict], *, new: bool = False) -> None:
    """Replace a draft's lines (a draft has no deliveries, so no line is referenced); a `new`
    order has none yet."""
    if not new:
        order.lines.all().delete()
    made = []
    for row in rows:
        line = OrderLine(order=order, **row)
        try:
            _validate(line, exclude=["order"], constraints=False)
        except ValidationError as exc:
            raise ValidationError(
                {
                    f"lines[{row['line_no']}].{field}": [
                        MSG_LINE_INVALID % {"line": row["line_no"], "error": message}
                        for message in messages
                    ]
                    for field, messages in exc.message_dict.items()
                }
            ) from exc
        made.append(line)
    OrderLine.objects.bulk_create(made)


def _prices_changed(order: SalesOrder) -> bool:
    """Did a price list or a product of the order change since the draft was last saved? (One
    statement; a draft saved after the change was priced with it.)"""
    since = order.updated_at
    lists = PriceList.objects.filter(updated_at__gt=since).order_by().values("pk")
    products = (
        Product.objects.filter(
            updated_at__gt=since,
            pk__in=OrderLine.objects.filter(order_id=order.pk).values("product_id"),
        )
        .order_by()
        .values("pk")
    )
    return bool(list(lists.union(products)[:1]))


def _reprice(order: SalesOrder) -> None:
    """Price a draft's lines again at submission when the price lists or its products changed
    since it was saved: an order is confirmed at today's prices, and its discount authority
    and approval amount are checked on them. A product no longer on sale is named."""
    if not _prices_changed(order):
        return
    rows = _clean_lines(
        actor=order.owner,  # the products the salesperson may sell, as when they saved it
        customer=order.customer,
        channel_tier=order.channel_tier,
        order_date=order.order_date,
        lines=_rows_of(order),
    )
    _totals(order, rows)
    _write_lines(order, rows)


def _rows_of(order: SalesOrder) -> list[dict]:
    return [
        {
            "product": line.product,
            "quantity": line.quantity,
            "discount": line.discount,
            "description": line.description,
        }
        for line in order.lines.select_related("product").order_by("line_no")
    ]


# Checks ------------------------------------------------------------------------------------------


def _visible_customer(actor, customer):
    """The customer, read again through the actor's customer scope (its row alone: the list's
    joins to the owner and unit are not needed here)."""
    from marketdesk.crm.selectors import customer_list

    found = customer_list(actor).select_related(None).filter(pk=getattr(customer, "pk", None))
    found = next(iter(found.order_by()[:1]), None)
    if found is None:
        raise ValidationError({"customer": [MSG_CUSTOMER]})
    return found


def _check_contact(customer, contact) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": [MSG_CONTACT]})


def _check_opportunity(actor, customer, opportunity) -> None:
    if opportunity is None:
        return
    found = selectors.visible_opportunity(actor=actor, pk=opportunity.pk)
    if found is None or found.customer_id != customer.pk:
        raise ValidationError({"opportunity": [MSG_OPPORTUNITY]})


def _check_dates(order_date, promised_date) -> None:
    if promised_date is None:
        raise ValidationError({"promised_date": [gettext("This field is required.")]})
    if order_date is not None and promised_date < order_date:
        raise ValidationError({"promised_date": [MSG_PROMISED_BEFORE_ORDER]})


def approval_reasons(order: SalesOrder, *, settings: SalesSettings | None = None) -> list[str]:
    """Why the order needs approval: a discount above the owner's authority, a total above the
    approval amount. Empty: the salesperson's own authority covers it. `settings`: the settings
    row when the caller has it."""
    settings = settings or settings_row()
    reasons = []
    authority = max_discount_for(order.owner, settings=settings)
    if order.max_discount > authority:
        reasons.append(
            MSG_REASON_DISCOUNT % {"discount": order.max_discount, "authority": authority}
        )
    limit = settings.approval_amount
    if order.total > limit:
        reasons.append(
            MSG_REASON_AMOUNT % {"total": f"{order.total:,.2f}", "limit": f"{limit:,.2f}"}
        )
    return [str(reason) for reason in reasons]


def _credit(
    order: SalesOrder, *, blocking: bool = True, settings: SalesSettings | None = None
) -> None:
    """Check the customer's credit limit (its account row locked): a blocking result refuses,
    a warning is kept on the order and shown."""
    result = credit_check(
        customer=order.customer,
        amount=order.total,
        exclude_order_id=order.pk,
        lock=True,
        settings=settings,
    )
    if result.blocks and blocking:
        raise ValidationError({"credit": [result.message]})
    order.credit_warning = result.message[:300] if result.exceeded else ""


# Drafts ------------------------------------------------------------------------------------------


def _draft(
    *,
    actor,
    customer,
    lines: list[dict],
    promised_date: datetime.date,
    order_date: datetime.date | None = None,
    contact=None,
    opportunity=None,
    payment_terms: str = PaymentTerms.NET30,
    title: str = "",
    notes: str = "",
) -> tuple[SalesOrder, list[dict]]:
    """A new order of the actor for `customer` (read through the actor's scope by the caller),
    checked and priced but neither numbered nor saved, and its line rows."""
    _check_contact(customer, contact)
    _check_opportunity(actor, customer, opportunity)
    order_date = order_date or timezone.localdate()
    _check_dates(order_date, promised_date)
    department_id = (
        Employee.objects.filter(user_id=actor.pk)
        .order_by()
        .values_list("department_id", flat=True)
        .first()
    )
    order = SalesOrder(
        title=(title or "").strip()[:120],
        customer=customer,
        contact=contact,
        opportunity=opportunity,
        owner=actor,
        department_id=department_id,
        order_date=order_date,
        promised_date=promised_date,
        payment_terms=payment_terms,
        channel_tier=channel_tier_of(customer),
        notes=notes or "",
        created_by=actor,
        updated_by=actor,
    )
    rows = _clean_lines(
        actor=actor,
        customer=customer,
        channel_tier=order.channel_tier,
        order_date=order_date,
        lines=lines,
    )
    _totals(order, rows)
    return order, rows


@transaction.atomic
def order_create(*, actor, **fields) -> SalesOrder:
    """A draft order of the actor (the salesperson) for a customer they may see. Fields: customer,
    lines, promised_date, order_date, contact, opportunity, payment_terms, title, notes. Lines
    are {product, quantity, discount (%), description}; prices come from the price lists."""
    _require(actor, SalesPerm.ADD_ORDER)
    customer = _visible_customer(actor, fields.pop("customer", None))
    order, rows = _draft(actor=actor, customer=customer, **fields)
    order.number = next_number("XS")
    _save(order, actor, None)
    _write_lines(order, rows, new=True)
    return order


@dataclass(frozen=True)
class Submission:
    """What `order_create_submit` did: the order (confirmed, in approval, or a saved draft),
    its approval request when it went to approval, and why submitting was refused when the
    draft was kept (`refused`)."""

    order: SalesOrder
    approval: ApprovalRequest | None = None
    refused: ValidationError | None = None


def order_create_submit(
    *, actor, comment: str = "", keep_draft: bool = True, **fields
) -> Submission:
    """ "Save and submit" of a new order: what `order_create` then `order_submit` do, with the
    same rules and results, in one transaction that writes the order once. Within the owner's
    authority and under the approval amount it is saved confirmed (its history starts at
    "confirmed"), with its tasks; otherwise it is saved and sent for approval. When the
    submission is refused (a blocking credit limit, no approval flow) the draft is kept and the
    reason returned (`keep_draft`; with keep_draft=False the refusal is raised and nothing is
    saved). An invalid draft raises, as `order_create` does.

    The checks that only read (scope, contact, dates, products, prices, discount authority) run
    before the write transaction, so that SQLite's single write lock is held only for the
    credit check (the customer's account locked), the number and the writes; a channel tier
    changed in between prices the lines again inside it."""
    _require(actor, SalesPerm.ADD_ORDER)
    customer = _visible_customer(actor, fields.pop("customer", None))
    order, rows = _draft(actor=actor, customer=customer, **fields)
    settings = settings_row()
    reasons = approval_reasons(order, settings=settings)
    return _create_submit(actor, order, rows, settings, reasons, comment, keep_draft)


@transaction.atomic
def _create_submit(
    actor, order, rows, settings, reasons, comment: str, keep_draft: bool
) -> Submission:
    """The write transaction of `order_create_submit`, for the checked and priced `order`."""
    account = account_for(order.customer, lock=True)  # the credit check's lock, taken first
    tier = account.channel_tier or ChannelTier.DIRECT
    if tier != order.channel_tier:  # changed since the lines were priced
        order.channel_tier = tier
        rows = _clean_lines(
            actor=actor,
            customer=order.customer,
            channel_tier=tier,
            order_date=order.order_date,
            lines=[{key: row[key] for key in LINE_INPUT} for row in rows],
        )
        _totals(order, rows)
        reasons = approval_reasons(order, settings=settings)
    order.number = next_number("XS")
    credit = credit_check(
        customer=order.customer, amount=order.total, account=account, settings=settings
    )
    if credit.blocks:
        refused = ValidationError({"credit": [credit.message]})
        if not keep_draft:
            raise refused
        _save(order, actor, None)  # the draft, as order_create saves it
        _write_lines(order, rows, new=True)
        return Submission(order, refused=refused)
    warning = credit.message[:300] if credit.exceeded else ""
    if not reasons:  # confirmed at once: written once, as confirmed
        order.credit_warning = warning
        order.status = OrderStatus.CONFIRMED
        order.confirmed_at = timezone.now()
        _save(order, actor, None)
        mark_order(order)
        _write_lines(order, rows, new=True)
        _booked(order, actor, new=True)
        return Submission(order)
    _save(order, actor, None)  # the draft, then submitted as order_submit submits it
    _write_lines(order, rows, new=True)
    before = copy.copy(order)
    try:
        with transaction.atomic():  # a refusal of the approval engine keeps the draft
            order.credit_warning = warning
            order.approval_reasons = "; ".join(reasons)[:300]
            order.status = OrderStatus.IN_APPROVAL
            _save(order, actor, before)
            approval = approvals.request_submit(actor=actor, document=order, comment=comment)
    except ValidationError as exc:
        if not keep_draft:
            raise
        return Submission(before, refused=exc)
    return Submission(order, approval=approval)


def _own_draft(actor, order: SalesOrder) -> SalesOrder:
    order = _lock(order)
    if order.owner_id != actor.pk:
        raise PermissionDenied(MSG_NOT_OWNER)
    order.owner = actor  # the same row: no query to load it again
    if order.status != OrderStatus.DRAFT:
        raise _wrong_state(order)
    approvals.assert_editable(order)
    return order


ORDER_FIELDS = (
    "title",
    "contact",
    "opportunity",
    "order_date",
    "promised_date",
    "payment_terms",
    "notes",
)


@transaction.atomic
def order_update(*, actor, order: SalesOrder, lines: list[dict] | None = None, **fields):
    """Change a draft (only its owner). The lines are priced again (the customer, date or
    quantities may have changed); lines=None keeps the products and quantities."""
    _require(actor, SalesPerm.ADD_ORDER)
    order = _own_draft(actor, order)
    if "customer" in fields:
        order.customer = _visible_customer(actor, fields.pop("customer"))
        order.channel_tier = channel_tier_of(order.customer)
        if order.contact_id and order.contact.customer_id != order.customer.pk:
            order.contact = None
    for name in ORDER_FIELDS:
        if name in fields:
            value = fields[name]
            setattr(order, name, (value or "").strip() if name in ("title", "notes") else value)
    _check_contact(order.customer, order.contact)
    _check_opportunity(actor, order.customer, order.opportunity)
    _check_dates(order.order_date, order.promised_date)
    rows = _clean_lines(
        actor=actor,
        customer=order.customer,
        channel_tier=order.channel_tier,
        order_date=order.order_date,
        lines=lines if lines is not None else _rows_of(order),
    )
    _totals(order, rows)
    order.title = order.title[:120]
    _save(order, actor, None)
    _write_lines(order, rows)
    return order


# Submission, approval, confirmation ---------------------------------------------------------------


def _unit_user(department) -> object | None:
    """The active head of a unit, as a user (the default owner of a coordination task)."""
    head = department.head if department is not None and department.head_id else None
    if head is None or head.status != EmployeeStatus.ACTIVE or not head.user.is_active:
        return None
    return head.user


def _unit_coordinators(department) -> list:
    """Active people of a unit who may work on coordination tasks."""
    if department is None:
        return []
    people = Employee.objects.filter(
        department=department, status=EmployeeStatus.ACTIVE
    ).select_related("user")
    return [p.user for p in people if p.user.is_active and p.user.has_perm(SalesPerm.CHANGE_TASK)]


def _create_tasks(order: SalesOrder, actor, *, new: bool = False) -> list[CoordinationTask]:
    """The production task to 生产部 (due before the promised date, never before today) and the
    logistics task to 物流部 (due on the promised date), owned by the unit's head. A kind the
    order already has (not cancelled) is not made again. Three queries for both tasks (the
    kinds there are, the units with their heads, the tasks with their history rows in bulk)
    plus the notifications."""
    today = timezone.localdate()
    production_due = max(order.promised_date - datetime.timedelta(days=PRODUCTION_LEAD_DAYS), today)
    there = (
        set()
        if new  # saved in this transaction: no task yet
        else set(
            order.tasks.exclude(status=TaskStatus.CANCELLED)
            .order_by()
            .values_list("kind", flat=True)
        )
    )
    specs = [
        (kind, code, due)
        for kind, code, due in (
            (TaskKind.PRODUCTION, PRODUCTION_UNIT, production_due),
            (TaskKind.LOGISTICS, LOGISTICS_UNIT, order.promised_date),
        )
        if kind not in there
    ]
    if not specs:
        return []
    units = {
        department.code: department
        for department in Department.objects.filter(
            code__in=[code for _kind, code, _due in specs], active=True
        )
        .select_related("head__user")
        .only(*UNIT_FIELDS)
    }
    made = []
    for kind, code, due in specs:
        department = units.get(code)
        task = CoordinationTask(
            order=order,
            kind=kind,
            title=f"{order.number} · {order.customer.name}"[:120],
            department=department,
            owner=_unit_user(department),
            due_date=due,
            created_by=actor,
            updated_by=actor,
        )
        task._history_user = actor
        _validate(task)
        made.append(task)
    if connection.features.can_return_rows_from_bulk_insert:
        CoordinationTask.objects.bulk_create(made)
        CoordinationTask.history.bulk_history_create(made, default_change_reason=None)
    else:
        for task in made:
            task.save()
    body = f"{order.customer.name} · {order.get_payment_terms_display()}"
    notify_many(
        Message(
            recipients=[task.owner] if task.owner else _unit_coordinators(task.department),
            title=gettext("New %(kind)s task: %(number)s, due %(due)s")
            % {"kind": task.get_kind_display(), "number": order.number, "due": task.due_date},
            body=body,
            url=task.get_absolute_url(),
            kind="sales.task",
        )
        for task in made
    )
    return made


def _confirm(order: SalesOrder, actor) -> SalesOrder:
    """Book the order: confirmed, tasks to production and logistics, the customer at "deal",
    the owner told."""
    before = copy.copy(order)
    order.status = OrderStatus.CONFIRMED
    order.confirmed_at = timezone.now()
    _save(order, actor, before)
    _booked(order, actor)
    return order


def _booked(order: SalesOrder, actor, *, new: bool = False) -> None:
    """What follows the confirmation of an order (saved as confirmed): the tasks, the deal
    customer, the owner told when somebody else confirmed it. `new`: the order was saved
    confirmed in this transaction (it has no tasks yet)."""
    _create_tasks(order, actor, new=new)
    # the customer becomes a deal customer (R5.1.1; the pool's "without a deal" rule)
    crm_services.customer_mark_deal(customer=order.customer, at=order.confirmed_at, actor=actor)
    if actor is None or actor.pk != order.owner_id:
        notify(
            recipients=[order.owner],
            title=gettext("Order %(number)s confirmed") % {"number": order.number},
            body=order.credit_warning,
            url=order.get_absolute_url(),
            kind="sales.order_confirmed",
        )


@transaction.atomic
def order_submit(*, actor, order: SalesOrder, comment: str = "") -> ApprovalRequest | None:
    """The owner submits a draft. Within their discount authority and under the approval amount
    it is confirmed at once (None is returned); otherwise it goes to the approval engine with
    the reasons (the approval request is returned). A blocking credit limit refuses it."""
    _require(actor, SalesPerm.ADD_ORDER)
    order = _own_draft(actor, order)
    if not _has_lines(order):
        raise ValidationError({"lines": [MSG_NO_LINES]})
    _reprice(order)
    settings = settings_row()
    _credit(order, settings=settings)
    reasons = approval_reasons(order, settings=settings)
    order.approval_reasons = "; ".join(reasons)[:300]
    if not reasons:
        _confirm(order, actor)
        return None
    before = copy.copy(order)
    order.status = OrderStatus.IN_APPROVAL
    _save(order, actor, before)
    return approvals.request_submit(actor=actor, document=order, comment=comment)


@transaction.atomic
def order_confirm(*, actor, order: SalesOrder) -> SalesOrder:
    """A confirmer (group leader, manager) confirms a draft of their area on the salesperson's
    behalf, when the order needs no approval; an order that needs approval is submitted by its
    salesperson (nobody confirms past the discount authority or the approval amount)."""
    _require(actor, SalesPerm.CONFIRM_ORDER)
    order = _lock(order)
    if not _in_scope(actor, order):
        raise PermissionDenied(MSG_NOT_IN_SCOPE)
    if order.status != OrderStatus.DRAFT:
        raise _wrong_state(order)
    approvals.assert_editable(order)
    if not _has_lines(order):
        raise ValidationError({"lines": [MSG_NO_LINES]})
    _reprice(order)
    settings = settings_row()
    reasons = approval_reasons(order, settings=settings)
    if reasons:
        raise ValidationError(MSG_NEEDS_APPROVAL % {"reasons": "; ".join(reasons)})
    _credit(order, settings=settings)
    order.approval_reasons = ""
    return _confirm(order, actor)


def order_on_approved(order: SalesOrder, approval=None) -> None:
    """Approval hook (after commit, once): the order is confirmed. The approvers saw the credit
    situation; a limit passed since is kept as a warning, not a refusal."""
    with transaction.atomic():
        order = _lock(order)
        if order.status != OrderStatus.IN_APPROVAL:
            return
        _credit(order, blocking=False)
        _confirm(order, None)


def order_on_ended(order: SalesOrder, approval=None) -> None:
    """Rejected, returned or withdrawn: back to a draft the owner may change and resubmit."""
    with transaction.atomic():
        order = _lock(order)
        if order.status != OrderStatus.IN_APPROVAL:
            return
        order.status = OrderStatus.DRAFT
        _save(order, None, None)


def order_withdraw(*, actor, order: SalesOrder, reason: str = "") -> ApprovalRequest:
    """The owner takes an order out of approval (before the first decision)."""
    order = SalesOrder.objects.get(pk=order.pk)  # the caller's copy may be stale
    latest = approvals.latest_request(order)
    if latest is None or order.owner_id != actor.pk:
        raise PermissionDenied(MSG_NOT_OWNER)
    if order.status != OrderStatus.IN_APPROVAL:
        raise _wrong_state(order)
    return approvals.request_withdraw(actor=actor, request=latest, reason=reason)


# Production ----------------------------------------------------------------------------------------


def _may_coordinate(actor, order: SalesOrder) -> None:
    """Production moves are made by whoever may change the order's production task (生产部's
    coordinators, the leaders of the order's area); without such a task, by the leaders."""
    _require(actor, SalesPerm.CHANGE_TASK)
    tasks = list(order.tasks.filter(kind=TaskKind.PRODUCTION).exclude(status=TaskStatus.CANCELLED))
    if tasks:
        if not any(selectors.can_change_task(actor=actor, task=task) for task in tasks):
            raise PermissionDenied(MSG_NO_PERMISSION)
    elif not _in_scope(actor, order):
        raise PermissionDenied(MSG_NOT_IN_SCOPE)


def _set_task(task: CoordinationTask, status: str, actor) -> None:
    task.status = status
    task.done_at = timezone.now() if status == TaskStatus.DONE else None
    task.updated_by = actor
    task._history_user = actor
    task.save()


def _production_tasks(order: SalesOrder):
    return CoordinationTask.objects.select_for_update().filter(
        order=order, kind=TaskKind.PRODUCTION, status__in=selectors.OPEN_TASK
    )


@transaction.atomic
def order_start_production(*, actor, order: SalesOrder) -> SalesOrder:
    """生产部 starts: confirmed → in production (its production task is in progress)."""
    _may_coordinate(actor, order)
    order = _lock(order)
    if order.status != OrderStatus.CONFIRMED:
        raise _wrong_state(order)
    before = copy.copy(order)
    order.status = OrderStatus.IN_PRODUCTION
    _save(order, actor, before)
    for task in _production_tasks(order).filter(status=TaskStatus.OPEN):
        _set_task(task, TaskStatus.IN_PROGRESS, actor)
    return order


@transaction.atomic
def order_mark_ready(*, actor, order: SalesOrder) -> SalesOrder:
    """The goods are ready to ship: confirmed or in production → ready (production done)."""
    _may_coordinate(actor, order)
    order = _lock(order)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION):
        raise _wrong_state(order)
    before = copy.copy(order)
    order.status = OrderStatus.READY
    _save(order, actor, before)
    for task in _production_tasks(order):
        _set_task(task, TaskStatus.DONE, actor)
    notify(
        recipients=[order.owner],
        title=gettext("Order %(number)s is ready to ship") % {"number": order.number},
        url=order.get_absolute_url(),
        kind="sales.order_ready",
    )
    return order


# Coordination tasks --------------------------------------------------------------------------------


def _task_for(actor, task: CoordinationTask) -> tuple[SalesOrder, CoordinationTask]:
    if not selectors.can_change_task(actor=actor, task=task):
        raise PermissionDenied(MSG_NO_PERMISSION)
    order = _lock(task.order)
    task = CoordinationTask.objects.select_for_update().get(pk=task.pk)
    return order, task


@transaction.atomic
def task_start(*, actor, task: CoordinationTask) -> CoordinationTask:
    """Work starts on a task; starting the production task puts the order in production."""
    order, task = _task_for(actor, task)
    if task.status != TaskStatus.OPEN:
        raise ValidationError(MSG_TASK_STATE % {"status": task.get_status_display()})
    _set_task(task, TaskStatus.IN_PROGRESS, actor)
    if task.kind == TaskKind.PRODUCTION and order.status == OrderStatus.CONFIRMED:
        before = copy.copy(order)
        order.status = OrderStatus.IN_PRODUCTION
        _save(order, actor, before)
    return task


@transaction.atomic
def task_done(*, actor, task: CoordinationTask, note: str = "") -> CoordinationTask:
    """A task is done; the production task done makes the order ready to ship."""
    order, task = _task_for(actor, task)
    if task.status not in selectors.OPEN_TASK:
        raise ValidationError(MSG_TASK_STATE % {"status": task.get_status_display()})
    if note.strip():
        task.notes = (task.notes + "\n" + note.strip()).strip()
    _set_task(task, TaskStatus.DONE, actor)
    if task.kind == TaskKind.PRODUCTION and order.status in (
        OrderStatus.CONFIRMED,
        OrderStatus.IN_PRODUCTION,
    ):
        before = copy.copy(order)
        order.status = OrderStatus.READY
        _save(order, actor, before)
        notify(
            recipients=[order.owner],
            title=gettext("Order %(number)s is ready to ship") % {"number": order.number},
            url=order.get_absolute_url(),
            kind="sales.order_ready",
        )
    return task


@transaction.atomic
def task_update(
    *,
    actor,
    task: CoordinationTask,
    owner=False,
    due_date: datetime.date | None = None,
    notes: str | None = None,
) -> CoordinationTask:
    """Reassign a task, move its due date, or change its notes (owner=False keeps the owner)."""
    _order, task = _task_for(actor, task)
    if task.status == TaskStatus.CANCELLED:
        raise ValidationError(MSG_TASK_STATE % {"status": task.get_status_display()})
    if owner is not False:
        if owner is not None and not owner.is_active:
            raise ValidationError({"owner": [MSG_TASK_OWNER]})
        if owner is not None and owner.pk != task.owner_id and owner.pk != actor.pk:
            notify(
                recipients=[owner],
                title=gettext("Task assigned to you: %(title)s") % {"title": task.title},
                url=task.get_absolute_url(),
                kind="sales.task",
            )
        task.owner = owner
    if due_date is not None:
        task.due_date = due_date
    if notes is not None:
        task.notes = notes.strip()
    task.updated_by = actor
    task._history_user = actor
    _validate(task)
    task.save()
    return task


# Completion and cancellation ---------------------------------------------------------------------


def _complete(order: SalesOrder, actor) -> SalesOrder:
    before = copy.copy(order)
    order.status = OrderStatus.COMPLETED
    order.completed_at = timezone.now()
    return _save(order, actor, before)


@transaction.atomic
def order_complete(*, actor, order: SalesOrder) -> SalesOrder:
    """A confirmer closes a delivered order (paid in full, or the rest settled otherwise)."""
    _require(actor, SalesPerm.CONFIRM_ORDER)
    order = _lock(order)
    if not _in_scope(actor, order):
        raise PermissionDenied(MSG_NOT_IN_SCOPE)
    if order.status != OrderStatus.DELIVERED:
        raise _wrong_state(order)
    return _complete(order, actor)


def order_settle(order: SalesOrder, actor=None) -> SalesOrder:
    """Complete a delivered order once it is received in full. The receipts part calls this in
    its transaction after the received amount changes; deliveries call it when signed for."""
    with transaction.atomic():
        order = _lock(order)
        if order.status == OrderStatus.DELIVERED and order.received_amount >= order.total:
            _complete(order, actor)
    return order


@transaction.atomic
def order_cancel(*, actor, order: SalesOrder, reason: str) -> SalesOrder:
    """Cancel with a reason before anything ships: the owner cancels a draft; a confirmer of
    the area also cancels confirmed orders. Open coordination tasks are cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [MSG_CANCEL_REASON]})
    order = _lock(order)
    confirmer = actor.has_perm(SalesPerm.CONFIRM_ORDER) and _in_scope(actor, order)
    if order.status == OrderStatus.IN_APPROVAL:
        raise ValidationError(MSG_WITHDRAW_FIRST)
    if order.status == OrderStatus.DRAFT:
        if order.owner_id != actor.pk and not confirmer:
            raise PermissionDenied(MSG_NOT_OWNER)
    elif order.status in (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.READY):
        if not confirmer:
            raise PermissionDenied(MSG_NO_PERMISSION)
    elif order.status in (OrderStatus.PARTLY_SHIPPED, OrderStatus.SHIPPED):
        raise ValidationError(MSG_CANCEL_SHIPPED)
    else:
        raise _wrong_state(order)
    if order.lines.filter(delivered_quantity__gt=0).exists():
        raise ValidationError(MSG_CANCEL_SHIPPED)
    if order.receipted_amount > 0:
        raise ValidationError(MSG_CANCEL_RECEIPTS)
    before = copy.copy(order)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancel_reason = reason
    _save(order, actor, before)
    tasks = list(
        CoordinationTask.objects.select_for_update().filter(
            order=order, status__in=selectors.OPEN_TASK
        )
    )
    for task in tasks:
        _set_task(task, TaskStatus.CANCELLED, actor)
    notify(
        recipients=[order.owner, *[task.owner for task in tasks if task.owner]],
        title=gettext("Order %(number)s cancelled") % {"number": order.number},
        body=reason,
        url=order.get_absolute_url(),
        kind="sales.order_cancelled",
    )
    return order


# Owner changes ------------------------------------------------------------------------------------


def _move(orders, to_user, actor) -> int:
    employee = employee_for_user(to_user)
    moved = 0
    for order in orders.select_for_update().order_by("pk"):
        before = copy.copy(order)
        order.owner = to_user
        order.department = employee.department if employee else None
        _save(order, actor, before)
        moved += 1
    return moved


def orders_transfer(*, customer, from_user, to_user, actor) -> int:
    """CRM owner-change hook (inside the transfer's transaction): the customer's open orders
    (draft to delivered) of the old owner go to the new owner and their unit."""
    return _move(
        SalesOrder.objects.filter(customer=customer, owner=from_user, status__in=selectors.OPEN),
        to_user,
        actor,
    )


def orders_handover(from_user, to_user, actor) -> int:
    """离职继承: a leaver's open orders pass to the successor."""
    return _move(
        SalesOrder.objects.filter(owner=from_user, status__in=selectors.OPEN), to_user, actor
    )


# Delivery alerts ----------------------------------------------------------------------------------

ALERT_BEFORE = "before"
ALERT_AFTER = "after"


def _leader_of(order: SalesOrder):
    if order.department is None:
        return None
    head = department_head(order.department)
    return head.user if head is not None else None


def delivery_alerts(*, today: datetime.date | None = None) -> str:
    """Daily job: tell the owner and their group leader N days before the promised date of an
    undelivered order, and once more after the date has slipped. `slip_alerted` remembers what
    was sent, so running the job again sends nothing twice."""
    today = today or timezone.localdate()
    days = settings_row().delivery_alert_days
    undelivered = SalesOrder.objects.filter(status__in=selectors.UNDELIVERED).select_related(
        "owner", "department", "customer"
    )
    sent = {ALERT_BEFORE: 0, ALERT_AFTER: 0}
    batches = [
        (
            ALERT_BEFORE,
            undelivered.filter(
                slip_alerted="",
                promised_date__gte=today,
                promised_date__lte=today + datetime.timedelta(days=days),
            ),
        ),
        (
            ALERT_AFTER,
            undelivered.filter(promised_date__lt=today).exclude(slip_alerted=ALERT_AFTER),
        ),
    ]
    for kind, orders in batches:
        for order in orders.order_by("pk").iterator(chunk_size=500):
            with transaction.atomic():
                updated = SalesOrder.objects.filter(
                    pk=order.pk, status__in=selectors.UNDELIVERED
                ).exclude(slip_alerted=kind)
                if kind == ALERT_BEFORE:
                    updated = updated.filter(slip_alerted="")
                if not updated.update(slip_alerted=kind):
                    continue  # another run took it
                if kind == ALERT_BEFORE:
                    title = gettext(
                        "Order %(number)s is due for delivery on %(date)s and not delivered yet"
                    )
                else:
                    title = gettext(
                        "Order %(number)s is late: promised for %(date)s, not delivered yet"
                    )
                notify(
                    recipients=[order.owner, _leader_of(order)],
                    title=title % {"number": order.number, "date": order.promised_date},
                    body=f"{order.customer.name} · {order.get_status_display()}",
                    url=order.get_absolute_url(),
                    kind=f"sales.delivery_{kind}",
                )
                sent[kind] += 1
    return f"{sent[ALERT_BEFORE]} due soon, {sent[ALERT_AFTER]} late"
