"""The right person on every clinical screen (the "who is this" banner) and group-note
addenda written for one attendee or, after a warning, for the whole note."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.clinical import pdf as pdf_module
from openiop.clinical.models import Addendum
from openiop.clinical.services import addendum_add, note_start
from openiop.participants.models import Participant
from tests import factories as f
from tests.conftest import login

from .helpers import signed_group_note, signed_individual_note


def _identity(person: Participant) -> list[str]:
    """What the banner must show: preferred and legal name, MRN, birth date and age."""
    return [person.display_name, person.legal_name, person.mrn,
            person.date_of_birth.strftime("%b %-d, %Y"), f"age {person.age}"]


@pytest.fixture
def jay(clinic):
    Participant.objects.filter(pk=clinic.world.participant.pk).update(preferred_name="Jay")
    clinic.world.participant.refresh_from_db()
    return clinic.world.participant


def test_an_individual_note_names_the_client_before_signing(clinic, jay):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    page = login(clinic.supervisor).get(f"/notes/{note.code}/").content.decode()
    editor, sign = page.split('id="sign-title"')
    banner = editor[editor.index('aria-label="Participant"'):]
    for text in ["Note about", "Jay Rivera", "legal name Jamie Rivera", jay.mrn,
                 jay.date_of_birth.strftime("%b %-d, %Y"), str(jay.age)]:
        assert text in banner
    assert "You are signing a note about" in sign
    assert all(text in sign for text in _identity(jay))


def test_the_group_editor_names_each_attendee_in_their_entry(clinic, jay):
    note = note_start(actor=clinic.supervisor, session=clinic.group)
    page = login(clinic.supervisor).get(f"/notes/{note.code}/").content.decode()
    for person in clinic.attendees:
        person.refresh_from_db()
        legend = page.split(f'id="entry-{person.code}"')[1].split("</legend>")[0]
        assert all(text in legend for text in _identity(person)), person


def test_note_list_rows_name_the_participant(clinic, jay):
    signed_individual_note(clinic.supervisor, clinic.individual)
    note_start(actor=clinic.supervisor, session=clinic.group)
    second = f.session(clinic.world.program, kind="individual", title="Check-in",
                       facilitator=clinic.supervisor, minutes=30)
    f.attendance(f.booking(second, jay), "present")
    note_start(actor=clinic.supervisor, session=second)
    client = login(clinic.supervisor)
    chart = client.get(f"/notes/participants/{jay.code}/").content.decode()
    rows = chart.split('id="notes-list"')[1].split("</table>")[0]
    body = rows.split("<tbody>")[1]
    assert body.count("<tr>") == body.count(f"MRN {jay.mrn}") == 3
    assert all(text in rows for text in _identity(jay))
    drafts = client.get("/notes/").content.decode().split("Your drafts")[1].split("</section>")[0]
    assert "Group note: attendees named in their entries" in drafts
    assert all(text in drafts for text in _identity(jay))


def test_print_view_and_pdf_name_the_participant(clinic, jay, monkeypatch):
    note = signed_individual_note(clinic.supervisor, clinic.individual)
    client = login(clinic.supervisor)
    printed = client.get(f"/notes/{note.code}/print/").content.decode()
    assert all(text in printed for text in _identity(jay))
    texts: list[str] = []
    original = pdf_module._p
    monkeypatch.setattr(pdf_module, "_p", lambda text, style: texts.append(str(text))
                        or original(text, style))
    assert client.get(f"/notes/{note.code}/pdf/").content.startswith(b"%PDF")
    participant_line = next(t for t in texts if t.startswith("Participant:")
                            or "Participant: " in t)
    assert all(text in participant_line for text in _identity(jay))


def test_a_group_addendum_needs_an_explicit_choice(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    url = f"/notes/{note.code}/addendum/"
    r = client.post(url, {"reason": "late entry", "text": "Context added after group."})
    assert r.status_code == 422
    assert b"one attendee&#x27;s entry or for the whole group note" in r.content
    assert b"Context added after group." in r.content  # nothing typed is lost
    r = client.post(url, {"reason": "late entry", "text": "Context added after group.",
                          "scope": "whole"})
    assert r.status_code == 422
    assert b"shown in the charts of all 2 attendees" in r.content
    assert b'name="confirm_whole"' in r.content
    assert not Addendum.objects.exists()
    r = client.post(url, {"reason": "late entry", "text": "Context added after group.",
                          "scope": "whole", "confirm_whole": "on"})
    assert r.status_code == 302
    for person in clinic.attendees:
        chart = client.get(f"/notes/participants/{person.code}/notes/{note.code}/")
        assert b"Context added after group." in chart.content
        assert b"to the whole group note" in chart.content


def test_an_addendum_for_one_attendee_appears_only_in_that_chart(clinic, monkeypatch):
    note = signed_group_note(clinic.supervisor, clinic.group)
    me, other = clinic.attendees
    client = login(clinic.supervisor)
    r = client.post(f"/notes/{note.code}/addendum/", {
        "reason": "correction", "text": "Only about this attendee.", "scope": str(me.code)})
    assert r.status_code == 302
    addendum = Addendum.objects.get()
    assert addendum.participant == me
    mine = client.get(f"/notes/participants/{me.code}/notes/{note.code}/").content.decode()
    theirs = client.get(f"/notes/participants/{other.code}/notes/{note.code}/").content
    assert "Only about this attendee." in mine and f"to {me.display_name}" in mine
    assert b"Only about this attendee." not in theirs
    assert b"Only about this attendee." not in client.get(
        f"/notes/{note.code}/print/?participant={other.code}").content
    texts: list[str] = []
    original = pdf_module._p
    monkeypatch.setattr(pdf_module, "_p", lambda text, style: texts.append(str(text))
                        or original(text, style))
    client.get(f"/notes/{note.code}/pdf/?participant={other.code}")
    assert "Only about this attendee." not in texts
    texts.clear()
    client.get(f"/notes/{note.code}/pdf/?participant={me.code}")
    assert "Only about this attendee." in texts


def test_an_addendum_to_an_individual_note_needs_no_scope(clinic):
    note = signed_individual_note(clinic.supervisor, clinic.individual)
    addendum = addendum_add(actor=clinic.supervisor, note=note, text="Clarified.",
                            reason="clarification")
    assert addendum.participant is None
    page = login(clinic.supervisor).get(f"/notes/{note.code}/").content.decode()
    assert 'name="scope"' not in page and "Amends the note about" in page


def test_the_clinicians_calendar_names_the_client_at_a_fixed_query_count(clinic, jay):
    world = clinic.world
    week = date(2026, 3, 9)  # a Monday; the grid is asked for that week explicitly
    url = f"/schedule/?view=clinician&id={world.clinician.pk}&week={week}"
    client = login(world.clinician)
    tz = ZoneInfo(world.org.time_zone)

    def appointment(person, hour):
        start = datetime.combine(week + timedelta(days=1), time(hour), tzinfo=tz)
        s = f.session(world.program, kind="individual", title="Individual therapy",
                      facilitator=world.clinician, starts_at=start, minutes=50)
        f.booking(s, person)

    appointment(jay, 10)
    with CaptureQueriesContext(connection) as one:
        page = client.get(url).content.decode()
    event = page.split('class="wg-event')[1].split("</a>")[0]
    assert "Jay Rivera" in event and jay.mrn in event and "legal Jamie Rivera" in event
    for hour in (12, 14, 16):
        appointment(f.participant(world.org), hour)
    with CaptureQueriesContext(connection) as four:
        page = client.get(url).content.decode()
    assert len(four) == len(one)
    assert page.count("data-participant=") >= 4


def test_sessions_to_document_name_the_client_of_each_appointment(clinic, jay):
    page = login(clinic.supervisor).get("/notes/").content.decode()
    row = page.split(f'data-session="{clinic.individual.code}"')[1].split("</tr>")[0]
    assert all(text in row for text in _identity(jay))
    group_row = page.split(f'data-session="{clinic.group.code}"')[1].split("</tr>")[0]
    assert "data-participant" not in group_row  # a group lists no one's name here
