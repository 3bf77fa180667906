"""Fills the CRM of a generated organisation (bench/generators.py) with customers and contacts.

`build_customers(count)` writes `count` customers and two contacts each, straight into the
tables (SQLite: `executemany` in one transaction; PostgreSQL: `COPY`), in chunks so memory
stays flat. `crm.services.customer_create` (a number, duplicate checks, history, an owner
change per customer) would take hours for a million rows; this keeps what the services keep:

- `number` from the `CUS` document sequence (C-0000001, ...), its counter left at the last
  number, so a later `customer_create` continues without a duplicate;
- `name_key` = `crm.matching.name_key(name)` (the real function, about 13 µs a name);
- owned customers: owner = an active member or leader of a sales/promotion group,
  `department` = the owner's unit, `pool` = `services.pool_for(department)` (the region's pool),
  `owned_since` set; about 5 % are in the pool (`owner` empty, `pooled_at`, a previous owner);
- valid mainland mobiles (carrier prefixes 130-199), unique over customers and contacts;
  valid unified social credit codes (python-stdnum check digit) for a third of the companies;
- one primary contact per customer (the unique constraint), a second contact.

Distribution: owners weighted (log-normal, so some salespeople hold 3-4 times the median),
levels A/B/C 15/45/40 %, stages with `dormant` for customers not contacted in 180 days (the
state the nightly job leaves behind; 0.5 % are left for the next run), `last_contact_at` over
three years, skewed to the recent past (days ago = 1095 * u**3), empty for 4 %; provinces and
cities from a list of 40; 80 % companies, 20 % individuals.

Not written: history rows, owner changes, follow-ups, revisits, tags, shares.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import time
from dataclasses import dataclass

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import uscc

from marketdesk.core.models import SequenceCounter
from marketdesk.core.numbering import format_number, next_number
from marketdesk.crm import name_search
from marketdesk.crm.matching import name_key
from marketdesk.crm.models import Contact, Customer, CustomerPool
from marketdesk.org.models import Department, Employee, EmployeeStatus

from .generators import GIVEN, SURNAMES

CHUNK = 20_000
PLACES = [
    ("上海市", "上海"), ("浙江省", "杭州"), ("江苏省", "南京"), ("江苏省", "苏州"),
    ("浙江省", "宁波"), ("安徽省", "合肥"), ("江苏省", "无锡"), ("浙江省", "温州"),
    ("广东省", "广州"), ("广东省", "深圳"), ("广东省", "东莞"), ("广东省", "佛山"),
    ("福建省", "厦门"), ("福建省", "福州"), ("广西壮族自治区", "南宁"), ("海南省", "海口"),
    ("北京市", "北京"), ("天津市", "天津"), ("河北省", "石家庄"), ("山西省", "太原"),
    ("山东省", "济南"), ("山东省", "青岛"), ("湖北省", "武汉"), ("湖南省", "长沙"),
    ("河南省", "郑州"), ("江西省", "南昌"), ("四川省", "成都"), ("重庆市", "重庆"),
    ("云南省", "昆明"), ("贵州省", "贵阳"), ("陕西省", "西安"), ("甘肃省", "兰州"),
    ("宁夏回族自治区", "银川"), ("青海省", "西宁"), ("新疆维吾尔自治区", "乌鲁木齐"),
    ("辽宁省", "沈阳"), ("辽宁省", "大连"), ("吉林省", "长春"), ("黑龙江省", "哈尔滨"),
    ("内蒙古自治区", "呼和浩特"),
]  # fmt: skip
DISTRICTS = ["高新区", "经开区", "滨江区", "工业园区", "新区", "中心区", "东城区", "西城区"]
# Brand syllables of the generated customers; the import scenario uses other characters.
BRAND_CHARS = "瑞丰华泰鑫源恒达宏远盛通嘉禾永顺金诚信和安康普天润泽宇星辰弘毅明创博锐凯旭昌荣兴隆德正天成中联宝乾坤东方海峰佳美新亿万众合力启航智汇云图"
TRADES = [
    ("精密机械", "manufacturing"), ("机电设备", "manufacturing"), ("新材料", "manufacturing"),
    ("电子科技", "it"), ("信息技术", "it"), ("软件", "it"), ("网络科技", "it"),
    ("商贸", "retail"), ("贸易", "retail"), ("连锁超市", "retail"),
    ("投资", "finance"), ("保险代理", "finance"), ("置业", "real_estate"), ("建设工程", "real_estate"),
    ("教育咨询", "education"), ("医疗器械", "healthcare"), ("医药", "healthcare"),
    ("物流", "logistics"), ("供应链", "logistics"), ("能源", "energy"), ("环保科技", "energy"),
    ("餐饮管理", "hospitality"), ("酒店管理", "hospitality"), ("农业发展", "agriculture"),
    ("食品", "agriculture"), ("文化传媒", "other"), ("咨询服务", "other"),
]  # fmt: skip
LEGAL_SUFFIXES = [
    "有限公司",
    "有限公司",
    "有限公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
]
TITLES = [
    "总经理",
    "采购经理",
    "技术总监",
    "财务经理",
    "行政主管",
    "副总经理",
    "项目经理",
    "董事长",
]
PRODUCTS = ["工业云平台", "智能终端", "数据服务", "培训课程", "维保服务", "软件授权", "耗材"]
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "184", "185",
    "186", "187", "188", "189", "191", "198", "199",
]  # fmt: skip
SOURCES = [
    "campaign",
    "channel",
    "referral",
    "exhibition",
    "website",
    "cold_call",
    "wechat",
    "other",
]
DECISION_ROLES = ["decision_maker", "influencer", "user", "purchaser", "gatekeeper", "", ""]
DORMANT_DAYS = 180

CUSTOMER_COLUMNS = [
    "id", "created_at", "updated_at", "created_by_id", "updated_by_id", "number", "kind", "name",
    "name_key", "credit_code", "mobile", "industry", "province", "city", "district", "address",
    "source", "level", "stage", "owner_id", "department_id", "pool_id", "products_of_interest",
    "budget", "purchase_timing", "pain_points", "birthday", "member_since", "notes", "locked",
    "owned_since", "pooled_at", "previous_owner_id", "last_contact_at", "next_contact_at",
    "won_at", "return_reminded_at",
]  # fmt: skip
CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "created_by_id", "updated_by_id", "customer_id", "name",
    "title", "mobile", "email", "wechat", "birthday", "is_primary", "decision_role", "notes",
]  # fmt: skip


@dataclass
class GeneratedCrm:
    customers: int
    contacts: int
    pooled: int
    seconds: float = 0.0


def customers_generated() -> int:
    return Customer.objects.count()


def _check_columns() -> None:
    for model, columns in ((Customer, CUSTOMER_COLUMNS), (Contact, CONTACT_COLUMNS)):
        actual = {f.column for f in model._meta.concrete_fields}
        if actual != set(columns):
            raise RuntimeError(
                f"{model.__name__} columns changed: add {actual - set(columns)}, "
                f"drop {set(columns) - actual} in bench/crm_generators.py"
            )


class _Mobiles:
    """Unique valid mobiles: prefix by position, body from a bijection of the counter."""

    def __init__(self, start: int = 0) -> None:
        self.next = start

    def take(self) -> str:
        n = self.next
        self.next += 1
        prefix = MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]
        body = (n // len(MOBILE_PREFIXES) * 7919 + 10_000_000) % 100_000_000  # 7919: prime
        return f"{prefix}{body:08d}"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))


def _credit_code(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=9))
    return body + uscc.calc_check_digit(body)


class _Writer:
    """Rows to the database: COPY on PostgreSQL, executemany on SQLite; datetimes adapted."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def dt(self, value: datetime.datetime | None):
        """A naive UTC datetime as the column value (aware for psycopg, text for SQLite)."""
        if value is None:
            return None
        return value.replace(tzinfo=datetime.UTC) if self.postgres else value.isoformat(" ")

    def date(self, value: datetime.date | None):
        return value if value is None or self.postgres else value.isoformat()

    def flag(self, value: bool):
        return value if self.postgres else int(value)

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        names = ", ".join(columns)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (constants)
                cursor.executemany(sql, rows)


def _pools(system_id: int) -> tuple[CustomerPool, dict[int, CustomerPool]]:
    """A default pool and one pool per region (services.pool_for picks the region's)."""
    default, _ = CustomerPool.objects.get_or_create(
        name="公共公海", defaults={"is_default": True, "created_by_id": system_id}
    )
    by_region = {}
    for region in Department.objects.filter(code__regex=r"^R[0-9]+$"):
        pool, _ = CustomerPool.objects.get_or_create(
            name=f"{region.name}公海", defaults={"department": region, "created_by_id": system_id}
        )
        by_region[region.pk] = pool
    return default, by_region


def _owners(rng: random.Random, default_pool, by_region) -> list[tuple[int, int, int]]:
    """(user id, department id, pool id) of the active people of the sales and promotion
    groups, each repeated by a log-normal weight so customers spread unevenly."""
    people = (
        Employee.objects.filter(status=EmployeeStatus.ACTIVE, department__kind="group")
        .values_list("user_id", "department_id", "department__path")
        .order_by("pk")
    )
    owners = []
    for user_id, department_id, path in people:
        ancestors = [int(p) for p in path.strip("/").split("/")]
        pool = next((by_region[a] for a in reversed(ancestors) if a in by_region), default_pool)
        owners.append(((user_id, department_id, pool.pk), rng.lognormvariate(0, 0.5)))
    if not owners:
        raise RuntimeError("no salespeople: generate the organisation first (build_org)")
    return owners


@transaction.atomic
def build_customers(count: int, *, seed: int = 4, note=None) -> GeneratedCrm:
    """Write `count` customers (2 contacts each) for the salespeople of the generated org."""
    _check_columns()
    started = time.perf_counter()
    rng = random.Random(seed)
    from django.contrib.auth import get_user_model

    system_id = get_user_model().objects.get(username="system").pk
    default_pool, by_region = _pools(system_id)
    weighted = _owners(rng, default_pool, by_region)
    owners = [o for o, _ in weighted]
    weights = [w for _, w in weighted]
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)

    first_number = next_number("CUS")  # creates the sequence and counter like a first customer
    counter = SequenceCounter.objects.select_related("sequence").get(
        sequence__doc_type="CUS", period=""
    )
    number_start = int(first_number.rsplit("-", 1)[-1])
    last_customer = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_contact = Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    writer = _Writer()
    now = timezone.now().astimezone(datetime.UTC).replace(microsecond=0, tzinfo=None)
    regions = ["310000", "330100", "320500", "440300", "110000", "510100", "420100"]
    with _sqlite_bulk_load(note):
        pooled = _write_customers(
            count, rng, writer, now, system_id, counter, number_start, last_customer,
            last_contact, owners, cumulative, total, regions, started, note,
        )  # fmt: skip
    SequenceCounter.objects.filter(pk=counter.pk).update(last_value=number_start + count - 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, Contact]):
                cursor.execute(sql)
    return GeneratedCrm(
        customers=count,
        contacts=2 * count,
        pooled=pooled,
        seconds=time.perf_counter() - started,
    )


# SQLite keeps 20 indexes of the two tables and the name index (FTS5, by trigger) row by row;
# with the rows' random keys (names, mobiles, owners) every insert touches pages all over the
# file, and past the page cache that is disk work per row (200,000 customers: 17 minutes).
# Sorting each index once at the end is what a bulk load does instead.
BULK_CACHE_KB = 1_000_000


@contextlib.contextmanager
def _sqlite_bulk_load(note):
    """On SQLite: drop the secondary indexes of the customer and contact tables and the
    name-index triggers for the load, then build the indexes again (CREATE INDEX sorts),
    refill the name index in one statement and put the triggers back; a 1 GB page cache
    meanwhile. Inside the caller's transaction, so a failure leaves the schema as it was.
    Elsewhere nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    tables = (Customer._meta.db_table, Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (cache_before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KB}")
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN (%s, %s)",
            tables,
        )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for trigger in name_search.TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    try:
        yield
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for _name, sql in indexes:
                cursor.execute(sql)
            if note:
                note(f"  {len(indexes)} indexes built in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            for sql in name_search.SQLITE_REFILL:
                cursor.execute(sql)
            for sql in name_search.SQLITE_TRIGGERS:
                cursor.execute(sql)
            if note:
                note(f"  name index filled in {time.perf_counter() - started:.0f} s")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_before)}")


def _write_customers(
    count, rng, writer, now, system_id, counter, number_start, last_customer, last_contact,
    owners, cumulative, total, regions, started, note,
) -> int:  # fmt: skip
    """The rows themselves, CHUNK customers (and their contacts) at a time; returns how
    many went to the pool."""
    pooled = 0
    contact_id = last_contact
    mobiles = _Mobiles()
    for chunk_start in range(0, count, CHUNK):
        customers: list[tuple] = []
        contacts: list[tuple] = []
        for i in range(chunk_start, min(count, chunk_start + CHUNK)):
            pk = last_customer + 1 + i
            province, city = rng.choice(PLACES)
            individual = rng.random() < 0.2
            if individual:
                name = _person(rng)
                industry, credit = "", ""
            else:
                trade, industry = rng.choice(TRADES)
                brand = "".join(rng.choices(BRAND_CHARS, k=2))
                name = f"{city}{brand}{trade}{rng.choice(LEGAL_SUFFIXES)}"
                credit = _credit_code(rng, rng.choice(regions)) if rng.random() < 0.33 else ""
            mobile = mobiles.take() if individual or rng.random() < 0.5 else ""
            level = rng.choices("ABC", weights=(15, 45, 40))[0]
            contacted = (
                None
                if rng.random() < 0.04
                else now - datetime.timedelta(seconds=int(1095 * 86400 * rng.random() ** 3))
            )
            days_since = (now - contacted).days if contacted else 0
            stage = rng.choices(
                ["potential", "intention", "deal", "lost", "dormant"], weights=(35, 25, 15, 5, 20)
            )[0]
            if stage in ("potential", "intention") and days_since > DORMANT_DAYS:
                stage = "dormant" if rng.random() < 0.995 else stage
            user_id, department_id, pool_id = owners[_pick(rng, cumulative, total)]
            in_pool = rng.random() < 0.05
            if contacted:
                owned_since = contacted - datetime.timedelta(days=rng.randrange(0, 400))
            else:
                owned_since = now - datetime.timedelta(days=rng.randrange(0, 60))
            created = owned_since - datetime.timedelta(days=rng.randrange(0, 30))
            if in_pool:
                pooled += 1
                owner_id, previous_owner_id, locked = None, user_id, False
                pooled_at = now - datetime.timedelta(days=rng.randrange(0, 365))
                owned = None
            else:
                owner_id, previous_owner_id = user_id, None
                locked = rng.random() < 0.02
                pooled_at, owned = None, owned_since
            won = (contacted or owned_since) if stage == "deal" else None
            next_contact = (
                now + datetime.timedelta(days=rng.randrange(-10, 30))
                if owner_id and rng.random() < 0.3
                else None
            )
            customers.append(
                (
                    pk,
                    writer.dt(created),
                    writer.dt(contacted or created),
                    system_id,
                    system_id,
                    format_number(counter.sequence, "", number_start + i),
                    "individual" if individual else "company",
                    name,
                    name_key(name),
                    credit,
                    mobile,
                    industry,
                    province,
                    city,
                    rng.choice(DISTRICTS),
                    f"{city}{rng.choice(DISTRICTS)}人民路{rng.randrange(1, 999)}号",
                    rng.choice(SOURCES),
                    level,
                    stage,
                    owner_id,
                    department_id,
                    pool_id,
                    rng.choice(PRODUCTS) if rng.random() < 0.4 else "",
                    str(rng.randrange(1, 500) * 1000) if rng.random() < 0.3 else None,
                    "",
                    "",
                    None,
                    None,
                    "",
                    writer.flag(locked),
                    writer.dt(owned),
                    writer.dt(pooled_at),
                    previous_owner_id,
                    writer.dt(contacted),
                    writer.dt(next_contact),
                    writer.dt(won),
                    None,
                )
            )
            for primary in (True, False):
                contact_id += 1
                contacts.append(
                    (
                        contact_id,
                        writer.dt(created),
                        writer.dt(created),
                        system_id,
                        system_id,
                        pk,
                        _person(rng),
                        rng.choice(TITLES),
                        mobiles.take(),
                        f"c{contact_id}@bench.example.cn" if rng.random() < 0.3 else "",
                        f"wx{contact_id}" if rng.random() < 0.2 else "",
                        None,
                        writer.flag(primary),
                        rng.choice(DECISION_ROLES),
                        "",
                    )
                )
        writer.write(Customer._meta.db_table, CUSTOMER_COLUMNS, customers)
        writer.write(Contact._meta.db_table, CONTACT_COLUMNS, contacts)
        if note and (chunk_start // CHUNK) % 10 == 9:
            note(
                f"  {chunk_start + len(customers)} customers in {time.perf_counter() - started:.0f} s"
            )
    return pooled


def _pick(rng: random.Random, cumulative: list[float], total: float) -> int:
    import bisect

    return min(bisect.bisect_left(cumulative, rng.random() * total), len(cumulative) - 1)


def analyse() -> None:
    """Refresh the planner's statistics after a bulk load (both databases need them)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def org_size_for(customers: int) -> int:
    """Employees for `customers` customers: 20,000 for a million (about 60 per salesperson)."""
    return min(20_000, max(200, customers // 50))


def prepare(size: int, note) -> tuple[object, int]:
    """The generated organisation and customers of a CRM scenario (`size` customers), made now
    unless the bench database already holds them (`--reuse`). Returns (org, customers)."""
    from .generators import GeneratedOrg, build_org, is_generated

    if is_generated():
        org = GeneratedOrg.load()
        note(f"reusing {org.employees} employees in {org.departments} units")
    else:
        org = build_org(org_size_for(size))
        note(
            f"generated {org.employees} employees in {org.departments} units in {org.seconds:.1f} s"
        )
    existing = customers_generated()
    if existing:
        note(f"reusing {existing} customers")
        return org, existing
    started_cpu = time.process_time()
    crm = build_customers(size, note=note)
    note(
        f"generated {crm.customers} customers ({crm.pooled} in the pool) and {crm.contacts} "
        f"contacts in {crm.seconds:.1f} s (CPU {time.process_time() - started_cpu:.1f} s)"
    )
    started = time.perf_counter()
    analyse()
    note(f"ANALYZE in {time.perf_counter() - started:.1f} s")
    return org, crm.customers
