"""The targets pages per role: dashboard (home of /sales/), targets list, detail and the
12-month form with its split buttons and errors, copy, rankings, RFM; in Chinese and English;
403 without the permission, 404 on ids out of scope; exports."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from marketdesk.sales.models import SalesRollup, SalesTarget, TargetMetric, TargetSubject
from marketdesk.sales.services import targets as services

from .test_targets_rollups import make_order

pytestmark = pytest.mark.django_db
EVEN = [Decimal("1000.00")] * 12


@pytest.fixture
def as_user(client_for):
    def make(user, language="en"):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return make


@pytest.fixture
def targets(sales_personas, customer):
    p = sales_personas
    made = {
        "company": services.target_create(
            actor=p.manager,
            year=2026,
            metric=TargetMetric.ORDER_AMOUNT,
            subject=TargetSubject.COMPANY,
            months=EVEN,
        ),
        "s1": services.target_create(
            actor=p.manager,
            year=2026,
            metric=TargetMetric.ORDER_AMOUNT,
            subject=TargetSubject.DEPARTMENT,
            department=p.units["S1"],
            months=EVEN,
        ),
    }
    for who in ("sales1", "sales2"):
        made[who] = services.target_create(
            actor=p.manager,
            year=2026,
            metric=TargetMetric.ORDER_AMOUNT,
            subject=TargetSubject.PERSON,
            user=getattr(p, who),
            months=EVEN,
        )
    make_order(
        customer=customer,
        owner=p.sales1,
        department=p.units["S1"],
        order_date=datetime.date(2026, 3, 4),
        total="1500.00",
    )
    services.rollups_process()
    return made


def form_data(**overrides) -> dict:
    data = {
        "year": "2027",
        "metric": "orders",
        "subject": "company",
        "annual": "",
        **{f"m{m:02d}": "100.00" for m in range(1, 13)},
    }
    data.update(overrides)
    return data


class TestDashboardPage:
    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    @pytest.mark.parametrize("url", ["/sales/", "/sales/dashboard/"])
    def test_the_manager_sees_the_dashboard(self, targets, sales_personas, as_user, language, url):
        response = as_user(sales_personas.manager, language).get(url, {"year": 2026, "month": 3})
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="md-grid"' in page and 'id="md-kpi-orders"' in page
        assert "销售一组" in page and "1,500.00" in page
        if language == "en":
            assert "Sales dashboard" in page and "Month on month" in page

    def test_a_salesperson_sees_only_their_row(self, targets, sales_personas, as_user):
        page = as_user(sales_personas.sales2).get("/sales/", {"year": 2026, "month": 3})
        text = page.content.decode()
        assert page.status_code == 200
        assert "吴涛" in text and "1,500.00" not in text
        assert "md-export" not in text  # salespeople may not export

    @pytest.mark.parametrize("who", ["promo", "outsider", "service"])
    def test_without_the_permission_it_is_forbidden(self, targets, sales_personas, as_user, who):
        assert as_user(getattr(sales_personas, who)).get("/sales/").status_code == 403

    def test_bad_parameters_fall_back(self, targets, sales_personas, as_user):
        response = as_user(sales_personas.manager).get(
            "/sales/dashboard/", {"year": "abc", "month": "13", "metric": "x", "by": "person"}
        )
        assert response.status_code == 200

    def test_the_grid_exports(self, targets, sales_personas, as_user):
        client = as_user(sales_personas.manager)
        response = client.get("/sales/dashboard/", {"year": 2026, "format": "csv"})
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert "销售一组" in body and "1500.00" in body
        response = client.get("/sales/dashboard/", {"year": 2026, "format": "xlsx"})
        assert response.status_code == 200
        assert (
            as_user(sales_personas.sales1).get("/sales/dashboard/", {"format": "xlsx"}).status_code
            == 403
        )

    def test_recompute_is_for_the_manager(self, targets, sales_personas, as_user):
        SalesRollup.objects.all().delete()
        assert as_user(sales_personas.leader1).post("/sales/dashboard/rebuild/").status_code == 403
        response = as_user(sales_personas.manager).post("/sales/dashboard/rebuild/")
        assert response.status_code == 302
        assert SalesRollup.objects.count() == 1


class TestDashboardUnitGrid:
    """The page opens with the viewer's top units; a unit's children load through htmx from
    /sales/dashboard/units/<id>/ with the same scope (404 outside it)."""

    def url(self, unit):
        return f"/sales/dashboard/units/{unit.pk}/"

    def test_the_manager_sees_the_top_units_and_opens_the_region(
        self, targets, region_tree, sales_personas, as_user
    ):
        client = as_user(sales_personas.manager)
        page = client.get("/sales/dashboard/", {"year": 2026, "month": 3}).content.decode()
        region, branch = region_tree["region"], region_tree["branch"]
        assert f'data-row="unit-{sales_personas.units["MKT"].pk}"' in page
        assert f'data-row="unit-{region.pk}"' in page
        assert "上海分公司" not in page and "销售三组" not in page  # below the region: closed
        assert (
            f'hx-get="/sales/dashboard/units/{region.pk}/?year=2026&amp;month=3&amp;metric=orders"'
            in page
        )
        assert "sales/grid.js" in page and 'aria-expanded="true"' in page
        response = client.get(
            self.url(region), {"year": 2026, "month": 3, "metric": "orders"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        rows = response.content.decode()
        assert rows.startswith(f'<tr data-row="unit-{branch.pk}"')
        assert f'data-parent="unit-{region.pk}"' in rows and "上海分公司" in rows
        assert "400.00" in rows and "100.00 · " in rows  # actual, target
        assert f"/sales/dashboard/units/{branch.pk}/" in rows  # 销售三组 below, still closed
        group = client.get(self.url(branch), {"year": 2026, "month": 3}).content.decode()
        assert "销售三组" in group and "hx-get" not in group

    def test_management_opens_any_unit_with_figures(
        self, targets, region_tree, sales_personas, as_user
    ):
        response = as_user(sales_personas.management).get(self.url(region_tree["region"]))
        assert response.status_code == 200

    @pytest.mark.parametrize("who", ["leader1", "sales1"])
    def test_units_outside_the_scope_are_404(
        self, targets, region_tree, sales_personas, as_user, who
    ):
        client = as_user(getattr(sales_personas, who))
        assert client.get(self.url(region_tree["region"])).status_code == 404
        assert client.get("/sales/dashboard/units/999999/").status_code == 404

    def test_the_manager_gets_404_outside_their_scope(self, targets, sales_personas, as_user):
        client = as_user(sales_personas.manager)
        assert client.get(self.url(sales_personas.units["GM"])).status_code == 404

    @pytest.mark.parametrize("who", ["promo", "outsider", "service"])
    def test_without_the_permission_it_is_forbidden(self, targets, sales_personas, as_user, who):
        client = as_user(getattr(sales_personas, who))
        assert client.get(self.url(sales_personas.units["S1"])).status_code == 403

    def test_by_person_the_page_has_pages(self, targets, sales_personas, as_user, monkeypatch):
        from marketdesk.sales import selectors_targets

        monkeypatch.setattr(selectors_targets, "PERSON_PAGE_SIZE", 1)
        client = as_user(sales_personas.manager)
        params = {"year": 2026, "month": 3, "by": "person"}
        first = client.get("/sales/dashboard/", params).content.decode()
        assert 'id="md-grid-pages"' in first and "Page 1 of 2" in first
        assert "page=2#md-grid" in first
        second = client.get("/sales/dashboard/", {**params, "page": 2}).content.decode()
        assert "Page 2 of 2" in second and "page=1#md-grid" in second
        body = client.get("/sales/dashboard/", {**params, "format": "csv"})
        text = b"".join(body.streaming_content).decode("utf-8-sig")
        assert "王芳" in text and "吴涛" in text  # the export: everyone

    def test_the_export_has_every_unit(self, targets, region_tree, sales_personas, as_user):
        response = as_user(sales_personas.manager).get(
            "/sales/dashboard/", {"year": 2026, "format": "csv"}
        )
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert all(
            name in body for name in ("营销部", "华东大区", "上海分公司", "销售三组", "销售一组")
        )


class TestTargetPages:
    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    def test_list_and_detail(self, targets, sales_personas, as_user, language):
        client = as_user(sales_personas.manager, language)
        page = client.get("/sales/targets/").content.decode()
        assert 'id="md-targets"' in page and "王芳" in page and "12.5%" in page
        detail = client.get(f"/sales/targets/{targets['sales1'].pk}/")
        assert detail.status_code == 200
        assert "1,500.00" in detail.content.decode()

    def test_list_filters_and_search(self, targets, sales_personas, as_user):
        client = as_user(sales_personas.manager)
        page = client.get("/sales/targets/", {"subject": "person", "q": "王芳"}).content.decode()
        assert "王芳" in page and "吴涛" not in page

    def test_a_salesperson_sees_only_their_target_and_404_for_others(
        self, targets, sales_personas, as_user
    ):
        client = as_user(sales_personas.sales1)
        page = client.get("/sales/targets/").content.decode()
        assert "王芳" in page and "吴涛" not in page and "md-new-target" not in page
        other = client.get(f"/sales/targets/{targets['sales2'].pk}/")
        assert other.status_code == 404
        assert client.get(f"/sales/targets/{targets['sales1'].pk}/edit/").status_code == 403
        assert client.get("/sales/targets/new/").status_code == 403

    def test_a_leader_gets_404_for_the_other_group(self, targets, sales_personas, as_user):
        client = as_user(sales_personas.leader1)
        assert client.get(f"/sales/targets/{targets['sales2'].pk}/").status_code == 404
        assert client.get(f"/sales/targets/{targets['sales1'].pk}/").status_code == 200

    def test_export(self, targets, sales_personas, as_user):
        response = as_user(sales_personas.manager).get(
            "/sales/targets/export/", {"format": "csv", "subject": "person"}
        )
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert "王芳" in body and "吴涛" in body and "12000.00" in body
        assert as_user(sales_personas.sales1).get("/sales/targets/export/").status_code == 403

    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    def test_the_form_renders_with_the_12_months(self, sales_personas, as_user, language):
        page = as_user(sales_personas.manager, language).get("/sales/targets/new/")
        text = page.content.decode()
        assert page.status_code == 200
        assert 'name="m12"' in text and 'id="md-split-even"' in text

    def test_create_a_target(self, sales_personas, as_user):
        response = as_user(sales_personas.manager).post("/sales/targets/new/", form_data())
        target = SalesTarget.objects.get(year=2027)
        assert response.status_code == 302 and response.url == f"/sales/targets/{target.pk}/"
        assert target.annual == Decimal("1200.00")

    def test_a_wrong_year_total_is_shown_on_the_field(self, sales_personas, as_user):
        response = as_user(sales_personas.manager).post(
            "/sales/targets/new/", form_data(annual="1300.00")
        )
        text = response.content.decode()
        assert response.status_code == 200
        assert 'data-field="annual"' in text and "must equal the sum" in text
        assert not SalesTarget.objects.exists()

    def test_a_negative_month_is_shown_on_the_month(self, sales_personas, as_user):
        response = as_user(sales_personas.manager).post("/sales/targets/new/", form_data(m04="-5"))
        assert 'data-field="m04"' in response.content.decode()
        assert not SalesTarget.objects.exists()

    def test_a_duplicate_is_shown(self, targets, sales_personas, as_user):
        response = as_user(sales_personas.manager).post(
            "/sales/targets/new/",
            form_data(year="2026", subject="person", user=sales_personas.sales1.pk),
        )
        assert 'data-field="user"' in response.content.decode()

    def test_split_evenly_fills_the_months_without_saving(self, sales_personas, as_user):
        response = as_user(sales_personas.manager).post(
            "/sales/targets/new/", form_data(annual="1000.00", split="even")
        )
        text = response.content.decode()
        assert 'value="83.34"' in text and 'value="83.33"' in text
        assert not SalesTarget.objects.exists()

    def test_split_needs_a_year_total(self, sales_personas, as_user):
        response = as_user(sales_personas.manager).post(
            "/sales/targets/new/", form_data(annual="", split="even")
        )
        assert 'data-field="annual"' in response.content.decode()

    def test_seasonal_split_on_edit(self, targets, sales_personas, as_user):
        SalesRollup.objects.create(
            year=2025, month=7, owner_id=sales_personas.sales2.pk, order_amount=Decimal("1")
        )
        target = targets["sales2"]
        response = as_user(sales_personas.manager).post(
            f"/sales/targets/{target.pk}/edit/", form_data(annual="600.00", split="seasonal")
        )
        assert 'value="600.00"' in response.content.decode()

    def test_edit_saves_the_months(self, targets, sales_personas, as_user):
        target = targets["sales1"]
        response = as_user(sales_personas.manager).post(
            f"/sales/targets/{target.pk}/edit/", form_data(annual="1200.00", year="1999")
        )
        assert response.status_code == 302
        target.refresh_from_db()
        assert target.annual == Decimal("1200.00") and target.year == 2026  # head is locked

    def test_delete(self, targets, sales_personas, as_user):
        target = targets["sales2"]
        assert (
            as_user(sales_personas.leader2).post(f"/sales/targets/{target.pk}/delete/").status_code
            == 403
        )
        response = as_user(sales_personas.manager).post(f"/sales/targets/{target.pk}/delete/")
        assert response.status_code == 302
        assert not SalesTarget.objects.filter(pk=target.pk).exists()

    def test_copy_last_years(self, targets, sales_personas, as_user):
        client = as_user(sales_personas.manager)
        assert client.get("/sales/targets/copy/").status_code == 200
        response = client.post("/sales/targets/copy/", {"year": "2027", "percent": "10"})
        assert response.status_code == 302
        assert SalesTarget.objects.filter(year=2027).count() == 4
        response = client.post("/sales/targets/copy/", {"year": "2030", "percent": "0"})
        assert 'data-field="year"' in response.content.decode()


class TestRankingsAndRfmPages:
    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    def test_rankings(self, targets, sales_personas, as_user, language):
        response = as_user(sales_personas.manager, language).get(
            "/sales/rankings/", {"year": 2026, "month": 3}
        )
        text = response.content.decode()
        assert response.status_code == 200 and 'id="md-ranking-orders"' in text and "王芳" in text
        yearly = as_user(sales_personas.sales1).get("/sales/rankings/", {"period": "year"})
        assert yearly.status_code == 200
        assert as_user(sales_personas.promo).get("/sales/rankings/").status_code == 403

    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    def test_rfm(self, targets, sales_personas, as_user, language):
        services.rfm_compute()
        client = as_user(sales_personas.manager, language)
        response = client.get("/sales/rfm/")
        text = response.content.decode()
        assert response.status_code == 200
        assert 'id="md-rfm-segments"' in text and "杭州西湖数码科技有限公司" in text
        # the only customer ties with itself: the lowest quintile everywhere
        segment = client.get("/sales/rfm/", {"segment": "general_retain"}).content.decode()
        assert "杭州西湖数码科技有限公司" in segment
        other = client.get("/sales/rfm/", {"segment": "important_value"}).content.decode()
        assert "杭州西湖数码科技有限公司" not in other

    def test_rfm_export_and_scope(self, targets, sales_personas, as_user):
        services.rfm_compute()
        response = as_user(sales_personas.manager).get("/sales/rfm/", {"format": "csv"})
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert "杭州西湖数码科技有限公司" in body
        assert (
            as_user(sales_personas.sales1).get("/sales/rfm/", {"format": "csv"}).status_code == 403
        )
        page = as_user(sales_personas.sales2).get("/sales/rfm/").content.decode()
        assert "杭州西湖数码科技有限公司" not in page

    def test_rfm_recompute(self, targets, sales_personas, as_user):
        assert as_user(sales_personas.sales1).post("/sales/rfm/recompute/").status_code == 403
        assert as_user(sales_personas.manager).post("/sales/rfm/recompute/").status_code == 302


class TestGridHtml:
    """The dashboard grid is built in Python (one string for hundreds of rows)."""

    def row(self, **overrides):
        from decimal import Decimal as D

        cell = {"target": D("0"), "actual": D("0.00"), "rate": None}
        months = [dict(cell) for _ in range(12)]
        months[2] = {"target": D("1000.00"), "actual": D("1500.00"), "rate": D("150.0")}
        months[3] = {"target": D("1000.00"), "actual": D("500.00"), "rate": D("50.0")}
        row = {
            "label": "销售<一组>",
            "key": "unit-7",
            "depth": 2,
            "months": months,
            "year": {"target": D("2000.00"), "actual": D("2000.00"), "rate": D("100.0")},
            "mom": D("-66.7"),
            "yoy": None,
        }
        row.update(overrides)
        return row

    def test_cells_targets_rates_and_escaping(self):
        from marketdesk.sales.views.targets import _grid_html

        html = str(_grid_html([self.row()], 3))
        assert html.startswith('<tr data-row="unit-7">')
        assert "销售&lt;一组&gt;" in html and "<一组>" not in html
        assert 'style="padding-left: 2rem"' in html
        cells = html.split("<td ")
        assert len(cells) == 1 + 12 + 1 + 2  # months, year, MoM, YoY
        assert 'class="text-end text-nowrap table-primary">1,500.00' in cells[3]
        assert "1,000.00 · " in cells[3] and "text-success fw-semibold" in cells[3]
        assert "text-danger" in cells[4] and "50.0%" in cells[4]
        assert "table-primary" not in cells[4] and "<div" not in cells[1]
        assert '<span class="text-danger text-nowrap">-66.7%</span>' in cells[14]
        assert '<span class="text-body-secondary">—</span>' in cells[15]

    def test_a_person_row_has_no_indent(self):
        from decimal import Decimal as D

        from marketdesk.sales.views.targets import _grid_html

        html = str(_grid_html([self.row(depth=None, mom=D("5"))], 1))
        assert "padding-left" not in html and "+5%" in html
