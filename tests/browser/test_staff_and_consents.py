"""The director's staff page and a chart's Consents tab look finished under the CSP."""

from __future__ import annotations

from openiop.participants.models import Participant

from .conftest import screenshot, settle, sign_in


def test_staff_page_and_consents_tab(demo, page):
    sign_in(page, "director")
    page.get_by_role("navigation", name="Main").locator("summary", has_text="More").click()
    page.get_by_role("link", name="Staff", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", name="Staff").is_visible()
    assert page.get_by_role("cell", name="clinician", exact=True).is_visible()
    screenshot(page, "staff-list")
    target = Participant.objects.filter(episodes__status="active").order_by("mrn").first()
    page.goto(f"/participants/{target.code}/")
    page.get_by_role("link", name="Consents").click()
    settle(page)
    assert page.get_by_role("heading", name=f"Consents of {target.display_name}").is_visible()
    page.get_by_text("42 CFR Part 2 consent").click()
    assert page.get_by_label("Recipient (name or general designation)").is_visible()
    assert page.get_by_label("The recipient is").is_visible()
    screenshot(page, "consents-tab")
    page.get_by_role("button", name="Record the Part 2 consent").click()
    settle(page)
    assert page.get_by_text("How much and what kind of information: This field is required."
                            ).first.is_visible()
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
