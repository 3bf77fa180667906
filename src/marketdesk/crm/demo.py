"""Demo customers of 华东智联科技: pools, customers with contacts, follow-ups, revisits (R5)."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from stdnum.cn import uscc

from marketdesk.core.demo import DemoStep, register_demo_step
from marketdesk.org.models import Department

from . import services
from .models import (
    CrmSettings,
    Customer,
    CustomerKind,
    CustomerPool,
    CustomerStage,
    FollowUpKind,
    Revisit,
    RevisitStatus,
)

CITIES = [
    ("上海市", "上海市", ["浦东新区", "徐汇区", "闵行区", "嘉定区"]),
    ("江苏省", "苏州市", ["工业园区", "吴中区", "昆山市"]),
    ("江苏省", "南京市", ["江宁区", "鼓楼区", "建邺区"]),
    ("浙江省", "杭州市", ["余杭区", "滨江区", "西湖区"]),
    ("浙江省", "宁波市", ["鄞州区", "北仑区"]),
    ("安徽省", "合肥市", ["蜀山区", "包河区"]),
    ("广东省", "深圳市", ["南山区", "宝安区"]),
    ("广东省", "广州市", ["天河区", "黄埔区"]),
]
PREFIXES = [
    "华信",
    "瑞丰",
    "恒通",
    "博远",
    "中科",
    "金桥",
    "新元",
    "德润",
    "天成",
    "海纳",
    "盛达",
    "鼎力",
    "宏图",
    "联创",
    "嘉禾",
    "永安",
    "明阳",
    "东方",
    "星河",
    "正泰",
]
TRADES = [
    ("智能制造", "manufacturing"),
    ("精密机械", "manufacturing"),
    ("电子科技", "it"),
    ("软件", "it"),
    ("商贸", "retail"),
    ("物流", "logistics"),
    ("医疗器械", "healthcare"),
    ("教育科技", "education"),
    ("新能源", "energy"),
    ("建设工程", "real_estate"),
    ("餐饮管理", "hospitality"),
    ("农业发展", "agriculture"),
]
PERSONS = [
    "王建华",
    "李秀英",
    "张伟民",
    "刘洋",
    "陈静",
    "杨帆",
    "赵敏",
    "黄磊",
    "周婷",
    "吴昊",
    "徐丽",
    "孙强",
    "马超",
    "朱琳",
    "胡斌",
    "郭晓燕",
    "何亮",
    "高峰",
    "林雪",
    "罗军",
]
TITLES = ["总经理", "采购经理", "技术总监", "IT 主管", "财务总监", "行政经理", "生产部长"]
PRODUCTS = [
    "智联网关 ZL-200",
    "边缘计算盒 E10",
    "工业云平台",
    "数据采集终端",
    "智能传感器套件",
    "运维服务包",
]
NOTES = [
    "电话沟通产线改造需求，对方关注交付周期和售后响应，约下周上门演示。",
    "微信发送了工业云平台方案和报价单，客户内部评估中。",
    "上门拜访采购经理，参观车间，确认 3 条产线的数据采集点位。",
    "参加客户技术交流会，演示边缘计算盒，技术总监认可方案。",
    "客户反馈预算需下季度批复，约定月底再跟进。",
    "邮件确认试点合同条款，法务审核中。",
]


def _credit_code(seed: int) -> str:
    body = f"91{310000 + seed % 90000:06d}{seed * 7919 % 10**9:09d}"[:17]
    body = body[:8] + "".join(
        "ABCDEFGHJKLMNPQRTUWXY"[int(c)] if i % 4 == 0 else c for i, c in enumerate(body[8:])
    )
    return body + uscc.calc_check_digit(body)


def _mobile(seed: int) -> str:
    return f"1{[38, 39, 58, 59, 86, 87][seed % 6]}{(seed * 104729) % 10**8:08d}"


def build_crm() -> str:
    users = {u.username: u for u in get_user_model().objects.all()}
    if "wangfang" not in users or Customer.objects.exists():
        return "skipped"
    rng = random.Random(2026)
    system = users["system"]
    manager = users["zhangwei"]
    units = {d.code: d for d in Department.objects.all()}
    CrmSettings.objects.get_or_create(pk=1)
    services.pool_save(
        actor=system,
        name="华东公海",
        department=units["MKT"],
        is_default=True,
        admins=[manager],
    )
    services.pool_save(
        actor=system,
        name="华南公海",
        provinces="广东省,福建省,广西壮族自治区",
        no_follow_up_days_a=45,
        no_follow_up_days_b=30,
        no_follow_up_days_c=20,
        daily_claim_cap=10,
        admins=[manager],
    )
    services.holding_limit_save(actor=system, department=units["MKT"], max_owned=300, max_locked=20)
    tags = {
        name: services.tag_create(actor=system, name=name, color=color)
        for name, color in [
            ("重点跟进", "danger"),
            ("老客户转介绍", "success"),
            ("展会线索", "info"),
            ("价格敏感", "warning"),
            ("政府采购", "primary"),
        ]
    }
    sellers = ["wangfang", "sunhao", "wutao", "zhengli", "liqiang", "zhoumin"]
    now = timezone.now()
    made = 0
    for index in range(96):
        province, city, districts = CITIES[index % len(CITIES)]
        prefix = PREFIXES[index % len(PREFIXES)]
        trade, industry = TRADES[(index * 7) % len(TRADES)]
        individual = index % 12 == 11
        owner_name = sellers[index % len(sellers)]
        in_pool = index % 9 == 4
        stage = [
            CustomerStage.POTENTIAL,
            CustomerStage.INTENTION,
            CustomerStage.INTENTION,
            CustomerStage.DEAL,
            CustomerStage.DEAL,
            CustomerStage.LOST,
            CustomerStage.POTENTIAL,
        ][index % 7]
        if individual:
            name = PERSONS[index % len(PERSONS)] + ("（个人）" if index % 2 else "")
        else:
            name = f"{city.removesuffix('市')}{prefix}{trade}有限公司"
        customer = services.customer_create(
            actor=users[owner_name] if not in_pool else manager,
            to_pool=in_pool,
            kind=CustomerKind.INDIVIDUAL if individual else CustomerKind.COMPANY,
            name=name,
            credit_code="" if individual else _credit_code(index + 11),
            mobile=_mobile(index + 3) if individual else "",
            industry="" if individual else industry,
            province=province,
            city=city,
            district=districts[index % len(districts)],
            address=f"{districts[index % len(districts)]}{['科技', '创新', '金桥', '星湖'][index % 4]}路{100 + index}号",
            source=[
                "exhibition",
                "referral",
                "website",
                "cold_call",
                "campaign",
                "channel",
                "wechat",
            ][index % 7],
            level="ABCBC"[index % 5],
            stage=stage,
            products_of_interest="、".join(rng.sample(PRODUCTS, 2)),
            budget=Decimal(rng.choice([50000, 120000, 300000, 800000, 1500000])),
            purchase_timing=rng.choice(["本季度", "下季度", "年底前", "明年上半年"]),
            pain_points=rng.choice(
                [
                    "产线数据靠人工抄录，报表滞后",
                    "设备故障停机多，缺少预警",
                    "多地工厂系统不统一",
                    "运维人员不足",
                ]
            ),
            birthday=datetime.date(1980 + index % 20, 1 + index % 12, 1 + index % 27)
            if individual
            else None,
            member_since=datetime.date(2023 + index % 3, 1 + index % 12, 1 + index % 27)
            if stage == CustomerStage.DEAL
            else None,
            notes="",
            tags=[tags[t] for t in rng.sample(list(tags), index % 3)],
        )
        # Spread creation over the past 18 months so the analysis has a history.
        created = now - datetime.timedelta(days=rng.randint(5, 540))
        Customer.objects.filter(pk=customer.pk).update(
            created_at=created,
            # Owned for up to 40 days: within every demo pool's "no deal" limits, so the first
            # night's pool job returns only the few customers nobody followed up.
            owned_since=max(created, now - datetime.timedelta(days=rng.randint(3, 40)))
            if not in_pool
            else None,
        )
        customer.refresh_from_db()
        made += 1
        if not individual:
            for c in range(1 + index % 3):
                services.contact_create(
                    actor=system if in_pool else users[owner_name],
                    customer=customer,
                    name=PERSONS[(index * 3 + c) % len(PERSONS)],
                    title=TITLES[(index + c) % len(TITLES)],
                    mobile=_mobile(index * 10 + c + 1000),
                    email=f"contact{index}{c}@example.cn",
                    wechat=f"wx_{index}_{c}",
                    decision_role=["decision_maker", "influencer", "purchaser"][c % 3],
                ) if not in_pool else None
        if in_pool:
            continue
        owner = users[owner_name]
        contacts = list(customer.contacts.all())
        for f in range(index % 4):
            at = now - datetime.timedelta(
                days=(f + 1) * rng.randint(3, 12), hours=rng.randint(1, 8)
            )
            if at < created:
                continue
            services.follow_up_create(
                actor=owner,
                customer=customer,
                kind=[
                    FollowUpKind.PHONE,
                    FollowUpKind.WECHAT,
                    FollowUpKind.VISIT,
                    FollowUpKind.MEETING,
                ][(index + f) % 4],
                content=NOTES[(index + f) % len(NOTES)],
                at=at,
                contacts=contacts[:1],
                latitude=Decimal("31.230416") if (index + f) % 4 == 2 else None,
                longitude=Decimal("121.473701") if (index + f) % 4 == 2 else None,
                check_in_address=f"{city}{customer.district}" if (index + f) % 4 == 2 else "",
            )
        # The newest follow-up sets the next contact: some today, some overdue, some later.
        next_at = now.replace(hour=15, minute=0, second=0, microsecond=0) + datetime.timedelta(
            days=[0, -2, 3, 7, 0, -5, 14][index % 7]
        )
        last_at = min(
            now - datetime.timedelta(hours=2 + index % 20), next_at - datetime.timedelta(days=2)
        )
        services.follow_up_create(
            actor=owner,
            customer=customer,
            kind=FollowUpKind.PHONE,
            content=NOTES[index % len(NOTES)],
            at=max(last_at, created + datetime.timedelta(hours=1)),
            next_at=max(next_at, max(last_at, created) + datetime.timedelta(days=1)),
            contacts=contacts[:1],
        ) if index % 11 else None
    # Revisits for customers with a deal: plan them, then record a few (one low score).
    services.revisits_generate()
    scores = [5, 4, 5, 3, 2, 4]
    for position, revisit in enumerate(
        Revisit.objects.filter(status=RevisitStatus.PLANNED).select_related("assignee")[:6]
    ):
        services.revisit_record(
            actor=revisit.assignee,
            revisit=revisit,
            satisfaction=scores[position],
            experience="设备运行稳定，数据看板每天在用。"
            if scores[position] >= 4
            else "安装调试周期偏长。",
            opinions="希望增加移动端报警推送。"
            if scores[position] >= 3
            else "售后响应慢，工程师两天后才到现场。",
            suggestions="建议提供季度巡检服务。",
        )
    # Export requests for more than 500 customers go to the marketing manager (R5.1.3).
    CrmSettings.objects.filter(pk=1).update(export_approval_rows=500)
    from marketdesk.approvals import services as approval_services
    from marketdesk.approvals.models import ApprovalFlow, ApproverKind, NoApprover, SelfApproval

    if not ApprovalFlow.objects.filter(doc_type="crm.customer_export").exists():
        approval_services.flow_save(
            actor=system,
            flow=None,
            fields={
                "name": "客户批量导出审批",
                "doc_type": "crm.customer_export",
                "priority": 10,
                "description": "超过 500 条的客户导出须营销部经理批准（R5.1.3 客户信息保密）",
                "self_approval": SelfApproval.SUPERVISOR,
                "no_approver": NoApprover.ADMINISTRATOR,
                "reminder_hours": 24,
            },
            departments=[],
            cc_users=[],
            steps=[
                {
                    "name": "营销部经理",
                    "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                    "department": units["MKT"],
                }
            ],
        )
    # One customer locked by its owner (a key account).
    key = Customer.objects.filter(owner=users["wangfang"], level="A").first()
    if key:
        services.customer_set_locked(actor=users["liqiang"], customer=key, locked=True)
    return f"{made} customers, {CustomerPool.objects.count()} pools"


register_demo_step(DemoStep(30, "crm", build_crm))
