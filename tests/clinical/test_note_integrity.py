"""A signed note's stored hash is checked whenever it is shown, printed or exported."""

from __future__ import annotations

from django.db import connection
from django.utils.html import escape

from openiop.audit.models import AccessEvent
from openiop.clinical.integrity import INTEGRITY_WARNING, note_content_intact
from tests.conftest import login

from .helpers import signed_group_note


def _tamper(note) -> None:
    """Rewrite an entry behind the application's back (a superuser with triggers off)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:  # SQLite cannot switch triggers off: drop it (the test's rollback restores it)
            cursor.execute("DROP TRIGGER clinical_groupnoteentry_signed_update")
        cursor.execute("UPDATE clinical_groupnoteentry SET plan = %s WHERE note_id = %s",
                       ["rewritten later", note.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_an_intact_signed_note_shows_no_warning(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    assert note_content_intact(note)
    page = login(clinic.supervisor).get(f"/notes/{note.code}/").content.decode()
    assert "Integrity warning" not in page
    assert not AccessEvent.objects.filter(action="integrity").exists()


def test_an_altered_signed_note_warns_on_every_channel_and_is_audited(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    _tamper(note)
    assert not note_content_intact(note)
    client = login(clinic.supervisor)
    participant = clinic.attendees[0]
    for url in (f"/notes/{note.code}/", f"/notes/{note.code}/print/",
                f"/notes/participants/{participant.code}/notes/{note.code}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert escape(INTEGRITY_WARNING) in response.content.decode(), url
    pdf = client.get(f"/notes/{note.code}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    events = AccessEvent.objects.filter(action="integrity", object_id=str(note.code))
    # Three pages plus the PDF, one event per participant in the group note each time.
    assert events.count() == 4 * len(clinic.attendees)
    assert {e.participant_id for e in events} == {p.pk for p in clinic.attendees}
    assert all(e.actor == clinic.supervisor and "does not match" in e.reason for e in events)
