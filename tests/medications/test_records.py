"""What the pages and records show: the uncoded marker on the order, the medication list
and the administration record; doses recorded with only what the route needs; screen
caveats; one dose chart per medication; the order API's new fields."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.medications import selectors, services
from openiop.medications.models import Administration, DrugScreenResult, MedicationOrder
from tests.conftest import login

from .conftest import order

TODAY = timezone.localdate
MARKER = "Not checked for interactions"


def uncoded(med, name: str = "Omeprazole 20 mg", **extra) -> MedicationOrder:
    data = {"name": name, "source": "clinic", "prescriber": med.prescriber,
            "dose": Decimal("20"), "unit": "mg", "route": "oral", "frequency": "daily",
            "start_date": TODAY() - timedelta(days=3)} | extra
    return services.order_create(actor=med.prescriber, participant=med.participant, data=data)


class TestUncodedMarker:
    def test_marker_on_the_list_the_order_and_the_administration_record(self, med):
        o = uncoded(med)
        coded = order(med, "sertraline")
        client = login(med.prescriber)
        code = med.participant.code
        tab = client.get(reverse("medications:participant_medications", kwargs={"code": code}))
        assert tab.content.decode().count(MARKER) == 1
        page = client.get(reverse("medications:order_adjust",
                                  kwargs={"code": code, "order_code": o.code}))
        assert MARKER in page.content.decode()
        coded_page = client.get(reverse("medications:order_adjust",
                                        kwargs={"code": code, "order_code": coded.code}))
        assert MARKER not in coded_page.content.decode()
        nurse = login(med.nurse)
        mar = nurse.get(reverse("medications:administer", kwargs={"code": code}))
        assert MARKER in mar.content.decode()
        services.administration_record(actor=med.nurse, participant=med.participant, order=o,
                                       administered_at=timezone.now() - timedelta(hours=1),
                                       dose="20", unit="mg")
        tab = client.get(reverse("medications:participant_medications", kwargs={"code": code}))
        assert tab.content.decode().count(MARKER) == 2  # the list and the dose given

    def test_api_reports_the_coding(self, med):
        client = login(med.prescriber)
        url = f"/api/medications/participants/{med.participant.code}/orders"
        response = client.post(url, {"name": "Omeprazole", "dose": "20", "unit": "mg",
                                     "route": "oral", "frequency": "daily",
                                     "start_date": TODAY().isoformat()},
                               content_type="application/json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["coding"] == "uncoded" and body["checked_for_interactions"] is False
        response = client.post(url, {"catalog_key": "buprenorphine", "dose": "8", "unit": "mg",
                                     "route": "sublingual", "frequency": "daily", "refills": 12,
                                     "start_date": TODAY().isoformat()},
                               content_type="application/json")
        assert response.status_code == 422 and "refills" in response.json()["detail"]


class TestAdministrationByRoute:
    def test_an_oral_dose_needs_no_site_or_lot(self, med):
        o = order(med, "sertraline")
        row = services.administration_record(
            actor=med.nurse, participant=med.participant, order=o,
            administered_at=timezone.now() - timedelta(hours=1), dose="50", unit="mg",
            site="left deltoid", lot="L9")
        assert (row.site, row.lot, row.route) == ("", "", "oral")

    @pytest.mark.parametrize("missing", ["site", "lot"])
    def test_an_injection_needs_site_and_lot(self, med, missing):
        o = order(med, "naltrexone_xr", dose="380", route="intramuscular", frequency="q4w")
        given = {"site": "left gluteal", "lot": "AB12"} | {missing: ""}
        with pytest.raises(ValidationError) as exc:
            services.administration_record(
                actor=med.nurse, participant=med.participant, order=o,
                administered_at=timezone.now() - timedelta(hours=1), dose="380", unit="mg",
                **given)
        assert set(exc.value.message_dict) == {missing}
        assert not Administration.objects.exists()

    def test_the_form_asks_only_for_what_the_route_needs(self, med):
        oral = order(med, "sertraline")
        shot = order(med, "naltrexone_xr", dose="380", route="intramuscular", frequency="q4w")
        client = login(med.nurse)
        url = reverse("medications:administer", kwargs={"code": med.participant.code})
        oral_page = client.get(f"{url}?order={oral.code}").content.decode()
        shot_page = client.get(f"{url}?order={shot.code}").content.decode()
        assert 'name="site"' not in oral_page and 'name="lot"' not in oral_page
        assert 'name="site"' in shot_page and 'name="lot"' in shot_page
        response = client.post(url, {"order": str(oral.code), "dose": "50", "unit": "mg",
                                     "administered_at": (timezone.localtime() - timedelta(
                                         hours=1)).strftime("%Y-%m-%dT%H:%M")})
        assert response.status_code == 302
        assert Administration.objects.get().order == oral


class TestScreenCaveats:
    def test_lorazepam_prescribed_and_benzodiazepines_negative_shows_the_caveat(self, med):
        order(med, "lorazepam", dose="1", days_ago=5)
        screen = services.screen_record(actor=med.nurse, participant=med.participant,
                                        collected_on=TODAY(), results={"benzodiazepines": False})
        assert not screen.has_unexpected
        result = DrugScreenResult.objects.get()
        assert result.interpretation == "assay_may_miss" and "Lorazepam" in result.caveat
        client = login(med.prescriber)
        tab = client.get(reverse("medications:participant_medications",
                                 kwargs={"code": med.participant.code})).content.decode()
        assert "often misses this medication" in tab and "definitive test" in tab
        assert "Prescribed but absent" not in tab

    def test_buprenorphine_absent_is_still_flagged(self, med):
        order(med, "buprenorphine", dose="8", route="sublingual", days_ago=5)
        screen = services.screen_record(actor=med.nurse, participant=med.participant,
                                        collected_on=TODAY(), results={"buprenorphine": False})
        assert screen.has_unexpected
        assert DrugScreenResult.objects.get().interpretation == "unexpected_negative"


class TestDoseCharts:
    def test_each_medication_has_its_own_scale(self, med):
        order(med, "divalproex", dose="250", frequency="bid", days_ago=20)
        order(med, "lorazepam", dose="1", days_ago=20)
        orders = list(selectors.orders_for(med.participant))
        charts = selectors.dose_timeline_specs(orders)
        assert sorted(c["name"] for c in charts) == ["Divalproex sodium", "Lorazepam"]
        for chart in charts:
            (dataset,) = chart["spec"]["datasets"]
            assert chart["spec"]["y"]["title"] == "mg"
            assert max(v for v in dataset["data"] if v is not None) in (250.0, 1.0)
        assert len({c["id"] for c in charts}) == 2
        assert charts[0]["spec"]["labels"] == charts[1]["spec"]["labels"]


class TestOrderFormChecks:
    def url(self, med) -> str:
        return reverse("medications:order_new", kwargs={"code": med.participant.code})

    def post(self, med, **kw):
        data = {"catalog_key": "escitalopram", "source": "clinic", "dose": "20", "unit": "mg",
                "route": "oral", "frequency": "qid", "start_date": TODAY().isoformat()} | kw
        return login(med.prescriber).post(self.url(med), data)

    def test_a_daily_total_above_the_maximum_asks_for_the_override_reason(self, med):
        response = self.post(med)
        assert response.status_code == 422
        body = response.content.decode()
        assert "80 mg a day" in body and "Reason for a dose above the daily maximum" in body
        assert MedicationOrder.objects.count() == 0
        response = self.post(med, dose_override_reason="Documented specialist plan, ECG done")
        assert response.status_code == 302
        assert MedicationOrder.objects.get().changes.get().override_reason

    def test_a_renamed_catalog_pick_keeps_what_was_typed(self, med):
        response = self.post(med, frequency="daily", dose="10", name="Oxycodone 10 mg")
        assert response.status_code == 422
        body = response.content.decode()
        assert "Oxycodone 10 mg" in body and "not Escitalopram" in body
