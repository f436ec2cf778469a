"""Staff on the floor use phones: every staff page (the gallery's list) fits a 390 px
screen without sideways scrolling, and the main navigation folds into a menu instead of
wrapping into rows. Screenshots: var/screenshots/phone-staff-<page>.png."""

from __future__ import annotations

import pytest

from .conftest import screenshot
from .test_gallery import PHONE_WIDTH, Gallery, visit_staff_pages


@pytest.mark.parametrize("clinician", [True, False], ids=["clinician", "other-roles"])
def test_every_staff_page_fits_a_phone(demo, phone_page, clinician):
    phone = Gallery(phone_page, phone=True)
    visit_staff_pages(phone, prefix="phone-staff-", clinician=clinician)
    assert not phone.problems, "pages that do not fit a phone:\n" + "\n".join(phone.problems)


def test_the_navigation_is_a_compact_menu_on_a_phone(demo, phone_page):
    page = phone_page
    phone = Gallery(page, phone=True)
    phone.sign_in_as("director")
    page.goto("/notes/")
    header = page.locator("header.topbar")
    toggle = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    one_row = page.locator(".brand").bounding_box()["height"]
    assert header.bounding_box()["height"] <= 2 * one_row + 40  # brand row (+ user row)
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert nav.get_by_role("link", name="Notes").is_visible()
    screenshot(page, "phone-staff-menu-open", full_page=False)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1
    toggle.click()
    assert not nav.is_visible()
    assert not phone.errors


def test_the_navigation_stays_a_bar_on_a_desktop(demo, page):
    phone = Gallery(page)
    phone.sign_in_as("director")
    page.goto("/notes/")
    assert page.get_by_role("navigation", name="Main").get_by_role("link",
                                                                   name="Notes").is_visible()
    assert not page.get_by_role("button", name="Menu").is_visible()
