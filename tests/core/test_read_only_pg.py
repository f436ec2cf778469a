"""A really read-only PostgreSQL (`SET default_transaction_read_only = on`, what a hot
standby or a maintenance switch looks like to the application): reading pages keep working
with the banner, health-record pages answer a 503 that says the access could not be
recorded, writes answer a clear 503 (page or JSON), never a 500, and nothing changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.core import readonly
from openiop.participants.models import Participant
from openiop.scheduling.models import Attendance
from tests import factories as f
from tests.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def read_only(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's read-only transactions")
    monkeypatch.setattr(readonly, "_seen_at", 0.0)
    monkeypatch.setattr(readonly, "_probed_at", 0.0)

    def switch_on() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")

    yield switch_on
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = off")


def test_a_read_only_database_keeps_reading_pages_and_refuses_writes_clearly(world, read_only):
    session = f.session(world.program, starts_at=timezone.now() - timedelta(hours=2), minutes=90)
    booking = f.booking(session, world.participant)
    clinician = login(world.clinician)
    director = login(world.director)
    events = AccessEvent.objects.count()
    people = Participant.objects.count()
    read_only()

    # Pages without health records still work, with the banner from the first page on.
    for client, url in ((clinician, "/dashboard/"), (director, "/jobs/"), (clinician, "/find/")):
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
    assert "Changes cannot be saved right now" in clinician.get("/dashboard/").content.decode()

    # A chart needs its audit event: a 503 that says the access could not be recorded.
    chart = clinician.get(f"/participants/{world.participant.code}/")
    assert chart.status_code == 503 and chart["Retry-After"] == "60"
    text = chart.content.decode()
    assert "this access could not be recorded" in text and "Nothing was shown" in text
    assert world.participant.legal_last_name not in text
    api_read = clinician.get(f"/api/participants/{world.participant.code}")
    assert api_read.status_code == 503
    assert "could not be recorded" in api_read.json()["detail"]

    # Writes: a page and the JSON API say nothing was saved.
    write = director.post("/api/participants/", json.dumps({
        "legal_first_name": "Ann", "legal_last_name": "Lee", "date_of_birth": "1990-01-01",
        "mrn": "MRN-RO-1"}), content_type="application/json")
    assert write.status_code == 503 and "nothing could be saved" in write.json()["detail"]
    mark = reverse("scheduling:attendance_mark", kwargs={"code": session.code,
                                                         "booking": booking.code})
    for extra in ({}, {"_idem": "5b0e7f36-5a3c-4a55-9a3e-0f3b7c1d2e4f"}):
        form = clinician.post(mark, {"status": "present", "minutes": "90"} | extra)
        assert form.status_code == 503, form.status_code
        assert "nothing could be saved" in form.content.decode()
    assert not Attendance.objects.exists()

    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = off")
    assert AccessEvent.objects.count() == events
    assert Participant.objects.count() == people
    # Back to normal: the chart opens again and its opening is recorded.
    assert clinician.get(f"/participants/{world.participant.code}/").status_code == 200
    assert AccessEvent.objects.count() == events + 1


def test_sign_in_on_a_read_only_database_is_a_clear_503_and_signs_nobody_in(world, read_only):
    from django.test import Client

    from tests.factories import PASSWORD

    read_only()
    for password in (PASSWORD, "wrong-password"):
        client = Client()
        page = client.get("/accounts/login/")
        assert page.status_code == 200
        assert "Signing in is paused" in page.content.decode()
        response = client.post("/accounts/login/", {"username": world.clinician.username,
                                                    "password": password})
        assert response.status_code == 503 and response["Retry-After"] == "60"
        text = response.content.decode()
        assert "Signing in is paused" in text and "read-only" in text
        # Nobody was signed in: the next page asks for a sign-in again.
        assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")
    # The load balancer hears it too: this node is not ready.
    assert Client().get("/readyz").status_code == 503
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = off")
    signed_in = Client().post("/accounts/login/", {"username": world.clinician.username,
                                                   "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code
