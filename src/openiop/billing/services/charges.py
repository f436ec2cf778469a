"""Charge capture: attended sessions with signed notes -> charge lines, by payer rules.

Idempotent: every line has a dedupe key (participant, day, what), so running capture again
for the same dates adds only what is new (a note signed since, attendance recorded late).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.clinical.models import GroupNoteEntry, Note, NoteStatus
from openiop.scheduling.models import Attendance

from .. import fees, rules
from ..models import BillingProfile, Charge, ChargeRuleSet, Coverage, PayerKind
from ._common import same_org

SIGNED_NOTE_STATUSES = (NoteStatus.SIGNED, NoteStatus.COSIGNED, NoteStatus.LOCKED)
MAX_CAPTURE_DAYS = 62


@dataclass
class CaptureResult:
    created: int = 0
    already: int = 0
    voided: int = 0  # open lines a day no longer supports (e.g. a same-day E/M signed later)
    days: int = 0
    skipped: list[tuple[int, date, str]] = field(default_factory=list)  # participant id, day, why
    tiers: dict[tuple[int, date], str] = field(default_factory=dict)


def signed_notes_for(session_ids: set[int]) -> tuple[dict[int, tuple[int, int | None]],
                                                     set[tuple[int, int]]]:
    """Signed notes of these sessions: session id -> (note id, participant id or None for a
    group note), and the (note id, participant id) pairs of group-note entries.

    A note awaiting its supervisor's co-signature does not count as signed for billing.
    """
    notes: dict[int, tuple[int, int | None]] = {}
    group_ids = []
    for row in Note.objects.filter(session_id__in=session_ids,
                                   status__in=SIGNED_NOTE_STATUSES).values(
            "pk", "session_id", "participant_id", "kind", "status", "needs_cosignature"):
        if row["status"] == NoteStatus.SIGNED and row["needs_cosignature"]:
            continue
        notes[row["session_id"]] = (row["pk"], row["participant_id"])
        if row["kind"] == "group":
            group_ids.append(row["pk"])
    entries = set(GroupNoteEntry.objects.filter(note_id__in=group_ids)
                  .values_list("note_id", "participant_id"))
    return notes, entries


def note_covers(notes: dict[int, tuple[int, int | None]], entries: set[tuple[int, int]],
                session_id: int, participant_id: int) -> int | None:
    found = notes.get(session_id)
    if found is None:
        return None
    note_id, note_participant = found
    if note_participant == participant_id or (note_id, participant_id) in entries:
        return note_id
    return None


def primary_coverage_on(coverages: list[Coverage], day: date) -> Coverage | None:
    """The coverage billed first on the day: the lowest order, and of two with the same
    order (which the coverage form refuses when they overlap, but older or imported rows
    may hold) the one recorded first, whatever order the rows were read in."""
    for cov in sorted(coverages, key=lambda c: (c.order, c.pk)):
        if cov.active_on(day):
            return cov
    return None


def attended_rows(organization_id: int, start: date, end: date,
                  participant_ids: list[int] | None = None) -> list[Mapping[str, Any]]:
    qs = Attendance.objects.filter(
        status__in=Attendance.ATTENDED,
        booking__session__program__organization_id=organization_id,
        booking__session__starts_at__date__gte=start,
        booking__session__starts_at__date__lte=end,
    )
    if participant_ids is not None:
        qs = qs.filter(booking__participant_id__in=participant_ids)
    return list(qs.values(
        "minutes_attended", "booking__participant_id", "booking__session_id",
        "booking__session__kind", "booking__session__starts_at",
        "booking__session__facilitator_id", "booking__session__program__focus",
    ))


def capture_charges(*, actor: User, organization: Any, start: date, end: date,
                    participant_ids: list[int] | None = None,
                    request: HttpRequest | None = None) -> CaptureResult:
    require_perm(actor, Perm.BILLING_MANAGE)
    same_org(actor, organization.pk)
    if end < start:
        raise ValidationError({"end": "The end date is before the start date."})
    if (end - start).days >= MAX_CAPTURE_DAYS:
        raise ValidationError({"end": f"Capture at most {MAX_CAPTURE_DAYS} days at a time."})
    if end > timezone.localdate():
        raise ValidationError({"end": "Charges are captured only for days that have passed."})
    result = CaptureResult()
    rows = attended_rows(organization.pk, start, end, participant_ids)
    notes, entries = signed_notes_for({r["booking__session_id"] for r in rows})
    by_day: dict[tuple[int, date], list[Mapping[str, Any]]] = defaultdict(list)
    tz = timezone.get_current_timezone()
    for r in rows:
        day = r["booking__session__starts_at"].astimezone(tz).date()
        by_day[(r["booking__participant_id"], day)].append(r)
    coverages: dict[int, list[Coverage]] = defaultdict(list)
    for cov in Coverage.objects.filter(participant_id__in={p for p, _ in by_day}).select_related(
            "payer").order_by("participant_id", "order", "pk"):
        coverages[cov.participant_id].append(cov)
    profile = BillingProfile.objects.filter(organization=organization).first()
    clinic_rates = profile.standard_rates if profile else {}
    self_pay_fee = _self_pay_fees({p for p, _ in by_day})
    existing: dict[str, tuple[int, str]] = {}  # key -> (pk, status), void lines left out
    open_by_day: dict[tuple[int, date], set[str]] = defaultdict(set)
    for pk, pid, day, key, status in Charge.objects.filter(
            organization=organization, service_date__gte=start, service_date__lte=end,
    ).exclude(status=Charge.Status.VOID).values_list(
            "pk", "participant_id", "service_date", "dedupe_key", "status"):
        existing[key] = (pk, status)
        if status == Charge.Status.OPEN:
            open_by_day[(pid, day)].add(key)
    new: list[Charge] = []
    void_ids: list[int] = []
    for (participant_id, day), day_rows in sorted(by_day.items(), key=lambda kv: kv[0]):
        result.days += 1
        coverage = primary_coverage_on(coverages[participant_id], day)
        if coverage is None:
            result.skipped.append((participant_id, day, "no coverage on this day"))
            continue
        payer = coverage.payer
        services = [rules.Service(
            session_id=r["booking__session_id"], kind=r["booking__session__kind"],
            minutes=r["minutes_attended"], provider_id=r["booking__session__facilitator_id"],
            note_id=(nid := note_covers(notes, entries, r["booking__session_id"], participant_id)),
            note_signed=nid is not None) for r in day_rows]
        focus = day_rows[0]["booking__session__program__focus"]
        outcome = rules.day_lines(rule_set=payer.rule_set, focus=focus, services=services,
                                  per_diem_code=payer.per_diem_code,
                                  min_minutes_per_day=payer.min_minutes_per_day)
        service_day = day
        if outcome.tier:
            result.tiers[(participant_id, service_day)] = outcome.tier
        result.skipped.extend((participant_id, service_day, why) for why in outcome.skipped)
        keys = {f"{participant_id}:{service_day.isoformat()}:{line.key}" for line in outcome.lines}
        # The day is computed whole: an open line the day no longer yields is voided (a
        # psychotherapy code becomes the E/M add-on once the same-day E/M is signed).
        void_ids += [existing[k][0] for k in open_by_day.get((participant_id, service_day), set())
                     - keys]
        for line in outcome.lines:
            key = f"{participant_id}:{service_day.isoformat()}:{line.key}"
            if key in existing:
                result.already += 1
                continue
            if payer.rule_set == ChargeRuleSet.SELF_PAY:
                amount = self_pay_fee.get(participant_id, Decimal("0.00"))
            else:
                amount = rules.rate_for(line.hcpcs, payer_rates=payer.rates,
                                        clinic_rates=clinic_rates) * line.units
            new.append(Charge(
                organization=organization, participant_id=participant_id, coverage=coverage,
                session_id=line.session_id, note_id=line.note_id, service_date=service_day,
                claim_type=line.claim_type, revenue_code=line.revenue_code, hcpcs=line.hcpcs,
                units=line.units, minutes=line.minutes, amount=amount, rule=line.rule[:80],
                rendering_provider_id=line.provider_id, dedupe_key=key,
            ))
    with transaction.atomic():
        for pk in void_ids:  # rare; the key is freed so the line can come back later
            Charge.objects.filter(pk=pk).update(status=Charge.Status.VOID,
                                                dedupe_key=f"void:{pk}")
        Charge.objects.bulk_create(new, batch_size=2000)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.CHARGE_CAPTURE,
                     object_id=f"{start}..{end}", organization=organization, request=request,
                     reason=f"{len(new)} charge lines")
    result.created = len(new)
    result.voided = len(void_ids)
    return result


def _self_pay_fees(participant_ids: set[int]) -> dict[int, Decimal]:
    """Each self-pay participant's sliding fee per day (their program's schedule, or full)."""
    from openiop.care.models import EpisodeOfCare

    from ..models import FinancialProfile, SlidingFeeSchedule

    self_pay = set(Coverage.objects.filter(participant_id__in=participant_ids,
                                           payer__kind=PayerKind.SELF_PAY)
                   .values_list("participant_id", flat=True))
    if not self_pay:
        return {}
    profiles = {p.participant_id: p for p in FinancialProfile.objects.filter(
        participant_id__in=self_pay)}
    programs = dict(EpisodeOfCare.objects.filter(participant_id__in=self_pay,
                                                 status__in=EpisodeOfCare.OPEN_STATUSES)
                    .values_list("participant_id", "program_id"))
    schedules = {s.program_id: s for s in SlidingFeeSchedule.objects.filter(
        program_id__in=set(programs.values()))}
    out = {}
    for pid in self_pay:
        program_id = programs.get(pid)
        schedule = schedules.get(program_id) if program_id is not None else None
        profile = profiles.get(pid)
        if schedule is None:
            out[pid] = Decimal("0.00")
        elif profile is None:
            out[pid] = schedule.full_fee_per_day
        else:
            out[pid] = fees.sliding_fee(
                year=schedule.guideline_year, household_size=profile.household_size,
                annual_income=profile.annual_income, full_fee=schedule.full_fee_per_day,
                tiers=schedule.tiers).fee_per_day
    return out


def last_full_day() -> date:
    return timezone.localdate() - timedelta(days=1)
