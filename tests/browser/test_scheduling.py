"""The director plans next week for the demo clinic and applies it; the front desk takes
attendance for a group in one click per person; the hours chart shows the minimum."""

from __future__ import annotations

import re

from django.utils import timezone

from openiop.accounts.models import User
from openiop.care.models import Enrollment
from openiop.participants.models import Participant
from openiop.scheduling.models import Attendance, Booking, PlanRun, Session

from .conftest import screenshot, settle, sign_in
from .test_finder import axe_violations
from .test_gallery import AXE_RULES


def test_director_plans_a_week_and_staff_take_attendance(demo, page, run_worker):
    sign_in(page, "director")
    page.goto("/schedule/plan/")
    page.get_by_role("button", name="Plan next week").click()
    # Planning is a background job: the page shows its progress while a worker (the one
    # `make run` starts beside the server; here, this test) plans the week.
    settle(page)
    assert run_worker() == 1
    page.wait_for_selector("text=Who cannot reach the minimum", timeout=90_000)
    run = PlanRun.objects.get()
    assert run.result["metrics"]["participants"] > 20
    assert page.get_by_text("Meeting the minimum").is_visible()
    screenshot(page, "plan-review")
    # Track moves are their own section of the diff (proposals the director accepts or
    # declines), and the page, with its checkboxes when there are moves, stays axe-clean.
    assert page.get_by_role("heading", name="Track moves").is_visible()
    assert axe_violations(page, AXE_RULES) == []
    page.get_by_role("button", name=re.compile(r"^Apply \d+ addition")).click()
    settle(page)
    run.refresh_from_db()
    assert run.status == "applied"
    assert page.get_by_text("Plan applied").is_visible()
    # The week grid of the planned week shows the track's sessions with seats taken.
    assert page.locator(".wg-event").count() >= 6
    # A clinician's week: the groups they lead and the appointments the plan gave them.
    page.get_by_label("Show").select_option("clinician")
    page.get_by_role("button", name="Show", exact=True).click()
    settle(page)
    page.get_by_label("Which").select_option(str(User.objects.get(username="clinician").pk))
    page.get_by_role("button", name="Show", exact=True).click()
    settle(page)
    assert page.locator(".wg-event.kind-individual").count() >= 1
    screenshot(page, "week-grid")
    assert Session.objects.filter(kind="individual", starts_at__date__gte=run.week_start,
                                  bookings__status="booked").exists()

    # Attendance for the latest finished group whose note is not signed (a signed note
    # freezes attendance), as if it had not been taken yet.
    group = (Session.objects.filter(kind="group", ends_at__lt=timezone.now(), status="completed")
             .exclude(notes__status__in=("signed", "cosigned", "locked"))
             .order_by("-starts_at").first())
    assert group is not None, "the demo has no finished group without a signed note"
    Attendance.objects.filter(booking__session=group).delete()
    booked = list(Booking.objects.filter(session=group, status="booked").select_related("participant")
                  .order_by("participant__legal_last_name"))
    assert len(booked) >= 3
    page.context.clear_cookies()
    sign_in(page, "frontdesk")
    page.goto(f"/schedule/sessions/{group.code}/")
    first = page.locator(f"#row-{booked[0].code}")
    first.get_by_role("button", name="Present").click()
    page.wait_for_selector(f"#row-{booked[0].code} .badge-ok")
    second = page.locator(f"#row-{booked[1].code}")
    late_minutes = group.duration_minutes - 10  # any group length: late by ten minutes
    second.get_by_label(re.compile("Minutes attended")).fill(str(late_minutes))
    second.get_by_role("button", name="Late").click()
    page.wait_for_selector(f"#row-{booked[1].code} >> text={late_minutes} min")
    screenshot(page, "attendance-roster")
    page.get_by_role("button", name=re.compile(r"All present")).click()
    # htmx posts, then the page reloads with the count: wait for that, not for an idle
    # network (which a loaded machine can reach before the post has even started).
    page.get_by_text(re.compile(r"marked present for the full")).wait_for(timeout=30_000)
    records = {a.booking_id: a for a in Attendance.objects.filter(booking__session=group)}
    assert len(records) == len(booked)
    assert records[booked[1].pk].status == "late"
    assert records[booked[1].pk].minutes_attended == late_minutes
    assert records[booked[2].pk].minutes_attended == group.duration_minutes

    # The participant's schedule tab: the week grid and hours against the minimum.
    page.context.clear_cookies()
    sign_in(page, "clinician")
    person = Participant.objects.get(user__username="participant")
    page.goto(f"/schedule/participants/{person.code}/")
    page.wait_for_selector("#hours-chart")
    page.wait_for_timeout(600)  # let Chart.js finish its first draw
    assert page.evaluate("document.getElementById('hours-chart')._openiopSpec.threshold.value") == 9
    screenshot(page, "hours-chart")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]

    # The director records the other track this person can attend (the planner may then
    # propose a move to it): labelled checkboxes in a fieldset, axe-clean.
    page.context.clear_cookies()
    sign_in(page, "director")
    enrollment = next(e for e in Enrollment.objects.filter(status="active", episode__status="active")
                      .select_related("track__program", "episode__participant").order_by("pk")
                      if e.track.program.tracks.filter(is_active=True).count() > 1)
    page.goto(f"/schedule/participants/{enrollment.episode.participant.code}/")
    box = page.get_by_role("group", name="Other tracks they can attend").get_by_role("checkbox").first
    box.check()
    page.get_by_role("button", name="Save other tracks").click()
    settle(page)
    assert page.get_by_text("Other tracks they can attend:").first.is_visible()
    assert axe_violations(page, AXE_RULES) == []
    assert enrollment.acceptable_tracks.count() == 1
