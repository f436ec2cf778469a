"""The Measures tab (charts with bands and markers), recording a measure, the dashboard,
and the Care tab timeline."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.care.services import episode_step_down
from openiop.intake.measures import measure_record
from openiop.intake.models import MeasureResponse


def history(world, totals):
    start = timezone.now() - timedelta(weeks=len(totals))
    for i, t in enumerate(totals):
        answers = [min(3, max(0, t - 3 * k)) for k in range(9)]
        answers[8] = 0
        measure_record(actor=world.clinician, participant=world.participant, instrument="phq9",
                       answers=answers, completed_at=start + timedelta(weeks=i),
                       context="intake" if i == 0 else "weekly")


def test_measures_tab_draws_bands_and_marks_response_and_remission(world, as_clinician):
    history(world, [18, 15, 9, 4])
    page = as_clinician.get(f"/outcomes/participants/{world.participant.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="measure-phq9"' in html and "id='chart-phq9'" in html
    assert "Moderately severe" in html
    assert "Response" in html and "Remission" in html and "reliable improvement" in html
    assert "change -14" in html


def test_recording_a_measure_from_the_chart(world, as_clinician):
    url = f"/outcomes/participants/{world.participant.code}/record/gad7/"
    assert as_clinician.get(url).status_code == 200
    r = as_clinician.post(url, {f"q{i}": "2" for i in range(1, 8)} | {"context": "weekly"})
    assert r.status_code == 302
    assert MeasureResponse.objects.get().total == 14
    r = as_clinician.post(url, {f"q{i}": "2" for i in range(1, 7)})
    assert r.status_code == 400 and MeasureResponse.objects.count() == 1


def test_program_dashboard_counts_outcomes(world, as_director):
    history(world, [16, 7])
    page = as_director.get("/outcomes/")
    assert page.status_code == 200
    assert b"Adult IOP" in page.content and b"100%" in page.content
    assert b"median time from referral to admission" in page.content


def test_dashboard_query_count_does_not_grow_with_participants(world, as_director):
    history(world, [16, 7])
    with CaptureQueriesContext(connection) as ctx:
        as_director.get("/outcomes/")
    first = len(ctx.captured_queries)
    from tests import factories as f

    for _ in range(5):
        p = f.participant(world.org)
        ep = f.episode(p, world.program, therapist=world.clinician)  # care team (Part 2)
        measure_record(actor=world.clinician, participant=p, instrument="phq9",
                       answers=[2] * 8 + [0], episode=ep)
    with CaptureQueriesContext(connection) as ctx:
        as_director.get("/outcomes/")
    assert len(ctx.captured_queries) == first


def test_care_tab_shows_the_timeline_and_both_levels(world, as_clinician, as_director):
    episode_step_down(actor=world.clinician, episode=world.episode, to_level="OP",
                      effective_on=timezone.localdate(), reason="Remission on PHQ-9",
                      criteria_met=["PHQ-9 below 5"])
    page = as_clinician.get(f"/programs/participants/{world.participant.code}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Step-down" in html and "IOP → OP" in html and "PHQ-9 below 5" in html
    assert "id='level-chart'" in html


def test_care_forms_refuse_illegal_changes_on_the_page(world, as_director, as_clinician):
    url = (f"/programs/participants/{world.participant.code}/episodes/"
           f"{world.episode.code}/level/")
    r = as_clinician.post(url, {"to_level": "IOP", "effective_on": timezone.localdate(),
                               "reason": "x", "version": world.episode.version})
    assert r.status_code == 400 and b"already at" in r.content
    d_url = url.replace("/level/", "/discharge/")
    ok = {"discharged_on": timezone.localdate(), "reason": "completed", "summary": "Done",
          "next_provider": "Dr. Next"}
    assert as_director.post(d_url, ok).status_code == 302
    again = as_director.post(d_url, ok)
    assert again.status_code == 400 and b"already closed" in again.content
