"""The customer import's batch path (crm/imports.py clean_customer_rows / write_customer_rows,
core.imports clean_rows / write_rows): the same customers, contacts, owner changes, history
and errors as the row-by-row path through the services, in a handful of queries per batch."""

from __future__ import annotations

import dataclasses
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from openpyxl import Workbook

from marketdesk.core import imports as core_imports
from marketdesk.core.imports import ImportRowFailed
from marketdesk.crm.imports import CUSTOMER_IMPORT
from marketdesk.crm.models import Customer, OwnerChange

HEADER = ["name", "mobile", "stage", "owner", "contact_name", "contact_mobile", "province"]
ROWS = [
    ["苏州瑞丰精密机械有限公司", "13812340001", "intention", "sales1", "王建华", "13812340002", "江苏省"],
    ["杭州恒达贸易有限公司", "", "deal", "sales1b", "李娜", "13812340003", ""],
    ["宁波宏远物流有限公司", "13812340004", "potential", "", "赵敏", "13812340005", ""],
    ["合肥嘉禾食品有限公司", "", "potential", "manager", "", "", ""],
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
    errors = core_imports.check_rows(spec, parsed, actor=actor, mode="create")
    if errors:
        return errors
    try:
        with transaction.atomic():
            if spec.write_rows is not None:
                spec.write_rows(actor, parsed)
            else:
                for row in parsed:
                    try:
                        spec.write_row(actor, dict(row.values), None)
                    except ValidationError as exc:
                        raise ImportRowFailed(row.number, exc) from exc
    except ImportRowFailed as failed:
        return core_imports._errors_from(spec, failed.number, failed.error)
    return []


def _state():
    result = {}
    for customer in Customer.objects.order_by("pk"):
        result[customer.name] = (
            customer.owner_id,
            customer.department_id,
            customer.pool_id,
            customer.stage,
            customer.won_at is not None,
            customer.pooled_at is not None,
            customer.owned_since is not None,
            customer.name_key,
            customer.mobile,
            customer.number.split("-")[0],
            [(c.name, c.mobile, c.is_primary) for c in customer.contacts.order_by("pk")],
            list(
                OwnerChange.objects.filter(customer=customer).values_list(
                    "kind", "from_user_id", "to_user_id", "pool_id", "by_id"
                )
            ),
            list(customer.history.values_list("history_type", "history_user_id")),
        )
    return result


@pytest.mark.django_db
def test_batch_and_row_by_row_write_the_same(personas, pool):
    actor = personas.manager
    assert _import(ROW_BY_ROW, actor, ROWS) == []
    expected = _state()
    numbers = list(Customer.objects.order_by("pk").values_list("number", flat=True))
    Customer.objects.all().delete()
    assert _import(CUSTOMER_IMPORT, actor, ROWS) == []
    assert _state() == expected
    # Numbers continue the sequence, in file order, without gaps.
    new_numbers = list(Customer.objects.order_by("pk").values_list("number", flat=True))
    last = int(numbers[-1].rsplit("-", 1)[-1])
    assert [int(n.rsplit("-", 1)[-1]) for n in new_numbers] == [last + i for i in range(1, 5)]


@pytest.mark.django_db
def test_batch_and_row_by_row_report_the_same_errors(personas, pool, make_customer):
    make_customer(personas.sales1, name="南京已有客户有限公司", mobile="13812349999")
    rows = [
        *ROWS,
        ["南京已有客户（有限公司）", "", "", "sales1", "", "", ""],  # duplicate in the database
        ["苏州瑞丰精密机械", "", "", "", "", "", ""],  # same name as row 2
        ["广州新客户有限公司", "13812349999", "", "nobody", "", "", ""],  # mobile in DB, owner
        ["深圳新客户有限公司", "", "", "", "周杰", "13812349999", ""],  # contact mobile in DB
    ]
    expected = _import(ROW_BY_ROW, personas.manager, rows)
    assert expected
    assert _import(CUSTOMER_IMPORT, personas.manager, rows) == expected
    assert not Customer.objects.exclude(name="南京已有客户有限公司").exists()


@pytest.mark.django_db
def test_a_mobile_of_an_earlier_row_is_refused_as_row_by_row(personas, pool):
    rows = [
        ROWS[0],
        ROWS[1],
        ["广州新客户有限公司", "", "", "sales1", "周杰", "13812340002", ""],
    ]
    expected = _import(ROW_BY_ROW, personas.manager, rows)
    assert [(e.row, e.field) for e in expected] == [(4, "contact_mobile")]  # its own column
    Customer.objects.all().delete()
    assert _import(CUSTOMER_IMPORT, personas.manager, rows) == expected


@pytest.mark.django_db
def test_the_job_uses_the_batch_path(personas, pool, django_capture_on_commit_callbacks, settings):
    settings.IMPORT_SYNC_ROWS = 2  # a background job (run eagerly after commit here)
    upload = SimpleUploadedFile("customers.xlsx", _file(ROWS).getvalue())
    with django_capture_on_commit_callbacks(execute=True):
        job = core_imports.import_job_start(
            actor=personas.manager, kind="crm.customer", upload=upload
        )
    job.refresh_from_db()
    assert (job.status, job.created_count, job.errors) == ("done", 4, [])
    assert OwnerChange.objects.filter(kind="import").count() == 4


@pytest.mark.django_db
def test_a_failing_row_undoes_the_whole_job(personas, pool, settings):
    from marketdesk.crm.models import HoldingLimit

    HoldingLimit.objects.create(user=personas.sales1, max_owned=1)
    rows = [ROWS[0], ["广州新客户有限公司", "", "", "sales1", "", "", ""]]
    upload = SimpleUploadedFile("customers.xlsx", _file(rows).getvalue())
    job = core_imports.import_job_start(actor=personas.manager, kind="crm.customer", upload=upload)
    assert job.status == "failed"
    assert job.errors[0]["row"] == 3
    assert not Customer.objects.exists()
