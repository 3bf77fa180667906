"""The demo company's opportunities (step of the sales demo): the company default stage group,
a project-sales group for 销售二组, four competitors, and about 40 opportunities on the demo
customers in every stage and end state, with a stage history spread over the past months so the
funnel and the board have something to show."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from marketdesk.core.demo import DemoStep, register_demo_step
from marketdesk.crm.models import Customer
from marketdesk.org.models import Department

from ..models import Competitor, Opportunity, OpportunityStageChange, OpportunityStatus
from ..services import opportunities as services

DEFAULT_STAGES = [
    ("初步接洽", 10),
    ("需求确认", 30),
    ("方案报价", 50),
    ("商务谈判", 70),
    ("合同签订", 90),
]
# 销售二组 sells larger projects through tenders: one more step.
PROJECT_STAGES = [
    ("线索确认", 10),
    ("需求调研", 25),
    ("方案报价", 45),
    ("招投标", 60),
    ("商务谈判", 75),
    ("合同签订", 90),
]
COMPETITORS = [
    (
        "华为",
        "https://e.huawei.com",
        "品牌强，端到端方案完整，渠道覆盖广",
        "价格偏高，中小项目响应慢",
    ),
    (
        "新华三",
        "https://www.h3c.com",
        "网络产品线全，政企客户关系深",
        "工业现场经验少，定制开发周期长",
    ),
    ("浪潮", "https://www.inspur.com", "服务器与云平台价格有优势", "边缘侧产品少，行业方案薄弱"),
    ("锐捷", "https://www.ruijie.com.cn", "性价比高，教育和中小企业口碑好", "大型制造项目案例少"),
]
SELLERS = ["wangfang", "sunhao", "liqiang", "wutao", "zhengli", "zhoumin"]
TOPICS = [
    ("产线数据采集项目", 380000),
    ("边缘计算网关采购", 126000),
    ("工业云平台年度订阅", 240000),
    ("设备预测性维护试点", 180000),
    ("智能仓储改造一期", 650000),
    ("能耗监测系统", 95000),
    ("MES 系统对接", 300000),
    ("运维服务包续约", 60000),
]
WON_REASONS = [
    "技术方案获客户认可，价格在预算内，已签订合同。",
    "试点效果好，客户决定全面推广。",
    "老客户复购，交付周期比对手短两周。",
]
LOST = [
    ("价格高出对方约 12%，客户最终选择了对方。", "华为"),
    ("对方给出三年免费质保，我方未能跟进。", "新华三"),
    ("客户集团统一采购，选定了框架协议供应商。", "浪潮"),
    ("客户预算削减，项目取消。", None),
    ("对方在教育行业案例更多，客户更信任对方。", "锐捷"),
]
INVALID_REASONS = [
    "重复商机，已与同一客户的另一商机合并。",
    "客户仅询价比价，无实际采购计划。",
    "对接人已离职，需求无法确认。",
]
# (how far it got: stage index, end state) for each opportunity, in order; None = still open.
PLAN = [
    (0, None),
    (1, None),
    (2, None),
    (3, None),
    (4, None),
    (2, "won"),
    (4, "won"),
    (1, "lost"),
    (3, "lost"),
    (0, "invalid"),
    (1, None),
    (2, None),
    (3, "won"),
    (2, "lost"),
]


def build_opportunities() -> str:
    users = {u.username: u for u in get_user_model().objects.all()}
    if "wangfang" not in users or Opportunity.objects.exists():
        return "skipped"
    if not Customer.objects.filter(owner=users["wangfang"]).exists():
        return "skipped"
    system = users["system"]
    units = {d.code: d for d in Department.objects.all()}
    rng = random.Random(51)

    def stages(rows):
        return [
            {"name": name, "win_percent": percent, "sort_order": index}
            for index, (name, percent) in enumerate(rows, start=1)
        ]

    services.stage_group_save(
        actor=system, name="标准销售阶段", department=None, stages=stages(DEFAULT_STAGES)
    )
    if "MKT-S2" in units:
        services.stage_group_save(
            actor=system,
            name="项目型销售（二组）",
            department=units["MKT-S2"],
            stages=stages(PROJECT_STAGES),
        )
    rivals = {}
    for name, website, strengths, weaknesses in COMPETITORS:
        rivals[name] = Competitor.objects.filter(name=name).first() or services.competitor_save(
            actor=system, name=name, website=website, strengths=strengths, weaknesses=weaknesses
        )

    now = timezone.now()
    today = timezone.localdate()
    made = 0
    for seller_index, username in enumerate(SELLERS):
        owner = users.get(username)
        if owner is None:
            continue
        customers = list(
            Customer.objects.filter(owner=owner).prefetch_related("contacts").order_by("pk")
        )
        if not customers:
            continue
        count = 7 if seller_index < 4 else 6
        for index in range(count):
            position = (seller_index * 5 + index) % len(PLAN)
            reach, end = PLAN[position]
            customer = customers[index % len(customers)]
            contact = next(iter(customer.contacts.all()), None)
            topic, base = TOPICS[(seller_index * 3 + index) % len(TOPICS)]
            amount = Decimal(base * rng.choice([8, 9, 10, 12, 15])) / 10
            days_ago = rng.randint(20, 200)
            if end is None:
                close = today + datetime.timedelta(days=[-6, -1, 2, 5, 18, 35, 60][index % 7])
            else:
                close = (
                    now - datetime.timedelta(days=rng.randint(2, max(3, days_ago // 3)))
                ).date()
            picked = [rivals[n] for n in rng.sample(list(rivals), index % 3)]
            opportunity = services.opportunity_create(
                actor=owner,
                name=f"{customer.city.removesuffix('市')}{topic}" if customer.city else topic,
                customer=customer,
                contact=contact,
                expected_amount=amount.quantize(Decimal("0.01")),
                expected_close_date=close,
                competitors=picked,
                notes="客户关注交付周期和售后响应。" if index % 2 else "",
            )
            group_stages = list(opportunity.stage_group.stages.order_by("sort_order"))
            for stage in group_stages[1 : min(reach, len(group_stages) - 1) + 1]:
                services.opportunity_move(actor=owner, opportunity=opportunity, stage=stage)
            if end == "won":
                services.opportunity_win(
                    actor=owner, opportunity=opportunity, reason=rng.choice(WON_REASONS)
                )
            elif end == "lost":
                reason, rival = LOST[(seller_index + index) % len(LOST)]
                services.opportunity_lose(
                    actor=owner,
                    opportunity=opportunity,
                    reason=reason,
                    competitor=rivals.get(rival) if rival else None,
                )
            elif end == "invalid":
                services.opportunity_invalidate(
                    actor=owner,
                    opportunity=opportunity,
                    reason=INVALID_REASONS[index % len(INVALID_REASONS)],
                )
            _backdate(opportunity, created=now - datetime.timedelta(days=days_ago), now=now)
            made += 1
    return f"{made} opportunities, {len(rivals)} competitors"


def _backdate(opportunity: Opportunity, *, created: datetime.datetime, now) -> None:
    """Spread the opportunity's stage history from `created` towards today, so the funnel and
    the history read like months of work rather than one second."""
    changes = list(OpportunityStageChange.objects.filter(opportunity=opportunity).order_by("pk"))
    span = (now - created) * 0.8
    step = span / max(len(changes), 1)
    at = created
    for change in changes:
        OpportunityStageChange.objects.filter(pk=change.pk).update(at=at)
        last = at
        at = at + step
    fields = {"created_at": created}
    if opportunity.status != OpportunityStatus.OPEN:
        fields["closed_at"] = last
    Opportunity.objects.filter(pk=opportunity.pk).update(**fields)


register_demo_step(DemoStep(51, "sales.opportunities", build_opportunities))
