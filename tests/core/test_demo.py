"""The demo clinic: deterministic, idempotent, realistic enough to use."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from django.core.management import call_command

from openiop.accounts.models import Role, User
from openiop.care.models import EpisodeOfCare, Program, Track
from openiop.demo.generator import build_demo, demo_logins
from openiop.participants.models import Participant
from openiop.scheduling.models import Attendance, Session

TODAY = date(2026, 11, 18)


def _fingerprint() -> list[tuple]:
    return list(Participant.objects.order_by("mrn").values_list(
        "mrn", "legal_first_name", "legal_last_name", "date_of_birth"))


def test_demo_builds_the_clinic_described_in_the_issue(db):
    out = io.StringIO()
    assert build_demo(seed=7, participants=60, today=TODAY, out=out) is True
    assert Participant.objects.count() == 60
    assert Program.objects.count() == 3
    assert set(Program.objects.values_list("population", flat=True)) == {"adult", "adolescent"}
    kinds = set(Track.objects.values_list("kind", flat=True))
    assert {"morning", "evening", "afternoon"} <= kinds
    staff = User.objects.exclude(role__in=[Role.PARTICIPANT, Role.FAMILY])
    assert 10 <= staff.count() <= 14
    assert {u.role for u in staff} >= {"admin", "director", "clinician", "prescriber", "nurse",
                                       "intake", "front_desk", "billing"}
    first = Session.objects.order_by("starts_at").first().starts_at.date()
    assert (TODAY - first).days >= 6 * 7 - 1
    assert Attendance.objects.count() > 1000
    assert EpisodeOfCare.objects.filter(status="active").count() >= 35
    assert Participant.objects.filter(availability__isnull=False).distinct().count() >= 40
    assert Participant.objects.filter(related_people__isnull=False).distinct().count() == 60
    assert "Demo clinic ready" in out.getvalue()
    # On PostgreSQL the planner's statistics are gathered once the rows are in (a fresh
    # clinic is otherwise planned as if its tables were empty until autovacuum runs).
    from django.db import connection
    if connection.vendor == "postgresql":
        assert "planner statistics (ANALYZE) done" in out.getvalue()
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s",
                           [Participant._meta.db_table])
            assert cursor.fetchone()[0] == 60
    else:
        assert "ANALYZE" not in out.getvalue()


def test_demo_is_idempotent_and_deterministic(db):
    build_demo(seed=7, participants=30, today=TODAY, out=io.StringIO())
    first = _fingerprint()
    out = io.StringIO()
    assert build_demo(seed=7, participants=30, today=TODAY, out=out) is False
    assert "already loaded" in out.getvalue()
    assert _fingerprint() == first


def test_demo_logins_cover_every_account_the_docs_mention(db):
    build_demo(seed=1, participants=20, today=TODAY, out=io.StringIO())
    printed = {row[1] for row in demo_logins()}
    assert printed == {"director", "admin", "clinician", "lmft", "counselor", "associate",
                       "yoga", "prescriber", "np", "nurse", "intake", "frontdesk", "billing",
                       "participant", "family"}
    # Every username the developer guide lists is printed by `openiop logins`.
    guide = (Path(__file__).resolve().parents[2] / "docs" / "DEVELOPING.md").read_text()
    listed = guide.split("Demo usernames:", 1)[1].split("Password:", 1)[0]
    documented = {name.strip(" .\n") for name in re.sub(r"\([^)]*\)", "", listed).split(",")}
    assert documented and documented <= printed, documented - printed
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "password for all" in text
    for username in printed:
        assert f"  {username} " in text
    assert "Associate counselor (notes need co-signature)" in text


def test_demo_scales_with_parallel_tracks(db):
    build_demo(seed=3, participants=400, today=TODAY, out=io.StringIO())
    assert Participant.objects.count() == 400
    for track in Track.objects.all():
        active = track.enrollments.filter(status="active").count()
        assert active <= track.capacity, track


def test_demo_schedule_double_books_nobody_and_respects_work_and_school(db):
    """A realistic clinic: no clinician, room or participant in two places at once, and no
    session inside a participant's work or school window."""
    import zoneinfo
    from collections import defaultdict

    from openiop.participants.models import Availability
    from openiop.scheduling.models import Booking

    build_demo(seed=11, participants=60, today=TODAY, out=io.StringIO())
    tz = zoneinfo.ZoneInfo("America/New_York")

    def overlaps(intervals: dict) -> int:
        count = 0
        for spans in intervals.values():
            spans.sort()
            count += sum(1 for i in range(1, len(spans)) if spans[i][0] < spans[i - 1][1])
        return count

    by_staff, by_room, by_person = defaultdict(list), defaultdict(list), defaultdict(list)
    for s in Session.objects.all():
        by_staff[s.facilitator_id].append((s.starts_at, s.ends_at))
        by_room[s.room_id].append((s.starts_at, s.ends_at))
    windows = defaultdict(list)
    for w in Availability.objects.all():
        windows[w.participant_id].append(w)
    inside = 0
    for b in Booking.objects.select_related("session"):
        start, end = b.session.starts_at.astimezone(tz), b.session.ends_at.astimezone(tz)
        by_person[b.participant_id].append((start, end))
        inside += any(w.weekday == start.weekday() and start.time() < w.end_time
                      and end.time() > w.start_time for w in windows[b.participant_id])
    assert overlaps(by_staff) == 0
    assert overlaps(by_room) == 0
    assert overlaps(by_person) == 0
    assert inside == 0
