"""What a participant does in the portal: logs, homework, plans, messages (no JS needed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.portal.models import Message
from openiop.skills import services
from openiop.skills.models import CravingLog, Homework, Skill, SkillPractice
from tests import factories as f
from tests.conftest import login
from tests.skills.helpers import delivered, portal_user


@pytest.fixture
def me(world):
    return portal_user(world.participant)


def _now_field() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def test_logging_a_craving_with_a_plain_form_post(world, me):
    response = login(me).post("/portal/cravings/", {"occurred_at": _now_field(), "intensity": "7",
                                                     "trigger": "Payday", "what_helped": "Walked"})
    assert response.status_code == 302
    log = CravingLog.objects.get(participant=world.participant)
    assert (log.intensity, log.trigger, log.logged_by) == (7, "Payday", me)


@pytest.mark.parametrize("value", ["11", "-1"])
def test_a_craving_outside_0_to_10_is_refused_with_a_clear_message(world, me, value):
    response = login(me).post("/portal/cravings/", {"occurred_at": _now_field(), "intensity": value})
    assert response.status_code == 400
    assert "Intensity must be from 0 to 10" in response.content.decode()
    assert not CravingLog.objects.exists()


def test_logging_a_skill_practice_and_refusing_12(world, me):
    skill = Skill.objects.get(slug="paced-breathing")
    client = login(me)
    bad = client.post("/portal/skills/", {"skill": skill.pk, "practiced_at": _now_field(), "helpfulness": "12"})
    assert bad.status_code == 400 and "How helpful must be from 0 to 10" in bad.content.decode()
    ok = client.post("/portal/skills/", {"skill": skill.pk, "practiced_at": _now_field(), "helpfulness": "8"})
    assert ok.status_code == 302
    assert SkillPractice.objects.get().helpfulness == 8
    assert "Paced breathing" in client.get("/portal/skills/").content.decode()


def test_handing_in_homework_then_being_refused_after_it_closed(world, me):
    hw = services.homework_assign(actor=world.clinician, participant=world.participant, title="Sleep diary",
                                  instructions="Keep a diary", plan_objective="Sleep 7 h")
    client = login(me)
    url = f"/portal/homework/{hw.code}/"
    assert b"Sleep diary" in client.get("/portal/homework/").content
    assert client.post(url, {"response": "Done: 6-7 h most nights", "version": hw.version}).status_code == 302
    hw.refresh_from_db()
    assert hw.status == "completed"
    services.homework_review(actor=world.clinician, homework=hw, comment="Good", close=True)
    hw.refresh_from_db()
    late = client.post(url, {"response": "Changed my mind", "version": hw.version})
    assert late.status_code == 400
    assert "closed" in late.content.decode() and "no longer takes answers" in late.content.decode()
    hw.refresh_from_db()
    assert hw.response == "Done: 6-7 h most nights" and hw.status == Homework.Status.CLOSED


def test_the_relapse_plan_form_keeps_text_on_a_conflict(world, me):
    client = login(me)
    assert client.post("/portal/plans/relapse-prevention/", {"triggers": "Payday", "version": ""}).status_code == 302
    services.relapse_plan_save(actor=world.clinician, participant=world.participant,
                               sections={"triggers": "Payday; evenings"}, expected_version=1)
    stale = client.post("/portal/plans/relapse-prevention/", {"triggers": "MY-UNSAVED-TEXT", "version": "1"})
    assert stale.status_code == 400
    html = stale.content.decode()
    assert "changed by someone else" in html and "MY-UNSAVED-TEXT" in html
    assert "Payday; evenings" in client.get("/portal/plans/").content.decode()


def test_safety_plan_page_always_offers_crisis_help(world, me):
    html = login(me).get("/portal/plans/safety/").content.decode()
    assert "My safety plan" in html and 'href="tel:988"' in html and "data-print" in html


def test_messages_go_both_ways_and_count_as_unread(world, me, as_clinician):
    client = login(me)
    assert client.post("/portal/messages/", {"body": ""}).status_code == 400
    assert client.post("/portal/messages/", {"body": "Can I switch tracks?"}).status_code == 302
    staff_url = f"/portal/participants/{world.participant.code}/messages/"
    assert "Can I switch tracks?" in as_clinician.get(staff_url).content.decode()
    assert Message.objects.get(from_participant=True).read_at is not None
    assert as_clinician.post(staff_url, {"body": "Yes, Thursday works."}).status_code == 302
    home = client.get("/portal/").content.decode()
    assert "1 new message" in home
    client.get("/portal/messages/")
    assert "new message" not in client.get("/portal/").content.decode()


def test_staff_share_a_note_for_the_family(world, as_clinician):
    url = f"/portal/participants/{world.participant.code}/messages/shared-notes/"
    assert as_clinician.post(url, {"title": "Plan", "body": ""}).status_code == 200  # kept, with errors
    assert not world.participant.shared_notes.exists()
    assert as_clinician.post(url, {"title": "Plan", "body": "We will practise."}).status_code == 302
    assert world.participant.shared_notes.get().title == "Plan"


def test_outsiders_cannot_message_our_participant(world, as_outsider):
    url = f"/portal/participants/{world.participant.code}/messages/"
    assert as_outsider.post(url, {"body": "hi"}).status_code == 404
    assert as_outsider.post(url + "shared-notes/", {"title": "t", "body": "hi"}).status_code == 404
    assert not Message.objects.exists() and not world.participant.shared_notes.exists()


def test_my_week_lists_my_sessions_and_the_module_they_teach(world, me):
    from openiop.skills.models import Module

    module = Module.objects.get(slug="grounding")
    start = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    session = delivered(world.program, module, start=start)
    f.booking(session, world.participant)
    other = f.session(world.program, kind="group", title="NOT-MINE", starts_at=start + timedelta(hours=2))
    f.booking(other, f.participant(world.org))
    client = login(me)
    html = client.get("/portal/").content.decode()
    assert "Grounding: coming back to the present" in html and "NOT-MINE" not in html
    assert client.get("/portal/modules/grounding/").status_code == 200


def test_my_week_query_count_does_not_grow_with_sessions(world, me):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openiop.skills.models import Module

    client = login(me)
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    f.booking(delivered(world.program, Module.objects.get(slug="grounding"), start=start), world.participant)
    client.get("/portal/")
    with CaptureQueriesContext(connection) as one:
        client.get("/portal/")
    for h in range(1, 7):
        module = Module.objects.order_by("slug")[h]
        f.booking(delivered(world.program, module, start=start + timedelta(hours=h)), world.participant)
    with CaptureQueriesContext(connection) as seven:
        html = client.get("/portal/").content.decode()
    assert html.count('class="portal-session') == 7
    assert len(seven) == len(one)


def test_my_week_links_my_private_calendar_feed_once_issued(world, me):
    from openiop.scheduling.models import CalendarFeed

    client = login(me)
    assert "Ask the front desk for a private calendar link" in client.get("/portal/").content.decode()
    CalendarFeed.objects.create(participant=world.participant, token="t" * 40)
    html = client.get("/portal/").content.decode()
    assert f'href="/schedule/feeds/{"t" * 40}.ics"' in html
    assert client.get(f"/schedule/feeds/{'t' * 40}.ics").status_code == 200
