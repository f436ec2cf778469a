"""The billing JSON API: coverages and authorizations with units used, charges, claims with
the scrubber's holds in words, remittances; billing staff and directors only; no note text."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.billing import services
from openiop.billing.models import Authorization, Claim
from tests import factories as f
from tests.billing.conftest import (  # noqa: F401 - fixtures, found by name
    TODAY,
    _frozen_clock,
    attended,
    clinic,
    coverage,
    principal,
)
from tests.conftest import login


@pytest.fixture
def billed(clinic):  # noqa: F811 - the fixture above
    """A commercial plan with an authorization of 10 days from a week ago, two attended
    days (the first before the authorization), charges captured and claims built."""
    w = clinic.world
    cov = coverage(w.participant, clinic.commercial, group_number="GRP-9")
    start = TODAY - timedelta(days=20)
    auth = Authorization.objects.create(coverage=cov, units_approved=10,
                                        starts_on=TODAY - timedelta(days=7),
                                        ends_on=TODAY + timedelta(days=10),
                                        reference_number="AUTH-77",
                                        review_on=TODAY + timedelta(days=5))
    principal(w.participant, w.clinician)
    for back in (8, 7):
        attended(w, w.participant, TODAY - timedelta(days=back), minutes=200)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=start,
                             end=TODAY - timedelta(days=1))
    services.build_claims(actor=clinic.billing, organization=w.org, period_start=start,
                          period_end=TODAY - timedelta(days=1))
    return clinic, cov, auth


def test_coverages_and_authorizations_with_units_used(billed):
    cl, cov, auth = billed
    client = login(cl.billing)
    code = cl.world.participant.code
    [listed] = client.get(f"/api/billing/participants/{code}/coverages").json()
    assert (listed["code"], listed["payer"], listed["member_id"], listed["group_number"]) == (
        str(cov.code), "Acme Health", "1EG4TE5MK73", "GRP-9")
    assert listed["active_today"] is True and listed["order"] == 1
    [a] = client.get(f"/api/billing/participants/{code}/authorizations").json()
    assert (a["reference_number"], a["units_approved"], a["units_used"], a["percent_used"],
            a["units_remaining"]) == ("AUTH-77", 10, 1, 10, 9)
    assert client.get(f"/api/billing/authorizations/{auth.code}").json()["units_used"] == 1
    assert client.get(f"/api/billing/coverages/{cov.code}").json()["code"] == str(cov.code)
    assert AccessEvent.objects.filter(actor=cl.billing, object_type="billing",
                                      participant=cl.world.participant).exists()


def test_claims_list_their_holds_in_words_and_nothing_of_the_notes(billed):
    cl, _, _ = billed
    client = login(cl.billing)
    page = client.get("/api/billing/claims", {"status": "held"}).json()
    assert page["count"] == 1
    claim = page["results"][0]
    holds = {h["code"]: h for h in claim["holds"]}
    assert holds["no_authorization"]["label"] == "No active authorization"
    day = TODAY - timedelta(days=8)
    assert holds["no_authorization"]["message"] == (
        f"No active authorization covers {day:%b} {day.day}.")
    detail = client.get(f"/api/billing/claims/{claim['code']}")
    assert detail.status_code == 200 and len(detail.json()["lines"]) == 2
    charges = client.get("/api/billing/charges").json()
    assert charges["count"] == 2 and all(c["rule"] for c in charges["results"])
    everything = detail.content + client.get("/api/billing/charges").content + \
        client.get("/api/billing/claims").content
    assert b"secret group words" not in everything  # the group note's words
    assert client.get("/api/billing/claims", {"status": "ready"}).json()["count"] == 0
    assert AccessEvent.objects.filter(object_type="claim", action="view").count() == 1


def test_remittances_list_and_detail_explain_adjustments(billed):
    from openiop.billing.models import Remittance

    cl, _, _ = billed
    claim = Claim.objects.get()
    remit = Remittance.objects.create(organization=cl.world.org, payer_name="ACME",
                                      trace_number="T-1", payment_date=TODAY, total_paid=0,
                                      raw="ISA*")
    payment = remit.payments.create(claim=claim, control_number=claim.control_number,
                                    status_code="4", charge_amount=claim.total_charge)
    payment.adjustments.create(group_code="CO", reason_code="197", amount=claim.total_charge)
    client = login(cl.billing)
    page = client.get("/api/billing/remittances").json()
    assert page["count"] == 1 and page["results"][0]["claim_count"] == 1
    detail = client.get(f"/api/billing/remittances/{remit.code}").json()
    [adj] = detail["payments"][0]["adjustments"]
    assert adj["reason_code"] == "197" and adj["reason"] and adj["group"]


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.BILLING, True), (Role.DIRECTOR, True), (Role.CLINICIAN, False),
    (Role.FRONT_DESK, False), (Role.INTAKE, False)])
def test_only_billing_staff_and_directors(billed, role, allowed):
    cl, cov, auth = billed
    client = login(f.staff(cl.world.org, role, username=f"api-{role}"))
    code = cl.world.participant.code
    office = [client.get(p).status_code for p in (
        "/api/billing/claims", "/api/billing/charges", "/api/billing/remittances",
        f"/api/billing/coverages/{cov.code}", f"/api/billing/authorizations/{auth.code}")]
    chart = [client.get(f"/api/billing/participants/{code}/{t}").status_code
             for t in ("coverages", "authorizations")]
    if allowed:
        assert set(office + chart) == {200}
    else:
        assert set(office) == {403} and set(chart) == {404}


def test_another_organization_finds_nothing(billed, as_outsider):
    cl, cov, auth = billed
    outsider = login(f.staff(cl.world.outsider.staff_profile.organization, Role.BILLING,
                             username="other-biller"))
    for path in (f"/api/billing/coverages/{cov.code}", f"/api/billing/authorizations/{auth.code}",
                 f"/api/billing/claims/{Claim.objects.get().code}",
                 f"/api/billing/participants/{cl.world.participant.code}/coverages"):
        assert outsider.get(path).status_code == 404, path
    assert outsider.get("/api/billing/claims").json()["count"] == 0


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status"), ({"limit": 500}, "limit"), ({"limit": 0}, "limit"),
    ({"offset": 10**19}, "offset"), ({"participant": "nope"}, "participant")])
def test_bad_parameters_are_a_422_naming_the_field(billed, params, field):
    cl, _, _ = billed
    response = login(cl.billing).get("/api/billing/claims", params)
    assert response.status_code == 422
    assert field in json.dumps(response.json())
