"""Break-the-glass grants: in the database, required reason, audited, 60 minutes, shown on
the chart, reviewed by the director."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from openiop.access.decisions import AccessDenied, active_grant, require
from openiop.access.models import BreakGlassGrant
from openiop.access.policy import Kind
from openiop.access.services import break_glass_grant, break_glass_revoke
from openiop.audit.models import AccessEvent
from tests import factories as f
from tests.conftest import login


def test_a_grant_needs_a_reason_and_is_audited(clinic):
    who, p = clinic.personas["clinician_off_team"], clinic.w.participant
    with pytest.raises(ValidationError) as exc:
        break_glass_grant(actor=who, participant=p, reason="   ")
    assert "reason" in exc.value.message_dict
    assert not BreakGlassGrant.objects.exists()
    grant = break_glass_grant(actor=who, participant=p, reason="Crisis call")
    assert grant.expires_at - grant.created_at == timedelta(minutes=60)
    event = AccessEvent.objects.get(action="break_glass")
    assert (event.actor, event.participant, event.reason) == (who, p, "Crisis call")


def test_roles_without_clinical_access_cannot_break_the_glass(clinic):
    with pytest.raises(AccessDenied):
        break_glass_grant(actor=clinic.personas["front_desk"], participant=clinic.w.participant,
                          reason="Curious")
    with pytest.raises(Http404):
        break_glass_grant(actor=clinic.w.outsider, participant=clinic.w.participant,
                          reason="Curious")
    assert not BreakGlassGrant.objects.exists()


def test_a_grant_expires_after_an_hour(clinic):
    who, p = clinic.personas["nurse"], clinic.w.participant
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        break_glass_grant(actor=who, participant=p, reason="Overdose response")
        require(who, Kind.MEDICATIONS, p)
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert active_grant(who, p) is not None
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert active_grant(who, p) is None
        with pytest.raises(AccessDenied):
            require(who, Kind.MEDICATIONS, p)


def test_a_revoked_grant_ends_access(clinic):
    who, p = clinic.personas["nurse"], clinic.w.participant
    grant = break_glass_grant(actor=who, participant=p, reason="Overdose response")
    break_glass_revoke(actor=clinic.w.director, grant=grant)
    assert active_grant(who, p) is None
    assert AccessEvent.objects.filter(object_type="break_glass_grant").count() == 1


def test_the_grant_holds_on_every_channel_not_only_the_browser_session(clinic):
    who, p = clinic.personas["clinician_off_team"], clinic.w.participant
    break_glass_grant(actor=who, participant=p, reason="Crisis call")
    # A fresh client (no session state) and the API both see it.
    assert login(who).get(f"/api/clinical/participants/{p.code}/notes").status_code == 200


def test_the_chart_shows_an_active_grant(clinic):
    who, p = clinic.personas["clinician_off_team"], clinic.w.participant
    break_glass_grant(actor=who, participant=p, reason="Crisis call, therapist away")
    page = login(clinic.w.clinician).get(f"/participants/{p.code}/").content.decode()
    assert "Emergency access" in page and who.last_name in page
    assert "Crisis call, therapist away" in page


def test_the_break_glass_form_writes_a_grant(clinic):
    who, p = clinic.personas["clinician_off_team"], clinic.w.participant
    client = login(who)
    client.post(f"/notes/participants/{p.code}/break-glass/", {"reason": ""})
    assert not BreakGlassGrant.objects.exists()
    client.post(f"/notes/participants/{p.code}/break-glass/", {"reason": "Crisis call"})
    grant = BreakGlassGrant.objects.get()
    assert (grant.actor, grant.participant, grant.reason) == (who, p, "Crisis call")


def test_the_director_reviews_grants_of_their_organization_only(clinic, django_assert_max_num_queries):
    p = clinic.w.participant
    for i in range(3):
        break_glass_grant(actor=clinic.personas["nurse"], participant=p, reason=f"Reason {i}")
    elsewhere = f.staff(clinic.w.outsider_org, "clinician")
    BreakGlassGrant.objects.create(actor=elsewhere, participant=clinic.w.outsider_participant,
                                   reason="Their own", created_at=timezone.now(),
                                   expires_at=timezone.now() + timedelta(minutes=60))
    client = login(clinic.w.director)
    with django_assert_max_num_queries(16):
        page = client.get("/access/break-glass/")
    body = page.content.decode()
    assert page.status_code == 200
    assert all(f"Reason {i}" in body for i in range(3)) and "Their own" not in body
    assert p.display_name in body


def test_the_review_page_is_paginated_with_flat_queries(clinic, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    now = timezone.now()
    client = login(clinic.w.director)

    def add(n):
        BreakGlassGrant.objects.bulk_create([BreakGlassGrant(
            actor=clinic.personas["nurse"], participant=clinic.w.participant, reason=f"R{n}-{i}",
            created_at=now - timedelta(minutes=i), expires_at=now + timedelta(minutes=5))
            for i in range(n)])

    add(3)
    with CaptureQueriesContext(connection) as few:
        client.get("/access/break-glass/")
    add(60)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/access/break-glass/")
    assert len(many) == len(few)
    assert "Page 1 of 2" in page.content.decode()
    assert client.get("/access/break-glass/?page=2").status_code == 200


def test_only_reviewers_see_the_review_page(clinic):
    for who in ("clinician_on_team", "nurse", "front_desk", "billing"):
        assert login(clinic.personas[who]).get("/access/break-glass/").status_code == 404
    assert login(clinic.personas["admin"]).get("/access/break-glass/").status_code == 200


def test_the_director_ends_a_grant_from_the_review_page(clinic):
    grant = break_glass_grant(actor=clinic.personas["nurse"], participant=clinic.w.participant,
                              reason="Overdose response")
    assert login(clinic.w.outsider).post(
        f"/access/break-glass/{grant.pk}/revoke/").status_code == 404
    login(clinic.w.director).post(f"/access/break-glass/{grant.pk}/revoke/")
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == clinic.w.director
