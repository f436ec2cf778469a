"""The demo clinic carries intake, care and outcome data that make the pages meaningful."""

from __future__ import annotations

import io
from datetime import date

from django.db.models import Count

from openiop.care.models import Discharge, Enrollment, EpisodeOfCare, LevelOfCareChange
from openiop.demo.generator import build_demo
from openiop.intake.models import LevelOfCareAssessment, MeasureResponse, Referral, SafetyTask
from openiop.outcomes.selectors import participant_charts

TODAY = date(2026, 11, 18)


def test_demo_has_referrals_transitions_and_score_histories(db):
    out = io.StringIO()
    build_demo(seed=11, participants=60, today=TODAY, out=out)
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert statuses == set(Referral.Status.values)
    admitted = Referral.objects.filter(status="admitted")
    assert all(r.episode_id and r.closed_at >= r.received_at for r in admitted)
    assert LevelOfCareChange.objects.filter(direction="down").exists()
    assert LevelOfCareChange.objects.filter(direction="up").exists()
    finished = EpisodeOfCare.objects.filter(status="finished")
    assert Discharge.objects.count() == finished.count() > 0
    assert EpisodeOfCare.objects.filter(status="waitlist").exists()
    assert Enrollment.objects.filter(status="waitlisted").exists()
    for ep in EpisodeOfCare.objects.filter(status="active").select_related("program")[:5]:
        assert ep.enrollments.filter(status="active").exists()
    overrides = LevelOfCareAssessment.objects.exclude(override_reason="")
    assert all(a.decided_level != a.recommended_level for a in overrides)
    assert LevelOfCareAssessment.objects.exclude(rules_fired=[]).count() > 40
    with_markers = sum(
        1 for ep in EpisodeOfCare.objects.filter(status="finished").select_related("participant")
        for c in participant_charts(ep.participant) if c["outcome"].markers)
    assert with_markers >= 3  # response/remission/reliable change show on real charts
    long_histories = (MeasureResponse.objects.filter(instrument="phq9")
                      .values("participant").annotate(n=Count("pk")).filter(n__gte=5))
    assert long_histories.count() >= 10
    person = EpisodeOfCare.objects.get(pk=MeasureResponse.objects.filter(
        instrument="phq9", context="discharge").first().episode_id).participant
    charts = participant_charts(person)
    assert charts[0]["instrument"].code == "phq9" and len(charts[0]["rows"]) >= 3
    assert SafetyTask.objects.filter(status="open").exists()
    assert "referrals" in out.getvalue() and "weekly and discharge measures" in out.getvalue()


def test_capacity_is_respected_by_the_demo(db):
    from openiop.care.models import Track

    build_demo(seed=5, participants=120, today=TODAY, out=io.StringIO())

    for track in Track.objects.all():
        assert track.enrollments.filter(status="active").count() <= track.capacity
