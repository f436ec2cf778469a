"""Medicare IOP certification and recertification (42 CFR 424.24(d): recertification no
less often than every other month; OpenIOP's 60-day default, at most 62): the log, due
dates, the setting's bound, warnings for My work, the billing tab block and the scrubber
hold."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.accounts.models import Role
from openiop.billing import selectors, services
from openiop.billing.models import Claim, IopCertification
from openiop.core.exceptions import NotPermitted

from .. import factories as f
from ..conftest import login
from .conftest import TODAY, TZ, attended, certify, coverage, physician, principal
from .test_claims import authorize, build, medicare_month


def _record(clinic, doc, day):
    return services.certification_record(
        actor=clinic.billing, episode=clinic.world.episode,
        data={"certified_by": doc, "certified_on": day})


def test_first_statement_covers_from_admission_and_recertification_follows_the_interval(clinic):
    w = clinic.world
    clinic.profile.iop_recertification_days = 30
    clinic.profile.save()
    doc = physician(w)
    w.episode.admitted_on = admitted = TODAY - timedelta(days=100)
    w.episode.save()
    first = _record(clinic, doc, admitted + timedelta(days=2))
    assert (first.kind, first.covers_from) == ("initial", admitted)
    # The first recertification is due the interval after admission, not after signature.
    assert first.next_due_on == admitted + timedelta(days=30)
    on_time = _record(clinic, doc, first.next_due_on - timedelta(days=1))
    assert on_time.kind == "recert"
    assert on_time.covers_from == first.next_due_on + timedelta(days=1)
    assert on_time.next_due_on == first.next_due_on + timedelta(days=29)
    late = _record(clinic, doc, on_time.next_due_on + timedelta(days=5))
    # Signed late: the days between the two statements stay uncovered.
    assert late.covers_from == on_time.next_due_on + timedelta(days=5)


def test_recording_checks_the_physician_the_dates_and_the_organization(clinic):
    w = clinic.world
    doc = physician(w)
    with pytest.raises(ValidationError) as exc:
        _record(clinic, w.clinician, TODAY)  # an LCSW, not a physician
    assert "certified_by" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _record(clinic, doc, w.episode.admitted_on - timedelta(days=1))
    assert "certified_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _record(clinic, doc, TODAY + timedelta(days=1))
    assert "future" in exc.value.message_dict["certified_on"][0]
    outsider = f.staff(f.organization(), Role.BILLING)
    with pytest.raises(NotPermitted):
        services.certification_record(actor=outsider, episode=w.episode,
                                      data={"certified_by": doc, "certified_on": TODAY})
    assert not IopCertification.objects.exists()


def test_warnings_missing_due_soon_and_overdue_only_for_medicare_iop(clinic):
    w = clinic.world
    assert selectors.certification_warnings(organization_id=w.org.pk) == []  # no Medicare
    coverage(w.participant, clinic.medicare)
    [missing] = selectors.certification_warnings(organization_id=w.org.pk)
    assert missing.kind == "missing" and missing.due == w.episode.admitted_on
    cert = certify(w, w.episode.admitted_on, TODAY + timedelta(days=5))
    [soon] = selectors.certification_warnings(organization_id=w.org.pk)
    assert soon.kind == "due_soon" and soon.due == cert.next_due_on
    IopCertification.objects.filter(pk=cert.pk).update(next_due_on=TODAY - timedelta(days=1))
    [overdue] = selectors.certification_warnings(organization_id=w.org.pk)
    assert overdue.kind == "overdue"
    IopCertification.objects.filter(pk=cert.pk).update(next_due_on=TODAY + timedelta(days=30))
    assert selectors.certification_warnings(organization_id=w.org.pk) == []
    assert selectors.certification_warnings(organization_id=f.organization().pk) == []


def test_warnings_take_a_fixed_number_of_queries(clinic):
    w = clinic.world
    coverage(w.participant, clinic.medicare)

    def grow(n):
        for _ in range(n):
            p = f.participant(w.org)
            ep = f.episode(p, w.program)
            coverage(p, clinic.medicare)
            IopCertification.objects.create(participant=p, episode=ep, kind="initial",
                                            certified_by=w.director, certified_on=TODAY,
                                            covers_from=TODAY, next_due_on=TODAY)

    def run():
        with CaptureQueriesContext(connection) as ctx:
            result = selectors.certification_warnings(organization_id=w.org.pk)
        return len(ctx.captured_queries), len(result)

    grow(2)
    small = run()
    grow(4)
    big = run()
    assert big[0] == small[0] <= 3
    assert (small[1], big[1]) == (3, 7)


def test_scrubber_holds_medicare_days_when_no_certification_is_recorded(clinic):
    medicare_month(clinic, certified=False)
    claim = Claim.objects.get(claim_type="I")
    assert claim.status == "held"
    assert any(h["code"] == "certification" and "No physician certification" in h["message"]
               for h in claim.holds)


def test_scrubber_names_the_uncovered_days_after_a_lapse(clinic):
    w = clinic.world
    certify(w, TODAY - timedelta(days=30), TODAY - timedelta(days=8))  # lapsed before day 7
    medicare_month(clinic, certified=False)
    claim = Claim.objects.get(claim_type="I")
    [hold] = [h for h in claim.holds if h["code"] == "certification"]
    day7 = TODAY - timedelta(days=7)
    assert f"{day7:%b} {day7.day}" in hold["message"]
    day8 = TODAY - timedelta(days=8)
    assert f"{day8:%b} {day8.day}," not in hold["message"]


def test_a_covered_medicare_claim_has_no_certification_hold(clinic):
    medicare_month(clinic)
    claim = Claim.objects.get(claim_type="I")
    assert not [h for h in claim.holds or [] if h["code"] == "certification"]


def test_billing_tab_shows_and_records_certifications(clinic):
    w = clinic.world
    coverage(w.participant, clinic.medicare)
    doc = physician(w)
    url = reverse("billing:participant_billing", kwargs={"code": w.participant.code})
    client = login(clinic.billing)
    html = client.get(url).content.decode()
    assert "Medicare IOP certification" in html and "No certification recorded" in html
    assert "No physician certification for Medicare IOP is recorded" in html
    post = reverse("billing:certification_add", kwargs={"code": w.participant.code})
    bad = client.post(post, {"certified_by": str(doc.pk), "certified_on": "not a date"})
    assert bad.status_code == 400 and "Enter a valid date" in bad.content.decode()
    wrong = client.post(post, {"certified_by": str(w.clinician.pk),
                               "certified_on": TODAY.isoformat()})
    assert wrong.status_code == 400
    assert not IopCertification.objects.exists()
    ok = client.post(post, {"certified_by": str(doc.pk), "certified_on": TODAY.isoformat()})
    assert ok.status_code == 302
    cert = IopCertification.objects.get()
    assert cert.certified_by == doc and cert.recorded_by == clinic.billing
    html = client.get(url).content.decode()
    assert f"{cert.next_due_on:%b} {cert.next_due_on.day}, {cert.next_due_on:%Y}" in html
    # Clinicians do not reach billing; a participant without Medicare has no block.
    assert login(w.clinician).post(post, {"certified_by": str(doc.pk),
                                          "certified_on": TODAY.isoformat()}).status_code == 404


def test_billing_tab_with_certifications_takes_a_fixed_number_of_queries(clinic):
    w = clinic.world
    coverage(w.participant, clinic.medicare)
    doc = physician(w)
    url = reverse("billing:participant_billing", kwargs={"code": w.participant.code})
    client = login(clinic.billing)

    def run():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _record(clinic, doc, w.episode.admitted_on)
    small = run()
    for days in (3, 6, 9):
        _record(clinic, doc, w.episode.admitted_on + timedelta(days=days))
    assert run() == small


def test_my_work_lists_certifications_for_billing_and_directors_not_clinicians(clinic):
    from openiop.dashboard import worklist

    w = clinic.world
    coverage(w.participant, clinic.medicare)
    for user in (clinic.billing, w.director):
        [section] = [s for s in worklist.my_work(user) if s.key == "certifications"]
        [row] = section.rows
        assert row.what == "Medicare IOP certification missing"
        assert row.who == w.participant.display_name
        assert row.url == reverse("billing:participant_billing",
                                  kwargs={"code": w.participant.code})
    assert not [s for s in worklist.my_work(w.clinician) if s.key == "certifications"]
    certify(w, w.episode.admitted_on, TODAY + timedelta(days=60))
    assert not [s for s in worklist.my_work(clinic.billing) if s.key == "certifications"]


def test_the_interval_is_60_days_by_default_and_the_setting_refuses_more_than_62(clinic):
    profile = clinic.profile
    assert profile.iop_recertification_days == 60
    assert services.certification.recertification_days(profile.organization_id) == 60
    for shorter in (30, 62):
        profile.iop_recertification_days = shorter
        profile.full_clean()  # a program may shorten it, up to every other month
    profile.iop_recertification_days = 90
    with pytest.raises(ValidationError) as exc:
        profile.full_clean()
    [message] = exc.value.message_dict["iop_recertification_days"]
    assert "iop_recertification_days" in message and "at most 62 days" in message
    assert "42 CFR 424.24(d)" in message
    # The database refuses it too, whatever path writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        type(profile).objects.filter(pk=profile.pk).update(iop_recertification_days=90)


def test_a_recertification_due_on_day_60_shows_on_my_work_7_days_before(clinic):
    from openiop.dashboard import worklist

    w = clinic.world
    coverage(w.participant, clinic.medicare)
    admitted = TODAY - timedelta(days=10)
    w.episode.admitted_on = admitted
    w.episode.save()
    first = _record(clinic, physician(w), admitted + timedelta(days=1))
    assert first.next_due_on == admitted + timedelta(days=60)

    def rows_on(day):
        with time_machine.travel(datetime.combine(day, time(9), tzinfo=TZ), tick=False):
            sections = [s for s in worklist.my_work(clinic.billing) if s.key == "certifications"]
            html = login(clinic.billing).get(reverse("dashboard:my_work")).content.decode()
        return [r.what for s in sections for r in s.rows], html

    early, early_html = rows_on(admitted + timedelta(days=52))
    assert early == [] and "Medicare IOP recertification due" not in early_html
    week_before, html = rows_on(admitted + timedelta(days=53))
    assert week_before == ["Medicare IOP recertification due"]
    due = first.next_due_on
    assert "Medicare IOP recertification due" in html and f"due {due:%a %b} {due.day}" in html
    late, _ = rows_on(admitted + timedelta(days=61))
    assert late == ["Medicare IOP recertification overdue"]


def test_a_day_past_the_first_period_is_held_until_a_recertification_covers_it(clinic):
    w = clinic.world
    cov = coverage(w.participant, clinic.medicare)
    admitted = TODAY - timedelta(days=70)
    w.episode.admitted_on = admitted
    w.episode.save()
    doc = physician(w)
    first = _record(clinic, doc, admitted)
    covered, uncovered = first.next_due_on - timedelta(days=2), first.next_due_on + timedelta(days=2)
    authorize(cov, admitted, TODAY)
    principal(w.participant, w.clinician)
    for day in (covered, uncovered):
        for hour, kind in ((9, "group"), (10, "psychoeducation"), (11, "skills")):
            attended(w, w.participant, day, kind=kind, hour=hour)
    start = TODAY - timedelta(days=30)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=start,
                             end=TODAY - timedelta(days=1))
    [claim] = build(clinic, start)
    assert claim.status == "held"
    [hold] = [h["message"] for h in claim.holds if h["code"] == "certification"]
    assert f"{uncovered:%b} {uncovered.day}" in hold
    assert f"{covered:%b} {covered.day}" not in hold
    # A recertification signed before the first period ended covers the day after it.
    recert = _record(clinic, doc, first.next_due_on - timedelta(days=3))
    assert recert.covers_from == first.next_due_on + timedelta(days=1) <= uncovered
    claim = services.rescrub(actor=clinic.billing, claim=claim)
    assert claim.status == "ready", claim.holds
