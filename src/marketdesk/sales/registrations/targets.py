"""What the targets part of sales plugs into the registries: navigation, the two scheduled jobs,
the `sales.order_amount` business metric for finance, targets as records (timeline, files) and
the RFM section of the CRM customer analysis page.

How "never more than a minute stale" holds: order and receipt services mark the cells they
change (RollupDirty) in their own transaction. The `sales.rollups` job runs every minute:
with Celery, beat sends `run_due_jobs` every 60 s (settings.CELERY_BEAT_SCHEDULE); without a
broker, `marketdesk serve` runs due jobs every 60 s in its `md-jobs` thread. Either way a mark
waits at most about a minute. When the job is late (a long job ahead of it in the same run, a
worker down), the dashboard, rankings and their API call `rollups_catch_up()` before reading:
a mark older than 50 s is processed there and then, so what they show is never more than a
minute behind the orders."""

from __future__ import annotations

import datetime

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from marketdesk.core.jobs import Job, register_job
from marketdesk.core.metrics import ORDER_AMOUNT, register_metric
from marketdesk.core.registry import NavItem, RecordType, register_nav, register_record_type
from marketdesk.crm.registry import AnalysisSection, register_analysis_section

from .. import selectors_targets as selectors
from ..models import SalesTarget
from ..permissions import SalesPerm
from ..rollups import rollups_process
from ..services.targets import rfm_compute

GROUP = _("Sales")

for item in [
    NavItem(
        "sales.dashboard",
        _("Sales dashboard"),
        "sales:dashboard",
        "speedometer2",
        SalesPerm.VIEW_DASHBOARD,
        GROUP,
        300,
    ),
    NavItem(
        "sales.targets",
        _("Sales targets"),
        "sales:target_list",
        "bullseye",
        SalesPerm.VIEW_TARGET,
        GROUP,
        301,
    ),
    NavItem(
        "sales.rankings",
        _("Sales rankings"),
        "sales:rankings",
        "trophy",
        SalesPerm.VIEW_DASHBOARD,
        GROUP,
        302,
    ),
    NavItem(
        "sales.rfm",
        _("Customer RFM"),
        "sales:rfm",
        "people",
        SalesPerm.VIEW_DASHBOARD,
        GROUP,
        303,
    ),
]:
    register_nav(item)


register_job(
    Job(
        "sales.rollups",
        lambda: f"recomputed {rollups_process()} cells",
        every_minutes=1,
        description="Recompute the sales dashboard cells changed by orders and receipts",
    )
)
register_job(
    Job(
        "sales.rfm",
        lambda: str(rfm_compute()),
        daily_at=datetime.time(3, 0),
        description="Score customers by recency, frequency and monetary value (RFM)",
    )
)

register_metric(ORDER_AMOUNT, _("Order amount"), selectors.order_amount_metric)

register_record_type(
    RecordType(
        model=SalesTarget,
        visible=lambda actor: selectors.target_list(actor=actor),
        editable=lambda actor, record: selectors.can_change_target(actor=actor, target=record),
    )
)


def _rfm_section(actor, filters) -> str:
    summary = selectors.rfm_summary(actor=actor)
    if not any(row["count"] for row in summary):
        return ""
    return render_to_string("sales/targets/_rfm_section.html", {"summary": summary})


register_analysis_section(
    AnalysisSection(
        key="sales.rfm",
        label=_("Customer value (RFM)"),
        render=_rfm_section,
        order=100,
        permission=SalesPerm.VIEW_DASHBOARD,
    )
)
