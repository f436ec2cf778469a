"""The claim scrubber: every reason a claim is held, in plain words.

Each check returns Hold(code, message); a claim with no holds is ready to send. The checks
and their sources are listed in docs/billing.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone

from openiop.care.models import EpisodeOfCare

from .. import rules
from ..models import (
    Authorization,
    Claim,
    ClaimLine,
    ClaimStatus,
    Diagnosis,
    DiagnosisRank,
    IopCertification,
)
from .charges import attended_rows, note_covers, signed_notes_for


@dataclass(frozen=True)
class Hold:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


HOLD_LABELS = {
    "unsigned_note": "Unsigned note",
    "no_authorization": "No active authorization",
    "authorization_exhausted": "Authorization used up",
    "diagnosis": "Diagnosis missing or not billable",
    "below_minimum": "Below the payer's minimum",
    "php_overlap": "Overlaps partial hospitalization",
    "coverage_ended": "Coverage not active",
    "duplicate": "Duplicate line",
    "demographics": "Participant details missing",
    "certification": "Medicare certification missing or overdue",
    "no_lines": "Nothing to bill",
}


def _days(days: set[date]) -> str:
    ordered = sorted(days)
    shown = ", ".join(f"{d:%b} {d.day}" for d in ordered[:5])
    return shown + (f" and {len(ordered) - 5} more" if len(ordered) > 5 else "")


def _diagnosis_holds(claim: Claim) -> tuple[list[Hold], list[str]]:
    active = list(Diagnosis.objects.filter(participant_id=claim.participant_id, status="active"))
    principal = next((d for d in active if d.rank == DiagnosisRank.PRINCIPAL), None)
    if principal is None:
        return [Hold("diagnosis", "No principal diagnosis is recorded on the chart.")], []
    if not principal.billable:
        return [Hold("diagnosis", f"The principal diagnosis {principal.icd_code} is a heading, "
                                  "not a billable code: choose a more specific code.")], []
    others = [d.icd_code for d in active if d.pk != principal.pk and d.billable]
    codes = [principal.icd_code, *others[:11]]
    return [], codes


def _note_holds(claim: Claim, lines: list[ClaimLine]) -> list[Hold]:
    rows = attended_rows(claim.organization_id, claim.period_start, claim.period_end,
                         [claim.participant_id])
    notes, entries = signed_notes_for({r["booking__session_id"] for r in rows})
    tz = timezone.get_current_timezone()
    line_days = {ln.service_date for ln in lines}
    unsigned: set[date] = set()
    for r in rows:
        day = r["booking__session__starts_at"].astimezone(tz).date()
        if day in line_days and note_covers(notes, entries, r["booking__session_id"],
                                            claim.participant_id) is None:
            unsigned.add(day)
    if not unsigned:
        return []
    return [Hold("unsigned_note", f"Sessions attended on {_days(unsigned)} have no signed note "
                                  "yet; the day is billed once every note is signed.")]


def _authorization_holds(claim: Claim, lines: list[ClaimLine]) -> list[Hold]:
    payer = claim.coverage.payer
    if not payer.requires_authorization:
        return []
    auths = list(Authorization.objects.filter(coverage_id=claim.coverage_id, status="active"))
    days = {ln.service_date for ln in lines}
    uncovered = {d for d in days if not any(a.covers(d) for a in auths)}
    holds = []
    if uncovered:
        holds.append(Hold("no_authorization", f"No active authorization covers "
                                              f"{_days(uncovered)}."))
    from ..selectors import authorization_usage

    for auth in auths:
        usage = authorization_usage(auth)
        if usage.used > auth.units_approved:
            holds.append(Hold("authorization_exhausted",
                              f"Authorization {auth.reference_number} approved "
                              f"{auth.units_approved} {auth.unit}; {usage.used} have been used."))
    return holds


def _minimum_holds(claim: Claim, lines: list[ClaimLine]) -> list[Hold]:
    payer = claim.coverage.payer
    holds = []
    if payer.rule_set == "per_diem":
        short = {ln.service_date for ln in lines if ln.hcpcs == payer.per_diem_code
                 and ln.charge.minutes < payer.min_minutes_per_day}
        if short:
            holds.append(Hold("below_minimum", f"Attended time on {_days(short)} is below the "
                                               f"payer's {payer.min_minutes_per_day} minutes "
                                               "for a per-diem day."))
    if payer.rule_set == "medicare_iop" and claim.claim_type == "I":
        spec = rules.charge_rules()["medicare_iop"]
        per_day: dict[date, int] = defaultdict(int)
        for ln in lines:
            per_day[ln.service_date] += 1
        few = {d for d, n in per_day.items() if n < spec["min_services_per_day"]}
        if few:
            holds.append(Hold("below_minimum", f"Fewer than {spec['min_services_per_day']} IOP "
                                               f"services on {_days(few)}: Medicare pays no IOP "
                                               "day for these; remove or complete them."))
        episode = (EpisodeOfCare.objects.filter(participant_id=claim.participant_id,
                                                admitted_on__lte=claim.period_end)
                   .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=claim.period_start))
                   .select_related("program").first())
        weekly = spec["weekly_hours_on_plan"]
        if episode is None or episode.program.weekly_hour_minimum < weekly:
            holds.append(Hold("below_minimum", f"The plan of care does not show the {weekly} "
                                               "hours a week Medicare IOP requires."))
    return holds


def _certification_holds(claim: Claim, lines: list[ClaimLine]) -> list[Hold]:
    """Medicare pays IOP days only under a physician's certification, recertified at the
    set interval (42 CFR 424.24(b) and (d)); a day no statement covers is held."""
    if claim.coverage.payer.rule_set != "medicare_iop" or claim.claim_type != "I":
        return []
    certs = list(IopCertification.objects.filter(participant_id=claim.participant_id))
    days = {ln.service_date for ln in lines}
    uncovered = {d for d in days if not any(c.covers(d) for c in certs)}
    if not uncovered:
        return []
    if not certs:
        return [Hold("certification", "No physician certification for Medicare IOP is recorded; "
                                      "record the signed certification on the billing tab.")]
    last = max(c.next_due_on for c in certs)
    return [Hold("certification", f"No physician certification or recertification covers "
                                  f"{_days(uncovered)} (the latest ran to {last:%b} {last.day}); "
                                  "record the recertification on the billing tab.")]


def _php_holds(claim: Claim) -> list[Hold]:
    overlapping = Claim.objects.filter(
        participant_id=claim.participant_id, period_start__lte=claim.period_end,
        period_end__gte=claim.period_start,
    ).exclude(pk=claim.pk).exclude(status=ClaimStatus.VOID)
    php_claim = any("41" in (c.condition_codes or []) for c in overlapping)
    php_episode = EpisodeOfCare.objects.filter(
        participant_id=claim.participant_id, level_of_care="PHP",
        admitted_on__lte=claim.period_end,
    ).filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=claim.period_start)).exists()
    if php_claim or php_episode:
        return [Hold("php_overlap", "The participant was in partial hospitalization during these "
                                    "dates; an IOP claim may not overlap a PHP claim.")]
    return []


def _coverage_holds(claim: Claim, lines: list[ClaimLine]) -> list[Hold]:
    outside = {ln.service_date for ln in lines if not claim.coverage.active_on(ln.service_date)}
    if outside:
        return [Hold("coverage_ended", f"{claim.coverage.payer.name} coverage was not active on "
                                       f"{_days(outside)}.")]
    return []


def _duplicate_holds(claim: Claim, lines: list[ClaimLine]) -> list[Hold]:
    keys = {(ln.service_date, ln.hcpcs) for ln in lines}
    others = ClaimLine.objects.filter(
        claim__participant_id=claim.participant_id,
        service_date__in={d for d, _ in keys}, hcpcs__in={c for _, c in keys},
    ).exclude(claim=claim).exclude(claim__status=ClaimStatus.VOID).values_list(
        "service_date", "hcpcs", "charge__session_id")
    mine = {(ln.service_date, ln.hcpcs, ln.charge.session_id) for ln in lines}
    dupes = {d for d, c, s in others if (d, c, s) in mine}
    if dupes:
        return [Hold("duplicate", f"A line on {_days(dupes)} is already on another claim.")]
    return []


def _demographic_holds(claim: Claim) -> list[Hold]:
    """The 837 needs the patient's street address (2010BA or 2010CA N3/N4) and member id."""
    p = claim.participant
    missing = [label for label, value in (("street address", p.address1), ("city", p.city),
                                          ("state", p.state), ("ZIP code", p.zip_code))
               if not value]
    if not claim.coverage.member_id:
        missing.append("member id")
    if missing:
        return [Hold("demographics", f"The claim needs the participant's {', '.join(missing)}.")]
    return []


def scrub(claim: Claim) -> tuple[list[Hold], list[str]]:
    """All holds for the claim, and the diagnosis codes it would carry (principal first)."""
    lines = list(claim.lines.select_related("charge"))
    if not lines:
        return [Hold("no_lines", "The claim has no lines.")], []
    holds, codes = _diagnosis_holds(claim)
    holds += _note_holds(claim, lines)
    holds += _authorization_holds(claim, lines)
    holds += _minimum_holds(claim, lines)
    holds += _certification_holds(claim, lines)
    if claim.claim_type == "I":
        holds += _php_holds(claim)
    holds += _coverage_holds(claim, lines)
    holds += _duplicate_holds(claim, lines)
    holds += _demographic_holds(claim)
    return holds, codes


def hold_summary(claims: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for claim in claims:
        for hold in claim.holds or []:
            counts[hold["code"]] += 1
    return dict(counts)
