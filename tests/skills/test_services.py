"""Rules of skills practice, cravings, homework, plans, holistic notes and rotations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.skills import services
from openiop.skills.models import CravingLog, Homework, Module, SessionModule, Skill, SkillPractice
from tests import factories as f

from .helpers import delivered, modules, portal_user, rotation


@pytest.fixture
def me(world):
    return portal_user(world.participant)


@pytest.mark.parametrize("bad", [11, -1, "12", "abc", "7.5", "", None, True])
def test_it_refuses_helpfulness_outside_0_to_10(world, me, bad):
    skill = Skill.objects.first()
    with pytest.raises(ValidationError) as exc:
        services.skill_practice_log(actor=me, participant=world.participant, skill=skill, helpfulness=bad)
    assert "helpfulness" in exc.value.message_dict
    assert "0 to 10" in exc.value.message_dict["helpfulness"][0]
    assert SkillPractice.objects.count() == 0


@pytest.mark.parametrize("good", [0, 10, "5"])
def test_it_logs_a_practice_at_the_ends_of_the_scale_and_audits_it(world, me, good):
    skill = Skill.objects.first()
    entry = services.skill_practice_log(actor=me, participant=world.participant, skill=skill, helpfulness=good,
                                        note="before work")
    assert entry.helpfulness == int(good)
    assert AccessEvent.objects.filter(action="create", object_type="skill_practice",
                                      participant=world.participant).count() == 1


@pytest.mark.parametrize("bad", [11, -3, "x"])
def test_it_refuses_craving_intensity_outside_0_to_10(world, me, bad):
    with pytest.raises(ValidationError) as exc:
        services.craving_log(actor=me, participant=world.participant, intensity=bad, trigger="payday")
    assert "intensity" in exc.value.message_dict
    assert CravingLog.objects.count() == 0


def test_the_database_refuses_an_out_of_range_score_too(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        CravingLog.objects.create(participant=world.participant, occurred_at=timezone.now(), intensity=11)


def test_a_craving_cannot_be_logged_in_the_future(world, me):
    with pytest.raises(ValidationError) as exc:
        services.craving_log(actor=me, participant=world.participant, intensity=4,
                             occurred_at=timezone.now() + timedelta(hours=3))
    assert "occurred_at" in exc.value.message_dict


def test_a_participant_cannot_log_for_someone_else(world, me):
    other = f.participant(world.org)
    with pytest.raises(NotPermitted):
        services.craving_log(actor=me, participant=other, intensity=3)
    with pytest.raises(NotPermitted):
        services.craving_log(actor=world.outsider, participant=world.participant, intensity=3)


def _homework(world, **kw):
    module = Module.objects.get(slug="mapping-triggers")
    return services.homework_assign(actor=world.clinician, participant=world.participant, module=module,
                                    title="Map triggers", instructions=module.homework, **kw)


def test_homework_must_be_tied_to_a_module_or_a_plan_objective(world):
    with pytest.raises(ValidationError) as exc:
        services.homework_assign(actor=world.clinician, participant=world.participant, title="x",
                                 instructions="do it")
    assert "module" in exc.value.message_dict
    hw = services.homework_assign(actor=world.clinician, participant=world.participant, title="Walk",
                                  instructions="Walk daily", plan_objective="Objective 1.2: activity")
    assert hw.status == "assigned"


def test_homework_goes_assigned_completed_reviewed(world, me):
    hw = _homework(world)
    hw = services.homework_submit(actor=me, homework=hw, response="Evenings and payday.")
    assert hw.status == "completed" and hw.completed_at is not None
    hw = services.homework_review(actor=world.clinician, homework=hw, comment="Good work")
    assert hw.status == "reviewed" and hw.reviewed_by == world.clinician
    with pytest.raises(InvalidTransition, match="already reviewed"):
        services.homework_submit(actor=me, homework=hw, response="changed")


def test_homework_submitted_after_it_was_closed_is_refused_and_nothing_changes(world, me):
    hw = _homework(world)
    hw = services.homework_close(actor=world.clinician, homework=hw)
    with pytest.raises(InvalidTransition) as exc:
        services.homework_submit(actor=me, homework=hw, response="late answer")
    assert "closed" in exc.value.message and exc.value.field == "response"
    hw.refresh_from_db()
    assert hw.status == "closed" and hw.response == ""


def test_only_completed_homework_can_be_reviewed(world):
    hw = _homework(world)
    with pytest.raises(InvalidTransition):
        services.homework_review(actor=world.clinician, homework=hw, comment="?")


def test_a_stale_homework_submission_is_a_conflict(world, me):
    hw = _homework(world)
    services.homework_submit(actor=me, homework=hw, response="first")
    with pytest.raises(Conflict):
        services.homework_submit(actor=me, homework=hw, response="second", expected_version=1)
    hw.refresh_from_db()
    assert hw.response == "first"


def test_another_participant_cannot_hand_in_my_homework(world, me):
    hw = _homework(world)
    other = f.participant(world.org)
    intruder = portal_user(other)
    with pytest.raises(NotPermitted):
        services.homework_submit(actor=intruder, homework=hw, response="not mine")


def test_staff_of_another_organization_cannot_assign(world):
    with pytest.raises(NotPermitted):
        services.homework_assign(actor=world.outsider, participant=world.participant, title="x",
                                 instructions="y", plan_objective="z")


def test_relapse_plan_edits_carry_their_version(world, me):
    plan = services.relapse_plan_save(actor=me, participant=world.participant,
                                      sections={"triggers": "payday"}, expected_version=None)
    assert plan.version == 1
    plan = services.relapse_plan_save(actor=world.clinician, participant=world.participant,
                                      sections={"triggers": "payday", "people_to_call": "Sam"},
                                      expected_version=1)
    assert plan.version == 2
    with pytest.raises(Conflict):
        services.relapse_plan_save(actor=me, participant=world.participant,
                                   sections={"triggers": "lost edit"}, expected_version=1)
    plan.refresh_from_db()
    assert plan.people_to_call == "Sam"


def test_an_empty_relapse_plan_is_refused(world, me):
    with pytest.raises(ValidationError):
        services.relapse_plan_save(actor=me, participant=world.participant, sections={}, expected_version=None)


def test_activity_notes_are_only_for_holistic_sessions(world):
    group = f.session(world.program, kind="group")
    with pytest.raises(ValidationError):
        services.holistic_note_save(actor=world.clinician, session=group, activity="Chair yoga")
    yoga = f.session(world.program, kind="yoga", title="Gentle yoga")
    note = services.holistic_note_save(actor=world.clinician, session=yoga, activity="Chair yoga, 25 min")
    assert note.version == 1
    with pytest.raises(Conflict):
        services.holistic_note_save(actor=world.clinician, session=yoga, activity="Other", expected_version=0)
    services.holistic_note_save(actor=world.colleague, session=yoga, activity="Chair yoga", expected_version=1)
    note.refresh_from_db()
    assert note.version == 2 and note.written_by == world.colleague


def test_the_program_switch_changes_future_holistic_sessions_only(world):
    past = f.session(world.program, kind="mindfulness", starts_at=timezone.now() - timedelta(days=3))
    future = f.session(world.program, kind="art", starts_at=timezone.now() + timedelta(days=3))
    group = f.session(world.program, kind="group", starts_at=timezone.now() + timedelta(days=3))
    with pytest.raises(NotPermitted):
        services.program_holistic_set(actor=world.clinician, program=world.program, counts=False)
    changed = services.program_holistic_set(actor=world.director, program=world.program, counts=False)
    assert changed == 1
    world.program.refresh_from_db()
    assert world.program.holistic_counts_toward_hours is False
    past.refresh_from_db(); future.refresh_from_db(); group.refresh_from_db()  # noqa: E702
    assert past.counts_toward_hours is True
    assert future.counts_toward_hours is False
    assert group.counts_toward_hours is True
    assert AccessEvent.objects.filter(object_type="program", action="change").exists()


def test_a_rotation_is_applied_per_track_continuing_after_the_last_module(world):
    mods = modules(3)
    rot = services.rotation_set(actor=world.clinician, program=world.program, kind="psychoeducation",
                                modules=mods)
    other_track = f.track(world.program, name="Morning", kind="morning")
    now = timezone.now().replace(microsecond=0)
    delivered(world.program, mods[0], start=now - timedelta(days=2), track=world.track)
    upcoming = [f.session(world.program, kind="psychoeducation", starts_at=now + timedelta(days=d),
                          track=tr) for d, tr in ((1, world.track), (2, other_track), (3, world.track),
                                                 (4, world.track))]
    kept = f.session(world.program, kind="psychoeducation", starts_at=now + timedelta(days=5), track=world.track)
    SessionModule.objects.create(session=kept, module=mods[0])
    n = services.rotation_apply(actor=world.clinician, rotation=rot, start=timezone.localdate())
    assert n == 4
    got = {s.pk: SessionModule.objects.get(session=s).module for s in upcoming}
    assert got[upcoming[0].pk] == mods[1]  # continues after mods[0] on this track
    assert got[upcoming[1].pk] == mods[0]  # the other track starts from the top
    assert got[upcoming[2].pk] == mods[2]
    assert got[upcoming[3].pk] == mods[0]  # and cycles
    assert SessionModule.objects.get(session=kept).module == mods[0]


def test_a_rotation_refuses_duplicates_and_emptiness(world):
    mods = modules(2)
    with pytest.raises(ValidationError):
        services.rotation_set(actor=world.clinician, program=world.program, kind="psychoeducation", modules=[])
    with pytest.raises(ValidationError):
        services.rotation_set(actor=world.clinician, program=world.program, kind="psychoeducation",
                              modules=[mods[0], mods[0]])
    rot = rotation(world.program, mods)
    with pytest.raises(Conflict):
        services.rotation_set(actor=world.clinician, program=world.program, kind="psychoeducation",
                              modules=mods, expected_version=rot.version + 5)


def test_front_desk_cannot_assign_homework(world):
    desk = f.staff(world.org, Role.FRONT_DESK)
    with pytest.raises(NotPermitted):
        services.homework_assign(actor=desk, participant=world.participant, title="x", instructions="y",
                                 plan_objective="z")
    assert Homework.objects.count() == 0
