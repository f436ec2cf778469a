"""Each access relationship is asked once per read-only request (openiop.access.memo),
without changing an answer: the persona walk (test_persona_walk) checks every answer."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from openiop.access.decisions import active_grant, is_care_team, is_part2
from openiop.access.memo import DecisionMemoMiddleware
from tests.conftest import login

EPISODE_EXISTS = 'SELECT 1 AS "a" FROM "care_episodeofcare"'


def _team_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith(EPISODE_EXISTS)
            and '"primary_therapist_id" =' in q["sql"]]


def _grant_queries(queries) -> list[str]:
    # The actor's own grant (the header's list of every grant joins the actor's name).
    return [q["sql"] for q in queries if 'FROM "access_breakglassgrant"' in q["sql"]
            and 'JOIN "accounts_user"' not in q["sql"]]


def _part2_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith(EPISODE_EXISTS)
            and '"care_program"."focus" IN' in q["sql"]]


def test_a_chart_tab_asks_each_relationship_once(clinic):
    """The frame's check, the tab filter and the Notes tab's own gate ask about the care
    team, the grant and the Part 2 record: one query each."""
    participant = clinic.w.participant
    client = login(clinic.personas["clinician_off_team"])
    url = f"/notes/participants/{participant.code}/"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200 and b"Break the glass" in response.content
    assert len(_team_queries(ctx)) == 1
    assert len(_grant_queries(ctx)) == 1
    assert len(_part2_queries(ctx)) == 1


def _asked_twice(method: str, actor, participant) -> tuple[list[bool], int, int]:
    answers: list[bool] = []

    def view(request):
        answers.append(is_care_team(actor, participant))
        active_grant(actor, participant)
        is_part2(participant)
        answers.append(is_care_team(actor, participant))
        active_grant(actor, participant)
        is_part2(participant)
        return HttpResponse()

    request = getattr(RequestFactory(), method.lower())("/")
    with CaptureQueriesContext(connection) as ctx:
        DecisionMemoMiddleware(view)(request)
    return answers, len(_team_queries(ctx)), len(_grant_queries(ctx))


def test_a_get_remembers_and_a_post_asks_again(clinic):
    actor, participant = clinic.personas["clinician_on_team"], clinic.w.participant
    assert _asked_twice("GET", actor, participant) == ([True, True], 1, 1)
    # A POST may change the team or create a grant and then ask again.
    assert _asked_twice("POST", actor, participant) == ([True, True], 2, 2)


def test_nothing_is_remembered_outside_a_request_or_after_one(clinic):
    actor, participant = clinic.personas["clinician_off_team"], clinic.w.participant
    _asked_twice("GET", actor, participant)  # the memo ends with its request
    assert not is_care_team(actor, participant)
    episode = participant.episodes.get()
    episode.case_manager = actor
    episode.save(update_fields=["case_manager"])
    assert is_care_team(actor, participant)
