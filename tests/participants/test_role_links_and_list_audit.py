"""Links a role cannot follow are not shown (the same permission check as the view), and
list and search pages write one audit event per page view, not one per row."""

from __future__ import annotations

import pytest

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from tests import factories as f
from tests.conftest import login


@pytest.mark.parametrize(("role", "can_create", "can_edit"), [
    (Role.CLINICIAN, True, True),
    (Role.INTAKE, True, True),
    (Role.FRONT_DESK, False, True),
    (Role.BILLING, False, False),
])
def test_create_and_edit_links_follow_the_views_permission(world, role, can_create, can_edit):
    client = login(f.staff(world.org, role))
    code = world.participant.code
    listing = client.get("/participants/").content.decode()
    assert ('href="/participants/new/"' in listing) is can_create
    assert (client.get("/participants/new/").status_code == 200) is can_create
    chart = client.get(f"/participants/{code}/").content.decode()
    assert (f'href="/participants/{code}/edit/"' in chart) is can_edit
    assert ("Add a person" in chart) is can_edit and ("Add a window" in chart) is can_edit
    assert (client.get(f"/participants/{code}/edit/").status_code == 200) is can_edit


def test_the_participant_list_writes_one_event_per_page_view(world, as_clinician):
    for n in range(6):
        f.participant(world.org, legal_last_name=f"Searchable{n}")
    as_clinician.get("/participants/", {"q": "Searchable"})
    events = AccessEvent.objects.filter(object_type="participant_list")
    assert events.count() == 1
    event = events.get()
    assert event.actor == world.clinician and event.organization_id == world.org.pk
    assert event.participant_id is None and "q=Searchable" in event.reason
    # No per-row events.
    assert not AccessEvent.objects.filter(object_type="participant", action="view").exists()
    as_clinician.get("/participants/", {"page": 2})
    assert AccessEvent.objects.filter(object_type="participant_list").count() == 2


def test_the_notes_dashboard_and_the_referral_queue_are_audited_once(world, as_director):
    as_director.get("/notes/")
    as_director.get("/intake/")
    assert AccessEvent.objects.filter(object_type="note_dashboard").count() == 1
    assert AccessEvent.objects.filter(object_type="referral_list").count() == 1
