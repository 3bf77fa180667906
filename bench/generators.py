"""Builds a large organisation fast (bulk_create) with the invariants the services keep.

`build_org(size)` makes `size` employees in a tree of any depth:

    总经办 (management)   营销部 (marketing manager)   财务部  客服部  生产部  物流部
                            └ 华东大区 … 东北大区 (regional directors)
                                └ 上海分公司 … (branch managers)
                                    └ 市场推广组, 销售一组 … 销售五组 (a leader and ~11 members each)

The services (`org.services.employee_create`, `department_create`) are the only way the product
writes these rows; they are too slow for tens of thousands of rows (one transaction, a number,
Argon2 and history per employee), so this module writes the same rows in bulk and keeps what
the services guarantee:

- departments: `path` is `/<ancestor ids>/<own id>/`, `depth` is the number of ancestors,
  codes are unique, names are unique within their parent;
- employees: numbers come from the `EMP` document sequence (E-00001, ...) and its counter is
  left at the last number handed out, so `employee_create` continues without a duplicate;
- users: one per employee, with a valid, unique mainland mobile (139xxxxxxxx) as a log-in and
  an unusable password (benchmarks sign in with `force_login`);
- roles: the shipped roles, as the demo gives them (group leaders also hold salesperson or
  promotion); supervisors form a tree up to the general manager; ~2% of staff have left.

What it does not write: django-simple-history rows (the timeline of a generated record is
empty) and the audit fields beyond created_by/updated_by.
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from stdnum.cn import ric

from marketdesk.core.models import SequenceCounter
from marketdesk.core.numbering import format_number, next_number
from marketdesk.org.models import Company, Department, Employee, EmployeeStatus, Position, Role
from marketdesk.org.roles import sync_shipped_roles

GROUP_SIZE = 12  # a leader and 11 members
GROUPS_PER_BRANCH = 6  # 市场推广组 + 销售一组 … 销售五组
GROUP_NAMES = ["市场推广组", "销售一组", "销售二组", "销售三组", "销售四组", "销售五组"]
REGIONS = [
    ("华东大区", ["上海", "杭州", "南京", "苏州", "宁波", "合肥", "无锡", "温州", "常州", "嘉兴"]),
    ("华南大区", ["广州", "深圳", "东莞", "佛山", "厦门", "福州", "南宁", "海口", "珠海", "泉州"]),
    ("华北大区", ["北京", "天津", "石家庄", "太原", "济南", "青岛", "呼和浩特", "唐山", "烟台"]),
    ("华中大区", ["武汉", "长沙", "郑州", "南昌", "宜昌", "襄阳", "洛阳", "株洲", "九江"]),
    ("西南大区", ["成都", "重庆", "昆明", "贵阳", "绵阳", "南充", "遵义", "曲靖", "拉萨"]),
    ("西北大区", ["西安", "兰州", "银川", "西宁", "乌鲁木齐", "宝鸡", "咸阳", "榆林"]),
    ("东北大区", ["沈阳", "大连", "长春", "哈尔滨", "吉林", "鞍山", "大庆", "齐齐哈尔"]),
]
OTHER_UNITS = [("FIN", "财务部", "finance"), ("CS", "客服部", "customer_service"),
               ("PRD", "生产部", None), ("LOG", "物流部", None)]  # fmt: skip
OTHER_SHARE = 0.04  # of all staff, per other unit
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉萍红鹏飞建国志远浩婷佳晨欣怡子涵宇轩梓睿博文雨泽思彤嘉俊晓峰海燕丹凯琳慧颖健斌波宁瑶倩雪梅鑫"
POSITIONS = ["总经理", "总经办专员", "营销部经理", "大区总监", "分公司经理", "推广组组长",
             "推广专员", "销售组长", "销售代表", "部门经理", "专员"]  # fmt: skip


@dataclass
class GeneratedOrg:
    """The generated organisation and the people the scenarios act as."""

    employees: int
    departments: int
    management: object  # 总经理: role management, scope all
    manager: object  # 营销部经理: marketing manager, scope 营销部 and below
    region: object  # 华东大区总监: marketing manager role, scope one region and below
    leader: object  # leader of the first 销售一组: group leader + salesperson, scope own group
    salesperson: object  # a member of that group: own records only
    seconds: float = 0.0

    @classmethod
    def load(cls, seconds: float = 0.0) -> GeneratedOrg:
        """Find the actors in an organisation made by `build_org` (also in a reused database)."""

        def head(code: str):
            return Department.objects.select_related("head__user").get(code=code).head.user

        groups = Department.objects.filter(kind="group").order_by("path")
        group = groups.filter(code__endswith="-G2").first() or groups.first()  # 销售一组
        member = (
            Employee.objects.filter(department=group, status=EmployeeStatus.ACTIVE)
            .exclude(pk=group.head_id)
            .select_related("user")
            .order_by("employee_no")
            .first()
        )
        return cls(
            employees=Employee.objects.count(),
            departments=Department.objects.count(),
            management=head("GM"),
            manager=head("MKT"),
            region=head("R1"),
            leader=group.head.user,
            salesperson=member.user,
            seconds=seconds,
        )


def is_generated() -> bool:
    return Department.objects.filter(code="R1").exists() and Employee.objects.exists()


class _Ids:
    """Primary keys handed out in advance, so paths and foreign keys are known before insert."""

    def __init__(self, model) -> None:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.next = (last or 0) + 1

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value


def _mobile(index: int) -> str:
    return f"139{index:08d}"


def _id_number(rng: random.Random, gender: str) -> str:
    birth = datetime.date(1965, 1, 1) + datetime.timedelta(days=rng.randrange(0, 13000))
    sequence = rng.randrange(0, 499) * 2 + (1 if gender == "M" else 0)
    body = f"{rng.choice(['310104', '310101', '110105', '440106', '330106'])}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def _plan(size: int) -> tuple[int, int, int]:
    """(people in each other unit, general office staff, marketing staff) adding up to size."""
    others = int(size * OTHER_SHARE) if size >= 200 else 1
    office = 3 if size >= 50 else 1
    marketing = size - office - others * len(OTHER_UNITS)
    if marketing < 4:
        raise ValueError("--size must be at least 20")
    return others, office, marketing


@transaction.atomic
def build_org(size: int, *, seed: int = 2026) -> GeneratedOrg:
    """Write an organisation of `size` employees into an empty database (after migrate)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    sync_shipped_roles()
    user_model = get_user_model()
    system = user_model.objects.filter(
        username="system"
    ).first() or user_model.objects.create_superuser(username="system", password=None, name="系统")
    Company.objects.update_or_create(
        pk=Company.objects.values_list("pk", flat=True).first(),
        defaults={"name": "基准测试有限公司", "short_name": "基准", "created_by": system},
    )
    roles = {role.code: role for role in Role.objects.all()}
    Position.objects.bulk_create(
        [Position(name=name, created_by=system, updated_by=system) for name in POSITIONS],
        ignore_conflicts=True,
    )
    positions = dict(Position.objects.values_list("name", "pk"))
    others, office, marketing = _plan(size)

    dept_ids, user_ids, employee_ids = _Ids(Department), _Ids(user_model), _Ids(Employee)
    departments: list[Department] = []
    employees: list[Employee] = []
    users: list = []
    role_rows: list[tuple[int, int]] = []  # (employee id, role id)
    unusable = make_password(None)
    first_number = next_number("EMP")  # creates the sequence and its counter like a real hire
    sequence = SequenceCounter.objects.select_related("sequence").get(
        sequence__doc_type="EMP", period=""
    )
    number_start = int(first_number.rsplit("-", 1)[-1])
    audit = {"created_by_id": system.pk, "updated_by_id": system.pk}

    def unit(code: str, name: str, kind: str, parent: Department | None, order: int) -> Department:
        pk = dept_ids.take()
        department = Department(
            id=pk,
            name=name,
            code=code,
            kind=kind,
            parent=parent,
            sort_order=order,
            path=f"{parent.path if parent else '/'}{pk}/",
            depth=(parent.depth + 1) if parent else 0,
            **audit,
        )
        departments.append(department)
        return department

    def person(department, position: str, supervisor, role_codes, *, heads=False, left=False):
        index = len(employees)
        gender = "F" if rng.random() < 0.48 else "M"
        user_id, employee_id = user_ids.take(), employee_ids.take()
        username = f"u{number_start + index:06d}"
        hired = datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randrange(0, 4800))
        users.append(
            user_model(
                id=user_id,
                username=username,
                name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                mobile=_mobile(number_start + index),
                email=f"{username}@bench.example.cn",
                password=unusable,
                is_active=not left,
            )
        )
        employee = Employee(
            id=employee_id,
            user_id=user_id,
            employee_no=format_number(sequence.sequence, "", number_start + index),
            department=department,
            position_id=positions[position],
            supervisor=supervisor,
            gender=gender,
            id_number=_id_number(rng, gender),
            address=f"{department.name}所在城市人民路{rng.randrange(1, 999)}号",
            email=f"{username}@bench.example.cn",
            hire_date=hired,
            status=EmployeeStatus.LEFT if left else EmployeeStatus.ACTIVE,
            left_date=(hired + datetime.timedelta(days=400)) if left else None,
            **audit,
        )
        employees.append(employee)
        role_rows.extend((employee_id, roles[code].pk) for code in role_codes)
        if heads:
            department.head_id = employee_id
        return employee

    # Top level: general office, marketing department, the other departments.
    gm_unit = unit("GM", "总经办", "management", None, 0)
    mkt = unit("MKT", "营销部", "department", None, 1)
    gm = person(gm_unit, "总经理", None, ["management"], heads=True)
    for _ in range(office - 1):
        person(gm_unit, "总经办专员", gm, ["management"])
    manager = person(mkt, "营销部经理", gm, ["marketing_manager"], heads=True)
    for order, (code, name, role) in enumerate(OTHER_UNITS, start=2):
        department = unit(code, name, "department", None, order)
        head = person(department, "部门经理", gm, [role] if role else [], heads=True)
        for _ in range(others - 1):
            person(department, "专员", head, [role] if role else [])

    # Marketing: regions > branches > groups; each branch costs a head and GROUPS_PER_BRANCH groups.
    per_branch = 1 + GROUPS_PER_BRANCH * GROUP_SIZE
    branches = max(1, round(marketing / per_branch))
    regions = min(len(REGIONS), branches)
    remaining = marketing - 1 - regions  # the marketing manager and the regional directors
    region_units, region_heads = [], []
    for r in range(regions):
        region = unit(f"R{r + 1}", REGIONS[r][0], "department", mkt, r)
        region_units.append(region)
        region_heads.append(person(region, "大区总监", manager, ["marketing_manager"], heads=True))
    groups: list[tuple[Department, list[str]]] = []
    group_heads: dict[int, Employee] = {}
    branches = max(1, min(branches, remaining // 3))  # room for a head and a 2-person group each
    remaining -= branches  # branch heads
    total_groups = min(branches * GROUPS_PER_BRANCH, max(branches, round(remaining / GROUP_SIZE)))
    for b in range(branches):
        r = b % regions
        region, cities = region_units[r], REGIONS[r][1]
        city_index = b // regions
        city = cities[city_index % len(cities)]
        if city_index >= len(cities):
            city += str(city_index // len(cities) + 1)
        branch = unit(f"R{r + 1}-B{city_index + 1}", f"{city}分公司", "department", region, b)
        branch_head = person(
            branch, "分公司经理", region_heads[r], ["marketing_manager"], heads=True
        )
        count = total_groups // branches + (1 if b < total_groups % branches else 0)
        for g in range(count):
            group = unit(f"{branch.code}-G{g + 1}", GROUP_NAMES[g], "group", branch, g)
            kind = "promotion" if g == 0 else "salesperson"
            groups.append((group, [kind]))
            group_heads[group.pk] = branch_head
    # Leaders first (one per group), then members round-robin, so every group has a leader.
    members = remaining - len(groups)
    leaders = {}
    for group, (kind,) in groups:
        title = "推广组组长" if kind == "promotion" else "销售组长"
        leaders[group.pk] = person(
            group, title, group_heads[group.pk], ["group_leader", kind], heads=True
        )
    for i in range(members):
        group, (kind,) = groups[i % len(groups)]
        title = "推广专员" if kind == "promotion" else "销售代表"
        person(group, title, leaders[group.pk], [kind], left=(i % 50 == 49))

    Department.objects.bulk_create(departments, batch_size=2000)
    user_model.objects.bulk_create(users, batch_size=2000)
    Employee.objects.bulk_create(employees, batch_size=2000)
    through = Employee.roles.through
    through.objects.bulk_create(
        [through(employee_id=e, role_id=r) for e, r in role_rows], batch_size=5000
    )
    SequenceCounter.objects.filter(pk=sequence.pk).update(
        last_value=number_start + len(employees) - 1
    )
    if connection.vendor == "postgresql":  # explicit ids do not move the id sequences
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Department, user_model, Employee]
            ):
                cursor.execute(sql)
    seconds = time.perf_counter() - started
    return GeneratedOrg.load(seconds=seconds)
