"""The care team's family therapist: named on the episode from the Care tab, only a staff
member of the same organization holding a therapy role, audited like any episode change."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.care.forms import FamilyTherapistForm
from openiop.care.services import episode_set_family_therapist
from openiop.core.exceptions import Conflict, NotPermitted
from tests import factories as f
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _url(w):
    return reverse(
        "care:episode_family_therapist",
        kwargs={"code": w.participant.code, "episode": w.episode.code},
    )


def _care_tab(w):
    return reverse("care:participant_care", kwargs={"code": w.participant.code})


def test_it_names_the_family_therapist_and_records_who_did(world):
    lmft = f.staff(world.org, Role.CLINICIAN, credentials=["LMFT"], username="lmft")
    episode_set_family_therapist(
        actor=world.clinician,
        episode=world.episode,
        family_therapist=lmft,
        version=world.episode.version,
    )
    world.episode.refresh_from_db()
    assert world.episode.family_therapist == lmft
    event = AccessEvent.objects.filter(object_id=str(world.episode.code)).latest("pk")
    assert (event.action, event.reason) == ("change", "family therapist named")

    episode_set_family_therapist(
        actor=world.clinician, episode=world.episode, family_therapist=None
    )
    world.episode.refresh_from_db()
    assert world.episode.family_therapist is None


@pytest.mark.parametrize("who", ["other_org", "front_desk", "inactive"])
def test_it_refuses_anyone_but_a_therapist_of_the_organization(world, who):
    if who == "other_org":
        person = f.staff(world.outsider_org, Role.CLINICIAN, credentials=["LMFT"])
    elif who == "front_desk":
        person = f.staff(world.org, Role.FRONT_DESK)
    else:
        person = f.staff(world.org, Role.CLINICIAN, credentials=["LMFT"], is_active=False)
    with pytest.raises(ValidationError) as err:
        episode_set_family_therapist(
            actor=world.clinician, episode=world.episode, family_therapist=person
        )
    assert "therapy role" in err.value.message_dict["family_therapist"][0]
    world.episode.refresh_from_db()
    assert world.episode.family_therapist is None and world.episode.version == 1


def test_a_stale_version_changes_nothing(world):
    lmft = f.staff(world.org, Role.CLINICIAN, credentials=["LMFT"])
    with pytest.raises(Conflict):
        episode_set_family_therapist(
            actor=world.clinician,
            episode=world.episode,
            family_therapist=lmft,
            version=world.episode.version + 5,
        )
    world.episode.refresh_from_db()
    assert world.episode.family_therapist is None


def test_staff_without_the_admit_permission_cannot_name_one(world):
    desk = f.staff(world.org, Role.FRONT_DESK)
    lmft = f.staff(world.org, Role.CLINICIAN, credentials=["LMFT"])
    with pytest.raises(NotPermitted):
        episode_set_family_therapist(actor=desk, episode=world.episode, family_therapist=lmft)


def test_the_form_offers_only_therapists_of_the_organization(world):
    lmft = f.staff(world.org, Role.CLINICIAN, credentials=["LMFT"])
    nurse = f.staff(world.org, Role.NURSE)
    elsewhere = f.staff(world.outsider_org, Role.CLINICIAN, credentials=["LMFT"])
    form = FamilyTherapistForm(organization_id=world.org.pk)
    assert form.fields["family_therapist"].label == "Family therapist"
    offered = set(form.fields["family_therapist"].queryset)
    assert lmft in offered and world.director in offered
    assert nurse not in offered and elsewhere not in offered

    for bad in (nurse, elsewhere):
        form = FamilyTherapistForm(
            {"family_therapist": bad.pk, "version": 1}, organization_id=world.org.pk
        )
        assert not form.is_valid() and "family_therapist" in form.errors
    form = FamilyTherapistForm(
        {"family_therapist": lmft.pk, "version": 1}, organization_id=world.org.pk
    )
    assert form.is_valid(), form.errors
    # None named is a valid choice (it clears the field).
    assert FamilyTherapistForm(
        {"family_therapist": "", "version": 1}, organization_id=world.org.pk
    ).is_valid()


def test_the_care_tab_sets_and_shows_the_family_therapist(world):
    lmft = f.staff(world.org, Role.CLINICIAN, credentials=["LMFT"])
    lmft.first_name, lmft.last_name = "Fran", "Family"
    lmft.save(update_fields=["first_name", "last_name"])
    client = login(world.director)
    page = client.get(_care_tab(world)).content.decode()
    assert 'id="family-therapist"' in page and "Family therapist" in page
    response = client.post(
        _url(world), {"family_therapist": lmft.pk, "version": world.episode.version}
    )
    assert response.status_code == 302
    world.episode.refresh_from_db()
    assert world.episode.family_therapist == lmft
    page = client.get(_care_tab(world)).content.decode()
    assert "Family therapist Fran Family" in page


def test_the_care_tab_shows_the_refusal_beside_the_field(world):
    elsewhere = f.staff(world.outsider_org, Role.CLINICIAN, credentials=["LMFT"])
    response = login(world.director).post(
        _url(world), {"family_therapist": elsewhere.pk, "version": world.episode.version}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    world.episode.refresh_from_db()
    assert world.episode.family_therapist is None


def test_an_outsider_cannot_name_a_family_therapist(world):
    lmft = f.staff(world.org, Role.CLINICIAN, credentials=["LMFT"])
    response = login(world.outsider).post(
        _url(world), {"family_therapist": lmft.pk, "version": world.episode.version}
    )
    assert response.status_code == 404
    world.episode.refresh_from_db()
    assert world.episode.family_therapist is None
