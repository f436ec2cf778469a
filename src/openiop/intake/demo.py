"""Demo data for intake: referrals in every status, intake screeners, level-of-care
assessments (with the engine's real rules) and a few open safety tasks.

Synthetic only; bulk-created. The baseline answers chosen here are kept in
ctx.extra["intake_answers"] so the outcomes step starts each score history from them.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from openiop.care.models import EpisodeOfCare, LevelOfCareChange
from openiop.demo.generator import DemoContext

from .instruments import INSTRUMENTS, score
from .loc import recommend
from .models import LevelOfCareAssessment, MeasureResponse, Referral, SafetyTask

SOURCES = ("self", "family", "hospital", "therapist", "court", "employer", "finder")
SOURCE_WEIGHTS = (22, 14, 20, 24, 6, 6, 8)
REFERRERS = {
    "hospital": ["Mercy General inpatient psychiatry", "Riverside Hospital behavioral unit"],
    "therapist": ["Dr. Ana Lopez, PsyD", "Kim Nguyen, LPC", "Columbus Counseling Group"],
    "court": ["Franklin County drug court", "Adult probation, Officer Hale"],
    "employer": ["City transit EAP", "Buckeye Logistics HR"],
    "family": ["Parent", "Spouse", "Sibling"],
}
# Who refers someone under 18: a parent or guardian, a school counselor (source "other"),
# a juvenile court; never a spouse or an employer's EAP.
MINOR_REFERRERS = REFERRERS | {
    "family": ["Parent", "Guardian", "Grandparent"],
    "court": ["Franklin County juvenile court", "Juvenile probation, Officer Hale"],
    "other": ["School counselor, Dublin High School", "Pediatrician, Dr. Rao"],
}
MINOR_SOURCE = {"employer": "other"}


def referral_source(rng: random.Random, age: int, *, source: str | None = None
                    ) -> tuple[str, str]:
    """A referral source (drawn unless given) and a referrer name that fit the person's
    age; the same draws of `rng` whatever the age, so the rest of the demo stays as it was."""
    drawn = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
    source = source or drawn
    if age >= 18:
        return source, rng.choice(REFERRERS.get(source, [""]))
    source = MINOR_SOURCE.get(source, source)
    return source, rng.choice(MINOR_REFERRERS.get(source, [""]))
REASONS = {
    "mh": ["Depression worsening for two months; missing work.",
           "Panic attacks and worry most days; stopped driving.",
           "Low mood after a loss; not sleeping; family worried."],
    "su": ["Drinking daily; two failed attempts to cut down.",
           "Opioid use; wants medication treatment and group support.",
           "Relapse after a year sober; needs more than weekly therapy."],
    "co": ["Teen: self-harm thoughts and vaping cannabis daily; grades falling.",
           "Teen: anxiety, school refusal and alcohol at weekends.",
           "Teen: depression after a hospital stay; step-down plan."],
}


def spread(total: int, n: int, top: int, rng: random.Random) -> list[int]:
    """n item values in 0..top adding up to total (total <= n * top)."""
    values = [0] * n
    slots = [i for i in range(n) for _ in range(top)]
    for i in rng.sample(slots, total):
        values[i] += 1
    return values


def phq9_answers(total: int, rng: random.Random, *, item9: int = 0) -> list[int]:
    rest = min(max(total - item9, 0), 24)
    return [*spread(rest, 8, 3, rng), item9]


def baseline_answers(ep: EpisodeOfCare, rng: random.Random, *, first_level: str) -> dict:
    focus = ep.program.focus
    severe = first_level == "PHP"
    phq = rng.randint(17, 23) if severe else (
        rng.randint(10, 20) if focus != "su" else rng.randint(6, 15))
    gad = rng.randint(11, 18) if severe else rng.randint(6, 16)
    answers: dict[str, Any] = {
        "phq9": phq9_answers(phq, rng, item9=1 if rng.random() < 0.08 else 0),
        "gad7": spread(gad, 7, 3, rng),
    }
    if focus in ("su", "co"):
        answers["auditc"] = spread(rng.randint(3, 10), 3, 4, rng)
        dast = rng.randint(3, 8)
        yes = spread(dast, 10, 1, rng)
        # DAST-10 question 3 is reversed: scoring 1 means "no, not always able to stop".
        answers["dast10"] = ["yes" if (v if i != 2 else 1 - v) else "no"
                             for i, v in enumerate(yes)]
    return answers


def build(ctx: DemoContext) -> None:
    shared = rng = ctx.rng
    ctx.progress("referrals, intake screeners, level-of-care assessments")
    first_levels = {
        ep_id: frm for ep_id, frm in LevelOfCareChange.objects.filter(
            episode__program__organization=ctx.organization).order_by(
            "episode_id", "-effective_on").values_list("episode_id", "from_level")
    }
    intake_answers: dict[int, dict] = {}
    referrals: list[Referral] = []
    assessments: list[LevelOfCareAssessment] = []
    measures: list[MeasureResponse] = []
    coordinator = ctx.staff["intake"]
    for ep in ctx.episodes:
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        first = first_levels.get(ep.pk, ep.level_of_care)
        answers = baseline_answers(ep, rng, first_level=first)
        intake_answers[ep.pk] = answers
        received = ctx.at(ep.admitted_on - timedelta(days=rng.randint(3, 16)), time(10))
        screened_at = received + timedelta(days=rng.randint(0, 2), hours=2)
        assessed_at = screened_at + timedelta(days=1)
        admitted = ep.status != EpisodeOfCare.Status.WAITLIST
        person = ep.participant
        # A PHP step-down comes from a hospital.
        source, referrer = referral_source(rng, person.age_on(ctx.today),
                                           source="hospital" if first == "PHP" else None)
        referrals.append(Referral(
            organization=ctx.organization, program=ep.program, participant=person,
            episode=ep, source=source,
            referrer_name=referrer,
            name=person.legal_name, date_of_birth=person.date_of_birth, phone=person.phone,
            email=person.email, reason=rng.choice(REASONS[ep.program.focus]),
            consent_text="I agree to be contacted about my request. (Synthetic demo.)"
            if source == "finder" else "",
            status=Referral.Status.ADMITTED if admitted else Referral.Status.WAITLISTED,
            received_at=received, screening_at=screened_at, assessment_at=assessed_at,
            waitlisted_at=None if admitted else ctx.at(ep.admitted_on, time(9)),
            closed_at=ctx.at(ep.admitted_on, time(9)) if admitted else None,
            created_by=coordinator,
        ))
        screening = _screen_rows(measures, person, ep, answers, screened_at, coordinator)
        assessments.append(_assessment(ep, person, screening, first, assessed_at,
                                       ctx.staff["clinician"], rng))
    open_referrals, open_tasks = _open_referrals(ctx, shared, referrals, measures, assessments)
    Referral.objects.bulk_create(referrals, batch_size=1000)
    MeasureResponse.objects.bulk_create(measures, batch_size=2000)
    by_participant = {r.participant_id: r for r in Referral.objects.filter(
        organization=ctx.organization, participant__isnull=False).order_by("pk")}
    for a in assessments:
        a.referral = by_participant.get(a.participant_id)
    LevelOfCareAssessment.objects.bulk_create(assessments, batch_size=1000)
    _tasks(ctx, open_tasks)
    ctx.extra["intake_answers"] = intake_answers
    counts = {s: sum(1 for r in referrals if r.status == s) for s in Referral.Status.values}
    ctx.progress(f"{len(referrals)} referrals ({', '.join(f'{k} {v}' for k, v in counts.items())}), "
                 f"{len(assessments)} assessments, {len(measures)} intake screeners; "
                 f"{open_referrals} open")


def _screen_rows(measures: list[MeasureResponse], person: Any, ep: Any, answers: dict,
                 when: datetime, who: Any) -> dict:
    results = {}
    for k, (code, values) in enumerate(answers.items()):
        result = score(code, values, sex="female" if person.pk % 2 else "male")
        results[code] = result
        measures.append(MeasureResponse(
            participant=person, episode=ep, instrument=code, context="intake",
            source="staff", answers=dict(result.answers),
            sex=("female" if person.pk % 2 else "male") if code == "auditc" else "",
            total=result.total, band=result.band,
            flags=[{"code": f.code, "level": f.level, "message": f.message}
                   for f in result.flags],
            safety_flag=result.safety, completed_at=when + timedelta(minutes=10 * k),
            recorded_by=who,
        ))
    return results


def _assessment(ep: Any, person: Any, screening: dict, decided: str, when: datetime,
                who: Any, rng: random.Random) -> LevelOfCareAssessment:
    """`ep` is an EpisodeOfCare, or a _FakeEpisode (program only) for open referrals."""
    su = ep.program.focus in ("su", "co")
    dims = {"withdrawal": 1 if su else 0, "biomedical": 0,
            "emotional": 3 if decided == "PHP" else 2, "readiness": rng.choice([1, 2]),
            "relapse": 2 if su else 1, "environment": rng.choice([0, 1, 1, 2])}
    hours = Decimal(rng.choice([9, 9, 12, 15, 20]))
    rec = recommend(screening=screening, dimensions=dims, hours_available=hours,
                    adolescent=ep.program.population == "adolescent")
    override = decided != rec.level
    return LevelOfCareAssessment(
        participant=person, episode=ep if isinstance(ep, EpisodeOfCare) else None,
        hours_available=hours,
        screening={c: {"total": r.total, "band": r.band, "flags": r.flag_codes}
                   for c, r in screening.items()},
        recommended_level=rec.level, rules_fired=rec.as_list(),
        imminent_risk=rec.imminent_risk, decided_level=decided,
        override_reason="Payer authorized IOP and the person prefers evening groups; "
        "safety plan and weekly reassessment agreed." if override else "",
        assessed_by=who, assessed_at=when, decided_by=who, decided_at=when, **dims,
    )


def _open_referrals(ctx: DemoContext, rng: random.Random, referrals: list[Referral],
                    measures: list[MeasureResponse],
                    assessments: list[LevelOfCareAssessment]) -> tuple[int, list[Any]]:
    """Referrals still moving (new, screening, assessment) and closed without admission."""
    with_episode = {ep.participant_id for ep in ctx.episodes}
    free = [p for p in ctx.participants if p.pk not in with_episode]
    rng.shuffle(free)
    per_status = max(2, ctx.scale // 40)
    adult_programs = [p for p in ctx.programs.values() if p.population == "adult"]
    teen_program = next(p for p in ctx.programs.values() if p.population == "adolescent")
    # Round-robin, so a small demo still has every status.
    statuses = (Referral.Status.NEW, Referral.Status.SCREENING, Referral.Status.ASSESSMENT, Referral.Status.DECLINED,
                Referral.Status.REFERRED_ELSEWHERE)
    plan = [s for _ in range(per_status) for s in statuses]
    tasks = []
    now = ctx.at(ctx.today, time(9))
    created = 0
    for n, status in enumerate(plan):
        if n >= len(free):
            break
        person = free[n]
        program = teen_program if person.age_on(ctx.today) < 18 else adult_programs[n % len(adult_programs)]
        source, referrer = referral_source(rng, person.age_on(ctx.today))
        received = now - timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 8))
        linked = status != Referral.Status.NEW
        ref = Referral(
            organization=ctx.organization, program=program,
            participant=person if linked else None, source=source,
            referrer_name=referrer, name=person.legal_name,
            date_of_birth=person.date_of_birth, phone=person.phone, email=person.email,
            reason=rng.choice(REASONS[program.focus]), status=status,
            consent_text="I agree to be contacted about my request. (Synthetic demo.)"
            if source == "finder" else "",
            received_at=received,
            screening_at=received + timedelta(hours=5) if linked else None,
            assessment_at=received + timedelta(days=1) if status not in (Referral.Status.NEW, Referral.Status.SCREENING)
            else None,
            closed_at=received + timedelta(days=2) if status in (Referral.Status.DECLINED, Referral.Status.REFERRED_ELSEWHERE)
            else None,
            outcome_note={Referral.Status.DECLINED: "Chose to stay with weekly therapy for now.",
                          Referral.Status.REFERRED_ELSEWHERE: "Needs medically monitored withdrawal first."}
            .get(status, ""),
            referred_to="Lakeside Residential Treatment Center"
            if status == Referral.Status.REFERRED_ELSEWHERE else "",
            urgent=False, created_by=ctx.staff["intake"] if source != "finder" else None,
        )
        referrals.append(ref)
        created += 1
        if linked:
            fake_ep = _FakeEpisode(program)
            answers = baseline_answers(fake_ep, rng, first_level="IOP")
            if status == Referral.Status.SCREENING and n % 3 == 0:
                answers["phq9"] = phq9_answers(rng.randint(12, 19), rng, item9=1)
                ref.urgent = True
                tasks.append(person)
            screening = _screen_rows(measures, person, None, answers, ref.screening_at,
                                     ctx.staff["intake"])
            if status != Referral.Status.SCREENING:
                a = _assessment(fake_ep, person, screening, "IOP", ref.assessment_at,
                                ctx.staff["clinician"], rng)
                if a.decided_level != a.recommended_level:
                    a.decided_level = a.recommended_level
                    a.override_reason = ""
                assessments.append(a)
    return created, tasks


class _FakeEpisode:
    """Just enough of an episode for baseline_answers/_assessment on open referrals."""

    def __init__(self, program: Any) -> None:
        self.program = program


def _tasks(ctx: DemoContext, people: list[Any]) -> None:
    rows = {r.participant_id: r for r in Referral.objects.filter(participant__in=people)
            .order_by("pk")}
    measures = {m.participant_id: m for m in MeasureResponse.objects.filter(
        participant__in=people, instrument="phq9", safety_flag=True).order_by("pk")}
    phq = INSTRUMENTS["phq9"].flag_rules["self_harm_thoughts"]["message"]
    SafetyTask.objects.bulk_create([
        SafetyTask(organization=ctx.organization, participant=p, referral=rows.get(p.pk),
                   measure_response=measures.get(p.pk), priority="urgent",
                   title="Safety follow-up: PHQ-9 item 9 above 0", detail=phq)
        for p in people
    ])
