"""The participant portal on a phone, and the family view limited to consented parts."""

from __future__ import annotations

import re

from django.utils import timezone

from openiop.intake.models import MeasureResponse
from openiop.participants.models import Consent
from openiop.skills.models import CravingLog, SkillPractice

from .conftest import screenshot, settle, sign_in


def _crisis_link_visible(page) -> None:
    link = page.locator("a.crisis-link")
    assert link.is_visible() and link.get_attribute("href") == "tel:988"


def test_participant_checks_in_logs_and_opens_the_safety_plan_on_a_phone(demo, phone_page):
    page = phone_page
    sign_in(page, "participant")
    assert page.url.endswith("/portal/")
    assert page.get_by_role("heading", name=re.compile("^Hi ")).is_visible()
    _crisis_link_visible(page)
    screenshot(page, "portal-week")

    page.get_by_role("link", name="Weekly check-in: PHQ-9").click()
    settle(page)
    for i in range(1, 10):
        page.locator(f"input[name=q{i}][value='1']").check()
    screenshot(page, "portal-checkin-form", full_page=False)
    page.get_by_role("button", name="Send my answers").click()
    settle(page)
    assert page.get_by_role("heading", name="Thank you").is_visible()
    # The demo has a score history; the check-in just sent is the latest response.
    response = MeasureResponse.objects.filter(
        participant__user__username="participant", instrument="phq9").latest("completed_at")
    assert response.total == 9 and response.source == "portal"
    screenshot(page, "portal-checkin-done")

    cravings_before = CravingLog.objects.filter(participant__user__username="participant").count()
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Cravings").click()
    settle(page)
    page.locator("input[name=intensity][value='6']").check()
    page.get_by_label("Trigger").fill("Walked past the old bar")
    page.get_by_label("What helped?").fill("Called my sister")
    page.get_by_role("button", name="Save").click()
    settle(page)
    assert page.get_by_text("Craving logged").is_visible()
    assert CravingLog.objects.filter(participant__user__username="participant").count() == cravings_before + 1
    page.wait_for_selector("canvas#craving-trend")
    page.wait_for_timeout(600)  # let Chart.js finish its first draw
    _crisis_link_visible(page)
    screenshot(page, "portal-cravings")

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Skills").click()
    settle(page)
    page.get_by_label("Skill").select_option(label="Paced breathing")
    page.locator("input[name=helpfulness][value='8']").check()
    page.get_by_label("Note").fill("Before my shift")
    page.get_by_role("button", name="Save practice").click()
    settle(page)
    assert page.get_by_text("Logged: Paced breathing").is_visible()
    assert SkillPractice.objects.filter(participant__user__username="participant", note="Before my shift",
                                        helpfulness=8).exists()
    screenshot(page, "portal-skills")

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="My plans").click()
    settle(page)
    screenshot(page, "portal-plans")
    page.get_by_role("link", name="Open").click()
    settle(page)
    assert page.get_by_role("heading", name="My safety plan").is_visible()
    assert page.get_by_role("heading", name="1. Warning signs").is_visible()
    _crisis_link_visible(page)
    screenshot(page, "portal-safety-plan")

    # The page fits the phone: nothing wider than the viewport.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width


def test_family_member_sees_only_the_consented_parts(demo, phone_page):
    page = phone_page
    sign_in(page, "family")
    assert page.url.endswith("/portal/")
    _crisis_link_visible(page)
    nav = page.get_by_role("navigation", name="Portal")
    for label in ("Family sessions", "Family education", "Notes from the team"):
        assert nav.get_by_role("link", name=label).is_visible()
    assert nav.get_by_role("link", name="Cravings").count() == 0
    screenshot(page, "portal-family-home")

    nav.get_by_role("link", name="Family education").click()
    settle(page)
    assert page.get_by_role("link", name=re.compile("For families")).first.is_visible()
    screenshot(page, "portal-family-education")
    nav = page.get_by_role("navigation", name="Portal")
    nav.get_by_role("link", name="Notes from the team").click()
    settle(page)
    screenshot(page, "portal-family-notes")

    for url in ("/portal/cravings/", "/portal/plans/safety/", "/portal/messages/"):
        assert page.goto(url).status == 404, url

    # The teen withdraws the consent: the very next request is refused.
    Consent.objects.filter(kind="family_access", related_person__user__username="family").update(
        revoked_at=timezone.now())
    assert page.goto("/portal/family/notes/").status == 404
    page.goto("/portal/")
    assert page.get_by_text("Nothing is shared with you right now").is_visible()
    screenshot(page, "portal-family-withdrawn")


def test_clinician_sees_curriculum_progress_and_the_skills_tab(demo, page):
    from openiop.participants.models import Participant

    sign_in(page, "clinician")
    page.get_by_role("link", name="Curriculum").click()
    settle(page)
    assert page.get_by_role("heading", name="Module library").is_visible()
    screenshot(page, "skills-curriculum")
    page.get_by_role("link", name="Who has covered which module in Adult Substance Use IOP").click()
    settle(page)
    assert page.locator("td.cell-covered").count() > 0
    screenshot(page, "skills-cohort")
    person = Participant.objects.get(user__username="participant")
    page.goto(f"/skills/participants/{person.code}/")
    page.wait_for_selector("canvas#craving-trend")
    page.wait_for_timeout(600)
    assert page.get_by_role("heading", name="Curriculum progress").is_visible()
    screenshot(page, "skills-chart-tab")
    page.goto("/skills/holistic/")
    assert page.get_by_role("heading", name="Holistic therapies").is_visible()
    screenshot(page, "skills-holistic")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
