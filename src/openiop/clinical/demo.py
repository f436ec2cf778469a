"""Demo data for clinical documentation: notes in every state, treatment plans with reviews
due and overdue, safety plans. Bulk inserts only, so it stays fast at 5,000 participants.

Seeded records are synthetic and were never "accessed" by anyone, so no audit events are
written here (the audit trail records what users do).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import time, timedelta
from typing import Any

from openiop.care.models import EpisodeOfCare
from openiop.demo.generator import DemoContext
from openiop.participants.models import Consent, Participant, RelatedPerson
from openiop.scheduling.models import Attendance, Session

from .formats import sections_for
from .models import (
    Addendum,
    GroupNoteEntry,
    Note,
    NoteStatus,
    SafetyPlan,
    TreatmentGoal,
    TreatmentIntervention,
    TreatmentObjective,
    TreatmentPlan,
    TreatmentPlanReview,
    TreatmentPlanRevision,
    TreatmentProblem,
)
from .services.notes import note_kind_for_session, signature_label
from .services.plans import review_days

NOTE_WINDOW_DAYS = 21

TOPICS = ["Coping with cravings", "Managing anxious thoughts", "Sleep and mood",
          "Communication skills", "Relapse warning signs", "Distress tolerance (TIPP)",
          "Values and goals", "Grief and loss", "Self-compassion", "Boundaries in families",
          "Mindful breathing", "Behavioral activation"]
INTERVENTIONS = ["CBT thought records and Socratic questioning", "DBT skills teaching and role "
                 "play", "Motivational interviewing, decisional balance", "Psychoeducation with "
                 "handouts and discussion", "Mindfulness practice and debrief",
                 "Relapse-prevention planning in pairs"]
PARTICIPATION = ["Participated actively and offered feedback to peers",
                 "Quiet at first, shared once prompted", "Engaged throughout, asked questions",
                 "Attentive; shared a recent example", "Participated in role play",
                 "Arrived late, engaged after settling in", "Listened; declined to share today"]
RESPONSE = ["identified two personal triggers", "practiced the skill and rated distress down "
            "from 7 to 4", "linked the topic to a conflict at work", "reported the breathing "
            "exercise helped", "was skeptical but agreed to try it this week",
            "described using the skill since last session", "named a support person to call"]
PROGRESS = ["steady progress toward the objective", "early progress; practicing with support",
            "objective partly met; continue", "no change this week; review in individual session",
            "ahead of target date", "progress slowed by stressors at home"]
PLAN = ["practice the skill daily and log use", "bring the thought record to next group",
        "call sponsor twice this week", "review in individual session on Monday",
        "continue attendance; reassess objective next week", "complete the homework worksheet"]
INDIVIDUAL = {
    "data": ["Participant reported {a} and rated mood {m}/10.",
             "Reported {a}; PHQ-9 discussed; affect congruent, {m}/10 mood."],
    "assessment": ["Progressing toward goals; coping skills emerging.",
                   "Symptoms stable; engagement good; risk low, no SI reported.",
                   "Mild setback this week, insight intact; protective factors present."],
    "plan": ["Continue weekly individual therapy; practice skills; next session in 7 days.",
             "Review safety plan next session; continue IOP schedule."],
}
STORIES = ["better sleep", "more arguments at home", "two days of cravings", "a good week at "
           "work", "feeling anxious before group", "reconnecting with a friend"]
PROBLEMS = [
    ("Depressed mood affecting work and sleep", "I can't get out of bed most days"),
    ("Alcohol use disorder, moderate", "I drink to fall asleep"),
    ("Panic attacks in crowded places", "I freak out on the bus"),
    ("Conflict with family and isolation", "Nobody at home listens to me"),
    ("Opioid use disorder in early remission", "I want to stay clean for my kids"),
]
GOALS = ["Reduce depressive symptoms (PHQ-9 under 10)", "Maintain abstinence for 60 days",
         "Use coping skills instead of avoidance", "Improve communication at home"]
OBJECTIVES = ["Attends 3 IOP groups a week", "Uses one coping skill daily, by self-report log",
              "Completes 4 thought records a week", "Calls a support person twice a week",
              "Sleeps at least 6 hours on 5 nights a week (sleep log)"]
MODALITIES = [("CBT group", "3 times a week"), ("Individual therapy (MI)", "weekly"),
              ("Family session", "every 2 weeks"), ("Medication management", "every 4 weeks"),
              ("Relapse-prevention group", "2 times a week")]


def build(ctx: DemoContext) -> None:
    _family_consents(ctx)
    _notes(ctx)
    _plans(ctx)
    _safety_plans(ctx)


def _family_consents(ctx: DemoContext) -> None:
    """Teens' parents: a family-involvement consent, so family notes can name them."""
    teen_ids = [ep.participant_id for ep in ctx.episodes
                if ep.program.population == "adolescent"]
    consents = [
        Consent(participant_id=r.participant_id, related_person=r,
                kind=Consent.Kind.FAMILY_INVOLVEMENT, purpose="Family therapy sessions",
                text="I agree that my parent takes part in family sessions. (Synthetic demo "
                "consent.)", granted_at=ctx.now - timedelta(days=70),
                recorded_by=ctx.staff["intake"])
        for r in RelatedPerson.objects.filter(participant_id__in=teen_ids)
    ]
    Consent.objects.bulk_create(consents, batch_size=1000)


def _text(rng: Any, options: list[str]) -> str:
    return rng.choice(options)


def _sections(rng: Any, kind: str, fmt: str) -> dict[str, str]:
    if kind == "group":
        return {"topic": _text(rng, TOPICS), "interventions": _text(rng, INTERVENTIONS),
                "curriculum_module": "", "group_summary": "Members gave each other feedback; "
                "the group stayed on task."}
    data = _text(rng, INDIVIDUAL["data"]).format(a=_text(rng, STORIES), m=rng.randint(3, 8))
    values = {"data": data, "subjective": data, "behavior": data, "narrative": data,
              "assessment": _text(rng, INDIVIDUAL["assessment"]),
              "objective": "Alert, oriented, cooperative; speech normal rate.",
              "intervention": _text(rng, INTERVENTIONS), "response": _text(rng, RESPONSE),
              "plan": _text(rng, INDIVIDUAL["plan"])}
    return {s.key: values[s.key] for s in sections_for(kind, fmt)}


def _entry(rng: Any, n: int) -> dict[str, str]:
    # Each attendee's entry differs (payers deny cloned notes): vary by position too.
    return {"participation": _text(rng, PARTICIPATION),
            "response": f"Participant {_text(rng, RESPONSE)}.",
            "progress": f"{_text(rng, PROGRESS).capitalize()} (week {n % 9 + 1}).",
            "plan": f"Will {_text(rng, PLAN)}."}


def _keep_one_cosignature_pending(notes: list[Note], target_status: list[str],
                                  featured: set[int] | None = None) -> None:
    """The supervisor's queue is never empty in the demo, whatever the weekday.

    On a Sunday or Monday every supervised note is three or more days old and would have
    been co-signed; the newest one is left waiting instead: not one at an index in
    `featured` (a featured persona's, whose record stays the same at every clinic size)
    unless there is no other.
    """
    supervised = [i for i, note in enumerate(notes)
                  if note.needs_cosignature and note.signed_at is not None]
    others = [i for i in supervised if i not in (featured or ())]
    supervised = others or supervised
    if not supervised or any(target_status[i] == NoteStatus.SIGNED for i in supervised):
        return
    newest = max(supervised, key=lambda i: notes[i].signed_at)
    note = notes[newest]
    note.cosigned_by = note.cosigned_at = None
    note.cosigned_as = ""
    note.locked_at = None
    target_status[newest] = NoteStatus.SIGNED


def _notes(ctx: DemoContext) -> None:
    shared = ctx.rng
    now = ctx.now
    sessions = list(
        Session.objects.filter(program__organization=ctx.organization, ends_at__lte=now,
                               ends_at__gte=now - timedelta(days=NOTE_WINDOW_DAYS),
                               facilitator__isnull=False)
        .exclude(status=Session.Status.CANCELLED).select_related("program").order_by("starts_at")
    )
    attended: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for session_id, participant_id, attendance_id in Attendance.objects.filter(
        booking__session__in=[s.pk for s in sessions], status__in=Attendance.ATTENDED
    ).order_by("booking__session_id", "booking__participant_id", "pk").values_list(
        "booking__session_id", "booking__participant_id", "pk").iterator(
        chunk_size=5000
    ):
        attended[session_id].append((participant_id, attendance_id))
    ctx.progress(f"notes for {len(sessions)} sessions of the last {NOTE_WINDOW_DAYS} days")
    staff = {u.pk: u for u in ctx.staff.values()}
    # Fresh from the database: supervisors were assigned after the users were created.
    from openiop.accounts.models import StaffProfile

    profiles = {sp.user_id: sp for sp in StaffProfile.objects.filter(
        organization=ctx.organization).select_related("supervisor")}
    parents = defaultdict(list)
    for person in RelatedPerson.objects.filter(
        participant__organization=ctx.organization, relationship="parent"
    ).only("pk", "participant_id"):
        parents[person.participant_id].append(person.pk)

    codes = {p.pk: str(p.code) for p in ctx.participants}
    notes: list[Note] = []
    target_status: list[str] = []
    note_entries: list[list[GroupNoteEntry]] = []
    counts: dict[str, int] = defaultdict(int)
    for session in sessions:
        people = attended.get(session.pk)
        if not people:
            continue
        kind = note_kind_for_session(session.kind)
        # A featured persona's own session, or their track's group, draws from its own stream.
        rng = (ctx.session_rng(session, default=shared) if session.track_id
               else ctx.rng_for(people[0][0], default=shared))
        hours_ago = (now - session.ends_at).total_seconds() / 3600
        roll = rng.random()
        if hours_ago < 20:
            state = "none" if roll < 0.5 else "draft"
        elif roll < 0.06:
            state = "none"  # overdue: never started
        elif roll < 0.1:
            state = "draft"  # overdue draft
        else:
            state = "signed"
        if state == "none":
            counts["missing"] += 1
            continue
        author = staff[session.facilitator_id]
        profile = profiles.get(author.pk)
        needs_cosign = bool(profile and profile.requires_cosignature)
        # Rows go in as drafts (children can only be added to drafts, also on PostgreSQL)
        # and move to their final status in one UPDATE per status below.
        note = Note(
            program=session.program, session=session, kind=kind,
            note_format=session.program.note_format, author=author,
            participant_id=None if kind == "group" else people[0][0],
            sections=_sections(rng, kind, session.program.note_format),
            needs_cosignature=needs_cosign, version=rng.randint(2, 9),
        )
        status = NoteStatus.DRAFT
        if state == "signed":
            late = rng.random() < 0.12
            delay = timedelta(hours=rng.randint(30, 90) if late else rng.randint(1, 20))
            note.signed_at = min(session.ends_at + delay, now - timedelta(minutes=5))
            note.signed_by = author
            note.signed_as = signature_label(author)
            status = NoteStatus.SIGNED
            age_days = (now - note.signed_at).days
            if needs_cosign and (age_days >= 3 or rng.random() < 0.4):
                supervisor = (staff.get(profile.supervisor.user_id)
                              if profile.supervisor_id else None)
                if supervisor is not None:
                    status = NoteStatus.COSIGNED
                    note.cosigned_by = supervisor
                    note.cosigned_at = note.signed_at + timedelta(hours=rng.randint(2, 40))
                    note.cosigned_as = signature_label(supervisor)
            if (status == NoteStatus.COSIGNED or not needs_cosign) and age_days >= 7 \
                    and rng.random() < 0.7:
                status = NoteStatus.LOCKED
                note.locked_at = note.signed_at + timedelta(days=7)
        # Each attendee's entry last: how many attend does not change the draws above.
        entries = [
            GroupNoteEntry(note=note, participant_id=pid, attendance_id=aid, **_entry(rng, n))
            for n, (pid, aid) in enumerate(people)
        ] if kind == "group" else []
        if state == "signed":
            note.content_hash = note.compute_hash(sorted(
                ({"participant": codes[e.participant_id], **e.as_dict()} for e in entries),
                key=lambda d: d["participant"]))
        notes.append(note)
        target_status.append(status)
        note_entries.append(entries)
    _keep_one_cosignature_pending(notes, target_status, featured={
        i for i, note in enumerate(notes)
        if note.participant_id in ctx.featured or note.session.track_id in ctx.featured_tracks})
    for note, status in zip(notes, target_status, strict=True):
        pending = status == NoteStatus.SIGNED and note.needs_cosignature
        counts["cosign pending" if pending else status] += 1
    Note.objects.bulk_create(notes, batch_size=1000)

    all_entries: list[GroupNoteEntry] = []
    family_links = []
    Family = Note.family_members.through
    for note, entries in zip(notes, note_entries, strict=True):
        for e in entries:
            e.note_id = note.pk
        all_entries.extend(entries)
        if note.kind == "family":
            family_links += [Family(note_id=note.pk, relatedperson_id=rp)
                             for rp in parents.get(note.participant_id, [])[:1]]
    GroupNoteEntry.objects.bulk_create(all_entries, batch_size=2000)
    Family.objects.bulk_create(family_links, batch_size=2000)
    by_status: dict[str, list[int]] = defaultdict(list)
    for note, status in zip(notes, target_status, strict=True):
        if status != NoteStatus.DRAFT:
            by_status[status].append(note.pk)
            note.status = status
    for status, ids in by_status.items():
        for i in range(0, len(ids), 900):
            Note.objects.filter(pk__in=ids[i:i + 900]).update(status=status)
    addenda = []
    for note in notes:
        rng = (ctx.session_rng(note.session, default=shared) if note.session.track_id
               else ctx.rng_for(note.participant_id, default=shared))
        if note.status != NoteStatus.DRAFT and rng.random() < 0.04:
            addenda.append(Addendum(
                note=note, author=note.author, signed_as=note.signed_as,
                reason=rng.choice(["late entry", "clarification", "correction"]),
                text="Participant called after the session and reported a plan to attend a "
                "peer-support meeting tonight."))
    Addendum.objects.bulk_create(addenda, batch_size=1000)
    ctx.extra["clinical_notes"] = len(notes)
    ctx.progress(
        f"{len(notes)} notes ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
        f"{len(all_entries)} group entries, {len(addenda)} amended with an addendum")


def _plans(ctx: DemoContext) -> None:
    """A plan for every active episode; reviews on time, due soon and overdue."""
    shared = ctx.rng

    def rng_of(plan: TreatmentPlan) -> Any:  # a featured persona's own stream
        return ctx.rng_for(plan.participant_id, default=shared)

    today = ctx.today
    active = [ep for ep in ctx.episodes if ep.status == EpisodeOfCare.Status.ACTIVE]
    therapists = {u.pk: u for u in ctx.staff.values()}
    plans: list[TreatmentPlan] = []
    for ep in active:
        rng = ctx.rng_for(ep.participant_id, default=shared)
        started = min(ep.admitted_on + timedelta(days=rng.randint(1, 4)), today)
        days = review_days(ep.program)
        # About a quarter are never reviewed although due: the overdue list.
        reviewed = None
        if (today - started).days >= days and rng.random() < 0.7:
            reviewed = started + timedelta(days=days - rng.randint(0, 3))
            while reviewed + timedelta(days=days) < today - timedelta(days=rng.randint(0, 6)):
                reviewed += timedelta(days=days)
            reviewed = min(reviewed, today)
        acknowledged = rng.random() < 0.75
        plans.append(TreatmentPlan(
            participant_id=ep.participant_id, episode=ep, program=ep.program,
            revision=1, version=2,
            acknowledged_revision=1 if acknowledged else None,
            acknowledged_at=ctx.at(started, time(11)) if acknowledged else None,
            acknowledgment_method=rng.choice(["signed in person", "verbal, in session"])
            if acknowledged else "",
            participant_statement=rng.choice(
                ["I want to feel like myself again", "Stay sober and keep my job",
                 "Get along with my parents", "Stop having panic attacks", ""]),
            started_on=started, last_reviewed_on=reviewed,
            next_review_due=(reviewed or started) + timedelta(days=days),
            created_by=ep.primary_therapist or ctx.staff["clinician"],
        ))
    TreatmentPlan.objects.bulk_create(plans, batch_size=1000)

    problems: list[TreatmentProblem] = []
    for plan in plans:
        rng = rng_of(plan)
        for n, (text, words) in enumerate(rng.sample(PROBLEMS, rng.randint(1, 2)), start=1):
            problems.append(TreatmentProblem(plan=plan, text=text, participant_words=words,
                                             position=n))
    TreatmentProblem.objects.bulk_create(problems, batch_size=2000)
    goals = [TreatmentGoal(problem=p, text=rng_of(p.plan).choice(GOALS),
                           participant_words=rng_of(p.plan).choice(["", "Feel better by summer"]))
             for p in problems]
    TreatmentGoal.objects.bulk_create(goals, batch_size=2000)
    objectives: list[TreatmentObjective] = []
    for g in goals:
        rng = rng_of(g.problem.plan)
        for text in rng.sample(OBJECTIVES, rng.randint(1, 2)):
            objectives.append(TreatmentObjective(
                goal=g, text=text, status=rng.choice([TreatmentObjective.Status.OPEN] * 4
                                                  + [TreatmentObjective.Status.MET]),
                target_date=g.problem.plan.started_on + timedelta(days=rng.choice([30, 45, 60]))))
    TreatmentObjective.objects.bulk_create(objectives, batch_size=2000)
    interventions: list[TreatmentIntervention] = []
    for o in objectives:
        plan = o.goal.problem.plan
        rng = rng_of(plan)
        for modality, frequency in rng.sample(MODALITIES, rng.randint(1, 2)):
            interventions.append(TreatmentIntervention(
                objective=o, modality=modality, frequency=frequency,
                responsible_id=plan.created_by_id))
    TreatmentIntervention.objects.bulk_create(interventions, batch_size=2000)

    # One frozen revision per plan (its snapshot built in memory: no per-plan queries),
    # a review row where reviewed, and acknowledgments for most.
    tree: dict[int, dict[str, Any]] = {}
    by_objective: dict[int, list[TreatmentIntervention]] = defaultdict(list)
    for i in interventions:
        by_objective[i.objective_id].append(i)
    by_goal: dict[int, list[TreatmentObjective]] = defaultdict(list)
    for o in objectives:
        by_goal[o.goal_id].append(o)
    by_problem: dict[int, list[TreatmentGoal]] = defaultdict(list)
    for g in goals:
        by_problem[g.problem_id].append(g)
    for p in problems:
        tree.setdefault(p.plan_id, []).append({
            "code": str(p.code), "text": p.text, "participant_words": p.participant_words,
            "goals": [{"code": str(g.code), "text": g.text,
                       "participant_words": g.participant_words,
                       "objectives": [{"code": str(o.code), "text": o.text,
                                       "target_date": o.target_date.isoformat(),
                                       "status": o.status,
                                       "interventions": [
                                           {"code": str(i.code), "modality": i.modality,
                                            "frequency": i.frequency,
                                            "responsible": str(therapists.get(
                                                i.responsible_id, "")),
                                            "description": i.description}
                                           for i in by_objective[o.pk]]}
                                      for o in by_goal[g.pk]]}
                      for g in by_problem[p.pk]]})
    revisions, reviews = [], []
    for plan in plans:
        snapshot = {"participant_statement": plan.participant_statement,
                    "started_on": plan.started_on.isoformat(),
                    "next_review_due": plan.next_review_due.isoformat(),
                    "problems": tree.get(plan.pk, [])}
        finalized = ctx.at(plan.started_on, time(10))
        revisions.append(TreatmentPlanRevision(plan=plan, number=1, snapshot=snapshot,
                                               summary="Initial plan", created_by=plan.created_by,
                                               updated_at=finalized, finalized_at=finalized))
        if plan.last_reviewed_on:
            reviews.append(TreatmentPlanReview(
                plan=plan, reviewed_on=plan.last_reviewed_on, reviewed_by=plan.created_by,
                summary="Team review: objectives on track; plan continued.", revision_number=1))
    TreatmentPlanRevision.objects.bulk_create(revisions, batch_size=1000)
    TreatmentPlanReview.objects.bulk_create(reviews, batch_size=1000)
    overdue = sum(1 for p in plans if p.next_review_due < today)
    due_soon = sum(1 for p in plans if today <= p.next_review_due <= today + timedelta(days=7))
    ctx.progress(f"{len(plans)} treatment plans ({overdue} reviews overdue, {due_soon} due "
                 f"within 7 days), {len(objectives)} objectives")


def _safety_plans(ctx: DemoContext) -> None:
    shared = ctx.rng
    active = [ep for ep in ctx.episodes if ep.status == EpisodeOfCare.Status.ACTIVE]
    rows: list[SafetyPlan] = []
    # The demo's portal participant always has one (the portal shows it).
    portal_ids = set(Participant.objects.filter(
        organization=ctx.organization, user__isnull=False).values_list("pk", flat=True))
    for ep in active:
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        teen = ep.program.population == "adolescent"
        chosen = teen or rng.random() < 0.4 or ep.participant_id in portal_ids
        if not chosen:
            continue
        versions = 2 if rng.random() < 0.25 else 1
        for v in range(1, versions + 1):
            rows.append(SafetyPlan(
                participant_id=ep.participant_id, version=v,
                warning_signs="Not sleeping\nSkipping meals\nThinking 'nothing will change'",
                internal_coping="Walk outside for 20 minutes\nBox breathing\nMusic playlist",
                social_distractions="Coffee shop on High Street\nCall my cousin to talk "
                "about anything else",
                help_contacts="Sister, (614) 555-0199\nSponsor, (614) 555-0142"
                + ("\nMom, (614) 555-0177" if teen else ""),
                professional_contacts=f"Primary therapist {ep.primary_therapist}, "
                "(614) 555-0100\nRiverbend after-hours line, (614) 555-0111\n"
                "Nearest emergency department: Riverside ED",
                environment_safety="Medications kept by a family member\nNo alcohol at home"
                + ("\nLocked box for sharps" if v == 2 else ""),
                reasons_for_living=rng.choice(["My daughter", "My dog, Biscuit",
                                               "Finishing school", "My band"]),
                created_by=ep.primary_therapist or ctx.staff["clinician"],
            ))
    SafetyPlan.objects.bulk_create(rows, batch_size=1000)
    ctx.progress(f"{len(rows)} safety-plan versions for "
                 f"{len({r.participant_id for r in rows})} participants")
