"""Demo approval flows and requests (R4.1, R7.2.2 authority levels on the general form)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from marketdesk.core.demo import DemoStep, register_demo_step
from marketdesk.org.models import Department

from . import general, services
from .models import ApprovalFlow, ApproverKind, NoApprover, SelfApproval, StepMode


def build_approvals() -> str:
    users = {u.username: u for u in get_user_model().objects.all()}
    if "wangfang" not in users or ApprovalFlow.objects.exists():
        return "skipped"
    system = users["system"]
    units = {d.code: d for d in Department.objects.all()}
    services.flow_save(
        actor=system,
        flow=None,
        fields={
            "name": "通用审批（按金额分级）",
            "doc_type": "approvals.general",
            "priority": 10,
            "description": "≤¥5,000 直属上级；≤¥50,000 加营销部经理；以上加总经理（R7.2.2 分级审批权限）",
            "self_approval": SelfApproval.SKIP,
            "no_approver": NoApprover.ADMINISTRATOR,
            "reminder_hours": 24,
            "escalate_hours": 72,
            "escalate_to": users["zhangwei"],
        },
        departments=[],
        cc_users=[users["malihua"]],
        steps=[
            {"name": "直属上级", "approver_kind": ApproverKind.SUPERVISOR, "mode": StepMode.ANY},
            {
                "name": "营销部经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["MKT"],
                "mode": StepMode.ANY,
                "min_amount": Decimal("5000.01"),
            },
            {
                "name": "总经理",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["GM"],
                "mode": StepMode.ANY,
                "min_amount": Decimal("50000.01"),
            },
        ],
    )
    services.flow_save(
        actor=system,
        flow=None,
        fields={
            "name": "用印申请（会签）",
            "doc_type": "approvals.general",
            "priority": 5,
            "categories": "seal",
            "description": "公司印章使用：营销部经理与财务经理会签",
            "self_approval": SelfApproval.SUPERVISOR,
        },
        departments=[],
        cc_users=[],
        steps=[
            {"name": "直属上级", "approver_kind": ApproverKind.SUPERVISOR, "mode": StepMode.ANY},
            {
                "name": "经理会签",
                "approver_kind": ApproverKind.USER,
                "user": users["zhangwei"],
                "mode": StepMode.ANY,
            },
            {
                "name": "财务确认",
                "approver_kind": ApproverKind.NAMED_DEPARTMENT_HEAD,
                "department": units["FIN"],
                "mode": StepMode.ANY,
            },
        ],
    )
    today = timezone.localdate()
    made = []

    def make(owner, title, kind, amount, days, description):
        request = general.general_request_create(
            actor=users[owner],
            title=title,
            kind=kind,
            amount=Decimal(amount) if amount else None,
            needed_by=today + datetime.timedelta(days=days),
            description=description,
        )
        made.append(request)
        return request

    booth = make(
        "wangfang",
        "上海国际车展展位租赁",
        "event",
        "12000.00",
        20,
        "9号馆 36㎡ 标准展位，含搭建；预计接待意向客户 200 组。",
    )
    general.general_request_submit(
        actor=users["wangfang"], request=booth, comment="请尽快审批，展位紧张"
    )
    dinner = make(
        "sunhao",
        "苏州老客户答谢晚宴场地",
        "event",
        "3500.00",
        10,
        "金鸡湖畔酒店包间两桌，邀请 A 类客户 12 家。",
    )
    approval = general.general_request_submit(actor=users["sunhao"], request=dinner)
    services.task_approve(
        actor=users["liqiang"], task=approval.tasks.get(), comment="同意，注意控制人数"
    )
    brochure = make(
        "wutao",
        "产品宣传册印刷 2000 册",
        "purchase",
        "8600.00",
        15,
        "铜版纸 16P 彩印，供杭州、宁波区域拜访使用。",
    )
    approval = general.general_request_submit(actor=users["wutao"], request=brochure)
    services.task_return(
        actor=users["zhoumin"], task=approval.tasks.get(), reason="请补充三家印刷厂比价单"
    )
    seal = make(
        "zhaolei",
        "与《都市快报》广告合作协议用印",
        "seal",
        None,
        3,
        "年度广告投放框架协议，一式两份。",
    )
    general.general_request_submit(actor=users["zhaolei"], request=seal)
    big = make(
        "liqiang",
        "华东区经销商大会",
        "event",
        "68000.00",
        45,
        "邀请 60 家经销商，含场地、餐饮、礼品与物料。",
    )
    approval = general.general_request_submit(actor=users["liqiang"], request=big)
    services.task_approve(
        actor=users["zhangwei"], task=approval.tasks.get(), comment="预算内，同意"
    )
    return f"2 flows, {len(made)} general requests"


register_demo_step(DemoStep(20, "approvals", build_approvals))
