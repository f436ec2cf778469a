"""Day-before session reminders: sent once, by the person's channels, with no clinical words."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from openiop.access.decisions import family_allows
from openiop.access.policy import TABLE, Kind
from openiop.accounts.models import Role, User
from openiop.audit.models import AccessEvent
from openiop.core import periodic
from openiop.notifications import sms
from openiop.notifications.models import ContactPreference, Notification
from openiop.participants.models import Consent, RelatedPerson
from openiop.scheduling.models import Booking, SessionReminder
from openiop.scheduling.services.reminders import session_reminders_send

from .. import factories as f

NY = ZoneInfo("America/New_York")
# A Monday afternoon in the clinic's time zone (Organization.time_zone defaults to New York).
NOW = datetime(2026, 3, 16, 15, 0, tzinfo=NY)
TOMORROW_9 = datetime(2026, 3, 17, 9, 0, tzinfo=NY)
TEXT = "You have a session tomorrow at 9:00 AM at Main. Reply STOP to stop text messages."


@pytest.fixture
def reachable(world, settings):
    settings.OPENIOP_SMS_BACKEND = "openiop.notifications.sms.LocmemSMSBackend"
    sms.outbox.clear()
    user = User.objects.create(username="jamie", role=Role.PARTICIPANT, email="jamie@example.org")
    ContactPreference.objects.create(user=user, sms_number="+16145550111")
    world.participant.user = user
    world.participant.save()
    yield world
    sms.outbox.clear()


def _book(world, *, title="Process group", kind="group", starts_at=TOMORROW_9):
    return f.booking(f.session(world.program, starts_at=starts_at, title=title, kind=kind),
                     world.participant)


def test_the_job_is_registered_with_the_periodic_scheduler():
    (job,) = [p for p in periodic.registered() if p.name == "session-reminders"]
    assert job.every == timedelta(minutes=15)
    assert job.task == "openiop.scheduling.tasks.send_session_reminders"


def test_a_reminder_is_sent_once_even_when_the_job_runs_twice(
        reachable, django_capture_on_commit_callbacks):
    booking = _book(reachable)
    with django_capture_on_commit_callbacks(execute=True):
        assert session_reminders_send(now=NOW) == 1
        assert session_reminders_send(now=NOW + timedelta(minutes=15)) == 0
    user = reachable.participant.user
    assert [n.text for n in Notification.objects.filter(user=user)] == [TEXT]
    assert [m.to for m in mail.outbox] == [["jamie@example.org"]]
    assert [m.body for m in sms.outbox] == [TEXT]
    assert SessionReminder.objects.get().booking == booking
    event = AccessEvent.objects.get(object_type="session_reminder")
    assert event.object_id == str(booking.code) and event.action == "create"


def test_a_reminder_row_stored_by_another_worker_stops_a_second_send(reachable):
    booking = _book(reachable)
    # The other worker committed its row after this one read which were sent.
    SessionReminder.objects.create(booking=booking, user=reachable.participant.user, sent_at=NOW)
    assert session_reminders_send(now=NOW) == 0
    assert not Notification.objects.exists()


def test_a_part2_participants_reminder_carries_no_clinical_words(
        reachable, django_capture_on_commit_callbacks):
    world = reachable
    world.org.is_part2_program = True
    world.org.save()
    world.program.name = "Substance Use IOP"
    world.program.save()
    _book(world, title="Substance use relapse prevention")
    with django_capture_on_commit_callbacks(execute=True):
        assert session_reminders_send(now=NOW) == 1
    texts = ([n.text for n in Notification.objects.all()] + [m.body for m in mail.outbox]
             + [m.body for m in sms.outbox])
    assert texts == [TEXT] * 3
    texts += [m.subject for m in mail.outbox]
    forbidden = ["substance", "relapse", "use", "iop", "part 2", "group", "therapy",
                 world.participant.legal_first_name.lower(), world.participant.legal_last_name.lower()]
    for text in texts:
        for word in forbidden:
            assert word not in text.lower().replace("openiop", ""), (word, text)


def test_nothing_is_sent_at_night_cancelled_or_for_other_days(reachable):
    world = reachable
    _book(world)
    assert session_reminders_send(now=datetime(2026, 3, 16, 22, 0, tzinfo=NY)) == 0
    assert session_reminders_send(now=datetime(2026, 3, 16, 7, 0, tzinfo=NY)) == 0
    Booking.objects.update(status=Booking.Status.CANCELLED)
    _book(world, starts_at=TOMORROW_9 + timedelta(days=1))  # the day after tomorrow
    assert session_reminders_send(now=NOW) == 0
    assert not Notification.objects.exists()


def test_an_inactive_or_missing_account_gets_no_reminder(world):
    _book(world)  # the participant has no portal account
    assert session_reminders_send(now=NOW) == 0
    world.participant.user = User.objects.create(username="gone", role=Role.PARTICIPANT,
                                                 email="gone@example.org", is_active=False)
    world.participant.save()
    assert session_reminders_send(now=NOW) == 0
    assert not SessionReminder.objects.exists()


def _family_member(world, *, scopes, participant=None, username="parent", **consent):
    participant = participant or world.participant
    user = User.objects.create(username=username, role=Role.FAMILY,
                               email=f"{username}@example.org")
    person = RelatedPerson.objects.create(participant=participant, name="Pat Rivera",
                                          relationship="parent", email=f"{username}@example.org",
                                          may_contact=True, user=user)
    Consent.objects.create(participant=participant, related_person=person,
                           kind=Consent.Kind.FAMILY_ACCESS, scopes=scopes,
                           granted_at=NOW - timedelta(days=30), **consent)
    return user


def test_a_family_member_is_reminded_of_family_sessions_only_under_consent(reachable):
    world = reachable
    parent = _family_member(world, scopes=["family_schedule"])
    family = _book(world, kind="family", title="Family session")
    _book(world, starts_at=TOMORROW_9 + timedelta(hours=3))  # a group: the parent is not told
    assert session_reminders_send(now=NOW) == 3  # participant twice, parent once
    (note,) = Notification.objects.filter(user=parent)
    assert note.text == TEXT
    event = AccessEvent.objects.get(object_type="session_reminder", action="disclose")
    assert event.object_id == str(family.code) and f"user {parent.pk}" in event.recipient


def test_a_family_member_without_the_schedule_scope_or_after_revocation_gets_nothing(reachable):
    world = reachable
    parent = _family_member(world, scopes=["family_education"])
    _book(world, kind="family", title="Family session")
    session_reminders_send(now=NOW)
    assert not Notification.objects.filter(user=parent).exists()
    Consent.objects.update(scopes=["family_schedule"], revoked_at=NOW - timedelta(hours=1))
    SessionReminder.objects.all().delete()
    session_reminders_send(now=NOW)
    assert not Notification.objects.filter(user=parent).exists()


def test_reminders_take_a_fixed_number_of_queries_per_reminder(reachable,
                                                               django_assert_max_num_queries):
    world = reachable
    for hour in range(8, 13):
        f.booking(f.session(world.program, starts_at=TOMORROW_9.replace(hour=hour)),
                  f.participant(world.org))  # no account: read, not sent
    _book(world)
    # organizations, bookings, sent reminders; then one reminder: savepoints, row, audit
    # (its chain lock, last row, sequence, insert), notification.
    with django_assert_max_num_queries(16):
        assert session_reminders_send(now=NOW) == 1


def test_the_scheduler_runs_it_on_a_worker_and_the_jobs_page_lists_the_run(reachable,
                                                                          run_worker):
    import time_machine

    from openiop.jobs.models import Job
    from openiop.jobs.scheduler import run_due
    from tests.conftest import login

    _book(reachable)
    jobs = [p for p in periodic.registered() if p.name == "session-reminders"]
    with time_machine.travel(NOW, tick=False):
        assert run_due(now=NOW, jobs=jobs) == ["session-reminders"]
        assert run_due(now=NOW + timedelta(minutes=5), jobs=jobs) == []  # not due again yet
        run_worker()
    job = Job.objects.get(kind="periodic:session-reminders")
    assert job.state == Job.State.SUCCEEDED and job.result == {"reminders_sent": 1} and job.started_by is None
    assert SessionReminder.objects.count() == 1
    page = login(reachable.director).get("/jobs/?scheduled=1")
    assert "Scheduled: session reminders" in page.content.decode()


def test_the_family_reminder_follows_the_policy_table(reachable, monkeypatch):
    """The same consent, but the table no longer lets a family member see the schedule:
    the family is not reminded (the participant still is). The job asks the access module,
    as the family portal does."""
    world = reachable
    parent = _family_member(world, scopes=["family_schedule"])
    _book(world, kind="family", title="Family session")
    monkeypatch.setitem(TABLE[Kind.SCHEDULE], Role.FAMILY, {})
    assert session_reminders_send(now=NOW) == 1
    assert not Notification.objects.filter(user=parent).exists()
    assert Notification.objects.filter(user=world.participant.user).count() == 1


@pytest.mark.parametrize("wall_clock", [NOW - timedelta(days=10), NOW + timedelta(days=10)])
def test_the_family_consent_is_judged_at_the_jobs_time(reachable, wall_clock):
    """A consent that expired an hour before the job's time gets no reminder, one that
    expires an hour after gets one, whatever the wall clock says (a job that runs late
    still judges the consent at its own time)."""
    world = reachable
    expired = _family_member(world, scopes=["family_schedule"], username="expired",
                             expires_at=NOW - timedelta(hours=1))
    valid = _family_member(world, scopes=["family_schedule"], username="valid",
                           expires_at=NOW + timedelta(hours=1))
    _book(world, kind="family", title="Family session")
    with time_machine.travel(wall_clock, tick=False):
        assert session_reminders_send(now=NOW) == 2  # the participant and the valid parent
    assert Notification.objects.filter(user=valid).count() == 1
    assert not Notification.objects.filter(user=expired).exists()
    assert family_allows(valid, world.participant, "family_schedule", now=NOW)
    assert not family_allows(expired, world.participant, "family_schedule", now=NOW)


def test_a_revoked_family_consent_gets_no_reminder(reachable):
    world = reachable
    parent = _family_member(world, scopes=["family_schedule"],
                            revoked_at=NOW - timedelta(minutes=5))
    _book(world, kind="family", title="Family session")
    assert session_reminders_send(now=NOW) == 1  # the participant only
    assert not Notification.objects.filter(user=parent).exists()


@pytest.mark.parametrize("families", [1, 4])
def test_family_recipients_are_read_in_one_query_for_every_family_session(
        reachable, families, django_assert_num_queries):
    """organizations; then for this clinic bookings, sent reminders, family members; and the
    other organization's (empty) bookings: the same five queries for one family session or
    four (everything was sent before, so nothing is written)."""
    world = reachable
    for n in range(families):
        p = f.participant(world.org)
        _family_member(world, scopes=["family_schedule"], participant=p, username=f"parent{n}")
        f.booking(f.session(world.program, starts_at=TOMORROW_9, kind="family"), p)
    assert session_reminders_send(now=NOW) == families
    with django_assert_num_queries(5):
        assert session_reminders_send(now=NOW) == 0
