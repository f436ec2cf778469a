"""Every channel decides through participants.disclosure (`disclosure` for one participant
is `disclosures` for a batch of one; FHIR searches and reads ask for a page at once): FHIR,
Bulk $export, the JSON API, prints and PDFs, the utilization-review packet; each attaches
the notice, and a refusal answers as "nothing to show"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from openiop.audit.models import AccessEvent
from openiop.participants import disclosure as dis
from openiop.participants.models import Consent, DisclosurePurpose, RecipientKind
from tests.clinical.conftest import _fast_password_hashing, clinic  # noqa: F401
from tests.clinical.helpers import signed_individual_note
from tests.fhir.conftest import part2_consent, registered_app, token_client

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def calls(monkeypatch):
    """The channels each call to the one decision was made for."""
    seen: list[str] = []
    real = dis.disclosures

    def spy(*args, **kwargs):
        seen.append(kwargs["channel"])
        return real(*args, **kwargs)

    monkeypatch.setattr(dis, "disclosures", spy)
    return seen


@pytest.fixture
def app(world):
    return registered_app(world.director)


@pytest.fixture
def as_app(world, app):
    return token_client(world.clinician, app)


# --- FHIR and bulk ---------------------------------------------------------------------

def test_fhir_reads_decide_through_disclosure(world, as_app, calls):
    as_app.get(f"/fhir/R4/Patient/{world.participant.code}")
    assert calls == ["fhir"]


def test_bulk_export_decides_through_disclosure(world, app, as_app, calls, settings,
                                                tmp_path):
    settings.OPENIOP_EXPORT_DIR = tmp_path
    settings.TASKS = {"default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    part2_consent(world.participant, app=app)
    response = as_app.get("/fhir/R4/Patient/$export",
                          headers={"Accept": "application/fhir+json",
                                   "Prefer": "respond-async"})
    assert response.status_code == 202
    assert calls == ["bulk"]


# --- the JSON API ----------------------------------------------------------------------

def test_the_api_refuses_an_app_as_if_the_participant_did_not_exist(world, as_app, app,
                                                                    calls):
    refused = as_app.get(f"/api/participants/{world.participant.code}")
    missing = as_app.get(f"/api/participants/{MISSING}")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    listing = as_app.get("/api/participants/", {"q": "Rivera"}).json()
    assert listing == {"count": 0, "results": []}
    assert calls == ["api"]
    event = AccessEvent.objects.get(action="denied", object_type="api.participant")
    assert event.recipient == f"app #{app.pk}: {app.name}" and event.purpose == "treatment"


def test_the_api_releases_to_an_app_under_its_consent_with_the_notice(world, as_app, app):
    part2_consent(world.participant, app=app)
    response = as_app.get(f"/api/participants/{world.participant.code}")
    assert response.status_code == 200 and response["X-Redisclosure-Notice"] == dis.NOTICE_FULL
    listing = as_app.get("/api/participants/", {"q": "Rivera"}).json()
    assert [r["code"] for r in listing["results"]] == [str(world.participant.code)]
    orders = as_app.get(f"/api/medications/participants/{world.participant.code}/orders")
    assert orders.status_code == 200
    event = AccessEvent.objects.filter(action="disclose", object_type="api.participant").get()
    assert event.recipient.endswith(app.name)


def test_an_apps_declared_purpose_must_be_the_consents(world, app):
    research = registered_app(world.director, name="Registry",
                              purpose=DisclosurePurpose.RESEARCH)
    part2_consent(world.participant, app=research)  # TPO: not research
    client = token_client(world.clinician, research)
    assert client.get(f"/api/participants/{world.participant.code}").status_code == 404


def test_the_programs_staff_use_the_api_without_consent(world, as_clinician):
    response = as_clinician.get(f"/api/participants/{world.participant.code}")
    assert response.status_code == 200
    assert not AccessEvent.objects.filter(action__in=("denied", "disclose")).exists()


# --- prints and PDFs -------------------------------------------------------------------

def _note(clinic):  # noqa: F811
    return signed_individual_note(clinic.world.clinician, clinic.individual)


RELEASE = {"release_to": "organization", "recipient": "Harbor Clinic",
           "purpose": "treatment"}


def test_a_print_for_the_program_carries_the_notice_and_needs_no_consent(clinic, calls):  # noqa: F811
    note = _note(clinic)
    from tests.conftest import login

    page = login(clinic.world.clinician).get(
        reverse("clinical:note_print", kwargs={"code": note.code}))
    assert page.status_code == 200 and dis.NOTICE_FULL in page.content.decode()
    assert calls == ["print"]


def test_a_released_pdf_needs_a_consent_naming_the_recipient(clinic, calls):  # noqa: F811
    from tests.conftest import login

    w = clinic.world
    note = _note(clinic)
    client = login(w.clinician)
    url = reverse("clinical:note_pdf", kwargs={"code": note.code})
    refused = client.get(url, RELEASE)
    assert refused.status_code == 404
    denied = AccessEvent.objects.get(action="denied", object_type="print.note")
    assert denied.recipient == "organization: Harbor Clinic" and denied.purpose == "treatment"
    Consent.objects.create(participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE,
                           recipient="Harbor Clinic", recipient_kind=RecipientKind.ORGANIZATION,
                           purpose_code=DisclosurePurpose.TREATMENT)
    released = client.get(url, RELEASE)
    assert released.status_code == 200 and released.content.startswith(b"%PDF")
    assert AccessEvent.objects.filter(action="disclose", object_type="print.note").count() == 1
    assert calls == ["print", "print"]
    bad = client.get(url, RELEASE | {"purpose": "curiosity"})
    assert bad.status_code == 400 and b"purpose" in bad.content


def test_the_pdf_carries_the_programs_chosen_notice(clinic, monkeypatch):  # noqa: F811
    from openiop.clinical import pdf as pdf_module
    from tests.conftest import login

    texts: list[str] = []
    original = pdf_module._p
    monkeypatch.setattr(pdf_module, "_p", lambda text, style: texts.append(str(text))
                        or original(text, style))
    w = clinic.world
    w.org.part2_notice = "abbreviated"
    w.org.save()
    note = _note(clinic)
    response = login(w.clinician).get(reverse("clinical:note_pdf", kwargs={"code": note.code}))
    assert response.status_code == 200
    assert dis.NOTICE_ABBREVIATED in texts and dis.NOTICE_FULL not in texts


def test_a_consent_expired_before_the_print_does_not_release(clinic):  # noqa: F811
    from django.utils import timezone

    from tests.conftest import login

    w = clinic.world
    note = _note(clinic)
    now = timezone.now()
    Consent.objects.create(participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE,
                           recipient="Harbor Clinic", recipient_kind=RecipientKind.ORGANIZATION,
                           purpose_code=DisclosurePurpose.TREATMENT,
                           granted_at=now - timedelta(days=10), expires_at=now - timedelta(days=1))
    url = reverse("clinical:note_print", kwargs={"code": note.code})
    assert login(w.clinician).get(url, RELEASE).status_code == 404


# --- the utilization-review packet -----------------------------------------------------

def test_the_ur_packet_decides_through_disclosure(world, calls):
    from openiop.billing.models import Authorization, Payer
    from tests.billing.conftest import TODAY, coverage
    from tests.conftest import login

    payer = Payer.objects.create(organization=world.org, name="Acme Health",
                                 kind="commercial", payer_id="60054", rule_set="per_diem")
    auth = Authorization.objects.create(
        coverage=coverage(world.participant, payer), units_approved=20,
        starts_on=TODAY - timedelta(days=5), ends_on=TODAY + timedelta(days=25),
        reference_number="UR-1")
    url = reverse("billing:ur_packet", kwargs={"code": world.participant.code,
                                               "auth_code": auth.code})
    assert login(world.director).get(url).status_code == 403  # no consent for the payer
    assert calls == ["ur_packet"]


# --- 42 CFR 2.32(b): the consent's scope goes with each disclosure under it --------------

def test_the_consent_scope_states_the_consents_elements_on_one_line(world, app):
    consent = part2_consent(world.participant, app=app, information="Attendance and notes",
                            expiry_event="the end of treatment")
    text = dis.consent_scope(consent)
    assert "\n" not in text and "42 CFR 2.32(b)" in text
    assert f"to: {app.name}" in text and "information: Attendance and notes" in text
    assert "until: the end of treatment" in text and "may revoke" in text
    assert "Treatment, payment and health care operations" in text  # the coded purpose


def test_the_api_and_fhir_send_the_consents_scope_with_a_disclosure(world, as_app, app):
    part2_consent(world.participant, app=app, information="Attendance and notes")
    api = as_app.get(f"/api/participants/{world.participant.code}")
    assert api.status_code == 200 and "information: Attendance and notes" in api["X-Part2-Consent-Scope"]
    fhir = as_app.get(f"/fhir/R4/Patient/{world.participant.code}")
    assert fhir.status_code == 200 and fhir["X-Redisclosure-Notice"]
    assert "information: Attendance and notes" in fhir["X-Part2-Consent-Scope"]


def test_the_programs_own_staff_get_the_notice_but_no_consent_scope(world, as_clinician):
    response = as_clinician.get(f"/api/participants/{world.participant.code}")
    assert response.status_code == 200 and "X-Part2-Consent-Scope" not in response


def test_a_released_pdf_carries_the_consents_scope_after_the_notice(clinic, monkeypatch):  # noqa: F811
    from openiop.clinical import pdf as pdf_module
    from tests.conftest import login

    texts: list[str] = []
    original = pdf_module._p
    monkeypatch.setattr(pdf_module, "_p", lambda text, style: texts.append(str(text))
                        or original(text, style))
    w = clinic.world
    note = _note(clinic)
    Consent.objects.create(participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE,
                           recipient="Harbor Clinic", recipient_kind=RecipientKind.ORGANIZATION,
                           purpose_code=DisclosurePurpose.TREATMENT,
                           information="The named clinical note")
    url = reverse("clinical:note_pdf", kwargs={"code": note.code})
    assert login(w.clinician).get(url, RELEASE).status_code == 200
    (statement,) = [t for t in texts if dis.NOTICE_FULL in t]
    assert statement.index(dis.NOTICE_FULL) < statement.index("42 CFR 2.32(b)")
    assert "to: Harbor Clinic" in statement and "information: The named clinical note" in statement
