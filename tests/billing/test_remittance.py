"""835 remittances: parse, post payments and adjustments, denials, A/R aging, statements."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from openiop.billing import codes, reports, services
from openiop.billing.models import Adjustment, Claim, Remittance
from openiop.billing.x12.remit import Adj, ClaimRemit, Remit, ServicePayment, parse_835, write_835

from .conftest import TODAY, TZ
from .test_claims import medicare_month, validate_x12


def sent_claim(clinic):
    medicare_month(clinic)
    services.batch_create(actor=clinic.billing, organization=clinic.world.org, claim_type="I")
    return Claim.objects.get()


def remit_for(claim, *, paid, status="1", patient=Decimal("0"), line_adjust=None,
              claim_adjust=None, trace="TRACE-1"):
    lines = list(claim.lines.all())
    services_ = []
    for i, ln in enumerate(lines):
        adj = (line_adjust or {}).get(i, [])
        services_.append(ServicePayment(ln.hcpcs, ln.amount, paid if i == 0 else Decimal("0"),
                                        service_date=ln.service_date,
                                        adjustments=adj, remarks=["N54"] if adj else []))
    remit = Remit(paid, TODAY, trace, "MEDICARE JE", "12502", [ClaimRemit(
        claim.control_number, status, claim.total_charge, paid, patient, "PAYER-CLM-1",
        claim_adjust or [], [], services_, claim.participant.legal_last_name,
        claim.participant.legal_first_name, claim.coverage.member_id)])
    return write_835(remit, sender_id="MEDICARE", receiver_id="RIVERBEND01",
                     payee_name="Riverbend", payee_npi="1234567893",
                     created=datetime(2026, 3, 16, 9, 0, tzinfo=TZ))


def test_the_835_we_write_for_tests_is_valid_x12_and_reads_back(clinic):
    claim = sent_claim(clinic)
    text = remit_for(claim, paid=Decimal("500"), line_adjust={0: [Adj("CO", "45", Decimal("10"))]})
    ok, report = validate_x12(text, ack=False)
    assert ok, report
    remit = parse_835(text)
    assert (remit.trace_number, remit.total_paid, remit.payment_date) == (
        "TRACE-1", Decimal("500"), TODAY)
    assert remit.claims[0].services[0].adjustments[0].reason == "45"
    assert remit.claims[0].services[0].remarks == ["N54"]


def test_posting_a_full_payment_with_contractual_write_off_marks_the_claim_paid(clinic):
    claim = sent_claim(clinic)
    total = claim.total_charge
    adjust = {i: [Adj("CO", "45", ln.amount - (Decimal("600") if i == 0 else 0))]
              for i, ln in enumerate(claim.lines.all())}
    text = remit_for(claim, paid=Decimal("600"), line_adjust=adjust)
    remittance = services.remittance_post(actor=clinic.billing, organization=clinic.world.org,
                                          text=text)
    claim.refresh_from_db()
    assert claim.status == "paid"
    assert claim.paid_amount == Decimal("600")
    assert claim.paid_amount + claim.adjustment_amount == total
    assert claim.lines.get(line_number=1).paid_amount == Decimal("600")
    assert remittance.payments.get().claim == claim
    assert Adjustment.objects.filter(claim_line__isnull=False).count() == claim.lines.count()


def test_a_denial_lands_in_the_work_list_with_its_reasons_in_words(clinic):
    claim = sent_claim(clinic)
    text = remit_for(claim, paid=Decimal("0"), status="4",
                     claim_adjust=[Adj("CO", "197", claim.total_charge)])
    services.remittance_post(actor=clinic.billing, organization=clinic.world.org, text=text)
    claim.refresh_from_db()
    assert claim.status == "denied"
    rows = reports.denials(clinic.world.org.pk)
    assert [r.claim for r in rows] == [claim]
    assert rows[0].reasons == [
        "CO-197: Precertification, notification or authorization is missing"]


def test_patient_responsibility_shows_on_the_statement_and_leaves_a_partial_claim(clinic):
    claim = sent_claim(clinic)
    text = remit_for(claim, paid=Decimal("300"), patient=Decimal("40"),
                     claim_adjust=[Adj("PR", "2", Decimal("40"))])
    services.remittance_post(actor=clinic.billing, organization=clinic.world.org, text=text)
    claim.refresh_from_db()
    assert claim.status == "partial"
    statement = reports.statement(claim.participant)
    assert statement["total"] == Decimal("40.00")
    assert statement["claims"] == [claim]


def test_the_same_payment_cannot_be_posted_twice_and_garbage_is_refused(clinic):
    claim = sent_claim(clinic)
    text = remit_for(claim, paid=Decimal("100"))
    services.remittance_post(actor=clinic.billing, organization=clinic.world.org, text=text)
    with pytest.raises(ValidationError) as exc:
        services.remittance_post(actor=clinic.billing, organization=clinic.world.org, text=text)
    assert "already posted" in exc.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as exc:
        services.remittance_post(actor=clinic.billing, organization=clinic.world.org,
                                 text="hello")
    assert "not a readable 835" in exc.value.message_dict["file"][0]
    assert Remittance.objects.count() == 1


def test_ar_aging_puts_balances_in_buckets_by_days_since_sent(clinic):
    claim = sent_claim(clinic)
    claim.sent_on = TODAY - timedelta(days=45)
    claim.save()
    rows, total = reports.ar_aging(clinic.world.org.pk)
    assert [r.payer for r in rows] == ["Medicare JE"]
    assert total.buckets == [Decimal("0.00"), claim.total_charge, Decimal("0.00"),
                             Decimal("0.00")]
    claim.sent_on = TODAY - timedelta(days=120)
    claim.save()
    _, total = reports.ar_aging(clinic.world.org.pk)
    assert total.buckets[3] == claim.total_charge


def test_reason_codes_in_words_come_from_the_data_file():
    assert codes.carc("45").startswith("Charge exceeds")
    assert codes.rarc("N54").startswith("The claim does not match")
    assert codes.carc("9999") == "Adjustment reason 9999"
    assert codes.group("PR") == "Patient responsibility"


def test_reading_a_remittance_page_is_audited_it_names_the_participants_paid(clinic):
    from django.urls import reverse

    from openiop.audit.models import AccessEvent

    from ..conftest import login

    claim = sent_claim(clinic)
    remittance = services.remittance_post(actor=clinic.billing, organization=clinic.world.org,
                                          text=remit_for(claim, paid=Decimal("100")))
    url = reverse("billing:remittance_detail", kwargs={"remittance_code": remittance.code})
    response = login(clinic.billing).get(url)
    assert response.status_code == 200
    assert claim.participant.legal_last_name in response.content.decode()
    assert AccessEvent.objects.filter(actor=clinic.billing, action="view",
                                      object_type="remittance",
                                      object_id=str(remittance.code)).count() == 1
