"""A gallery of every main page, as the user who works there, for looking at them.

Each page is saved as var/screenshots/gallery-<name>.png. The test requires a 200, the
page's main heading, no console errors (Content-Security-Policy violations are console
errors), no unlabeled field or low-contrast text (axe-core, serious or critical) and, on
the phone, no page wider than the screen. Every problem is collected so one run
photographs every page; the test then fails naming all of them.
"""

from __future__ import annotations

import re

from django.utils import timezone

from openiop.access.decisions import is_care_team as is_on_care_team
from openiop.accounts.models import User
from openiop.clinical.models import Note
from openiop.clinical.selectors import current_safety_plan, treatment_plan_for
from openiop.finder.models import Listing
from openiop.intake.models import Referral
from openiop.participants.models import Participant
from openiop.scheduling.models import Session

from .conftest import screenshot, sign_in
from .test_finder import axe_violations

PHONE_WIDTH = 390
# axe-core rules about how a page looks and reads (unlabeled fields, low contrast), how it
# is reached by keyboard (a table that scrolls sideways must take focus) and how its
# structure reads to a screen reader (roles, lists, ids).
AXE_RULES = {"label", "select-name", "button-name", "link-name", "color-contrast",
             "image-alt", "aria-input-field-name", "scrollable-region-focusable",
             "aria-required-children", "aria-required-parent", "aria-valid-attr-value",
             "aria-allowed-attr", "nested-interactive", "list", "listitem",
             "document-title", "html-has-lang", "meta-viewport"}


class Gallery:
    def __init__(self, page: object, *, phone: bool = False) -> None:
        self.page = page
        self.phone = phone
        self.problems: list[str] = []
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def sign_in_as(self, username: str) -> None:
        self.page.context.clear_cookies()
        sign_in(self.page, username)
        if "/accounts/login/" in self.page.url:
            self.problems.append(f"{username}: sign-in failed")

    def visit(self, name: str, url: str, heading: str) -> None:
        self.errors.clear()
        response = self.page.goto(url)  # waits for the load event
        # ...and for htmx requests started on load (the My work count) to finish.
        self.page.wait_for_function("() => !document.querySelector('.htmx-request')")
        if self.page.locator("canvas[data-chart-spec]").count():
            self.page.wait_for_timeout(500)  # let Chart.js finish its first draw
        screenshot(self.page, f"gallery-{name}")
        if response is None or response.status != 200:
            self.problems.append(f"{name} {url}: status {response and response.status}")
            return
        h1 = self.page.locator("h1").first
        if not h1.count() or not h1.is_visible():
            self.problems.append(f"{name} {url}: no visible main heading")
        elif not re.search(heading, h1.inner_text()):
            self.problems.append(f"{name} {url}: heading {h1.inner_text()!r} !~ {heading!r}")
        if self.errors:
            self.problems.append(f"{name} {url}: console errors {self.errors[:3]}")
        broken = axe_violations(self.page, AXE_RULES)
        if broken:
            self.problems.append(f"{name} {url}: accessibility {broken}")
        if self.phone:
            width = self.page.evaluate("() => document.documentElement.scrollWidth")
            if width > PHONE_WIDTH + 1:
                self.problems.append(f"{name} {url}: {width}px wide on a {PHONE_WIDTH}px phone")


def staff_pages() -> list[tuple[str, str, str, str]]:
    """Every staff page as (username, name, url, heading pattern), each seen by the user
    who works there, in sign-in order. Shared by the gallery and the phone-width test."""
    # A chart the clinician may read in full: on their care team, with both plans.
    clinician = User.objects.get(username="clinician")
    person = next(
        p for p in Participant.objects.filter(episodes__status="active").order_by("mrn")
        if is_on_care_team(clinician, p) and current_safety_plan(p) and treatment_plan_for(p))
    code, who = person.code, re.escape(person.display_name)
    note = (Note.objects.filter(kind="group", status__in=("signed", "locked"))
            .order_by("-signed_at").first())
    screening = Referral.objects.filter(status="screening").order_by("received_at").first()
    group = (Session.objects.filter(kind="group", starts_at__lte=timezone.now())
             .order_by("-starts_at").first())
    return [
        ("clinician", "dashboard", "/dashboard/", "^My work$"),
        ("clinician", "participants", "/participants/", "^Participants$"),
        ("clinician", "chart-overview", f"/participants/{code}/", who),
        ("clinician", "chart-care", f"/programs/participants/{code}/", who),
        ("clinician", "chart-schedule", f"/schedule/participants/{code}/", who),
        ("clinician", "chart-notes", f"/notes/participants/{code}/", who),
        ("clinician", "chart-plan", f"/notes/participants/{code}/plan/", who),
        ("clinician", "chart-safety-plan", f"/notes/participants/{code}/safety-plan/", who),
        ("clinician", "chart-measures", f"/outcomes/participants/{code}/", who),
        ("clinician", "chart-skills", f"/skills/participants/{code}/", who),
        ("clinician", "chart-medications", f"/medications/participants/{code}/", who),
        ("clinician", "notes", "/notes/", "^Notes$"),
        ("clinician", "note", f"/notes/{note.code}/", "note$"),
        ("clinician", "curriculum", "/skills/", "^Curriculum$"),
        ("clinician", "holistic", "/skills/holistic/", "^Holistic therapies$"),
        ("prescriber", "medications", "/medications/", "^Medications$"),
        ("prescriber", "medication-catalog", "/medications/catalog/", "^Medication catalog$"),
        ("intake", "referrals", "/intake/", "^Referrals$"),
        ("intake", "referral", f"/intake/referrals/{screening.code}/",
         re.escape(screening.name)),
        ("intake", "intake-screening", f"/intake/referrals/{screening.code}/screen/phq9/",
         f"for {re.escape(screening.name)}"),
        ("director", "outcomes", "/outcomes/", "^Program outcomes$"),
        ("director", "programs", "/programs/", "^Programs and tracks$"),
        ("director", "audit", "/audit/", "^Audit log$"),
        ("director", "chart-access-log", f"/audit/participants/{code}/", who),
        ("director", "schedule", "/schedule/", "^Schedule$"),
        ("director", "schedule-compliance", "/schedule/compliance/",
         "^Under the weekly minimum$"),
        ("director", "schedule-flags", "/schedule/attendance-flags/", "^Attendance review$"),
        ("director", "schedule-templates", "/schedule/templates/", "^Session templates$"),
        ("director", "schedule-roster", f"/schedule/sessions/{group.code}/",
         re.escape(group.title)),
        ("director", "schedule-plan-new", "/schedule/plan/", "^Plan a week$"),
        ("director", "finder-manage", "/find/manage/", "^Program finder$"),
        ("director", "portal-inbox", "/portal/inbox/", "^Portal messages$"),
    ]


def visit_staff_pages(gallery: Gallery, *, prefix: str = "", clinician: bool | None = None) -> None:
    """Visit every staff page; `clinician=True`/`False` keeps only the clinician's pages or
    only the other roles' pages (so the work splits across test workers)."""
    signed_in = None
    for username, name, url, heading in staff_pages():
        if clinician is not None and (username == "clinician") != clinician:
            continue
        if username != signed_in:
            gallery.sign_in_as(username)
            signed_in = username
        gallery.visit(prefix + name, url, heading)


# The gallery is split in four tests (each a few dozen pages) so test workers share it.
def test_every_clinician_page_renders_its_heading_without_console_errors(demo, page):
    desk = Gallery(page)
    visit_staff_pages(desk, clinician=True)
    assert not desk.problems, "pages that look broken:\n" + "\n".join(desk.problems)


def test_every_other_staff_page_renders_its_heading_without_console_errors(demo, page):
    desk = Gallery(page)
    visit_staff_pages(desk, clinician=False)
    assert not desk.problems, "pages that look broken:\n" + "\n".join(desk.problems)


def test_every_public_page_renders_on_a_desktop_and_a_phone(demo, page, phone_page):
    desk = Gallery(page)
    listings = list(Listing.objects.filter(is_active=True).order_by("name")[:2])
    desk.visit("find", "/find/", "^Find an intensive outpatient program$")
    desk.visit("find-results", "/find/?zip=43215&radius=50", "^Find an intensive outpatient")
    desk.visit("find-listing", f"/find/{listings[0].code}/", re.escape(listings[0].name))
    compare = f"/find/compare/?id={listings[0].code}&id={listings[1].code}&zip=43215"
    desk.visit("find-compare", compare, "^Compare programs$")
    desk.visit("find-checklist", "/find/checklist/", "^Questions to ask a program$")
    desk.visit("self-check", "/intake/self-check/", "^Is an intensive outpatient program")

    phone = Gallery(phone_page, phone=True)
    phone.visit("phone-find", "/find/?zip=43215&radius=50", "^Find an intensive outpatient")
    phone.visit("phone-find-listing", f"/find/{listings[0].code}/", re.escape(listings[0].name))
    phone.visit("phone-find-compare", compare, "^Compare programs$")
    phone.visit("phone-self-check", "/intake/self-check/", "^Is an intensive outpatient")
    problems = desk.problems + phone.problems
    assert not problems, "pages that look broken:\n" + "\n".join(problems)


def test_every_portal_page_renders_on_a_phone(demo, phone_page):
    phone = Gallery(phone_page, phone=True)
    phone.sign_in_as("participant")
    for name, url, heading in [
        ("home", "/portal/", "^Hi "),
        ("checkins", "/portal/check-ins/", "^Weekly check-ins$"),
        ("homework", "/portal/homework/", "^Homework$"),
        ("skills", "/portal/skills/", "^Skills practice$"),
        ("cravings", "/portal/cravings/", "^Cravings and triggers$"),
        ("plans", "/portal/plans/", "^My plans$"),
        ("relapse-plan", "/portal/plans/relapse-prevention/", "^My relapse-prevention plan$"),
        ("safety-plan", "/portal/plans/safety/", "^My safety plan$"),
        ("messages", "/portal/messages/", "^Messages with my care team$"),
        ("sharing", "/portal/sharing/", "^Who can see my information$"),
        ("medications", "/medications/my/adherence/", "^My medications$"),
    ]:
        phone.visit(f"portal-{name}", url, heading)

    phone.sign_in_as("family")
    for name, url, heading in [
        ("home", "/portal/family/", "^Hello "),
        ("schedule", "/portal/family/schedule/", "^Family sessions$"),
        ("education", "/portal/family/education/", "^Family education$"),
        ("notes", "/portal/family/notes/", "^Notes from the team$"),
    ]:
        phone.visit(f"family-{name}", url, heading)

    assert not phone.problems, "pages that look broken:\n" + "\n".join(phone.problems)
