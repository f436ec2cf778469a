"""A clinician signs in, searches for a participant and opens the chart."""

from __future__ import annotations

import re

from openiop.participants.models import Participant

from .conftest import screenshot, settle, sign_in


def test_clinician_searches_and_opens_a_chart(demo, page):
    sign_in(page, "clinician")
    assert page.get_by_role("heading", name="My work").is_visible()
    screenshot(page, "dashboard")

    target = Participant.objects.filter(episodes__status="active").order_by("mrn").first()
    page.get_by_role("link", name="Participants").click()
    # Typing before htmx has set up the page (its scripts run at "load") sends no search:
    # under load the test typed into a page htmx did not watch yet and waited in vain.
    page.wait_for_url("**/participants/")
    page.wait_for_load_state("load")
    page.get_by_label("Search name or MRN").fill(target.legal_last_name)
    # htmx filters as you type; the result list updates without a reload.
    page.wait_for_selector(f"text={target.display_name}")
    screenshot(page, "participant-list")
    page.get_by_role("link", name=target.display_name).first.click()
    settle(page)
    assert page.get_by_role("heading", name=target.display_name).is_visible()
    assert page.get_by_text(f"MRN {target.mrn}").is_visible() or page.get_by_text(target.mrn).first.is_visible()
    screenshot(page, "participant-chart")
    # A window that ends before it starts is refused in place (htmx), naming the field.
    page.get_by_text("Add a window").click()
    page.get_by_label("Weekday").select_option(label="Tuesday")
    page.get_by_label("Start time").fill("17:00")
    page.get_by_label("End time").fill("09:00")
    page.get_by_role("button", name="Add window").click()
    page.wait_for_selector("text=End time: End time must be after the start time.")
    screenshot(page, "availability-error", full_page=False)
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_public_landing_and_404_look_like_the_product(demo, page):
    page.goto("/")
    assert page.get_by_role("link", name="Find a program near you").is_visible()
    screenshot(page, "landing")
    response = page.goto("/definitely/not/here/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()


def _csp_errors(page) -> list[str]:
    return [e for e in page.console_errors
            if "Content Security Policy" in e or "Refused to" in e]


def test_sign_in_two_factor_and_form_validation_look_finished(demo, page, settings):
    page.goto("/accounts/login/")
    assert page.get_by_role("heading", name="Sign in to OpenIOP").is_visible()
    screenshot(page, "login")
    settings.OPENIOP_REQUIRE_MFA = True
    # A new colleague follows the one-time set-up link: password, then the authenticator.
    from openiop.accounts.models import User
    from openiop.accounts.services import staff_invite

    _user, token = staff_invite(actor=User.objects.get(username="director"),
                                username="newintake", first_name="Nia", last_name="Park",
                                email="", role="intake")
    page.goto(f"/accounts/link/{token}/")
    assert page.get_by_role("heading", name="Set up your account").is_visible()
    page.locator("#id_new_password1").fill("a-long-and-unusual-passphrase")
    page.locator("#id_new_password2").fill("a-long-and-unusual-passphrase")
    screenshot(page, "account-set-up")
    page.get_by_role("button", name="Set password").click()
    settle(page)
    assert "/accounts/mfa/" in page.url
    assert page.locator(".qr svg").is_visible()
    # Until the second step is done, no navigation to pages that would only bounce back.
    assert not page.get_by_role("link", name="Participants").count()
    screenshot(page, "mfa-enrol")
    assert not _csp_errors(page)
    settings.OPENIOP_REQUIRE_MFA = False
    page.goto("/participants/new/")
    page.get_by_label("MRN").fill("RB100001")  # already used in the demo
    page.get_by_label("Legal first name").fill("Robin")
    page.get_by_label("Date of birth").fill("2099-01-01")
    page.get_by_role("button", name="Add participant").click()
    settle(page)
    assert page.get_by_text("MRN: MRN RB100001 is already used in this organization.").is_visible()
    assert page.get_by_text("Date of birth: Date of birth cannot be in the future.").is_visible()
    assert page.get_by_text("Legal last name: This field is required.").is_visible()
    # What was typed is still there.
    assert page.get_by_label("Legal first name").input_value() == "Robin"
    screenshot(page, "participant-form-errors")
    assert not _csp_errors(page)


def test_director_pages_programs_audit_admin_and_api_docs_work_under_the_csp(demo, page):
    from openiop.accounts.models import User

    sign_in(page, "director")
    page.goto("/programs/")
    assert page.get_by_role("heading", name="Programs and tracks").is_visible()
    screenshot(page, "programs")
    target = Participant.objects.order_by("mrn").first()
    page.goto(f"/participants/{target.code}/")
    page.goto("/audit/")
    assert page.get_by_role("heading", name="Audit log").is_visible()
    assert page.get_by_role("cell", name=target.mrn).first.is_visible()
    screenshot(page, "audit-log", full_page=False)

    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.get_by_text("OpenIOP API").first.is_visible()
    screenshot(page, "api-docs", full_page=False)
    assert not _csp_errors(page), _csp_errors(page)

    User.objects.filter(username="director").update(is_staff=True, is_superuser=True)
    page.goto("/admin/audit/accessevent/")
    assert page.get_by_role("heading", name="Select access event to view").is_visible()
    screenshot(page, "admin-audit", full_page=False)
    assert not _csp_errors(page), _csp_errors(page)
    assert not [e for e in page.page_errors], page.page_errors


def test_an_idle_screen_signs_itself_out(demo, page, settings):
    settings.SESSION_COOKIE_AGE = 3  # seconds, for the test; 15 minutes by default
    sign_in(page, "clinician")
    target = Participant.objects.order_by("mrn").first()
    page.goto(f"/participants/{target.code}/")
    assert page.get_by_role("heading", name=target.display_name).is_visible()
    page.wait_for_url(re.compile(r"/accounts/login/"), timeout=15_000)
    assert page.get_by_text("You were signed out after").is_visible()
    assert not page.get_by_text(target.display_name).count()
