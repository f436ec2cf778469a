"""Harder generated weeks, where the planner's choices matter (tests and benchmarks).

Each variant starts from `generator.generate(n)` and changes one thing a real clinic meets:

- ``contended``: two therapists per block instead of four, each capped at 26 h a week, and
  one family room per two blocks: clinicians' time and rooms are scarce.
- ``evening``: most adults in the mental-health program have daytime jobs; each is
  enrolled in the morning or the evening track at random and may move to the other one,
  while the evening track has fewer seats than the people who need it.
- ``school``: half the participants are adolescents at school until 15:00, every one with a
  family session due (the family therapist's afternoons are contended).
- ``closure``: the week after a closure: everyone's individual therapy and medication
  review are due at once, and family sessions for every consented family.

All draw from a seeded random generator, so a (variant, size, seed) is always the same week.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

from .generator import FAMILY, PRESCRIBERS, THERAPY, _weekly, generate
from .model import Clinician, Instance, Need, Participant

VARIANTS = ("contended", "evening", "school", "closure")


def generate_hard(n: int, variant: str, *, seed: int = 7) -> Instance:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    base = generate(n, seed=seed)
    rng = random.Random(f"{variant}-{n}-{seed}")
    make: Callable[[Instance, random.Random], Instance] = globals()[f"_{variant}"]
    week = make(base, rng)
    return dataclasses.replace(week, label=f"{variant}-{n}")


def _contended(inst: Instance, rng: random.Random) -> Instance:
    del rng
    remap = {}
    clinicians: list[Clinician] = []
    for c in inst.clinicians:
        if c.id.startswith("ther-"):
            _, b, i = c.id.split("-")
            if i in ("2", "3"):
                remap[c.id] = f"ther-{b}-1"  # their people go to the evening therapist left
                continue
            c = dataclasses.replace(c, max_weekly_minutes=26 * 60)
        elif c.id.startswith(("lmft-", "presc-")):
            c = dataclasses.replace(c, max_weekly_minutes=26 * 60)
        clinicians.append(c)
    rooms = []
    for r in inst.rooms:
        if r.kind == "family":
            block = int(r.id.rsplit("-", 1)[1])
            if block % 2:
                continue
        rooms.append(r)
    people = [dataclasses.replace(p, needs=tuple(
        dataclasses.replace(nd, preferred_clinician=remap.get(nd.preferred_clinician or "",
                                                              nd.preferred_clinician))
        for nd in p.needs)) for p in inst.participants]
    return dataclasses.replace(inst, participants=tuple(people), clinicians=tuple(clinicians),
                               rooms=tuple(rooms))


def _evening(inst: Instance, rng: random.Random) -> Instance:
    people = []
    for p in inst.participants:
        track = p.tracks[0]
        if track.startswith(("mhm-", "mhe-")):
            block = track.split("-", 1)[1]
            own = rng.choice(("mhm", "mhe"))
            other = "mhe" if own == "mhm" else "mhm"
            busy = p.busy
            if rng.random() < 0.8:
                s = rng.choice([(8, 0), (8, 30), (9, 0)])
                e = rng.choice([(16, 0), (16, 30), (17, 0)])
                busy = tuple(_weekly(list(range(5)), s, e, "work"))
            p = dataclasses.replace(p, tracks=(f"{own}-{block}", f"{other}-{block}"), busy=busy)
        people.append(p)
    # Fewer evening seats than people who need them: the evening sessions hold 8.
    groups = tuple(dataclasses.replace(g, capacity=8) if g.track.startswith("mhe-") else g
                   for g in inst.groups)
    return dataclasses.replace(inst, participants=tuple(people), groups=groups)


def _school(inst: Instance, rng: random.Random) -> Instance:
    people = []
    for i, p in enumerate(inst.participants):
        block = i // 44
        if i % 2 == 0 and not p.tracks[0].startswith("teen-"):
            p = dataclasses.replace(p, program="teen", tracks=(f"teen-{block}",), site="A",
                                    minimum_minutes=360)
        if p.tracks[0].startswith("teen-"):
            busy = list(_weekly(list(range(5)), (7, 45), (15, 0), "school"))
            if rng.random() < 0.1:
                busy += _weekly([1, 3], (15, 0), (17, 0), "sports practice")
            needs = [nd for nd in p.needs if nd.kind != "family"]
            needs = [dataclasses.replace(nd, preferred_clinician=f"ther-{block}-{1 + i % 3}")
                     if nd.kind == "individual" else nd for nd in needs]
            needs.append(Need(f"{p.id}-fam", "family", 50, FAMILY,
                              preferred_clinician=f"lmft-{block}", room_kind="family",
                              rule="family session every two weeks (family involvement consented)"))
            p = dataclasses.replace(p, busy=tuple(busy), needs=tuple(needs))
        people.append(p)
    return dataclasses.replace(inst, participants=tuple(people))


def _closure(inst: Instance, rng: random.Random) -> Instance:
    prescribers = sorted(c.id for c in inst.clinicians if c.credentials & PRESCRIBERS)
    people: list[Participant] = []
    for i, p in enumerate(inst.participants):
        block = i // 44
        kinds = {nd.kind for nd in p.needs}
        needs = list(p.needs)
        if "individual" not in kinds:
            needs.append(Need(f"{p.id}-ind", "individual", 50, THERAPY,
                              preferred_clinician=f"ther-{block}-1", rule="individual therapy weekly"))
        if "medication" not in kinds and prescribers:
            needs.append(Need(f"{p.id}-med", "medication", 25, PRESCRIBERS, counted=False,
                              preferred_clinician=prescribers[(block // 2) % len(prescribers)],
                              rule="medication review every 4 weeks (overdue after the closure)"))
        if "family" not in kinds and rng.random() < 0.25:
            needs.append(Need(f"{p.id}-fam", "family", 50, FAMILY,
                              preferred_clinician=f"lmft-{block}", room_kind="family",
                              rule="family session every two weeks (family involvement consented)"))
        people.append(dataclasses.replace(p, needs=tuple(needs)))
    return dataclasses.replace(inst, participants=tuple(people))
