"""The main navigation marks the section a page belongs to."""

from __future__ import annotations

import re


def _current(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', html)


def test_a_chart_tab_served_by_another_app_marks_participants_as_current(world, as_clinician):
    code = world.participant.code
    for url in (f"/medications/participants/{code}/", f"/programs/participants/{code}/",
                f"/skills/participants/{code}/"):
        response = as_clinician.get(url)
        assert response.status_code == 200, url
        # The chart tab is current in the tabs; the main navigation shows Participants only.
        nav = response.content.decode().split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
        assert _current(nav) == ["Participants"], url


def test_an_app_page_marks_its_own_section(as_clinician):
    html = as_clinician.get("/medications/").content.decode()
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert _current(nav) == ["Medications"]
