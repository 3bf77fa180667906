"""Demo organisation: 华东智联科技股份有限公司 with its marketing department (R2.1)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from stdnum.cn import ric

from marketdesk.core.demo import DemoStep, register_demo_step

from . import services
from .models import Company, Department, Employee, Role
from .roles import sync_shipped_roles  # noqa: F401

DEMO_PASSWORD = "MarketDesk2026"  # noqa: S105 (the published demo password)

UNITS = [
    # code, name, kind, parent code
    ("GM", "总经办", "management", None),
    ("MKT", "营销部", "department", None),
    ("MKT-PRO", "市场推广组", "group", "MKT"),
    ("MKT-S1", "销售一组", "group", "MKT"),
    ("MKT-S2", "销售二组", "group", "MKT"),
    ("FIN", "财务部", "department", None),
    ("CS", "客服部", "department", None),
    ("PRD", "生产部", "department", None),
    ("LOG", "物流部", "department", None),
]

PEOPLE = [
    # username, name, unit, position, supervisor, roles, head of, mobile, gender, address
    (
        "liujg",
        "刘建国",
        "GM",
        "总经理",
        None,
        ["management"],
        "GM",
        "13901210001",
        "M",
        "上海市浦东新区张江路88弄12号",
    ),
    (
        "zhangwei",
        "张伟",
        "MKT",
        "营销部经理",
        "liujg",
        ["marketing_manager"],
        "MKT",
        "13801210002",
        "M",
        "上海市徐汇区漕溪北路398号",
    ),
    (
        "chenjing",
        "陈静",
        "MKT-PRO",
        "推广组组长",
        "zhangwei",
        ["group_leader", "promotion"],
        "MKT-PRO",
        "13601210003",
        "F",
        "上海市闵行区七莘路1200弄5号",
    ),
    (
        "zhaolei",
        "赵磊",
        "MKT-PRO",
        "推广专员",
        "chenjing",
        ["promotion"],
        None,
        "13701210004",
        "M",
        "上海市长宁区天山路600号",
    ),
    (
        "liqiang",
        "李强",
        "MKT-S1",
        "销售组长",
        "zhangwei",
        ["group_leader", "salesperson"],
        "MKT-S1",
        "13501210005",
        "M",
        "江苏省苏州市工业园区星湖街328号",
    ),
    (
        "wangfang",
        "王芳",
        "MKT-S1",
        "销售代表",
        "liqiang",
        ["salesperson"],
        None,
        "13801210006",
        "F",
        "上海市静安区南京西路1266号",
    ),
    (
        "sunhao",
        "孙浩",
        "MKT-S1",
        "销售代表",
        "liqiang",
        ["salesperson"],
        None,
        "15001210007",
        "M",
        "上海市杨浦区国定路335号",
    ),
    (
        "zhoumin",
        "周敏",
        "MKT-S2",
        "销售组长",
        "zhangwei",
        ["group_leader", "salesperson"],
        "MKT-S2",
        "15801210008",
        "F",
        "浙江省杭州市西湖区文三路90号",
    ),
    (
        "wutao",
        "吴涛",
        "MKT-S2",
        "销售代表",
        "zhoumin",
        ["salesperson"],
        None,
        "18601210009",
        "M",
        "浙江省宁波市鄞州区天童南路588号",
    ),
    (
        "zhengli",
        "郑丽",
        "MKT-S2",
        "销售代表",
        "zhoumin",
        ["salesperson"],
        None,
        "18801210010",
        "F",
        "江苏省南京市建邺区江东中路108号",
    ),
    (
        "huangting",
        "黄婷",
        "CS",
        "客服主管",
        "liujg",
        ["customer_service"],
        "CS",
        "13901210011",
        "F",
        "上海市普陀区真北路818号",
    ),
    (
        "hejia",
        "何佳",
        "CS",
        "客服专员",
        "huangting",
        ["customer_service"],
        None,
        "13601210012",
        "F",
        "上海市宝山区牡丹江路1211号",
    ),
    (
        "malihua",
        "马丽华",
        "FIN",
        "财务经理",
        "liujg",
        ["finance"],
        "FIN",
        "13701210013",
        "F",
        "上海市黄浦区人民大道200号",
    ),
    (
        "linzy",
        "林志远",
        "PRD",
        "生产经理",
        "liujg",
        [],
        "PRD",
        "13501210014",
        "M",
        "江苏省昆山市前进西路1801号",
    ),
    (
        "guofeng",
        "郭峰",
        "LOG",
        "物流经理",
        "liujg",
        [],
        "LOG",
        "15001210015",
        "M",
        "上海市嘉定区墨玉南路1055号",
    ),
    (
        "admin",
        "系统管理员",
        "GM",
        "IT管理员",
        "liujg",
        ["administrator"],
        None,
        "15801210016",
        "M",
        "上海市浦东新区世纪大道100号",
    ),
]


def _id_number(index: int, gender: str) -> str:
    birth = datetime.date(1980 + index % 15, 1 + index % 12, 1 + index % 27)
    sequence = 10 + index * 2 + (1 if gender == "M" else 0)
    body = f"{('310104', '310101', '110105')[index % 3]}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def build_org() -> str:
    sync_shipped_roles()
    if Company.objects.exists() and Employee.objects.exists():
        return "already present"
    user_model = get_user_model()
    # The account that builds the demo and runs scheduled jobs; it has no password, so no one signs in as it.
    actor = user_model.objects.filter(
        username="system"
    ).first() or user_model.objects.create_superuser(username="system", password=None, name="系统")
    Company.objects.update_or_create(
        pk=Company.objects.values_list("pk", flat=True).first(),
        defaults={
            "name": "华东智联科技股份有限公司",
            "short_name": "华东智联",
            "credit_code": "91310115MA1K3YJ52U",
            "fiscal_year_start_month": 1,
            "currency": "CNY",
            "default_language": "zh-hans",
        },
    )
    units: dict[str, Department] = {}
    for order, (code, name, kind, parent) in enumerate(UNITS):
        units[code] = services.department_create(
            actor=actor, name=name, code=code, kind=kind, parent=units.get(parent), sort_order=order
        )
    positions = {}
    roles = {role.code: role for role in Role.objects.all()}
    people: dict[str, Employee] = {}
    for index, (
        username,
        name,
        unit,
        position,
        boss,
        role_codes,
        heads,
        mobile,
        gender,
        address,
    ) in enumerate(PEOPLE):
        if position not in positions:
            positions[position] = services.position_save(actor=actor, name=position)
        people[username] = services.employee_create(
            actor=actor,
            username=username,
            name=name,
            department=units[unit],
            mobile=mobile,
            password=DEMO_PASSWORD,
            roles=[roles[c] for c in role_codes],
            position=positions[position],
            supervisor=people.get(boss) if boss else None,
            gender=gender,
            id_number=_id_number(index, gender),
            address=address,
            email=f"{username}@hdzl.example.cn",
            hire_date=datetime.date(2015 + index % 9, 1 + (index * 5) % 12, 1 + (index * 7) % 27),
        )
        if heads:
            services.department_update(actor=actor, department=units[heads], head=people[username])
    admin_user = people["admin"].user
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    return f"{len(units)} units, {len(people)} employees"


def demo_logins() -> list[tuple[str, str, str]]:
    rows = []
    for employee in (
        Employee.objects.filter(user__username__in=[p[0] for p in PEOPLE])
        .select_related("user", "department")
        .prefetch_related("roles")
    ):
        roles = "、".join(role.name for role in employee.roles.all()) or "—"
        rows.append(
            (employee.user.username, employee.user.name, f"{employee.department.name} · {roles}")
        )
    order = [p[0] for p in PEOPLE]
    return sorted(rows, key=lambda row: order.index(row[0]))


register_demo_step(
    DemoStep(10, "organisation", build_org, logins=demo_logins, password=DEMO_PASSWORD)
)
