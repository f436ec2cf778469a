"""A deterministic generator of realistic weekly instances (tests and benchmarks).

Per block of about 44 participants: four tracks (adult mental health mornings Mon/Wed/Thu
9-12 and evenings Mon/Tue/Thu 18-21, substance use evenings Tue/Wed/Thu 17:30-20:30 at a
second site, adolescents after school Mon/Tue/Thu 15:30-17:30), their facilitators, four
therapists, a family therapist, offices and a family room; every two blocks a
prescriber. Work and school hours follow the demo clinic (common IOP practice: morning or
evening tracks so people can keep working; adolescent tracks after school). A share of
participants has commitments that clash with their track on purpose, so some cannot reach
the minimum and need explanations.
"""

from __future__ import annotations

import math
import random

from .model import (
    MINUTES_PER_DAY,
    Clinician,
    GroupSession,
    Instance,
    Need,
    Participant,
    Room,
    Track,
    Window,
)

BLOCK = 44
THERAPY = frozenset({"LCSW", "LPC", "LMFT", "LISW"})
FAMILY = frozenset({"LMFT"})  # family therapy by a licensed marriage and family therapist
PRESCRIBERS = frozenset({"MD", "DO", "NP"})


def at(day: int, hour: int, minute: int = 0) -> int:
    return day * MINUTES_PER_DAY + hour * 60 + minute


def _weekly(days: list[int], start: tuple[int, int], end: tuple[int, int], label: str) -> list[Window]:
    return [Window(at(d, *start), at(d, *end), label) for d in days]


TRACK_SPECS = (
    # key, program, label, days, start, end, site, adult layout?
    ("mhm", "mh", "Adult MH morning (Mon/Wed/Thu 9-12)", [0, 2, 3], (9, 0), "A", True),
    ("mhe", "mh", "Adult MH evening (Mon/Tue/Thu 18-21)", [0, 1, 3], (18, 0), "A", True),
    ("sue", "su", "Substance use evening (Tue/Wed/Thu 17:30-20:30)", [1, 2, 3], (17, 30), "B", True),
    ("teen", "teen", "Adolescent after school (Mon/Tue/Thu 15:30-17:30)", [0, 1, 3], (15, 30), "A",
     False),
)
ADULT_DAY = (("group", 90), ("psychoeducation", 60), ("mindfulness", 30))
TEEN_DAY = (("group", 60), ("skills", 60))


def generate(n: int, *, seed: int = 7) -> Instance:
    rng = random.Random(seed * 1_000_003 + n)
    blocks = max(1, math.ceil(n / BLOCK))
    clinicians: list[Clinician] = []
    rooms: list[Room] = []
    groups: list[GroupSession] = []
    tracks: list[Track] = []
    therapists: list[list[str]] = []
    lmfts: list[str] = []
    prescribers: list[str] = []
    weekday_day = [w for d in range(5) for w in _weekly([d], (8, 0), (17, 0), "")]
    weekday_late = [w for d in range(5) for w in _weekly([d], (12, 0), (21, 0), "")]
    for b in range(blocks):
        rooms += [Room(f"A-office-{b}-{i}", "A", 3, "office") for i in range(3)]
        rooms += [Room(f"B-office-{b}", "B", 3, "office"), Room(f"A-family-{b}", "A", 6, "family")]
        if b % 2 == 0:
            rooms.append(Room(f"B-family-{b}", "B", 6, "family"))
        # Two group facilitators per track and one holistic facilitator per block.
        facilitators = [f"fac-{key}-{b}-{i}" for key, *_ in TRACK_SPECS for i in range(2)]
        facilitators.append(f"fac-holistic-{b}")
        for fid in facilitators:
            creds = frozenset({"RYT"}) if "holistic" in fid else frozenset({"LPC", "CADC"})
            clinicians.append(Clinician(fid, f"Facilitator {fid[4:]}", creds,
                                        tuple(weekday_day + weekday_late), 45 * 60))
        facilitators = ["", "", facilitators[-1]]
        block_therapists = []
        # One daytime therapist (morning track) and three who work into the evening.
        for i in range(4):
            cid = f"ther-{b}-{i}"
            windows = weekday_day if i == 0 else weekday_late
            windows = list(windows) + (_weekly([5], (9, 0), (13, 0), "") if i == 3 else [])
            clinicians.append(Clinician(cid, f"Therapist {b}.{i}",
                                        frozenset({"LCSW"} if i % 2 else {"LPC"}),
                                        tuple(windows), 36 * 60))
            block_therapists.append(cid)
        therapists.append(block_therapists)
        lmft = f"lmft-{b}"
        clinicians.append(Clinician(lmft, f"Family therapist {b}", frozenset({"LMFT"}),
                                    tuple(w for d in range(5) for w in _weekly([d], (11, 0), (20, 0), "")),
                                    36 * 60))
        lmfts.append(lmft)
        if b % 2 == 0:
            pid = f"presc-{b}"
            clinicians.append(Clinician(pid, f"Prescriber {b}", frozenset({"MD" if b % 4 == 0 else "NP"}),
                                        tuple(weekday_day[:4] + weekday_late[4:]), 32 * 60))
            prescribers.append(pid)
        for key, program, label, days, start, site, adult in TRACK_SPECS:
            tid = f"{key}-{b}"
            tracks.append(Track(tid, program, label if b == 0 else f"{label} #{b + 1}"))
            room = f"{site}-group-{key}-{b}"
            rooms.append(Room(room, site, 12, "group"))
            for d in days:
                cursor = at(d, *start)
                for n_kind, (kind, minutes) in enumerate(ADULT_DAY if adult else TEEN_DAY):
                    fac = facilitators[2] if kind == "mindfulness" else f"fac-{tid}-{n_kind % 2}"
                    groups.append(GroupSession(
                        f"{tid}-d{d}-{n_kind}", tid, kind, cursor, cursor + minutes, site, 11,
                        minutes, room, fac, f"{kind} ({label})",
                    ))
                    cursor += minutes

    participants: list[Participant] = []
    for i in range(n):
        b = i // BLOCK
        slot = i % BLOCK
        key = ("teen", "mhm", "mhe", "sue")[slot % 4]
        tid = f"{key}-{b}"
        program = {"teen": "teen", "mhm": "mh", "mhe": "mh", "sue": "su"}[key]
        site = "B" if key == "sue" else "A"
        r = rng.random()
        busy: list[Window] = []
        if key == "teen":
            busy = _weekly(list(range(5)), (7, 45), (14, 50), "school")
            if r < 0.08:  # sports practice two afternoons
                busy += _weekly([1, 3], (15, 0), (17, 0), "sports practice")
        elif key == "mhm":
            if r < 0.55:
                busy = _weekly(list(range(5)), (14, 0), (22, 0), "work")
            elif r < 0.65:
                busy = _weekly(list(range(5)), (9, 0), (17, 0), "work")  # clashes on purpose
        else:
            if r < 0.85:
                s = rng.choice([(8, 0), (8, 30), (9, 0)])
                e = rng.choice([(16, 0), (16, 30), (17, 0)])
                busy = _weekly(list(range(5)), s, e, "work")
                if rng.random() < 0.08:
                    busy += _weekly([rng.choice([1, 3])], (17, 0), (22, 0), "second job")
        if rng.random() < 0.15:
            busy += _weekly([5], (9, 0), (13, 0), "caregiving")
        teen = key == "teen"
        minimum = 360 if teen else 540
        needs = [Need(f"p{i}-ind", "individual", 50, THERAPY,
                      preferred_clinician=therapists[b][0 if key == "mhm" else 1 + slot % 3], rule="individual therapy weekly")]
        if (teen and i % 2 == 0) or (not teen and rng.random() < 0.1):
            needs.append(Need(f"p{i}-fam", "family", 50, FAMILY, preferred_clinician=lmfts[b],
                              room_kind="family",
                              rule="family session every two weeks (family involvement consented)"))
        if (not teen or rng.random() < 0.3) and i % 4 == (b % 4):
            needs.append(Need(f"p{i}-med", "medication", 25, PRESCRIBERS, counted=False,
                              preferred_clinician=prescribers[(b // 2) % len(prescribers)],
                              rule="medication review every 4 weeks"))
        alt = (f"mhe-{b}",) if key == "mhm" and rng.random() < 0.05 else ()
        participants.append(Participant(
            f"p{i}", f"Participant {i}", program, (tid, *alt), site, minimum, tuple(busy),
            tuple(needs),
        ))
    return Instance(tuple(participants), tuple(clinicians), tuple(rooms), tuple(groups),
                    tuple(tracks), {("A", "B"): 40}, 30, 30, label=f"generated-{n}")
