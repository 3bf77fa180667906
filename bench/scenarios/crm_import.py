"""CRM customer import: an xlsx of IMPORT_ROWS (100,000) new customers through the real path.

On `--size` customers already in the database (default 1,000,000; duplicates are checked
against all of them) it writes a workbook with openpyxl (write-only; the template's
headers, one customer and its contact per row: 90 % owned by salespeople of the marketing
department, 10 % into the pool; names, credit codes and mobiles new), then imports it as the
marketing manager with `core.imports.import_job_start` (the function the upload page and the
API call), run in this process: read and parse every cell, check every row (owners,
duplicates in the file and against the database), then write all rows in one transaction.

Figures: rows, file size, the job's outcome and created count, seconds (wall and CPU) of the
whole import and of its phases (read and parse / check / write), the peak resident memory of
the process during the import (`VmHWM`, reset before the import via /proc/self/clear_refs)
and its growth over the resident memory before, and the rows written (customers, contacts,
owner changes, history rows). `IMPORT_MAX_ROWS` is raised to IMPORT_ROWS for the run (the
shipped default is 50,000) and `IMPORT_SYNC_ROWS` so the job runs here, not on a worker."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.encoding import force_str
from openpyxl import Workbook

from bench.crm_generators import PLACES, TRADES, _credit_code, _Mobiles, prepare
from bench.timing import Figure
from marketdesk.core import imports as core_imports
from marketdesk.crm.imports import CUSTOMER_IMPORT
from marketdesk.crm.models import Contact, Customer, OwnerChange
from marketdesk.org.models import Department, Employee, EmployeeStatus

DEFAULT_SIZE = 1_000_000
NEEDS_ORG = False
IMPORT_ROWS = 100_000
# Brand syllables not used by the generated customers, so imported names are new.
IMPORT_CHARS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥松柏竹梅兰菊桂枫桐杉楠槐柳杨梧桑"
FIELDS = [
    "name", "kind", "credit_code", "mobile", "industry", "province", "city", "district",
    "address", "source", "level", "stage", "owner", "products_of_interest", "budget",
    "contact_name", "contact_title", "contact_mobile", "contact_email",
]  # fmt: skip


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _workbook(rows: int, owners: list[str]) -> bytes:
    rng = random.Random(11)
    mobiles = _Mobiles(start=33 * 1_000_000)  # beyond every generated mobile
    with translation.override("zh-hans"):
        headers = [force_str(CUSTOMER_IMPORT.column(f).header) for f in FIELDS]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(headers)
    names: set[str] = set()
    while len(names) < rows:
        province, city = rng.choice(PLACES)
        trade, _industry = rng.choice(TRADES)
        names.add(f"{city}{''.join(rng.choices(IMPORT_CHARS, k=3))}{trade}有限公司")
    for name in sorted(names, key=lambda _n: rng.random()):
        province, city = next((p, c) for p, c in PLACES if name.startswith(c))
        trade, industry = next((t, i) for t, i in TRADES if t in name)
        owner = rng.choice(owners) if rng.random() < 0.9 else ""
        sheet.append(
            [
                name,
                "company",
                _credit_code(rng, "440300") if rng.random() < 0.3 else "",
                mobiles.take() if rng.random() < 0.5 else "",
                industry,
                province,
                city,
                "高新区",
                f"科技路{rng.randrange(1, 999)}号",
                rng.choice(["exhibition", "website", "referral", "cold_call"]),
                rng.choice("ABC"),
                rng.choice(["potential", "intention"]),
                owner,
                "工业云平台" if rng.random() < 0.3 else "",
                str(rng.randrange(1, 100) * 10000) if rng.random() < 0.3 else "",
                "王建华",
                "采购经理",
                mobiles.take(),
                "",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _timed(name: str, phases: dict[str, list[float]]):
    original = getattr(core_imports, name)

    def wrapper(*args, **kwargs):
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            phases[name] = [time.perf_counter() - started, time.process_time() - started_cpu]

    setattr(core_imports, name, wrapper)
    return original


def run(*, org, size, note):
    org, customers = prepare(size, note)
    yield Figure("crm_customers", customers, "rows")
    marketing = Department.objects.get(code="MKT")
    owners = list(
        Employee.objects.filter(
            status=EmployeeStatus.ACTIVE,
            department__kind="group",
            department__path__startswith=marketing.path,
        ).values_list("user__username", flat=True)
    )
    started = time.perf_counter()
    content = _workbook(IMPORT_ROWS, owners)
    note(
        f"wrote the workbook ({len(content) / 2**20:.1f} MB) in {time.perf_counter() - started:.1f} s"
    )
    yield Figure("crm_import_rows", IMPORT_ROWS, "rows")
    yield Figure("crm_import_file_mb", len(content) / 2**20, "MB")
    settings.IMPORT_MAX_ROWS = max(getattr(settings, "IMPORT_MAX_ROWS", 0), IMPORT_ROWS)
    settings.IMPORT_SYNC_ROWS = IMPORT_ROWS + 1
    before = {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "owner_changes": OwnerChange.objects.count(),
        "history": Customer.history.count(),
    }
    phases: dict[str, list[float]] = {}
    originals = {name: _timed(name, phases) for name in ("validate_file", "check_rows")}
    upload = SimpleUploadedFile("客户导入.xlsx", content)
    rss_before = _rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (peak RSS) to the current RSS
    started, started_cpu = time.perf_counter(), time.process_time()
    with translation.override("zh-hans"):
        job = core_imports.import_job_start(
            actor=org.manager, kind="crm.customer", upload=upload, language="zh-hans"
        )
    seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    peak = _rss_kb("VmHWM")
    for name, original in originals.items():
        setattr(core_imports, name, original)
    note(f"job {job.pk}: {job.status}, created {job.created_count}, errors {job.errors[:3]}")
    yield Figure("crm_import_ok", int(job.status == "done"), "bool")
    yield Figure("crm_import_created", job.created_count, "rows")
    yield Figure("crm_import_seconds", seconds, "s")
    yield Figure("crm_import_cpu_seconds", cpu, "s")
    parse = phases.get("validate_file", [0, 0])
    check = phases.get("check_rows", [0, 0])
    yield Figure("crm_import_parse_seconds", parse[0], "s")
    yield Figure("crm_import_parse_cpu_seconds", parse[1], "s")
    yield Figure("crm_import_check_seconds", check[0], "s")
    yield Figure("crm_import_check_cpu_seconds", check[1], "s")
    yield Figure("crm_import_write_seconds", seconds - parse[0] - check[0], "s")
    yield Figure("crm_import_peak_rss_mb", peak / 1024, "MB")
    yield Figure("crm_import_rss_growth_mb", (peak - rss_before) / 1024, "MB")
    after = {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "owner_changes": OwnerChange.objects.count(),
        "history": Customer.history.count(),
    }
    for key, value in after.items():
        yield Figure(f"crm_import_new_{key}", value - before[key], "rows")
