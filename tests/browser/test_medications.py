"""A demo prescriber reconciles, adjusts a dose with a reason, acknowledges an interaction
warning, and looks at the medication timeline."""

from __future__ import annotations

import re

from openiop.accounts.models import User
from openiop.medications.models import InteractionAcknowledgement, MedicationOrder, Reconciliation

from .conftest import screenshot, settle, sign_in

SEROTONERGIC = ["sertraline", "escitalopram", "fluoxetine", "venlafaxine"]


def test_prescriber_reconciles_adjusts_and_acknowledges_a_warning(demo, page):
    prescriber = User.objects.get(username="prescriber")
    order = (MedicationOrder.objects
             .filter(status="active", source="clinic", prescriber=prescriber,
                     catalog_key__in=SEROTONERGIC, participant__episodes__status="active")
             .exclude(participant__medication_orders__catalog_key="trazodone")
             .order_by("participant__mrn").first())
    assert order is not None, "the demo should have a prescriber's antidepressant patient"
    person = order.participant
    sign_in(page, "prescriber")

    page.goto(f"/medications/participants/{person.code}/")
    assert page.get_by_role("heading", name="Medications", exact=True).is_visible()

    # 1. Reconcile at step-down: every active medication continued.
    page.get_by_role("link", name="Reconcile").click()
    page.get_by_label("Transition").select_option("step_down")
    page.get_by_role("button", name="Record reconciliation").click()
    settle(page)
    page.get_by_text("Medication reconciliation recorded.").wait_for(timeout=20_000)
    assert page.get_by_text("Medication reconciliation recorded.").is_visible()
    assert Reconciliation.objects.filter(participant=person, point="step_down",
                                         performed_by=prescriber).exists()

    # 2. Adjust the antidepressant's dose with a reason.
    from openiop.medications.rules import catalog

    ceiling = catalog()[order.catalog_key].max_single_dose
    target = order.dose * 2 if order.dose * 2 <= ceiling else order.dose / 2
    new_dose = str(target.normalize())
    page.locator(f"a[href$='/orders/{order.code}/']").click()
    page.get_by_label("New dose").fill(new_dose)
    page.locator("#id_reason").select_option("dose_titration")
    page.locator("#id_note").fill("Partial response at 8 weeks")
    page.get_by_role("button", name="Save change").click()
    settle(page)
    # The demo's chart may raise a warning on the new dose too (which depends on the day it
    # was built: on a Monday it found one); like any warning it is acknowledged with a reason.
    going_ahead = page.get_by_label(re.compile("Reason for going ahead"))
    if going_ahead.count():
        for i in range(going_ahead.count()):
            going_ahead.nth(i).fill("Titration reviewed with the participant")
        page.get_by_role("button", name="Acknowledge and save").click()
        settle(page)
    page.get_by_text(re.compile("was changed")).wait_for(timeout=20_000)
    order.refresh_from_db()
    assert str(order.dose.normalize()) == new_dose
    assert order.changes.last().reason == "dose_titration"

    # 3. Add trazodone: the serotonergic warning must be acknowledged with a reason.
    page.get_by_role("link", name="Add medication").click()
    page.locator("#id_catalog_key").select_option("trazodone")
    page.locator("#id_dose").fill("50")
    page.locator("#id_frequency").select_option("qhs")
    page.get_by_label("Indication").fill("Insomnia")
    page.get_by_role("button", name="Save medication").click()
    settle(page)
    warning = page.get_by_role("heading", name=re.compile("Warnings? to acknowledge"))
    assert warning.is_visible()
    screenshot(page, "medication-interaction-warning")
    assert not MedicationOrder.objects.filter(participant=person, catalog_key="trazodone").exists()
    # The serotonergic warning, and any other this chart raises (e.g. no allergy statement).
    reasons = page.get_by_label(re.compile("Reason for going ahead"))
    assert reasons.count() >= 1
    for i in range(reasons.count()):
        reasons.nth(i).fill("Low-dose trazodone for sleep; counseled on serotonin syndrome signs")
    page.get_by_role("button", name="Acknowledge and save").click()
    settle(page)
    assert page.get_by_text(re.compile("was added to the medication list")).is_visible()
    assert InteractionAcknowledgement.objects.filter(
        order__participant=person, rule_id="serotonergic_combination",
        acknowledged_by=prescriber).exists()

    # 4. The timeline shows the step and the new medication.
    # One chart per medication, each on its own scale.
    page.wait_for_function(
        "() => { const c = [...document.querySelectorAll(\"canvas[id^='dose-']\")];"
        " return c.length >= 2 && c.every(x => x._chart); }")
    page.locator("#tl-head").scroll_into_view_if_needed()
    screenshot(page, "medication-timeline")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_medication_dashboard_lists_what_needs_attention(demo, page):
    sign_in(page, "prescriber")
    page.get_by_role("link", name="Medications").first.click()
    settle(page)
    assert page.get_by_role("heading", name="Overdue medication reviews").is_visible()
    assert page.get_by_role("heading", name="Naloxone gaps").is_visible()
    screenshot(page, "medication-dashboard")


def test_participant_sends_an_adherence_check_in_on_a_phone(demo, phone_page):
    from openiop.medications.models import AdherenceCheck

    sign_in(phone_page, "participant")
    phone_page.goto("/medications/my/adherence/")
    assert phone_page.get_by_role("heading", name="My medications").is_visible()
    phone_page.get_by_label("How many doses did you miss in the past 7 days?").fill("1")
    phone_page.get_by_role("button", name="Send check-in").click()
    settle(phone_page)
    assert phone_page.get_by_text("Your care team will see your check-in").is_visible()
    assert AdherenceCheck.objects.filter(reporter="participant",
                                         participant__user__username="participant",
                                         doses_missed=1).exists()
    screenshot(phone_page, "medication-portal-adherence")
