"""The demo clinic's participants: invented names, ages, availability and family contacts,
their episodes of care and track seats (run by the core step of `openiop.demo.generator`).
Every person is made up from the name lists below; no real data is ever used."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch

from openiop.care.models import Enrollment, EpisodeOfCare, Track
from openiop.organizations.models import Organization
from openiop.participants.models import Availability, Consent, Participant, RelatedPerson

if TYPE_CHECKING:
    from .generator import DemoContext

FIRST_NAMES = ["Avery", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie", "Quinn", "Rowan", "Skyler", "Elena", "Marcus", "Priya", "Darnell", "Sofia", "Mateo", "Aisha", "Kenji", "Hannah", "Omar", "Grace", "Luis", "Naomi", "Tyrone", "Mei", "Daniel", "Fatima", "Caleb", "Rosa", "Ethan", "Lena", "Andre", "Yusuf", "Chloe", "Malik", "Isabel", "Trevor", "Leah", "Jonah", "Keisha", "Victor", "Amara", "Noah", "Bianca", "Samuel", "Zoe", "Hector", "Nadia", "Gavin", "Ruth", "Devon", "Lucia", "Felix", "Imani", "Owen", "Selena", "Arjun", "Tessa", "Brandon", "Ada"]
LAST_NAMES = ["Alvarez", "Brooks", "Chen", "Dawson", "Ellis", "Fischer", "Garcia", "Hughes", "Ibrahim", "Jensen", "Kowalski", "Lopez", "Mitchell", "Nguyen", "Okafor", "Patel", "Quinlan", "Ramirez", "Sullivan", "Thompson", "Underwood", "Vasquez", "Whitaker", "Xu", "Young", "Zimmerman", "Abbott", "Bennett", "Castillo", "Delgado", "Everett", "Foster", "Grant", "Hoffman", "Irving", "Jacobs", "Kim", "Lambert", "Morales", "Nash", "Ortega", "Park", "Reyes", "Stone", "Tran", "Vaughn", "Walsh", "Yates", "Bishop", "Carver", "Dunn"]
PRONOUNS = ("she/her", "he/him", "they/them", "she/her", "he/him", "")
LANGUAGES = ("English",) * 8 + ("Spanish", "Vietnamese")


def _birth_date(rng: random.Random, today: date, low: int, high: int) -> date:
    age = rng.randint(low, high)
    return today - timedelta(days=age * 365 + rng.randint(20, 340))


def build_participants(ctx: DemoContext, n: int) -> None:
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
            # The first two are the featured personas (generator._portal_accounts): a teen
            # (whose parent has the family login) and an adult (the participant login), in
            # the first teen and second adult track, which every clinic size has. Their
            # draws come first, so they are the same people at every size.
            is_teen = i == 0 or 2 <= i <= n_teen_active
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
    ctx.feature(people[0], "family")
    ctx.feature(people[1], "participant")

    ctx.progress("availability windows and family contacts")
    windows: list[Availability] = []
    relatives: list[RelatedPerson] = []
    for person, (_state, track) in zip(people, plan, strict=True):
        rng = ctx.rng_for(person.pk)
        teen = person.age_on(ctx.today) < 18  # the demo's day, not the clock's
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
        rng = ctx.rng_for(person.pk)
        if person.pk in ctx.featured:
            ctx.featured_tracks[track.pk] = f"track-{ctx.tracks.index(track)}"
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
