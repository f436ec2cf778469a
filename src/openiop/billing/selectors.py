"""Reads for billing: diagnoses, the face sheet, coverage, authorization use and warnings.

Other apps call these (the worklist calls `authorization_warnings`, the FHIR app
`condition_rows`); each read of a participant's clinical facts by a billing user goes through
`may_read_billing` (the one access decision: role permission + same organization).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.permissions import Perm, has_perm
from openiop.scheduling.models import Attendance, Booking, Session

from .models import Authorization, Coverage, Diagnosis, DiagnosisStatus

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant

REVIEW_DUE_DAYS = 3  # warn this many days before a concurrent review (chart, billing office)
UNITS_WARNING_PERCENT = 80
# "Ends soon" a week before the last covered day: payers under the CMS Interoperability and
# Prior Authorization final rule (CMS-0057-F, 89 FR 8758, 2024) have up to 7 calendar days to
# decide a standard request, so a continued-stay request made later may not be decided before
# the authorization ends.
AUTH_ENDING_DAYS = 7
LOOKAHEAD_DAYS = 14  # scheduled sessions checked against authorizations
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"


def may_read_billing(user: User, participant: Participant) -> bool:
    """The one access decision for billing reads of a participant."""
    return (has_perm(user, Perm.BILLING_VIEW)
            and getattr(user, "staff_organization_id", None) == participant.organization_id)


def may_view_diagnoses(user: User) -> bool:
    return has_perm(user, Perm.CLINICAL_VIEW) or has_perm(user, Perm.BILLING_VIEW)


# --- diagnoses -------------------------------------------------------------------------

def diagnoses_for(participant: Participant, *, include_inactive: bool = False) -> list[Diagnosis]:
    qs = Diagnosis.objects.filter(participant=participant).select_related("recorded_by")
    if not include_inactive:
        qs = qs.filter(status=DiagnosisStatus.ACTIVE)
    return sorted(qs, key=lambda d: (d.status != DiagnosisStatus.ACTIVE, d.rank != "principal", d.recorded_at))


def condition_rows(participant: Participant) -> list[dict[str, Any]]:
    """Plain dicts for a FHIR R4 Condition per diagnosis (category encounter-diagnosis)."""
    clinical = {"active": "active", "resolved": "resolved"}
    rows = []
    for dx in diagnoses_for(participant, include_inactive=True):
        rows.append({
            "id": str(dx.code),
            "system": ICD10CM_SYSTEM,
            "version": dx.code_set_version,
            "code": dx.icd_code,
            "display": dx.description,
            "clinical_status": clinical.get(dx.status, ""),
            "verification_status": ("entered-in-error" if dx.status == DiagnosisStatus.ENTERED_IN_ERROR
                                    else "confirmed"),
            "category": "encounter-diagnosis",
            "rank": 1 if dx.rank == "principal" else 2,
            "onset": dx.onset_on,
            "abatement": dx.resolved_on,
            "recorded": dx.recorded_at,
            "recorder": dx.recorded_by.get_full_name() if dx.recorded_by_id else "",
        })
    return rows


# --- coverage and authorizations -------------------------------------------------------

def coverages_for(participant: Participant, *, on: date | None = None) -> list[Coverage]:
    qs = Coverage.objects.filter(participant=participant).select_related("payer")
    if on is not None:
        qs = qs.filter(effective_on__lte=on).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
    return list(qs.order_by("order", "-effective_on"))


@dataclass(frozen=True)
class Usage:
    used: int
    approved: int

    @property
    def percent(self) -> int:
        return round(100 * self.used / self.approved) if self.approved else 0

    @property
    def remaining(self) -> int:
        return max(self.approved - self.used, 0)


def _attended(participant_ids: set[int], start: date, end: date) -> dict[int, list[Any]]:
    """participant id -> start datetimes of attended sessions between the dates (live)."""
    rows = Attendance.objects.filter(
        booking__participant_id__in=participant_ids, status__in=Attendance.ATTENDED,
        booking__session__starts_at__date__gte=start, booking__session__starts_at__date__lte=end,
    ).values_list("booking__participant_id", "booking__session__starts_at")
    out: dict[int, list[Any]] = defaultdict(list)
    for pid, starts in rows:
        out[pid].append(starts)
    return out


def _count(auth: Authorization, starts: list[Any]) -> int:
    tz = timezone.get_current_timezone()
    days = [s.astimezone(tz).date() for s in starts]
    days = [d for d in days if auth.starts_on <= d <= auth.ends_on]
    return len(set(days)) if auth.unit == Authorization.Unit.DAYS else len(days)


def authorization_usage(auth: Authorization) -> Usage:
    """Units used so far, counted from recorded attendance (days or sessions)."""
    attended = _attended({auth.coverage.participant_id}, auth.starts_on, auth.ends_on)
    return Usage(_count(auth, attended.get(auth.coverage.participant_id, [])),
                 auth.units_approved)


def authorizations_with_usage(auths: list[Authorization]) -> list[tuple[Authorization, Usage]]:
    """Usage for many authorizations with one attendance query."""
    if not auths:
        return []
    start = min(a.starts_on for a in auths)
    end = max(a.ends_on for a in auths)
    attended = _attended({a.coverage.participant_id for a in auths}, start, end)
    return [(a, Usage(_count(a, attended.get(a.coverage.participant_id, [])), a.units_approved))
            for a in auths]


@dataclass(frozen=True)
class AuthWarning:
    kind: str  # review_due | units_80 | outside_authorization | ends_soon
    participant_code: str
    participant_name: str
    message: str
    due: date | None
    url: str  # the authorization's row on the Billing tab (the tab itself when none covers)
    reference: str = ""  # the authorization's reference number, when there is one
    authorization_code: str = ""  # the authorization's code, when the warning is about one


def authorization_warnings(*, organization_id: int, today: date | None = None,
                           participant: Participant | None = None,
                           review_within_days: int = REVIEW_DUE_DAYS,
                           ending_within_days: int | None = None) -> list[AuthWarning]:
    """Warnings for a worklist ("My work") or a chart: a concurrent review due within
    `review_within_days`, 80 % of units used, a session booked in the next LOOKAHEAD_DAYS on
    a day no active authorization covers (for payers that require one); with
    `ending_within_days`, also an authorization ending within that many days (the periodic
    notice to the billing office asks for it). Four queries."""
    today = today or timezone.localdate()
    auths = Authorization.objects.filter(
        status=Authorization.Status.ACTIVE, coverage__participant__organization_id=organization_id,
        ends_on__gte=today - timedelta(days=1),
    ).select_related("coverage__participant", "coverage__payer")
    if participant is not None:
        auths = auths.filter(coverage__participant=participant)
    auth_list = list(auths)
    warnings: list[AuthWarning] = []

    def url(p: Any) -> str:
        return reverse("billing:participant_billing", kwargs={"code": p.code})

    for auth, usage in authorizations_with_usage(auth_list):
        p = auth.coverage.participant
        row = f"{url(p)}#auth-{auth.code}"
        if auth.review_on and today <= auth.review_on <= today + timedelta(
                days=review_within_days):
            warnings.append(AuthWarning(
                "review_due", str(p.code), p.display_name,
                f"Concurrent review for authorization {auth.reference_number} is due "
                f"{auth.review_on:%b} {auth.review_on.day}.", auth.review_on, row,
                auth.reference_number, str(auth.code)))
        if usage.percent >= UNITS_WARNING_PERCENT:
            warnings.append(AuthWarning(
                "units_80", str(p.code), p.display_name,
                f"{usage.used} of {usage.approved} {auth.unit} used ({usage.percent} %) on "
                f"authorization {auth.reference_number}.", auth.ends_on, row,
                auth.reference_number, str(auth.code)))
        if ending_within_days is not None and today <= auth.ends_on <= today + timedelta(
                days=ending_within_days):
            warnings.append(AuthWarning(
                "ends_soon", str(p.code), p.display_name,
                f"Authorization {auth.reference_number} ends {auth.ends_on:%b} "
                f"{auth.ends_on.day}.", auth.ends_on, row, auth.reference_number,
                str(auth.code)))
    warnings += _outside_authorization(organization_id, today, auth_list, participant, url)
    return sorted(warnings, key=lambda w: (w.due or today, w.participant_name))


def _outside_authorization(organization_id: int, today: date, auths: list[Authorization],
                           participant: Participant | None, url: Any) -> list[AuthWarning]:
    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    coverages = Coverage.objects.filter(
        participant__organization_id=organization_id, payer__requires_authorization=True,
        effective_on__lte=horizon,
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today)).select_related("participant")
    if participant is not None:
        coverages = coverages.filter(participant=participant)
    needs = {c.participant_id: c for c in coverages if c.order == Coverage.Order.PRIMARY}
    if not needs:
        return []
    by_coverage: dict[int, list[Authorization]] = defaultdict(list)
    for a in auths:
        by_coverage[a.coverage_id].append(a)
    bookings = Booking.objects.filter(
        participant_id__in=needs.keys(), status=Booking.Status.BOOKED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__date__gte=today, session__starts_at__date__lte=horizon,
    ).values_list("participant_id", "session__starts_at")
    tz = timezone.get_current_timezone()
    uncovered: dict[int, set[date]] = defaultdict(set)
    for pid, starts in bookings:
        day = starts.astimezone(tz).date()
        cov = needs[pid]
        if cov.active_on(day) and not any(a.covers(day) for a in by_coverage[cov.pk]):
            uncovered[pid].add(day)
    out = []
    for pid, days in uncovered.items():
        p = needs[pid].participant
        first = min(days)
        out.append(AuthWarning(
            "outside_authorization", str(p.code), p.display_name,
            f"{len(days)} scheduled day{'s' if len(days) > 1 else ''} from {first:%b} {first.day} "
            "fall outside any active authorization.", first, f"{url(p)}#auth-head"))
    return out


def chart_flags(participant: Participant, episode: EpisodeOfCare | None) -> list:
    """Chart header flags: authorization warnings for this participant."""
    from openiop.core.chart import Flag

    flags = []
    for w in authorization_warnings(organization_id=participant.organization_id,
                                    participant=participant):
        label = {"review_due": "Authorization review due", "units_80": "Authorization 80 % used",
                 "outside_authorization": "Sessions outside authorization",
                 "ends_soon": "Authorization ends soon"}[w.kind]
        flags.append(Flag(label, "warn", w.message))
    return flags


CERT_DUE_DAYS = 7  # warn this many days before a Medicare IOP recertification is due


def medicare_iop_episodes(*, organization_id: int, today: date,
                          participant: Participant | None = None) -> list[Any]:
    """Open IOP episodes whose participant has Medicare coverage active today, with
    `.certifications` (latest first). Three queries."""
    from openiop.care.models import EpisodeOfCare

    from .models import ChargeRuleSet, IopCertification

    covered = Coverage.objects.filter(
        participant__organization_id=organization_id, payer__rule_set=ChargeRuleSet.MEDICARE_IOP,
        effective_on__lte=today).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    episodes = EpisodeOfCare.objects.filter(
        participant__organization_id=organization_id, level_of_care="IOP",
        status__in=EpisodeOfCare.OPEN_STATUSES, admitted_on__lte=today,
        participant_id__in=covered.values("participant_id"),
    ).select_related("participant").order_by("admitted_on", "pk")
    if participant is not None:
        episodes = episodes.filter(participant=participant)
    episode_list = list(episodes)
    certs: dict[int, list[IopCertification]] = defaultdict(list)
    for cert in (IopCertification.objects.filter(episode__in=episode_list)
                 .select_related("certified_by").order_by("-next_due_on", "-pk")):
        certs[cert.episode_id].append(cert)
    for ep in episode_list:
        ep.certifications = certs[ep.pk]  # type: ignore[attr-defined]  # for the page
    return episode_list


@dataclass(frozen=True)
class CertWarning:
    kind: str  # missing | overdue | due_soon
    participant_code: str
    participant_name: str
    message: str
    due: date
    url: str


def certification_warnings(*, organization_id: int, today: date | None = None,
                           participant: Participant | None = None) -> list[CertWarning]:
    """Medicare IOP certifications missing, overdue, or due within CERT_DUE_DAYS
    (42 CFR 424.24(d)); for "My work" and the chart. Three queries."""
    today = today or timezone.localdate()
    out = []
    for ep in medicare_iop_episodes(organization_id=organization_id, today=today,
                                    participant=participant):
        p = ep.participant
        url = reverse("billing:participant_billing", kwargs={"code": p.code})
        latest = ep.certifications[0] if ep.certifications else None
        if latest is None:
            out.append(CertWarning("missing", str(p.code), p.display_name,
                                   "No physician certification for Medicare IOP is recorded "
                                   f"(admitted {ep.admitted_on:%b} {ep.admitted_on.day}).",
                                   ep.admitted_on, url))
        elif latest.next_due_on < today:
            out.append(CertWarning("overdue", str(p.code), p.display_name,
                                   "Medicare IOP recertification was due "
                                   f"{latest.next_due_on:%b} {latest.next_due_on.day}.",
                                   latest.next_due_on, url))
        elif latest.next_due_on <= today + timedelta(days=CERT_DUE_DAYS):
            out.append(CertWarning("due_soon", str(p.code), p.display_name,
                                   "Medicare IOP recertification is due "
                                   f"{latest.next_due_on:%b} {latest.next_due_on.day}.",
                                   latest.next_due_on, url))
    return sorted(out, key=lambda w: (w.due, w.participant_name))
