"""Billing pages: roles, note text never shown to billing, 4xx on bad input, and query
counts that do not grow with the number of rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.billing import services
from openiop.billing.models import Charge, Claim

from .. import factories as f
from ..conftest import login
from .conftest import TODAY, attended, coverage, principal
from .test_claims import medicare_month
from .test_remittance import remit_for

OFFICE = ["billing:index", "billing:charges", "billing:claims", "billing:batches",
          "billing:remittances", "billing:denials", "billing:aging"]


def test_billing_sees_the_office_and_the_billing_tab_but_never_note_text(clinic):
    w = clinic.world
    medicare_month(clinic)
    client = login(clinic.billing)
    for name in OFFICE:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert "secret group words" not in response.content.decode()
    claim = Claim.objects.get()
    detail = client.get(reverse("billing:claim_detail", kwargs={"claim_code": claim.code}))
    tab = client.get(reverse("billing:participant_billing", kwargs={"code": w.participant.code}))
    for response in (detail, tab):
        assert response.status_code == 200
        assert "secret group words" not in response.content.decode()
    assert "G0410" in detail.content.decode()
    assert "3 services (APC 5861 hospital / 5851 CMHC)" in detail.content.decode()
    notes = reverse("clinical:participant_notes", kwargs={"code": w.participant.code})
    assert client.get(notes).status_code == 404


def test_billing_chart_has_no_edit_links_it_cannot_follow(clinic):
    w = clinic.world
    chart = reverse("participants:chart", kwargs={"code": w.participant.code})
    edit = reverse("participants:edit", kwargs={"code": w.participant.code})
    html = login(clinic.billing).get(chart).content.decode()
    assert edit not in html and "Add a person" not in html and "Add window" not in html
    assert login(clinic.billing).get(edit).status_code == 404
    clinician_html = login(w.clinician).get(chart).content.decode()
    assert edit in clinician_html and "Add window" in clinician_html


def test_clinicians_and_the_front_desk_do_not_reach_billing(clinic):
    w = clinic.world
    for user in (w.clinician, clinic.frontdesk):
        client = login(user)
        assert client.get(reverse("billing:claims")).status_code == 404
        assert client.get(reverse("billing:participant_billing",
                                  kwargs={"code": w.participant.code})).status_code == 404
        assert reverse("billing:index") not in client.get(reverse("core:home")).content.decode()
    assert reverse("billing:index") in login(clinic.billing).get(
        reverse("billing:claims")).content.decode()


def test_the_office_flow_capture_build_send_and_post_by_form(clinic):
    w = clinic.world
    cov = coverage(w.participant, clinic.pro_payer)
    principal(w.participant, w.clinician)
    day = TODAY - timedelta(days=2)
    attended(w, w.participant, day, kind="individual", minutes=45)
    client = login(clinic.billing)
    period = {"start": day.isoformat(), "end": day.isoformat()}
    assert client.post(reverse("billing:charges"), period).status_code == 200
    assert Charge.objects.get().hcpcs == "90834"
    response = client.post(reverse("billing:claims"), {"build-" + k: v for k, v in period.items()})
    assert response.status_code == 302
    assert Claim.objects.get().status == "ready"
    assert client.post(reverse("billing:batches"), {"claim_type": "P"}).status_code == 302
    claim = Claim.objects.get()
    assert claim.status == "sent" and claim.coverage == cov
    download = client.get(reverse("billing:batch_download", kwargs={"batch_code": claim.batch.code}))
    assert download.content.decode().startswith("ISA*")
    text = remit_for(claim, paid=Decimal("100"))
    upload = SimpleUploadedFile("remit.835", text.encode())
    response = client.post(reverse("billing:remittances"), {"file": upload})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("100")


def test_bad_office_input_is_a_400_naming_the_field_and_changes_nothing(clinic):
    client = login(clinic.billing)
    response = client.post(reverse("billing:charges"),
                           {"start": TODAY.isoformat(), "end": (TODAY + timedelta(days=3)).isoformat()})
    assert response.status_code == 400
    assert "only for days that have passed" in response.content.decode()
    response = client.post(reverse("billing:remittances"),
                           {"file": SimpleUploadedFile("x.835", b"not x12")})
    assert response.status_code == 400 and "not a readable 835" in response.content.decode()
    response = client.post(reverse("billing:batches"), {"claim_type": "I"})
    assert response.status_code == 400 and "No claims of this type are ready" in response.content.decode()
    w = clinic.world
    url = reverse("billing:coverage_add", kwargs={"code": w.participant.code})
    response = client.post(url, {"payer": clinic.commercial.pk, "order": 1, "member_id": "",
                                 "relationship": "18", "effective_on": TODAY.isoformat(),
                                 "group_number": "GRP-9"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Member id: Enter the member id" in html and 'value="GRP-9"' in html
    assert not Charge.objects.exists() and not w.participant.coverages.exists()


def _grow(clinic, n):
    w = clinic.world
    for _ in range(n):
        p = f.participant(w.org, address1="1 A St", city="Columbus", state="OH", zip_code="43215")
        cov = coverage(p, clinic.pro_payer)
        principal(p, w.clinician)
        attended(w, p, TODAY - timedelta(days=1), kind="individual", minutes=45)
        attended(w, p, TODAY - timedelta(days=2), kind="medication", minutes=25)
        assert cov
    services.capture_charges(actor=clinic.billing, organization=w.org,
                             start=TODAY - timedelta(days=2), end=TODAY - timedelta(days=1))
    services.build_claims(actor=clinic.billing, organization=w.org,
                          period_start=TODAY - timedelta(days=2), period_end=TODAY - timedelta(days=1))


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_use_a_fixed_number_of_queries(clinic):
    client = login(clinic.billing)
    urls = [reverse(n) for n in OFFICE] + [reverse("billing:participant_billing",
                                                   kwargs={"code": clinic.world.participant.code})]
    _grow(clinic, 2)
    small = {u: _queries(client, u) for u in urls}
    _grow(clinic, 5)
    big = {u: _queries(client, u) for u in urls}
    assert big == small
    assert small[reverse("billing:claims")] <= 12


def test_scrub_again_and_void_are_two_urls_on_the_claim(clinic):
    """The claim page's two buttons post to their own named URLs; voiding a sent claim is
    refused with the reason as a message."""
    medicare_month(clinic)
    claim = Claim.objects.get()
    client = login(clinic.billing)
    kw = {"claim_code": claim.code}
    page = client.get(reverse("billing:claim_detail", kwargs=kw)).content.decode()
    assert reverse("billing:claim_rescrub", kwargs=kw) in page
    assert reverse("billing:claim_void", kwargs=kw) in page
    assert client.post(reverse("billing:claim_rescrub", kwargs=kw)).status_code == 302
    claim.refresh_from_db()
    assert claim.status in ("held", "ready")
    assert client.post(reverse("billing:claim_void", kwargs=kw)).status_code == 302
    claim.refresh_from_db()
    assert claim.status == "void"
    again = client.post(reverse("billing:claim_void", kwargs=kw), follow=True)
    assert "Only a claim that has not been sent can be voided." in again.content.decode()
