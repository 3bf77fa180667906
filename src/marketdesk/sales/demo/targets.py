"""The demo company's 2026 sales targets (step 54 of the demo): order amount and receipts for
华东智联科技 as a whole, 销售一组, 销售二组 and each salesperson, spread over the months with the
company's seasonality (a quiet February around the Spring Festival, strong June and December).
Then the dashboard rollups are rebuilt from the demo orders and receipts, and customers get
their RFM scores."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from marketdesk.core.demo import DemoStep, register_demo_step
from marketdesk.org.models import Department

from ..models import SalesTarget, TargetMetric, TargetSubject
from ..services import targets as services

YEAR = 2026
# Share of the year per month (%), January first: Spring Festival in February, mid-year and
# year-end pushes.
SEASON = [7, 5, 8, 8, 9, 10, 8, 8, 9, 9, 9, 10]
RECEIPT_SHARE = Decimal("0.90")  # receipts targets: 90 % of the order amount
COMPANY = Decimal("12000000")
UNITS = {"MKT-S1": Decimal("6500000"), "MKT-S2": Decimal("5500000")}
PEOPLE = {
    "liqiang": Decimal("2500000"),
    "wangfang": Decimal("2200000"),
    "sunhao": Decimal("1800000"),
    "zhoumin": Decimal("2200000"),
    "wutao": Decimal("1800000"),
    "zhengli": Decimal("1500000"),
}


def _set(actor, *, subject: str, annual: Decimal, department=None, user=None) -> int:
    made = 0
    for metric, share in ((TargetMetric.ORDER_AMOUNT, 1), (TargetMetric.RECEIPTS, RECEIPT_SHARE)):
        exists = SalesTarget.objects.filter(year=YEAR, metric=metric, subject=subject)
        if department is not None and subject == TargetSubject.DEPARTMENT:
            exists = exists.filter(department=department)
        if user is not None:
            exists = exists.filter(user=user)
        if exists.exists():
            continue
        total = (annual * Decimal(share)).quantize(Decimal("0.01"))
        services.target_create(
            actor=actor,
            year=YEAR,
            metric=metric,
            subject=subject,
            department=department,
            user=user,
            months=services.split_months(total, SEASON),
        )
        made += 1
    return made


def build_targets() -> str:
    users = get_user_model().objects
    manager = users.filter(username="zhangwei").first()
    if manager is None:
        return "skipped: the demo organisation (step org) is missing"
    made = _set(manager, subject=TargetSubject.COMPANY, annual=COMPANY)
    for code, annual in UNITS.items():
        unit = Department.objects.filter(code=code).first()
        if unit is not None:
            made += _set(manager, subject=TargetSubject.DEPARTMENT, annual=annual, department=unit)
    for username, annual in PEOPLE.items():
        person = users.filter(username=username).first()
        if person is not None:
            made += _set(manager, subject=TargetSubject.PERSON, annual=annual, user=person)
    rollups = services.rollups_rebuild()
    rfm = services.rfm_compute()
    return (
        f"{made} targets for {YEAR}; {rollups['cells']} dashboard cells; "
        f"RFM scores for {rfm['scored']} customers"
    )


register_demo_step(DemoStep(54, "sales.targets", build_targets))
