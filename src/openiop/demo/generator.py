"""The synthetic demo clinic.

Every person here is invented from the name lists in `people.py`; no real data is ever used.
`build_demo` is deterministic for a seed and a `today`, and idempotent: when the demo
organization exists it does nothing.

The core step builds the organization, sites, rooms, staff, programs and tracks here,
participants with availability and family contacts, episodes and enrollments
(`people.py`), and six weeks of sessions, bookings and attendance (`history.py`). Then
each app's optional `demo.py` (`build(ctx)`) adds its own data, in DEMO_STEPS order.
"""

from __future__ import annotations

import importlib
import io
import math
import random
import sys
import time as clock
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TextIO

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from openiop.accounts.models import Role, StaffProfile, User
from openiop.care.models import EpisodeOfCare, Focus, NoteFormat, Program, Track
from openiop.finder.geo import zip_point
from openiop.organizations.models import Organization, Room, Site
from openiop.participants.models import Consent, Participant
from openiop.scheduling.models import Session

from .history import build_history
from .people import build_participants

DEMO_SLUG = "riverbend-demo"
DEMO_PASSWORD = "demo-openiop-2026"  # noqa: S105 - published demo credential, synthetic data only
HISTORY_WEEKS = 6

# Apps that add demo data after the core step, in order. Missing modules are skipped.
DEMO_STEPS = (
    "care",
    "intake",
    "scheduling",
    "clinical",
    "skills",
    "medications",
    "outcomes",
    "billing",
    "finder",
    "portal",
    "dashboard",
)

STAFF = (
    # username, first, last, role, title, credentials, requires cosignature
    ("director", "Dana", "Whitfield", Role.DIRECTOR, "Program director", ["LCSW"], False),
    ("admin", "Sam", "Okoye", Role.ADMIN, "Systems administrator", [], False),
    ("clinician", "Maya", "Reyes", Role.CLINICIAN, "Primary therapist", ["LCSW"], False),
    ("lmft", "Jordan", "Blake", Role.CLINICIAN, "Family therapist", ["LMFT"], False),
    ("counselor", "Chris", "Navarro", Role.CLINICIAN, "Addiction counselor", ["LPC", "CADC"], False),
    ("associate", "Robin", "Hale", Role.CLINICIAN, "Associate counselor", ["CADC"], True),
    ("yoga", "Lee", "Moreno", Role.CLINICIAN, "Holistic therapies", ["RYT", "CPRS"], False),
    ("prescriber", "Alan", "Mehta", Role.PRESCRIBER, "Psychiatrist", ["MD"], False),
    ("np", "Grace", "Oduya", Role.PRESCRIBER, "Psychiatric nurse practitioner", ["NP"], False),
    ("nurse", "Pat", "Lindqvist", Role.NURSE, "Nurse", ["RN"], False),
    ("intake", "Terry", "Fong", Role.INTAKE, "Intake coordinator", [], False),
    ("frontdesk", "Jesse", "Carter", Role.FRONT_DESK, "Front desk", [], False),
    ("billing", "Morgan", "Price", Role.BILLING, "Billing specialist", [], False),
)

# The demo's programs keep every program setting at its default: the defaults live in
# care.program_settings, not here.
DEFAULT_PROGRAM_SETTINGS: dict[str, Any] = {}


@dataclass
class DemoContext:
    """What the core step built, handed to each app's demo step."""

    rng: random.Random
    seed: int
    today: date
    # The demo's "now": the real clock when it is built for today, else noon of `today`, so
    # a demo built for another day (tests, `--today`) never mixes two clocks.
    now: datetime
    tz: zoneinfo.ZoneInfo
    organization: Organization
    sites: list[Site]
    rooms: dict[str, Room]
    staff: dict[str, User]
    programs: dict[str, Program]
    tracks: list[Track]
    participants: list[Participant]
    episodes: list[EpisodeOfCare]
    scale: int
    out: TextIO
    password_hash: str
    extra: dict[str, Any] = field(default_factory=dict)
    # The featured personas (the portal participant and the teen whose parent has the
    # family login): participant pk -> their own random stream, so every draw about them
    # is the same at every clinic size (see `rng_for`).
    featured: dict[int, random.Random] = field(default_factory=dict)
    # Their tracks (pk -> a name that does not depend on the database): a group session of
    # one of these draws from its own stream too (`session_rng`).
    featured_tracks: dict[int, str] = field(default_factory=dict)

    def rng_for(self, participant_id: int | None,
                default: random.Random | None = None) -> random.Random:
        """The random stream for draws about one participant.

        A featured persona has a stream of their own, seeded by a constant: their record
        (plan, notes, medications, measures, attendance, messages...) is then the same at
        every clinic size, which is what makes their chart comparable between a small and a
        large clinic (benchmarks/bench_pages.py). Everyone else draws from `default`
        (the shared `rng` unless said), as before.
        """
        stream = self.featured.get(participant_id) if participant_id is not None else None
        if stream is not None:
            return stream
        return self.rng if default is None else default

    def session_rng(self, session: Any, default: random.Random | None = None) -> random.Random:
        """The random stream for draws about one session: a featured persona's own group
        session (a track in `featured_tracks`) gets a stream seeded by its track and start,
        independent of how many other sessions the clinic has."""
        key = self.featured_tracks.get(session.track_id) if session.track_id else None
        if key is None:
            return self.rng if default is None else default
        return random.Random(f"{self.seed}:{key}:{session.starts_at.isoformat()}")

    def feature(self, participant: Participant, name: str) -> None:
        """Give a featured persona their own random stream (seeded from the demo's seed and
        their name, never from the clinic's size)."""
        self.featured[participant.pk] = random.Random(f"{self.seed}:featured:{name}")

    def progress(self, message: str) -> None:
        self.out.write(f"  {message}\n")
        self.out.flush()

    def bulk_create(self, objs: list[Any], *, label: str, batch_size: int = 2000) -> list[Any]:
        """Insert `objs` in batches (their primary keys are set), showing progress when many.

        Use it for anything per participant or per session: the demo must handle 5,000
        participants, and a long step should show that it is moving.
        """
        if not objs:
            return objs
        model = type(objs[0])
        total = len(objs)
        step = max(batch_size, (total // 5 // batch_size) * batch_size)
        started = clock.monotonic()
        for start in range(0, total, step):
            model.objects.bulk_create(objs[start : start + step], batch_size=batch_size)
            done = min(start + step, total)
            if total >= 20_000 and done < total:
                rate = done / max(clock.monotonic() - started, 1e-6)
                self.progress(f"{label}: {done:,}/{total:,} ({rate:,.0f}/s)")
        return objs

    def staff_with_role(self, role: str) -> list[User]:
        return [u for u in self.staff.values() if u.role == role]

    def at(self, day: date, t: time) -> datetime:
        return datetime.combine(day, t, tzinfo=self.tz)

    @property
    def history_start(self) -> date:
        monday = self.today - timedelta(days=self.today.weekday())
        return monday - timedelta(weeks=HISTORY_WEEKS)


def demo_logins() -> list[tuple[str, str, str]]:
    """(what the account is, username, name) for every demo login, if the demo exists.

    Every staff member in STAFF (so each role and each special case: the associate who
    needs co-signature, the family therapist, the nurse practitioner...) and the two
    portal accounts, in that order.
    """
    org = Organization.objects.filter(slug=DEMO_SLUG).first()
    if org is None:
        return []
    wanted = [row[0] for row in STAFF] + ["participant", "family"]
    users = {u.username: u for u in User.objects.filter(username__in=wanted)
             .select_related("staff_profile")}
    rows = []
    for name in wanted:
        user = users.get(name)
        if user is None:
            continue
        profile = getattr(user, "staff_profile", None)
        label = profile.title if profile is not None and profile.title else (
            user.get_role_display())
        if profile is not None and profile.requires_cosignature:
            label += " (notes need co-signature)"
        rows.append((label, name, str(user)))
    return rows


def build_demo(
    *, seed: int = 2026, participants: int = 60, today: date | None = None,
    out: TextIO = sys.stdout, on_step: Callable[[int, int, str], None] | None = None,
) -> bool:
    """Build the demo clinic; return False (and change nothing) when it already exists.

    `on_step(number, total, name)` is told as each step starts (the core step is 0).
    """
    existing = Organization.objects.filter(slug=DEMO_SLUG).first()
    today = today or timezone.localdate()
    if existing is not None:
        out.write(demo_freshness(existing, today) + "\n")
        return False
    started = clock.perf_counter()
    out.write(f"Building the demo clinic: seed {seed}, {participants} participants, today {today}\n")
    with transaction.atomic():
        step_started = clock.perf_counter()
        if on_step is not None:
            on_step(0, len(DEMO_STEPS) + 1, "core")
        ctx = _core(seed=seed, n=participants, today=today, out=out)
        ctx.progress(f"done in {_took(step_started)}")
        for number, app in enumerate(DEMO_STEPS, start=1):
            try:
                module = importlib.import_module(f"openiop.{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"openiop.{app}.demo":
                    raise
                continue
            step_started = clock.perf_counter()
            if on_step is not None:
                on_step(number, len(DEMO_STEPS) + 1, app)
            out.write(f"- {app}\n")
            module.build(ctx)
            ctx.progress(f"done in {_took(step_started)}")
    analyze_after_bulk_load(out)
    out.write(
        f"Demo clinic ready in {_took(started)}: "
        f"{len(ctx.participants)} participants, {len(ctx.staff)} staff, "
        f"{len(ctx.programs)} programs, {len(ctx.tracks)} tracks, "
        f"{Session.objects.filter(program__organization=ctx.organization).count()} sessions.\n"
    )
    return True


def start_demo_job(*, seed: int, participants: int, today: date | None) -> Any:
    """Queue the demo's building for a worker (`openiop demo --background`); return the Job.

    A demo job already waiting or running is returned instead of a second one.
    """
    from openiop.jobs.models import Job
    from openiop.jobs.services import start_job

    running = (Job.objects.filter(kind="demo", state__in=[Job.State.QUEUED, Job.State.RUNNING])
               .order_by("created_at").first())
    if running is not None:
        return running
    return start_job(actor=None, kind="demo",
                     label=f"Build the demo clinic ({participants:,} participants)",
                     handler="openiop.demo.generator.demo_job",
                     params={"seed": seed, "participants": participants,
                             "today": today.isoformat() if today else None})


class _ProgressOut(io.TextIOBase):
    """The demo's printed lines, sent to a job's progress as its message."""

    def __init__(self, report: Callable[..., None]) -> None:
        self.report = report
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            if line.strip():
                self.report(message=line.strip()[:300])
        return len(text)


def demo_job(*, seed: int, participants: int, today: str | None, progress: Any) -> dict[str, Any]:
    """The job: build the demo, each step and printed line reported as progress.

    The demo is built in one transaction; the progress is written through another
    connection (openiop.jobs.services.report_detached) so the jobs page sees it meanwhile.
    """
    from openiop.jobs.services import report_detached

    def report(**fields: Any) -> None:
        report_detached(progress, **fields)

    def on_step(number: int, total: int, name: str) -> None:
        report(phase=f"Step {number + 1} of {total}: {name}", percent=2 + 96 * number // total)

    built = build_demo(seed=seed, participants=participants,
                       today=date.fromisoformat(today) if today else None,
                       out=_ProgressOut(report), on_step=on_step)
    org = Organization.objects.get(slug=DEMO_SLUG)
    return {"built": built, "participants": Participant.objects.filter(organization=org).count()}


def _took(since: float) -> str:
    """A step's real duration, in milliseconds under a second (0.0 s says nothing)."""
    seconds = clock.perf_counter() - since
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def demo_freshness(org: Organization, today: date) -> str:
    """What `make run` says about a demo clinic that is already loaded.

    The demo is built around the day it was made; a database kept from weeks ago has an
    empty calendar now, so say so plainly, with the command that rebuilds it.
    """
    built = timezone.localdate(org.created_at, org.zone)
    last = (Session.objects.filter(program__organization=org).order_by("-starts_at")
            .values_list("starts_at", flat=True).first())
    last_day = timezone.localdate(last, org.zone) if last else None
    if last_day is not None and last_day >= today + timedelta(days=6):
        return (f"Demo clinic already loaded (built {built}; its calendar runs to {last_day}): "
                "nothing to do.")
    ends = f"its calendar ended on {last_day}" if last_day else "it has no calendar"
    return (
        "\n" + "!" * 78 + "\n"
        f"The demo clinic in this database was built on {built} and {ends}:\n"
        "this week and the coming ones are empty. Rebuild it around today with\n\n"
        "    make demo-reset\n\n"
        "(it deletes var/openiop.sqlite3, so anything you added to the demo goes too).\n"
        + "!" * 78
    )


def _zip_point(zip_code: str) -> tuple[float | None, float | None]:
    # The finder's cached table (zipcodes.matching scans the package's whole list per call).
    point = zip_point(zip_code)
    if point is None:
        return None, None
    return point.latitude, point.longitude


def _core(*, seed: int, n: int, today: date, out: TextIO) -> DemoContext:
    rng = random.Random(seed)
    out.write("- organization, sites, rooms, staff\n")
    org = Organization.objects.create(
        name="Riverbend Behavioral Health", slug=DEMO_SLUG, time_zone="America/New_York",
        phone="(614) 555-0100", website="https://riverbend.example.org",
    )
    tz = org.zone
    main_lat, main_lon = _zip_point("43215")
    north_lat, north_lon = _zip_point("43214")
    main = Site.objects.create(
        organization=org, name="Riverbend Downtown", address1="1200 Riverside Avenue",
        address2="Suite 300", city="Columbus", state="OH", zip_code="43215",
        latitude=main_lat, longitude=main_lon, phone="(614) 555-0100",
    )
    north = Site.objects.create(
        organization=org, name="Riverbend Northside", address1="88 Maple Grove Road",
        city="Columbus", state="OH", zip_code="43214", latitude=north_lat, longitude=north_lon,
        phone="(614) 555-0160",
    )
    room_specs = [
        (main, "Group Room A", 14), (main, "Group Room B", 12), (main, "Studio", 16),
        (main, "Family Room", 6), (main, "Office 1", 3), (main, "Office 2", 3),
        (main, "Office 3", 3), (main, "Office 4", 3), (main, "Clinic Room", 3),
        (north, "Group Room N1", 12), (north, "Group Room N2", 12), (north, "Office N1", 3),
        (north, "Office N2", 3),
    ]
    rooms = {name: Room.objects.create(site=site, name=name, capacity=cap)
             for site, name, cap in room_specs}

    password_hash = make_password(DEMO_PASSWORD)
    staff: dict[str, User] = {}
    for username, first, last, role, title, creds, cosign in STAFF:
        user = User.objects.create(
            username=username, first_name=first, last_name=last, role=role,
            email=f"{username}@riverbend.example.org", password=password_hash,
        )  # Clinic roles only: Django's admin is for platform operators (createsuperuser).
        StaffProfile.objects.create(
            user=user, organization=org, title=title, credentials=creds,
            requires_cosignature=cosign,
        )
        staff[username] = user
    supervisor = staff["clinician"].staff_profile
    StaffProfile.objects.filter(user=staff["associate"]).update(supervisor=supervisor)
    StaffProfile.objects.filter(user__in=[staff["clinician"], staff["counselor"]]).update(
        supervisor=staff["director"].staff_profile
    )

    out.write("- programs and tracks\n")
    programs = {
        "adult_mh": Program.objects.create(
            organization=org, site=main, name="Adult Mental Health IOP", population="adult",
            focus=Focus.MENTAL_HEALTH, note_format=NoteFormat.DAP, typical_length_weeks=8,
            description="Group, individual and family therapy for depression, anxiety, trauma "
            "and mood disorders, three days a week, mornings or evenings.",
            settings=DEFAULT_PROGRAM_SETTINGS,
        ),
        "adult_su": Program.objects.create(
            organization=org, site=north, name="Adult Substance Use IOP", population="adult",
            focus=Focus.SUBSTANCE_USE, note_format=NoteFormat.BIRP, typical_length_weeks=12,
            description="Evening recovery program with medications for opioid and alcohol use "
            "disorders, relapse prevention and family education.",
            settings=DEFAULT_PROGRAM_SETTINGS,
        ),
        "teen": Program.objects.create(
            organization=org, site=main, name="Adolescent IOP", population="adolescent",
            focus=Focus.CO_OCCURRING, note_format=NoteFormat.SOAP, typical_length_weeks=8,
            description="After-school program for teens 13-17 and their families.",
            settings=DEFAULT_PROGRAM_SETTINGS,
        ),
    }
    track_specs = [
        ("adult_mh", "Morning", Track.Kind.MORNING, [0, 2, 3], time(9), time(12), 12, "Group Room A"),
        ("adult_mh", "Evening", Track.Kind.EVENING, [0, 1, 3], time(18), time(21), 12, "Group Room B"),
        ("adult_su", "Evening", Track.Kind.EVENING, [1, 2, 3], time(17, 30), time(20, 30), 12,
         "Group Room N1"),
        ("teen", "After school", Track.Kind.AFTERNOON, [0, 1, 3], time(15, 30), time(17, 30), 10,
         "Group Room B"),
    ]
    # At scale, add parallel tracks so every admitted participant has a seat.
    active_target = max(int(n * 0.66), 1)
    base_capacity = sum(s[6] - 1 for s in track_specs)
    copies = max(1, math.ceil(active_target / base_capacity))
    tracks: list[Track] = []
    for copy in range(copies):
        for spec_no, (key, name, kind, days, start, end, cap, room) in enumerate(track_specs):
            program = programs[key]
            room_obj = rooms[room]
            if copy:
                # Parallel cohorts of a large clinic get their own (virtual) group rooms.
                room_obj = Room.objects.create(
                    site=program.site, name=f"{room} cohort {copy + 1}.{spec_no + 1}",
                    capacity=room_obj.capacity,
                )
            tracks.append(Track.objects.create(
                program=program, name=name if copy == 0 else f"{name} {copy + 1}", kind=kind,
                weekdays=days, start_time=start, end_time=end, capacity=cap, room=room_obj,
            ))

    real_now = timezone.now()
    now = (real_now if timezone.localdate(real_now, tz) == today
           else datetime.combine(today, time(12), tzinfo=tz))
    ctx = DemoContext(
        rng=rng, seed=seed, today=today, now=now, tz=tz, organization=org, sites=[main, north],
        rooms=rooms, staff=staff, programs=programs, tracks=tracks, participants=[],
        episodes=[], scale=n, out=out, password_hash=password_hash,
    )
    ctx.extra["base_tracks"] = len(track_specs)  # the first cohort: every size has it
    build_participants(ctx, n)
    build_history(ctx)
    _portal_accounts(ctx)
    return ctx


def _portal_accounts(ctx: DemoContext) -> None:
    """One participant login (an active adult) and one family login (a teen's parent): the
    featured personas, the first two participants (`people.build_participants`)."""
    adult = next(ep for ep in ctx.episodes if ep.participant_id in ctx.featured
                 and ep.program.population == "adult")
    teen = next(ep for ep in ctx.episodes if ep.participant_id in ctx.featured
                and ep.program.population == "adolescent")
    person = adult.participant
    person.user = demo_user(ctx, username="participant", role=Role.PARTICIPANT,
                            first=person.preferred_name or person.legal_first_name,
                            last=person.legal_last_name)
    person.save(update_fields=["user"])
    parent = teen.participant.related_people.first()
    first, _, last = parent.name.partition(" ")
    parent.user = demo_user(ctx, username="family", role=Role.FAMILY, first=first, last=last)
    parent.may_contact = True
    parent.save(update_fields=["user", "may_contact"])
    Consent.objects.create(
        participant=teen.participant, kind=Consent.Kind.FAMILY_ACCESS, related_person=parent,
        scopes=["family_schedule", "family_education", "shared_notes"],
        purpose="Parent portal access",
        text="I allow my parent to see my family-session schedule, family-education modules "
        "and notes the team marks as shared. (Synthetic demo consent.)",
        granted_at=ctx.at(teen.admitted_on, time(11)), recorded_by=ctx.staff["intake"],
    )
    ctx.extra["demo_participant"] = person
    ctx.extra["demo_family_participant"] = teen.participant


def analyze_after_bulk_load(out: TextIO) -> None:
    """On PostgreSQL, gather the planner's statistics once the demo's rows are in: a new
    clinic of thousands of participants is otherwise planned as if its tables were empty
    until autovacuum gets to them ("Run ANALYZE Afterwards",
    https://www.postgresql.org/docs/15/populate.html#POPULATE-ANALYZE). SQLite's planner
    needs no statistics for these queries."""
    if connection.vendor != "postgresql":
        return
    started = clock.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    out.write(f"- planner statistics (ANALYZE) done in {_took(started)}\n")


def demo_user(ctx: DemoContext, *, username: str, role: str, first: str, last: str) -> User:
    """A portal account (participant or family member) with the demo password."""
    return User.objects.create(
        username=username, first_name=first, last_name=last, role=role,
        password=ctx.password_hash, email=f"{username}@example.net",
    )


DemoStep = Callable[[DemoContext], None]
