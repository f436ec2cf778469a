"""Search: ZIP + radius, every filter, sorting, pagination, bad input, query counts."""

from __future__ import annotations

import html
import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.finder.forms import SearchForm
from openiop.finder.geo import zip_point
from openiop.finder.selectors import (
    PAGE_SIZE,
    SearchCriteria,
    listing_search,
    listing_search_full_scan,
)
from tests import factories as f

from .conftest import make_listing

pytestmark = pytest.mark.django_db
COLUMBUS = zip_point("43215")


def names(client, **params):
    response = client.get("/find/", {"zip": "43215", **params})
    assert response.status_code == 200, response.content[:500]
    return [h.listing.name for h in response.context["result"].hits]


def test_radius_keeps_near_programs_and_drops_far_ones(client):
    make_listing("43215", name="Downtown")
    make_listing("43214", name="Clintonville")  # ~6 miles
    make_listing("45202", name="Cincinnati")  # ~99 miles
    assert names(client, radius=5) == ["Downtown"]
    assert names(client, radius=25) == ["Downtown", "Clintonville"]
    assert names(client, radius=100) == ["Downtown", "Clintonville", "Cincinnati"]


@pytest.mark.parametrize(("params", "match", "miss"), [
    ({"focus": "mh"}, {"focus": "mh"}, {"focus": "su"}),
    ({"focus": "su"}, {"focus": "co"}, {"focus": "mh"}),
    ({"focus": "both"}, {"focus": "co"}, {"focus": "su"}),
    ({"age_group": "adolescents"}, {"populations": ["adolescents"]}, {"populations": ["adults"]}),
    ({"schedule": ["evening", "weekend"]}, {"schedule_options": ["weekend"]},
     {"schedule_options": ["morning"]}),
    ({"family": "on"}, {"therapies": ["group", "family"]}, {"therapies": ["group"]}),
    ({"medication_management": "on"}, {"medication_management": True},
     {"medication_management": False}),
    ({"focus": "su", "moud": "any"}, {"focus": "su", "moud": ["naltrexone"]}, {"focus": "su"}),
    ({"moud": "buprenorphine"}, {"focus": "co", "moud": ["buprenorphine"]},
     {"focus": "co", "moud": ["methadone"]}),
    ({"holistic": ["yoga", "mindfulness"]}, {"holistic": ["mindfulness"]}, {"holistic": ["art"]}),
    ({"payment": ["medicaid"]}, {"payment": ["medicaid", "private"]}, {"payment": ["private"]}),
    ({"payment": ["private"], "insurer": "Aetna"},
     {"payment": ["private"], "insurers": ["Aetna", "Cigna"]},
     {"payment": ["private"], "insurers": ["Cigna"]}),
    ({"language": "Spanish"}, {"languages": ["English", "Spanish"]}, {"languages": ["English"]}),
    ({"populations": ["veterans"]}, {"populations": ["adults", "veterans"]},
     {"populations": ["adults"]}),
    ({"level": ["PHP"]}, {"levels_of_care": ["IOP", "PHP"]}, {"levels_of_care": ["IOP"]}),
    ({"telehealth": "on"}, {"telehealth": True}, {"telehealth": False}),
    ({"openings": "on"}, {"openings": 3}, {"openings": 0}),
])
def test_each_filter_keeps_matching_programs_only(client, params, match, miss):
    make_listing(name="Match", **match)
    make_listing(name="Miss", **miss)
    assert names(client, **params) == ["Match"]


def test_filters_combine_and_why_this_matches_names_each_one(client):
    make_listing(name="Both", schedule_options=["evening"], payment=["medicaid"],
                 languages=["English", "Spanish"], therapies=["family"])
    make_listing(name="Evening only", schedule_options=["evening"], payment=["private"])
    response = client.get("/find/", {"zip": "43215", "schedule": "evening",
                                     "payment": "medicaid", "language": "Spanish",
                                     "family": "on"})
    hits = response.context["result"].hits
    assert [h.listing.name for h in hits] == ["Both"]
    why = " | ".join(hits[0].why)
    for words in ("Hours: evenings", "Takes Medicaid", "Services in Spanish", "Family therapy",
                  "miles from your ZIP code"):
        assert words in why
    assert b"Why this matches" in response.content


def test_sort_by_openings_puts_most_openings_first_and_unknown_last(client):
    make_listing("43215", name="Near full", openings=0)
    make_listing("43214", name="Far open", openings=7)
    make_listing("43215", name="Near unknown", openings=None)
    assert names(client, sort="openings") == ["Far open", "Near full", "Near unknown"]
    assert names(client, sort="distance")[-1] == "Far open"


def test_pagination_splits_results_and_keeps_the_filters(client):
    for i in range(PAGE_SIZE + 3):
        make_listing(name=f"P{i:02d}", payment=["medicaid"])
    make_listing(name="Other", payment=["private"])
    first = client.get("/find/", {"zip": "43215", "payment": "medicaid"})
    assert first.context["result"].total == PAGE_SIZE + 3
    assert len(first.context["result"].hits) == PAGE_SIZE
    next_link = re.search(rb'rel="next" href="\?([^"]+)"', first.content).group(1).decode()
    params = html.unescape(next_link).split("&")
    assert "payment=medicaid" in params and "page=2" in params and "zip=43215" in params
    second = client.get("/find/", {"zip": "43215", "payment": "medicaid", "page": 2})
    assert len(second.context["result"].hits) == 3


def test_live_openings_of_local_programs_come_from_tracks(client, world):
    from openiop.finder.services import listing_publish_program

    listing = listing_publish_program(program=world.program)
    # Track capacity 10, one active enrollment (world fixture) -> 9.
    hit = client.get("/find/", {"zip": "43215"}).context["result"].hits[0]
    assert hit.listing == listing and hit.openings == 9 and hit.openings_live
    p2 = f.participant(world.org)
    f.enrollment(f.episode(p2, world.program), world.track)
    hit = client.get("/find/", {"zip": "43215"}).context["result"].hits[0]
    assert hit.openings == 8  # live: no re-publish needed


def test_search_runs_in_three_queries_whatever_the_number_of_results(client, world):
    from openiop.finder.services import listing_publish_program

    listing_publish_program(program=world.program)
    for _ in range(25):
        make_listing()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/find/", {"zip": "43215", "radius": 50})
    assert response.context["result"].total == 26
    # box + filters, live openings, the page (sessions are untouched for anonymous users).
    assert len(ctx.captured_queries) == 3


def test_indexed_search_matches_the_full_scan_oracle():
    rng = random.Random(7)
    zips = ["43215", "43214", "43085", "43017", "45202", "44113", "43604", "15222", "40202"]
    for i in range(150):
        make_listing(rng.choice(zips), name=f"L{i}", focus=rng.choice(["mh", "su", "co"]),
                     payment=rng.sample(["medicaid", "private", "self_pay"], 2),
                     schedule_options=rng.sample(["morning", "evening", "weekend"], 2),
                     openings=rng.choice([None, 0, 4]))
    for radius, extra in [(5, {}), (50, {"focus": "su"}), (150, {"payment": ("medicaid",)}),
                          (300, {"schedule": ("evening",), "openings_only": True})]:
        for sort in ("distance", "openings"):
            c = SearchCriteria(latitude=COLUMBUS.latitude, longitude=COLUMBUS.longitude,
                               radius=radius, sort=sort, **extra)
            fast, slow = listing_search(c), listing_search_full_scan(c)
            assert fast.total == slow.total
            assert [h.listing.pk for h in fast.hits] == [h.listing.pk for h in slow.hits]


def test_works_without_javascript_and_answers_htmx_with_the_results_only(client):
    make_listing(name="Plain")
    page = client.get("/find/", {"zip": "43215"})
    assert b"<form" in page.content and b"Plain" in page.content and b"<html" in page.content
    partial = client.get("/find/", {"zip": "43215"}, HTTP_HX_REQUEST="true")
    assert b"Plain" in partial.content and b"<html" not in partial.content


def test_the_empty_finder_explains_levels_of_care_in_plain_words(client):
    response = client.get("/find/")
    assert response.status_code == 200
    assert b"Levels of care, in plain language" in response.content
    assert b"about 9 to 19 hours a week" in response.content


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"zip": "00000"}, "zip", "We don't know the ZIP code 00000"),
    ({"zip": "4321"}, "zip", "5-digit ZIP code"),
    ({"zip": "43215", "radius": 1000}, "radius", "at most 500 miles"),
    ({"zip": "43215", "radius": 2}, "radius", "at least 5 miles"),
    ({"zip": "43215", "radius": "far"}, "radius", "whole number"),
    ({"zip": "43215", "focus": "mh", "moud": "any"}, "moud", "substance use or co-occurring"),
    ({"zip": "43215", "level": ["RES"], "schedule": ["evening"]}, "schedule", "around the clock"),
    ({"zip": "43215", "payment": ["medicaid"], "insurer": "Aetna"}, "insurer",
     "Private insurance"),
    ({"zip": "43215", "age_group": "adolescents", "payment": ["medicare"]}, "payment",
     "not adolescents"),
    ({"zip": "43215", "sort": "price"}, "sort", "valid choice"),
])
def test_bad_input_gets_a_clear_message_and_a_400(client, params, field, words):
    response = client.get("/find/", params)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    assert words in " ".join(errors[field])
    assert words.encode() in response.content.replace(b"&#x27;", b"'")


def test_bad_input_over_htmx_comes_back_as_a_message_not_a_failure(client):
    response = client.get("/find/", {"zip": "00000"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"We don&#x27;t know the ZIP code 00000" in response.content


def test_an_out_of_range_page_shows_the_last_page():
    for _ in range(3):
        make_listing()
    form = SearchForm({"zip": "43215", "radius": 25})
    assert form.is_valid()
    result = listing_search(form.criteria(), page=99)
    assert result.page_number == 1 and len(result.hits) == 3
