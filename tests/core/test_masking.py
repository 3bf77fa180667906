"""Personal data (R5.1.3, PIPL): masked wherever it leaves the system unless the user holds
core.view_personal_data; every unmasked view and every export is logged."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from marketdesk.core.masking import (
    can_export,
    can_view_personal_data,
    client_ip,
    mask_address,
    mask_id_number,
    mask_mobile,
)
from marketdesk.core.models import PersonalDataAccessLog, PersonalDataAction
from marketdesk.org import services

User = get_user_model()

ID_NUMBER = "11010519491231002X"  # every persona's (a valid check digit)
MOBILE_COLUMN, ID_COLUMN, ADDRESS_COLUMN, USERNAME_COLUMN = 6, 8, 9, 2


def address_of(personas, key: str) -> str:
    return personas.emp(key).address


class TestMaskFunctions:
    @pytest.mark.parametrize(
        ("value", "masked"),
        [
            ("13812345678", "138****5678"),
            ("13900000004", "139****0004"),
            ("8613812345678", "86138****5678"),
            ("0215551234", "021*****34"),
            ("12345", "*****"),
            ("", ""),
            (None, ""),
        ],
    )
    def test_mobile(self, value, masked):
        assert mask_mobile(value) == masked

    @pytest.mark.parametrize(
        ("value", "masked"),
        [
            (ID_NUMBER, "110***********002X"),
            ("110105491231002", "110********1002"),  # the old 15-digit form
            ("1234567", "*******"),
            ("", ""),
            (None, ""),
        ],
    )
    def test_id_number(self, value, masked):
        assert mask_id_number(value) == masked

    @pytest.mark.parametrize(
        ("value", "masked"),
        [
            ("上海市浦东新区世纪大道100号1201室", "上海市浦东新****"),
            ("上海市浦东新区世纪大道100号", "上海市浦东****"),
            ("北京", "北****"),
            ("", ""),
            (None, ""),
        ],
    )
    def test_address(self, value, masked):
        assert mask_address(value) == masked

    def test_a_masked_value_never_contains_the_hidden_part(self):
        assert "1234" not in mask_mobile("13812345678")[:7]
        assert "19491231" not in mask_id_number(ID_NUMBER)
        assert "世纪大道" not in mask_address("上海市浦东新区世纪大道100号")

    def test_the_template_filter_masks_by_kind(self):
        rendered = Template(
            '{% load md %}{{ m|masked:"mobile" }}|{{ n|masked:"id_number" }}'
        ).render(Context({"m": "13812345678", "n": None}))
        assert rendered == "138****5678|"


class TestPermissions:
    def test_who_may_see_unmasked_and_export(self, personas):
        assert can_view_personal_data(personas.manager)
        assert can_view_personal_data(personas.management)
        assert not can_view_personal_data(personas.leader1)
        assert not can_view_personal_data(personas.finance)
        assert can_export(personas.leader1) and can_export(personas.finance)
        assert not can_export(personas.sales1)


class TestEmployeeListPage:
    def test_the_mobile_is_masked_even_for_a_user_who_may_unmask(self, personas, client_for):
        for user in (personas.leader1, personas.manager):
            html = client_for(user).get(reverse("org:employee_list")).content.decode()
            assert "139****0004" in html
            assert "13900000004" not in html
            assert ID_NUMBER not in html
            assert address_of(personas, "sales1") not in html


class TestEmployeeDetailPage:
    def test_personal_data_is_masked_on_the_page(self, personas, client_for):
        sales1 = personas.emp("sales1")
        for user in (personas.leader1, personas.manager, personas.sales1):
            html = (
                client_for(user)
                .get(reverse("org:employee_detail", args=[sales1.pk]))
                .content.decode()
            )
            assert "139****0004" in html and "13900000004" not in html
            assert mask_id_number(ID_NUMBER) in html and ID_NUMBER not in html
            assert mask_address(sales1.address) in html and sales1.address not in html

    def test_the_reveal_button_shows_only_for_users_who_may_unmask(self, personas, client_for):
        url = reverse("org:employee_detail", args=[personas.emp("sales1").pk])
        assert 'id="md-reveal"' in client_for(personas.manager).get(url).content.decode()
        assert 'id="md-reveal"' not in client_for(personas.leader1).get(url).content.decode()

    def test_the_timeline_does_not_show_changed_personal_data(self, personas, client_for):
        sales1 = personas.emp("sales1")
        services.employee_update(
            actor=personas.admin,
            employee=sales1,
            address="上海市静安区南京西路1号",
            mobile="13812345678",
        )
        html = (
            client_for(personas.leader1)
            .get(reverse("org:employee_detail", args=[sales1.pk]))
            .content.decode()
        )
        assert "南京西路" not in html
        assert sales1.address not in html
        assert "13812345678" not in html


class TestEmployeeReveal:
    def test_it_returns_the_unmasked_values_and_logs_the_view(self, personas, client_for):
        sales1 = personas.emp("sales1")
        response = client_for(personas.manager).post(
            reverse("org:employee_reveal", args=[sales1.pk])
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "13900000004" in html and ID_NUMBER in html and sales1.address in html
        log = PersonalDataAccessLog.objects.get()
        assert (log.user, log.action, log.object_id, log.row_count) == (
            personas.manager,
            PersonalDataAction.VIEW,
            sales1.pk,
            1,
        )
        assert log.content_type.model == "employee"
        assert log.ip_address == "127.0.0.1"

    def test_a_user_without_the_permission_is_refused_and_nothing_is_logged(
        self, personas, client_for
    ):
        response = client_for(personas.leader1).post(
            reverse("org:employee_reveal", args=[personas.emp("sales1").pk])
        )
        assert response.status_code == 403
        assert "13900000004" not in response.content.decode()
        assert not PersonalDataAccessLog.objects.exists()

    def test_a_record_outside_the_scope_is_not_found(self, personas, client_for):
        response = client_for(personas.manager).post(
            reverse("org:employee_reveal", args=[personas.emp("finance").pk])
        )
        assert response.status_code == 404
        assert not PersonalDataAccessLog.objects.exists()

    def test_it_only_answers_post(self, personas, client_for):
        response = client_for(personas.manager).get(
            reverse("org:employee_reveal", args=[personas.emp("sales1").pk])
        )
        assert response.status_code == 405
        assert not PersonalDataAccessLog.objects.exists()


class TestEmployeeApi:
    def test_list_and_retrieve_are_masked_by_default(self, personas, api_for):
        api = api_for(personas.manager)
        sales1 = personas.emp("sales1")
        rows = {row["username"]: row for row in api.get("/api/v1/employees/").json()["results"]}
        one = api.get(f"/api/v1/employees/{sales1.pk}/").json()
        for data in (rows["sales1"], one):
            assert data["mobile"] == "139****0004"
            assert data["id_number"] == mask_id_number(ID_NUMBER)
            assert data["address"] == mask_address(sales1.address)
        assert not PersonalDataAccessLog.objects.exists()

    def test_retrieve_unmasked_with_the_permission_is_logged(self, personas, api_for):
        sales1 = personas.emp("sales1")
        data = api_for(personas.manager).get(f"/api/v1/employees/{sales1.pk}/?unmask=1").json()
        assert (data["mobile"], data["id_number"], data["address"]) == (
            "13900000004",
            ID_NUMBER,
            sales1.address,
        )
        log = PersonalDataAccessLog.objects.get()
        assert (log.user, log.action, log.object_id) == (personas.manager, "view", sales1.pk)

    def test_list_unmasked_with_the_permission_is_logged_with_the_row_count(
        self, personas, api_for
    ):
        response = api_for(personas.manager).get("/api/v1/employees/?unmask=true")
        rows = response.json()["results"]
        assert {row["mobile"] for row in rows} >= {"13900000004", "13900000005"}
        log = PersonalDataAccessLog.objects.get()
        assert (log.user, log.action, log.row_count) == (personas.manager, "view", len(rows))
        assert log.content_type.model == "employee"

    @pytest.mark.parametrize(
        "url", ["/api/v1/employees/?unmask=1", "/api/v1/employees/{pk}/?unmask=1"]
    )
    def test_unmask_without_the_permission_is_refused(self, personas, api_for, url):
        response = api_for(personas.leader1).get(url.format(pk=personas.emp("sales1").pk))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert not PersonalDataAccessLog.objects.exists()

    def test_write_responses_are_masked(self, personas, api_for):
        response = api_for(personas.manager).patch(
            f"/api/v1/employees/{personas.emp('sales1').pk}/",
            {"email": "wf@example.cn"},
            format="json",
        )
        assert response.json()["mobile"] == "139****0004"


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)][1:]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))[1:]


class TestEmployeeExport:
    def test_a_group_leader_exports_masked_data(self, personas, client_for):
        rows = xlsx_rows(
            client_for(personas.leader1).get(reverse("org:employee_export"), {"format": "xlsx"})
        )
        sales1 = next(row for row in rows if row[USERNAME_COLUMN] == "sales1")
        assert sales1[MOBILE_COLUMN] == "139****0004"
        assert sales1[ID_COLUMN] == mask_id_number(ID_NUMBER)
        assert sales1[ADDRESS_COLUMN] == mask_address(address_of(personas, "sales1"))

    def test_the_marketing_manager_exports_unmasked_data(self, personas, client_for):
        rows = xlsx_rows(
            client_for(personas.manager).get(reverse("org:employee_export"), {"format": "xlsx"})
        )
        sales1 = next(row for row in rows if row[USERNAME_COLUMN] == "sales1")
        assert (sales1[MOBILE_COLUMN], sales1[ID_COLUMN], sales1[ADDRESS_COLUMN]) == (
            "13900000004",
            ID_NUMBER,
            address_of(personas, "sales1"),
        )

    def test_the_csv_is_masked_the_same_way(self, personas, client_for):
        rows = csv_rows(
            client_for(personas.finance).get(reverse("org:employee_export"), {"format": "csv"})
        )
        assert rows and all("****" in row[MOBILE_COLUMN] for row in rows)
        assert all(ID_NUMBER not in row for row in rows)

    @pytest.mark.parametrize(
        ("persona", "count"), [("leader1", 3), ("manager", 7), ("finance", 12)]
    )
    def test_every_export_is_logged_with_its_row_count(self, personas, client_for, persona, count):
        user = getattr(personas, persona)
        client_for(user).get(reverse("org:employee_export"), {"format": "csv"})
        log = PersonalDataAccessLog.objects.get()
        assert (log.user, log.action, log.row_count) == (user, PersonalDataAction.EXPORT, count)
        assert log.content_type.model == "employee" and log.object_id is None

    def test_a_refused_export_is_not_logged(self, personas, client_for):
        assert client_for(personas.sales1).get(reverse("org:employee_export")).status_code == 403
        assert not PersonalDataAccessLog.objects.exists()

    def test_the_log_says_whether_the_export_was_masked(self, personas, client_for):
        client_for(personas.leader1).get(reverse("org:employee_export"), {"format": "csv"})
        client_for(personas.manager).get(reverse("org:employee_export"), {"format": "csv"})
        by_user = {
            log.user.username: log.description for log in PersonalDataAccessLog.objects.all()
        }
        assert "(masked)" in by_user["leader1"]
        assert "(unmasked)" in by_user["manager"]


class TestClientIp:
    """The address written into the access log cannot be chosen by the client."""

    def request(self, **meta):
        return RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", **meta)

    def test_without_a_proxy_a_forwarded_header_is_ignored(self, settings):
        settings.SECURE_PROXY_SSL_HEADER = None
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR="6.6.6.6")) == "10.1.2.3"

    def test_behind_the_proxy_the_forwarded_address_is_used(self, settings):
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR="203.0.113.9")) == "203.0.113.9"

    def test_a_forwarded_value_that_is_not_an_address_is_ignored(self, settings):
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        assert client_ip(self.request(HTTP_X_FORWARDED_FOR="<script>")) == "10.1.2.3"

    def test_no_request_no_address(self):
        assert client_ip(None) is None

    def test_an_export_logs_the_real_address(self, personas, client_for, settings):
        settings.SECURE_PROXY_SSL_HEADER = None
        client_for(personas.manager).get(
            reverse("org:employee_export"), {"format": "csv"}, HTTP_X_FORWARDED_FOR="6.6.6.6"
        )
        assert PersonalDataAccessLog.objects.get().ip_address == "127.0.0.1"
