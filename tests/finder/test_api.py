"""The finder's JSON API: public search with 4xx on bad input."""

from __future__ import annotations

import pytest

from .conftest import make_listing

pytestmark = pytest.mark.django_db


def test_api_search_is_public_and_filters_like_the_page(client):
    make_listing(name="Evening Medicaid", schedule_options=["evening"], payment=["medicaid"],
                 openings=4)
    make_listing(name="Morning", schedule_options=["morning"], payment=["medicaid"])
    response = client.get("/api/finder/search", {"zip": "43215", "schedule": ["evening",
                                                                               "weekend"],
                                                 "payment": "medicaid"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 1 and body["radius"] == 25
    hit = body["results"][0]
    assert hit["name"] == "Evening Medicaid" and hit["openings"] == 4
    assert hit["distance_miles"] < 1 and not hit["openings_live"]
    assert any("Takes Medicaid" in w for w in hit["why"])


@pytest.mark.parametrize(("params", "field"), [
    ({"zip": "00000"}, "zip"),
    ({"zip": "43215", "radius": 900}, "radius"),
    ({"zip": "43215", "radius": "wide"}, "radius"),
    ({"zip": "43215", "focus": "mh", "moud": "any"}, "moud"),
    ({"zip": "43215", "page": 0}, "page"),
    ({}, "zip"),
])
def test_api_bad_input_is_a_4xx_naming_the_field(client, params, field):
    response = client.get("/api/finder/search", params)
    assert response.status_code == 422
    assert field in response.json()["detail"]


def test_api_listing_by_code_and_404(client):
    listing = make_listing(name="One")
    assert client.get(f"/api/finder/listings/{listing.code}").json()["name"] == "One"
    missing = client.get("/api/finder/listings/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
