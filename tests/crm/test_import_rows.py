"""The customer import's bulk write (crm/imports.py write_customer_rows: plain executemany, no
model instances) writes exactly the rows the services write row by row (customer_create +
contact_create): every column of the customers, their history rows, owner changes and
contacts; only ids, numbers and moments differ, and those are compared by what they mean."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from openpyxl import Workbook

from marketdesk.core import imports as core_imports
from marketdesk.core.imports import ImportRowFailed, TableInsert, clean_values, model_defaults
from marketdesk.crm.imports import CUSTOMER_IMPORT
from marketdesk.crm.models import Contact, Customer, OwnerChange

pytestmark = pytest.mark.django_db

HEADER = [
    "name", "kind", "credit_code", "mobile", "industry", "province", "city", "district",
    "address", "source", "level", "stage", "owner", "products_of_interest", "budget",
    "contact_name", "contact_title", "contact_mobile", "contact_email", "birthday", "notes",
]  # fmt: skip
ROWS = [
    [
        "苏州瑞丰精密机械有限公司", "company", "91320594MA1MXXXX16", "13812340001", "manufacturing",
        "江苏省", "苏州市", "工业园区", "星湖街 328 号", "exhibition", "A", "deal", "sales1",
        "工业云平台", "300000", "王建华", "采购经理", "13812340002", "wang@example.cn", "",
        "老客户介绍",
    ],
    [
        "陈小明", "individual", "", "13812340003", "", "浙江省", "杭州市", "", "", "referral", "C",
        "intention", "", "", "", "陈小明", "", "", "chen@example.cn", "1990-05-01", "",
    ],
    [
        "合肥嘉禾食品有限公司", "", "", "", "retail", "", "", "", "", "", "", "", "manager",
        "", "12.5", "", "", "", "", "", "",
    ],
    [
        "宁波宏远物流有限公司", "company", "91310115MA1K3YJ06U", "", "logistics", "浙江省",
        "宁波市", "北仑区", "", "website", "B", "potential", "", "", "", "赵敏", "经理", "",
        "", "", "",
    ],
    [
        "杭州恒达贸易有限公司", "", "", "", "", "", "", "", "", "", "", "lost", "sales1b", "",
        "", "李娜", "", "13812340005", "", "", "备注",
    ],
]  # fmt: skip
ROW_BY_ROW = dataclasses.replace(CUSTOMER_IMPORT, clean_rows=None, write_rows=None)


def _file(rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _import(spec, actor, rows):
    parsed, errors = core_imports.validate_file(spec, _file(rows))
    assert errors == []
    assert core_imports.check_rows(spec, parsed, actor=actor, mode="create") == []
    with transaction.atomic():
        if spec.write_rows is not None:
            spec.write_rows(actor, parsed)
        else:
            for row in parsed:
                spec.write_row(actor, dict(row.values), None)


def _plain(model, **filters):
    """Every column of the rows, ordered by primary key, as the database returns them."""
    return list(model.objects.filter(**filters).order_by("pk").values())


def _tables():
    """The rows the import wrote, with ids as the customer's place in the file, numbers as
    their distance from the first, and moments as set / not set."""
    customers = _plain(Customer)
    place = {row["id"]: index for index, row in enumerate(customers)}
    first = int(customers[0]["number"].rsplit("-", 1)[-1])

    def meaning(row, drop=()):
        out = {}
        for key, value in row.items():
            if key in drop:
                continue
            if isinstance(value, datetime.datetime):
                value = "set"
            elif key in ("customer_id",) or (key == "id" and "history_id" in row):
                value = place[value]
            elif key == "number":
                prefix, _sep, serial = value.rpartition("-")
                value = (prefix, int(serial) - first)
            out[key] = value
        return out

    return {
        "customers": [meaning(row, drop=("id",)) for row in customers],
        "history": [meaning(row, drop=("history_id",)) for row in _plain(Customer.history.model)],
        "owner_changes": [meaning(row, drop=("id",)) for row in _plain(OwnerChange)],
        "contacts": [meaning(row, drop=("id",)) for row in _plain(Contact)],
    }


def test_the_bulk_write_writes_the_rows_the_services_write(personas, pool):
    _import(ROW_BY_ROW, personas.manager, ROWS)
    expected = _tables()
    Customer.objects.all().delete()
    Customer.history.all().delete()
    _import(CUSTOMER_IMPORT, personas.manager, ROWS)
    assert _tables() == expected
    assert len(expected["customers"]) == len(expected["history"]) == 5
    assert len(expected["owner_changes"]) == 5
    assert len(expected["contacts"]) == 4
    # Spot checks, so the comparison is not of two empty shapes.
    first = Customer.objects.get(name="苏州瑞丰精密机械有限公司")
    assert first.budget == decimal.Decimal("300000.00")
    assert first.won_at is not None and first.owner == personas.sales1
    assert first.name_key == "苏州瑞丰精密机械"
    assert Customer.objects.get(name="陈小明").birthday == datetime.date(1990, 5, 1)


def test_numbers_continue_the_sequence_in_file_order_without_gaps(personas, pool):
    _import(ROW_BY_ROW, personas.manager, ROWS[:2])
    before = [c.number for c in Customer.objects.order_by("pk")]
    _import(CUSTOMER_IMPORT, personas.manager, ROWS[2:])
    after = [c.number for c in Customer.objects.order_by("pk")][2:]
    last = int(before[-1].rsplit("-", 1)[-1])
    assert [int(n.rsplit("-", 1)[-1]) for n in after] == [last + 1, last + 2, last + 3]
    assert [c.name for c in Customer.objects.order_by("number")][2:] == [r[0] for r in ROWS[2:]]


def test_imported_names_are_found_by_the_name_search(personas, pool):
    from marketdesk.crm.name_search import name_condition

    _import(CUSTOMER_IMPORT, personas.manager, ROWS)
    found = Customer.objects.filter(name_condition("瑞丰精密"))
    assert [c.name for c in found] == ["苏州瑞丰精密机械有限公司"]


def test_a_row_refused_by_the_bulk_write_leaves_nothing(personas, pool):
    rows = [ROWS[0], [*ROWS[2][:12], "sales1", *ROWS[2][13:]]]
    rows[1][0] = "x" * 101  # longer than the name column: refused by the model's checks
    parsed, errors = core_imports.validate_file(CUSTOMER_IMPORT, _file(rows))
    assert errors == []
    with pytest.raises(ImportRowFailed) as failed, transaction.atomic():
        CUSTOMER_IMPORT.write_rows(personas.manager, parsed)
    assert failed.value.number == 3
    assert list(failed.value.error.message_dict) == ["name"]
    assert not Customer.objects.exists() and not OwnerChange.objects.exists()


class TestCleanValues:
    """core.imports.clean_values: Model.clean_fields on a dict, with the same errors."""

    @pytest.mark.parametrize(
        "changes",
        [
            {},
            {"name": ""},
            {"name": "x" * 101},
            {"name": "a\x00b"},
            {"kind": "robot"},
            {"level": "Z", "stage": "nope"},
            {"budget": decimal.Decimal("-1")},
            {"budget": decimal.Decimal("1234567890123.45")},
            {"province": "省" * 21},
        ],
    )
    def test_it_reports_what_clean_fields_reports(self, changes):
        exclude = ["number", "name_key", "owner", "department", "pool", "previous_owner"]
        exclude += ["created_by", "updated_by"]
        values = model_defaults(
            Customer, created_at=datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)
        )
        values.update({"name": "客户", **changes})
        instance = Customer(**{k: v for k, v in values.items()})
        try:
            instance.clean_fields(exclude=exclude)
            expected = None
        except Exception as exc:  # noqa: BLE001 (compared below)
            expected = exc.message_dict
        try:
            clean_values(Customer, values, exclude=exclude)
            got = None
        except Exception as exc:  # noqa: BLE001
            got = exc.message_dict
        assert got == expected


def test_table_insert_converts_values_as_django_does(personas):
    """A Decimal, a date and an aware datetime go in as the ORM would send them."""
    moment = datetime.datetime(2026, 3, 4, 2, 0, tzinfo=datetime.UTC)
    values = model_defaults(
        Customer,
        created_at=moment,
        updated_at=moment,
        number="T-1",
        name="测试",
        name_key="测试",
        budget=decimal.Decimal("12.50"),
        birthday=datetime.date(2000, 1, 2),
        locked=False,
    )
    table = TableInsert(Customer)
    table.insert([table.row(values)])
    saved = Customer.objects.get(number="T-1")
    assert (saved.created_at, saved.budget, saved.birthday) == (
        moment,
        decimal.Decimal("12.50"),
        datetime.date(2000, 1, 2),
    )


def test_the_write_gives_sqlite_its_page_cache_back(personas, pool):
    """core.imports runs the write with a smaller SQLite page cache, then restores it."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
    upload = SimpleUploadedFile("customers.xlsx", _file(ROWS).getvalue())
    job = core_imports.import_job_start(actor=personas.manager, kind="crm.customer", upload=upload)
    assert (job.status, job.created_count) == ("done", 5)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone() == (before,)
