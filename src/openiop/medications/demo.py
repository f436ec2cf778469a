"""Demo step: realistic, synthetic medication histories for the demo clinic.

Bulk inserts only (the demo must handle 5,000 participants). Per episode with a prescriber:
an admission reconciliation, orders with their titration history, prescriber reviews
(some overdue), weekly adherence check-ins, occasional side effects. In the substance-use
program: opioid use disorder on the problem list with MOUD (buprenorphine/naloxone,
monthly extended-release naltrexone given by the nurse, or methadone from an outside OTP),
weekly drug screens interpreted against what is prescribed, and naloxone status (a few
gaps on purpose). Alcohol use disorder gets naltrexone, acamprosate or disulfiram.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from openiop.care.models import EpisodeOfCare
from openiop.demo.generator import DemoContext

from . import rules
from .models import (
    AdherenceCheck,
    Administration,
    Allergy,
    AllergyStatement,
    DrugScreen,
    DrugScreenResult,
    InteractionAcknowledgement,
    MedicationChange,
    MedicationOrder,
    MedicationReview,
    NaloxoneCheck,
    Reconciliation,
    SideEffectReport,
    UseDisorder,
)

D = Decimal

# (catalog key, start dose, titration steps, unit, route, frequency, indication)
MH_REGIMENS = (
    ("sertraline", "50", ["100", "150"], "mg", "oral", "daily", "Depression"),
    ("escitalopram", "10", ["20"], "mg", "oral", "daily", "Generalized anxiety"),
    ("fluoxetine", "20", ["40"], "mg", "oral", "daily", "Depression"),
    ("bupropion", "150", ["300"], "mg", "oral", "daily", "Depression"),
    ("venlafaxine", "75", ["150", "225"], "mg", "oral", "daily", "Depression"),
    ("lamotrigine", "25", ["50", "100", "200"], "mg", "oral", "daily", "Bipolar II depression"),
)
ADD_ONS = (
    ("trazodone", "50", [], "mg", "oral", "qhs", "Insomnia"),
    ("prazosin", "1", ["2", "3"], "mg", "oral", "qhs", "Trauma nightmares"),
    ("hydroxyzine", "25", [], "mg", "oral", "prn", "Anxiety"),
    ("quetiapine", "50", ["100"], "mg", "oral", "qhs", "Mood stabilization"),
)
TEEN_REGIMENS = (
    ("fluoxetine", "10", ["20"], "mg", "oral", "daily", "Depression"),
    ("escitalopram", "5", ["10"], "mg", "oral", "daily", "Anxiety"),
    ("methylphenidate", "18", ["27", "36"], "mg", "oral", "daily", "ADHD"),
    ("guanfacine", "1", ["2"], "mg", "oral", "daily", "ADHD"),
)
AUD_REGIMENS = (
    ("naltrexone", "50", [], "mg", "oral", "daily", "Alcohol use disorder"),
    ("acamprosate", "666", [], "mg", "oral", "tid", "Alcohol use disorder"),
    ("disulfiram", "250", [], "mg", "oral", "daily", "Alcohol use disorder"),
)
REASONS_UP = ("dose_titration", "dose_titration", "not_effective")
PANEL = ("buprenorphine", "methadone", "fentanyl", "opiates", "benzodiazepines", "cocaine",
         "amphetamines", "cannabinoids")
SIDE_EFFECTS = (("Nausea", "mild"), ("Headache", "mild"), ("Insomnia", "moderate"),
                ("Sexual dysfunction", "moderate"), ("Sedation", "mild"),
                ("Dizziness", "mild"), ("Weight gain", "moderate"), ("Agitation", "moderate"))


@dataclass
class Plan:
    """One order and its change history before insert."""

    order: MedicationOrder
    changes: list[tuple[str, str, date, Decimal | None, Decimal | None]] = field(default_factory=list)
    ack: tuple[str, str, str, str] | None = None


def build(ctx: DemoContext) -> None:
    shared = rng = ctx.rng
    today = ctx.today
    nurse = ctx.staff["nurse"]
    clinician = ctx.staff["clinician"]
    fallback_prescriber = ctx.staff["prescriber"]
    episodes = [ep for ep in ctx.episodes if ep.status in (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.FINISHED)]
    ctx.progress(f"medication histories for {len(episodes)} episodes")
    plans: list[Plan] = []
    problems: list[UseDisorder] = []
    reviews: list[MedicationReview] = []
    adherence: list[AdherenceCheck] = []
    naloxone: list[NaloxoneCheck] = []
    side: list[tuple[MedicationOrder, str, str, date]] = []  # (order, effect, severity, onset)
    screens: list[tuple[Any, date, bool]] = []  # (episode, day, buprenorphine-style flags)
    reconciliations: list[Reconciliation] = []
    xr_orders: list[MedicationOrder] = []
    demo_person = ctx.extra.get("demo_participant")
    # A separate generator for the medication-safety data, so adding it leaves the rest of
    # the demo (which draws from ctx.rng) exactly as it was.
    safety_rng = random.Random(1729)
    allergy_rows: list[Allergy] = []
    statements: list[AllergyStatement] = []
    # Episodes carry prescriber ids; look the users up here, not one query per episode.
    staff_by_id = {u.pk: u for u in ctx.staff.values()}

    def prescriber_of(ep: Any) -> Any:
        return staff_by_id.get(ep.prescriber_id)

    def add(ep: Any, spec: tuple, *, source: str = "clinic", start: date | None = None,
            titrate: bool = True) -> Plan:
        key, dose, steps, unit, route, freq, indication = spec
        prescriber = prescriber_of(ep) or fallback_prescriber
        start = start or ep.admitted_on + timedelta(days=rng.randint(0, 6))
        end = ep.discharged_on or today
        current = D(dose)
        history: list[tuple[str, str, date, Decimal | None, Decimal | None]] = [
            ("start", "new" if source == "clinic" else "reconciled", start, current, None)]
        day = start
        for step in steps if titrate else []:
            day = day + timedelta(days=rng.randint(10, 18))
            if day >= end:
                break
            history.append(("adjust", rng.choice(REASONS_UP), day, D(step), current))
            current = D(step)
        side_effect_day = None
        if titrate and len(history) > 1 and rng.random() < 0.15:
            day = day + timedelta(days=rng.randint(5, 12))
            if day < end:
                lower = history[-1][4] or current
                history.append(("adjust", "side_effect", day, lower, current))
                side_effect_day = day - timedelta(days=3)
                current = lower
        stop = ep.discharged_on if ep.discharged_on and rng.random() < 0.3 else None
        order = MedicationOrder(
            participant=ep.participant, catalog_key=key, name=rules.catalog()[key].name,
            rxnorm=rules.catalog()[key].rxnorm, source=source,
            prescriber=prescriber if source == "clinic" else None,
            outside_prescriber="" if source == "clinic" else rng.choice(
                ["Dr. Haddad, Eastside Family Medicine", "Columbus Opioid Treatment Program",
                 "Dr. Park, Riverside Primary Care"]),
            coding="catalog", dose=current, unit=unit, route=route, frequency=freq,
            max_doses_per_day=4 if freq == "prn" else None,
            quantity=30 if freq in ("daily", "qhs") else None,
            refills=0 if rules.catalog()[key].dea_schedule == "II" or source != "clinic" else 2,
            start_date=start, stop_date=stop,
            status=MedicationOrder.Status.STOPPED if stop else MedicationOrder.Status.ACTIVE,
            indication=indication, created_by=prescriber,
        )
        if stop:
            history.append(("stop", "completed", stop, current, current))
        if side_effect_day:
            effect, _severity = rng.choice(SIDE_EFFECTS)
            side.append((order, effect, "moderate", side_effect_day))
        plan = Plan(order, history)
        plans.append(plan)
        return plan

    for ep in episodes:
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        safety = ctx.rng_for(ep.participant_id, default=safety_rng)
        person = ep.participant
        focus = ep.program.focus
        teen = ep.program.population == "adolescent"
        if ep.prescriber_id is None and person != demo_person:
            if rng.random() < 0.35:  # an outside antidepressant from primary care
                add(ep, rng.choice(MH_REGIMENS[:4]), source="outside",
                    start=ep.admitted_on - timedelta(days=rng.randint(60, 400)), titrate=False)
            continue
        before = len(plans)
        if focus == "su" or (focus == "co" and not teen and rng.random() < 0.4):
            oud = rng.random() < 0.6
            if oud:
                problems.append(UseDisorder(participant=person, substance="opioid",
                                            noted_on=ep.admitted_on, recorded_by=clinician))
                kind = rng.random()
                if kind < 0.55:
                    plan = add(ep, ("buprenorphine_naloxone", "8", ["12", "16"], "mg",
                                    "sublingual", "daily", "Opioid use disorder"))
                    if rng.random() < 0.12:
                        benzo = add(ep, ("clonazepam", "0.5", [], "mg", "oral", "bid", "Panic"),
                                    source="outside",
                                    start=ep.admitted_on - timedelta(days=90), titrate=False)
                        benzo.ack = ("opioid_benzodiazepine", "Opioid with a benzodiazepine",
                                     f"{benzo.order.name} + {plan.order.name}",
                                     "Long-standing outside prescription; taper agreed with "
                                     "PCP, naloxone kit given, participant counseled.")
                elif kind < 0.75:
                    plan = add(ep, ("naltrexone_xr", "380", [], "mg", "intramuscular", "q4w",
                                    "Opioid use disorder"), titrate=False)
                    xr_orders.append(plan.order)
                elif kind < 0.9:
                    add(ep, ("methadone", "60", ["80", "90"], "mg", "oral", "daily",
                             "Opioid use disorder"), source="outside",
                        start=ep.admitted_on - timedelta(days=rng.randint(30, 300)))
                on_hand = rng.random() < 0.8
                checked = ep.admitted_on + timedelta(days=rng.randint(0, 7))
                if rng.random() < 0.93:  # a few were never asked: they show as gaps
                    naloxone.append(NaloxoneCheck(
                        participant=person, checked_on=min(checked, today), on_hand=on_hand,
                        kit_dispensed=on_hand and rng.random() < 0.6, recorded_by=nurse))
            else:
                problems.append(UseDisorder(participant=person, substance="alcohol",
                                            noted_on=ep.admitted_on, recorded_by=clinician))
                add(ep, rng.choice(AUD_REGIMENS), titrate=False)
            if rng.random() < 0.3:
                problems.append(UseDisorder(participant=person, substance="tobacco",
                                            noted_on=ep.admitted_on, recorded_by=clinician))
                add(ep, ("nicotine_patch", "21", ["14", "7"], "mg", "transdermal", "daily",
                         "Tobacco use disorder"))
            screens.append((ep, ep.admitted_on, oud))
        if focus in ("mh", "co") or person == demo_person:
            regimen = TEEN_REGIMENS if teen else MH_REGIMENS
            add(ep, rng.choice(regimen))
            if not teen and rng.random() < 0.35:
                add(ep, rng.choice(ADD_ONS))
            if person == demo_person or safety.random() < 0.08:
                plans.append(_uncoded_outside(ep, start=ep.admitted_on - timedelta(days=200)))
        if len(plans) == before:
            continue
        _allergy_history(safety, ep, clinician, allergy_rows, statements)
        # Admission reconciliation by the prescriber, with the list as it stood.
        prescriber = prescriber_of(ep) or fallback_prescriber
        reconciliations.append(Reconciliation(
            participant=person, point="admission", performed_by=prescriber,
            performed_at=ctx.at(ep.admitted_on, time(10, 30)),
            decisions=[{"order": str(p.order.code), "name": p.order.name,
                        "sig": f"{p.changes[0][3]} {p.order.unit}", "decision": "continue",
                        "source": p.order.source} for p in plans[before:]]))
        if ep.discharged_on:
            reconciliations.append(Reconciliation(
                participant=person, point="discharge", performed_by=prescriber,
                performed_at=ctx.at(ep.discharged_on, time(15)),
                decisions=[{"order": str(p.order.code), "name": p.order.name,
                            "sig": f"{p.order.dose} {p.order.unit}",
                            "decision": "stop" if p.order.stop_date else "continue",
                            "source": p.order.source} for p in plans[before:]]))
        # Reviews every 3-4 weeks; about one in six active episodes has fallen behind.
        end = ep.discharged_on or today
        day = ep.admitted_on + timedelta(days=rng.randint(1, 4))
        behind = ep.discharged_on is None and rng.random() < 0.17
        while day <= end:
            if behind and day > end - timedelta(days=35):
                break
            reviews.append(MedicationReview(participant=person, reviewed_on=day,
                                            reviewer=prescriber, note="Reviewed response and "
                                            "side effects; plan discussed."))
            day += timedelta(days=rng.randint(20, 27))
        # Weekly adherence check-ins, by the nurse or the participant.
        week = ep.admitted_on + timedelta(days=7)
        while week <= end:
            adherence.append(AdherenceCheck(
                participant=person, checked_on=week,
                doses_missed=rng.choices([0, 1, 2, 4], weights=[70, 18, 8, 4])[0],
                reporter=rng.choice(["staff", "participant"]), recorded_by=nurse))
            week += timedelta(days=7)
        for p in plans[before:]:
            if rng.random() < 0.12 and p.order.start_date < today:
                effect, severity = rng.choice(SIDE_EFFECTS)
                side.append((p.order, effect, severity,
                             p.order.start_date + timedelta(days=rng.randint(2, 9))))

    rng = shared
    ctx.progress(f"{len(plans)} orders, {len(reviews)} reviews, {len(adherence)} check-ins")
    MedicationOrder.objects.bulk_create([p.order for p in plans], batch_size=1000)
    changes = [MedicationChange(order=p.order, kind=k, reason=r, effective_date=d, dose=dose,
                                unit=p.order.unit, frequency=p.order.frequency,
                                previous_dose=prev, changed_by=p.order.created_by)
               for p in plans for (k, r, d, dose, prev) in p.changes]
    MedicationChange.objects.bulk_create(changes, batch_size=2000)
    InteractionAcknowledgement.objects.bulk_create([
        InteractionAcknowledgement(order=p.order, rule_id=p.ack[0], title=p.ack[1],
                                   medications=p.ack[2], reason=p.ack[3],
                                   acknowledged_by=fallback_prescriber)
        for p in plans if p.ack])
    UseDisorder.objects.bulk_create(problems, batch_size=2000)
    Allergy.objects.bulk_create(allergy_rows, batch_size=2000)
    AllergyStatement.objects.bulk_create(statements, batch_size=2000)
    Reconciliation.objects.bulk_create(reconciliations, batch_size=1000)
    MedicationReview.objects.bulk_create(reviews, batch_size=2000)
    AdherenceCheck.objects.bulk_create(adherence, batch_size=2000)
    NaloxoneCheck.objects.bulk_create(naloxone, batch_size=2000)
    SideEffectReport.objects.bulk_create([
        SideEffectReport(participant=o.participant, order=o, effect=e, severity=s,
                         onset_on=min(d, today), recorded_by=nurse,
                         action="Discussed; monitoring" if s == "mild" else "Dose reduced")
        for o, e, s, d in side], batch_size=2000)

    # Monthly extended-release naltrexone injections given by the nurse.
    doses = []
    for o in xr_orders:
        day = o.start_date
        site = "left gluteal"
        while day <= (o.stop_date or today):
            doses.append(Administration(
                order=o, administered_at=ctx.at(day, time(17, 15)), dose=D("380"), unit="mg",
                route="intramuscular", site=site, lot=f"XR{rng.randint(10000, 99999)}",
                expires_on=day + timedelta(days=300), administered_by=nurse))
            site = "right gluteal" if site == "left gluteal" else "left gluteal"
            day += timedelta(days=28)
    Administration.objects.bulk_create(doses, batch_size=2000)

    _screens(ctx, screens, plans)


# (catalog key, free text, class, reaction, severity): the allergies the demo records.
DEMO_ALLERGIES = (
    ("", "Penicillin", "", "Hives", "moderate"),
    ("ibuprofen", "", "nsaid", "Angioedema", "severe"),
    ("", "Sulfa antibiotics", "", "Rash", "mild"),
    ("", "Codeine", "", "Nausea and vomiting", "mild"),
)


def _allergy_history(rng: random.Random, ep: Any, clinician: Any, rows: list[Allergy],
                     statements: list[AllergyStatement]) -> None:
    """Most charts state "no known drug allergies"; some record an allergy; a few have no
    statement yet (they show the prompt)."""
    draw = rng.random()
    if draw < 0.8:
        statements.append(AllergyStatement(participant=ep.participant, stated_on=ep.admitted_on,
                                           recorded_by=clinician))
    elif draw < 0.93:
        key, text, cls, reaction, severity = rng.choice(DEMO_ALLERGIES)
        kind = "intolerance" if severity == "mild" and "Nausea" in reaction else "allergy"
        rows.append(Allergy(participant=ep.participant, catalog_key=key,
                            substance=text or rules.catalog()[key].name, drug_class=cls,
                            kind=kind, reaction=reaction, severity=severity,
                            noted_on=ep.admitted_on, recorded_by=clinician))


def _uncoded_outside(ep: Any, *, start: date) -> Plan:
    """An outside medication typed by name that is not in the catalog: saved uncoded and
    shown as not checked for interactions."""
    order = MedicationOrder(
        participant=ep.participant, catalog_key="", name="Omeprazole", rxnorm="",
        coding="uncoded", source="outside", outside_prescriber="Dr. Park, Riverside Primary Care",
        dose=D("20"), unit="mg", route="oral", frequency="daily", start_date=start,
        status=MedicationOrder.Status.ACTIVE, indication="Reflux", created_by=None)
    return Plan(order, [("start", "reconciled", start, D("20"), None)])


def _screens(ctx: DemoContext, screens: list, plans: list[Plan]) -> None:
    """Weekly screens for the substance-use episodes, interpreted like the service does."""
    shared = rng = ctx.rng
    today = ctx.today
    by_person: dict[int, list[MedicationOrder]] = {}
    for p in plans:
        by_person.setdefault(p.order.participant_id, []).append(p.order)
    rows: list[DrugScreen] = []
    results: list[list[DrugScreenResult]] = []
    for ep, start, _oud in screens:
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        orders = by_person.get(ep.participant_id, [])
        day = start + timedelta(days=2)
        end = ep.discharged_on or today
        while day <= end:
            active = [o.catalog_key for o in orders if o.start_date <= day
                      and (o.stop_date is None or o.stop_date >= day)]
            expected = rules.expected_substances(active)
            slip = rng.random()
            found: dict[str, bool] = {s: s in expected for s in PANEL}
            if slip < 0.05 and "buprenorphine" in expected:
                found["buprenorphine"] = False  # missed doses or diversion: flagged
            elif slip < 0.11:
                found[rng.choice(["fentanyl", "cocaine", "cannabinoids", "benzodiazepines"])] = True
            rs = []
            for s, pos in found.items():
                interpretation, caveat = rules.interpret_result(substance=s, positive=pos,
                                                                catalog_keys=active)
                rs.append(DrugScreenResult(substance=s, positive=pos,
                                           interpretation=interpretation, caveat=caveat))
            rows.append(DrugScreen(participant=ep.participant, collected_on=day,
                                   specimen="urine", recorded_by=ctx.staff["nurse"],
                                   has_unexpected=any(r.unexpected for r in rs)))
            results.append(rs)
            day += timedelta(days=7)
    DrugScreen.objects.bulk_create(rows, batch_size=2000)
    flat = []
    for screen, rs in zip(rows, results, strict=True):
        for r in rs:
            r.screen = screen
            flat.append(r)
    DrugScreenResult.objects.bulk_create(flat, batch_size=5000)
    ctx.progress(f"{len(rows)} drug screens ({sum(s.has_unexpected for s in rows)} unexpected)")
