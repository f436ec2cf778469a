"""Every participant URL x every staff persona, compared with the declared table.

The isolation walk (tests/participants/test_isolation.py) proves other organizations reach
nothing; this one proves that inside the organization each persona reaches exactly what
`openiop.access.policy.TABLE` says, for a 42 CFR Part 2 participant and for one who is not.
The expectation is read from the table cells directly (rule(role, kind, relationship)),
not from the code that enforces them.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from openiop.access.policy import GATE_PAGES, PAGE_KINDS, Rel, rule
from openiop.accounts.permissions import Perm, has_perm
from openiop.core.navigation import CHART_TABS
from tests.conftest import login
from tests.urlwalk import fill, participant_routes

PERSONAS = ["clinician_on_team", "clinician_off_team", "nurse", "prescriber", "intake",
            "front_desk", "billing", "admin", "director"]
ON_TEAM = {"clinician_on_team", "director"}

# Pages that take only the participant and answer a GET: the role's page permission.
TAB_PERMS: dict[str, Perm | tuple[Perm, ...]] = {
    item.url_name: item.perm for item in CHART_TABS if item.perm is not None}
TAB_PERMS["portal:staff_messages"] = Perm.CLINICAL_VIEW


def expected(persona: str, role: str, kind: str, action: str, part2: bool) -> bool:
    rels = {Rel.SAME_ORGANIZATION} | ({Rel.CARE_TEAM} if persona in ON_TEAM else set())
    for rel in rels:
        cell = rule(role, kind, rel)
        if cell is None or (action != "view" and not cell.allows_change):
            continue
        if cell.part2_excluded and part2:
            continue
        return True
    return False


def _has(user, perm) -> bool:
    perms = perm if isinstance(perm, tuple) else (perm,)
    return any(has_perm(user, p) for p in perms)


@pytest.mark.parametrize("which", ["part2", "plain"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_participant_url_matches_the_table(clinic, persona, which):
    user = clinic.personas[persona]
    participant = clinic.w.participant if which == "part2" else clinic.plain
    # The plain participant's care team is the world's clinician too (tests/access/conftest).
    client = login(user)
    checked = 0
    for route in participant_routes():
        url = fill(route, str(participant.code))
        name = get_resolver().resolve(url).view_name
        kind = PAGE_KINDS[name]
        if kind is None:
            continue
        simple = route.endswith("participants/<uuid:code>/") or name == "portal:staff_messages"
        get = client.get(url).status_code
        if name in GATE_PAGES:
            page = client.get(url)
            if expected(persona, user.role, kind, "view", which == "part2"):
                assert page.status_code == 200 and b"Break the glass" not in page.content, name
            elif has_perm(user, Perm.CLINICAL_VIEW):
                assert page.status_code == 200 and b"Break the glass" in page.content, name
            else:
                assert page.status_code == 404, name
            checked += 1
            continue
        if simple and name in TAB_PERMS:
            allowed = expected(persona, user.role, kind, "view", which == "part2")
            assert (get == 200) == (allowed and _has(user, TAB_PERMS[name])), (
                persona, name, get, allowed)
            checked += 1
            continue
        post = client.post(url, {}).status_code
        assert get < 500 and post < 500, (name, get, post)
        if not expected(persona, user.role, kind, "view", which == "part2"):
            assert {get, post} <= {404, 405}, (persona, name, get, post)
        elif not expected(persona, user.role, kind, "change", which == "part2"):
            assert post in (404, 405), (persona, name, post)
        checked += 1
    assert checked >= 50
