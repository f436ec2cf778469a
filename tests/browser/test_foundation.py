"""A clinician signs in, searches for a participant and opens the chart."""

from __future__ import annotations

import re

from openiop.participants.models import Participant

from .conftest import screenshot, sign_in


def test_clinician_searches_and_opens_a_chart(demo, page):
    sign_in(page, "clinician")
    assert page.get_by_role("heading", name=re.compile("Good")).is_visible()
    screenshot(page, "dashboard")

    target = Participant.objects.filter(episodes__status="active").order_by("mrn").first()
    page.get_by_role("link", name="Participants").click()
    page.get_by_label("Search name or MRN").fill(target.legal_last_name)
    # htmx filters as you type; the result list updates without a reload.
    page.wait_for_selector(f"text={target.display_name}")
    screenshot(page, "participant-list")
    page.get_by_role("link", name=target.display_name).first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name=target.display_name).is_visible()
    assert page.get_by_text(f"MRN {target.mrn}").is_visible() or page.get_by_text(target.mrn).first.is_visible()
    screenshot(page, "participant-chart")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_public_landing_and_404_look_like_the_product(demo, page):
    page.goto("/")
    assert page.get_by_role("link", name="Find a program near you").is_visible()
    screenshot(page, "landing")
    response = page.goto("/definitely/not/here/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
