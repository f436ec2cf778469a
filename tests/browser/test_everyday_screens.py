"""Screens a clinician trusts, in the browser: a plan objective that was not saved comes
back as typed with the error by its field; closing a referral asks first; the audit log
filters by staff member and channel and shows names. Screenshots in var/screenshots/."""

from __future__ import annotations

import re

from openiop.access.decisions import is_care_team as is_on_care_team
from openiop.accounts.models import User
from openiop.clinical.selectors import treatment_plan_for
from openiop.intake.models import Referral
from openiop.participants.models import Participant

from .conftest import screenshot, settle, sign_in


def test_plan_error_referral_confirmation_and_audit_filters(demo, page):
    clinician = User.objects.get(username="clinician")
    person = next(p for p in Participant.objects.filter(episodes__status="active")
                  .order_by("mrn") if is_on_care_team(clinician, p) and treatment_plan_for(p))
    sign_in(page, "clinician")
    page.goto(f"/notes/participants/{person.code}/plan/")
    page.get_by_text("Add an objective to this goal").first.click()
    form = page.locator("form[action$='/plan/objective/']").first
    form.get_by_label("Objective").fill("Walks 20 minutes on 4 days a week")
    # A browser's date box cannot hold an impossible date; a typed-in text box can.
    form.get_by_label("Target date").evaluate("el => { el.type = 'text'; }")
    form.get_by_label("Target date").fill("2026-02-31")
    form.get_by_role("button", name="Add objective").click()
    card = page.locator("#not-saved")
    assert card.get_by_label("Objective").input_value() == "Walks 20 minutes on 4 days a week"
    assert card.get_by_text("Target date: Enter a valid date.").is_visible()
    screenshot(page, "plan-objective-not-saved", full_page=False)

    page.context.clear_cookies()
    sign_in(page, "intake")
    referral = Referral.objects.filter(status="screening").order_by("received_at").first()
    page.goto(f"/intake/referrals/{referral.code}/")
    page.get_by_text("Decline or refer elsewhere").click()
    page.locator("#close_status").select_option("declined")
    page.locator("#close_note").fill("Chose a program nearer home")
    page.get_by_role("button", name="Close the referral").click()
    confirm = page.get_by_role("button", name="Yes, close the referral")
    assert confirm.is_visible() and page.url.endswith("#close")
    confirm.scroll_into_view_if_needed()
    screenshot(page, "referral-close-confirm", full_page=False)
    page.get_by_role("link", name="Keep it open").click()
    referral.refresh_from_db()
    assert referral.status == "screening"

    page.context.clear_cookies()
    sign_in(page, "director")
    page.goto("/audit/")
    page.get_by_label("Staff member").select_option(label=clinician.get_full_name())
    page.get_by_label("Channel").select_option("page")
    page.get_by_role("button", name="Filter").click()
    settle(page)
    rows = page.locator("table tbody tr")
    assert rows.count() > 0
    assert rows.first.get_by_role("cell", name=clinician.get_full_name()).is_visible()
    assert page.get_by_role("cell", name=re.compile("^Web pages$")).first.is_visible()
    export = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert "channel=page" in export and f"staff={clinician.pk}" in export
    screenshot(page, "audit-log-filtered", full_page=False)
