"""Budget control (R7.2.1): the only code that moves a line's figures.

Every movement happens inside the caller's transaction, on line rows locked with
`select_for_update` in ascending id order (so two transactions that need the same lines always
take them in the same order and cannot deadlock; on SQLite the IMMEDIATE transaction
serialises writers instead). Each movement updates the columns and writes a BudgetEntry, so
the columns can be recomputed from the ledger. Over- and near-budget alerts go to the unit
head once per threshold crossing."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Model, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketdesk.core.notifications import notify

from ..models import (
    ZERO,
    BudgetEntry,
    BudgetLine,
    ControlMode,
    DocStatus,
    EntryKind,
    FinanceSettings,
)

MSG_OVER_BUDGET = _(
    "Over budget: %(line)s has ¥%(available)s available, ¥%(needed)s is needed. "
    "Ask for a supplementary budget first."
)
MSG_LINE_NOT_APPROVED = _("The budget of this line is not approved yet.")

ALERT_NONE, ALERT_NEAR, ALERT_OVER = 0, 1, 2


class OverBudget(ValidationError):
    """A hard-controlled line has too little left; carries what a supplement needs."""

    def __init__(self, line: BudgetLine, needed: Decimal, field: str = "budget_line"):
        self.line = line
        self.needed = needed
        self.shortfall = needed - line.available
        message = MSG_OVER_BUDGET % {
            "line": line,
            "available": f"{line.available:,.2f}",
            "needed": f"{needed:,.2f}",
        }
        super().__init__({field: [message]}, code="over_budget")


def settings_get() -> FinanceSettings:
    row = FinanceSettings.objects.order_by("pk").first()
    if row is None:
        row = FinanceSettings.objects.create()
    return row


def lock_lines(ids: Iterable[int]) -> dict[int, BudgetLine]:
    """Lock the lines, in ascending id order, and return them fresh from the database."""
    wanted = sorted({int(i) for i in ids})
    rows = BudgetLine.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
    return {row.pk: row for row in rows}


def check_room(line: BudgetLine, needed: Decimal, *, field: str = "budget_line") -> None:
    """Refuse under hard control when the line cannot take `needed` more (line must be locked)."""
    if line.budget.status != DocStatus.APPROVED:
        raise ValidationError({field: [MSG_LINE_NOT_APPROVED]})
    if line.mode == ControlMode.BLOCK and needed > line.available:
        raise OverBudget(line, needed, field)


def move(
    line: BudgetLine,
    kind: str,
    amount: Decimal,
    *,
    actor=None,
    source: Model | None = None,
    note: str = "",
) -> None:
    """Apply one movement to a locked line: columns and ledger together."""
    if amount <= 0:
        return
    if kind == EntryKind.COMMIT:
        line.committed += amount
    elif kind == EntryKind.RELEASE:
        line.committed -= amount
    elif kind == EntryKind.SPEND:
        line.committed -= amount
        line.spent += amount
    elif kind == EntryKind.UNSPEND:
        line.spent -= amount
    elif kind == EntryKind.SUPPLEMENT:
        line.supplement += amount
    elif kind == EntryKind.TRANSFER_IN:
        line.transfer_in += amount
    elif kind == EntryKind.TRANSFER_OUT:
        line.transfer_out += amount
    else:  # pragma: no cover (a programming error)
        raise ValueError(kind)
    BudgetLine.objects.filter(pk=line.pk).update(
        committed=line.committed,
        spent=line.spent,
        supplement=line.supplement,
        transfer_in=line.transfer_in,
        transfer_out=line.transfer_out,
    )
    BudgetEntry.objects.create(
        line=line,
        kind=kind,
        amount=amount,
        source_type=ContentType.objects.get_for_model(source) if source is not None else None,
        source_id=source.pk if source is not None else None,
        source_label=str(getattr(source, "number", "") or "")[:60],
        note=note[:200],
        by=actor if getattr(actor, "pk", None) else None,
    )
    _alert(line)


def _level(line: BudgetLine, near_percent: int) -> int:
    total, used = line.total, line.used
    if used > total:
        return ALERT_OVER
    if total > 0 and used * 100 >= total * near_percent:
        return ALERT_NEAR
    return ALERT_NONE


def _alert(line: BudgetLine) -> None:
    """Notify the unit head when the line crosses the near or over threshold upwards; going
    back below re-arms the alert, so each crossing is told once."""
    level = _level(line, settings_get().near_percent)
    if level == line.alert_level:
        return
    previous = line.alert_level
    line.alert_level = level
    BudgetLine.objects.filter(pk=line.pk).update(alert_level=level)
    if level < previous or line.budget.status != DocStatus.APPROVED:
        return
    from marketdesk.org.selectors import department_head

    head = department_head(line.budget.department)
    recipients = [head.user] if head is not None else []
    if line.budget.owner_id and (head is None or head.user_id != line.budget.owner_id):
        recipients.append(line.budget.owner)
    if level == ALERT_OVER:
        title = gettext("Over budget: %(line)s") % {"line": line}
    else:
        title = gettext("Budget nearly used up: %(line)s") % {"line": line}
    body = gettext("Used ¥%(used)s of ¥%(total)s (%(percent)s%%).") % {
        "used": f"{line.used:,.2f}",
        "total": f"{line.total:,.2f}",
        "percent": line.usage_percent,
    }
    notify(
        recipients=recipients,
        title=title,
        body=body,
        url=line.get_absolute_url(),
        kind="finance.budget_alert",
    )


def recompute(line: BudgetLine) -> dict[str, Decimal]:
    """The line's figures from its ledger alone (audits and tests compare them with the columns)."""
    sums = {
        row["kind"]: row["total"]
        for row in BudgetEntry.objects.filter(line=line)
        .values("kind")
        .annotate(total=Sum("amount"))
    }

    def s(kind: str) -> Decimal:
        return sums.get(kind) or ZERO

    return {
        "committed": s(EntryKind.COMMIT) - s(EntryKind.RELEASE) - s(EntryKind.SPEND),
        "spent": s(EntryKind.SPEND) - s(EntryKind.UNSPEND),
        "supplement": s(EntryKind.SUPPLEMENT),
        "transfer_in": s(EntryKind.TRANSFER_IN),
        "transfer_out": s(EntryKind.TRANSFER_OUT),
    }
