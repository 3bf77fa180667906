"""The spreadsheet import framework (core/imports.py), its pages and its API, with a small
import of notifications registered only for these tests."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import EmailValidator
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from marketdesk.core import imports
from marketdesk.core.imports import (
    MSG_DUPLICATE,
    MSG_EXAMPLE_ROW,
    MSG_MISSING_COLUMN,
    MSG_NO_ROWS,
    MSG_NOT_XLSX,
    MSG_ROW_NOT_SAVED,
    MSG_UNKNOWN_COLUMN,
    MSG_VALUES_WITHOUT_HEADER,
    ImportColumn,
    ImportMode,
    ImportSpec,
    Outcome,
    cell_text,
    import_job_start,
    parse_decimal,
    parse_email,
    parse_text,
    refresh_progress,
    run_import_job,
    template_response,
    validate_file,
)
from marketdesk.core.models import ImportJob, ImportStatus, Notification

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND = "test.note"
HEADERS = ["Title", "Body", "Amount", "Email"]


def _seen_language(raw):
    """A parser that tells which language it ran under."""
    raise ValidationError(f"language={translation.get_language()}")


def _write_note(actor, values, existing):
    if values["title"] == "boom":
        raise RuntimeError("the database went away")
    if existing is not None:
        existing.body = values.get("body", existing.body)
        existing.save(update_fields=["body"])
        return Outcome.UPDATED
    Notification.objects.create(recipient=actor, title=values["title"], body=values.get("body", ""))
    return Outcome.CREATED


NOTE_IMPORT = ImportSpec(
    key=KIND,
    label="Notes",
    permission="core.import_data",
    columns=(
        ImportColumn(
            "title", "Title", required=True, parse=parse_text(max_length=20), example="Hello"
        ),
        ImportColumn("body", "Body", example="Example body"),
        ImportColumn("amount", "Amount", parse=parse_decimal(places=2), text=True),
        ImportColumn("email", "Email", parse=parse_email),
        ImportColumn("probe", "Probe", parse=_seen_language),
    ),
    match_keys=("title",),
    find_existing=lambda actor, field, value: Notification.objects.filter(
        recipient=actor, title=value
    ).first(),
    write_row=_write_note,
)


@pytest.fixture(autouse=True)
def note_import(monkeypatch):
    monkeypatch.setitem(imports._specs, KIND, NOTE_IMPORT)
    cache.clear()
    return NOTE_IMPORT


def workbook_bytes(rows, headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(rows, headers=HEADERS, name="notes.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, workbook_bytes(rows, headers), content_type=XLSX)


def start(actor, rows, *, headers=HEADERS, mode=ImportMode.CREATE, key_field="", language="en"):
    return import_job_start(
        actor=actor,
        kind=KIND,
        upload=upload(rows, headers),
        mode=mode,
        key_field=key_field,
        language=language,
    )


def errors_of(job) -> list[tuple]:
    return [(e["row"], e["column"], e["message"]) for e in job.errors]


class TestTemplate:
    def test_it_has_the_header_row_an_example_row_and_a_notes_sheet(self):
        response = template_response(NOTE_IMPORT)
        assert response["Content-Type"] == XLSX
        workbook = load_workbook(io.BytesIO(response.content))
        data, notes = workbook.worksheets
        assert [c.value for c in data[1]] == [*HEADERS, "Probe"]
        assert data["A2"].value == "Hello"
        assert data.column_dimensions["C"].number_format == "@"
        noted = [row[0] for row in notes.iter_rows(values_only=True)]
        assert "Title" in noted and "Amount" in noted

    def test_the_template_with_its_example_row_left_in_is_refused(self, personas):
        response = template_response(NOTE_IMPORT)
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(response.content))
        assert [(e.row, e.message) for e in errors] == [(2, str(MSG_EXAMPLE_ROW))]


class TestValidateFile:
    def test_a_file_that_is_not_a_workbook_is_refused(self):
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(b"name,mobile\nA,1\n"))
        assert rows == []
        assert [(e.row, e.message) for e in errors] == [(None, str(MSG_NOT_XLSX))]

    def test_a_header_only_file_has_no_rows(self):
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(workbook_bytes([])))
        assert [e.message for e in errors] == [str(MSG_NO_ROWS)]

    def test_missing_required_and_unknown_columns_are_named_on_row_1(self):
        data = workbook_bytes([["x", "1"]], headers=["Body", "Colour"])
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(data))
        assert [(e.row, e.column, e.message) for e in errors] == [
            (1, "Colour", str(MSG_UNKNOWN_COLUMN % {"header": "Colour"})),
            (1, "Title", str(MSG_MISSING_COLUMN % {"header": "Title"})),
        ]

    def test_headers_may_be_field_names_in_any_order_and_case(self):
        data = workbook_bytes([["b", "t"]], headers=["BODY", " title *"])
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(data))
        assert errors == []
        assert rows[0].values == {"body": "b", "title": "t"}

    def test_values_under_a_blank_header_are_not_dropped_silently(self):
        data = workbook_bytes([["a", None, None, None, "stray"]], headers=[*HEADERS, None])
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(data))
        assert [(e.row, e.column, e.message) for e in errors] == [
            (2, "E", str(MSG_VALUES_WITHOUT_HEADER))
        ]

    def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(self):
        data = workbook_bytes([["a"], [], [None, "  "], ["b", None, "1.234"]])
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(data))
        assert [row.number for row in rows] == [2, 5]
        assert [(e.row, e.column) for e in errors] == [(5, "Amount")]

    def test_a_duplicate_key_names_both_rows(self):
        data = workbook_bytes([["a"], ["b"], ["a"]])
        rows, errors = validate_file(NOTE_IMPORT, io.BytesIO(data))
        message = str(MSG_DUPLICATE % {"value": "a", "first": 2, "row": 4})
        assert [(e.row, e.column, e.message) for e in errors] == [(4, "Title", message)]
        assert "2" in message and "4" in message

    def test_cells_read_as_the_text_the_user_typed(self):
        assert cell_text(13800138000.0) == "13800138000"
        assert cell_text("  '=1+1 ") == "=1+1"  # our own export's formula guard is undone
        assert cell_text(None) == ""


class TestRunImportJob:
    def test_a_valid_file_imports_every_row(self, personas):
        job = start(personas.admin, [["a", "one", 12.5], ["b", "two", "3"]])
        assert job.status == ImportStatus.DONE
        assert (job.created_count, job.updated_count, job.total_rows, job.progress) == (
            2,
            0,
            2,
            100,
        )
        titles = Notification.objects.filter(recipient=personas.admin).values_list(
            "title", flat=True
        )
        assert set(titles) == {"a", "b"}

    def test_a_bad_row_3_of_5_imports_nothing_and_is_reported(self, personas):
        rows = [["r1"], ["r2"], ["r3", None, "not a number"], ["r4"], ["r5"]]
        job = start(personas.admin, rows)
        assert job.status == ImportStatus.FAILED
        assert not Notification.objects.filter(recipient=personas.admin).exists()
        # The 3rd data row is row 4 of the spreadsheet (row 1 is the header), as Excel shows it.
        assert errors_of(job) == [(4, "Amount", "Enter a number.")]
        assert (job.created_count, job.updated_count) == (0, 0)

    def test_an_exception_in_row_n_undoes_the_rows_before_it(self, personas):
        job = start(personas.admin, [["a"], ["b"], ["boom"], ["c"]])
        assert job.status == ImportStatus.FAILED
        with translation.override(job.language):
            expected = str(MSG_ROW_NOT_SAVED)
        assert errors_of(job) == [(4, "", expected)]
        assert not Notification.objects.filter(recipient=personas.admin).exists()

    def test_messages_are_rendered_in_the_jobs_language(self, personas):
        english = start(personas.admin, [["a", None, None, "not-an-email"]], language="en")
        chinese = start(personas.admin, [["a", None, None, "not-an-email"]], language="zh-hans")
        assert english.errors[0]["message"] == "Enter a valid email address."
        with translation.override("zh-hans"):
            expected = str(EmailValidator.message)
        assert expected != "Enter a valid email address."  # Django ships this one translated
        assert chinese.errors[0]["message"] == expected
        assert chinese.language == "zh-hans"

    def test_spec_code_runs_under_the_jobs_language(self, personas):
        headers = ["Title", "Probe"]
        job = start(personas.admin, [["a", "x"]], headers=headers, language="zh-hans")
        assert job.errors[0]["message"] == "language=zh-hans"
        job = start(personas.admin, [["a", "x"]], headers=headers, language="en")
        assert job.errors[0]["message"] == "language=en"

    def test_create_or_update_updates_the_matched_records(self, personas):
        Notification.objects.create(recipient=personas.admin, title="a", body="old")
        job = start(
            personas.admin,
            [["a", "new"], ["b", "fresh"]],
            mode=ImportMode.UPSERT,
            key_field="title",
        )
        assert (job.status, job.created_count, job.updated_count) == (ImportStatus.DONE, 1, 1)
        assert Notification.objects.get(recipient=personas.admin, title="a").body == "new"

    def test_a_job_runs_once(self, personas):
        job = start(personas.admin, [["a"]])
        assert run_import_job(job.pk) == ImportStatus.DONE
        assert Notification.objects.filter(recipient=personas.admin).count() == 1

    def test_errors_beyond_the_limit_are_summarised(self, personas, monkeypatch):
        monkeypatch.setattr(imports, "MAX_STORED_ERRORS", 2)
        job = start(personas.admin, [["a", None, "x"], ["b", None, "x"], ["c", None, "x"]])
        assert len(job.errors) == 3
        assert job.errors[-1]["row"] is None and "1" in job.errors[-1]["message"]

    def test_a_large_file_goes_through_the_celery_task(
        self, personas, settings, monkeypatch, django_capture_on_commit_callbacks
    ):
        from marketdesk.core import tasks

        settings.IMPORT_SYNC_ROWS = 2
        queued = []
        delay = tasks.run_import.delay
        monkeypatch.setattr(
            tasks.run_import, "delay", lambda job_id: queued.append(job_id) or delay(job_id)
        )
        with django_capture_on_commit_callbacks(execute=True):
            job = start(personas.admin, [[f"n{i}"] for i in range(5)])
            assert job.status == ImportStatus.PENDING
        assert queued == [job.pk]
        job.refresh_from_db()
        assert (job.status, job.created_count, job.progress) == (ImportStatus.DONE, 5, 100)

    def test_progress_of_a_running_job_comes_from_the_worker(self, personas):
        job = start(personas.admin, [["a"]])
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.RUNNING, total_rows=10, processed_rows=0
        )
        job.refresh_from_db()
        cache.set(imports._progress_key(job.pk), 4)
        assert refresh_progress(job).progress == 40


class TestImportStart:
    def test_a_non_xlsx_upload_is_refused_before_a_job_exists(self, personas):
        fake = SimpleUploadedFile("notes.xlsx", b"this is text", content_type=XLSX)
        with pytest.raises(ValidationError) as caught:
            import_job_start(actor=personas.admin, kind=KIND, upload=fake)
        assert caught.value.message_dict == {"file": [str(MSG_NOT_XLSX)]}
        csv = SimpleUploadedFile("notes.csv", b"Title\na\n", content_type="text/csv")
        with pytest.raises(ValidationError) as caught:
            import_job_start(actor=personas.admin, kind=KIND, upload=csv)
        assert list(caught.value.message_dict) == ["file"]
        assert not ImportJob.objects.exists()

    def test_create_or_update_needs_a_match_key(self, personas):
        with pytest.raises(ValidationError) as caught:
            start(personas.admin, [["a"]], mode=ImportMode.UPSERT, key_field="body")
        assert list(caught.value.message_dict) == ["key_field"]

    def test_the_importer_needs_the_import_permission(self, personas):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            start(personas.sales1, [["a"]])


class TestPages:
    def test_my_imports_lists_only_my_jobs(self, personas, client_for):
        mine = start(personas.admin, [["a"]])
        other = start(personas.manager, [["b"]])
        page = client_for(personas.admin).get(reverse("imports:list"))
        assert page.status_code == 200
        assert reverse("imports:detail", args=[mine.pk]) in page.content.decode()
        assert reverse("imports:detail", args=[other.pk]) not in page.content.decode()

    def test_the_upload_page_imports_and_shows_the_result(self, personas, client_for):
        client = client_for(personas.admin)
        url = reverse("imports:new", args=[KIND])
        assert client.get(url).status_code == 200
        response = client.post(url, {"file": upload([["a"], ["b"]]), "mode": "create"})
        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("imports:detail", args=[job.pk])
        detail = client.get(response["Location"])
        assert detail.status_code == 200 and job.status == ImportStatus.DONE

    def test_a_failed_job_shows_the_error_table_and_its_download(self, personas, client_for):
        job = start(personas.admin, [["a", None, "x"]])
        client = client_for(personas.admin)
        html = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
        assert "Enter a number." in html and reverse("imports:errors", args=[job.pk]) in html
        download = client.get(reverse("imports:errors", args=[job.pk]))
        sheet = load_workbook(io.BytesIO(download.content)).active
        assert list(sheet.iter_rows(min_row=2, values_only=True)) == [
            (2, "Amount", "Enter a number.")
        ]

    def test_the_status_polls_only_while_the_job_runs(self, personas, client_for):
        job = start(personas.admin, [["a"]])
        client = client_for(personas.admin)
        url = reverse("imports:detail", args=[job.pk])
        done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert 'id="import-status"' in done and "every 2s" not in done
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
        running = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "every 2s" in running and "<html" not in running

    def test_a_salesperson_gets_403_on_the_upload_and_template_pages(self, personas, client_for):
        client = client_for(personas.sales1)
        assert client.get(reverse("imports:new", args=[KIND])).status_code == 403
        assert client.get(reverse("imports:template", args=[KIND])).status_code == 403
        post = client.post(reverse("imports:new", args=[KIND]), {"file": upload([["a"]])})
        assert post.status_code == 403
        assert not ImportJob.objects.exists()

    def test_nobody_sees_another_users_job(self, personas, client_for):
        job = start(personas.admin, [["a", None, "x"]])
        for user in (personas.sales1, personas.manager):
            client = client_for(user)
            assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404
            assert client.get(reverse("imports:errors", args=[job.pk])).status_code == 404

    def test_an_unknown_kind_is_404(self, personas, client_for):
        client = client_for(personas.admin)
        assert client.get(reverse("imports:new", args=["no.such"])).status_code == 404


class TestApi:
    url = "/api/v1/imports/"

    def test_create_and_retrieve_with_errors(self, personas, api_for):
        api = api_for(personas.admin)
        created = api.post(
            self.url,
            {"kind": KIND, "mode": "create", "file": upload([["a"], ["b", None, "x"]])},
            format="multipart",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert created.status_code == 201, created.content
        assert created.data["status"] == ImportStatus.FAILED
        detail = api.get(f"{self.url}{created.data['id']}/")
        assert detail.status_code == 200
        assert detail.data["errors"] == [
            {"row": 3, "column": "Amount", "field": "amount", "message": "Enter a number."}
        ]
        listed = api.get(self.url)
        assert [job["id"] for job in listed.data["results"]] == [created.data["id"]]

    def test_create_imports_a_valid_file(self, personas, api_for):
        response = api_for(personas.admin).post(
            self.url, {"kind": KIND, "file": upload([["a"]])}, format="multipart"
        )
        assert response.status_code == 201
        assert (response.data["status"], response.data["created_count"]) == ("done", 1)

    def test_a_non_xlsx_upload_is_a_400_with_the_reason(self, personas, api_for):
        fake = SimpleUploadedFile("a.xlsx", b"text", content_type=XLSX)
        response = api_for(personas.admin).post(
            self.url, {"kind": KIND, "file": fake}, format="multipart"
        )
        assert response.status_code == 400
        assert response.data["fields"]["file"] == [str(MSG_NOT_XLSX)]

    def test_a_salesperson_gets_403(self, personas, api_for):
        api = api_for(personas.sales1)
        response = api.post(self.url, {"kind": KIND, "file": upload([["a"]])}, format="multipart")
        assert response.status_code == 403
        assert api.get(f"{self.url}template/", {"kind": KIND}).status_code == 403
        assert api.get(f"{self.url}kinds/").data == []

    def test_an_unknown_kind_is_a_400(self, personas, api_for):
        response = api_for(personas.admin).post(
            self.url, {"kind": "no.such", "file": upload([["a"]])}, format="multipart"
        )
        assert response.status_code == 400
        assert list(response.data["fields"]) == ["kind"]

    def test_another_users_job_is_404(self, personas, api_for):
        job = start(personas.admin, [["a"]])
        assert api_for(personas.sales1).get(f"{self.url}{job.pk}/").status_code == 404
        assert api_for(personas.manager).get(f"{self.url}{job.pk}/").status_code == 404

    def test_template_and_kinds(self, personas, api_for):
        api = api_for(personas.admin)
        template = api.get(f"{self.url}template/", {"kind": KIND})
        assert template.status_code == 200 and template["Content-Type"] == XLSX
        kinds = {kind["key"]: kind for kind in api.get(f"{self.url}kinds/").data}
        assert kinds[KIND]["match_keys"] == ["title"]
        assert kinds[KIND]["modes"] == ["create", "upsert"]

    def test_the_schema_documents_the_endpoints(self, personas, client_for):
        schema = client_for(personas.admin).get("/api/schema/").content.decode()
        assert "/api/v1/imports/{id}/" in schema and "/api/v1/imports/template/" in schema
