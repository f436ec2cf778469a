"""A form submitted twice (a retry after a lost response, a double click) saves once."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from openiop.core.models import FormSubmission
from openiop.portal.models import Message
from tests.conftest import login
from tests.skills.helpers import portal_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(world):
    return portal_user(world.participant)


def _key(html: str) -> str:
    return re.search(r'name="_idem" value="([0-9a-f-]{36})"', html).group(1)


def test_a_portal_message_sent_twice_with_the_same_key_is_stored_once(world, me):
    client = login(me)
    key = _key(client.get("/portal/messages/").content.decode())
    first = client.post("/portal/messages/", {"body": "Can I switch tracks?", "_idem": key})
    again = client.post("/portal/messages/", {"body": "Can I switch tracks?", "_idem": key})
    assert first.status_code == 302
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Message.objects.filter(body="Can I switch tracks?").count() == 1
    # A new showing of the form has a new key: a second message is a second message.
    fresh = _key(client.get("/portal/messages/").content.decode())
    assert fresh != key
    client.post("/portal/messages/", {"body": "Can I switch tracks?", "_idem": fresh})
    assert Message.objects.filter(body="Can I switch tracks?").count() == 2


def test_a_refused_form_forgets_its_key_so_the_corrected_form_is_saved(world, me):
    client = login(me)
    key = str(uuid.uuid4())
    assert client.post("/portal/messages/", {"body": "", "_idem": key}).status_code == 400
    assert client.post("/portal/messages/", {"body": "Fixed", "_idem": key}).status_code == 302
    assert Message.objects.filter(body="Fixed").count() == 1


def test_a_repeat_while_the_first_is_still_running_is_a_409_until_it_goes_stale(world, me):
    from openiop.core.idempotency import STALE_AFTER, _scope

    client = login(me)
    key = uuid.uuid4()
    request = RequestFactory().post("/portal/messages/", {"body": "Twice?", "_idem": str(key)})
    request.user, request.session = me, None
    FormSubmission.objects.create(scope=_scope(request, key))  # a request still in flight
    busy = client.post("/portal/messages/", {"body": "Twice?", "_idem": str(key)})
    assert busy.status_code == 409 and "still being saved" in busy.content.decode()
    assert not Message.objects.filter(body="Twice?").exists()
    FormSubmission.objects.update(created_at=timezone.now() - STALE_AFTER - timedelta(seconds=1))
    assert client.post("/portal/messages/", {"body": "Twice?", "_idem": str(key)}).status_code == 302
    assert Message.objects.filter(body="Twice?").count() == 1


def test_keys_are_per_user(world, me):
    from tests import factories as f

    other = portal_user(f.participant(world.org, legal_first_name="Kim", legal_last_name="Oh"))
    key = str(uuid.uuid4())
    login(me).post("/portal/messages/", {"body": "Mine", "_idem": key})
    login(other).post("/portal/messages/", {"body": "Theirs", "_idem": key})
    assert Message.objects.filter(body__in=["Mine", "Theirs"]).count() == 2


def test_the_api_honours_an_idempotency_key_header(world):
    import json

    from django.test import Client

    client = Client()
    client.force_login(world.director)
    body = json.dumps({"legal_first_name": "Ann", "legal_last_name": "Lee",
                       "date_of_birth": "1990-01-01", "mrn": "MRN-IDEM-1"})
    key = str(uuid.uuid4())
    first = client.post("/api/participants/", body, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/participants/", body, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code in (200, 201), first.content
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    from openiop.participants.models import Participant

    assert Participant.objects.filter(legal_first_name="Ann", legal_last_name="Lee").count() == 1


def test_a_failed_session_save_after_a_write_keeps_the_answer_so_nobody_resends(
        world, me, monkeypatch, caplog):
    from django.contrib.sessions.backends.base import SessionBase
    from django.db import OperationalError

    client = login(me)
    key = _key(client.get("/portal/messages/").content.decode())

    def broken(self, must_create=False):
        raise OperationalError("could not connect to the session store")

    monkeypatch.setattr(type(client.session), "save", broken)
    assert issubclass(type(client.session), SessionBase)
    response = client.post("/portal/messages/", {"body": "Saved, then the store failed",
                                                 "_idem": key})
    # The message was committed: the answer says so (a redirect, not a 500 inviting a resend).
    assert response.status_code == 302
    assert Message.objects.filter(body="Saved, then the store failed").count() == 1
    assert "session not saved (OperationalError)" in caplog.text
    assert "Saved, then the store failed" not in caplog.text


def test_a_session_ended_in_another_tab_does_not_turn_a_saved_write_into_an_error(
        world, me, monkeypatch):
    from django.contrib.sessions.exceptions import SessionInterrupted

    client = login(me)

    def interrupted(self, must_create=False):
        raise SessionInterrupted("The request's session was deleted before it completed.")

    monkeypatch.setattr(type(client.session), "save", interrupted)
    response = client.post("/portal/messages/", {"body": "Sent as I signed out elsewhere"})
    assert response.status_code == 302
    assert Message.objects.filter(body="Sent as I signed out elsewhere").count() == 1
