"""Consents through the JSON API: list, record (every Part 2 element required), revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.participants.models import Consent, RelatedPerson
from tests import factories as f
from tests.conftest import login

NOW = timezone.datetime(2026, 4, 6, 15, 0, tzinfo=timezone.get_fixed_timezone(0))
BODY = {"kind": "part2_disclosure", "signed_by_name": "Jamie Rivera",
        "signed_on": "2026-04-06", "recipient": "Harbor Clinic", "purpose": "at my request",
        "recipient_kind": "organization", "purpose_code": "patient_request",
        "information": "Attendance, last 30 days", "expires_at": "2026-12-31T23:59:00Z"}


@pytest.fixture(autouse=True)
def _at_now():
    """The clock is at NOW before any fixture signs someone in: a session started at the
    suite's clock (OPENIOP_TEST_NOW) would have ended by NOW when that instant is earlier."""
    with time_machine.travel(NOW, tick=False):
        yield


def _url(world, tail=""):
    return f"/api/participants/{world.participant.code}/consents{tail}"


@time_machine.travel(NOW, tick=False)
def test_record_list_and_revoke_a_part2_consent(world, as_clinician):
    created = as_clinician.post(_url(world), BODY, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["recipient"] == "Harbor Clinic" and "may revoke" in body["text"]
    assert (body["recipient_kind"], body["purpose_code"]) == ("organization", "patient_request")
    listed = as_clinician.get(_url(world)).json()
    assert [c["code"] for c in listed] == [body["code"]]
    revoked = as_clinician.post(_url(world, f"/{body['code']}/revoke"),
                                {"reason": "by phone"}, content_type="application/json")
    assert revoked.status_code == 200 and revoked.json()["revocation_reason"] == "by phone"
    again = as_clinician.post(_url(world, f"/{body['code']}/revoke"),
                              {"reason": "by phone"}, content_type="application/json")
    assert again.status_code == 409
    assert AccessEvent.objects.filter(object_type="consent").count() == 2


@time_machine.travel(NOW, tick=False)
def test_a_missing_element_is_a_422_naming_the_field(world, as_clinician):
    response = as_clinician.post(_url(world), BODY | {"purpose_code": ""},
                                 content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"].startswith("purpose_code:")
    other = as_clinician.post(_url(world), BODY | {"purpose_code": "other", "purpose": ""},
                              content_type="application/json")
    assert other.status_code == 422 and other.json()["detail"].startswith("purpose:")
    app = as_clinician.post(_url(world), BODY | {"recipient_kind": "app",
                                                 "recipient_app": "no-such-client"},
                            content_type="application/json")
    assert app.status_code == 422 and app.json()["detail"].startswith("recipient_app:")
    naive = as_clinician.post(_url(world), BODY | {"expires_at": "2026-12-31T23:59:00"},
                              content_type="application/json")
    assert naive.status_code == 422 and "expires_at" in naive.json()["detail"]
    assert not Consent.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_family_access_through_the_api_names_one_of_the_participants_people(world, as_clinician):
    mom = RelatedPerson.objects.create(participant=world.participant, name="Pat Parent",
                                       relationship="parent")
    body = {"kind": "family_access", "signed_by_name": "Jamie Rivera",
            "signed_on": "2026-04-06", "related_person": str(mom.code),
            "scopes": ["shared_notes"], "expiry_event": "discharge"}
    assert as_clinician.post(_url(world), body, content_type="application/json"
                             ).status_code == 201
    stranger = RelatedPerson.objects.create(participant=world.outsider_participant,
                                            name="Not Theirs", relationship="friend")
    other = as_clinician.post(_url(world), body | {"related_person": str(stranger.code)},
                              content_type="application/json")
    assert other.status_code == 422
    assert Consent.objects.get().is_active_at(NOW + timedelta(days=1))


def test_billing_may_list_but_not_record_and_outsiders_get_404(world, as_outsider):
    billing = login(f.staff(world.org, Role.BILLING))
    assert billing.get(_url(world)).status_code == 200
    assert billing.post(_url(world), BODY, content_type="application/json").status_code == 404
    assert as_outsider.get(_url(world)).status_code == 404
    assert not Consent.objects.exists()
