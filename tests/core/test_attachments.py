"""Attachments on records (core/services.py attachment_*, core/views.py, core/api_views.py):
what files are accepted, safe names, and who may upload, download and delete, on the pages and
through the API. The records are org Employees: sales1 sees only their own record and may not
change it; the manager may change everyone in the marketing department; sales2 sees neither."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from marketdesk.core import services
from marketdesk.core.models import Attachment
from marketdesk.core.services import MSG_EMPTY, MSG_TOO_LARGE, safe_file_name
from marketdesk.org.models import Employee

pytestmark = pytest.mark.django_db


def in_english(client):
    """Pages in English: the header for anonymous pages, the language cookie for signed-in
    ones (a signed-in user's saved language applies unless the browser chose one)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def tiny_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def fake_exe() -> bytes:
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
    )


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def record(personas) -> Employee:
    return personas.emp("sales1")


@pytest.fixture
def ct() -> int:
    return ContentType.objects.get_for_model(Employee).pk


def add(personas, record, name="report.pdf", content=None, actor=None) -> Attachment:
    return services.attachment_add(
        actor=actor or personas.manager,
        record=record,
        upload=upload(name, tiny_pdf() if content is None else content),
    )


def page_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


class TestWhatIsAccepted:
    def test_a_pdf_is_accepted_with_its_real_type(self, personas, record):
        attachment = add(personas, record, "合同 2026.pdf")
        assert attachment.mime_type == "application/pdf"
        assert attachment.original_name == "合同 2026.pdf"
        assert attachment.size == len(tiny_pdf())
        assert attachment.uploaded_by == personas.manager
        with attachment.file.open("rb") as handle:
            assert handle.read() == tiny_pdf()

    def test_a_png_is_accepted(self, personas, record):
        attachment = add(personas, record, "photo.PNG", tiny_png())
        assert attachment.mime_type == "image/png"

    def test_a_utf8_or_gb18030_text_file_is_accepted(self, personas, record):
        assert add(personas, record, "list.csv", "姓名,电话\n".encode()).mime_type == "text/csv"
        assert add(personas, record, "note.txt", "备注".encode("gb18030")).mime_type == "text/plain"

    def test_a_program_renamed_to_pdf_is_refused(self, personas, record):
        with pytest.raises(ValidationError) as caught:
            add(personas, record, "invoice.pdf", fake_exe())
        assert "invoice.pdf" in caught.value.message_dict["file"][0]
        assert not Attachment.objects.exists()

    def test_a_png_named_pdf_is_refused(self, personas, record):
        with pytest.raises(ValidationError):
            add(personas, record, "scan.pdf", tiny_png())

    def test_a_text_file_named_pdf_is_refused(self, personas, record):
        with pytest.raises(ValidationError):
            add(personas, record, "fake.pdf", b"just text, not a pdf")

    def test_a_program_is_refused_under_its_own_name(self, personas, record):
        with pytest.raises(ValidationError):
            add(personas, record, "setup.exe", fake_exe())

    def test_a_binary_named_txt_is_refused(self, personas, record):
        with pytest.raises(ValidationError):
            add(personas, record, "readme.txt", fake_exe())

    def test_an_html_page_is_refused(self, personas, record):
        with pytest.raises(ValidationError):
            add(personas, record, "page.html", b"<html><script>alert(1)</script></html>")

    def test_an_empty_file_is_refused(self, personas, record):
        with pytest.raises(ValidationError) as caught:
            add(personas, record, "empty.pdf", b"")
        assert caught.value.message_dict["file"] == [MSG_EMPTY % {"name": "empty.pdf"}]

    def test_a_file_over_the_limit_is_refused(self, settings, personas, record):
        settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
        big = tiny_pdf() + b"0" * (1024 * 1024)
        with pytest.raises(ValidationError) as caught:
            add(personas, record, "big.pdf", big)
        assert caught.value.message_dict["file"] == [
            MSG_TOO_LARGE % {"name": "big.pdf", "limit": 1}
        ]
        assert not Attachment.objects.exists()

    def test_a_file_just_at_the_limit_is_accepted(self, settings, personas, record):
        settings.ATTACHMENT_MAX_BYTES = 2048
        content = tiny_pdf() + b"0" * (2048 - len(tiny_pdf()))
        assert add(personas, record, "edge.pdf", content).size == 2048

    def test_the_stored_file_name_is_not_the_user_s(self, personas, record):
        attachment = add(personas, record, "../../etc/passwd.pdf")
        assert attachment.file.name.startswith("attachments/")
        assert "passwd" not in attachment.file.name
        assert attachment.file.name.endswith(".pdf")


class TestSafeFileNames:
    @pytest.mark.parametrize(
        ("given", "kept"),
        [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
            ("/absolute/path/report.pdf", "report.pdf"),
            ("..", "file"),
            ("", "file"),
            ("报价单（最终）.xlsx", "报价单_最终_.xlsx"),
            ('a<b>c:d"e|f?g*h.pdf', "a_b_c_d_e_f_g_h.pdf"),
            ("evil\u202egnp.exe", "evil_gnp.exe"),
            ("tab\tand\nnewline.txt", "tab_and_newline.txt"),
            (" .hidden. ", "hidden"),
            ("ＦＵＬＬ.pdf", "FULL.pdf"),
        ],
    )
    def test_names_are_made_safe(self, given, kept):
        assert safe_file_name(given) == kept

    def test_a_long_name_keeps_its_extension(self):
        name = safe_file_name("年度报告" * 60 + ".pdf")
        assert len(name) <= 120
        assert name.endswith(".pdf")

    def test_a_long_name_is_still_accepted(self, personas, record):
        attachment = add(personas, record, "x" * 300 + ".pdf")
        assert attachment.original_name.endswith(".pdf")
        assert attachment.mime_type == "application/pdf"


class TestWhoMay:
    def test_a_salesperson_may_not_attach_to_a_record_they_may_only_see(self, personas, record):
        with pytest.raises(PermissionDenied):
            add(personas, record, actor=personas.sales1)

    def test_the_manager_may_attach_and_delete(self, personas, record):
        attachment = add(personas, record)
        services.attachment_delete(actor=personas.manager, attachment=attachment)
        assert not Attachment.objects.exists()

    def test_a_salesperson_may_not_delete(self, personas, record):
        attachment = add(personas, record)
        with pytest.raises(PermissionDenied):
            services.attachment_delete(actor=personas.sales1, attachment=attachment)
        assert Attachment.objects.filter(pk=attachment.pk).exists()


class TestPages:
    def test_upload_on_the_page(self, client_for, personas, record, ct):
        client = client_for(personas.manager)
        response = client.post(
            f"/records/{ct}/{record.pk}/files/",
            {"file": upload("offer.pdf", tiny_pdf()), "description": "签字版", "next": "/org/"},
        )
        assert response.status_code == 302
        assert response["Location"] == "/org/"
        attachment = Attachment.objects.get()
        assert (attachment.original_name, attachment.description) == ("offer.pdf", "签字版")

    def test_a_refused_upload_says_why(self, client_for, personas, record, ct):
        client = client_for(personas.manager)
        in_english(client)
        response = client.post(
            f"/records/{ct}/{record.pk}/files/", {"file": upload("invoice.pdf", fake_exe())}
        )
        assert response.status_code == 302
        assert not Attachment.objects.exists()
        assert any("not accepted: invoice.pdf" in text for text in page_messages(response))

    def test_an_empty_upload_says_the_file_is_empty(self, client_for, personas, record, ct):
        client = client_for(personas.manager)
        in_english(client)
        response = client.post(
            f"/records/{ct}/{record.pk}/files/", {"file": upload("empty.pdf", b"")}
        )
        assert not Attachment.objects.exists()
        assert page_messages(response) == ["empty.pdf is empty."]

    def test_upload_to_a_record_out_of_sight_is_404(self, client_for, personas, record, ct):
        response = client_for(personas.sales2).post(
            f"/records/{ct}/{record.pk}/files/", {"file": upload("a.pdf", tiny_pdf())}
        )
        assert response.status_code == 404
        assert not Attachment.objects.exists()

    def test_upload_to_an_unknown_record_type_is_404(self, client_for, personas, record):
        ct = ContentType.objects.get(app_label="core", model="user").pk
        response = client_for(personas.admin).post(
            f"/records/{ct}/{personas.sales1.pk}/files/", {"file": upload("a.pdf", tiny_pdf())}
        )
        assert response.status_code == 404

    def test_the_owner_downloads_a_file_on_their_own_record(self, client_for, personas, record):
        attachment = add(personas, record)
        response = client_for(personas.sales1).get(f"/files/{attachment.pk}/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == tiny_pdf()
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert response["Content-Disposition"].startswith("inline")

    def test_a_text_file_is_downloaded_not_shown(self, client_for, personas, record):
        attachment = add(personas, record, "notes.txt", b"hello")
        response = client_for(personas.sales1).get(f"/files/{attachment.pk}/")
        assert response["Content-Disposition"].startswith("attachment")

    def test_a_salesperson_cannot_download_from_another_s_record(
        self, client_for, personas, record
    ):
        attachment = add(personas, record)
        assert client_for(personas.sales2).get(f"/files/{attachment.pk}/").status_code == 404
        assert client_for(personas.sales1b).get(f"/files/{attachment.pk}/").status_code == 404
        assert client_for(personas.outsider).get(f"/files/{attachment.pk}/").status_code == 404

    def test_the_group_leader_may_download_in_the_group(self, client_for, personas, record):
        attachment = add(personas, record)
        assert client_for(personas.leader1).get(f"/files/{attachment.pk}/").status_code == 200
        assert client_for(personas.leader2).get(f"/files/{attachment.pk}/").status_code == 404

    def test_an_unknown_file_is_404(self, client_for, personas):
        assert client_for(personas.admin).get("/files/999999/").status_code == 404

    def test_a_file_missing_from_storage_is_404(self, client_for, personas, record):
        attachment = add(personas, record)
        attachment.file.storage.delete(attachment.file.name)
        assert client_for(personas.manager).get(f"/files/{attachment.pk}/").status_code == 404

    def test_delete_needs_the_right_to_change_the_record(
        self, client_for, personas, record, django_capture_on_commit_callbacks
    ):
        attachment = add(personas, record)
        stored, storage = attachment.file.name, attachment.file.storage
        response = client_for(personas.sales1).post(f"/files/{attachment.pk}/delete/")
        assert response.status_code == 302
        assert Attachment.objects.filter(pk=attachment.pk).exists()
        assert (
            client_for(personas.sales2).post(f"/files/{attachment.pk}/delete/").status_code == 404
        )
        with django_capture_on_commit_callbacks(execute=True):
            client_for(personas.manager).post(f"/files/{attachment.pk}/delete/")
        assert not Attachment.objects.filter(pk=attachment.pk).exists()
        assert not storage.exists(stored)

    def test_delete_needs_post(self, client_for, personas, record):
        attachment = add(personas, record)
        assert (
            client_for(personas.manager).get(f"/files/{attachment.pk}/delete/").status_code == 405
        )

    def test_the_record_page_lists_its_files(self, client_for, personas, record):
        add(personas, record, "合同.pdf")
        page = client_for(personas.sales1).get(f"/org/employees/{record.pk}/").content.decode()
        assert "合同.pdf" in page


class TestApi:
    URL = "/api/v1/attachments/"

    def post(self, api, record, name="report.pdf", content=None):
        return api.post(
            self.URL,
            {
                "record_type": "org.employee",
                "object_id": record.pk,
                "file": upload(name, tiny_pdf() if content is None else content),
                "description": "api",
            },
            format="multipart",
        )

    def test_upload_list_download_delete(self, api_for, personas, record):
        api = api_for(personas.manager)
        response = self.post(api, record)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["record_type"] == "org.employee"
        assert body["mime_type"] == "application/pdf"
        listed = api.get(self.URL, {"record_type": "org.employee", "object_id": record.pk})
        assert [item["id"] for item in listed.json()] == [body["id"]]
        download = api.get(f"{self.URL}{body['id']}/download/")
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == tiny_pdf()
        assert download["X-Content-Type-Options"] == "nosniff"
        assert api.delete(f"{self.URL}{body['id']}/").status_code == 204
        assert not Attachment.objects.exists()

    def test_a_disguised_program_is_400_naming_the_field(self, api_for, personas, record):
        response = self.post(api_for(personas.manager), record, "invoice.pdf", fake_exe())
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert "file" in response.json()["fields"]

    def test_an_empty_file_is_400(self, api_for, personas, record):
        response = self.post(api_for(personas.manager), record, "empty.pdf", b"")
        assert response.status_code == 400
        assert "file" in response.json()["fields"]

    def test_a_salesperson_may_not_upload_to_a_record_they_only_see(
        self, api_for, personas, record
    ):
        response = self.post(api_for(personas.sales1), record)
        assert response.status_code == 403
        assert set(response.json()) == {"code", "message", "fields"}

    def test_a_record_out_of_sight_is_404(self, api_for, personas, record):
        api = api_for(personas.sales2)
        assert self.post(api, record).status_code == 404
        listed = api.get(self.URL, {"record_type": "org.employee", "object_id": record.pk})
        assert listed.status_code == 404

    def test_an_unknown_record_type_is_400(self, api_for, personas, record):
        response = api_for(personas.admin).post(
            self.URL,
            {"record_type": "nope.thing", "object_id": 1, "file": upload("a.pdf", tiny_pdf())},
            format="multipart",
        )
        assert response.status_code == 400
        assert "record_type" in response.json()["fields"]

    def test_download_and_delete_follow_the_record_s_rights(self, api_for, personas, record):
        attachment = add(personas, record)
        url = f"{self.URL}{attachment.pk}/"
        assert api_for(personas.sales2).get(f"{url}download/").status_code == 404
        assert api_for(personas.sales2).get(url).status_code == 404
        assert api_for(personas.sales2).delete(url).status_code == 404
        assert api_for(personas.sales1).get(f"{url}download/").status_code == 200
        assert api_for(personas.sales1).delete(url).status_code == 403
        assert Attachment.objects.filter(pk=attachment.pk).exists()

    def test_a_non_numeric_id_is_404(self, api_for, personas):
        assert api_for(personas.admin).get(f"{self.URL}abc/").status_code == 404

    def test_anonymous_callers_get_401(self, personas, record):
        from rest_framework.test import APIClient

        attachment = add(personas, record)
        assert APIClient().get(f"{self.URL}{attachment.pk}/download/").status_code == 401
