"""Pages, API, chart flags, dashboard, portal page: audited, scoped, refusing bad input."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.models import AccessEvent
from openiop.core.chart import chart_flags
from openiop.medications import selectors, services
from openiop.medications.models import (
    Administration,
    MedicationOrder,
    MedicationReview,
    Reconciliation,
)
from tests.conftest import login

from .conftest import order

TODAY = timezone.localdate


def tab_url(med) -> str:
    return reverse("medications:participant_medications", kwargs={"code": med.participant.code})


class TestChartTab:
    def test_tab_shows_the_list_timeline_and_is_audited(self, med):
        o = order(med, "sertraline", dose="50")
        services.order_adjust(actor=med.prescriber, order=o, version=1, reason="dose_titration",
                              dose="100")
        client = login(med.prescriber)
        response = client.get(tab_url(med))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Sertraline" in body and f"dose-{o.code}" in body
        assert '"stepped": true' in body
        assert AccessEvent.objects.filter(actor=med.prescriber, action="view",
                                          object_type="medications").exists()
        # The tab is listed on the chart.
        assert f'href="{tab_url(med)}"' in body

    def test_front_desk_cannot_see_medications(self, med):
        from openiop.accounts.models import Role
        from tests import factories as f

        desk = f.staff(med.w.org, Role.FRONT_DESK, username="desk")
        assert login(desk).get(tab_url(med)).status_code == 404

    def test_outsider_gets_404_and_api_too(self, med):
        client = login(med.w.outsider)
        assert client.get(tab_url(med)).status_code == 404
        api = f"/api/medications/participants/{med.participant.code}/orders"
        assert client.get(api).status_code == 404


class TestOrderPages:
    def test_prescriber_adds_an_order_through_the_form(self, med):
        client = login(med.prescriber)
        url = reverse("medications:order_new", kwargs={"code": med.participant.code})
        response = client.post(url, {"catalog_key": "escitalopram", "source": "clinic",
                                     "dose": "10", "unit": "mg", "route": "oral",
                                     "frequency": "daily", "start_date": TODAY().isoformat(),
                                     "refills": "1"})
        assert response.status_code == 302
        o = MedicationOrder.objects.get()
        assert o.name == "Escitalopram" and o.prescriber == med.prescriber

    def test_absurd_dose_in_the_form_names_the_field_and_saves_nothing(self, med):
        client = login(med.prescriber)
        url = reverse("medications:order_new", kwargs={"code": med.participant.code})
        response = client.post(url, {"catalog_key": "escitalopram", "source": "clinic",
                                     "dose": "2000", "unit": "mg", "route": "oral",
                                     "frequency": "daily", "start_date": TODAY().isoformat()})
        assert response.status_code == 422
        assert "Dose: 2000 mg is above the largest single oral dose of Escitalopram" in \
            response.content.decode()
        assert MedicationOrder.objects.count() == 0

    def test_interaction_warning_is_shown_then_acknowledged(self, med):
        order(med, "buprenorphine_naloxone", dose="16", route="sublingual")
        client = login(med.prescriber)
        url = reverse("medications:order_new", kwargs={"code": med.participant.code})
        data = {"catalog_key": "clonazepam", "source": "clinic", "dose": "0.5", "unit": "mg",
                "route": "oral", "frequency": "bid", "start_date": TODAY().isoformat()}
        response = client.post(url, data)
        assert response.status_code == 422
        assert "Opioid with a benzodiazepine" in response.content.decode()
        assert MedicationOrder.objects.count() == 1
        response = client.post(url, data | {"ack_opioid_benzodiazepine": "Taper plan; naloxone"})
        assert response.status_code == 302
        assert MedicationOrder.objects.get(catalog_key="clonazepam").acknowledgements.count() == 1

    def test_adjust_page_changes_the_dose_with_a_reason(self, med):
        o = order(med)
        client = login(med.prescriber)
        url = reverse("medications:order_adjust",
                      kwargs={"code": med.participant.code, "order_code": o.code})
        assert client.get(url).status_code == 200
        response = client.post(url, {"version": 1, "dose": "100", "unit": "mg",
                                     "frequency": "daily", "route": "oral",
                                     "reason": "dose_titration",
                                     "effective_date": TODAY().isoformat()})
        assert response.status_code == 302
        o.refresh_from_db()
        assert o.dose == 100 and o.changes.last().reason == "dose_titration"

    def test_nurse_posting_an_adjustment_is_refused_and_nothing_changes(self, med):
        o = order(med)
        client = login(med.nurse)
        url = reverse("medications:order_adjust",
                      kwargs={"code": med.participant.code, "order_code": o.code})
        response = client.post(url, {"version": 1, "dose": "100", "unit": "mg",
                                     "frequency": "daily", "route": "oral",
                                     "reason": "dose_titration",
                                     "effective_date": TODAY().isoformat()})
        assert response.status_code == 422
        assert "Only a prescriber may change a clinic medication order" in response.content.decode()
        o.refresh_from_db()
        assert o.dose == 50 and o.changes.count() == 1

    def test_reconcile_page_records_the_reconciliation(self, med):
        o = order(med)
        client = login(med.prescriber)
        url = reverse("medications:reconcile", kwargs={"code": med.participant.code})
        response = client.post(url, {"point": "admission", f"decision_{o.code}": "continue"})
        assert response.status_code == 302
        assert Reconciliation.objects.get().performed_by == med.prescriber

    def test_screen_page_flags_an_unexpected_result(self, med):
        order(med, "buprenorphine", dose="8", route="sublingual")
        client = login(med.nurse)
        url = reverse("medications:screen_new", kwargs={"code": med.participant.code})
        response = client.post(url, {"collected_on": TODAY().isoformat(), "specimen": "urine",
                                     "sub_buprenorphine": "neg", "sub_fentanyl": "pos"},
                               follow=True)
        assert "some results do not match" in response.content.decode()

    def test_administer_page_refuses_without_an_order(self, med):
        client = login(med.nurse)
        url = reverse("medications:administer", kwargs={"code": med.participant.code})
        response = client.post(url, {"order": "", "administered_at": "2026-01-01T10:00",
                                     "dose": "380", "unit": "mg", "site": "left gluteal",
                                     "lot": "L1"})
        assert response.status_code == 422
        assert "no active clinic order" in response.content.decode()
        assert not Administration.objects.exists()


class TestApi:
    def url(self, med) -> str:
        return f"/api/medications/participants/{med.participant.code}/orders"

    def payload(self, **kw):
        return {"catalog_key": "sertraline", "dose": "50", "unit": "mg", "route": "oral",
                "frequency": "daily", "start_date": TODAY().isoformat()} | kw

    def test_prescriber_lists_creates_and_adjusts(self, med):
        client = login(med.prescriber)
        response = client.post(self.url(med), self.payload(), content_type="application/json")
        assert response.status_code == 201, response.content
        code = response.json()["code"]
        response = client.post(f"{self.url(med)}/{code}/adjust",
                               {"version": 1, "reason": "dose_titration", "dose": "100"},
                               content_type="application/json")
        assert response.status_code == 200 and response.json()["dose"] in ("100", "100.000", 100)
        listed = client.get(self.url(med)).json()
        assert [o["name"] for o in listed] == ["Sertraline"]

    def test_bad_input_answers_4xx_naming_the_field(self, med):
        client = login(med.prescriber)
        for payload, field in ((self.payload(dose="-1"), "dose"),
                               (self.payload(unit="bucket"), "unit"),
                               (self.payload(stop_date="2000-01-01"), "stop_date"),
                               (self.payload(dose="abc"), "dose")):
            response = client.post(self.url(med), payload, content_type="application/json")
            assert response.status_code == 422, (payload, response.content)
            assert field in response.json()["detail"]
        assert MedicationOrder.objects.count() == 0

    def test_non_prescriber_is_403_and_warnings_are_409(self, med):
        assert login(med.nurse).post(self.url(med), self.payload(),
                                     content_type="application/json").status_code == 403
        client = login(med.prescriber)
        client.post(self.url(med), self.payload(catalog_key="buprenorphine", dose="8",
                                                route="sublingual"),
                    content_type="application/json")
        response = client.post(self.url(med), self.payload(catalog_key="lorazepam", dose="1"),
                               content_type="application/json")
        assert response.status_code == 409
        assert response.json()["warnings"][0]["rule_id"] == "opioid_benzodiazepine"
        response = client.post(self.url(med), self.payload(
            catalog_key="lorazepam", dose="1",
            acknowledgements={"opioid_benzodiazepine": "Two-week taper, naloxone on hand"}),
            content_type="application/json")
        assert response.status_code == 201

    def test_adjust_by_nurse_is_403_and_stale_version_409(self, med):
        o = order(med)
        url = f"{self.url(med)}/{o.code}/adjust"
        body = {"version": 1, "reason": "dose_titration", "dose": "100"}
        assert login(med.nurse).post(url, body, content_type="application/json"
                                     ).status_code == 403
        client = login(med.prescriber)
        assert client.post(url, body, content_type="application/json").status_code == 200
        assert client.post(url, body | {"dose": "150"},
                           content_type="application/json").status_code == 409


class TestFlagsAndDashboard:
    def test_flags_for_overdue_review_naloxone_and_unexpected_screen(self, med):
        med.w.episode.admitted_on = TODAY() - timedelta(days=40)
        med.w.episode.save(update_fields=["admitted_on"])
        order(med, "buprenorphine", dose="8", route="sublingual", days_ago=35)
        services.use_disorder_record(actor=med.w.clinician, participant=med.participant,
                                     substance="opioid", noted_on=TODAY() - timedelta(days=40))
        services.screen_record(actor=med.nurse, participant=med.participant, collected_on=TODAY(),
                               results={"buprenorphine": False})
        labels = {f.label for f in chart_flags(med.participant, med.w.episode)}
        assert {"Medication review overdue", "No naloxone on hand",
                "Unexpected drug screen"} <= labels
        services.review_record(actor=med.prescriber, participant=med.participant)
        services.naloxone_record(actor=med.nurse, participant=med.participant, on_hand=True)
        labels = {f.label for f in chart_flags(med.participant, med.w.episode)}
        assert "Medication review overdue" not in labels and "No naloxone on hand" not in labels

    def test_review_cadence_comes_from_program_settings(self, med):
        med.w.program.settings = {"medication_review_days": 7}
        med.w.program.save(update_fields=["settings"])
        MedicationReview.objects.create(participant=med.participant, reviewer=med.prescriber,
                                        reviewed_on=TODAY() - timedelta(days=10))
        order(med)
        status = selectors.review_status(med.participant, med.w.episode)
        assert status["cadence"] == 7 and status["overdue"]
        med.w.program.settings = {}
        med.w.program.save(update_fields=["settings"])
        med.w.episode.refresh_from_db()
        assert not selectors.review_status(med.participant, med.w.episode)["overdue"]

    def test_dashboard_lists_and_query_count_is_flat(self, med):
        from tests import factories as f

        def add_one(i: int) -> None:
            p = f.participant(med.w.org, legal_last_name=f"Case{i}")
            # Part 2 records: the writers below are on the care team (openiop.access).
            f.episode(p, med.w.program, admitted_on=TODAY() - timedelta(days=60),
                      prescriber=med.prescriber, therapist=med.w.clinician,
                      case_manager=med.nurse)
            services.no_known_allergies_record(actor=med.w.clinician, participant=p)
            services.order_create(actor=med.prescriber, participant=p, data={
                "catalog_key": "buprenorphine", "source": "clinic", "prescriber": med.prescriber,
                "dose": 8, "unit": "mg", "route": "sublingual", "frequency": "daily",
                "start_date": TODAY() - timedelta(days=50)})
            services.use_disorder_record(actor=med.w.clinician, participant=p,
                                         substance="opioid", noted_on=TODAY())
            services.screen_record(actor=med.nurse, participant=p, collected_on=TODAY(),
                                   results={"buprenorphine": False, "fentanyl": True})

        client = login(med.prescriber)
        add_one(0)
        with CaptureQueriesContext(connection) as few:
            response = client.get("/medications/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "Case0" in body and "never asked" in body and "Fentanyl" in body
        assert [r["participant"].legal_last_name for r in
                selectors.overdue_reviews(med.w.org.pk)] == ["Case0"]
        for i in range(1, 6):
            add_one(i)
        with CaptureQueriesContext(connection) as many:
            client.get("/medications/")
        assert len(many) == len(few)


class TestPortalPage:
    def test_participant_sends_a_check_in_from_the_portal_page(self, med):
        user = User.objects.create_user(username="pt2", password="x" * 12, role="participant")
        med.participant.user = user
        med.participant.save(update_fields=["user"])
        order(med)
        client = login(user)
        url = reverse("medications:my_adherence")
        page = client.get(url)
        assert page.status_code == 200 and b"Sertraline" in page.content
        assert b'class="portal"' in page.content
        response = client.post(url, {"doses_missed": "1", "note": "Forgot on Sunday"})
        assert response.status_code == 302
        assert med.participant.adherence_checks.get().reporter == "participant"
        bad = client.post(url, {"doses_missed": "-3"})
        assert bad.status_code == 200 and med.participant.adherence_checks.count() == 1

    def test_staff_and_anonymous_cannot_use_the_participant_page(self, med):
        assert login(med.prescriber).get(reverse("medications:my_adherence")).status_code == 404
        from django.test import Client

        assert Client().get(reverse("medications:my_adherence")).status_code == 302


def test_no_review_is_overdue_without_a_clinic_prescriber(med):
    med.w.episode.admitted_on = TODAY() - timedelta(days=90)
    med.w.episode.save(update_fields=["admitted_on"])
    order(med)
    assert selectors.review_status(med.participant, med.w.episode)["overdue"]
    med.w.episode.prescriber = None
    med.w.episode.save(update_fields=["prescriber"])
    assert not selectors.review_status(med.participant, med.w.episode)["overdue"]
    assert selectors.overdue_reviews(med.w.org.pk) == []


def test_timeline_steps_with_each_change_and_ends_at_the_stop(med):
    o = order(med, "sertraline", dose="50", days_ago=30)
    o = services.order_adjust(actor=med.prescriber, order=o, version=1, reason="dose_titration",
                              dose="100", effective_date=TODAY() - timedelta(days=16))
    services.order_stop(actor=med.prescriber, order=o, version=o.version, reason="side_effect",
                        stop_date=TODAY() - timedelta(days=2))
    o = MedicationOrder.objects.prefetch_related("changes").get()
    (chart,) = selectors.dose_timeline_specs([o])
    spec = chart["spec"]
    (dataset,) = spec["datasets"]
    assert dataset["stepped"] is True
    labels, data = spec["labels"], dataset["data"]
    assert len(labels) >= 5  # weekly points, not only the three change dates
    assert data[0] == 50.0
    assert 100.0 in data and data[-1] is None
    assert labels[-1] == TODAY().strftime("%b %d")


def test_chart_tab_query_count_does_not_grow_with_the_history(med):
    client = login(med.prescriber)
    o = order(med, "sertraline", dose="50", days_ago=40)
    services.screen_record(actor=med.nurse, participant=med.participant, collected_on=TODAY(),
                           results={"cocaine": False})
    client.get(tab_url(med))
    with CaptureQueriesContext(connection) as few:
        assert client.get(tab_url(med)).status_code == 200
    for dose in ("100", "150"):
        o = services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="dose_titration", dose=dose)
    for key in ("trazodone", "prazosin", "hydroxyzine"):
        order(med, key, dose="1" if key == "prazosin" else "25", frequency="qhs",
              acks={"serotonergic_combination": "Low dose for sleep, counseled"})
    for _ in range(3):
        services.screen_record(actor=med.nurse, participant=med.participant,
                               collected_on=TODAY(), results={"cocaine": False})
        services.adherence_record(actor=med.nurse, participant=med.participant, doses_missed=0)
    with CaptureQueriesContext(connection) as many:
        assert client.get(tab_url(med)).status_code == 200
    assert len(many) == len(few)
