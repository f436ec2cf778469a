"""Diagnoses: services, the Diagnoses tab, the face sheet and FHIR-ready rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.audit.models import AccessEvent
from openiop.billing import selectors, services
from openiop.billing.icd10 import CODE_SET_VERSION
from openiop.billing.models import Diagnosis
from openiop.core.exceptions import Conflict, NotPermitted

from ..conftest import login
from .conftest import TODAY


def add(world, code, rank="secondary", **kw):
    return services.diagnosis_add(actor=world.clinician, participant=world.participant,
                                  icd_code=code, rank=rank, **kw)


def test_adding_a_diagnosis_records_the_code_set_who_and_an_audit_event(world):
    dx = add(world, "f331", rank="principal", onset_on=TODAY - timedelta(days=30))
    assert (dx.icd_code, dx.billable, dx.code_set_version) == ("F33.1", True, CODE_SET_VERSION)
    assert dx.description == "Major depressive disorder, recurrent, moderate"
    assert dx.recorded_by == world.clinician
    assert AccessEvent.objects.filter(object_type="diagnosis", action="create",
                                      object_id=str(dx.code)).exists()


def test_a_new_principal_demotes_the_old_one(world):
    first = add(world, "F33.1", rank="principal")
    second = add(world, "F10.20", rank="principal")
    first.refresh_from_db()
    assert (first.rank, second.rank) == ("secondary", "principal")


def test_bad_codes_headings_as_principal_duplicates_and_future_onsets_are_refused(world):
    with pytest.raises(ValidationError) as exc:
        add(world, "ZZZ")
    assert "not an ICD-10-CM code" in exc.value.message_dict["icd_code"][0]
    with pytest.raises(ValidationError) as exc:
        add(world, "F33", rank="principal")
    assert "heading" in exc.value.message_dict["icd_code"][0]
    add(world, "F41.1")
    with pytest.raises(ValidationError):
        add(world, "F41.1")
    with pytest.raises(ValidationError) as exc:
        add(world, "F43.10", onset_on=TODAY + timedelta(days=1))
    assert "onset_on" in exc.value.message_dict
    assert Diagnosis.objects.count() == 1


def test_resolving_keeps_the_row_and_a_stale_version_conflicts(world):
    dx = add(world, "F41.1", onset_on=TODAY - timedelta(days=60))
    with pytest.raises(ValidationError):
        services.diagnosis_resolve(actor=world.clinician, diagnosis=dx,
                                   resolved_on=TODAY - timedelta(days=90), version=dx.version)
    services.diagnosis_resolve(actor=world.clinician, diagnosis=dx, resolved_on=TODAY,
                               version=dx.version)
    assert (dx.status, dx.resolved_on) == ("resolved", TODAY)
    other = add(world, "F43.10")
    with pytest.raises(Conflict):
        services.diagnosis_make_principal(actor=world.clinician, diagnosis=other, version=99)


def test_only_clinical_writers_of_the_same_organization_record_diagnoses(world, clinic):
    with pytest.raises(NotPermitted):
        services.diagnosis_add(actor=clinic.billing, participant=world.participant,
                               icd_code="F33.1")
    with pytest.raises(NotPermitted):
        services.diagnosis_add(actor=world.clinician, participant=world.outsider_participant,
                               icd_code="F33.1")


def test_condition_rows_carry_the_icd10cm_system_and_version_for_fhir(world):
    dx = add(world, "F33.1", rank="principal", onset_on=TODAY - timedelta(days=5))
    row = selectors.condition_rows(world.participant)[0]
    assert row["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    assert (row["code"], row["clinical_status"], row["rank"], row["onset"]) == (
        "F33.1", "active", 1, dx.onset_on)
    assert row["version"] == CODE_SET_VERSION


def test_the_diagnoses_tab_adds_a_code_and_keeps_typed_input_on_error(world, as_clinician):
    url = reverse("billing:participant_diagnoses", kwargs={"code": world.participant.code})
    bad = as_clinician.post(url, {"icd_code": "F99.99X", "rank": "secondary"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "is not an ICD-10-CM code" in html and 'value="F99.99X"' in html
    ok = as_clinician.post(url, {"icd_code": "F43.10", "rank": "principal"})
    assert ok.status_code == 302
    page = as_clinician.get(url).content.decode()
    assert "F43.10" in page and "Post-traumatic stress disorder, unspecified" in page
    assert world.participant.display_name in page


def test_the_code_search_shows_billable_badges_and_add_buttons(world, as_clinician):
    url = reverse("billing:icd_search")
    response = as_clinician.get(url, {"q": "F33.4", "participant": str(world.participant.code)},
                                HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "F33.40" in html and "billable" in html and "heading" in html
    assert 'name="icd_code" value="F33.41"' in html
    # Without htmx the search lands on the tab with the results.
    plain = as_clinician.get(url, {"q": "F33.4", "participant": str(world.participant.code)})
    assert plain.status_code == 302 and "q=F33.4" in plain["Location"]


def test_the_tab_is_shown_to_clinicians_and_billing_but_not_to_the_front_desk(world, clinic):
    url = reverse("billing:participant_diagnoses", kwargs={"code": world.participant.code})
    chart = reverse("participants:chart", kwargs={"code": world.participant.code})
    assert url in login(world.clinician).get(chart).content.decode()
    billing = login(clinic.billing)
    # The world's participant is a 42 CFR Part 2 record: its problems are the care team's
    # (openiop.access.policy), so billing sees the tab only for a participant who is not.
    assert url not in billing.get(chart).content.decode()
    assert billing.get(url).status_code == 404
    from tests import factories as f

    plain = f.participant(world.org)
    f.episode(plain, f.program(world.org, world.site, name="Mood IOP", focus="mh"))
    plain_url = reverse("billing:participant_diagnoses", kwargs={"code": plain.code})
    plain_chart = reverse("participants:chart", kwargs={"code": plain.code})
    assert plain_url in billing.get(plain_chart).content.decode()
    page = billing.get(plain_url).content.decode()
    assert "Add a diagnosis" not in page
    desk = login(clinic.frontdesk)
    assert url not in desk.get(chart).content.decode()
    assert desk.get(url).status_code == 404


def test_the_face_sheet_shows_diagnoses_coverage_level_and_team_by_role(world, clinic):
    from .conftest import coverage

    add(world, "F33.1", rank="principal")
    coverage(world.participant, clinic.medicare)
    chart = reverse("participants:chart", kwargs={"code": world.participant.code})
    html = login(world.clinician).get(chart).content.decode()
    assert "Face sheet" in html and "F33.1" in html and "Medicare JE" in html
    assert "Primary therapist" in html and "Open safety tasks" in html
    assert "Allergies" in html
    billing = login(clinic.billing)
    # The world's participant is a 42 CFR Part 2 record: billing reads diagnoses only of a
    # participant who is not (openiop.access.policy), on the face sheet as on the tab.
    billing_html = billing.get(chart).content.decode()
    assert "Face sheet" in billing_html and "Medicare JE" in billing_html
    assert "F33.1" not in billing_html and "Diagnoses" not in billing_html
    assert "Open safety tasks" not in billing_html
    from tests import factories as f

    plain = f.participant(world.org)
    f.episode(plain, f.program(world.org, world.site, name="Mood IOP", focus="mh"))
    services.diagnosis_add(actor=world.clinician, participant=plain, icd_code="F41.1",
                           rank="principal")
    plain_chart = reverse("participants:chart", kwargs={"code": plain.code})
    assert "F41.1" in billing.get(plain_chart).content.decode()
    # A clinician off the care team: no Part 2 diagnoses or allergies (the Diagnoses and
    # Medications tabs refuse them too), but the plain participant's.
    off_team = login(world.colleague)
    off_html = off_team.get(chart).content.decode()
    assert "F33.1" not in off_html and "Allergies" not in off_html
    plain_html = off_team.get(plain_chart).content.decode()
    assert "F41.1" in plain_html and "Allergies" in plain_html
    desk_html = login(clinic.frontdesk).get(chart).content.decode()
    assert "Face sheet" in desk_html and "F33.1" not in desk_html


def test_each_diagnosis_change_has_its_own_url_on_the_tab(world, as_clinician):
    """Make principal, resolve and entered in error are three named URLs, not one URL that
    reads an `action` field; a refusal comes back as a message naming the reason."""
    principal = add(world, "F33.1", rank="principal")
    other = add(world, "F10.20")
    third = add(world, "F43.10")
    kw = {"code": world.participant.code}
    tab = as_clinician.get(reverse("billing:participant_diagnoses", kwargs=kw)).content.decode()
    for name in ("diagnosis_principal", "diagnosis_resolve", "diagnosis_entered_in_error"):
        assert reverse(f"billing:{name}", kwargs=kw | {"dx_code": other.code}) in tab
    assert as_clinician.post(
        reverse("billing:diagnosis_principal", kwargs=kw | {"dx_code": other.code}),
        {"version": other.version}).status_code == 302
    principal.refresh_from_db()
    other.refresh_from_db()
    assert (principal.rank, other.rank) == ("secondary", "principal")
    future = as_clinician.post(
        reverse("billing:diagnosis_resolve", kwargs=kw | {"dx_code": third.code}),
        {"version": third.version, "resolved_on": str(TODAY + timedelta(days=3))}, follow=True)
    assert "The resolution date cannot be in the future." in future.content.decode()
    third.refresh_from_db()
    assert third.status == "active"
    assert as_clinician.post(
        reverse("billing:diagnosis_entered_in_error", kwargs=kw | {"dx_code": third.code}),
        {"version": third.version}).status_code == 302
    third.refresh_from_db()
    assert third.status == "entered-in-error"
