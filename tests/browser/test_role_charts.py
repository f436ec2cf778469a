"""Each staff role opens a 42 CFR Part 2 participant's chart: it shows exactly the tabs the
access policy lets that role open, every tab it shows opens (no link the user cannot
follow), the overview's face sheet shows no record kind the tabs refuse, and the
break-the-glass form appears exactly where the table refuses a page that offers it.

The expected tabs are worked out from the declared table (`access.policy.rule`, through the
persona walk's `expected`) and each tab's page permission (`core.navigation.CHART_TABS`),
not from the code that filters the tabs. One signed-in page per role; each chart is saved
as var/screenshots/roles/<role>-chart.png for looking at.
"""

from __future__ import annotations

from openiop.access.policy import GATE_PAGES, PAGE_KINDS, Kind
from openiop.accounts.permissions import Perm, has_perm
from openiop.core.navigation import CHART_TABS
from openiop.participants.disclosure import is_part2_participant
from tests.access.conftest import build_clinic
from tests.access.test_persona_walk import PERSONAS, expected
from tests.factories import PASSWORD

from .conftest import screenshot, sign_in

TABS = "nav[aria-label='Chart sections'] a"
BREAK_GLASS = "button:has-text('Break the glass')"


def expected_tabs(persona: str, user: object) -> set[str]:
    """The chart tab labels this persona may open on a Part 2 participant's chart: the tab's
    page permission, and the table for its record kind (a gate page - Notes, Treatment plan
    - is shown to anyone with its permission: it offers to break the glass)."""
    labels = set()
    for item in CHART_TABS:
        if not item.allowed(user):
            continue
        kind = PAGE_KINDS[item.url_name]
        if kind is None or item.url_name in GATE_PAGES or expected(
                persona, user.role, kind, "view", part2=True):
            labels.add(item.label)
    return labels


def gate_refuses(persona: str, user: object, url_name: str) -> bool:
    """The table refuses this gate page's records to the persona: the form shows instead."""
    return not expected(persona, user.role, PAGE_KINDS[url_name], "view", part2=True)


def test_each_role_sees_only_the_chart_tabs_it_may_open(world, live_server, page, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clinic = build_clinic(world)
    participant = world.participant
    assert is_part2_participant(participant)
    chart = f"/participants/{participant.code}/"
    gate_labels = {item.label: item.url_name for item in CHART_TABS
                   if item.url_name in GATE_PAGES}
    problems: list[str] = []
    glass_seen: set[str] = set()
    for persona in PERSONAS:
        user = clinic.personas[persona]
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        sign_in(page, user.username, PASSWORD)
        response = page.goto(chart)
        assert response is not None and response.status == 200, (persona, response)
        heading = page.locator("h1").first.inner_text()
        if participant.display_name not in heading:
            problems.append(f"{persona}: chart heading {heading!r} does not name the person")
        screenshot(page, f"roles/{persona.replace('_', '-')}-chart")
        links = page.locator(TABS)
        shown = {links.nth(i).inner_text().strip(): links.nth(i).get_attribute("href")
                 for i in range(links.count())}
        want = expected_tabs(persona, user)
        if set(shown) != want:
            problems.append(f"{persona}: tabs {sorted(shown)}, the policy allows {sorted(want)}")
        # The overview's face sheet shows no more than the tabs: diagnoses with the
        # Diagnoses tab, allergies only to clinical staff the table lets read medications.
        sheet = page.locator("section[aria-labelledby='face-head'] h3")
        blocks = {sheet.nth(i).inner_text().strip() for i in range(sheet.count())}
        may_allergies = has_perm(user, Perm.CLINICAL_VIEW) and expected(
            persona, user.role, Kind.MEDICATIONS, "view", part2=True)
        if ("Diagnoses" in blocks) != ("Diagnoses" in want) or (
                ("Allergies" in blocks) != may_allergies):
            problems.append(f"{persona}: the face sheet shows {sorted(blocks)}")
        for label, href in shown.items():
            answer = page.goto(href)
            status = answer.status if answer is not None else None
            if status != 200:
                problems.append(f"{persona}: the {label} tab ({href}) answered {status}")
                continue
            glass = page.locator(BREAK_GLASS).count() > 0
            if label in gate_labels:
                refused = gate_refuses(persona, user, gate_labels[label])
                if glass != refused:
                    problems.append(f"{persona}: {label} tab {'shows' if glass else 'lacks'} "
                                    "the break-the-glass form")
                if glass:
                    glass_seen.add(persona)
            elif glass:
                problems.append(f"{persona}: the {label} tab offers to break the glass")
    assert not problems, "\n".join(problems)
    # The table's refusals that the form stands in for: off the care team, with a clinical
    # role (the director is care team; intake, front desk and billing have no Notes tab).
    assert "clinician_off_team" in glass_seen and "clinician_on_team" not in glass_seen
