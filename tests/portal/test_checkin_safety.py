"""After a risk answer the participant is told the truth: who was told, when the program
responds, and 988/911 outside its hours. An incomplete check-in with item 9 above 0 is kept."""

from __future__ import annotations

import pytest
import time_machine

from openiop.care.models import EpisodeOfCare
from openiop.intake.models import MeasureResponse, SafetyTask
from tests.conftest import login
from tests.intake.safety_helpers import WED_8PM, WED_10AM
from tests.skills.helpers import portal_user


@pytest.fixture
def me(world):
    return portal_user(world.participant)


def _phq9(**override: int) -> dict[str, str]:
    data = {f"q{i}": "0" for i in range(1, 10)}
    data.update({k: str(v) for k, v in override.items()})
    return data


@time_machine.travel(WED_10AM, tick=False)
def test_the_participant_is_told_who_was_told_and_by_when_with_the_program_hours(world, me):
    html = login(me).post("/portal/check-ins/phq9/", _phq9(q9=3)).content.decode()
    assert "Your care team at Adult IOP has been told and will reach out to you by " \
           "Wednesday, 5:00 PM" in html
    assert "Adult IOP responds during its hours (Monday to Friday, 9:00 a.m. to 5:00 p.m.)." in html
    assert "Outside those hours, or if you cannot wait: call or text" in html
    assert 'href="tel:988"' in html and 'href="tel:911"' in html


@time_machine.travel(WED_8PM, tick=False)
def test_nobody_assigned_means_the_page_never_says_the_team_was_told(world, me):
    EpisodeOfCare.objects.filter(pk=world.episode.pk).update(primary_therapist=None)
    html = login(me).post("/portal/check-ins/phq9/", _phq9(q9=2)).content.decode()
    task = SafetyTask.objects.get()
    assert task.assigned_to is None
    assert "has been told" not in html
    assert "Your answers were saved; Adult IOP reviews them during its hours." in html
    assert 'href="tel:988"' in html


@time_machine.travel(WED_10AM, tick=False)
def test_an_incomplete_check_in_with_item_9_above_0_is_kept_and_raises_the_task(world, me):
    answers = _phq9(q9=3)
    del answers["q2"], answers["q5"]
    response = login(me).post("/portal/check-ins/phq9/", answers)
    html = response.content.decode()
    assert response.status_code == 400  # the form still asks for the missing answers
    assert "Question 2:" in html and "Question 5:" in html
    assert "the answers you gave were saved for your care team" in html
    assert 'class="crisis-banner"' in html and "has been told" in html
    kept = MeasureResponse.objects.get()
    assert (kept.status, kept.total, kept.safety_flag, kept.source) == (
        "preliminary", None, True, "portal")
    assert kept.band_label == "Partial (not all items answered)"
    assert kept.answers == {f"q{i}": 0 for i in (1, 3, 4, 6, 7, 8)} | {"q9": 3}
    task = SafetyTask.objects.get()
    assert (task.measure_response, task.assigned_to, task.priority) == (
        kept, world.clinician, "urgent")
    # What the person typed is still in the form.
    assert 'name="q9" value="3" checked' in html


def test_an_incomplete_check_in_without_a_risk_answer_keeps_nothing(world, me):
    answers = _phq9(q1=2)
    del answers["q9"]
    response = login(me).post("/portal/check-ins/phq9/", answers)
    assert response.status_code == 400
    assert "nothing was saved" in response.content.decode()
    assert not MeasureResponse.objects.exists() and not SafetyTask.objects.exists()


def test_a_partial_response_is_left_out_of_the_weekly_check_in_status(world, me):
    client = login(me)
    answers = _phq9(q9=1)
    del answers["q1"]
    client.post("/portal/check-ins/phq9/", answers)
    assert "Weekly check-in: PHQ-9" in client.get("/portal/").content.decode()
