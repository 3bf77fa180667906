"""Expense requests (事前申请) and expense claims (报销单): vouchers, submission under budget
control, approval hooks, finance review, posting and payment (R7.2.1, R7.2.2, R7.3.1)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.approvals import services as approvals
from marketdesk.approvals.models import ApprovalRequest
from marketdesk.core import services as core_services
from marketdesk.core.notifications import notify
from marketdesk.core.numbering import next_number

from ..models import (
    CLAIM_EDITABLE,
    ZERO,
    BudgetLine,
    ClaimStatus,
    DocStatus,
    EntryKind,
    ExpenseCategory,
    ExpenseClaim,
    ExpenseClaimLine,
    ExpenseRequest,
    PayMethod,
    Voucher,
    VoucherKind,
)
from ..periods import period_of
from ..permissions import FinancePerm
from . import control
from .budgets import MSG_NOT_EDITABLE, MSG_NOT_OWNER, MSG_POSITIVE, _department_of, require

MSG_LINE_NOT_USABLE = _("This budget line is not open to you (approved budgets of your unit).")
MSG_CATEGORY_MISMATCH = _("The category does not belong to the chosen budget line (%(line)s).")
MSG_PERIOD_MISMATCH = _("The date %(date)s is not in the period of the budget line (%(line)s).")
MSG_NO_CLAIM_LINES = _("Add at least one expense line.")
MSG_INVOICE_REQUIRED = _("Line %(number)s (%(category)s) needs an invoice with its scan.")
MSG_CONTRACT_REQUIRED = _("Line %(number)s (%(category)s) needs a contract.")
MSG_INVOICE_SHORT = _(
    "Line %(number)s: the invoices add up to ¥%(invoiced)s, less than the ¥%(amount)s claimed."
)
MSG_DUPLICATE_INVOICE = _("Invoice %(code)s %(number)s is already claimed on %(claim)s.")
MSG_INVOICE_NUMBER = _("Give the invoice number.")
MSG_TAX_ABOVE_AMOUNT = _("The tax cannot be more than the amount.")
MSG_REQUEST_NEEDED = _(
    "Claims above ¥%(threshold)s need an approved expense request (事前申请) first."
)
MSG_REQUEST_NOT_USABLE = _(
    "Choose one of your approved expense requests that still has money left."
)
MSG_NOT_CLAIMANT = _("Only the claimant may do this.")
MSG_WRONG_STATE = _("This claim is not at that stage (it is: %(status)s).")
MSG_REASON_FOR_REDUCTION = _("Give the reason for reducing the approved amount.")
MSG_APPROVED_RANGE = _("The approved amount of line %(number)s must be between 0 and ¥%(amount)s.")
MSG_VOUCHER_NO = _("Give the accounting voucher number.")
MSG_REQUEST_NOT_OPEN = _("Only an approved request can be closed.")
MSG_LINK_NOT_FOUND = _("The linked record was not found.")

CENT = Decimal("0.01")


# Which budget lines may a person charge? ---------------------------------------------------------


def usable_lines_for(user):
    """Lines of approved budgets of the user's unit or any unit above it."""
    from marketdesk.org.selectors import employee_for_user

    employee = employee_for_user(user)
    if employee is None:
        return BudgetLine.objects.none()
    ids = [int(part) for part in employee.department.path.strip("/").split("/") if part]
    return BudgetLine.objects.filter(
        budget__status=DocStatus.APPROVED, budget__department_id__in=ids or [employee.department_id]
    ).select_related("budget__department", "category")


def _check_usable(user, line: BudgetLine, field: str = "budget_line") -> None:
    if not usable_lines_for(user).filter(pk=line.pk).exists():
        raise ValidationError({field: [MSG_LINE_NOT_USABLE]})


# Expense requests (事前申请) ---------------------------------------------------------------------


@transaction.atomic
def expense_request_create(
    *,
    actor,
    title: str,
    line: BudgetLine,
    amount: Decimal,
    expected_on: datetime.date | None = None,
    description: str = "",
) -> ExpenseRequest:
    require(actor, FinancePerm.ADD_REQUEST)
    department = _department_of(actor)
    _check_usable(actor, line, "line")
    if amount is None or amount <= 0:
        raise ValidationError({"amount": [MSG_POSITIVE]})
    request = ExpenseRequest(
        number=next_number("SQ"),
        title=title,
        line=line,
        amount=amount,
        expected_on=expected_on,
        description=description,
        owner=actor,
        department=department,
        created_by=actor,
        updated_by=actor,
    )
    request._history_user = actor
    request.full_clean()
    request.save()
    return request


def _editable_request(actor, request: ExpenseRequest) -> ExpenseRequest:
    request = ExpenseRequest.objects.select_for_update().get(pk=request.pk)
    if request.owner_id != actor.pk:
        raise PermissionDenied(MSG_NOT_OWNER)
    if not request.editable:
        raise ValidationError(MSG_NOT_EDITABLE)
    return request


@transaction.atomic
def expense_request_update(*, actor, request: ExpenseRequest, **fields) -> ExpenseRequest:
    request = _editable_request(actor, request)
    if "line" in fields:
        _check_usable(actor, fields["line"], "line")
    for name in ("title", "line", "amount", "expected_on", "description"):
        if name in fields:
            setattr(request, name, fields[name])
    if request.amount is None or request.amount <= 0:
        raise ValidationError({"amount": [MSG_POSITIVE]})
    request.updated_by = actor
    request._history_user = actor
    request.full_clean()
    request.save()
    return request


@transaction.atomic
def expense_request_submit(*, actor, request: ExpenseRequest, comment: str = "") -> ApprovalRequest:
    """Commits the requested amount on its line (refused under hard control when it is not there)."""
    request = _editable_request(actor, request)
    _check_usable(actor, request.line, "line")
    line = control.lock_lines([request.line_id])[request.line_id]
    control.check_room(line, request.amount, field="amount")
    control.move(line, EntryKind.COMMIT, request.amount, actor=actor, source=request)
    request.status = DocStatus.SUBMITTED
    request._history_user = actor
    request.save()
    return approvals.request_submit(actor=actor, document=request, comment=comment)


def expense_request_on_approved(request: ExpenseRequest, approval=None) -> None:
    with transaction.atomic():
        request = ExpenseRequest.objects.select_for_update().get(pk=request.pk)
        if request.status == DocStatus.SUBMITTED:
            request.status = DocStatus.APPROVED
            request.save()


def expense_request_on_ended(status: str):
    def hook(request: ExpenseRequest, approval=None) -> None:
        with transaction.atomic():
            line = control.lock_lines([request.line_id])[request.line_id]
            request = ExpenseRequest.objects.select_for_update().get(pk=request.pk)
            if request.status != DocStatus.SUBMITTED:
                return
            control.move(line, EntryKind.RELEASE, request.amount, source=request)
            request.status = status
            request.save()

    return hook


@transaction.atomic
def expense_request_close(*, actor, request: ExpenseRequest) -> ExpenseRequest:
    """Give back what an approved request still reserves (the spending is done, or off)."""
    if request.owner_id != actor.pk and not actor.has_perm(FinancePerm.REVIEW_CLAIM):
        raise PermissionDenied(MSG_NOT_OWNER)
    line = control.lock_lines([request.line_id])[request.line_id]  # lines before documents
    request = ExpenseRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != DocStatus.APPROVED:
        raise ValidationError(MSG_REQUEST_NOT_OPEN)
    control.move(
        line, EntryKind.RELEASE, request.remaining, actor=actor, source=request, note="closed"
    )
    request.status = DocStatus.CLOSED
    request._history_user = actor
    request.save()
    return request


# Claims ------------------------------------------------------------------------------------------


def _link(data: dict) -> tuple[ContentType | None, int | None]:
    """An optional generic link (customer, order, campaign): (content type, id) or a
    model instance under "link"."""
    link = data.get("link")
    if link is not None:
        return ContentType.objects.get_for_model(link), link.pk
    link_type, link_id = data.get("link_type"), data.get("link_id")
    if link_type is None and link_id is None:
        return None, None
    if link_type is None or link_id is None:
        raise ValidationError({"link_id": [MSG_LINK_NOT_FOUND]})
    model = link_type.model_class()
    if model is None or not model._default_manager.filter(pk=link_id).exists():
        raise ValidationError({"link_id": [MSG_LINK_NOT_FOUND]})
    return link_type, link_id


def _clean_line(actor, number: int, data: dict) -> dict:
    """Check one claim line; errors name the field as lines[N].field."""
    budget_line: BudgetLine = data["budget_line"]
    category: ExpenseCategory = data.get("category") or budget_line.category
    amount = data.get("amount")
    spent_on = data["spent_on"]
    prefix = f"lines[{number}]."
    try:
        _check_usable(actor, budget_line)
        if amount is None or amount <= 0:
            raise ValidationError({"amount": [MSG_POSITIVE]})
        if category.pk != budget_line.category_id and category.parent_id != budget_line.category_id:
            raise ValidationError({"category": [MSG_CATEGORY_MISMATCH % {"line": budget_line}]})
        budget = budget_line.budget
        if period_of(spent_on, budget.period_kind) != (budget.fiscal_year, budget_line.period):
            raise ValidationError(
                {"spent_on": [MSG_PERIOD_MISMATCH % {"date": spent_on, "line": budget_line}]}
            )
        link_type, link_id = _link(data)
    except ValidationError as exc:
        raise ValidationError(
            {f"{prefix}{key}": value for key, value in exc.message_dict.items()}
        ) from exc
    return {
        "spent_on": spent_on,
        "category": category,
        "budget_line": budget_line,
        "amount": Decimal(amount).quantize(CENT),
        "description": data.get("description", ""),
        "link_type": link_type,
        "link_id": link_id,
    }


def _check_expense_request(actor, request: ExpenseRequest | None) -> None:
    if request is None:
        return
    request = ExpenseRequest.objects.get(pk=request.pk)  # the caller's copy may be stale
    if (
        request.owner_id != actor.pk
        or request.status != DocStatus.APPROVED
        or request.remaining <= 0
    ):
        raise ValidationError({"expense_request": [MSG_REQUEST_NOT_USABLE]})


def _write_lines(claim: ExpenseClaim, rows: list[dict]) -> None:
    keep = []
    for row in rows:
        line_id = row.pop("id", None)
        line = claim.lines.filter(pk=line_id).first() if line_id else None
        line = line or ExpenseClaimLine(claim=claim)
        for name, value in row.items():
            setattr(line, name, value)
        line.approved_amount = None
        line.full_clean(exclude=["claim"])
        line.save()
        keep.append(line.pk)
    claim.lines.exclude(pk__in=keep).delete()
    claim.total = sum((row["amount"] for row in rows), ZERO)


@transaction.atomic
def claim_create(
    *,
    actor,
    title: str,
    lines: list[dict],
    expense_request: ExpenseRequest | None = None,
) -> ExpenseClaim:
    """A draft claim; lines: [{spent_on, category, budget_line, amount, description, link?}]."""
    require(actor, FinancePerm.ADD_CLAIM)
    department = _department_of(actor)
    if not lines:
        raise ValidationError({"lines": [MSG_NO_CLAIM_LINES]})
    rows = [_clean_line(actor, number, dict(data)) for number, data in enumerate(lines, start=1)]
    _check_expense_request(actor, expense_request)
    claim = ExpenseClaim(
        number=next_number("BX"),
        title=title,
        claimant=actor,
        department=department,
        expense_request=expense_request,
        created_by=actor,
        updated_by=actor,
    )
    claim._history_user = actor
    claim.full_clean()
    claim.save()
    _write_lines(claim, rows)
    claim.save(update_fields=["total"])
    return claim


def _own_editable_claim(actor, claim: ExpenseClaim) -> ExpenseClaim:
    claim = ExpenseClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.claimant_id != actor.pk:
        raise PermissionDenied(MSG_NOT_CLAIMANT)
    if claim.status not in CLAIM_EDITABLE:
        raise ValidationError(MSG_NOT_EDITABLE)
    return claim


@transaction.atomic
def claim_update(
    *,
    actor,
    claim: ExpenseClaim,
    title: str | None = None,
    lines: list[dict] | None = None,
    expense_request: ExpenseRequest | None | bool = False,
) -> ExpenseClaim:
    """Change a draft (or returned/rejected/withdrawn) claim. Lines with an "id" are kept
    (with their vouchers); lines left out are removed. expense_request=False keeps it."""
    claim = _own_editable_claim(actor, claim)
    if title is not None:
        claim.title = title
    if expense_request is not False:
        _check_expense_request(actor, expense_request or None)
        claim.expense_request = expense_request or None
    if lines is not None:
        if not lines:
            raise ValidationError({"lines": [MSG_NO_CLAIM_LINES]})
        rows = []
        for number, data in enumerate(lines, start=1):
            row = _clean_line(actor, number, dict(data))
            row["id"] = data.get("id")
            rows.append(row)
        _write_lines(claim, rows)
    claim.updated_by = actor
    claim._history_user = actor
    claim.full_clean()
    claim.save()
    return claim


@transaction.atomic
def claim_delete(*, actor, claim: ExpenseClaim) -> None:
    """Only a claim never submitted can be deleted (its invoices become free again)."""
    claim = _own_editable_claim(actor, claim)
    if claim.status != ClaimStatus.DRAFT or claim.submitted_at is not None:
        raise ValidationError(MSG_NOT_EDITABLE)
    claim.delete()


@transaction.atomic
def voucher_add(
    *,
    actor,
    claim: ExpenseClaim,
    line: ExpenseClaimLine,
    kind: str = VoucherKind.INVOICE,
    number: str,
    code: str = "",
    issued_on: datetime.date | None = None,
    amount: Decimal = ZERO,
    tax: Decimal = ZERO,
    upload: UploadedFile | None = None,
) -> Voucher:
    """Attach an invoice (code + number, amount, tax, scan) or a contract to a claim line. An
    invoice already on any claim is refused, naming that claim."""
    claim = _own_editable_claim(actor, claim)
    line = ExpenseClaimLine.objects.get(pk=line.pk, claim=claim)
    code, number = (code or "").strip(), (number or "").strip()
    if not number:
        raise ValidationError({"number": [MSG_INVOICE_NUMBER]})
    if tax is not None and amount is not None and tax > amount:
        raise ValidationError({"tax": [MSG_TAX_ABOVE_AMOUNT]})
    if kind == VoucherKind.INVOICE:
        earlier = (
            Voucher.objects.filter(kind=VoucherKind.INVOICE, active=True, code=code, number=number)
            .select_related("claim")
            .first()
        )
        if earlier is not None:
            raise ValidationError(
                {
                    "number": [
                        MSG_DUPLICATE_INVOICE
                        % {"code": code, "number": number, "claim": earlier.claim.number}
                    ]
                }
            )
    attachment = None
    if upload is not None:
        attachment = core_services.attachment_add(
            actor=actor,
            record=claim,
            upload=upload,
            description=f"{VoucherKind(kind).label} {code} {number}".strip()[:200],
        )
    voucher = Voucher(
        claim=claim,
        line=line,
        kind=kind,
        code=code,
        number=number,
        issued_on=issued_on,
        amount=amount or ZERO,
        tax=tax or ZERO,
        attachment=attachment,
    )
    voucher.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            voucher.save()
    except IntegrityError as exc:  # a concurrent claim took the same invoice
        raise ValidationError(
            {"number": [MSG_DUPLICATE_INVOICE % {"code": code, "number": number, "claim": "?"}]}
        ) from exc
    return voucher


@transaction.atomic
def voucher_remove(*, actor, voucher: Voucher) -> None:
    claim = _own_editable_claim(actor, voucher.claim)
    Voucher.objects.filter(pk=voucher.pk, claim=claim).delete()


def _check_vouchers(lines: list[ExpenseClaimLine]) -> None:
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        vouchers = list(line.vouchers.filter(active=True))
        invoices = [v for v in vouchers if v.kind == VoucherKind.INVOICE]
        names = {"number": number, "category": line.category.name}
        if line.category.requires_invoice:
            if not any(v.attachment_id for v in invoices):
                errors.append(MSG_INVOICE_REQUIRED % names)
            else:
                invoiced = sum((v.amount for v in invoices), ZERO)
                if invoiced < line.amount:
                    errors.append(
                        MSG_INVOICE_SHORT
                        % {"number": number, "invoiced": invoiced, "amount": line.amount}
                    )
        if line.category.requires_contract and not any(
            v.kind == VoucherKind.CONTRACT for v in vouchers
        ):
            errors.append(MSG_CONTRACT_REQUIRED % names)
    if errors:
        raise ValidationError({"vouchers": errors})


def claim_needs(claim: ExpenseClaim) -> dict[int, Decimal]:
    """{budget line id: amount} the claim takes from each line."""
    needs: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in claim.lines.all():
        needs[line.budget_line_id] += line.effective_amount
    return dict(needs)


@transaction.atomic
def claim_submit(*, actor, claim: ExpenseClaim, comment: str = "") -> ApprovalRequest:
    """Check vouchers and budget, commit the amounts on their lines, send for approval.

    Lock order: the claim, then its budget lines (ascending ids), then its expense request."""
    require(actor, FinancePerm.ADD_CLAIM)
    claim = _own_editable_claim(actor, claim)
    lines = list(claim.lines.select_related("category", "budget_line__budget").order_by("pk"))
    if not lines:
        raise ValidationError({"lines": [MSG_NO_CLAIM_LINES]})
    for number, line in enumerate(lines, start=1):  # budgets or periods may have changed
        _clean_line(
            actor,
            number,
            {
                "spent_on": line.spent_on,
                "category": line.category,
                "budget_line": line.budget_line,
                "amount": line.amount,
            },
        )
    _check_vouchers(lines)
    settings = control.settings_get()
    for line in lines:
        line.approved_amount = None
        line.save(update_fields=["approved_amount"])
    needs = claim_needs(claim)
    locked = control.lock_lines(needs)
    request = None
    if claim.expense_request_id:
        request = ExpenseRequest.objects.select_for_update().get(pk=claim.expense_request_id)
        _check_expense_request(actor, request)
    elif claim.total > settings.request_threshold:
        raise ValidationError(
            {"expense_request": [MSG_REQUEST_NEEDED % {"threshold": settings.request_threshold}]}
        )
    from_request: dict[int, Decimal] = {}
    if request is not None and request.line_id in needs:
        from_request[request.line_id] = min(request.remaining, needs[request.line_id])
    for line_id in sorted(needs):
        line = locked[line_id]
        control.check_room(line, needs[line_id] - from_request.get(line_id, ZERO))
    for line_id in sorted(needs):
        line = locked[line_id]
        used = from_request.get(line_id, ZERO)
        if used:
            control.move(
                line, EntryKind.RELEASE, used, actor=actor, source=request, note=claim.number
            )
            request.consumed += used
            request.save(update_fields=["consumed"])
        control.move(line, EntryKind.COMMIT, needs[line_id], actor=actor, source=claim)
    claim.request_used = sum(from_request.values(), ZERO)
    claim.status = ClaimStatus.SUBMITTED
    claim.submitted_at = timezone.now()
    claim.approved_total = None
    claim._history_user = actor
    claim.save()
    return approvals.request_submit(actor=actor, document=claim, comment=comment)


def claim_on_approved(claim: ExpenseClaim, approval=None) -> None:
    """Approval turns the committed amounts into spent ones (hook; runs once after commit)."""
    with transaction.atomic():
        claim = ExpenseClaim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != ClaimStatus.SUBMITTED:
            return
        needs = claim_needs(claim)
        locked = control.lock_lines(needs)
        for line_id in sorted(needs):
            control.move(locked[line_id], EntryKind.SPEND, needs[line_id], source=claim)
        claim.status = ClaimStatus.APPROVED
        claim.save()


def claim_on_ended(status: str):
    """Rejection, return or withdrawal gives the committed amounts back, and what came from
    the expense request goes back to the request."""

    def hook(claim: ExpenseClaim, approval=None) -> None:
        with transaction.atomic():
            claim = ExpenseClaim.objects.select_for_update().get(pk=claim.pk)
            if claim.status != ClaimStatus.SUBMITTED:
                return
            needs = claim_needs(claim)
            request_line = None
            used = claim.request_used
            if used and claim.expense_request_id:
                request_line = ExpenseRequest.objects.get(pk=claim.expense_request_id).line_id
            locked = control.lock_lines(list(needs) + ([request_line] if request_line else []))
            for line_id in sorted(needs):
                control.move(locked[line_id], EntryKind.RELEASE, needs[line_id], source=claim)
            if request_line:
                request = ExpenseRequest.objects.select_for_update().get(
                    pk=claim.expense_request_id
                )
                control.move(
                    locked[request_line],
                    EntryKind.COMMIT,
                    used,
                    source=request,
                    note=claim.number,
                )
                request.consumed -= used
                request.save(update_fields=["consumed"])
            claim.request_used = ZERO
            claim.status = status
            claim.save()

    return hook


def _stage(actor, claim: ExpenseClaim, perm: str, status: str) -> ExpenseClaim:
    require(actor, perm)
    claim = ExpenseClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != status:
        raise ValidationError(MSG_WRONG_STATE % {"status": claim.get_status_display()})
    return claim


@transaction.atomic
def claim_review(
    *,
    actor,
    claim: ExpenseClaim,
    approved: dict[int, Decimal] | None = None,
    note: str = "",
) -> ExpenseClaim:
    """Finance review: the accountant may lower a line's approved amount, with a reason; the
    difference goes back to the budget line."""
    claim = _stage(actor, claim, FinancePerm.REVIEW_CLAIM, ClaimStatus.APPROVED)
    approved = approved or {}
    lines = list(claim.lines.order_by("pk"))
    reduced: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for number, line in enumerate(lines, start=1):
        value = approved.get(line.pk, line.amount)
        if value is None or value < 0 or value > line.amount:
            raise ValidationError(
                {
                    f"lines[{number}].approved_amount": [
                        MSG_APPROVED_RANGE % {"number": number, "amount": line.amount}
                    ]
                }
            )
        value = Decimal(value).quantize(CENT)
        if value < line.amount:
            reduced[line.budget_line_id] += line.amount - value
        line.approved_amount = value
    if reduced and not note.strip():
        raise ValidationError({"note": [MSG_REASON_FOR_REDUCTION]})
    locked = control.lock_lines(reduced)
    for line_id in sorted(reduced):
        control.move(
            locked[line_id],
            EntryKind.UNSPEND,
            reduced[line_id],
            actor=actor,
            source=claim,
            note=note,
        )
    for line in lines:
        line.save(update_fields=["approved_amount"])
    claim.approved_total = sum((line.approved_amount for line in lines), ZERO)
    claim.status = ClaimStatus.REVIEWED
    claim.reviewed_by = actor
    claim.reviewed_at = timezone.now()
    claim.review_note = note
    claim._history_user = actor
    claim.save()
    if reduced:
        notify(
            recipients=[claim.claimant],
            title=gettext("%(number)s: approved amount changed to ¥%(amount)s")
            % {"number": claim.number, "amount": f"{claim.approved_total:,.2f}"},
            body=note,
            url=claim.get_absolute_url(),
            kind="finance.claim_reviewed",
        )
    return claim


@transaction.atomic
def claim_post(
    *,
    actor,
    claim: ExpenseClaim,
    voucher_no: str,
    posted_on: datetime.date | None = None,
    account: str = "",
) -> ExpenseClaim:
    """Record the accounting voucher of a reviewed claim (R7.3.1)."""
    claim = _stage(actor, claim, FinancePerm.POST_CLAIM, ClaimStatus.REVIEWED)
    if not (voucher_no or "").strip():
        raise ValidationError({"voucher_no": [MSG_VOUCHER_NO]})
    claim.voucher_no = voucher_no.strip()
    claim.posted_on = posted_on or timezone.localdate()
    claim.account = account.strip()
    claim.posted_by = actor
    claim.status = ClaimStatus.POSTED
    claim._history_user = actor
    claim.full_clean()
    claim.save()
    return claim


@transaction.atomic
def claim_pay(
    *,
    actor,
    claim: ExpenseClaim,
    paid_on: datetime.date | None = None,
    method: str = PayMethod.BANK,
) -> ExpenseClaim:
    claim = _stage(actor, claim, FinancePerm.PAY_CLAIM, ClaimStatus.POSTED)
    claim.paid_on = paid_on or timezone.localdate()
    claim.pay_method = method
    claim.status = ClaimStatus.PAID
    claim._history_user = actor
    claim.full_clean()
    claim.save()
    notify(
        recipients=[claim.claimant],
        title=gettext("%(number)s paid: ¥%(amount)s")
        % {"number": claim.number, "amount": f"{claim.payable:,.2f}"},
        url=claim.get_absolute_url(),
        kind="finance.claim_paid",
    )
    return claim


def claim_withdraw(*, actor, claim: ExpenseClaim, reason: str = "") -> ApprovalRequest:
    """Withdraw a claim in approval (before the first decision); the hook releases the budget."""
    latest = approvals.latest_request(claim)
    if latest is None or claim.claimant_id != actor.pk:
        raise PermissionDenied(MSG_NOT_CLAIMANT)
    return approvals.request_withdraw(actor=actor, request=latest, reason=reason)


def handover_claims(from_user, to_user, actor) -> int:
    """离职继承: drafts and claims sent back (not yet in approval) pass to the successor; claims
    in approval or approved stay with the person who spent the money and is to be reimbursed."""
    moved = ExpenseClaim.objects.filter(claimant=from_user, status__in=CLAIM_EDITABLE).update(
        claimant=to_user, updated_by=actor
    )
    moved += ExpenseRequest.objects.filter(
        owner=from_user,
        status__in=[DocStatus.DRAFT, DocStatus.RETURNED, DocStatus.REJECTED, DocStatus.WITHDRAWN],
    ).update(owner=to_user, updated_by=actor)
    return moved
