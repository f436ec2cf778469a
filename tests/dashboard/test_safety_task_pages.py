"""The safety-task page: reachable from My work and the chart badge; every role that can be
assigned opens, acknowledges and resolves it; others get a 404."""

from __future__ import annotations

from datetime import time

import pytest
import time_machine

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.intake.models import SafetyTask
from openiop.intake.safety import safety_task_open
from openiop.notifications.models import OnCallShift
from tests import factories as f
from tests.conftest import login
from tests.intake.safety_helpers import WED_10AM, phq9_item9


@pytest.fixture
def task(world):
    with time_machine.travel(WED_10AM, tick=False):
        return safety_task_open(organization=world.org, result=phq9_item9(),
                                participant=world.participant, program=world.program,
                                assigned_to=world.clinician)


def _url(task, action=""):
    return f"/dashboard/safety-tasks/{task.code}/{action + '/' if action else ''}"


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.PRESCRIBER, Role.NURSE, Role.DIRECTOR])
def test_every_assignable_role_opens_acknowledges_and_resolves(world, task, role):
    user = f.staff(world.org, role, username=f"holder-{role}")
    client = login(user)
    page = client.get(_url(task))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Safety task: Jamie Rivera" in html and world.participant.mrn in html
    assert "Monday to Friday, 9:00 a.m. to 5:00 p.m." in html
    assert client.post(_url(task, "acknowledge")).status_code == 302
    done = client.post(_url(task, "resolve"), {"outcome": "contacted",
                                               "resolution": "Reached by phone; safe tonight."})
    assert done.status_code == 302
    task.refresh_from_db()
    assert (task.acknowledged_by, task.resolved_by, task.outcome) == (user, user, "contacted")
    assert AccessEvent.objects.filter(object_type="safety_task", action="view",
                                      actor=user).exists()


@pytest.mark.parametrize("role", [Role.INTAKE, Role.FRONT_DESK, Role.BILLING])
def test_roles_that_cannot_be_assigned_get_a_404(world, task, role):
    client = login(f.staff(world.org, role, username=f"no-{role}"))
    assert client.get(_url(task)).status_code == 404
    assert client.post(_url(task, "acknowledge")).status_code == 404


def test_another_organization_gets_a_404(world, task, as_outsider):
    assert as_outsider.get(_url(task)).status_code == 404
    assert as_outsider.post(_url(task, "resolve"), {"outcome": "contacted",
                                                    "resolution": "x"}).status_code == 404
    assert SafetyTask.objects.get().status == "open"


def test_a_bad_resolve_form_names_the_field_keeps_the_note_and_changes_nothing(world, task,
                                                                              as_clinician):
    response = as_clinician.post(_url(task, "resolve"), {"outcome": "teleported",
                                                         "resolution": "Called her mother."})
    html = response.content.decode()
    assert response.status_code == 400
    assert "What was done: Select a valid choice." in html
    assert "Called her mother." in html
    task.refresh_from_db()
    assert task.status == "open" and task.resolution == ""


def test_acknowledging_twice_is_a_conflict_not_an_error(world, task, as_clinician):
    as_clinician.post(_url(task, "acknowledge"))
    again = as_clinician.post(_url(task, "acknowledge"))
    assert again.status_code == 409
    assert "already acknowledged" in again.content.decode()


def test_the_chart_badge_links_to_the_task_for_those_who_can_open_it(world, task, as_clinician):
    chart = as_clinician.get(f"/participants/{world.participant.code}/").content.decode()
    assert f'<a class="badge badge-danger" href="{_url(task)}"' in chart
    desk = login(f.staff(world.org, Role.FRONT_DESK, username="desk"))
    chart = desk.get(f"/participants/{world.participant.code}/").content.decode()
    assert "1 open safety task" in chart and _url(task) not in chart


def test_intake_sees_open_tasks_in_its_queue_without_a_link_it_cannot_follow(world, task):
    intake = login(f.staff(world.org, Role.INTAKE, username="intaker"))
    html = intake.get("/intake/").content.decode()
    assert "Open safety tasks" in html and _url(task) not in html
    assert "Not acknowledged yet" in html


# --- the on-call rota editor ----------------------------------------------------------------

def _rota(world):
    return f"/dashboard/on-call/{world.program.code}/"


def test_the_director_adds_and_removes_on_call_blocks(world, as_director):
    page = as_director.get(_rota(world))
    assert page.status_code == 200 and "Nobody on call" in page.content.decode()
    added = as_director.post(_rota(world), {"weekday": "5", "start_time": "17:00",
                                            "end_time": "00:00", "user": world.colleague.pk})
    assert added.status_code == 302
    shift = OnCallShift.objects.get()
    assert (shift.weekday, shift.start_time, shift.end_time, shift.user) == (
        5, time(17), time(0), world.colleague)
    html = as_director.get(_rota(world)).content.decode()
    assert "5:00 PM\u2013midnight" in html
    assert as_director.post(f"{_rota(world)}{shift.pk}/remove/").status_code == 302
    assert not OnCallShift.objects.exists()


def test_a_block_that_ends_before_it_starts_is_refused_naming_the_field(world, as_director):
    response = as_director.post(_rota(world), {"weekday": "1", "start_time": "18:00",
                                               "end_time": "09:00", "user": world.colleague.pk})
    assert response.status_code == 400
    assert "Until: The shift must end after it starts" in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_only_clinicians_who_can_hold_tasks_can_be_on_call(world, as_director):
    intake = f.staff(world.org, Role.INTAKE, username="intaker")
    response = as_director.post(_rota(world), {"weekday": "1", "start_time": "09:00",
                                               "end_time": "17:00", "user": intake.pk})
    assert response.status_code == 400 and not OnCallShift.objects.exists()


def test_clinicians_and_other_organizations_cannot_edit_the_rota(world, as_clinician,
                                                                  as_outsider):
    assert as_clinician.get(_rota(world)).status_code == 404
    assert as_outsider.get(_rota(world)).status_code == 404
