"""The public finder in a real browser, at desktop and phone sizes, with an axe-core check.

A person near the demo clinic (Columbus, OH 43215) searches with filters, compares two
programs and sends a contact request that lands in the clinic's referral queue. axe-core
(vendored, tests/browser/vendor) runs on the search and compare pages; serious or critical
violations fail the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from openiop.finder.models import ContactRequest
from openiop.intake.models import Referral

from .conftest import screenshot, settle

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def axe_violations(page: object, rules: Iterable[str] | None = None) -> list[dict]:
    """Serious and critical axe-core violations on the current page (of the given rules
    only, when `rules` names some: axe runs just those, which is much faster).

    The app's Content-Security-Policy (script-src 'self') rightly refuses an injected
    inline <script>, so `add_script_tag` cannot load axe here; the DevTools protocol's
    evaluate runs the same vendored file without weakening the policy for the test.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    options: dict[str, object] = {"resultTypes": ["violations"]}
    if rules is not None:
        options["runOnly"] = {"type": "rule", "values": sorted(rules)}
    result = page.evaluate("async (options) => await axe.run(document, options)", options)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def search_near_demo_clinic(page: object) -> None:
    page.goto("/find/")
    page.get_by_label("ZIP code").fill("43215")
    page.get_by_label("Distance").select_option("25")
    page.get_by_label("Evenings").check()
    page.get_by_label("Medicaid").check()
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#results-heading")
    settle(page)


def test_search_compare_and_contact_on_a_desktop(demo, page):
    search_near_demo_clinic(page)
    heading = page.locator("#results-heading").inner_text()
    assert re.search(r"\d+ programs? within 25 miles of 43215", heading), heading
    cards = page.locator(".result-card")
    assert cards.count() >= 2
    # Every card met the filters, and says why.
    first = cards.first
    first.get_by_text("Why this matches").click()
    assert first.get_by_text("Takes Medicaid").is_visible()
    assert "Hours: evenings" in first.inner_text()
    assert page.get_by_text("Levels of care, in plain language").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "finder-search")

    cards.nth(0).get_by_label(re.compile("^Compare")).check()
    cards.nth(1).get_by_label(re.compile("^Compare")).check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_selector("table.compare")
    assert page.get_by_role("heading", name="Compare programs").is_visible()
    assert page.locator("table.compare thead th").count() == 3
    assert page.locator("tr.row-differs").count() >= 1
    assert axe_violations(page) == []
    screenshot(page, "finder-compare")

    # A program on this instance: send a contact request.
    page.goto("/find/?zip=43215&radius=25&schedule=evening&payment=medicaid")
    page.get_by_role("link", name=re.compile("Ask them to contact me")).first.click()
    page.wait_for_selector("#contact")
    page.get_by_label("Your name").fill("Jordan")
    page.get_by_label("I am asking").select_option("family")
    page.get_by_label("Phone", exact=True).fill("(614) 555-0188")
    page.get_by_label("What do you need help with?").fill(
        "My partner needs evening help with drinking; she works days.")
    page.get_by_label("I agree to the statement above.").check()
    screenshot(page, "finder-contact-form")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_selector("text=Your request was sent")
    assert page.get_by_text("Here is what happens next").is_visible()
    screenshot(page, "finder-contact-sent")
    contact = ContactRequest.objects.get()
    assert contact.status == "delivered"
    assert Referral.objects.get(code=contact.referral_code).source == "finder"
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_search_and_compare_on_a_phone(demo, phone_page):
    page = phone_page
    search_near_demo_clinic(page)
    assert page.locator(".result-card").count() >= 2
    assert axe_violations(page) == []
    screenshot(page, "finder-search-phone")
    boxes = page.locator(".result-card").get_by_label(re.compile("^Compare"))
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_selector("table.compare")
    assert axe_violations(page) == []
    screenshot(page, "finder-compare-phone")


def test_a_bad_zip_gets_a_clear_message_in_the_browser(demo, page):
    page.goto("/find/?zip=00000")
    assert page.get_by_text("We don't know the ZIP code 00000").first.is_visible()
    assert axe_violations(page) == []


def test_a_fourth_compare_box_cannot_be_ticked(demo, page):
    """compare.js disables the other boxes once three are ticked, and says why; the
    server still refuses four (tests/finder/test_compare.py)."""
    search_near_demo_clinic(page)
    boxes = page.locator(".result-card").get_by_label(re.compile("^Compare"))
    assert boxes.count() >= 4
    for n in range(3):
        boxes.nth(n).check()
    fourth = boxes.nth(3)
    assert fourth.is_disabled()
    assert "up to 3 programs" in fourth.get_attribute("title")
    assert page.get_by_text("You can compare up to 3 programs.").is_visible()
    assert page.locator(".result-card").nth(3).get_by_text("(3 already ticked)").is_visible()
    screenshot(page, "finder-compare-limit", full_page=False)
    boxes.nth(0).uncheck()
    assert fourth.is_enabled()
    assert not page.get_by_text("(3 already ticked)").count()
    fourth.check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_selector("table.compare")
    assert page.locator("table.compare thead th").count() == 4
    assert not page.page_errors
