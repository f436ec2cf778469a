"""A read-only database: a clear 503 that loses nothing, then a banner on every page."""

from __future__ import annotations

import uuid

import pytest
from django.db import InternalError

from openiop.core import readonly
from openiop.portal.models import Message
from tests.conftest import login
from tests.skills.helpers import portal_user

pytestmark = pytest.mark.django_db


class _ReadOnly(Exception):
    sqlstate = "25006"  # what psycopg reports for read_only_sql_transaction


def _read_only_error() -> InternalError:
    error = InternalError("cannot execute INSERT in a read-only transaction")
    error.__cause__ = _ReadOnly("cannot execute INSERT in a read-only transaction")
    return error


@pytest.fixture(autouse=True)
def _fresh_flag(monkeypatch):
    monkeypatch.setattr(readonly, "_seen_at", 0.0)


def test_a_write_refused_by_a_read_only_database_is_a_clear_503_then_a_banner(world, monkeypatch):
    client = login(portal_user(world.participant))

    def refuse(*args, **kwargs):
        raise _read_only_error()

    with monkeypatch.context() as patched:
        patched.setattr(Message, "save", refuse)
        response = client.post("/portal/messages/", {"body": "Are we on for Thursday?"})
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "nothing could be saved" in response.content.decode()
    assert not Message.objects.exists()
    page = login(world.director).get("/dashboard/").content.decode()
    assert "Changes cannot be saved right now" in page


def test_the_api_and_fhir_answer_json_when_the_database_is_read_only(world):
    from django.test import RequestFactory

    for path, kind in (("/api/participants/", "application/json"),
                       ("/fhir/R4/Patient", "application/fhir+json")):
        response = readonly.read_only_response(RequestFactory().post(path))
        assert response.status_code == 503 and response["Content-Type"].startswith(kind)


def test_an_idempotent_form_on_a_read_only_database_is_a_503_not_a_500(world, monkeypatch):
    from openiop.core.models import FormSubmission

    client = login(portal_user(world.participant))

    def refuse(*args, **kwargs):
        raise _read_only_error()

    monkeypatch.setattr(FormSubmission.objects, "create", refuse)
    response = client.post("/portal/messages/", {"body": "Hello", "_idem": str(uuid.uuid4())})
    assert response.status_code == 503 and not Message.objects.exists()


def test_other_database_errors_are_not_taken_for_read_only():
    assert not readonly.is_read_only_error(InternalError("deadlock detected"))
    assert readonly.is_read_only_error(_read_only_error())
    assert not readonly.recently_read_only()


def test_sign_in_refused_by_a_read_only_database_is_a_clear_503_not_a_sign_in(world, monkeypatch):
    from django.db import models
    from django.test import Client

    from tests.factories import PASSWORD

    client = Client()

    def refuse(*args, **kwargs):
        raise _read_only_error()

    with monkeypatch.context() as patched:
        # Every row written through a model (the session, the sign-in record, last_login).
        patched.setattr(models.Model, "save", refuse)
        response = client.post("/accounts/login/", {"username": world.clinician.username,
                                                    "password": PASSWORD})
    assert response.status_code == 503 and response["Retry-After"] == "60"
    text = response.content.decode()
    assert "Signing in is paused" in text and "Nobody was signed in" in text
    assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")
    world.clinician.refresh_from_db()
    assert world.clinician.last_login is None
    # The login page says so while the flag is up; once writes work, signing in works.
    assert "Signing in is paused" in client.get("/accounts/login/").content.decode()
    assert client.post("/accounts/login/", {"username": world.clinician.username,
                                            "password": PASSWORD}).status_code == 302
