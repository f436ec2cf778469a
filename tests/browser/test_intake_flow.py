"""Referral -> screening -> recommendation -> admission -> step-down -> discharge, in the
browser, plus the outcome chart, the program dashboard and the public self-check."""

from __future__ import annotations

import re

from django.db.models import Count

from openiop.care.models import EpisodeOfCare
from openiop.intake.models import Referral
from openiop.participants.models import Participant

from .conftest import screenshot, settle, sign_in


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    settle(page)


def answer_all(page, n_items, choice):
    for i in range(1, n_items + 1):
        page.locator(f"#id_q{i}_{choice}").check()


def test_referral_to_discharge(demo, page):
    page.on("dialog", lambda dialog: dialog.accept())
    # The intake coordinator takes the referral and does the screening.
    sign_in(page, "intake")
    page.get_by_role("link", name="Referrals").click()
    assert page.get_by_role("heading", name="Referrals").is_visible()
    screenshot(page, "referral-queue")
    page.get_by_role("link", name="New referral").click()
    page.get_by_label("Source").select_option("therapist")
    page.get_by_label("Referred by (name, unit or agency)").fill("Kim Nguyen, LPC")
    page.get_by_label("Person's name").fill("Harper Browsertest")
    page.get_by_label("Date of birth").fill("1994-06-02")
    page.get_by_label("Phone").fill("(614) 555-0177")
    page.get_by_label("Reason").fill("Weekly therapy is not enough; missing work for 3 weeks.")
    page.get_by_role("button", name="Add to the queue").click()
    page.get_by_role("button", name="Start screening").click()
    assert page.get_by_text("Screening started").is_visible()

    page.get_by_role("link", name="PHQ-9", exact=True).click()
    answer_all(page, 8, 2)
    page.locator("#id_q9_0").check()
    page.get_by_role("button", name="Score and save").click()
    page.get_by_role("link", name="GAD-7", exact=True).click()
    answer_all(page, 7, 2)
    page.get_by_role("button", name="Score and save").click()
    assert page.get_by_text("GAD-7 recorded").is_visible()
    screenshot(page, "referral-screening")
    sign_out(page)

    # The director (a clinician with admitting rights) assesses, admits, steps down, discharges.
    sign_in(page, "director")
    page.goto("/intake/")
    page.get_by_role("link", name="Harper Browsertest").click()
    page.get_by_label("Dimension 3, emotional, behavioral or cognitive conditions").select_option("2")
    page.get_by_label("Dimension 4, readiness to change").select_option("1")
    page.get_by_label("Hours a week the person can attend").fill("9")
    page.get_by_role("button", name="Recommend a level of care").click()
    recommendation = page.locator("#recommendation")
    assert recommendation.get_by_role("heading", name=re.compile("Intensive outpatient")).is_visible()
    assert recommendation.get_by_text("Dimension 3, emotional").is_visible()
    assert recommendation.get_by_text("PHQ-9 of 16").is_visible()
    recommendation.scroll_into_view_if_needed()
    screenshot(page, "recommendation")

    page.locator("#id_program").select_option(label="Adult Mental Health IOP")
    page.locator("#id_track").select_option(
        label="Adult Mental Health IOP: Evening (Mon/Tue/Thu 18:00-21:00)")
    page.get_by_label("Clinical level of care").select_option("IOP")
    page.get_by_label("Payer-authorized level").select_option("IOP")
    page.get_by_label("Primary therapist").select_option(label="Maya Reyes")
    page.get_by_role("button", name="Admit", exact=True).click()
    settle(page)
    assert page.get_by_text("was admitted to Adult Mental Health IOP").is_visible()
    person = Participant.objects.get(legal_last_name="Browsertest")
    episode = EpisodeOfCare.objects.get(participant=person)
    assert episode.status == "active"
    assert Referral.objects.get(name="Harper Browsertest").status == "admitted"

    change_form = page.locator("#level-change")
    change_form.get_by_label("New level of care").select_option("OP")
    change_form.get_by_label("Reason").fill("PHQ-9 improved; back at work full time.")
    change_form.get_by_label("Criteria met (one per line)").fill(
        "PHQ-9 below 10 on two consecutive weeks\nSafety plan in place")
    page.get_by_role("button", name="Record the change").click()
    assert page.get_by_text("Step-down recorded: IOP to OP").is_visible()
    timeline = page.get_by_role("list", name="Timeline of Adult Mental Health IOP").first
    assert timeline.get_by_text("IOP → OP").is_visible()
    screenshot(page, "care-timeline")

    discharge = page.locator("#discharge")
    discharge.get_by_label("Reason").select_option("completed")
    discharge.get_by_label("Summary").fill("Completed IOP and the step-down phase; goals met.")
    page.get_by_label("Next provider").fill("Kim Nguyen, LPC (weekly therapy)")
    page.get_by_label("Supports (groups, sponsor, family, crisis plan)").fill(
        "Alumni group; sister; 988 saved.")
    page.get_by_role("button", name="Discharge").click()
    assert page.get_by_text("was discharged").is_visible()
    episode.refresh_from_db()
    assert episode.status == "finished" and episode.discharge.next_provider.startswith("Kim")
    assert episode.level_changes.get().direction == "down"
    screenshot(page, "care-discharged")

    # The outcome chart of the active participant with the longest score history.
    veteran = (Participant.objects.filter(episodes__status="active")
               .annotate(n=Count("measure_responses")).order_by("-n", "mrn").first())
    page.goto(f"/outcomes/participants/{veteran.code}/")
    page.wait_for_function("() => !!document.getElementById('chart-phq9')._chart")
    page.wait_for_function("() => !!document.getElementById('chart-gad7')._chart")
    assert page.locator("#measure-phq9").get_by_text(re.compile("baseline")).is_visible()
    screenshot(page, "outcome-chart")
    page.goto("/outcomes/")
    page.wait_for_function("() => document.querySelectorAll('canvas').length > 0 && "
                           "[...document.querySelectorAll('canvas')].every(c => c._chart)")
    screenshot(page, "outcomes-dashboard")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_public_self_check_shows_a_crisis_banner_and_stores_nothing(demo, page):
    before = Referral.objects.count()
    page.goto("/intake/self-check/")
    assert page.get_by_role("heading", name=re.compile("Is an intensive outpatient")).is_visible()
    for i in range(1, 9):
        page.locator(f"#id_phq9-q{i}_2").check()
    page.locator("#id_phq9-q9_1").check()
    for i in range(1, 8):
        page.locator(f"#id_gad7-q{i}_1").check()
    page.get_by_text("18 or older").check()
    page.get_by_text("9 to 19 hours").check()
    page.locator("#id_ctx-substances_0").check()
    page.locator("#id_ctx-home_safe_0").check()
    page.get_by_role("button", name="See my result").click()
    assert page.locator("#crisis-banner").is_visible()
    assert page.get_by_role("heading", name=re.compile("A level of care that may fit")).is_visible()
    screenshot(page, "self-check-result")
    assert Referral.objects.count() == before
