"""The employee import (org/imports.py): one row per employee, all or nothing, through the
org services; who may run it and who may see its jobs."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from marketdesk.core.imports import MSG_NOT_XLSX, ImportMode, import_job_start
from marketdesk.core.models import ImportJob, ImportStatus
from marketdesk.org import services as org_services
from marketdesk.org.imports import (
    MSG_UNKNOWN_DEPARTMENT,
    MSG_UNKNOWN_SUPERVISOR,
    MSG_USERNAME_MISMATCH,
)
from marketdesk.org.models import Employee

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND = "org.employee"
FIELDS = [
    "username",
    "name",
    "mobile",
    "email",
    "department",
    "position",
    "supervisor",
    "roles",
    "hire_date",
    "gender",
    "id_number",
    "address",
]
HEADERS = [
    "Username",
    "Name",
    "Mobile",
    "Email",
    "Department code",
    "Position",
    "Supervisor username",
    "Roles",
    "Hire date",
    "Gender",
    "ID card number",
    "Address",
]


def id_number(serial: int) -> str:
    body = f"11010519900307{serial:03d}"
    return body + ric.calc_check_digit(body + "0")  # takes the number with a check digit slot


def row(**values) -> list:
    return [values.get(name) for name in FIELDS]


def workbook_upload(rows, headers=HEADERS, name="employees.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


@pytest.fixture(autouse=True)
def _in_english():
    """The jobs below run in English; expected messages are rendered in English too."""
    with translation.override("en"):
        yield


def run(actor, rows, *, mode=ImportMode.CREATE, key_field="", headers=HEADERS) -> ImportJob:
    return import_job_start(
        actor=actor,
        kind=KIND,
        upload=workbook_upload(rows, headers),
        mode=mode,
        key_field=key_field,
        language="en",
    )


def new_rows(count: int, start: int = 1) -> list[list]:
    return [
        row(username=f"new{i}", name=f"新员工{i}", mobile=f"137000000{i:02d}", department="S1")
        for i in range(start, start + count)
    ]


def errors_of(job) -> list[tuple]:
    return [(e["row"], e["column"], e["message"]) for e in job.errors]


@pytest.fixture
def position(personas):
    return org_services.position_save(actor=personas.admin, name="销售代表")


class TestTemplate:
    def test_the_template_has_the_headers_and_lists_the_codes(self, personas, client_for):
        client = client_for(personas.admin)
        response = client.get(reverse("imports:template", args=[KIND]), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX
        data, notes = load_workbook(io.BytesIO(response.content)).worksheets
        assert [cell.value for cell in data[1]] == HEADERS
        assert data["A2"].value == "zhangsan"
        noted = " ".join(str(line[0]) for line in notes.iter_rows(values_only=True) if line[0])
        assert "S1 销售一组" in noted and "salesperson" in noted

    def test_the_filled_in_template_imports(self, personas, client_for):
        client = client_for(personas.admin)
        response = client.get(reverse("imports:template", args=[KIND]), HTTP_ACCEPT_LANGUAGE="en")
        workbook = load_workbook(io.BytesIO(response.content))
        sheet = workbook.worksheets[0]
        sheet.delete_rows(2)
        sheet.append(row(username="fromtemplate", name="模板", department="S2", gender="女"))
        buffer = io.BytesIO()
        workbook.save(buffer)
        job = import_job_start(
            actor=personas.admin,
            kind=KIND,
            upload=SimpleUploadedFile("filled.xlsx", buffer.getvalue()),
            language="en",
        )
        assert job.status == ImportStatus.DONE, job.errors
        assert Employee.objects.get(user__username="fromtemplate").gender == "F"


class TestCreate:
    def test_a_valid_file_imports_every_row(self, personas, position):
        rows = [
            row(
                username="liming",
                name="李明",
                mobile=13700000001,  # typed as a number in Excel
                email="liming@example.com",
                department="S1",
                position="销售代表",
                supervisor="leader1",
                roles="salesperson、group_leader",
                hire_date=datetime.datetime(2026, 3, 1),
                gender="男",
                id_number=id_number(1),
                address="上海市黄浦区南京东路1号",
            ),
            row(
                username="hanmei",
                name="韩梅",
                mobile="137-0000-0002",
                department="S2",
                supervisor="liming",  # created on the row above
                roles="salesperson",
                hire_date="2026/3/2",
                gender="F",
            ),
            row(username="xiaowang", name="小王", department="PRO"),
        ]
        job = run(personas.admin, rows)
        assert job.status == ImportStatus.DONE, job.errors
        assert (job.created_count, job.updated_count, job.progress) == (3, 0, 100)
        liming = Employee.objects.select_related("user", "department").get(user__username="liming")
        assert liming.user.mobile == "13700000001"
        assert liming.department.code == "S1"
        assert liming.position == position
        assert liming.supervisor == personas.emp("leader1")
        assert {r.code for r in liming.roles.all()} == {"salesperson", "group_leader"}
        assert liming.hire_date == datetime.date(2026, 3, 1)
        assert (liming.gender, liming.id_number) == ("M", id_number(1))
        hanmei = Employee.objects.get(user__username="hanmei")
        assert hanmei.supervisor == liming
        assert hanmei.user.mobile == "13700000002"
        assert hanmei.hire_date == datetime.date(2026, 3, 2)

    def test_a_bad_row_3_of_5_imports_nothing_and_names_the_row_and_column(self, personas):
        rows = new_rows(5)
        rows[2][FIELDS.index("mobile")] = "12345"
        before = Employee.objects.count()
        job = run(personas.admin, rows)
        assert job.status == ImportStatus.FAILED
        assert Employee.objects.count() == before
        # Row numbers are the spreadsheet's: the header is row 1, so the 3rd employee is row 4.
        assert errors_of(job) == [
            (
                4,
                "Mobile",
                "Enter a valid mainland China mobile number (11 digits, e.g. 13812345678).",
            )
        ]

    def test_a_duplicate_username_in_the_file_names_both_rows(self, personas):
        rows = new_rows(3)
        rows[2][0] = "new1"
        job = run(personas.admin, rows)
        assert job.status == ImportStatus.FAILED
        [(number, column, message)] = errors_of(job)
        assert (number, column) == (4, "Username")
        assert "rows 2 and 4" in message
        assert not Employee.objects.filter(user__username__startswith="new").exists()

    def test_a_duplicate_mobile_in_the_file_is_an_error(self, personas):
        rows = new_rows(2)
        rows[1][FIELDS.index("mobile")] = rows[0][FIELDS.index("mobile")]
        job = run(personas.admin, rows)
        assert [(e[0], e[1]) for e in errors_of(job)] == [(3, "Mobile")]

    def test_an_unknown_department_code_names_the_row_and_column(self, personas):
        rows = new_rows(2)
        rows[1][FIELDS.index("department")] = "NOPE"
        job = run(personas.admin, rows)
        assert errors_of(job) == [
            (3, "Department code", str(MSG_UNKNOWN_DEPARTMENT % {"code": "NOPE"}))
        ]
        assert not Employee.objects.filter(user__username__startswith="new").exists()

    def test_an_existing_username_cannot_be_created_again(self, personas):
        job = run(personas.admin, [row(username="sales1", name="重复", department="S1")])
        assert [(e[0], e[1]) for e in errors_of(job)] == [(2, "Username")]

    def test_a_supervisor_must_exist_or_come_on_an_earlier_row(self, personas):
        rows = [
            row(username="boss2", name="甲", department="S1", supervisor="boss3"),
            row(username="boss3", name="乙", department="S1"),
        ]
        job = run(personas.admin, rows)
        message = str(MSG_UNKNOWN_SUPERVISOR % {"username": "boss3"})
        assert errors_of(job) == [(2, "Supervisor username", message)]

    def test_every_error_of_every_row_is_reported(self, personas):
        rows = [
            row(username="bad name", name="甲", department="S1", gender="X"),
            row(username="ok1", department="S1", roles="salesperson,wizard", hire_date="soon"),
        ]
        job = run(personas.admin, rows)
        assert [(e[0], e[1]) for e in errors_of(job)] == [
            (2, "Username"),
            (2, "Gender"),
            (3, "Roles"),
            (3, "Hire date"),
            (3, "Name"),
        ]

    def test_a_missing_required_column_is_refused(self, personas):
        headers = [h for h in HEADERS if h != "Department code"]
        job = run(personas.admin, [["a", "甲"]], headers=headers)
        assert [(e[0], e[1]) for e in errors_of(job)] == [(1, "Department code")]

    def test_roles_need_the_role_administrators_permission(self, personas):
        clerk_role = org_services.role_create(
            actor=personas.admin,
            code="hr_clerk",
            name="HR clerk",
            data_scope="all",
            permissions=list(
                Permission.objects.filter(
                    codename__in=["import_data", "add_employee", "view_employee"]
                )
            ),
        )
        clerk = org_services.employee_update(
            actor=personas.admin, employee=personas.emp("outsider"), roles=[clerk_role]
        ).user
        rows = [row(username="x1", name="甲", department="S1", roles="salesperson")]
        job = run(clerk, rows)
        assert [(e[0], e[1]) for e in errors_of(job)] == [(2, "Roles")]
        job = run(clerk, [row(username="x1", name="甲", department="S1")])
        assert job.status == ImportStatus.DONE


class TestCreateOrUpdate:
    def test_matching_on_username_updates_existing_employees(self, personas, position):
        sales1 = personas.emp("sales1")
        rows = [
            row(
                username="sales1",
                name="王芳芳",
                mobile="13700000099",
                department="S2",
                position="销售代表",
            ),
            row(username="brandnew", name="新人", department="S1"),
        ]
        job = run(personas.admin, rows, mode=ImportMode.UPSERT, key_field="username")
        assert job.status == ImportStatus.DONE, job.errors
        assert (job.created_count, job.updated_count) == (1, 1)
        sales1.refresh_from_db()
        sales1.user.refresh_from_db()
        assert (sales1.user.name, sales1.user.mobile) == ("王芳芳", "13700000099")
        assert (sales1.department.code, sales1.position) == ("S2", position)
        # Cells left empty keep what was there.
        assert sales1.id_number == "11010519491231002X"
        assert sales1.supervisor == personas.emp("leader1")
        assert {r.code for r in sales1.roles.all()} == {"salesperson"}

    def test_matching_on_mobile_finds_the_employee(self, personas):
        rows = [
            row(username="sales2", name="吴涛", mobile="13900000007", department="S2", gender="男")
        ]
        job = run(personas.admin, rows, mode=ImportMode.UPSERT, key_field="mobile")
        assert (job.status, job.updated_count) == (ImportStatus.DONE, 1)
        assert Employee.objects.get(user__username="sales2").gender == "M"

    def test_a_username_cannot_be_changed_through_the_mobile_match(self, personas):
        rows = [row(username="renamed", name="吴涛", mobile="13900000007", department="S2")]
        job = run(personas.admin, rows, mode=ImportMode.UPSERT, key_field="mobile")
        message = str(MSG_USERNAME_MISMATCH % {"username": "sales2"})
        assert errors_of(job) == [(2, "Username", message)]

    def test_a_failure_while_writing_row_3_undoes_row_2(self, personas):
        # Each row passes the checks alone; together they make a reporting cycle, which the
        # service refuses when it writes row 3. Row 2 must be rolled back with it.
        rows = [
            row(username="sales1", name="王芳", department="S1", supervisor="sales1b"),
            row(username="sales1b", name="孙浩", department="S1", supervisor="sales1"),
        ]
        job = run(personas.admin, rows, mode=ImportMode.UPSERT, key_field="username")
        assert job.status == ImportStatus.FAILED
        assert [(e[0], e[1]) for e in errors_of(job)] == [(3, "Supervisor username")]
        assert Employee.objects.get(user__username="sales1").supervisor == personas.emp("leader1")


class TestUploadPage:
    def test_a_non_xlsx_upload_gets_a_clear_error_and_creates_nothing(self, personas, client_for):
        client = client_for(personas.admin)
        before = Employee.objects.count()
        fake = SimpleUploadedFile("employees.xlsx", b"username,name\nx,y\n", content_type=XLSX)
        response = client.post(
            reverse("imports:new", args=[KIND]),
            {"file": fake, "mode": "create"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        assert str(MSG_NOT_XLSX) in response.content.decode()
        assert not ImportJob.objects.exists()
        assert Employee.objects.count() == before

    def test_create_or_update_through_the_page(self, personas, client_for):
        client = client_for(personas.admin)
        response = client.post(
            reverse("imports:new", args=[KIND]),
            {
                "file": workbook_upload(
                    [row(username="sales1", name="王芳", department="S1", gender="女")]
                ),
                "mode": "upsert",
                "key_field": "username",
            },
        )
        assert response.status_code == 302
        job = ImportJob.objects.get()
        assert (job.status, job.updated_count, job.key_field) == ("done", 1, "username")

    def test_a_large_file_runs_in_the_background_and_ends_done(
        self, personas, client_for, settings, monkeypatch, django_capture_on_commit_callbacks
    ):
        from marketdesk.core import tasks

        settings.IMPORT_SYNC_ROWS = 3
        queued = []
        delay = tasks.run_import.delay
        monkeypatch.setattr(
            tasks.run_import, "delay", lambda job_id: queued.append(job_id) or delay(job_id)
        )
        client = client_for(personas.admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("imports:new", args=[KIND]),
                {"file": workbook_upload(new_rows(8)), "mode": "create"},
            )
        job = ImportJob.objects.get()
        assert queued == [job.pk]
        assert response["Location"] == reverse("imports:detail", args=[job.pk])
        assert (job.status, job.progress, job.total_rows, job.created_count) == ("done", 100, 8, 8)
        assert Employee.objects.filter(user__username__startswith="new").count() == 8


class TestPermissions:
    def test_a_salesperson_gets_403_on_the_page_and_the_api(self, personas, client_for, api_for):
        client = client_for(personas.sales1)
        assert client.get(reverse("imports:new", args=[KIND])).status_code == 403
        assert client.get(reverse("imports:template", args=[KIND])).status_code == 403
        api = api_for(personas.sales1)
        response = api.post(
            "/api/v1/imports/",
            {"kind": KIND, "file": workbook_upload(new_rows(1))},
            format="multipart",
        )
        assert response.status_code == 403
        assert not Employee.objects.filter(user__username="new1").exists()

    def test_importing_employees_needs_add_employee_too(self, personas, client_for):
        # The marketing manager may import (core.import_data) but not add employees.
        client = client_for(personas.manager)
        assert client.get(reverse("imports:new", args=[KIND])).status_code == 403

    def test_a_salesperson_cannot_see_anothers_job(self, personas, client_for, api_for):
        job = run(personas.admin, new_rows(1))
        assert (
            client_for(personas.sales1).get(reverse("imports:detail", args=[job.pk])).status_code
            == 404
        )
        assert api_for(personas.sales1).get(f"/api/v1/imports/{job.pk}/").status_code == 404

    def test_the_employee_list_offers_the_import_to_those_who_may(self, personas, client_for):
        url = reverse("imports:new", args=[KIND])
        admin_page = client_for(personas.admin).get(reverse("org:employee_list"))
        assert url in admin_page.content.decode()
        manager_page = client_for(personas.manager).get(reverse("org:employee_list"))
        assert manager_page.status_code == 200 and url not in manager_page.content.decode()


class TestApi:
    def test_create_and_retrieve_with_errors(self, personas, api_for):
        api = api_for(personas.admin)
        rows = new_rows(2)
        rows[1][FIELDS.index("department")] = "NOPE"
        created = api.post(
            "/api/v1/imports/",
            {"kind": KIND, "mode": "create", "file": workbook_upload(rows)},
            format="multipart",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert created.status_code == 201
        detail = api.get(f"/api/v1/imports/{created.data['id']}/").data
        assert detail["status"] == "failed"
        assert [(e["row"], e["column"], e["field"]) for e in detail["errors"]] == [
            (3, "Department code", "department")
        ]

    def test_upsert_needs_a_match_key(self, personas, api_for):
        response = api_for(personas.admin).post(
            "/api/v1/imports/",
            {
                "kind": KIND,
                "mode": "upsert",
                "key_field": "email",
                "file": workbook_upload(new_rows(1)),
            },
            format="multipart",
        )
        assert response.status_code == 400
        assert list(response.data["fields"]) == ["key_field"]
