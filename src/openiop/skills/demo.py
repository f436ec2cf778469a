"""Demo data for the curriculum: rotations, delivered modules, holistic notes, and per
participant skills practice, cravings, homework and relapse-prevention plans.

Everything per participant is built in memory and bulk-inserted (5,000 participants).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import time, timedelta
from types import SimpleNamespace

from openiop.care.models import EpisodeOfCare
from openiop.demo.generator import DemoContext
from openiop.scheduling.models import HOLISTIC_KINDS, Session

from .library import library_sync
from .models import (
    CravingLog,
    HolisticNote,
    Homework,
    Module,
    RelapsePreventionPlan,
    Rotation,
    RotationItem,
    SessionModule,
    Skill,
    SkillPractice,
)

ROTATIONS: dict[str, dict[str, list[str]]] = {
    "adult_mh": {
        "psychoeducation": [
            "understanding-depression", "understanding-anxiety", "stress-body-mind", "daily-rhythm",
            "naming-emotions", "acting-opposite", "positive-experiences", "crisis-survival", "grounding",
            "accepting-reality", "thinking-traps", "balanced-thinking", "sleep-and-recovery", "wind-down",
            "saying-what-you-need", "healthy-boundaries", "repair-after-conflict", "warning-signs",
        ],
    },
    "adult_su": {
        "psychoeducation": [
            "substance-use-and-the-brain", "mapping-triggers", "riding-out-cravings", "high-risk-situations",
            "warning-signs", "after-a-lapse", "relapse-prevention-plan", "stress-body-mind", "naming-emotions",
            "crisis-survival", "thinking-traps", "sleep-and-recovery", "healthy-boundaries",
            "repair-after-conflict",
        ],
    },
    "teen": {
        "skills": [
            "naming-emotions", "grounding", "crisis-survival", "acting-opposite", "thinking-traps",
            "balanced-thinking", "saying-what-you-need", "healthy-boundaries", "sleep-and-recovery",
            "mapping-triggers", "riding-out-cravings", "warning-signs",
        ],
        "family": [
            "family-understanding-treatment", "family-supporting-recovery", "family-talking-about-hard-things",
        ],
    },
}
ROTATION_KIND_SESSIONS = {"psychoeducation": "psychoeducation", "skills": "skills", "family": "family"}

HOLISTIC_ACTIVITIES = {
    "mindfulness": ["Body scan, 15 min, then sharing", "Mindful breathing and a listening exercise",
                    "Walking meditation in the hallway loop", "Loving-kindness practice, 10 min"],
    "yoga": ["Chair yoga, gentle stretches", "Slow flow with breath counting", "Restorative poses with bolsters",
             "Balance poses and grounding"],
    "art": ["Collage: my supports", "Watercolour: mood landscape", "Clay: an object that calms me",
            "Mask making: inside and outside"],
    "exercise": ["Brisk group walk, 20 min", "Circuit of light body-weight moves", "Stretch and movement games",
                 "Resistance bands, seated and standing"],
}
HOLISTIC_NOTES = ["Group engaged well; several asked for the handout.", "Low energy at start, improved by the end.",
                  "Two new members joined; explained the practice.", "Good participation; short sharing round.", ""]

TRIGGERS = ["Payday", "Argument at home", "Passing the old bar", "Feeling lonely in the evening", "Stress at work",
            "Friend offered", "Couldn't sleep", "Boredom on the weekend", "Pain flare", "Party invitation"]
HELPED = ["Called my sponsor", "Went for a walk", "Urge surfing for 20 minutes", "Played the tape forward",
          "Took a shower and made tea", "Texted my sister", "Went to a meeting", "Paced breathing"]
PRACTICE_NOTES = ["Helped me calm down before work.", "Hard to focus, tried again later.", "Did it with my kid.",
                  "Used it in the car before group.", "", "", "Felt silly at first but it worked."]
RESPONSES = ["I did the activity on three days. Mood went from 3 to 5 on average.",
             "My top triggers were evenings alone and payday. I made a plan for Friday.",
             "I practised twice. The second time was easier.",
             "I wrote my plan and showed it to my brother."]


def build(ctx: DemoContext) -> None:
    n_modules, n_skills = library_sync()
    ctx.progress(f"library: {n_modules} modules, {n_skills} skills")
    modules = {m.slug: m for m in Module.objects.all()}
    skills = list(Skill.objects.order_by("slug"))
    _rotations(ctx, modules)
    _holistic_notes(ctx)
    _participant_logs(ctx, modules, skills)


def _rotations(ctx: DemoContext, modules: dict[str, Module]) -> None:
    clinician = ctx.staff["clinician"]
    sequences: dict[tuple[int, str], list[Module]] = {}
    items = []
    for key, kinds in ROTATIONS.items():
        program = ctx.programs[key]
        for kind, slugs in kinds.items():
            rotation = Rotation.objects.create(program=program, kind=kind, name=Rotation.Kind(kind).label)
            seq = [modules[s] for s in slugs]
            sequences[(program.pk, ROTATION_KIND_SESSIONS[kind])] = seq
            items += [RotationItem(rotation=rotation, module=m, position=i) for i, m in enumerate(seq, 1)]
    RotationItem.objects.bulk_create(items)
    sessions = Session.objects.filter(
        program__organization=ctx.organization, kind__in=sorted(set(ROTATION_KIND_SESSIONS.values()))
    ).order_by("starts_at", "pk").values_list("pk", "program_id", "kind", "track_id")
    cursor: dict[tuple[int, str, int | None], int] = defaultdict(int)
    rows = []
    for pk, program_id, kind, track_id in sessions.iterator(chunk_size=5000):
        seq = sequences.get((program_id, kind))
        if not seq:
            continue
        key = (program_id, kind, track_id)
        rows.append(SessionModule(session_id=pk, module=seq[cursor[key] % len(seq)], recorded_by=clinician))
        cursor[key] += 1
    SessionModule.objects.bulk_create(rows, batch_size=2000)
    ctx.progress(f"{len(items)} rotation places, {len(rows)} sessions with a module")


def _holistic_notes(ctx: DemoContext) -> None:
    shared = ctx.rng
    now = min(ctx.now, ctx.at(ctx.today, time(23)))
    notes = []
    for pk, kind, facilitator_id, track_id, starts_at in (
        Session.objects.filter(program__organization=ctx.organization, kind__in=sorted(HOLISTIC_KINDS),
                               ends_at__lt=now)
        .order_by("starts_at", "pk")
        .values_list("pk", "kind", "facilitator_id", "track_id", "starts_at").iterator(chunk_size=5000)
    ):
        # A featured persona's track draws from its own stream (DemoContext.session_rng).
        rng = ctx.session_rng(SimpleNamespace(track_id=track_id, starts_at=starts_at),
                              default=shared)
        if rng.random() < 0.08:  # a few are still missing, as in real life
            continue
        notes.append(HolisticNote(session_id=pk, activity=rng.choice(HOLISTIC_ACTIVITIES[kind]),
                                  note=rng.choice(HOLISTIC_NOTES), written_by_id=facilitator_id))
    HolisticNote.objects.bulk_create(notes, batch_size=2000)
    ctx.progress(f"{len(notes)} holistic activity notes")


def _participant_logs(ctx: DemoContext, modules: dict[str, Module], skills: list[Skill]) -> None:
    shared = rng = ctx.rng
    now = min(ctx.now, ctx.at(ctx.today, time(23)))
    demo_person = ctx.extra.get("demo_participant")
    practices: list[SkillPractice] = []
    cravings: list[CravingLog] = []
    homework: list[Homework] = []
    plans: list[RelapsePreventionPlan] = []
    active = [ep for ep in ctx.episodes if ep.status == EpisodeOfCare.Status.ACTIVE]
    for ep in active:
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        person = ep.participant
        is_demo = demo_person is not None and person.pk == demo_person.pk
        user = person.user_id
        days_in = max((ctx.today - ep.admitted_on).days, 1)
        # Skills practice: a few entries since admission.
        for _ in range(rng.randint(4, 8) if is_demo else rng.randint(1, 6)):
            when = now - timedelta(days=rng.uniform(0.2, min(days_in, 42)), hours=rng.randint(0, 6))
            practices.append(SkillPractice(
                participant=person, skill=rng.choice(skills), practiced_at=when,
                helpfulness=min(10, max(0, int(rng.gauss(6.5, 2)))), note=rng.choice(PRACTICE_NOTES),
                logged_by_id=user,
            ))
        # Cravings: substance-use and co-occurring programs, and the demo participant;
        # intensity drifts down over treatment with day-to-day noise.
        if ep.program.focus in ("su", "co") or is_demo:
            span = min(days_in, 49)
            for _ in range(rng.randint(8, 14) if is_demo else rng.randint(2, 9)):
                ago = rng.uniform(0.2, span)
                base = 4 + 4 * (ago / max(span, 1))
                cravings.append(CravingLog(
                    participant=person, occurred_at=now - timedelta(days=ago),
                    intensity=min(10, max(0, round(rng.gauss(base, 1.4)))), trigger=rng.choice(TRIGGERS),
                    situation="", what_helped=rng.choice(HELPED), used=rng.random() < 0.04,
                    logged_by_id=user,
                ))
            if is_demo or rng.random() < 0.6:
                plans.append(RelapsePreventionPlan(
                    participant=person, updated_by_id=ep.primary_therapist_id,
                    triggers="Evenings alone; payday; arguments at home.",
                    warning_signs="Skipping group, staying up late, telling myself one time won't matter.",
                    coping_strategies="Call before the urge peaks; walk around the block; go to the 7 pm meeting; urge surfing.",
                    people_to_call="My sponsor; my sister; the program front desk (614) 555-0160.",
                    after_lapse="Stop, get somewhere safe, tell my sponsor the same day and my therapist at the next session.",
                ))
        # Homework from the program's rotation: some done and reviewed, some open.
        seq = ROTATIONS.get(_program_key(ctx, ep.program_id), {})
        slugs = [s for kind in seq.values() for s in kind if not modules[s].is_family_education]
        for k in range(3 if is_demo else rng.randint(0, 3)):
            module = modules[rng.choice(slugs)] if slugs else None
            assigned = now - timedelta(days=rng.randint(1, min(days_in, 30)))
            status = ([Homework.Status.ASSIGNED, Homework.Status.COMPLETED, Homework.Status.REVIEWED, Homework.Status.CLOSED][k % 4]
                      if is_demo else rng.choice([Homework.Status.ASSIGNED, Homework.Status.ASSIGNED, Homework.Status.COMPLETED,
                                                  Homework.Status.REVIEWED, Homework.Status.REVIEWED, Homework.Status.CLOSED]))
            hw = Homework(
                participant=person, module=module, title=f"Practice: {module.title}" if module else "Weekly goal",
                plan_objective="" if module else "Attend all groups this week",
                instructions=module.homework if module else "Write down one step you took toward your goal.",
                due_on=(assigned + timedelta(days=7)).date(), status=status,
                assigned_by_id=ep.primary_therapist_id, assigned_at=assigned,
            )
            if status != Homework.Status.ASSIGNED:
                hw.response = rng.choice(RESPONSES)
                hw.completed_at = assigned + timedelta(days=rng.randint(1, 6))
            if status in (Homework.Status.REVIEWED, Homework.Status.CLOSED):
                hw.review_comment = "Thank you, this is a real step. Let's talk about it on Tuesday."
                hw.reviewed_by_id = ep.primary_therapist_id
                hw.reviewed_at = hw.completed_at + timedelta(days=1)
            if status == Homework.Status.CLOSED:
                hw.closed_at = hw.reviewed_at
            if status == Homework.Status.ASSIGNED and hw.due_on < ctx.today:
                hw.due_on = ctx.today + timedelta(days=rng.randint(1, 6))
            homework.append(hw)
    SkillPractice.objects.bulk_create(practices, batch_size=2000)
    CravingLog.objects.bulk_create(cravings, batch_size=2000)
    Homework.objects.bulk_create(homework, batch_size=2000)
    RelapsePreventionPlan.objects.bulk_create(plans, batch_size=2000)
    ctx.progress(
        f"{len(practices)} skill practices, {len(cravings)} cravings, {len(homework)} homework, "
        f"{len(plans)} relapse-prevention plans"
    )


def _program_key(ctx: DemoContext, program_id: int) -> str:
    for key, program in ctx.programs.items():
        if program.pk == program_id:
            return key
    return ""
