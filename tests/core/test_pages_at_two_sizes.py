"""Every staff list, dashboard, chart tab, week grid and report reads the same number of
queries for a clinic of 5 and of 30 more participants (each enrolled, booked into the
week's sessions, with attendance), and no more than its pinned count, so a page that
starts to grow with the clinic fails here before it is slow in production."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.core.navigation import CHART_TABS, STAFF_NAV
from tests import factories as f
from tests.clinic_size import add_participants
from tests.conftest import login

# A page that records an audit event takes one more query on PostgreSQL (the advisory lock
# that serializes appends to the organization's chain).
EXTRA = 1 if connection.vendor == "postgresql" else 0

# Pages beyond the navigation and the chart tabs: (label, reader, url; {0} the world's track
# code, {1} a room's pk, {2} the clinician's pk, {3} the program's code).
MORE_PAGES = [
    ("week grid: track", "director", "/schedule/?view=track&id={0}"),
    ("week grid: room", "director", "/schedule/?view=room&id={1}"),
    ("week grid: clinician", "director", "/schedule/?view=clinician&id={2}"),
    ("compliance", "director", "/schedule/compliance/"),
    ("attendance flags", "director", "/schedule/attendance-flags/"),
    ("schedule templates", "director", "/schedule/templates/"),
    ("staff hours", "director", "/schedule/staff/"),
    ("my calendar", "clinician", "/schedule/my-calendar/"),
    ("notes dashboard: clinician", "clinician", "/notes/"),
    ("notes dashboard: director", "director", "/notes/"),
    ("my work count (htmx)", "clinician", "/dashboard/count/"),
    ("notifications", "clinician", "/dashboard/notifications/"),
    ("participants: search", "clinician", "/participants/?q=Scale"),
    ("participants: active in the program", "clinician",
     "/participants/?status=active&program={3}"),
    ("audit log: counted", "director", "/audit/?count=1"),
    ("audit log: since a date", "director", "/audit/?since=2000-01-01"),
    ("emergency access review", "director", "/access/break-glass/"),
    ("medication catalog", "clinician", "/medications/catalog/"),
    ("holistic sessions", "director", "/skills/holistic/"),
    ("program cohort progress", "director", "/skills/programs/{4}/progress/"),
    ("my jobs", "director", "/jobs/mine/"),
    ("billing: charges", "billing", "/billing/charges/"),
    ("billing: claims", "billing", "/billing/claims/"),
    ("billing: batches", "billing", "/billing/batches/"),
    ("billing: remittances", "billing", "/billing/remittances/"),
    ("billing: denials", "billing", "/billing/denials/"),
    ("billing: aging", "billing", "/billing/aging/"),
    ("api: participants", "clinician", "/api/participants/?limit=25"),
    ("api: compliance", "director", "/api/scheduling/compliance?limit=25"),
]

# Queries per page on SQLite (the session, the user and staff profile, the page's own
# reads, the chart frame and access checks on a chart tab, an audit event where it reads a
# participant's record). No session write: each request is within a minute of the
# session's last write (openiop.core.sessions); a chart tab asks each access relationship
# once (openiop.access.memo).
PINNED: dict[str, int] = {
    "nav: My work": 18,
    "nav: Participants": 13,
    "nav: Referrals": 12,
    "nav: Schedule": 10,
    "nav: Notes": 18,
    "nav: Curriculum": 8,
    "nav: Medications": 13,
    "nav: Outcomes": 9,
    "nav: Billing": 7,
    "nav: Programs": 5,
    "nav: Audit": 5,
    "nav: Staff": 10,
    "nav: Jobs": 5,
    "chart tab: Overview": 28,
    "chart tab: Diagnoses": 22,
    "chart tab: Care": 28,  # + the named family therapist's choices
    "chart tab: Schedule": 28,
    "chart tab: Notes": 23,
    "chart tab: Treatment plan": 24,
    "chart tab: Measures": 24,
    "chart tab: Skills": 31,
    "chart tab: Medications": 34,
    "chart tab: Consents": 26,
    "chart tab: Billing": 33,
    "chart tab: Access log": 21,
    "week grid: track": 10,
    "week grid: room": 10,
    "week grid: clinician": 10,
    "compliance": 8,
    "attendance flags": 10,
    "schedule templates": 8,
    "staff hours": 6,
    "my calendar": 4,
    "notes dashboard: clinician": 18,
    "notes dashboard: director": 16,
    "my work count (htmx)": 17,
    "notifications": 5,
    "participants: search": 13,
    "participants: active in the program": 13,
    "audit log: counted": 6,
    "audit log: since a date": 5,
    "emergency access review": 10,
    "medication catalog": 3,
    "holistic sessions": 5,
    "program cohort progress": 8,
    "my jobs": 4,
    "billing: charges": 5,
    "billing: claims": 6,
    "billing: batches": 8,
    "billing: remittances": 5,
    "billing: denials": 4,
    "billing: aging": 4,
    "api: participants": 6,
    "api: compliance": 7,
}


@pytest.fixture
def clinic(world):
    """The world with a billing clerk, a room, this week's and last week's sessions of the
    track (the world's participant booked and present), and a reader per role."""
    now = timezone.now().replace(microsecond=0)
    room = f.room(world.site)
    sessions = [f.session(world.program, track=world.track, room=room, capacity=100,
                          facilitator=world.clinician, starts_at=now + timedelta(days=d))
                for d in (-8, -2, -1, 1, 2)]
    for s in sessions:
        f.attendance(f.booking(s, world.participant), "present")
    readers = {"clinician": world.clinician, "director": world.director,
               "billing": f.staff(world.org, Role.BILLING, username="billing")}
    return world, sessions, room, readers


def _pages(world, room, readers):
    cases = []
    for item in STAFF_NAV:
        who = next((name for name, user in readers.items() if item.allowed(user)), None)
        if who:
            cases.append((f"nav: {item.label}", who, reverse(item.url_name)))
    for item in CHART_TABS:
        who = next((name for name, user in readers.items() if item.allowed(user)), None)
        try:
            url = reverse(item.url_name, kwargs={"code": world.participant.code})
        except NoReverseMatch:
            continue
        if who:
            cases.append((f"chart tab: {item.label}", who, url))
    for label, who, url in MORE_PAGES:
        cases.append((label, who, url.format(world.track.code, room.pk, world.clinician.pk,
                                             world.program.code, world.program.code)))
    return cases


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def test_every_page_takes_the_same_queries_for_5_and_30_more_participants(clinic):
    world, sessions, room, readers = clinic
    clients = {name: login(user) for name, user in readers.items()}
    cases = _pages(world, room, readers)
    # Absent, so that the flag and compliance lists have rows at both sizes.
    add_participants(world, 5, sessions=sessions, status="absent")
    for _label, who, url in cases:  # warm caches (first-request work is not the clinic's)
        clients[who].get(url)
    small = {label: _count(clients[who], url) for label, who, url in cases}
    add_participants(world, 25, sessions=sessions, status="absent")
    big = {label: _count(clients[who], url) for label, who, url in cases}
    if os.environ.get("PRINT_PAGE_QUERIES"):
        for label in small:
            print(f'    "{label}": {big[label]},  # {small[label]}')
    assert {label for label, _who, _url in cases} == set(PINNED)
    grew = {label: (small[label], big[label]) for label in small if small[label] != big[label]}
    assert grew == {}
    moved = {label: (big[label], PINNED[label]) for label in big
             if not PINNED[label] <= big[label] <= PINNED[label] + EXTRA}
    assert moved == {}
