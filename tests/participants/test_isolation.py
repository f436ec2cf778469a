"""Staff see only their own organization's participants; other organizations get 404."""

from __future__ import annotations

import pytest

from tests.urlwalk import fill, participant_routes


def test_there_are_participant_scoped_urls_to_walk(db):
    routes = participant_routes()
    assert "participants/<uuid:code>/" in routes
    assert len(routes) >= 5


@pytest.mark.parametrize("route", participant_routes())
def test_every_participant_url_is_404_for_another_organization(route, world, as_outsider):
    """The outsider (a director elsewhere) reaches none of our participant's URLs."""
    url = fill(route, str(world.participant.code))
    statuses = {as_outsider.get(url).status_code, as_outsider.post(url, {}).status_code}
    # 405 only for the method a route does not take; the other must be a 404.
    assert statuses <= {404, 405} and 404 in statuses, (url, statuses)


@pytest.mark.parametrize("route", participant_routes())
def test_every_participant_url_is_404_for_an_unknown_code(route, world, as_clinician):
    url = fill(route, "11111111-1111-4111-8111-111111111111")
    statuses = {as_clinician.get(url).status_code, as_clinician.post(url, {}).status_code}
    assert statuses <= {404, 405} and 404 in statuses, (url, statuses)


def test_own_participant_chart_is_visible(world, as_clinician):
    response = as_clinician.get(f"/participants/{world.participant.code}/")
    assert response.status_code == 200
    assert b"Jamie Rivera" in response.content


def test_list_shows_only_own_organization(world, as_clinician):
    response = as_clinician.get("/participants/")
    assert b"Jamie Rivera" in response.content
    assert b"Other Person" not in response.content


def test_api_is_scoped_too(world, as_outsider, as_clinician):
    assert as_outsider.get(f"/api/participants/{world.participant.code}").status_code == 404
    data = as_outsider.get("/api/participants/").json()
    assert data["count"] == 1 and data["results"][0]["legal_last_name"] == "Person"
    assert as_clinician.get(f"/api/participants/{world.participant.code}").status_code == 200


def test_participant_and_family_accounts_see_no_staff_pages(world):
    from openiop.accounts.models import User
    from tests.conftest import login
    from tests.factories import participant as make_participant

    user = User.objects.create_user(username="pt", password="x" * 12, role="participant")
    make_participant(world.org, user=user)
    client = login(user)
    assert client.get(f"/participants/{world.participant.code}/").status_code == 404
    assert client.get("/participants/").status_code == 404
