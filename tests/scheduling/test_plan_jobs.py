"""'Plan next week' runs as a background job: live progress, a result that survives a
reload, counts that match the approved diff, and one apply per plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openiop.core.exceptions import InvalidTransition
from openiop.jobs.models import Job
from openiop.scheduling import services
from openiop.scheduling.models import Booking, PlanRun, Session
from openiop.scheduling.proposal import PlanMetrics, PlanProposal

pytestmark = pytest.mark.django_db


def _generate(w):
    return services.sessions_generate(actor=w.director, program=w.program, start=w.next_monday,
                                      end=w.next_monday + timedelta(days=6))


def test_planning_runs_in_a_job_the_page_follows_and_the_plan_appears_when_done(sched, client,
                                                                                run_worker):
    _generate(sched)
    client.force_login(sched.director)
    response = client.post("/schedule/plan/", {"week_start": sched.next_monday.isoformat()})
    job = Job.objects.get(kind="plan_week")
    assert response.status_code == 302 and response["Location"] == f"/schedule/plan/progress/{job.code}/"
    assert not PlanRun.objects.exists()  # nothing was solved inside the request
    waiting = client.get(response["Location"]).content.decode()
    assert "Waiting for a free worker" in waiting and 'hx-trigger="every 2s"' in waiting
    assert job.label in client.get("/schedule/plan/").content.decode()  # listed while it runs

    run_worker()
    job.refresh_from_db()
    run = PlanRun.objects.get()
    assert job.state == Job.State.SUCCEEDED and job.result == {"plan": str(run.code)}
    assert job.started_by == sched.director
    assert set(job.best) == {"objective", "bound", "gap"} and job.best["bound"] is not None
    assert job.message.startswith("Best plan so far")
    # A reload (or coming back after closing the tab) lands on the plan.
    again = client.get(f"/schedule/plan/progress/{job.code}/")
    assert again.status_code == 302 and again["Location"] == f"/schedule/plan/{run.code}/"
    polled = client.get(f"/schedule/plan/progress/{job.code}/", HTTP_HX_REQUEST="true")
    assert polled.status_code == 204 and polled["HX-Redirect"] == f"/schedule/plan/{run.code}/"

    page = client.get(f"/schedule/plan/{run.code}/").content.decode()
    assert "best possible" in page
    assert "objective" not in page.lower() and "bound" not in page.lower()


def test_a_failed_planning_job_says_why_in_plain_words(sched, client, run_worker):
    """The week started while the job waited in the queue: it fails with the rule."""
    import time_machine

    client.force_login(sched.director)
    client.post("/schedule/plan/", {"week_start": sched.next_monday.isoformat()})
    job = Job.objects.get(kind="plan_week")
    with time_machine.travel(_after(sched)):
        run_worker()
    page = client.get(f"/schedule/plan/progress/{job.code}/").content.decode()
    assert "No plan was made. Week start: Only a week that has not started can be planned." in page


def _after(sched):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.combine(sched.next_monday + timedelta(days=1), datetime.min.time(),
                            tzinfo=ZoneInfo("America/New_York"))


def test_a_week_that_started_is_refused_in_the_request_with_the_date_kept(sched, client):
    client.force_login(sched.director)
    past = (sched.next_monday - timedelta(days=14)).isoformat()
    page = client.post("/schedule/plan/", {"week_start": past}).content.decode()
    assert "Only a week that has not started can be planned." in page
    assert f'value="{past}"' in page and not Job.objects.exists()


def test_applied_counts_match_the_approved_diff_when_a_pinned_booking_is_kept(sched):
    _generate(sched)
    session = Session.objects.filter(track=sched.track).order_by("starts_at").first()
    Booking.objects.create(session=session, participant=sched.participant, pinned=True)
    run = services.plan_week(actor=sched.director, organization=sched.org,
                             week_start=sched.next_monday, time_limit_seconds=10)
    proposal = run.proposal
    adds = [r for r in proposal.diff if r.change == "add"]
    assert session.title not in {r.what for r in adds if r.at == session.starts_at
                                 and r.participant == str(sched.participant.pk)}
    counts = services.plan_apply(actor=sched.director, run=run)
    group_adds = sum(1 for r in adds if not r.what.startswith(("Individual", "Family", "Medication")))
    assert counts["group_added"] == group_adds
    assert counts["appointments_added"] == len(adds) - group_adds
    assert counts["group_removed"] == counts["appointments_removed"] == 0
    assert sum(counts.values()) == proposal.adds + proposal.removes


def test_applying_a_plan_twice_changes_nothing_the_second_time(sched):
    _generate(sched)
    run = services.plan_week(actor=sched.director, organization=sched.org,
                             week_start=sched.next_monday, time_limit_seconds=10)
    services.plan_apply(actor=sched.director, run=run)
    before = sorted(Booking.objects.values_list("pk", "status"))
    with pytest.raises(InvalidTransition, match="already applied"):
        services.plan_apply(actor=sched.director, run=PlanRun.objects.get(pk=run.pk))
    assert sorted(Booking.objects.values_list("pk", "status")) == before


def test_the_proposal_has_a_declared_shape_that_round_trips(sched):
    _generate(sched)
    run = services.plan_week(actor=sched.director, organization=sched.org,
                             week_start=sched.next_monday, time_limit_seconds=10)
    proposal = run.proposal
    assert isinstance(proposal.metrics, PlanMetrics)
    assert PlanProposal.from_json(proposal.to_json()) == proposal
    assert proposal.to_json() == run.result


@pytest.mark.parametrize(("status", "gap", "words"), [
    ("OPTIMAL", 0.0, "The best possible plan was found."),
    ("FEASIBLE", 0.0, "The best possible plan was found."),
    ("FEASIBLE", 0.013, "Within 2 % of the best possible plan."),
    ("FEASIBLE", 0.02, "Within 2 % of the best possible plan."),
    ("FEASIBLE", 0.081, "A good plan, at most 9 % from the best possible"),
])
def test_plan_quality_is_said_in_the_clinics_words(status, gap, words):
    m = PlanMetrics(participants=3, status=status, method="cp-sat", objective=1000,
                    bound=int(1000 * (1 - gap)), gap=gap, solve_seconds=1.0,
                    share_meeting_minimum=1.0, greedy_share_meeting_minimum=1.0,
                    greedy_objective=1200, appointments=3, due_appointments=3, cadence_met=True)
    assert m.quality.startswith(words)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_plans_the_week_reporting_from_the_solver(sched):
    """The worker runs the job outside any request; the solver's progress (from its own
    threads) reaches the job row through their own connections."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a database it can share (PostgreSQL)")
    _generate(sched)
    job = services.plan_week_start(actor=sched.director, organization=sched.org,
                                   week_start=sched.next_monday, time_limit_seconds=5)
    root = Path(__file__).resolve().parents[2]
    s = connection.settings_dict
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}:{root}",
           "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"}
    env.pop("TEST_DATABASE_NAME", None)
    # The worker's clock starts where the test's is (the suite may run at a set instant,
    # OPENIOP_TEST_NOW): the week it plans must still be ahead of it.
    from django.utils import timezone

    env["OPENIOP_WORKER_TEST_NOW"] = timezone.now().isoformat()
    worker = ("import os, time_machine; from datetime import datetime; "
              "time_machine.travel(datetime.fromisoformat(os.environ['OPENIOP_WORKER_TEST_NOW']),"
              " tick=True).start(); from django.core.management import execute_from_command_line;"
              " execute_from_command_line(['django', 'jobs_worker', '--batch'])")
    done = subprocess.run([sys.executable, "-c", worker], env=env,
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.best["bound"] is not None and job.heartbeat_at >= job.started_at
    assert PlanRun.objects.get(code=job.result["plan"]).created_by == sched.director


@pytest.mark.parametrize("method, words", [
    ("cp-sat", "Kept the solver's plan"),
    ("greedy", "Kept the quick first plan: the solver found nothing better"),
    ("seats-first", "Kept a plan with seats and tracks decided first"),
    ("cadence-first", "Kept a plan that books the due appointments the quick first plan missed"),
])
def test_the_plan_says_which_plan_was_kept(method, words):
    m = PlanMetrics(participants=3, status="FEASIBLE" if method == "cp-sat" else "GREEDY_FALLBACK",
                    method=method, objective=1000, bound=900, gap=0.1, solve_seconds=1.0,
                    share_meeting_minimum=1.0, greedy_share_meeting_minimum=1.0,
                    greedy_objective=1200, appointments=3, due_appointments=3, cadence_met=True)
    assert m.kept.startswith(words)
