"""The product import (sales.product on core/imports.py): one row per product, per-row errors
naming the column, all or nothing, existing products updated by code, written through the
product services."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from marketdesk.core.imports import ImportMode, get_import, import_job_start, template_workbook
from marketdesk.core.models import ImportStatus
from marketdesk.sales.models import Product

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

KIND = "sales.product"
HEADERS = {
    "code": "Product code",
    "name": "Name",
    "category": "Category code",
    "unit": "Unit",
    "spec": "Specification",
    "list_price": "List price (CNY)",
    "cost": "Cost (CNY)",
    "status": "Status",
}


def row(**values) -> list:
    return [values.get(field) for field in HEADERS]


def run(actor, rows, *, mode=ImportMode.CREATE, key_field=""):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS.values()))
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return import_job_start(
        actor=actor,
        kind=KIND,
        upload=SimpleUploadedFile("products.xlsx", buffer.getvalue()),
        mode=mode,
        key_field=key_field,
        language="en",
    )


def errors_of(job) -> list[tuple]:
    return [(e["row"], e["column"], e["message"]) for e in job.errors]


class TestProductImport:
    def test_the_template_has_every_column(self, db):
        sheet = template_workbook(get_import(KIND)).active
        assert [cell.value for cell in sheet[1]] == list(HEADERS.values())

    def test_a_valid_file_creates_products(self, personas, catalogue):
        job = run(
            personas.manager,
            [
                row(
                    code="GW-50",
                    name="边缘计算网关 GW-50",
                    category="devices",
                    unit="台",
                    spec="8 核 / 16 GB",
                    list_price="8,900",
                    cost=5200,
                    status="在售",
                ),
                row(
                    code="SS-INST",
                    name="现场安装调试",
                    category="SOFTWARE",
                    unit="项",
                    list_price=8000,
                    status="Discontinued",
                ),
            ],
        )
        assert job.status == ImportStatus.DONE, job.errors
        gateway = Product.objects.get(code="GW-50")
        assert (gateway.list_price, gateway.cost, gateway.status) == (
            Decimal("8900.00"),
            Decimal("5200.00"),
            "active",
        )
        service = Product.objects.get(code="SS-INST")
        assert service.category.code == "software" and service.status == "discontinued"
        assert service.cost == Decimal("0.00")
        assert gateway.history.first().history_user == personas.manager

    def test_cell_errors_name_the_row_and_column_and_nothing_is_imported(self, personas, catalogue):
        job = run(
            personas.manager,
            [
                row(code="OK-1", name="好的", category="devices", unit="台", list_price=1),
                row(code="BAD-1", name="负价", category="devices", unit="台", list_price=-5),
                row(
                    code="BAD-3",
                    name="状态",
                    category="devices",
                    unit="台",
                    list_price=5,
                    status="maybe",
                ),
                row(code="BAD-4", category="devices", unit="台", list_price="1.234"),
            ],
        )
        assert job.status == ImportStatus.FAILED
        errors = errors_of(job)
        assert (3, "List price (CNY)", "Enter a number of at least 0.") in errors
        assert any(e[:2] == (4, "Status") and "停产" in e[2] for e in errors)
        assert (5, "Name", "This value is required.") in errors
        assert (5, "List price (CNY)", "Enter a number with at most 2 decimal places.") in errors
        assert Product.objects.count() == 3

    def test_row_checks_refuse_a_used_code_and_an_unknown_category(self, personas, catalogue):
        job = run(
            personas.manager,
            [
                row(code="OK-1", name="好的", category="devices", unit="台", list_price=1),
                row(code="ZT-100", name="重复", category="devices", unit="台", list_price=1),
                row(code="BAD-2", name="无类别", category="nowhere", unit="台", list_price=5),
            ],
        )
        assert job.status == ImportStatus.FAILED
        assert errors_of(job) == [
            (3, "Product code", 'The product code "ZT-100" is already used by 智联终端 ZT-100.'),
            (4, "Category code", 'There is no product category with the code "nowhere".'),
        ]
        assert Product.objects.count() == 3

    def test_the_same_code_twice_in_the_file_is_refused(self, personas, catalogue):
        job = run(
            personas.manager,
            [
                row(code="NEW-1", name="一", category="devices", unit="台", list_price=1),
                row(code="NEW-1", name="二", category="devices", unit="台", list_price=2),
            ],
            mode=ImportMode.UPSERT,
            key_field="code",
        )
        assert job.status == ImportStatus.FAILED
        assert any(e[0] == 3 and e[1] == "Product code" for e in errors_of(job))
        assert not Product.objects.filter(code="NEW-1").exists()

    def test_create_or_update_updates_existing_products_by_code(self, personas, catalogue):
        job = run(
            personas.manager,
            [
                row(
                    code="zt-100",
                    name="智联终端 ZT-100（二代）",
                    category="devices",
                    unit="台",
                    list_price=11800,
                    status="Discontinued",
                ),
                row(code="NEW-2", name="新品", category="software", unit="年", list_price=100),
            ],
            mode=ImportMode.UPSERT,
            key_field="code",
        )
        assert job.status == ImportStatus.DONE, job.errors
        terminal = Product.objects.get(pk=catalogue["terminal"].pk)
        assert terminal.code == "ZT-100"  # the stored spelling is kept
        assert (terminal.name, terminal.list_price, terminal.status) == (
            "智联终端 ZT-100（二代）",
            Decimal("11800.00"),
            "discontinued",
        )
        assert terminal.cost == Decimal("7000.00")  # blank cost: unchanged
        assert Product.objects.count() == 4

    def test_only_those_who_may_change_products_import(self, personas, catalogue):
        with pytest.raises(PermissionDenied):
            run(
                personas.leader1,
                [row(code="X", name="X", category="devices", unit="台", list_price=1)],
            )
        with pytest.raises(PermissionDenied):
            run(
                personas.admin,
                [row(code="X", name="X", category="devices", unit="台", list_price=1)],
            )
