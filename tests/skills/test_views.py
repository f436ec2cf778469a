"""Staff pages: curriculum, rotation editing, cohort table, holistic, the chart tab."""

from __future__ import annotations

from django.utils import timezone

from openiop.skills import services
from openiop.skills.models import CravingLog, HolisticNote, Homework, Module, Rotation
from tests import factories as f
from tests.conftest import login

from .helpers import days_ago, delivered, modules, portal_user, rotation


def test_the_curriculum_page_lists_the_library_by_topic(world, as_clinician):
    html = as_clinician.get("/skills/").content.decode()
    assert f"{Module.objects.count()} modules" in html
    assert "Coping with triggers and cravings" in html and "Riding out a craving" in html
    assert world.program.name in html


def test_a_module_page_shows_objectives_outline_handout_and_homework(as_clinician):
    html = as_clinician.get("/skills/modules/riding-out-cravings/").content.decode()
    for part in ("Objectives", "Session outline", "Handout", "Suggested homework", "Urge surfing"):
        assert part in html


def test_a_clinician_orders_a_rotation_by_numbers(world, as_clinician):
    a, b, c = modules(3)
    url = f"/skills/programs/{world.program.code}/rotation/psychoeducation/"
    assert as_clinician.get(url).status_code == 200
    response = as_clinician.post(url, {f"pos_{a.pk}": "2", f"pos_{b.pk}": "1", f"pos_{c.pk}": ""})
    assert response.status_code == 302
    rot = Rotation.objects.get(program=world.program, kind="psychoeducation")
    assert [i.module for i in rot.items.order_by("position")] == [b, a]


def test_another_organizations_program_is_404(world, as_outsider):
    url = f"/skills/programs/{world.program.code}/rotation/psychoeducation/"
    assert as_outsider.get(url).status_code == 404
    assert as_outsider.get(f"/skills/programs/{world.program.code}/progress/").status_code == 404


def test_the_cohort_table_marks_covered_and_missed(world, as_clinician):
    mods = modules(2)
    rotation(world.program, mods)
    s = delivered(world.program, mods[0], start=days_ago(2))
    f.attendance(f.booking(s, world.participant), "present")
    s2 = delivered(world.program, mods[1], start=days_ago(1))
    f.attendance(f.booking(s2, world.participant), "absent", minutes=0)
    html = as_clinician.get(f"/skills/programs/{world.program.code}/progress/").content.decode()
    assert world.participant.display_name in html
    assert 'class="cell-covered">✓' in html and 'class="cell-missed">✗' in html


def test_the_chart_tab_shows_progress_homework_cravings_and_plan(world, as_clinician):
    me = portal_user(world.participant)
    services.craving_log(actor=me, participant=world.participant, intensity=6, trigger="payday")
    services.relapse_plan_save(actor=me, participant=world.participant, sections={"triggers": "payday"},
                               expected_version=None)
    response = as_clinician.get(f"/skills/participants/{world.participant.code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-current="page">Skills<' in html
    assert "craving-trend" in html and "payday" in html
    assert "Relapse-prevention plan" in html


def test_assigning_homework_from_the_chart(world, as_clinician):
    module = Module.objects.get(slug="thinking-traps")
    url = f"/skills/participants/{world.participant.code}/homework/"
    bad = as_clinician.post(url, {"title": "x", "instructions": "y"})
    assert bad.status_code == 400 and b"Tie the homework" in bad.content
    ok = as_clinician.post(url, {"title": "Thought record", "instructions": module.homework, "module": module.pk})
    assert ok.status_code == 302
    assert Homework.objects.get(participant=world.participant).module == module


def test_reviewing_homework_from_the_chart(world, as_clinician):
    me = portal_user(world.participant)
    hw = services.homework_assign(actor=world.clinician, participant=world.participant, title="t",
                                  instructions="i", plan_objective="o")
    services.homework_submit(actor=me, homework=hw, response="done")
    url = f"/skills/participants/{world.participant.code}/homework/{hw.code}/review/"
    response = as_clinician.post(url, {f"hw{hw.pk}-review_comment": "Nice", f"hw{hw.pk}-version": "2",
                                       f"hw{hw.pk}-close": "on"})
    assert response.status_code == 302
    hw.refresh_from_db()
    assert hw.status == "closed" and hw.review_comment == "Nice"


def test_closing_homework_from_the_chart_has_its_own_url(world, as_clinician):
    hw = services.homework_assign(actor=world.clinician, participant=world.participant, title="t",
                                  instructions="i", plan_objective="o")
    url = f"/skills/participants/{world.participant.code}/homework/{hw.code}/close/"
    tab = as_clinician.get(f"/skills/participants/{world.participant.code}/").content.decode()
    assert f'action="{url}"' in tab
    assert as_clinician.post(url).status_code == 302
    hw.refresh_from_db()
    assert hw.status == "closed"


def test_holistic_page_shows_sessions_and_the_program_switch(world, as_director):
    yoga = f.session(world.program, kind="yoga", title="Gentle yoga", facilitator=world.colleague,
                     starts_at=timezone.now().replace(microsecond=0))
    f.attendance(f.booking(yoga, world.participant), "present")
    html = as_director.get("/skills/holistic/").content.decode()
    assert "Gentle yoga" in html and "1 / 1" in html and "Stop counting" in html
    response = as_director.post(f"/skills/programs/{world.program.code}/holistic/", {})
    assert response.status_code == 302
    world.program.refresh_from_db()
    assert world.program.holistic_counts_toward_hours is False


def test_a_clinician_cannot_flip_the_program_switch(world, as_clinician):
    response = as_clinician.post(f"/skills/programs/{world.program.code}/holistic/", {"counts": "on"})
    assert response.status_code == 404


def test_the_facilitator_writes_a_short_activity_note(world):
    yoga = f.session(world.program, kind="yoga", title="Gentle yoga", facilitator=world.colleague)
    client = login(world.colleague)
    url = f"/skills/holistic/{yoga.code}/"
    assert client.post(url, {"activity": ""}).status_code == 200  # re-rendered with the error
    assert not HolisticNote.objects.exists()
    assert client.post(url, {"activity": "Chair yoga, 25 min", "note": "Calm group"}).status_code == 302
    assert HolisticNote.objects.get(session=yoga).activity == "Chair yoga, 25 min"
    group = f.session(world.program, kind="group")
    assert client.get(f"/skills/holistic/{group.code}/").status_code == 404


def test_relapse_plan_edit_page_for_staff(world, as_clinician):
    url = f"/skills/participants/{world.participant.code}/relapse-plan/"
    assert as_clinician.get(url).status_code == 200
    assert as_clinician.post(url, {"triggers": "Evenings", "version": ""}).status_code == 302
    assert world.participant.relapse_plan.triggers == "Evenings"
    assert CravingLog.objects.count() == 0


def test_holistic_sessions_filter_by_program_and_page(world, as_clinician):
    other = f.program(world.org, name="Teen IOP")
    start = timezone.now().replace(microsecond=0)
    f.session(world.program, kind="art", title="Ours art", starts_at=start)
    f.session(other, kind="yoga", title="Teen yoga", starts_at=start)
    html = as_clinician.get(f"/skills/holistic/?program={other.code}").content.decode()
    assert "Teen yoga" in html and "Ours art" not in html
    both = as_clinician.get("/skills/holistic/").content.decode()
    assert "Teen yoga" in both and "Ours art" in both
