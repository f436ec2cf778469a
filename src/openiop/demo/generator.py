"""The synthetic demo clinic.

Every person here is invented from the name lists below; no real data is ever used.
`build_demo` is deterministic for a seed and a `today`, and idempotent: when the demo
organization exists it does nothing.

The core step builds the organization, sites, rooms, staff, programs and tracks,
participants with availability and family contacts, episodes and enrollments, and six
weeks of sessions, bookings and attendance. Then each app's optional `demo.py`
(`build(ctx)`) adds its own data, in DEMO_STEPS order.
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

import zipcodes
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from openiop.accounts.models import Role, StaffProfile, User
from openiop.care.models import Enrollment, EpisodeOfCare, Focus, NoteFormat, Program, Track
from openiop.organizations.models import Organization, Room, Site
from openiop.participants.models import Availability, Consent, Participant, RelatedPerson
from openiop.scheduling.models import Attendance, Booking, Session

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

FIRST_NAMES = ["Avery", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie", "Quinn", "Rowan", "Skyler", "Elena", "Marcus", "Priya", "Darnell", "Sofia", "Mateo", "Aisha", "Kenji", "Hannah", "Omar", "Grace", "Luis", "Naomi", "Tyrone", "Mei", "Daniel", "Fatima", "Caleb", "Rosa", "Ethan", "Lena", "Andre", "Yusuf", "Chloe", "Malik", "Isabel", "Trevor", "Leah", "Jonah", "Keisha", "Victor", "Amara", "Noah", "Bianca", "Samuel", "Zoe", "Hector", "Nadia", "Gavin", "Ruth", "Devon", "Lucia", "Felix", "Imani", "Owen", "Selena", "Arjun", "Tessa", "Brandon", "Ada"]
LAST_NAMES = ["Alvarez", "Brooks", "Chen", "Dawson", "Ellis", "Fischer", "Garcia", "Hughes", "Ibrahim", "Jensen", "Kowalski", "Lopez", "Mitchell", "Nguyen", "Okafor", "Patel", "Quinlan", "Ramirez", "Sullivan", "Thompson", "Underwood", "Vasquez", "Whitaker", "Xu", "Young", "Zimmerman", "Abbott", "Bennett", "Castillo", "Delgado", "Everett", "Foster", "Grant", "Hoffman", "Irving", "Jacobs", "Kim", "Lambert", "Morales", "Nash", "Ortega", "Park", "Reyes", "Stone", "Tran", "Vaughn", "Walsh", "Yates", "Bishop", "Carver", "Dunn"]
PRONOUNS = ("she/her", "he/him", "they/them", "she/her", "he/him", "")
LANGUAGES = ("English",) * 8 + ("Spanish", "Vietnamese")

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
    match = zipcodes.matching(zip_code)
    if not match:
        return None, None
    return float(match[0]["lat"]), float(match[0]["long"])


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
    _participants(ctx, n)
    _history(ctx)
    _portal_accounts(ctx)
    return ctx


def _portal_accounts(ctx: DemoContext) -> None:
    """One participant login (an active adult) and one family login (a teen's parent)."""
    adult = next(ep for ep in ctx.episodes
                 if ep.status == "active" and ep.program.population == "adult")
    teen = next(ep for ep in ctx.episodes
                if ep.status == "active" and ep.program.population == "adolescent")
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


def _birth_date(rng: random.Random, today: date, low: int, high: int) -> date:
    age = rng.randint(low, high)
    return today - timedelta(days=age * 365 + rng.randint(20, 340))


def _participants(ctx: DemoContext, n: int) -> None:
    rng, today = ctx.rng, ctx.today
    ctx.progress(f"creating {n} participants")
    teen_tracks = [t for t in ctx.tracks if t.program.population == "adolescent"]
    adult_tracks = [t for t in ctx.tracks if t.program.population == "adult"]
    n_active = int(n * 0.66)
    n_discharged = int(n * 0.17)
    n_teen_active = max(1, round(n_active * sum(t.capacity - 1 for t in teen_tracks)
                                 / sum(t.capacity - 1 for t in ctx.tracks)))
    people: list[Participant] = []
    plan: list[tuple[str, Track | None]] = []
    for i in range(n):
        if i < n_active:
            is_teen = i < n_teen_active
            pool = teen_tracks if is_teen else adult_tracks
            track = pool[i % len(pool)]
            state = "active"
        elif i < n_active + n_discharged:
            is_teen = rng.random() < 0.15
            track = rng.choice(teen_tracks if is_teen else adult_tracks)
            state = "discharged"
        else:
            is_teen = rng.random() < 0.15
            track = None
            state = "none"
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        dob = _birth_date(rng, today, 13, 17) if is_teen else _birth_date(rng, today, 19, 68)
        preferred = rng.choice(FIRST_NAMES) if rng.random() < 0.12 else ""
        people.append(Participant(
            organization=ctx.organization, mrn=f"RB{100000 + i}",
            legal_first_name=first, legal_last_name=last, preferred_name=preferred,
            pronouns=rng.choice(PRONOUNS), date_of_birth=dob,
            preferred_language=rng.choice(LANGUAGES),
            phone=f"(614) 555-{1000 + i % 9000:04d}",
            email=f"{first.lower()}.{last.lower()}{i}@example.net",
            address1=f"{rng.randint(10, 4999)} {rng.choice(['Oak', 'High', 'Elm', 'Summit', 'Broad', 'Park'])} Street",
            city="Columbus", state="OH",
            zip_code=rng.choice(["43201", "43202", "43205", "43206", "43214", "43215", "43211"]),
            emergency_contact_name=f"{rng.choice(FIRST_NAMES)} {last}",
            emergency_contact_phone=f"(614) 555-{(2000 + i * 7) % 10000:04d}",
            emergency_contact_relationship="parent" if is_teen else rng.choice(
                ["spouse", "sibling", "friend", "parent"]),
        ))
        plan.append((state, track))
    Participant.objects.bulk_create(people, batch_size=1000)
    people = list(Participant.objects.filter(organization=ctx.organization).order_by("mrn"))
    ctx.participants = people

    ctx.progress("availability windows and family contacts")
    windows: list[Availability] = []
    relatives: list[RelatedPerson] = []
    for person, (_state, track) in zip(people, plan, strict=True):
        teen = person.age < 18
        if teen:
            for d in range(5):
                windows.append(Availability(participant=person, kind="school", weekday=d,
                                            start_time=time(7, 45), end_time=time(14, 50)))
        elif track is not None and track.kind == Track.Kind.MORNING:
            if rng.random() < 0.6:  # evening or weekend jobs
                for d in range(0, 5):
                    windows.append(Availability(participant=person, kind="work", weekday=d,
                                                start_time=time(14), end_time=time(22),
                                                note="Restaurant shift"))
        else:
            if rng.random() < 0.85:
                start = rng.choice([time(8), time(8, 30), time(9)])
                end = rng.choice([time(16), time(16, 30), time(17)])
                for d in range(5):
                    windows.append(Availability(participant=person, kind="work", weekday=d,
                                                start_time=start, end_time=end, note="Day job"))
            if rng.random() < 0.2:
                windows.append(Availability(participant=person, kind="caregiving", weekday=5,
                                            start_time=time(9), end_time=time(13),
                                            note="Childcare"))
        relation = "parent" if teen else rng.choice(["spouse", "sibling", "friend", "sponsor"])
        relatives.append(RelatedPerson(
            participant=person, name=person.emergency_contact_name, relationship=relation,
            phone=person.emergency_contact_phone, may_contact=teen or rng.random() < 0.7,
            is_emergency_contact=True,
        ))
    ctx.bulk_create(windows, label="availability windows")
    ctx.bulk_create(relatives, label="family and support people", batch_size=1000)

    ctx.progress("episodes of care and enrollments")
    therapists = [ctx.staff[u] for u in ("clinician", "lmft", "counselor", "associate")]
    prescribers = [ctx.staff["prescriber"], ctx.staff["np"]]
    episodes: list[EpisodeOfCare] = []
    enrollment_tracks: list[tuple[EpisodeOfCare, Track, str, date, date | None]] = []
    for i, (person, (state, track)) in enumerate(zip(people, plan, strict=True)):
        if track is None:
            continue
        program = track.program
        if state == "active":
            admitted = ctx.today - timedelta(days=rng.randint(10, 60))
            status, discharged = EpisodeOfCare.Status.ACTIVE, None
        else:
            admitted = ctx.today - timedelta(days=rng.randint(75, 110))
            discharged = admitted + timedelta(days=rng.randint(42, 63))
            status = EpisodeOfCare.Status.FINISHED
        therapist = therapists[i % len(therapists)]
        if program.population == "adolescent" or i % 7 == 0:
            therapist = ctx.staff["lmft"] if i % 2 else ctx.staff["clinician"]
        ep = EpisodeOfCare(
            participant=person, program=program, status=status, level_of_care="IOP",
            authorized_level_of_care=("OP" if i % 17 == 3 else "IOP"),
            admitted_on=admitted, discharged_on=discharged, primary_therapist=therapist,
            prescriber=prescribers[i % 2] if (program.focus != "mh" or i % 3 == 0) else None,
            case_manager=ctx.staff["counselor"] if program.focus == "su" else None,
        )
        episodes.append(ep)
        enrollment_tracks.append((ep, track, "active" if state == "active" else "ended",
                                  admitted, discharged))
    EpisodeOfCare.objects.bulk_create(episodes, batch_size=1000)
    Enrollment.objects.bulk_create(
        [Enrollment(episode=ep, track=tr, status=st, start_date=start, end_date=end)
         for ep, tr, st, start, end in enrollment_tracks],
        batch_size=1000,
    )
    ctx.episodes = list(episodes_with_tracks(ctx.organization))

    consents = []
    for ep in ctx.episodes:
        if ep.program.focus in ("su", "co"):
            consents.append(Consent(
                participant=ep.participant, kind=Consent.Kind.PART2_TPO,
                recipient="Riverbend Behavioral Health and its payers",
                recipient_kind="class", purpose_code="tpo",
                purpose="Treatment, payment and health care operations",
                text="I consent to the use and disclosure of my substance use disorder records "
                "for treatment, payment and health care operations until I revoke this in "
                "writing. (Synthetic demo consent.)",
                granted_at=ctx.at(ep.admitted_on, time(10)), recorded_by=ctx.staff["intake"],
            ))
    Consent.objects.bulk_create(consents, batch_size=1000)


def episodes_with_tracks(organization: Organization) -> Any:
    """The organization's episodes with their enrollments and tracks, in creation order.

    Tracks come through a join, not `prefetch_related("enrollments__track")`: Django
    fetches prefetched foreign keys with one `id = x OR id = y ...` term per track, and a
    large clinic (more than 1,000 parallel tracks at 20,000 participants) exceeds SQLite's
    expression depth limit (SQLITE_MAX_EXPR_DEPTH, 1000 by default:
    https://www.sqlite.org/limits.html).
    """
    return (EpisodeOfCare.objects.filter(program__organization=organization)
            .select_related("participant", "program")
            .prefetch_related(Prefetch("enrollments",
                                       queryset=Enrollment.objects.select_related("track")))
            .order_by("pk"))


# Session layout of one track day: (kind, title, minutes). Adult tracks are 3 h, teen 2 h.
ADULT_DAY = (
    ("group", "Process group", 90),
    ("psychoeducation", "Psychoeducation", 60),
    ("holistic", "", 30),
)
TEEN_DAY = (("group", "Teen process group", 60), ("skills", "Skills group", 60))
HOLISTIC_ROTATION = (
    ("mindfulness", "Mindfulness practice"), ("yoga", "Gentle yoga"),
    ("art", "Art therapy"), ("exercise", "Movement and exercise"),
)

ATTENDANCE_WEIGHTS = (
    (Attendance.Status.PRESENT, 84), (Attendance.Status.LATE, 5),
    (Attendance.Status.LEFT_EARLY, 3), (Attendance.Status.ABSENT, 6),
    (Attendance.Status.EXCUSED, 2),
)


def _holiday_closures(ctx: DemoContext, start: date, end: date) -> set[tuple[int, date]]:
    """Close every site on its public holidays between start and end (SiteClosure rows, as
    the director's "add public holidays" does), before any session is placed; returns the
    closed (site id, day) pairs the demo schedule skips."""
    from openiop.scheduling.models import SiteClosure
    from openiop.scheduling.services.setup import site_holidays

    closures = [
        SiteClosure(organization=ctx.organization, site=site, date=day, reason=name[:120])
        for site in ctx.sites for year in range(start.year, end.year + 1)
        for day, name in sorted(site_holidays(site, year).items()) if start <= day <= end
    ]
    SiteClosure.objects.bulk_create(closures)
    ctx.progress(f"{len(closures)} public-holiday closures")
    return {(c.site_id, c.date) for c in closures}


def _history(ctx: DemoContext) -> None:
    """Sessions from six weeks ago through the next two weeks, with bookings and
    attendance; none on a site's closed days (its public holidays)."""
    rng = ctx.rng
    start = ctx.history_start
    end = ctx.today - timedelta(days=ctx.today.weekday()) + timedelta(days=20)
    now = ctx.now
    closed = _holiday_closures(ctx, start, end)
    ctx.progress(f"sessions {start} to {end}")
    facilitators = {
        "group": [ctx.staff["clinician"], ctx.staff["counselor"], ctx.staff["lmft"]],
        "psychoeducation": [ctx.staff["counselor"], ctx.staff["associate"], ctx.staff["clinician"]],
        "skills": [ctx.staff["associate"], ctx.staff["clinician"]],
        "holistic": [ctx.staff["yoga"]],
    }
    members: dict[int, list[tuple[Participant, date, date | None]]] = {}
    for ep in ctx.episodes:
        for enr in ep.enrollments.all():
            members.setdefault(enr.track_id, []).append((ep.participant, enr.start_date, enr.end_date))

    sessions: list[Session] = []
    session_members: list[list[Participant]] = []
    day = start
    day_index = 0
    group_busy: dict[int, list[tuple[datetime, datetime]]] = {}
    while day <= end:
        for track in ctx.tracks:
            if day.weekday() not in track.weekdays or (track.program.site_id, day) in closed:
                continue
            layout = TEEN_DAY if track.program.population == "adolescent" else ADULT_DAY
            cursor = ctx.at(day, track.start_time)
            roster = [p for p, s, e in members.get(track.pk, []) if s <= day and (e is None or day <= e)]
            for n, (kind, title, minutes) in enumerate(layout):
                if kind == "holistic":
                    kind, title = HOLISTIC_ROTATION[(day_index + track.pk) % len(HOLISTIC_ROTATION)]
                pool = facilitators.get(kind, facilitators["holistic"])
                room = ctx.rooms["Studio"] if kind == "yoga" and track.room.site_id == ctx.sites[0].pk else track.room
                # Rotate facilitators, skipping anyone already leading a group then
                # (parallel cohorts of a very large demo may still share one).
                rotation = [pool[(day_index + n + track.pk + j) % len(pool)]
                            for j in range(len(pool))]
                slot = (cursor, cursor + timedelta(minutes=minutes))
                lead = next((u for u in rotation if all(
                    slot[1] <= a or slot[0] >= b for a, b in group_busy.get(u.pk, ()))),
                    rotation[0])
                group_busy.setdefault(lead.pk, []).append(slot)
                sessions.append(Session(
                    program=track.program, track=track, kind=kind,
                    title=f"{title} ({track.name})", starts_at=cursor,
                    ends_at=cursor + timedelta(minutes=minutes), site=track.program.site,
                    room=room, facilitator=lead,
                    capacity=track.capacity,
                    status="completed" if cursor + timedelta(minutes=minutes) < now else "scheduled",
                ))
                session_members.append(roster)
                cursor += timedelta(minutes=minutes)
        day += timedelta(days=1)
        day_index += 1

    # Individual therapy weekly, medication review every 4 weeks for those with a
    # prescriber, family sessions every 2 weeks for teens: each in the first free slot
    # that double-books no clinician, room or participant and avoids the participant's
    # work and school windows (what a scheduler would do).
    def minutes_of(t: time) -> int:
        return t.hour * 60 + t.minute

    busy: dict[tuple[str, int, date], list[tuple[int, int]]] = {}

    def is_free(key: tuple[str, int, date], a: int, b: int) -> bool:
        return all(b <= s0 or a >= e0 for s0, e0 in busy.get(key, ()))

    def occupy(key: tuple[str, int, date], a: int, b: int) -> None:
        busy.setdefault(key, []).append((a, b))

    for s_ in sessions:
        local = s_.starts_at.astimezone(ctx.tz)
        a = local.hour * 60 + local.minute
        b = a + int((s_.ends_at - s_.starts_at).total_seconds() // 60)
        occupy(("staff", s_.facilitator_id, local.date()), a, b)
        occupy(("room", s_.room_id, local.date()), a, b)

    windows_by_person: dict[int, list[tuple[int, int, int]]] = {}
    for w_ in Availability.objects.filter(participant__organization=ctx.organization).order_by(
        "participant_id", "weekday", "start_time", "pk"
    ).values_list(
        "participant_id", "weekday", "start_time", "end_time"
    ):
        windows_by_person.setdefault(w_[0], []).append(
            (w_[1], minutes_of(w_[2]), minutes_of(w_[3])))

    offices = [r for k, r in ctx.rooms.items() if k.startswith("Office")]
    candidate_starts = [minutes_of(time(h, m)) for h in range(8, 20) for m in (0, 30)]

    def place(ep: EpisodeOfCare, track: Track, week: date, who: User, minutes: int,
              rooms: list[Room], day_order: list[int]) -> tuple[datetime, Room] | None:
        person = ep.participant_id
        for weekday in day_order:
            day = week + timedelta(days=weekday)
            if (ep.program.site_id, day) in closed:
                continue
            blocked = [(s0, e0) for wd, s0, e0 in windows_by_person.get(person, ())
                       if wd == weekday]
            if weekday in track.weekdays:
                blocked.append((minutes_of(track.start_time), minutes_of(track.end_time)))
            preferred = [minutes_of(track.end_time), minutes_of(track.start_time) - minutes - 10]
            for a in preferred + candidate_starts:
                b = a + minutes
                if a < 8 * 60 or b > 21 * 60:
                    continue
                if any(not (b + 10 <= s0 or a >= e0 + 10) for s0, e0 in blocked):
                    continue
                if not is_free(("staff", who.pk, day), a, b) or not is_free(
                        ("person", person, day), a, b):
                    continue
                room = next((r for r in rooms if is_free(("room", r.pk, day), a, b)), None)
                if room is None:
                    continue
                occupy(("staff", who.pk, day), a, b)
                occupy(("room", room.pk, day), a, b)
                occupy(("person", person, day), a, b)
                return ctx.at(day, time(a // 60, a % 60)), room
        return None

    for ep in ctx.episodes:
        enr = next(iter(ep.enrollments.all()), None)
        if enr is None:
            continue
        track = enr.track
        site_rooms = [r for r in offices if r.site_id == ep.program.site_id] or offices
        track_days = sorted(track.weekdays)
        other_days = [d for d in range(5) if d not in track_days]
        week = start
        w = 0
        while week <= end:
            monday_in = enr.start_date <= week + timedelta(days=6)
            still_in = enr.end_date is None or week <= enr.end_date
            if monday_in and still_in:
                appts = [("individual", "Individual therapy", ep.primary_therapist, 50,
                          site_rooms)]
                if ep.prescriber and w % 4 == ep.pk % 4:
                    appts.append(("medication", "Medication review", ep.prescriber, 25,
                                  site_rooms))
                if ep.program.population == "adolescent" and w % 2 == 0:
                    appts.append(("family", "Family session", ctx.staff["lmft"], 50,
                                  [ctx.rooms["Family Room"], *site_rooms]))
                for k, (kind, title, who, minutes, rooms) in enumerate(appts):
                    order = track_days[k % len(track_days):] + track_days[:k % len(track_days)]
                    spot = place(ep, track, week, who, minutes, rooms, order + other_days)
                    if spot is None:
                        continue
                    starts, room = spot
                    if starts.date() < enr.start_date or (
                            enr.end_date and starts.date() > enr.end_date):
                        continue
                    sessions.append(Session(
                        program=ep.program, track=None, kind=kind, title=title,
                        starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                        site=ep.program.site, room=room, facilitator=who,
                        capacity=6 if kind == "family" else 1,
                        status="completed" if starts + timedelta(minutes=minutes) < now
                        else "scheduled",
                    ))
                    session_members.append([ep.participant])
            week += timedelta(weeks=1)
            w += 1

    ctx.progress(f"{len(sessions):,} sessions")
    ctx.bulk_create(sessions, label="sessions", batch_size=1000)
    bookings = [
        Booking(session_id=session.pk, participant_id=person.pk)
        for session, roster in zip(sessions, session_members, strict=True)
        for person in roster
    ]
    ctx.progress(f"{len(bookings):,} bookings and their attendance")
    ctx.bulk_create(bookings, label="bookings")
    by_session = {s.pk: s for s in sessions}
    statuses = [s for s, _ in ATTENDANCE_WEIGHTS]
    weights = [w for _, w in ATTENDANCE_WEIGHTS]
    recorder = ctx.staff["frontdesk"]
    attendance: list[Attendance] = []
    for booking in bookings:
        session = by_session[booking.session_id]
        if session.ends_at >= now:
            continue
        status = rng.choices(statuses, weights)[0]
        length = session.duration_minutes
        minutes = {
            Attendance.Status.PRESENT: length,
            Attendance.Status.LATE: max(length - rng.choice([10, 15, 20]), 0),
            Attendance.Status.LEFT_EARLY: max(length - rng.choice([15, 20, 30]), 0),
        }.get(status, 0)
        attendance.append(Attendance(booking_id=booking.pk, status=status,
                                     minutes_attended=minutes, recorded_by_id=recorder.pk))
    ctx.bulk_create(attendance, label="attendance")
    ctx.progress(f"{len(bookings):,} bookings, {len(attendance):,} attendance records")
    ctx.extra["session_kinds"] = sorted({s.kind for s in sessions})


def demo_user(ctx: DemoContext, *, username: str, role: str, first: str, last: str) -> User:
    """A portal account (participant or family member) with the demo password."""
    return User.objects.create(
        username=username, first_name=first, last_name=last, role=role,
        password=ctx.password_hash, email=f"{username}@example.net",
    )


DemoStep = Callable[[DemoContext], None]
