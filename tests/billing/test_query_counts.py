"""Every billing list, as a page and in the JSON API, reads a fixed number of queries: each
is measured at two clinic sizes (more participants, claims in every state, more payments,
and more rows for the one participant a chart page shows) and pinned."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from openiop.accounts.models import Role, User
from openiop.billing import services
from openiop.billing.models import Authorization, Claim, Diagnosis, Remittance
from openiop.billing.x12.remit import Adj, ClaimRemit, Remit, ServicePayment, write_835

from .. import factories as f
from ..conftest import login
from .conftest import TODAY, TZ, attended, coverage, principal

# The queries each list takes, at any size (pinned as measured; the chart pages include the
# chart header, the access decision and the audit write every participant read makes).
PAGES = {
    "billing:index": 11, "billing:charges": 9, "billing:claims": 10, "billing:batches": 12,
    "billing:remittances": 9, "billing:denials": 9, "billing:aging": 7,
    "billing:participant_billing": 42, "billing:statement": 30,
    "billing:participant_diagnoses": 28, "billing:claim_detail": 15,
    "billing:remittance_detail": 15, "billing:my_costs": 17,
}
API = {
    "charges": 8, "claims": 8, "remittances": 8, "coverages": 13, "authorizations": 14,
    "claim": 13, "remittance": 15,
}
# Lists whose reading is audited: on PostgreSQL the audit write takes its chain's advisory
# lock, one query more (audit/services.py).
AUDITED = {"billing:participant_billing", "billing:statement", "billing:participant_diagnoses",
           "billing:claim_detail", "billing:remittance_detail", "billing:my_costs", "coverages", "authorizations", "claim",
           "remittance"}


def _post_835(clinic, claims, trace):
    """Pay, partly pay (one line not decided yet, the participant owes a share of the others)
    and deny the claims in turn."""
    remits, total = [], Decimal("0")
    for i, claim in enumerate(claims):
        outcome = ("paid", "partial", "denied")[i % 3]
        services_, paid_total, share_total = [], Decimal("0"), Decimal("0")
        lines = list(claim.lines.all())
        for n, ln in enumerate(lines):
            if outcome == "denied":
                services_.append(ServicePayment(ln.hcpcs, ln.amount, Decimal("0"), ln.units,
                                                ln.service_date, [Adj("CO", "197", ln.amount)]))
                continue
            if outcome == "partial" and n == len(lines) - 1:  # not decided yet
                services_.append(ServicePayment(ln.hcpcs, ln.amount, Decimal("0"), ln.units,
                                                ln.service_date))
                continue
            share = Decimal("10.00") if outcome == "partial" else Decimal("0")
            paid = ln.amount - Decimal("20.00") - share
            services_.append(ServicePayment(
                ln.hcpcs, ln.amount, paid, ln.units, ln.service_date,
                [Adj("CO", "45", Decimal("20.00"))] + ([Adj("PR", "2", share)] if share else [])))
            paid_total += paid
            share_total += share
        total += paid_total
        p = claim.participant
        remits.append(ClaimRemit(claim.control_number, "4" if outcome == "denied" else "1",
                                 claim.total_charge, paid_total, share_total, f"PYR-{claim.pk}",
                                 [], [], services_, p.legal_last_name, p.legal_first_name,
                                 claim.coverage.member_id))
    text = write_835(Remit(total, TODAY, trace, "BUCKEYE MEDICAID", "MCD01", remits),
                     sender_id="MCD01", receiver_id="RIVERBEND01", payee_name="Riverbend",
                     payee_npi="1234567893", created=datetime(2026, 3, 16, 9, 0, tzinfo=TZ))
    return services.remittance_post(actor=clinic.billing, organization=clinic.world.org,
                                    text=text)


def _grow(clinic, n, back):
    """n more participants billed for the day `back` days ago, and the chart's participant
    billed that day too, with one more diagnosis and authorization: their claims are
    built, sent, and answered by one more 835 (paid, partly paid, denied), and a few more
    are left ready and held."""
    w = clinic.world
    day = TODAY - timedelta(days=back)
    people = [w.participant]
    for i in range(n):
        p = f.participant(w.org, address1="1 A St", city="Columbus", state="OH",
                          zip_code="43215", legal_first_name=f"Grow{back}x{i}")
        coverage(p, clinic.pro_payer)
        principal(p, w.clinician)
        people.append(p)
    for p in people:
        attended(w, p, day, kind="individual", minutes=45)
        attended(w, p, day, kind="medication", minutes=25, hour=11)
    for hour in range(13, 13 + n // 3):  # the chart participant's claim grows longer
        attended(w, w.participant, day, kind="group", hour=hour)
    cov = w.participant.coverages.get()
    Authorization.objects.create(coverage=cov, units_approved=10, starts_on=day, ends_on=TODAY,
                                 reference_number=f"AUTH-{back}")
    Diagnosis.objects.create(participant=w.participant, icd_code=f"F4{back % 10}.1",
                             description="test", code_set_version="test", billable=True,
                             rank="secondary", recorded_by=w.clinician)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=day, end=day)
    services.build_claims(actor=clinic.billing, organization=w.org, period_start=day,
                          period_end=day)
    services.batch_create(actor=clinic.billing, organization=w.org, claim_type="P")
    sent = list(Claim.objects.filter(status="sent", period_end=day)
                .exclude(participant=w.participant).order_by("pk"))
    # The chart participant's claim is partly paid: a share on their statement.
    sent.insert(1, Claim.objects.get(status="sent", period_end=day, participant=w.participant))
    _post_835(clinic, sent, trace=f"TRACE-{back}")
    # Some left ready, and some held (no diagnosis), for the batch page.
    for i in range(n):
        p = f.participant(w.org, address1="1 A St", city="Columbus", state="OH",
                          zip_code="43215", legal_first_name=f"Left{back}x{i}")
        coverage(p, clinic.pro_payer)
        if i % 2:
            principal(p, w.clinician)
        attended(w, p, day, kind="individual", minutes=45)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=day, end=day)
    services.build_claims(actor=clinic.billing, organization=w.org, period_start=day,
                          period_end=day)


def _targets(clinic, me):
    """(label, client, url) for every list: office pages, chart pages, the portal, the API."""
    w = clinic.world
    code = w.participant.code
    # The latest claim and 835: the longer ones at the larger size.
    claim = Claim.objects.filter(participant=w.participant).order_by("-pk").first()
    remittance = Remittance.objects.order_by("-pk").first()
    biller = login(clinic.billing)
    kwargs = {"billing:participant_billing": {"code": code}, "billing:statement": {"code": code},
              "billing:participant_diagnoses": {"code": code},
              "billing:claim_detail": {"claim_code": claim.code},
              "billing:remittance_detail": {"remittance_code": remittance.code}}
    # The world's participant is a Part 2 record: its diagnoses are the care team's.
    who = {"billing:my_costs": login(me), "billing:participant_diagnoses": login(w.clinician)}
    out = [(name, who.get(name, biller), reverse(name, kwargs=kwargs.get(name)))
           for name in PAGES]
    api = {"charges": "/api/billing/charges", "claims": "/api/billing/claims",
           "remittances": "/api/billing/remittances",
           "coverages": f"/api/billing/participants/{code}/coverages",
           "authorizations": f"/api/billing/participants/{code}/authorizations",
           "claim": f"/api/billing/claims/{claim.code}",
           "remittance": f"/api/billing/remittances/{remittance.code}"}
    return out + [(name, biller, url) for name, url in api.items()]


def _measure(targets, assert_max):
    """Each list's query count, each held to its pin. One request first: a client's first
    request may also save its session, which is not the list's doing."""
    counts = {}
    lock = 1 if connection.vendor == "postgresql" else 0
    bounds = {k: v + (lock if k in AUDITED else 0) for k, v in (PAGES | API).items()}
    for label, client, url in targets:
        client.get(url)
        with assert_max(bounds[label], info=label) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (label, response.status_code)
        counts[label] = len(ctx.captured_queries)
    return counts


@pytest.fixture
def me(clinic):
    user = User.objects.create(username="me", password=f.password_hash(), role=Role.PARTICIPANT)
    clinic.world.participant.user = user
    clinic.world.participant.save()
    return user


def test_every_billing_list_takes_the_same_pinned_number_of_queries_at_two_sizes(
        clinic, me, django_assert_max_num_queries):
    w = clinic.world
    coverage(w.participant, clinic.pro_payer)
    principal(w.participant, w.clinician)
    _grow(clinic, 3, back=3)
    small = _measure(_targets(clinic, me), django_assert_max_num_queries)
    _grow(clinic, 9, back=2)
    mine = Claim.objects.filter(participant=w.participant)
    assert set(mine.values_list("status", flat=True)) == {"partial"}
    assert [c.lines.count() for c in mine.order_by("pk")] == [3, 5]
    assert {"held", "ready", "sent", "paid", "partial", "denied"} <= set(
        Claim.objects.values_list("status", flat=True))
    assert _measure(_targets(clinic, me), django_assert_max_num_queries) == small
