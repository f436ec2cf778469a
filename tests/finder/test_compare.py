"""Compare: up to three listings side by side, every field a row, differences marked."""

from __future__ import annotations

import pytest

from openiop.finder.services import listing_publish_program

from .conftest import make_listing

pytestmark = pytest.mark.django_db


def test_two_listings_side_by_side_mark_the_rows_that_differ(client):
    a = make_listing("43215", name="Alpha", payment=["medicaid"], languages=["English"])
    b = make_listing("43214", name="Beta", payment=["private"], languages=["English"])
    response = client.get("/find/compare/", {"id": [a.code, b.code], "zip": "43215"})
    assert response.status_code == 200
    rows = {r.label: r for r in response.context["rows"]}
    assert rows["Payment accepted"].values == ["Medicaid", "Private insurance"]
    assert rows["Payment accepted"].differs
    assert not rows["Languages"].differs and rows["Languages"].values == ["English", "English"]
    assert rows["Distance from 43215"].differs
    for label in ("Organization", "Address", "Phone", "Website", "Openings", "Focus",
                  "Levels of care", "Populations served", "Therapies", "Medication management",
                  "Medications for opioid use disorder", "Holistic activities", "Schedule",
                  "Hours per week", "Typical length", "Telehealth", "Insurance companies",
                  "Accreditation", "Completed the program"):
        assert label in rows, label
    assert response.content.count(b'class="differs"') == 2 * sum(r.differs for r in rows.values())
    assert b"Intensive outpatient: about 9 to 19 hours" in response.content


def test_local_programs_show_live_openings_and_suppressed_outcomes(client, world):
    local = listing_publish_program(program=world.program)
    other = make_listing(openings=2)
    response = client.get("/find/compare/", {"id": [local.code, other.code]})
    rows = {r.label: r.values for r in response.context["rows"]}
    assert rows["Openings"][0] == "9 (live)" and rows["Openings"][1].startswith("2 (")
    # One finished episode at most: the cell is under 11 people, so nothing is shown.
    assert rows["Completed the program"][0] == "Not measured yet"
    assert "fewer than 11" in rows["Met the weekly hours minimum"][0] or (
        rows["Met the weekly hours minimum"][0] == "Not measured yet")
    assert rows["Completed the program"][1] == "Not published (directory listing)"


@pytest.mark.parametrize("count", [0, 1, 4])
def test_compare_needs_two_or_three(client, count):
    codes = [make_listing().code for _ in range(count)]
    response = client.get("/find/compare/", {"id": codes})
    assert response.status_code == 400
    assert (b"at most 3" if count > 3 else b"Pick two or three") in response.content


def test_three_is_allowed_and_unknown_codes_are_ignored(client):
    codes = [str(make_listing().code) for _ in range(3)]
    ok = client.get("/find/compare/", {"id": codes})
    assert ok.status_code == 200 and len(ok.context["listings"]) == 3
    ghost = client.get("/find/compare/", {"id": [codes[0],
                                                 "00000000-0000-4000-8000-000000000000"]})
    assert ghost.status_code == 400
