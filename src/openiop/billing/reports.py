"""Reads for the billing office: claim lists, A/R aging, denials, statements, estimates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from openiop.care.models import Enrollment

from . import codes, fees
from .models import (
    Adjustment,
    Charge,
    Claim,
    ClaimPayment,
    ClaimStatus,
    Coverage,
    FinancialProfile,
    PayerKind,
    SlidingFeeSchedule,
)

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant

ZERO = Decimal("0.00")
AGING_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, 10**6))
OUTSTANDING = (ClaimStatus.SENT, ClaimStatus.PARTIAL, ClaimStatus.DENIED)


def claim_counts(organization_id: int) -> dict[str, int]:
    rows = (Claim.objects.filter(organization_id=organization_id).values("status")
            .annotate(n=Count("pk")))
    counts = {s: 0 for s in ClaimStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def claims_list(organization_id: int, status: str = "") -> QuerySet[Claim]:
    qs = Claim.objects.filter(organization_id=organization_id).select_related(
        "participant", "coverage__payer").annotate(line_count=Count("lines"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-period_end", "pk")


def charges_list(organization_id: int, status: str = "") -> QuerySet[Charge]:
    qs = Charge.objects.filter(organization_id=organization_id).select_related(
        "participant", "coverage__payer")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-service_date", "pk")


@dataclass
class AgingRow:
    payer: str
    buckets: list[Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


def ar_aging(organization_id: int, today: date | None = None) -> tuple[list[AgingRow], AgingRow]:
    """Insurance balances of sent claims by payer and days since sent (0-30 … 90+)."""
    today = today or timezone.localdate()
    rows: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * len(AGING_BUCKETS))
    for claim in Claim.objects.filter(organization_id=organization_id,
                                      status__in=OUTSTANDING).select_related("coverage__payer"):
        balance = (claim.total_charge - claim.paid_amount - claim.adjustment_amount
                   - claim.patient_responsibility)
        if balance <= 0:
            continue
        age = (today - (claim.sent_on or claim.period_end)).days
        for i, (_, low, high) in enumerate(AGING_BUCKETS):
            if low <= age <= high or (i == 0 and age < 0):
                rows[claim.coverage.payer.name][i] += balance
                break
    out = [AgingRow(name, values) for name, values in sorted(rows.items())]
    total = AgingRow("All payers", [sum((r.buckets[i] for r in out), ZERO)
                                    for i in range(len(AGING_BUCKETS))])
    return out, total


def aging_chart_spec(total: AgingRow) -> dict[str, Any]:
    return {"type": "bar", "labels": [b[0] for b in AGING_BUCKETS],
            "datasets": [{"label": "Outstanding ($)",
                          "data": [float(v) for v in total.buckets]}],
            "y": {"min": 0, "title": "Dollars"}}


@dataclass
class DenialRow:
    claim: Claim
    reasons: list[str]


DENIALS_SHOWN = 200


def denials(organization_id: int) -> list[DenialRow]:
    """Denied and partly paid claims (oldest first, at most DENIALS_SHOWN) with each
    adjustment reason in words."""
    claims = Claim.objects.filter(
        organization_id=organization_id, status__in=(ClaimStatus.DENIED, ClaimStatus.PARTIAL),
    ).select_related("participant", "coverage__payer").prefetch_related(
        Prefetch("payments", queryset=ClaimPayment.objects.prefetch_related(
            Prefetch("adjustments", queryset=Adjustment.objects.order_by("pk")))))
    out = []
    for claim in claims.order_by("period_end", "pk")[:DENIALS_SHOWN]:
        reasons: list[str] = []
        for payment in claim.payments.all():
            for adj in payment.adjustments.all():
                if adj.group_code == "PR":
                    continue
                text = f"{adj.group_code}-{adj.reason_code}: {codes.carc(adj.reason_code)}"
                text += "".join(f"; {r}: {codes.rarc(r)}" for r in adj.remark_codes)
                if text not in reasons:
                    reasons.append(text)
        out.append(DenialRow(claim, reasons))
    return out


def statement(participant: Participant) -> dict[str, Any]:
    """The participant's share: patient responsibility on claims and self-pay day fees."""
    claims = list(Claim.objects.filter(participant=participant, patient_responsibility__gt=0)
                  .select_related("coverage__payer").order_by("period_start"))
    self_pay = list(Charge.objects.filter(participant=participant,
                                          coverage__payer__kind=PayerKind.SELF_PAY)
                    .exclude(status=Charge.Status.VOID).order_by("service_date"))
    total = (sum((c.patient_responsibility for c in claims), ZERO)
             + sum((c.amount for c in self_pay), ZERO))
    return {"claims": claims, "self_pay": self_pay, "total": total}


@dataclass(frozen=True)
class Estimate:
    per_day: Decimal | None
    days_per_week: int
    weeks: int
    basis: str

    @property
    def total(self) -> Decimal | None:
        return None if self.per_day is None else self.per_day * self.days_per_week * self.weeks


def cost_estimate(participant: Participant, episode: EpisodeOfCare | None, today: date | None = None) -> Estimate:
    """What the program is likely to cost the participant, with the basis in words."""
    today = today or timezone.localdate()
    days = 3
    weeks = 8
    if episode is not None:
        weeks = episode.program.typical_length_weeks
        enrollment = episode.enrollments.filter(status=Enrollment.Status.ACTIVE).select_related("track").first()
        if enrollment is not None:
            days = len(enrollment.track.weekdays) or days
    coverage = (Coverage.objects.filter(participant=participant, effective_on__lte=today)
                .exclude(ends_on__lt=today).select_related("payer").order_by("order").first())
    if coverage is not None and coverage.payer.kind != PayerKind.SELF_PAY:
        if coverage.copay_per_day is not None:
            return Estimate(coverage.copay_per_day, days, weeks,
                            f"your {coverage.payer.name} plan's share of "
                            f"${coverage.copay_per_day} a program day")
        return Estimate(None, days, weeks, f"billed to {coverage.payer.name}; your share "
                                           "depends on your plan's deductible and coinsurance")
    schedule = (SlidingFeeSchedule.objects.filter(program=episode.program).first()
                if episode is not None else None)
    if schedule is None:
        return Estimate(None, days, weeks, "no fee schedule is set; ask the front desk")
    profile = FinancialProfile.objects.filter(participant=participant).first()
    if profile is None:
        return Estimate(schedule.full_fee_per_day, days, weeks,
                        "the full self-pay fee; tell us your household size and income to see "
                        "if a lower fee applies")
    fee = fees.sliding_fee(year=schedule.guideline_year, household_size=profile.household_size,
                           annual_income=profile.annual_income,
                           full_fee=schedule.full_fee_per_day, tiers=schedule.tiers)
    return Estimate(fee.fee_per_day, days, weeks,
                    f"the sliding fee for a household of {profile.household_size} at "
                    f"{fee.percent_of_poverty} % of the {schedule.guideline_year} HHS poverty "
                    "guideline")


def program_cost_summary(program: Any) -> str:
    """A general sentence for the public finder: which payers, and the self-pay range."""
    kinds = set(program.organization.payers.filter(is_active=True).values_list("kind", flat=True))
    labels = [label for value, label in PayerKind.choices
              if value in kinds and value != PayerKind.SELF_PAY]
    parts = []
    if labels:
        parts.append("Accepts " + ", ".join(labels).replace("Commercial", "commercial insurance"))
    schedule = SlidingFeeSchedule.objects.filter(program=program).first()
    if schedule is not None:
        amounts = [Decimal(str(t["fee_per_day"])) for t in schedule.tiers
                   if t.get("fee_per_day") not in (None, "")] + [schedule.full_fee_per_day]
        parts.append(f"self-pay on a sliding fee from ${min(amounts):.0f} to "
                     f"${max(amounts):.0f} a day by household income")
    return "; ".join(parts) + ("." if parts else "")


def charge_totals(organization_id: int) -> dict[str, Any]:
    return Charge.objects.filter(organization_id=organization_id, status=Charge.Status.OPEN) \
        .aggregate(n=Count("pk"), amount=Sum("amount"))
