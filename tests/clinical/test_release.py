"""Releasing a printed note to a named recipient from the chart (Consents tab): staff
choose the note, the recipient and the purpose; the disclosure decision checks the matching
consent, the print carries the 42 CFR 2.32 notice and the release is audited with the
recipient. A refusal looks like a note that does not exist."""

from __future__ import annotations

import re
import uuid

from django.urls import reverse

from openiop.audit.models import AccessEvent
from openiop.participants import disclosure as dis
from openiop.participants.models import Consent, DisclosurePurpose, RecipientKind
from tests.clinical.helpers import signed_individual_note
from tests.conftest import login

RELEASE = {"release_to": "organization", "recipient": "Harbor Clinic",
           "purpose": "treatment"}


def _page(clinic):
    return reverse("clinical:release_record", kwargs={"code": clinic.world.participant.code})


def _follow(client, clinic, note, **changes):
    """Fill in the form and follow it to the print."""
    form = client.get(_page(clinic), RELEASE | {"note": str(note.code)} | changes)
    assert form.status_code == 302
    assert form["Location"].startswith(reverse("clinical:note_print", kwargs={"code": note.code}))
    return client.get(form["Location"])


def _same_page(content: bytes) -> str:
    """The page without what differs per request (the CSP nonce, the masked CSRF token)."""
    text = re.sub(r'nonce="[^"]*"', "", content.decode())
    text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def test_the_consents_tab_offers_the_release_form(clinic):
    client = login(clinic.world.clinician)
    tab = client.get(reverse("participants:consents",
                             kwargs={"code": clinic.world.participant.code}))
    assert _page(clinic) in tab.content.decode()
    note = signed_individual_note(clinic.world.clinician, clinic.individual)
    page = client.get(_page(clinic))
    assert page.status_code == 200 and str(note.code) in page.content.decode()


def test_the_form_names_the_missing_field(clinic):
    note = signed_individual_note(clinic.world.clinician, clinic.individual)
    page = login(clinic.world.clinician).get(
        _page(clinic), RELEASE | {"note": str(note.code), "recipient": ""})
    assert page.status_code == 400 and "Recipient&#x27;s name" in page.content.decode()
    assert not AccessEvent.objects.filter(action="disclose").exists()


def test_a_release_under_a_matching_consent_prints_the_notice_and_audits_the_recipient(clinic):
    w = clinic.world
    note = signed_individual_note(w.clinician, clinic.individual)
    Consent.objects.create(participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE,
                           recipient="Harbor Clinic", recipient_kind=RecipientKind.ORGANIZATION,
                           purpose_code=DisclosurePurpose.TREATMENT)
    printed = _follow(login(w.clinician), clinic, note)
    assert printed.status_code == 200 and dis.NOTICE_FULL in printed.content.decode()
    event = AccessEvent.objects.get(action="disclose", object_type="print.note")
    assert (event.recipient, event.purpose) == ("organization: Harbor Clinic", "treatment")
    assert event.participant == w.participant


def test_a_refused_release_looks_like_nothing_to_print(clinic):
    """No consent names this recipient for this purpose: the answer is the one for a note
    that does not exist (nothing says the person has Part 2 records), and the refusal is
    audited with the recipient asked for."""
    w = clinic.world
    note = signed_individual_note(w.clinician, clinic.individual)
    Consent.objects.create(participant=w.participant, kind=Consent.Kind.PART2_DISCLOSURE,
                           recipient="Harbor Clinic", recipient_kind=RecipientKind.ORGANIZATION,
                           purpose_code=DisclosurePurpose.RESEARCH)
    client = login(w.clinician)
    refused = _follow(client, clinic, note)
    missing = client.get(reverse("clinical:note_print", kwargs={"code": uuid.uuid4()}),
                         RELEASE)
    assert refused.status_code == missing.status_code == 404
    assert _same_page(refused.content) == _same_page(missing.content)
    assert b"Part 2" not in refused.content and b"consent" not in refused.content.lower()
    denied = AccessEvent.objects.get(action="denied", object_type="print.note")
    assert denied.recipient == "organization: Harbor Clinic"
    assert not AccessEvent.objects.filter(action="disclose").exists()


def test_a_participant_without_part2_records_is_released_without_the_notice(clinic):
    w = clinic.world
    w.program.focus = "mh"
    w.program.save(update_fields=["focus"])
    note = signed_individual_note(w.clinician, clinic.individual)
    printed = _follow(login(w.clinician), clinic, note)
    assert printed.status_code == 200 and dis.NOTICE_FULL not in printed.content.decode()
    assert AccessEvent.objects.filter(action="disclose", recipient="organization: Harbor Clinic"
                                      ).exists()


def test_staff_who_may_not_read_notes_get_no_release_page(clinic):
    from openiop.accounts.models import Role
    from tests import factories as f

    desk = f.staff(clinic.world.org, Role.FRONT_DESK, username="desk")
    assert login(desk).get(_page(clinic)).status_code == 404
