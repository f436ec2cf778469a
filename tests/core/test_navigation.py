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


def _more(html: str) -> list[str] | None:
    """The entries under "More" in the main navigation, or None when there is no "More"."""
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    if '<li class="nav-more">' not in nav:
        return None
    return re.findall(r'<a href="[^"]*"[^>]*>([^<]+)</a>', nav.split("<details", 1)[1])


def test_the_directors_administrative_entries_fold_under_more(as_director, as_clinician):
    # Two or more administrative entries go under "More" (the bar stays one line at 1366 px,
    # tests/browser/test_topbar.py); a single one stays in the bar.
    assert _more(as_director.get("/audit/").content.decode()) == [
        "Programs", "Audit", "Staff", "Jobs"]
    html = as_director.get("/audit/").content.decode()
    assert '<details class="has-current">' in html and _current(html) == ["Audit"]
    html = as_clinician.get("/notes/").content.decode()
    assert _more(html) is None and ">Programs</a>" in html
