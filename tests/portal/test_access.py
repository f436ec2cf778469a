"""Portal isolation: a participant reaches only their own record; a family member only what
the participant consented to; refusals are 404s written to the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.participants.models import Consent
from openiop.portal.models import SharedNote
from openiop.skills import services
from tests import factories as f
from tests.conftest import login
from tests.skills.helpers import portal_user

from .helpers import family_member

PARTICIPANT_PAGES = ["/portal/", "/portal/check-ins/", "/portal/homework/", "/portal/skills/",
                     "/portal/cravings/", "/portal/plans/", "/portal/plans/relapse-prevention/",
                     "/portal/plans/safety/", "/portal/messages/", "/portal/sharing/"]
FAMILY_PAGES = ["/portal/family/schedule/", "/portal/family/education/", "/portal/family/notes/"]


@pytest.fixture
def me(world):
    return portal_user(world.participant)


@pytest.fixture
def neighbour(world):
    other = f.participant(world.org, legal_first_name="Nell", legal_last_name="Neighbour")
    f.episode(other, world.program, therapist=world.clinician)
    return other, portal_user(other, "neighbour")


def _denied(participant=None):
    qs = AccessEvent.objects.filter(action="denied")
    return qs.filter(participant=participant) if participant is not None else qs


@pytest.mark.parametrize("url", PARTICIPANT_PAGES)
def test_every_participant_page_is_mobile_and_has_the_crisis_link(world, me, url):
    response = login(me).get(url)
    html = response.content.decode()
    assert response.status_code == 200, url
    assert 'class="portal"' in html
    assert 'href="tel:988"' in html
    assert 'name="viewport"' in html


def test_anonymous_visitors_are_sent_to_sign_in(db):
    from django.test import Client

    response = Client().get("/portal/skills/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_have_no_portal(world, as_clinician):
    assert as_clinician.get("/portal/skills/").status_code == 404
    assert _denied().filter(actor=world.clinician).exists()


def test_a_participant_cannot_open_another_participants_homework(world, me, neighbour):
    other, _ = neighbour
    hw = services.homework_assign(actor=world.clinician, participant=other, title="Theirs",
                                  instructions="private", plan_objective="o")
    client = login(me)
    for method in ("get", "post"):
        response = getattr(client, method)(f"/portal/homework/{hw.code}/", {"response": "x", "version": 1})
        assert response.status_code == 404
        assert b"private" not in response.content
    assert _denied(other).filter(actor=me, object_type="homework").count() == 2
    hw.refresh_from_db()
    assert hw.response == ""


def test_an_unknown_homework_code_is_404_and_audited(world, me):
    response = login(me).get("/portal/homework/11111111-1111-4111-8111-111111111111/")
    assert response.status_code == 404
    assert _denied().filter(actor=me, object_type="homework").exists()


def test_each_participant_sees_only_their_own_logs(world, me, neighbour):
    other, other_user = neighbour
    services.craving_log(actor=other_user, participant=other, intensity=9, trigger="NEIGHBOUR-SECRET")
    services.craving_log(actor=me, participant=world.participant, intensity=3, trigger="my-own-trigger")
    html = login(me).get("/portal/cravings/").content.decode()
    assert "my-own-trigger" in html and "NEIGHBOUR-SECRET" not in html


def test_a_participant_cannot_withdraw_someone_elses_consent(world, me, neighbour):
    other, _ = neighbour
    _, consent = family_member(other, ["shared_notes"])
    response = login(me).post("/portal/sharing/withdraw/", {"consent": str(consent.code)})
    assert response.status_code == 404
    consent.refresh_from_db()
    assert consent.revoked_at is None
    assert _denied(other).filter(object_type="consent").exists()


def test_a_module_not_in_my_curriculum_is_404(world, me):
    assert login(me).get("/portal/modules/grounding/").status_code == 404
    assert _denied(world.participant).filter(object_type="module").exists()


def test_family_sees_only_consented_scopes(world):
    mom, _ = family_member(world.participant, ["family_schedule"])
    client = login(mom)
    home = client.get("/portal/").content.decode()
    assert "Family sessions" in home and "Notes from the team" not in home
    assert client.get("/portal/family/schedule/").status_code == 200
    for url in ("/portal/family/education/", "/portal/family/notes/",
                "/portal/family/education/family-supporting-recovery/"):
        assert client.get(url).status_code == 404, url
    assert _denied(world.participant).filter(actor=mom).count() == 3
    assert AccessEvent.objects.filter(action="disclose", actor=mom, object_type="family_schedule").exists()


@pytest.mark.parametrize("url", PARTICIPANT_PAGES[1:])
def test_family_members_never_reach_participant_pages(world, url):
    mom, _ = family_member(world.participant, ["family_schedule", "family_education", "shared_notes"])
    assert login(mom).get(url).status_code == 404


def test_family_education_shows_only_family_modules(world):
    mom, _ = family_member(world.participant, ["family_education"])
    client = login(mom)
    html = client.get("/portal/family/education/").content.decode()
    assert "For families: supporting without taking over" in html and "Thinking traps" not in html
    assert client.get("/portal/family/education/thinking-traps/").status_code == 404


def test_withdrawing_consent_takes_effect_on_the_next_request(world, me):
    mom, consent = family_member(world.participant, ["shared_notes", "family_schedule"])
    SharedNote.objects.create(participant=world.participant, title="Plan", body="FAMILY-NOTE",
                              shared_by=world.clinician, shared_at=timezone.now())
    family = login(mom)
    assert b"FAMILY-NOTE" in family.get("/portal/family/notes/").content

    client = login(me)
    # The first tap only asks for confirmation.
    ask = client.post("/portal/sharing/withdraw/", {"consent": str(consent.code)})
    assert ask.status_code == 200 and b"Yes, withdraw access" in ask.content
    consent.refresh_from_db()
    assert consent.revoked_at is None
    assert b"FAMILY-NOTE" in family.get("/portal/family/notes/").content
    response = client.post("/portal/sharing/withdraw/", {"consent": str(consent.code),
                                                         "confirm": "yes"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None

    after = family.get("/portal/family/notes/")
    assert after.status_code == 404 and b"FAMILY-NOTE" not in after.content
    assert family.get("/portal/family/schedule/").status_code == 404
    assert b"Nothing is shared with you" in family.get("/portal/").content
    assert AccessEvent.objects.filter(object_type="consent", action="change", actor=me).exists()


def test_an_expired_consent_gives_no_access(world):
    mom, consent = family_member(world.participant, ["shared_notes"])
    Consent.objects.filter(pk=consent.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert login(mom).get("/portal/family/notes/").status_code == 404


def test_a_consent_for_another_family_member_does_not_count(world):
    mom, _ = family_member(world.participant, [])
    _other, _ = family_member(world.participant, ["shared_notes"], username="dad")
    assert login(mom).get("/portal/family/notes/").status_code == 404


def test_family_schedule_lists_only_family_sessions(world):
    mom, _ = family_member(world.participant, ["family_schedule"])
    soon = timezone.now().replace(microsecond=0) + timedelta(days=1)
    f.booking(f.session(world.program, kind="family", title="Family session", starts_at=soon), world.participant)
    f.booking(f.session(world.program, kind="individual", title="PRIVATE-INDIVIDUAL", starts_at=soon),
              world.participant)
    html = login(mom).get("/portal/family/schedule/").content.decode()
    assert "Family session" in html and "PRIVATE-INDIVIDUAL" not in html


def test_the_portal_nav_links_the_medication_check_in_when_that_page_exists(world, me):
    from django.urls import NoReverseMatch, reverse

    html = login(me).get("/portal/").content.decode()
    try:
        url = reverse("medications:my_adherence")
    except NoReverseMatch:
        assert ">Medications<" not in html
    else:
        assert f'href="{url}"' in html


def test_withdrawn_access_can_be_given_back_after_confirmation(world, me):
    mom, consent = family_member(world.participant, ["shared_notes"])
    client = login(me)
    client.post("/portal/sharing/withdraw/", {"consent": str(consent.code), "confirm": "yes"})
    assert login(mom).get("/portal/family/notes/").status_code == 404
    page = client.get("/portal/sharing/").content.decode()
    assert "Give access back" in page and "Withdraw access now" not in page
    ask = client.post("/portal/sharing/give-back/", {"consent": str(consent.code)})
    assert ask.status_code == 200 and b"Yes, give access back" in ask.content
    assert login(mom).get("/portal/family/notes/").status_code == 404
    client.post("/portal/sharing/give-back/", {"consent": str(consent.code), "confirm": "yes"})
    assert login(mom).get("/portal/family/notes/").status_code == 200
    renewed = Consent.objects.get(participant=world.participant, revoked_at__isnull=True)
    assert renewed.pk != consent.pk and renewed.scopes == ["shared_notes"]
    assert renewed.related_person_id == consent.related_person_id
    page = client.get("/portal/sharing/").content.decode()
    assert page.count("Withdraw access now") == 1 and "Give access back" not in page
    # Giving back twice is refused with a message, and creates nothing.
    client.post("/portal/sharing/give-back/", {"consent": str(consent.code), "confirm": "yes"})
    assert Consent.objects.filter(participant=world.participant).count() == 2
    assert AccessEvent.objects.filter(object_type="consent", action="create", actor=me).count() == 1
