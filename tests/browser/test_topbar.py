"""The staff navigation is one line at 1,366 px for every role: the director's administrative
entries fold under "More", a disclosure a keyboard and a screen reader open like any other,
and on a 390 px phone they stay reachable inside the Menu.
Screenshots: var/screenshots/topbar-<role>-1366.png, topbar-director-more.png,
phone-topbar-more.png."""

from __future__ import annotations

from openiop.accounts.models import Role
from openiop.core.navigation import STAFF_NAV

from .conftest import screenshot, sign_in
from .test_finder import AXE
from .test_gallery import PHONE_WIDTH

# One demo user per staff role (openiop.demo.generator.STAFF).
ROLE_USERS = {Role.DIRECTOR: "director", Role.ADMIN: "admin", Role.CLINICIAN: "clinician",
              Role.PRESCRIBER: "prescriber", Role.NURSE: "nurse", Role.INTAKE: "intake",
              Role.FRONT_DESK: "frontdesk", Role.BILLING: "billing"}
MORE = [item.label for item in STAFF_NAV if item.secondary]

# The bar's rows, measured in the page: the tops of the navigation's entries (one value:
# one line) and whether the brand, the navigation and the user box share one row.
MEASURE = """() => {
  const nav = document.querySelector('.mainnav > ul');
  const entries = [...nav.children].map(li => li.getBoundingClientRect());
  const row = el => { const r = el.getBoundingClientRect(); return [r.top, r.bottom]; };
  return {
    tops: [...new Set(entries.map(r => Math.round(r.top)))],
    entryHeight: Math.max(...entries.map(r => r.height)),
    navHeight: nav.getBoundingClientRect().height,
    rows: [row(document.querySelector('.brand')), row(nav),
           row(document.querySelector('.userbox'))],
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""


def header_violations(page: object) -> list[dict]:
    """Every axe-core rule's violations, whatever their impact, on the top bar only (the
    pages under it have their own checks in test_gallery)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => await axe.run('header.topbar', "
                           "{resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]


def _one_row(rows: list[list[float]]) -> bool:
    """Every box overlaps every other vertically: they sit side by side, not stacked."""
    return all(a[0] < b[1] and b[0] < a[1] for a in rows for b in rows)


def test_the_navigation_is_one_line_at_1366_px_for_every_role(demo, page):
    assert page.viewport_size["width"] == 1366
    problems = []
    for role, username in ROLE_USERS.items():
        sign_in(page, username)
        page.goto("/dashboard/")
        m = page.evaluate(MEASURE)
        screenshot(page, f"topbar-{username}-1366", full_page=False)
        if len(m["tops"]) != 1 or m["navHeight"] > m["entryHeight"] + 2:
            problems.append(f"{role}: navigation on {len(m['tops'])} lines "
                            f"({m['navHeight']:.0f} px high, one entry {m['entryHeight']:.0f})")
        if not _one_row(m["rows"]):
            problems.append(f"{role}: brand, navigation and user box not on one row {m['rows']}")
        if m["scrollWidth"] > 1366:
            problems.append(f"{role}: page {m['scrollWidth']} px wide")
    assert not problems, "\n".join(problems)


def test_the_directors_more_menu_works_by_keyboard_and_passes_axe(demo, page):
    sign_in(page, "director")
    page.goto("/dashboard/")
    nav = page.get_by_role("navigation", name="Main")
    # Every entry the director may open is in the navigation; the administrative ones wait
    # under "More", hidden until it opens.
    labels = [label.split(" · ")[0] for label in nav.locator("a").all_text_contents()]
    assert set(labels) == {item.label for item in STAFF_NAV}
    more = nav.locator("summary", has_text="More")
    for label in MORE:
        assert not nav.get_by_role("link", name=label, exact=True).is_visible()
    assert not header_violations(page)

    more.focus()
    page.keyboard.press("Enter")
    for label in MORE:
        assert nav.get_by_role("link", name=label, exact=True).is_visible()
    assert page.evaluate("() => document.querySelector('.nav-more details').open")
    assert not header_violations(page)
    screenshot(page, "topbar-director-more", full_page=False)
    # The menu's entries come next in the tab order; Escape closes it and returns focus.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == MORE[0]
    page.keyboard.press("Escape")
    assert not nav.get_by_role("link", name=MORE[0], exact=True).is_visible()
    assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
    # A click elsewhere closes it too; a page under "More" marks it as the current section.
    more.click()
    page.locator("main h1").click()
    assert not nav.get_by_role("link", name=MORE[0], exact=True).is_visible()
    more.click()
    nav.get_by_role("link", name="Audit", exact=True).click()
    page.wait_for_url("**/audit/")
    assert page.locator(".nav-more details.has-current").count() == 1
    assert nav.locator('a[aria-current="page"]').all_text_contents() == ["Audit"]
    assert not page.console_errors and not page.page_errors


def test_the_more_entries_are_in_the_phone_menu(demo, phone_page):
    page = phone_page
    sign_in(page, "director")
    page.goto("/dashboard/")
    page.get_by_role("button", name="Menu").click()
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text="More").click()
    for label in MORE:
        assert nav.get_by_role("link", name=label, exact=True).is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH + 1
    assert not header_violations(page)
    screenshot(page, "phone-topbar-more", full_page=False)
    nav.get_by_role("link", name="Staff", exact=True).click()
    page.wait_for_url("**/accounts/staff/")
