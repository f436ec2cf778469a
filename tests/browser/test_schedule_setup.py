"""The director keeps the schedule's set-up in the app: adds a closure on the templates
page, edits a staff member's hours; both pages look like the rest of the app."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from openiop.accounts.models import User
from openiop.participants.models import Participant
from openiop.scheduling.models import SiteClosure, StaffHours

from .conftest import screenshot, settle, sign_in


def test_director_manages_templates_closures_and_staff_hours(demo, page):
    sign_in(page, "director")
    page.goto("/schedule/templates/")
    page.wait_for_selector("h1:has-text('Session templates')")
    assert page.get_by_role("link", name=re.compile(r"^Edit ")).count() > 5
    day = timezone.localdate() + timedelta(days=40)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Reason").fill("Building maintenance")
    page.get_by_role("button", name="Add closure").click()
    settle(page)
    assert SiteClosure.objects.filter(date=day, reason="Building maintenance").exists()
    assert page.get_by_text("Building maintenance").first.is_visible()
    screenshot(page, "schedule-templates")

    page.get_by_role("link", name="Staff hours").first.click()
    page.wait_for_selector("h1:has-text('Staff hours')")
    lmft = User.objects.get(username="lmft")
    page.get_by_role("link", name=f"Edit hours of {lmft}").click()
    screenshot(page, "schedule-staff-edit")
    page.get_by_label("Most hours a week").fill("24")
    page.get_by_role("button", name="Save limit").click()
    settle(page)
    lmft.staff_profile.refresh_from_db()
    assert lmft.staff_profile.max_weekly_hours == 24
    page.goto("/schedule/staff/")
    assert page.locator("tbody tr").count() >= 5
    screenshot(page, "schedule-staff-hours")
    assert StaffHours.objects.exists()

    page.goto("/schedule/templates/")
    page.get_by_role("link", name=re.compile(r"^Edit Family session")).first.click()
    page.wait_for_selector("h1:has-text('Edit')")
    assert page.get_by_label("Facilitator must hold one of").input_value() == "LMFT"
    screenshot(page, "schedule-template-edit")
    person = Participant.objects.get(user__username="participant")
    page.goto(f"/schedule/participants/{person.code}/")
    page.wait_for_selector("#bookings")
    screenshot(page, "schedule-tab-manage")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
