"""The week grid (the clinic's /schedule/ and a chart's Schedule tab) passes axe-core with
no serious or critical violation, names each day for screen readers and keeps its look:
eight columns (hours and seven days) with events placed inside their day."""

from __future__ import annotations

from openiop.access.decisions import is_care_team as is_on_care_team
from openiop.accounts.models import User
from openiop.participants.models import Participant

from .conftest import settle, sign_in
from .test_finder import axe_violations


def _check_grid(page) -> None:
    grid = page.locator(".weekgrid")
    assert grid.count() == 1
    assert axe_violations(page) == []
    columns = page.evaluate(
        "() => getComputedStyle(document.querySelector('.weekgrid')).gridTemplateColumns")
    assert len(columns.split()) == 8
    days = page.locator(".weekgrid .wg-day")
    assert days.count() == 7
    labels = [days.nth(i).get_attribute("aria-label") for i in range(7)]
    assert labels[0].startswith("Monday, ") and labels[6].startswith("Sunday, ")
    # Every event lies inside its day column.
    inside = page.evaluate("""() => [...document.querySelectorAll('.weekgrid .wg-event')].every(e => {
        const d = e.closest('.wg-day').getBoundingClientRect(), r = e.getBoundingClientRect();
        return r.left >= d.left - 1 && r.right <= d.right + 1; })""")
    assert inside


def test_the_week_grid_passes_axe_on_the_schedule_and_a_chart_tab(demo, page):
    sign_in(page, "clinician")
    page.goto("/schedule/")
    settle(page)
    _check_grid(page)
    assert page.locator(".weekgrid .wg-event").count() >= 1

    clinician = User.objects.get(username="clinician")
    person = next(p for p in Participant.objects.filter(episodes__status="active").order_by("mrn")
                  if is_on_care_team(clinician, p))
    page.goto(f"/schedule/participants/{person.code}/")
    settle(page)
    _check_grid(page)
