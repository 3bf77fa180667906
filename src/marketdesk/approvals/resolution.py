"""Which flow a document takes and who approves each step: turns a flow into a fixed plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketdesk.org import selectors as org_selectors
from marketdesk.org.models import Department, Employee, EmployeeStatus

from .models import ApprovalFlow, ApproverKind, Delegation, NoApprover, SelfApproval

MSG_NO_FLOW = _(
    "No approval flow is set up for %(what)s with these conditions. Ask the administrator to add one."
)
MSG_NO_ONE_ELSE = _(
    "Nobody but the submitter can approve step '%(step)s'. Ask the administrator to change the flow."
)
MSG_SELF_FORBIDDEN = _(
    "You would approve your own document at step '%(step)s', which this flow forbids. Ask the administrator to change the flow."
)


def _in_range(amount: Decimal | None, low: Decimal | None, high: Decimal | None) -> bool:
    value = amount if amount is not None else Decimal("0")
    return (low is None or value >= low) and (high is None or value <= high)


def flow_for(
    *, doc_type: str, amount: Decimal | None, category: str, department: Department | None
) -> ApprovalFlow | None:
    """The first active flow (by priority) whose amount, category and unit conditions match."""
    flows = (
        ApprovalFlow.objects.filter(doc_type=doc_type, active=True)
        .prefetch_related("departments")
        .order_by("priority", "pk")
    )
    for flow in flows:
        if not _in_range(amount, flow.min_amount, flow.max_amount):
            continue
        if flow.category_list and category not in flow.category_list:
            continue
        units = list(flow.departments.all())
        if units and (
            department is None or not any(department.path.startswith(unit.path) for unit in units)
        ):
            continue
        return flow
    return None


@dataclass
class PlannedStep:
    order: int
    name: str
    mode: str
    ratio: str | None
    approvers: list[int]
    kind: str = ""

    def as_dict(self) -> dict:
        return {
            "order": self.order,
            "name": self.name,
            "mode": self.mode,
            "ratio": self.ratio,
            "approvers": self.approvers,
            "kind": self.kind,
        }


@dataclass
class Plan:
    steps: list[PlannedStep] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(
        default_factory=list
    )  # (event action, step name) for skipped/auto steps


def administrators() -> list[int]:
    user_model = get_user_model()
    return list(
        user_model.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True, employee__isnull=False)
            | Q(employee__roles__code="administrator", employee__status=EmployeeStatus.ACTIVE)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def delegate_of(user_id: int, on=None) -> int:
    """Who acts for `user_id` on day `on` (today): an active delegate, or the user."""
    day = on or timezone.localdate()
    delegation = (
        Delegation.objects.filter(
            user_id=user_id,
            active=True,
            start_date__lte=day,
            end_date__gte=day,
            delegate__is_active=True,
        )
        .order_by("-start_date", "-pk")
        .first()
    )
    return delegation.delegate_id if delegation else user_id


def _active(ids: list[int | None]) -> list[int]:
    wanted = [i for i in ids if i]
    alive = set(
        get_user_model().objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True)
    )
    seen: set[int] = set()
    result = []
    for user_id in wanted:
        if user_id in alive and user_id not in seen:
            seen.add(user_id)
            result.append(user_id)
    return result


def _approvers(step, employee: Employee | None, department: Department | None) -> list[list[int]]:
    """Approver ids for a step; 'levels' gives one list per level (each becomes its own step)."""
    kind = step.approver_kind
    if kind == ApproverKind.USER:
        return [[step.user_id]]
    if kind == ApproverKind.ROLE:
        ids = (
            Employee.objects.filter(roles=step.role_id, status=EmployeeStatus.ACTIVE)
            .order_by("pk")
            .values_list("user_id", flat=True)
        )
        return [list(ids)]
    if kind == ApproverKind.SUPERVISOR:
        return [[employee.supervisor.user_id] if employee and employee.supervisor else []]
    if kind == ApproverKind.SUPERVISOR_LEVELS:
        chain = org_selectors.supervisor_chain(employee, step.levels) if employee else []
        return [[boss.user_id] for boss in chain] or [[]]
    if kind == ApproverKind.DEPARTMENT_HEAD:
        unit = department or (employee.department if employee else None)
        head = org_selectors.department_head(unit) if unit else None
        return [[head.user_id] if head else []]
    if kind == ApproverKind.NAMED_DEPARTMENT_HEAD:
        head = org_selectors.department_head(step.department) if step.department else None
        return [[head.user_id] if head else []]
    return [[]]


def _same_approvers(previous: PlannedStep, ids: list[int], mode: str, ratio: str | None) -> bool:
    """Asking `ids` right after `previous` would ask the same people the same question."""
    if set(previous.approvers) != set(ids):
        return False
    return len(ids) == 1 or (previous.mode == mode and previous.ratio == ratio)


def build_plan(
    *, flow: ApprovalFlow, submitter, department: Department | None, amount: Decimal | None
) -> Plan:
    """The steps and approvers of one submission. Delegation is not applied here: it depends
    on the day a step opens, so the engine applies it then (services._open_step)."""
    employee = org_selectors.employee_for_user(submitter)
    supervisor_id = employee.supervisor.user_id if employee and employee.supervisor else None
    plan = Plan()
    admins: list[int] | None = None
    skipped: tuple[int, str] | None = None  # the last step skipped because it is the submitter's

    def others(ids: list[int]) -> list[int]:
        return [i for i in ids if i != submitter.pk]

    for step in flow.steps.select_related("department").order_by("order"):
        if not _in_range(amount, step.min_amount, step.max_amount):
            continue
        groups = _approvers(step, employee, department)
        ratio = str(step.pass_ratio) if step.pass_ratio else None
        for level, raw in enumerate(groups, start=1):
            name = step.name if len(groups) == 1 else f"{step.name} ({level}/{len(groups)})"
            ids = _active(raw)
            if submitter.pk in ids:
                if flow.self_approval == SelfApproval.FORBID:
                    raise ValidationError(MSG_SELF_FORBIDDEN % {"step": name})
                ids = others(ids)
                if flow.self_approval == SelfApproval.SUPERVISOR:
                    ids = others(_active([*ids, supervisor_id]))
                if not ids:
                    plan.notes.append(("skipped", name))
                    skipped = (step.order, name)
                    continue
            if not ids:
                if flow.no_approver == NoApprover.AUTO_APPROVE:
                    plan.notes.append(("auto", name))
                    continue
                admins = administrators() if admins is None else admins
                ids = others(admins)
                if not ids:  # approving it automatically would loosen the flow's own rule
                    raise ValidationError(MSG_NO_ONE_ELSE % {"step": name})
            if plan.steps and _same_approvers(plan.steps[-1], ids, step.mode, ratio):
                continue  # the same person twice in a row approves once
            plan.steps.append(
                PlannedStep(step.order, name, step.mode, ratio, ids, step.approver_kind)
            )
    if not plan.steps and skipped is not None:
        # Every step was skipped because the submitter is its approver: the document would be
        # approved by nobody but its submitter. The supervisor, or else the administrators, decide.
        order, name = skipped
        ids = others(_active([supervisor_id])) or others(administrators())
        if not ids:
            raise ValidationError(MSG_NO_ONE_ELSE % {"step": name})
        plan.notes.remove(("skipped", name))
        plan.steps.append(PlannedStep(order, name, "any", None, ids, ApproverKind.SUPERVISOR))
    return plan


def describe_plan(plan: Plan) -> str:
    """'李强 → 张伟 → 刘建国 / 王总 (会签)' for the flow editor's preview."""
    users = {
        u.pk: u
        for u in get_user_model().objects.filter(
            pk__in={i for s in plan.steps for i in s.approvers}
        )
    }
    parts = []
    for step in plan.steps:
        names = " / ".join(str(users[i]) for i in step.approvers if i in users)
        parts.append(f"{names} ({step.name})")
    return " → ".join(parts)
