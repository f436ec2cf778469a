"""Note forms sent twice (an answer lost on the way back, a double click) write once."""

from __future__ import annotations

import re

from openiop.clinical.models import Addendum, Note
from tests.conftest import login

from .helpers import signed_group_note, signed_individual_note


def _key(html: str, action: str) -> str:
    form = html[html.index(f'action="{action}"'):]
    return re.search(r'name="_idem" value="([0-9a-f-]{36})"', form).group(1)


def test_starting_a_note_twice_opens_the_same_draft(clinic):
    client = login(clinic.supervisor)
    action = f"/notes/sessions/{clinic.individual.code}/note/"
    page = client.get(f"/notes/participants/{clinic.world.participant.code}/").content.decode()
    key = _key(page, action)
    first = client.post(action, {"_idem": key})
    again = client.post(action, {"_idem": key})
    assert first.status_code == 302 and again.status_code == 303
    assert again["Location"] == first["Location"]
    assert Note.objects.filter(session=clinic.individual).count() == 1


def test_an_addendum_sent_twice_is_added_once(clinic):
    note = signed_individual_note(clinic.supervisor, clinic.individual)
    client = login(clinic.supervisor)
    action = f"/notes/{note.code}/addendum/"
    key = _key(client.get(f"/notes/{note.code}/").content.decode(), action)
    body = {"reason": "late entry", "text": "Called back after the session.", "_idem": key}
    first = client.post(action, body)
    again = client.post(action, body)
    assert first.status_code == 302 and again.status_code == 303
    assert Addendum.objects.filter(note=note).count() == 1
    # A new showing of the page has a new key: a second addendum is a second addendum.
    fresh = _key(client.get(f"/notes/{note.code}/").content.decode(), action)
    assert fresh != key
    client.post(action, body | {"_idem": fresh})
    assert Addendum.objects.filter(note=note).count() == 2


def test_a_group_addendum_retry_is_not_added_to_every_chart_twice(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    action = f"/notes/{note.code}/addendum/"
    key = _key(client.get(f"/notes/{note.code}/").content.decode(), action)
    body = {"reason": "late entry", "text": "For the whole group.", "scope": "whole",
            "confirm_whole": "on", "_idem": key}
    assert client.post(action, body).status_code == 302
    assert client.post(action, body).status_code == 303
    assert Addendum.objects.filter(note=note).count() == 1
