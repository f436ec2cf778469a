"""Weekly PHQ-9 / GAD-7 check-ins, scored by the intake instruments, with safety handling."""

from __future__ import annotations

import pytest

from openiop.audit.models import AccessEvent
from openiop.intake.models import MeasureResponse, SafetyTask
from tests.conftest import login
from tests.skills.helpers import portal_user


@pytest.fixture
def me(world):
    return portal_user(world.participant)


def _answers(n: int, value: int = 1, **override: int) -> dict[str, str]:
    data = {f"q{i}": str(value) for i in range(1, n + 1)}
    data.update({k: str(v) for k, v in override.items()})
    return data


def test_phq9_and_gad7_are_due_each_week_until_done(world, me):
    client = login(me)
    home = client.get("/portal/").content.decode()
    assert "Weekly check-in: PHQ-9" in home and "Weekly check-in: GAD-7" in home
    form = client.get("/portal/check-ins/phq9/").content.decode()
    assert "Little interest or pleasure in doing things" in form and 'type="radio"' in form
    done = client.post("/portal/check-ins/phq9/", _answers(9, 1))
    assert done.status_code == 200 and b"Thank you" in done.content
    response = MeasureResponse.objects.get(participant=world.participant)
    assert (response.instrument, response.total, response.source, response.context) == (
        "phq9", 9, "portal", "weekly")
    home = client.get("/portal/").content.decode()
    assert "Weekly check-in: PHQ-9" not in home and "Weekly check-in: GAD-7" in home


def test_a_missing_answer_is_refused_naming_the_question(world, me):
    answers = _answers(9, 1, q9=0)  # no risk answer: an incomplete form is not kept
    del answers["q4"]
    response = login(me).post("/portal/check-ins/phq9/", answers)
    assert response.status_code == 400
    assert "Question 4:" in response.content.decode()
    assert not MeasureResponse.objects.exists()


def test_an_out_of_range_answer_is_refused(world, me):
    response = login(me).post("/portal/check-ins/gad7/", _answers(7, 1, q2=7))
    assert response.status_code == 400
    assert not MeasureResponse.objects.exists()


def test_item_9_above_zero_shows_crisis_help_and_tells_the_team(world, me):
    response = login(me).post("/portal/check-ins/phq9/", _answers(9, 0, q9=1))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="crisis-banner"' in html and 'href="tel:988"' in html
    assert "Your care team at Adult IOP has been told" in html
    assert MeasureResponse.objects.get().safety_flag is True
    assert SafetyTask.objects.filter(participant=world.participant).exists()


def test_an_instrument_the_program_did_not_assign_is_404(world, me):
    world.program.settings = {"portal_checkins": ["phq9"]}
    world.program.save()
    client = login(me)
    assert client.get("/portal/check-ins/gad7/").status_code == 404
    assert client.get("/portal/check-ins/cssrs/").status_code == 404
    assert AccessEvent.objects.filter(action="denied", object_type="checkin").count() == 2


def test_without_an_active_episode_nothing_is_due(world, me):
    world.episode.status = "finished"
    world.episode.save()
    html = login(me).get("/portal/check-ins/").content.decode()
    assert "has not assigned check-ins" in html
