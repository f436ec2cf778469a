"""The utilization-review packet: contents, clinical roles only, audited as a disclosure to
the payer, and for a 42 CFR Part 2 record released only under a consent naming the payer."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.audit.models import AccessEvent
from openiop.billing.models import Authorization
from openiop.intake.models import MeasureResponse
from openiop.medications.models import MedicationChange, MedicationOrder
from openiop.participants.disclosure import NOTICE_FULL
from openiop.participants.models import Consent, DisclosurePurpose, RecipientKind

from ..conftest import login
from .conftest import TODAY, TZ, attended, coverage


def _auth(clinic):
    cov = coverage(clinic.world.participant, clinic.commercial)
    return Authorization.objects.create(
        coverage=cov, units_approved=20, starts_on=TODAY - timedelta(days=20),
        ends_on=TODAY + timedelta(days=10), reference_number="UR-123",
        review_on=TODAY + timedelta(days=2))


def _url(auth, name="billing:ur_packet"):
    return reverse(name, kwargs={"code": auth.coverage.participant.code, "auth_code": auth.code})


def _facts(clinic):
    w = clinic.world
    attended(w, w.participant, TODAY - timedelta(days=7), minutes=180)
    for days, total in ((20, 18), (6, 9)):
        MeasureResponse.objects.create(
            participant=w.participant, instrument="phq9", answers={"q1": 1}, total=total,
            band="mild", completed_at=datetime(2026, 3, 16, 9, tzinfo=TZ) - timedelta(days=days))
    order = MedicationOrder.objects.create(
        participant=w.participant, name="Sertraline", catalog_key="sertraline",
        dose=Decimal("100"), unit="mg", route="oral", frequency="daily",
        prescriber=w.clinician, start_date=TODAY - timedelta(days=40))
    MedicationChange.objects.create(order=order, kind="adjust", reason="dose_titration",
                                    effective_date=TODAY - timedelta(days=5),
                                    dose=Decimal("100"), unit="mg", frequency="daily",
                                    previous_dose=Decimal("50"))


def _part2(clinic, on=True):
    w = clinic.world
    w.org.is_part2_program = on
    w.org.save()
    w.program.focus = "su" if on else "mh"
    w.program.save()


def test_director_sees_the_packet_and_it_is_audited_as_a_disclosure_to_the_payer(clinic):
    w = clinic.world
    _part2(clinic, on=False)
    auth = _auth(clinic)
    _facts(clinic)
    response = login(w.director).get(_url(auth))
    html = response.content.decode()
    assert response.status_code == 200
    assert w.participant.display_name in html and "UR-123" in html
    assert "3.0" in html  # three hours attended the week of day -7
    assert "PHQ-9" in html and "18" in html
    assert "Sertraline" in html and "Dose titration" in html
    assert "secret group words" not in html
    event = AccessEvent.objects.filter(action="disclose", object_type="ur_packet").get()
    assert event.participant_id == w.participant.pk
    assert event.recipient == "organization: Acme Health" and event.purpose == "payment"


def test_the_billing_role_cannot_generate_it_and_sees_no_link(clinic):
    w = clinic.world
    auth = _auth(clinic)
    client = login(clinic.billing)
    assert client.get(_url(auth)).status_code == 404
    assert client.get(_url(auth, "billing:ur_packet_pdf")).status_code == 404
    tab = client.get(reverse("billing:participant_billing", kwargs={"code": w.participant.code}))
    assert _url(auth) not in tab.content.decode()
    assert _url(auth) in login(w.director).get(
        reverse("billing:participant_billing", kwargs={"code": w.participant.code})
    ).content.decode()
    assert not AccessEvent.objects.filter(action="disclose", object_type="ur_packet").exists()


def test_part2_record_without_a_consent_for_the_payer_is_refused_without_details(clinic):
    w = clinic.world
    _part2(clinic)
    auth = _auth(clinic)
    _facts(clinic)
    Consent.objects.create(participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE,
                           recipient="Dr. Primary Care", recipient_kind=RecipientKind.PERSON,
                           purpose_code=DisclosurePurpose.TREATMENT)
    Consent.objects.create(participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE,
                           recipient="Acme Health", recipient_kind=RecipientKind.ORGANIZATION,
                           purpose_code=DisclosurePurpose.RESEARCH)  # the payer, another purpose
    for name in ("billing:ur_packet", "billing:ur_packet_pdf"):
        response = login(w.director).get(_url(auth, name))
        html = response.content.decode()
        assert response.status_code == 403
        assert "Nothing can be released to Acme Health" in html
        assert "Part 2" not in html.split("<main", 1)[-1].split("</main>")[0]
        assert "Sertraline" not in html and "PHQ-9" not in html
    assert not AccessEvent.objects.filter(action="disclose", object_type="ur_packet").exists()
    denied = AccessEvent.objects.filter(action="denied", object_type="ur_packet")
    assert denied.count() == 2
    assert {(e.recipient, e.purpose) for e in denied} == {
        ("organization: Acme Health", "payment")}


def test_part2_record_is_released_under_a_consent_naming_the_payer_with_the_notice(
        clinic, monkeypatch):
    from openiop.clinical import pdf as pdf_module

    texts: list[str] = []
    original = pdf_module._p
    monkeypatch.setattr(pdf_module, "_p", lambda text, style: texts.append(str(text))
                        or original(text, style))
    w = clinic.world
    _part2(clinic)
    auth = _auth(clinic)
    _facts(clinic)
    revoked = Consent.objects.create(
        participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE, recipient="Acme Health",
        recipient_kind=RecipientKind.ORGANIZATION, purpose_code=DisclosurePurpose.PAYMENT,
        revoked_at=datetime(2026, 3, 1, tzinfo=TZ), granted_at=datetime(2026, 1, 1, tzinfo=TZ))
    assert login(w.director).get(_url(auth)).status_code == 403
    consent = Consent.objects.create(participant=w.participant,
                                     kind=Consent.Kind.PART2_DISCLOSURE,
                                     recipient="acme health",
                                     recipient_kind=RecipientKind.ORGANIZATION,
                                     purpose_code=DisclosurePurpose.PAYMENT,
                                     granted_at=datetime(2026, 3, 2, tzinfo=TZ))
    page = login(w.director).get(_url(auth))
    assert page.status_code == 200 and NOTICE_FULL in page.content.decode()
    pdf = login(w.director).get(_url(auth, "billing:ur_packet_pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # The 2.32(a) notice, then the consent's scope (2.32(b)): to whom, for what.
    assert any(t.startswith(NOTICE_FULL) and "42 CFR 2.32(b)" in t and "to: acme health" in t
               for t in texts)
    assert any("Sertraline" in t for t in texts)
    assert any(w.participant.display_name in t for t in texts)
    events = AccessEvent.objects.filter(action="disclose", object_type="ur_packet")
    assert events.count() == 2
    assert all(str(consent.code) in e.reason and str(revoked.code) not in e.reason
               for e in events)


def test_a_consent_to_a_class_of_recipients_that_includes_the_payer_releases_it(clinic):
    from openiop.billing import packet

    w = clinic.world
    _part2(clinic)
    auth = _auth(clinic)
    consent = Consent.objects.create(
        participant=w.participant, kind=Consent.Kind.PART2_TPO, recipient="my health plans",
        recipient_kind=RecipientKind.CLASS, purpose_code=DisclosurePurpose.TPO,
        granted_at=datetime(2026, 3, 2, tzinfo=TZ))
    decision = packet.release(auth, actor=w.director)
    assert decision.released and decision.consent == consent


def test_the_packet_page_takes_a_fixed_number_of_queries(clinic):
    w = clinic.world
    _part2(clinic, on=False)
    auth = _auth(clinic)
    client = login(w.director)

    def run():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_url(auth)).status_code == 200
        return len(ctx.captured_queries)

    _facts(clinic)
    small = run()
    _facts(clinic)
    _facts(clinic)
    assert run() == small


def test_the_packet_shows_the_level_of_care_rules_and_the_plan_goals_with_progress(clinic):
    from openiop.clinical.services import (
        plan_add_goal,
        plan_add_objective,
        plan_add_problem,
        plan_finish_revision,
        plan_start,
    )
    from openiop.intake.models import LevelOfCareAssessment

    w = clinic.world
    _part2(clinic, on=False)
    auth = _auth(clinic)
    LevelOfCareAssessment.objects.create(
        participant=w.participant, episode=w.episode, hours_available=Decimal("12"),
        recommended_level="IOP", decided_level="IOP", assessed_by=w.clinician,
        assessed_at=datetime(2026, 3, 1, 10, tzinfo=TZ),
        rules_fired=[{"level": "IOP", "text": "Emotional dimension rated 2"}],
        withdrawal=0, biomedical=0, emotional=2, readiness=1, relapse=2, environment=1)
    plan = plan_start(actor=w.clinician, participant=w.participant, episode=w.episode,
                      statement="I want my evenings back")
    problem = plan_add_problem(actor=w.clinician, plan=plan, text="Low mood",
                               participant_words="", version=plan.version)
    plan.refresh_from_db()
    plan = plan_finish_revision(actor=w.clinician, plan=plan, version=plan.version)
    goal = plan_add_goal(actor=w.clinician, problem=problem, text="Return to work half time",
                         version=plan.version)
    plan.refresh_from_db()
    plan_add_objective(actor=w.clinician, goal=goal, text="Walks 20 minutes daily",
                       target_date=TODAY + timedelta(days=20), version=plan.version)
    html = login(w.director).get(_url(auth)).content.decode()
    assert "Emotional dimension rated 2" in html
    assert "Return to work half time" in html and "Walks 20 minutes daily" in html
    assert "No treatment plan recorded" not in html


def test_a_long_packet_pdf_is_prepared_in_the_background_and_a_revoked_consent_stops_the_download(
        clinic, settings, tmp_path, run_worker):
    from openiop.jobs.models import Job

    settings.OPENIOP_DOWNLOAD_DIR = tmp_path
    settings.OPENIOP_PDF_BACKGROUND_CHARS = 100
    w = clinic.world
    _part2(clinic)
    auth = _auth(clinic)
    _facts(clinic)
    consent = Consent.objects.create(participant=w.participant,
                                     kind=Consent.Kind.PART2_DISCLOSURE, recipient="Acme Health",
                                     recipient_kind=RecipientKind.ORGANIZATION,
                                     purpose_code=DisclosurePurpose.PAYMENT,
                                     granted_at=datetime(2026, 3, 2, tzinfo=TZ))
    client = login(w.director)
    url = _url(auth, "billing:ur_packet_pdf")
    assert "Prepare the PDF" in client.get(url).content.decode()
    assert not AccessEvent.objects.filter(action="disclose", object_type="ur_packet").exists()
    started = client.post(url)
    job = Job.objects.get(code=started["Location"].split("/")[2])
    assert AccessEvent.objects.filter(action="disclose", object_type="ur_packet").count() == 1
    run_worker()
    response = client.get(f"/jobs/{job.code}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    consent.revoked_at = datetime(2026, 3, 10, tzinfo=TZ)
    consent.save()
    assert client.get(f"/jobs/{job.code}/download/").status_code == 404
