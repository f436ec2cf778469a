"""The claim scrubber: every reason a claim is held, in plain words.

Each check returns Hold(code, message); a claim with no holds is ready to send. The checks
and their sources are listed in docs/billing.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

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
    DiagnosisStatus,
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


@dataclass
class ScrubData:
    """Everything the checks read for a set of claims, loaded with a fixed number of
    queries whatever the number of claims (a batch is scrubbed as cheaply as one claim)."""

    lines: dict[int, list[ClaimLine]]  # claim id -> lines (with their charge)
    diagnoses: dict[int, list[Diagnosis]]  # participant id -> active diagnoses
    attended: dict[int, list[Mapping[str, Any]]]  # participant id -> attended rows
    notes: dict[int, tuple[int, int | None]]
    entries: set[tuple[int, int]]
    auths: dict[int, list[tuple[Authorization, Any]]]  # coverage id -> (auth, usage)
    episodes: dict[int, list[EpisodeOfCare]]  # participant id -> episodes, latest first
    certs: dict[int, list[IopCertification]]  # participant id -> certifications
    claims: dict[int, list[tuple[int, date, date, list[str]]]]  # participant -> other claims
    other_lines: dict[int, list[tuple[int, date, str, int | None]]]  # participant -> lines

    @classmethod
    def load(cls, claims: list[Claim]) -> ScrubData:
        from ..selectors import authorizations_with_usage

        if not claims:
            return cls({}, {}, {}, {}, set(), {}, {}, {}, {}, {})
        people = {c.participant_id for c in claims}
        start = min(c.period_start for c in claims)
        end = max(c.period_end for c in claims)
        lines: dict[int, list[ClaimLine]] = defaultdict(list)
        for ln in ClaimLine.objects.filter(claim__in=[c.pk for c in claims]).select_related(
                "charge").order_by("claim_id", "line_number"):
            lines[ln.claim_id].append(ln)
        diagnoses: dict[int, list[Diagnosis]] = defaultdict(list)
        for dx in Diagnosis.objects.filter(participant_id__in=people,
                                              status=DiagnosisStatus.ACTIVE).order_by(
                "rank", "recorded_at", "pk"):
            diagnoses[dx.participant_id].append(dx)
        attended: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
        rows = attended_rows(claims[0].organization_id, start, end, list(people))
        for r in rows:
            attended[r["booking__participant_id"]].append(r)
        notes, entries = signed_notes_for({r["booking__session_id"] for r in rows})
        auth_list = list(Authorization.objects.filter(
            coverage_id__in={c.coverage_id for c in claims}, status=Authorization.Status.ACTIVE,
        ).select_related("coverage").order_by("starts_on", "pk"))
        auths: dict[int, list[tuple[Authorization, Any]]] = defaultdict(list)
        for auth, usage in authorizations_with_usage(auth_list):
            auths[auth.coverage_id].append((auth, usage))
        episodes: dict[int, list[EpisodeOfCare]] = defaultdict(list)
        for ep in EpisodeOfCare.objects.filter(participant_id__in=people).select_related(
                "program").order_by("-admitted_on", "pk"):
            episodes[ep.participant_id].append(ep)
        certs: dict[int, list[IopCertification]] = defaultdict(list)
        for cert in IopCertification.objects.filter(participant_id__in=people).order_by("pk"):
            certs[cert.participant_id].append(cert)
        others: dict[int, list[tuple[int, date, date, list[str]]]] = defaultdict(list)
        for pk, pid, first, last, codes in Claim.objects.filter(
                participant_id__in=people).exclude(status=ClaimStatus.VOID).values_list(
                "pk", "participant_id", "period_start", "period_end", "condition_codes"):
            others[pid].append((pk, first, last, codes or []))
        days = {ln.service_date for group in lines.values() for ln in group}
        codes = {ln.hcpcs for group in lines.values() for ln in group}
        other_lines: dict[int, list[tuple[int, date, str, int | None]]] = defaultdict(list)
        for claim_id, pid, day, hcpcs, session_id in ClaimLine.objects.filter(
                claim__participant_id__in=people, service_date__in=days, hcpcs__in=codes,
        ).exclude(claim__status=ClaimStatus.VOID).values_list(
                "claim_id", "claim__participant_id", "service_date", "hcpcs",
                "charge__session_id"):
            other_lines[pid].append((claim_id, day, hcpcs, session_id))
        return cls(lines, diagnoses, attended, notes, entries, auths, episodes, certs, others,
                   other_lines)


def _overlaps(first: date, last: date, claim: Claim) -> bool:
    return first <= claim.period_end and last >= claim.period_start


def _diagnosis_holds(claim: Claim, data: ScrubData) -> tuple[list[Hold], list[str]]:
    active = data.diagnoses.get(claim.participant_id, [])
    principal = next((d for d in active if d.rank == DiagnosisRank.PRINCIPAL), None)
    if principal is None:
        return [Hold("diagnosis", "No principal diagnosis is recorded on the chart.")], []
    if not principal.billable:
        return [Hold("diagnosis", f"The principal diagnosis {principal.icd_code} is a heading, "
                                  "not a billable code: choose a more specific code.")], []
    others = [d.icd_code for d in active if d.pk != principal.pk and d.billable]
    codes = [principal.icd_code, *others[:11]]
    return [], codes


def _note_holds(claim: Claim, lines: list[ClaimLine], data: ScrubData) -> list[Hold]:
    tz = timezone.get_current_timezone()
    line_days = {ln.service_date for ln in lines}
    unsigned: set[date] = set()
    for r in data.attended.get(claim.participant_id, []):
        day = r["booking__session__starts_at"].astimezone(tz).date()
        if not claim.period_start <= day <= claim.period_end:
            continue
        if day in line_days and note_covers(data.notes, data.entries, r["booking__session_id"],
                                            claim.participant_id) is None:
            unsigned.add(day)
    if not unsigned:
        return []
    return [Hold("unsigned_note", f"Sessions attended on {_days(unsigned)} have no signed note "
                                  "yet; the day is billed once every note is signed.")]


def _authorization_holds(claim: Claim, lines: list[ClaimLine], data: ScrubData) -> list[Hold]:
    payer = claim.coverage.payer
    if not payer.requires_authorization:
        return []
    auths = data.auths.get(claim.coverage_id, [])
    days = {ln.service_date for ln in lines}
    uncovered = {d for d in days if not any(a.covers(d) for a, _ in auths)}
    holds = []
    if uncovered:
        holds.append(Hold("no_authorization", f"No active authorization covers "
                                              f"{_days(uncovered)}."))
    for auth, usage in auths:
        if usage.used > auth.units_approved:
            holds.append(Hold("authorization_exhausted",
                              f"Authorization {auth.reference_number} approved "
                              f"{auth.units_approved} {auth.unit}; {usage.used} have been used."))
    return holds


def _minimum_holds(claim: Claim, lines: list[ClaimLine], data: ScrubData) -> list[Hold]:
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
        # The latest admission open during the claim's dates.
        episode = next((ep for ep in data.episodes.get(claim.participant_id, [])
                        if ep.admitted_on <= claim.period_end and (
                            ep.discharged_on is None or ep.discharged_on >= claim.period_start)),
                       None)
        weekly = spec["weekly_hours_on_plan"]
        if episode is None or episode.program.weekly_hour_minimum < weekly:
            holds.append(Hold("below_minimum", f"The plan of care does not show the {weekly} "
                                               "hours a week Medicare IOP requires."))
    return holds


def _certification_holds(claim: Claim, lines: list[ClaimLine], data: ScrubData) -> list[Hold]:
    """Medicare pays IOP days only under a physician's certification, recertified at the
    set interval (42 CFR 424.24(b) and (d)); a day no statement covers is held."""
    if claim.coverage.payer.rule_set != "medicare_iop" or claim.claim_type != "I":
        return []
    certs = data.certs.get(claim.participant_id, [])
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


def _php_holds(claim: Claim, data: ScrubData) -> list[Hold]:
    php_claim = any("41" in codes for pk, first, last, codes in
                    data.claims.get(claim.participant_id, [])
                    if pk != claim.pk and _overlaps(first, last, claim))
    php_episode = any(
        ep.level_of_care == "PHP" and ep.admitted_on <= claim.period_end and (
            ep.discharged_on is None or ep.discharged_on >= claim.period_start)
        for ep in data.episodes.get(claim.participant_id, []))
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


def _duplicate_holds(claim: Claim, lines: list[ClaimLine], data: ScrubData) -> list[Hold]:
    mine = {(ln.service_date, ln.hcpcs, ln.charge.session_id) for ln in lines}
    dupes = {d for claim_id, d, c, s in data.other_lines.get(claim.participant_id, [])
             if claim_id != claim.pk and (d, c, s) in mine}
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


def scrub_with(claim: Claim, data: ScrubData) -> tuple[list[Hold], list[str]]:
    """All holds for the claim, and the diagnosis codes it would carry (principal first);
    reads only `data` and the claim's participant and coverage (with its payer)."""
    lines = data.lines.get(claim.pk, [])
    if not lines:
        return [Hold("no_lines", "The claim has no lines.")], []
    holds, codes = _diagnosis_holds(claim, data)
    holds += _note_holds(claim, lines, data)
    holds += _authorization_holds(claim, lines, data)
    holds += _minimum_holds(claim, lines, data)
    holds += _certification_holds(claim, lines, data)
    if claim.claim_type == "I":
        holds += _php_holds(claim, data)
    holds += _coverage_holds(claim, lines)
    holds += _duplicate_holds(claim, lines, data)
    holds += _demographic_holds(claim)
    return holds, codes


def scrub(claim: Claim) -> tuple[list[Hold], list[str]]:
    """All holds for one claim, and the diagnosis codes it would carry (principal first)."""
    return scrub_with(claim, ScrubData.load([claim]))


def hold_summary(claims: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for claim in claims:
        for hold in claim.holds or []:
            counts[hold["code"]] += 1
    return dict(counts)
