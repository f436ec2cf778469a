"""Demo data for billing: the billing profile, payers, coverages, diagnoses, authorizations
(some near their end or review), a month of charges captured by the real rules, claims in
every state, 837 batches and one posted 835. Deterministic (ctx.rng) and relative to
ctx.today; bulk inserts for anything per participant, and claims for a bounded sample so
the step stays fast at 5,000 participants."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from openiop.care.models import EpisodeOfCare
from openiop.demo.generator import DemoContext

from . import fees, icd10, services
from .models import (
    Authorization,
    BillingProfile,
    Claim,
    ClaimStatus,
    Coverage,
    Diagnosis,
    FinancialProfile,
    Payer,
    SlidingFeeSchedule,
)
from .x12.remit import Adj, ClaimRemit, Remit, ServicePayment, write_835

CLAIM_SAMPLE = 160  # participants whose charges become claims in the demo
DIAGNOSES = {  # program focus -> (principal, secondaries to pick from)
    "mh": (["F33.1", "F32.1", "F41.1", "F43.10", "F31.81"], ["F41.1", "Z63.0", "F51.01"]),
    "su": (["F10.20", "F11.20", "F12.20", "F15.20"], ["F17.210", "F41.1", "Z59.00"]),
    "co": (["F33.1", "F10.20", "F11.20", "F43.10"], ["F10.20", "F41.1", "F17.210"]),
}


def build(ctx: DemoContext) -> None:
    shared = rng = ctx.rng
    today = ctx.today
    org = ctx.organization
    biller = ctx.staff["billing"]
    clinician = ctx.staff["clinician"]
    BillingProfile.objects.create(
        organization=org, legal_name=org.name[:60], npi="1234567893", tax_id="981234567",
        address1=ctx.sites[0].address1 or "100 Main St", city=ctx.sites[0].city or "Columbus",
        state=ctx.sites[0].state or "OH", zip_code=(ctx.sites[0].zip_code or "43215") + "0001",
        submitter_id="OPENIOPDEMO", contact_phone="6145550100",
        attending=ctx.staff.get("prescriber"))
    medicare = Payer.objects.create(organization=org, name="Medicare (J15 MAC)", kind="medicare",
                                    payer_id="15202", rule_set="medicare_iop",
                                    requires_authorization=False)
    medicaid = Payer.objects.create(organization=org, name="Buckeye Medicaid Plan",
                                    kind="medicaid", payer_id="MCDOH", rule_set="professional",
                                    requires_authorization=False)
    commercial = Payer.objects.create(organization=org, name="Acme Health PPO",
                                      kind="commercial", payer_id="60054", rule_set="per_diem",
                                      per_diem_code="S9480", min_minutes_per_day=180)
    commercial_su = Payer.objects.create(organization=org, name="Lakeshore Behavioral Plan",
                                         kind="commercial", payer_id="LBH01",
                                         rule_set="per_diem", per_diem_code="H0015",
                                         min_minutes_per_day=180)
    self_pay = Payer.objects.create(organization=org, name="Self-pay", kind="self_pay",
                                    rule_set="self_pay", requires_authorization=False)
    SlidingFeeSchedule.objects.bulk_create([
        SlidingFeeSchedule(program=p, guideline_year=fees.DEFAULT_GUIDELINE_YEAR,
                           full_fee_per_day=Decimal("300.00"), tiers=fees.DEFAULT_TIERS)
        for p in ctx.programs.values()])

    episodes = {ep.participant_id: ep for ep in ctx.episodes}
    demo_person = ctx.extra.get("demo_participant")
    coverages: list[Coverage] = []
    profiles: list[FinancialProfile] = []
    diagnoses: list[Diagnosis] = []
    for p in ctx.participants:
        rng = ctx.rng_for(p.pk, default=shared)  # a featured persona's own
        ep = episodes.get(p.pk)
        focus = ep.program.focus if ep else "mh"
        roll = rng.random()
        if p.age_on(ctx.today) >= 65 or roll < 0.2:
            payer = medicare
        elif roll < 0.45:
            payer = medicaid
        elif roll < 0.9:
            payer = commercial_su if focus == "su" else commercial
        else:
            payer = self_pay
        if demo_person is not None and p.pk == demo_person.pk:
            payer = commercial
        start = (ep.admitted_on if ep else today) - timedelta(days=rng.randint(30, 400))
        coverages.append(Coverage(
            participant=p, payer=payer, order=1, effective_on=start,
            member_id="" if payer is self_pay else f"{payer.payer_id[:3]}{rng.randint(10**7, 10**8 - 1)}",
            group_number="" if payer.kind != "commercial" else f"G{rng.randint(1000, 9999)}",
            copay_per_day=Decimal(rng.choice(["20.00", "35.00", "50.00"]))
            if payer.kind == "commercial" else None, created_by=biller))
        if payer is self_pay:
            profiles.append(FinancialProfile(participant=p, household_size=rng.randint(1, 5),
                                             annual_income=Decimal(rng.randint(9, 70) * 1000)))
        if ep is not None:
            principals, extras = DIAGNOSES.get(focus, DIAGNOSES["mh"])
            codes = [rng.choice(principals)]
            extra = rng.choice(extras)
            if rng.random() < 0.6 and extra not in codes:
                codes.append(extra)
            for rank, code in zip(("principal", "secondary"), codes, strict=False):
                found = icd10.lookup(code)
                assert found is not None, code
                diagnoses.append(Diagnosis(
                    participant=p, icd_code=found.code, description=found.description,
                    code_set_version=icd10.CODE_SET_VERSION, billable=found.billable, rank=rank,
                    onset_on=ep.admitted_on - timedelta(days=rng.randint(60, 900)),
                    recorded_by=ep.primary_therapist or clinician))
    ctx.bulk_create(coverages, label="coverages")
    ctx.bulk_create(profiles, label="financial profiles")
    ctx.bulk_create(diagnoses, label="diagnoses")
    _authorizations(ctx, coverages, episodes)
    _certifications(ctx, coverages, episodes, medicare, biller)
    _charges_and_claims(ctx, biller)


def _certifications(ctx: DemoContext, coverages: list[Coverage], episodes: dict, medicare: Any,
                    biller: Any) -> None:
    """Medicare IOP certification logs: most current, some due this week, a few missing."""
    from .models import IopCertification

    doctors = services.certification.physicians(ctx.organization.pk)
    if not doctors:
        return
    shared = rng = ctx.rng
    today = ctx.today
    interval = services.certification.recertification_days(ctx.organization.pk)
    rows: list[IopCertification] = []
    for cov in coverages:
        rng = ctx.rng_for(cov.participant_id, default=shared)  # a featured persona's own
        ep = episodes.get(cov.participant_id)
        if cov.payer is not medicare or ep is None or ep.level_of_care != "IOP" \
                or ep.admitted_on > today or rng.random() < 0.1:
            continue  # a few are left missing so "My work" has something to show
        doctor = rng.choice(doctors)
        end = min(today, ep.discharged_on or today)
        signed = min(ep.admitted_on + timedelta(days=rng.randint(0, 2)), end)
        previous = None
        while True:
            # The service's own rule for the dates; recertifications signed a few days
            # before the previous period ends, as an office that keeps up would.
            start, due = services.certification.period_covered(
                admitted_on=ep.admitted_on, certified_on=signed, interval=interval,
                previous_due=previous)
            rows.append(IopCertification(
                participant_id=cov.participant_id, episode=ep,
                kind="initial" if previous is None else "recert", certified_by=doctor,
                certified_on=signed, covers_from=start, next_due_on=due, recorded_by=biller))
            if due >= end:
                break
            previous = due
            signed = min(due - timedelta(days=rng.randint(0, min(6, interval - 1))), end)
    ctx.bulk_create(rows, label="Medicare IOP certifications")


def _authorizations(ctx: DemoContext, coverages: list[Coverage], episodes: dict) -> None:
    shared = rng = ctx.rng
    today = ctx.today
    auths = []
    for cov in coverages:
        rng = ctx.rng_for(cov.participant_id, default=shared)  # a featured persona's own
        ep = episodes.get(cov.participant_id)
        if ep is None or not cov.payer.requires_authorization or ep.status != EpisodeOfCare.Status.ACTIVE:
            continue
        start = ep.admitted_on
        kind = rng.random()
        if kind < 0.25:  # ends within the week: a concurrent review is due
            end = today + timedelta(days=rng.randint(1, 6))
            review = today + timedelta(days=rng.randint(0, 3))
        else:
            end = max(start, today) + timedelta(days=rng.randint(10, 30))
            review = end - timedelta(days=5)
        days = max((end - start).days, 1)
        units = max(int(days * 3 / 7 * (0.85 if rng.random() < 0.3 else 1.3)), 1)
        auths.append(Authorization(
            coverage=cov, level_of_care=ep.level_of_care if ep.level_of_care in ("IOP", "PHP")
            else "IOP", unit="days", units_approved=units, starts_on=start, ends_on=end,
            reference_number=f"AUTH{rng.randint(10**6, 10**7 - 1)}",
            review_on=review if start <= review <= end else None, created_by=ctx.staff["billing"]))
    ctx.bulk_create(auths, label="authorizations")


def _charges_and_claims(ctx: DemoContext, biller: Any) -> None:
    org, rng = ctx.organization, ctx.rng
    end = min(ctx.today, timezone.localdate()) - timedelta(days=1)
    start = end - timedelta(days=29)
    ctx.progress("charges from attendance and signed notes (a month)")
    services.capture_charges(actor=biller, organization=org, start=start, end=end)
    sample = sorted(p.pk for p in ctx.participants)[:CLAIM_SAMPLE]
    claims = services.build_claims(actor=biller, organization=org, period_start=start,
                                   period_end=end, participant_ids=sample)
    ctx.progress(f"{len(claims)} claims")
    # Send most ready claims, keep some ready; a few held claims stay to be worked.
    ready = [c for c in claims if c.status == ClaimStatus.READY]
    kept = [c.pk for c in ready[: max(len(ready) // 5, 2)]]
    keep = set(kept)
    Claim.objects.filter(pk__in=keep).update(status=ClaimStatus.HELD)  # set aside for a moment
    for claim_type in ("I", "P"):
        if Claim.objects.filter(organization=org, claim_type=claim_type,
                                status=ClaimStatus.READY).exists():
            services.batch_create(actor=biller, organization=org, claim_type=claim_type)
    Claim.objects.filter(pk__in=keep).update(status=ClaimStatus.READY)
    sent = list(Claim.objects.filter(organization=org, status=ClaimStatus.SENT)
                .select_related("participant", "coverage__payer").prefetch_related("lines")
                .order_by("pk"))
    for claim in sent:  # some were sent a while ago, for the aging report
        claim.sent_on = ctx.today - timedelta(days=rng.choice([3, 12, 40, 75, 100]))
    Claim.objects.bulk_update(sent, ["sent_on"])
    if sent:
        # Two thirds answered by the 835 (at least three when four or more were sent, so a
        # small clinic still shows paid, partly paid and denied), the rest still waiting.
        answered = max(len(sent) * 2 // 3, min(3, len(sent) - 1), 1)
        _post_835(ctx, biller, sent[:answered])
    if len(kept) >= 2:  # one claim voided (billed by mistake), the others stay ready
        services.claim_void(actor=biller, claim=Claim.objects.get(pk=kept[-1]))


def _post_835(ctx: DemoContext, biller: Any, claims: list[Claim]) -> None:
    """One payer's 835 for two thirds of the sent claims: paid, partly paid and denied."""
    rng = ctx.rng
    remits = []
    total = Decimal("0")
    for i, claim in enumerate(claims):
        outcome = ("paid", "partial", "denied")[i % 3] if i % 7 else "paid"
        lines = list(claim.lines.all())
        svcs = []
        paid_total = Decimal("0")
        patient = Decimal("0")
        adjustments: list[Adj] = []
        for n, ln in enumerate(lines):
            if outcome == "partial" and n == len(lines) - 1 and len(lines) > 1:
                # The payer has not decided this line yet: the claim stays partly paid.
                svcs.append(ServicePayment(ln.hcpcs, ln.amount, Decimal("0"), ln.units,
                                           ln.service_date))
                continue
            if outcome == "denied":
                svcs.append(ServicePayment(ln.hcpcs, ln.amount, Decimal("0"), ln.units,
                                           ln.service_date,
                                           [Adj("CO", rng.choice(["197", "50", "16"]), ln.amount)],
                                           ["N54"] if rng.random() < 0.5 else []))
                continue
            allowed = (ln.amount * Decimal("0.7")).quantize(Decimal("0.01"))
            share = (allowed * Decimal("0.2")).quantize(Decimal("0.01")) if outcome == "partial" \
                else Decimal("0")
            paid = allowed - share
            adj = [Adj("CO", "45", ln.amount - allowed)]
            if share:
                adj.append(Adj("PR", "2", share))
            svcs.append(ServicePayment(ln.hcpcs, ln.amount, paid, ln.units, ln.service_date, adj))
            paid_total += paid
            patient += share
        total += paid_total
        p = claim.participant
        remits.append(ClaimRemit(claim.control_number, "4" if outcome == "denied" else "1",
                                 claim.total_charge, paid_total, patient,
                                 f"PYR{rng.randint(10**8, 10**9 - 1)}", adjustments, [], svcs,
                                 p.legal_last_name, p.legal_first_name, claim.coverage.member_id))
    remit = Remit(total, ctx.today - timedelta(days=2), f"EFT{rng.randint(10**8, 10**9 - 1)}",
                  "DEMO PAYERS CLEARINGHOUSE", "", remits)
    text = write_835(remit, sender_id="DEMOPAYER", receiver_id="OPENIOPDEMO",
                     payee_name=ctx.organization.name, payee_npi="1234567893",
                     created=datetime.combine(ctx.today, time(6), tzinfo=ctx.tz))
    services.remittance_post(actor=biller, organization=ctx.organization, text=text)
