"""The episode's named family therapist is on the care team while the episode is open: for
a 42 CFR Part 2 participant they open notes and plans without breaking the glass, on the
pages, the JSON API and FHIR alike, and lose that when they are no longer named."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openiop.access import is_care_team
from openiop.care.models import EpisodeOfCare
from openiop.care.services import episode_set_family_therapist
from openiop.intake.models import MeasureResponse
from openiop.participants.models import Participant
from tests.conftest import login
from tests.fhir.conftest import part2_consent

GATES = ("/notes/participants/{code}/", "/notes/participants/{code}/plan/")
NOTES_API = "/api/clinical/participants/{code}/notes"


def _name(clinic, therapist):
    w = clinic.w
    episode = EpisodeOfCare.objects.get(pk=w.episode.pk)
    episode_set_family_therapist(actor=w.director, episode=episode, family_therapist=therapist)


def _observation(clinic):
    part2 = clinic.w.participant
    part2_consent(part2, clinic.w.clinician)
    return MeasureResponse.objects.create(participant=part2, instrument="phq9",
                                          answers={"q1": 1}, total=5, band="mild",
                                          completed_at=timezone.now())


def _fhir_ids(response):
    return {e["resource"].get("id") for e in response.json().get("entry", [])}


def test_the_part2_participant_is_a_part2_record_and_the_colleague_is_off_the_team(clinic):
    from openiop.access.decisions import is_part2

    part2 = Participant.objects.get(pk=clinic.w.participant.pk)
    assert is_part2(part2)
    assert not is_care_team(clinic.w.colleague, part2)


def test_named_family_therapist_opens_notes_and_plans_without_breaking_the_glass(clinic):
    code = clinic.w.participant.code
    family = login(clinic.w.colleague)
    for url in GATES:
        assert b"Break the glass" in family.get(url.format(code=code)).content
    assert family.get(NOTES_API.format(code=code)).status_code == 403

    _name(clinic, clinic.w.colleague)
    for url in GATES:
        page = family.get(url.format(code=code))
        assert page.status_code == 200 and b"Break the glass" not in page.content, url
    assert family.get(NOTES_API.format(code=code)).status_code == 200

    _name(clinic, None)
    for url in GATES:
        assert b"Break the glass" in family.get(url.format(code=code)).content, url
    refused = family.get(NOTES_API.format(code=code))
    assert refused.status_code == 403 and "care team" in refused.json()["detail"]


def test_named_family_therapist_reads_and_finds_the_record_on_fhir(clinic):
    row = _observation(clinic)
    family = login(clinic.w.colleague)
    url = f"/fhir/R4/Observation/{row.code}"
    assert family.get(url).status_code == 404
    assert str(row.code) not in _fhir_ids(family.get("/fhir/R4/Observation"))

    _name(clinic, clinic.w.colleague)
    assert family.get(url).status_code == 200
    assert str(row.code) in _fhir_ids(family.get("/fhir/R4/Observation"))

    _name(clinic, None)
    assert family.get(url).status_code == 404
    assert str(row.code) not in _fhir_ids(family.get("/fhir/R4/Observation"))


@pytest.mark.parametrize("status", ["finished", "cancelled", "entered-in-error"])
def test_a_closed_episode_keeps_no_family_therapist_on_the_team(clinic, status):
    _name(clinic, clinic.w.colleague)
    family = login(clinic.w.colleague)
    code = clinic.w.participant.code
    assert family.get(NOTES_API.format(code=code)).status_code == 200
    EpisodeOfCare.objects.filter(pk=clinic.w.episode.pk).update(status=status)
    assert family.get(NOTES_API.format(code=code)).status_code == 403
    assert b"Break the glass" in family.get(GATES[0].format(code=code)).content
