"""Autosave after a lost answer: the server wrote version N, the page never heard, and its
next save still names N - 1. That is the same page continuing, not a conflict; a save sent
twice is written once; a change made in another tab still conflicts and keeps both texts."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from openiop.audit.models import AccessEvent
from openiop.clinical.models import Note, NoteConflictCopy, NoteDraftSave
from openiop.clinical.services import note_save_draft, note_start
from openiop.core.exceptions import Conflict
from tests.conftest import login

from .helpers import DAP

TAB_A, TAB_B = "tab-a", "tab-b"


def _save(clinic, note, text, *, version, editor=TAB_A, save_id):
    return note_save_draft(actor=clinic.supervisor, note=Note.objects.get(pk=note.pk),
                           sections=DAP | {"data": text}, version=version, editor=editor,
                           save_id=save_id)


def _draft_saves(note):
    return AccessEvent.objects.filter(object_id=str(note.code), reason="draft saved").count()


def test_the_save_after_a_lost_answer_continues_the_same_page(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    _save(clinic, note, "I met with", version=1, save_id="s1")  # the answer is lost
    saved = _save(clinic, note, "I met with the participant", version=1, save_id="s2")
    assert saved.version == 3 and saved.sections["data"] == "I met with the participant"
    # Two answers lost in a row: still the same page's own versions.
    _save(clinic, note, "I met with the participant today", version=3, save_id="s3")
    saved = _save(clinic, note, "I met with the participant today, 50 minutes",
                  version=3, save_id="s4")
    assert saved.version == 5
    assert saved.sections["data"] == "I met with the participant today, 50 minutes"
    assert not NoteConflictCopy.objects.exists()


def test_a_save_sent_again_is_written_once_and_never_over_newer_text(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    first = _save(clinic, note, "First words", version=1, save_id="s1")
    before = _draft_saves(note)
    again = _save(clinic, note, "First words", version=1, save_id="s1")
    assert again.version == first.version == 2 and _draft_saves(note) == before
    _save(clinic, note, "First words and more", version=2, save_id="s2")
    # A late copy of the first save arrives after the second was written.
    late = _save(clinic, note, "First words", version=1, save_id="s1")
    assert late.version == 3 and late.sections["data"] == "First words and more"
    assert NoteDraftSave.objects.filter(note=note).count() == 2
    assert not NoteConflictCopy.objects.exists()


def test_another_tab_in_between_is_still_a_conflict_and_keeps_both_texts(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    _save(clinic, note, "Tab A, answer lost", version=1, save_id="a1")
    _save(clinic, note, "Tab B read version 2 and wrote this", version=2, editor=TAB_B,
          save_id="b1")
    with pytest.raises(Conflict):
        _save(clinic, note, "Tab A goes on typing", version=1, save_id="a2")
    note.refresh_from_db()
    assert note.version == 3 and note.sections["data"] == "Tab B read version 2 and wrote this"
    copy = NoteConflictCopy.objects.get(note=note)
    assert copy.sections["data"] == "Tab A goes on typing" and copy.based_on_version == 1


def test_a_resent_save_after_another_tab_wrote_is_a_conflict(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    _save(clinic, note, "Tab A", version=1, save_id="a1")
    _save(clinic, note, "Tab B", version=2, editor=TAB_B, save_id="b1")
    with pytest.raises(Conflict):
        _save(clinic, note, "Tab A", version=1, save_id="a1")
    note.refresh_from_db()
    assert note.sections["data"] == "Tab B" and note.version == 3


def test_a_version_made_without_an_editor_is_not_taken_for_the_pages_own(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    note_save_draft(actor=clinic.supervisor, note=note, sections=DAP, version=1)  # no ids
    with pytest.raises(Conflict):
        _save(clinic, note, "A page that loaded version 1", version=1, save_id="a1")
    # Without ids the old rule holds: a stale version conflicts.
    with pytest.raises(Conflict):
        note_save_draft(actor=clinic.supervisor, note=Note.objects.get(pk=note.pk),
                        sections=DAP | {"data": "stale"}, version=1)


@pytest.mark.parametrize("field, value", [("editor", "x" * 65), ("save_id", "a b"),
                                          ("save_id", "nul\x00"), ("editor", "é")])
def test_ids_that_are_not_short_tokens_are_refused_by_name(clinic, field, value):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    ids = {"editor": TAB_A, "save_id": "s1"} | {field: value}
    with pytest.raises(ValidationError) as exc:
        note_save_draft(actor=clinic.supervisor, note=note, sections=DAP, version=1, **ids)
    assert field in exc.value.message_dict
    note.refresh_from_db()
    assert note.version == 1


def test_a_save_id_of_another_page_is_refused(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    _save(clinic, note, "Tab A", version=1, save_id="same")
    with pytest.raises(ValidationError) as exc:
        _save(clinic, note, "Tab B", version=2, editor=TAB_B, save_id="same")
    assert "save_id" in exc.value.message_dict


# --- through the page ----------------------------------------------------------------------

def _page_ids(client, note):
    page = client.get(f"/notes/{note.code}/").content.decode()
    editor = re.search(r'name="editor" value="([0-9a-f]{32})"', page)
    assert editor and re.search(r'name="save_id" value="[0-9a-f]{32}"', page)
    return editor.group(1)


def test_the_page_autosaves_through_a_lost_answer_without_a_conflict(clinic):
    client = login(clinic.supervisor)
    client.post(f"/notes/sessions/{clinic.individual.code}/note/")
    note = Note.objects.get(session=clinic.individual)
    editor = _page_ids(client, note)
    assert _page_ids(client, note) != editor  # each showing of the page is its own editor
    url = f"/notes/{note.code}/save/"
    client.post(url, {"version": "1", "editor": editor, "save_id": "1",
                      "section-data": "Typed first"}, HTTP_HX_REQUEST="true")  # answer lost
    response = client.post(url, {"version": "1", "editor": editor, "save_id": "2",
                                 "section-data": "Typed first, then more"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "HX-Retarget" not in response
    assert b'id="note-version" value="3"' in response.content
    note.refresh_from_db()
    assert note.sections["data"] == "Typed first, then more" and note.version == 3
    # The same save sent again answers with the saved version and writes nothing.
    again = client.post(url, {"version": "1", "editor": editor, "save_id": "2",
                              "section-data": "Typed first, then more"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and b'value="3"' in again.content
    assert Note.objects.get(pk=note.pk).version == 3


def test_the_page_still_shows_both_texts_when_another_tab_saved(clinic):
    client = login(clinic.supervisor)
    client.post(f"/notes/sessions/{clinic.individual.code}/note/")
    note = Note.objects.get(session=clinic.individual)
    tab_a, tab_b = _page_ids(client, note), _page_ids(client, note)
    url = f"/notes/{note.code}/save/"
    client.post(url, {"version": "1", "editor": tab_b, "save_id": "b1",
                      "section-data": "Saved in tab B"}, HTTP_HX_REQUEST="true")
    response = client.post(url, {"version": "1", "editor": tab_a, "save_id": "a1",
                                 "section-data": "Typed in tab A"}, HTTP_HX_REQUEST="true")
    assert response["HX-Retarget"] == "#conflict-panel"
    assert b"Saved in tab B" in response.content and b"Typed in tab A" in response.content
    note.refresh_from_db()
    assert note.sections["data"] == "Saved in tab B"
    assert NoteConflictCopy.objects.get(note=note).sections["data"] == "Typed in tab A"
    # Reloaded, the page still offers the kept text.
    assert b"Typed in tab A" in client.get(f"/notes/{note.code}/").content


def test_the_api_takes_the_same_ids(clinic):
    client = login(clinic.supervisor)
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    url = f"/api/clinical/notes/{note.code}/draft"
    body = {"version": 1, "sections": {"data": "API first"}, "editor": "cli", "save_id": "1"}
    assert client.put(url, body, content_type="application/json").status_code == 200
    body |= {"sections": {"data": "API first, more"}, "save_id": "2"}
    response = client.put(url, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["version"] == 3
    bad = client.put(url, body | {"save_id": "no spaces"}, content_type="application/json")
    assert bad.status_code == 422


def test_only_the_last_draft_saves_are_remembered(clinic, monkeypatch):
    from openiop.clinical.services import drafts as note_services

    monkeypatch.setattr(note_services, "DRAFT_SAVES_KEPT", 3)
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    for n in range(1, 7):
        _save(clinic, note, f"text {n}", version=n, save_id=f"s{n}")
    assert list(NoteDraftSave.objects.filter(note=note).values_list("version", flat=True)
                ) == [5, 6, 7]
    # Within what is remembered, an unanswered page still continues ...
    assert _save(clinic, note, "text 8", version=5, save_id="s8").version == 8
    # ... beyond it, it conflicts and its text is kept.
    with pytest.raises(Conflict):
        _save(clinic, note, "text from long ago", version=2, save_id="s9")
    assert NoteConflictCopy.objects.get(note=note).sections["data"] == "text from long ago"
