"""The customer import (crm/imports.py on core/imports.py): one row per customer with its
primary contact; per-row errors name the column; duplicates within the file and against the
database; all or nothing; written through the CRM services."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from marketdesk.core.imports import ImportMode, import_job_start
from marketdesk.core.models import ImportStatus
from marketdesk.crm import services
from marketdesk.crm.models import Contact, Customer, DuplicateMode, OwnerChange

from .factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

KIND = "crm.customer"
FIELDS = {
    "name": "Customer name",
    "kind": "Kind",
    "credit_code": "Unified social credit code",
    "mobile": "Mobile",
    "province": "Province",
    "level": "Level",
    "stage": "Stage",
    "owner": "Owner username",
    "budget": "Budget (CNY)",
    "contact_name": "Contact name",
    "contact_mobile": "Contact mobile",
}
CREDIT_1 = "91320594MA1MXXXX16"
CREDIT_2 = "91310115MA1K3YJ06U"


def row(**values) -> list:
    return [values.get(field) for field in FIELDS]


def run(actor, rows, *, mode=ImportMode.CREATE, key_field=""):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(FIELDS.values()))
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return import_job_start(
        actor=actor,
        kind=KIND,
        upload=SimpleUploadedFile("customers.xlsx", buffer.getvalue()),
        mode=mode,
        key_field=key_field,
        language="en",
    )


def errors_of(job) -> list[tuple]:
    return [(e["row"], e["column"], e["message"]) for e in job.errors]


class TestCustomerImport:
    def test_a_valid_file_imports_customers_contacts_and_pool_customers(self, personas, pool):
        job = run(
            personas.manager,
            [
                row(
                    name="苏州瑞丰精密机械有限公司",
                    credit_code=CREDIT_1,
                    level="A · key",
                    stage="Intention",
                    owner="sales1",
                    budget="300,000",
                    contact_name="王建华",
                    contact_mobile=13812345678,
                ),
                row(name="张三", kind="Individual", mobile="139-1234-5678"),
            ],
        )
        assert job.status == ImportStatus.DONE, job.errors
        assert (job.created_count, job.updated_count) == (2, 0)
        owned = Customer.objects.get(credit_code=CREDIT_1)
        assert (owned.owner, owned.level, owned.stage) == (personas.sales1, "A", "intention")
        assert str(owned.budget) == "300000.00"
        contact = Contact.objects.get(customer=owned)
        assert (contact.name, contact.mobile, contact.is_primary) == ("王建华", "13812345678", True)
        pooled = Customer.objects.get(name="张三")
        assert (pooled.owner, pooled.pool, pooled.mobile) == (None, pool, "13912345678")
        assert set(OwnerChange.objects.values_list("kind", flat=True)) == {"import"}

    def test_bad_cells_are_named_by_row_and_column_and_nothing_is_imported(self, personas, pool):
        job = run(
            personas.manager,
            [
                row(name="甲公司"),
                row(name="乙公司", mobile="12345", level="Z"),
                row(name="丙公司", owner="nobody"),
                row(name="丁公司", contact_mobile="13812345678"),
            ],
        )
        assert job.status == ImportStatus.FAILED
        # Cells are checked first: rows 4 and 5 are checked once every cell can be read.
        assert [error[:2] for error in errors_of(job)] == [(3, "Mobile"), (3, "Level")]
        assert Customer.objects.count() == 0

    def test_row_checks_name_their_column(self, personas, pool):
        job = run(
            personas.manager,
            [row(name="丙公司", owner="nobody"), row(name="丁公司", contact_mobile="13812345678")],
        )
        assert errors_of(job) == [
            (2, "Owner username", 'No active employee has the username "nobody".'),
            (3, "Contact name", "Give the contact's name."),
        ]
        assert Customer.objects.count() == 0

    def test_the_same_company_twice_in_the_file_is_refused(self, personas, pool):
        job = run(
            personas.manager,
            [
                row(name="华东智联科技有限公司", mobile="13812345678"),
                row(name="華東智聯科技"),
                row(name="另一家", mobile="138 1234 5678"),
            ],
        )
        assert errors_of(job) == [
            (3, "Customer name", "Row 2 of this file has the same name."),
            (4, "Mobile", "Row 2 of this file has the same mobile."),
        ]

    def test_the_same_credit_code_twice_is_refused(self, personas, pool):
        job = run(
            personas.manager,
            [row(name="甲公司", credit_code=CREDIT_1), row(name="乙公司", credit_code=CREDIT_1)],
        )
        assert job.status == ImportStatus.FAILED
        assert [(e[0], e[1]) for e in errors_of(job)] == [(3, "Unified social credit code")]

    def test_the_same_contact_mobile_twice_is_refused_on_its_column(self, personas, pool):
        job = run(
            personas.manager,
            [
                row(name="甲公司", contact_name="王建华", contact_mobile="13812345678"),
                row(name="乙公司", contact_name="王建华", contact_mobile="13812345678"),
            ],
        )
        assert job.status == ImportStatus.FAILED
        assert [(e[0], e[1]) for e in errors_of(job)] == [(3, "Contact mobile")]
        assert Customer.objects.count() == 0

    def test_a_customer_already_in_the_database_is_refused(self, personas, make_customer):
        make_customer(personas.leader1, name="华东智联科技有限公司", credit_code=CREDIT_2)
        job = run(
            personas.manager,
            [row(name="甲公司"), row(name="华东智联科技", credit_code=CREDIT_2)],
        )
        assert errors_of(job) == [
            (
                3,
                "Customer name",
                "Duplicate: 华东智联科技有限公司 (belongs to 李强, 销售一组).",
            ),
            (
                3,
                "Unified social credit code",
                "Duplicate: 华东智联科技有限公司 (belongs to 李强, 销售一组).",
            ),
        ]
        assert Customer.objects.count() == 1

    def test_a_contact_mobile_already_in_the_database_is_refused(self, personas, make_customer):
        existing = make_customer(personas.sales2)
        services.contact_create(
            actor=personas.sales2, customer=existing, name="王建华", mobile="13812345678"
        )
        job = run(
            personas.manager,
            [row(name="甲公司", contact_name="王建华", contact_mobile="13812345678")],
        )
        assert job.status == ImportStatus.FAILED
        assert [(e[0], e[1]) for e in errors_of(job)] == [(2, "Contact mobile")]

    def test_in_warn_mode_duplicates_of_the_database_are_imported(self, personas, make_customer):
        services.settings_update(actor=personas.manager, duplicate_mode=DuplicateMode.WARN)
        make_customer(personas.leader1, name="华东智联科技有限公司")
        job = run(personas.manager, [row(name="华东智联科技", owner="sales2")])
        assert job.status == ImportStatus.DONE, job.errors
        assert Customer.objects.filter(name_key="华东智联科技").count() == 2

    def test_a_row_refused_while_writing_undoes_the_rows_before_it(self, personas, pool):
        services.holding_limit_save(
            actor=personas.manager, user=personas.sales1, max_owned=1, max_locked=None
        )
        job = run(
            personas.manager,
            [
                row(name="甲公司", owner="sales1"),
                row(name="乙公司"),
                row(name="丙公司", owner="sales1"),
            ],
        )
        assert job.status == ImportStatus.FAILED
        assert errors_of(job) == [(4, "", "王芳 already owns 1 customers, the limit is 1.")]
        assert Customer.objects.count() == 0

    def test_create_or_update_matches_on_the_credit_code(self, personas, make_customer):
        existing = make_customer(personas.sales1, name="甲公司", credit_code=CREDIT_1)
        job = run(
            personas.manager,
            [row(name="甲公司", credit_code=CREDIT_1, level="A", owner="sales1b")],
            mode=ImportMode.UPSERT,
            key_field="credit_code",
        )
        assert job.status == ImportStatus.DONE, job.errors
        assert (job.created_count, job.updated_count) == (0, 1)
        existing = fresh(existing)
        assert (existing.level, existing.owner) == ("A", personas.sales1b)

    def test_updating_a_customer_updates_its_contact_instead_of_adding_it_again(
        self, personas, make_customer
    ):
        existing = make_customer(personas.sales1, name="甲公司", credit_code=CREDIT_1)
        cells = row(
            name="甲公司", credit_code=CREDIT_1, contact_name="钱进", contact_mobile="13812345678"
        )
        for _ in range(2):
            job = run(personas.manager, [cells], mode=ImportMode.UPSERT, key_field="credit_code")
            assert job.status == ImportStatus.DONE, job.errors
        contacts = list(fresh(existing).contacts.values_list("name", "mobile"))
        assert contacts == [("钱进", "13812345678")]

    @pytest.mark.parametrize("who", ["sales1", "leader1", "admin", "finance"])
    def test_only_people_who_may_import_and_add_customers_may_run_it(self, personas, pool, who):
        with pytest.raises(PermissionDenied):
            run(getattr(personas, who), [row(name="甲公司")])
