"""A facilitator writes a group note for a demo group (attendees pre-filled from
attendance), signs it and adds an addendum; then opens a treatment plan."""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef
from django.utils import timezone

from openiop.accounts.models import User
from openiop.clinical.models import Note, TreatmentPlan
from openiop.scheduling.models import Attendance, Session

from .conftest import screenshot, settle, sign_in


def _group_without_note() -> Session:
    """A recent attended group with no note yet (or only a draft, which is discarded),
    led by the clinician if possible, else by another licensed facilitator. On some days
    of the week the demo has documented all of one person's groups; some of those notes
    are already billed, and a billed note is kept (charges protect it)."""
    attended = Attendance.objects.filter(booking__session=OuterRef("pk"),
                                         status__in=("present", "late", "left_early"))
    for username in ("clinician", "counselor", "lmft"):
        recent = Session.objects.filter(
            kind="group", facilitator__username=username, ends_at__lte=timezone.now(),
            ends_at__gte=timezone.now() - timezone.timedelta(days=13),
        ).filter(Exists(attended)).order_by("-starts_at")
        session = recent.filter(notes__isnull=True).first()
        if session is None:
            session = recent.filter(notes__status="draft").first()
            Note.objects.filter(session=session, status="draft").delete()
        if session is not None:
            return session
    raise AssertionError("the demo has no recent attended group without a signed note")


def test_clinician_writes_signs_and_amends_a_group_note(demo, page):
    clinician = User.objects.get(username="clinician")
    session = _group_without_note()
    attendees = list(
        Attendance.objects.filter(booking__session=session,
                                  status__in=("present", "late", "left_early"))
        .select_related("booking__participant")
    )
    person = attendees[0].booking.participant
    sign_in(page, session.facilitator.username)

    # The facilitator finds the group under "Sessions to document" (or on the chart).
    page.get_by_role("link", name="Notes").click()
    settle(page)
    screenshot(page, "notes-dashboard")
    row = page.locator(f"#to-document tr[data-session='{session.code}'] button")
    if row.count() == 0:
        page.goto(f"/notes/participants/{person.code}/")
        row = page.locator(f"tr[data-session='{session.code}'] button")
    row.click()
    settle(page)
    assert page.get_by_role("heading", name="Group session note").is_visible()
    entries = page.locator("fieldset.entry")
    assert entries.count() == len(attendees)
    for a in attendees:
        assert page.get_by_text(a.booking.participant.display_name).first.is_visible()

    page.get_by_label("Topic").fill("Coping with cravings on weekends")
    page.get_by_label("Interventions").fill("CBT chain analysis; role play of refusal skills")
    for n in range(entries.count()):
        box = entries.nth(n)
        box.get_by_label("Participation").fill(f"Shared {n + 1} examples and gave feedback.")
        box.get_by_label("Response to the intervention").fill(
            f"Mapped trigger {n + 1} to a refusal line.")
        box.get_by_label("Progress toward the objective").fill(
            f"Step {n + 1} of the objective reached.")
        box.locator("textarea[name$='-plan']").fill(f"Practice the refusal line {n + 2} times.")
    # htmx autosaves as you type; the status names the new version.
    page.wait_for_selector("#autosave-status:has-text('Saved')")
    note = Note.objects.get(session=session)
    assert note.version > 1 and note.sections["topic"] == "Coping with cravings on weekends"

    # Signing right away: the page waits for an autosave in flight, then signs.
    page.get_by_role("button", name="Sign note").click()
    page.wait_for_selector("text=Electronically signed by", timeout=20_000)
    note.refresh_from_db()
    credentials = session.facilitator.staff_profile.credentials
    assert note.status == "signed" and note.signed_as.endswith(credentials[-1])

    # An addendum about one attendee goes to that attendee's entry only, chosen explicitly.
    page.get_by_label("This addendum is for").select_option(
        label=f"Only {person.display_name}'s entry (MRN {person.mrn})")
    page.get_by_label("Reason").fill("late entry")
    page.get_by_role("textbox", name="Addendum").fill(
        "After group, the sponsor confirmed the meeting plan.")
    page.get_by_role("button", name="Sign and add addendum").click()
    settle(page)
    assert page.get_by_text("Addendum signed and added.").is_visible()
    assert note.addenda.get().participant == person
    assert page.get_by_text(f"to {person.display_name}'s entry only").is_visible()
    # A whole-note addendum is refused until the warning naming the charts is confirmed.
    page.get_by_label("This addendum is for").select_option("whole")
    page.get_by_label("Reason").fill("clarification")
    page.get_by_role("textbox", name="Addendum").fill("The group ran 10 minutes over.")
    page.get_by_role("button", name="Sign and add addendum").click()
    n = len(attendees)
    assert page.get_by_text(f"shown in the charts of all {n} attendee").is_visible()
    page.get_by_label(f"Yes, add it to all {n} attendees' charts").check()
    page.get_by_role("button", name="Sign and add addendum").click()
    assert page.get_by_text("Addendum signed and added.").is_visible()
    assert note.addenda.count() == 2
    screenshot(page, "group-note")

    # A treatment plan of one of the clinician's own participants (care team).
    page.context.clear_cookies()
    sign_in(page, "clinician")
    plan = TreatmentPlan.objects.filter(episode__primary_therapist=clinician,
                                        episode__status="active").order_by("pk").first()
    page.goto(f"/notes/participants/{plan.participant.code}/plan/")
    assert page.get_by_role("heading", name="Treatment plan").is_visible()
    assert page.get_by_text(re.compile("Next review due")).is_visible()
    screenshot(page, "treatment-plan")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_an_autosave_whose_answer_is_lost_is_continued_not_a_conflict(demo, page):
    """The server saves, the answer never arrives (a node died on the way back): the page
    says the text is not saved yet, and its next save, still naming the old version, is
    written as its own continuation instead of showing a conflict."""
    from openiop.clinical.models import NoteConflictCopy

    session = _group_without_note()
    person = Attendance.objects.filter(
        booking__session=session, status__in=("present", "late", "left_early"),
    ).select_related("booking__participant").first().booking.participant
    sign_in(page, session.facilitator.username)
    page.goto(f"/notes/participants/{person.code}/")
    page.locator(f"tr[data-session='{session.code}'] button").click()
    settle(page)

    lost: list[str] = []

    def lose_the_first_answer(route):
        if lost:
            route.continue_()
            return
        route.fetch()  # the server does the work ...
        lost.append(route.request.url)
        route.abort("connectionreset")  # ... and the answer is lost

    page.route("**/notes/*/save/", lose_the_first_answer)
    page.get_by_label("Topic").fill("Weekend plans")
    page.wait_for_selector("#autosave-status .error:has-text('Not saved yet')")
    note = Note.objects.get(session=session)
    assert lost and note.version == 2 and note.sections["topic"] == "Weekend plans"

    page.get_by_label("Topic").fill("Weekend plans and who to call")
    page.wait_for_selector("#autosave-status .saved-at:has-text('Saved')")
    note.refresh_from_db()
    assert note.sections["topic"] == "Weekend plans and who to call" and note.version >= 3
    assert not NoteConflictCopy.objects.filter(note=note).exists()
    assert page.locator("#conflict-panel").inner_text().strip() == ""
    assert not page.page_errors
    screenshot(page, "note-autosave-after-lost-answer")
