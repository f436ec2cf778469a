"""The original failure, end to end: a portal check-in with PHQ-9 item 9 = 3 reaches the
assigned clinician's My work, who acknowledges and resolves it; an unacknowledged task
escalates when the clock passes its deadline; My work for every role (screenshots)."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from openiop.accounts.models import User
from openiop.intake.models import SafetyTask
from openiop.intake.safety import safety_task_open, safety_tasks_escalate
from openiop.notifications.models import Notification
from tests.intake.safety_helpers import phq9_item9

from .conftest import screenshot, settle, sign_in


def test_a_risk_answer_in_the_portal_reaches_the_clinician_who_acknowledges_and_resolves(
        demo, page, phone_page):
    phone = phone_page
    sign_in(phone, "participant")
    phone.get_by_role("link", name="Weekly check-in: PHQ-9").click()
    settle(phone)
    for i in range(1, 10):
        phone.locator(f"input[name=q{i}][value='{3 if i == 9 else 0}']").check()
    phone.get_by_role("button", name="Send my answers").click()
    settle(phone)
    banner = phone.locator(".crisis-banner")
    assert banner.is_visible()
    assert re.search(r"has been told and will reach out to you by", banner.inner_text())
    assert "call or text 988" in banner.inner_text() and "911" in banner.inner_text()
    screenshot(phone, "safety-portal-after-risk-answer")

    task = SafetyTask.objects.filter(participant__user__username="participant").latest("pk")
    assert task.status == "open" and task.assigned_to is not None
    person = task.participant.display_name

    sign_in(page, task.assigned_to.username)
    assert page.url.endswith("/dashboard/")
    assert page.get_by_role("heading", name="My work").is_visible()
    page.wait_for_selector("#my-work-count:not(:empty)")
    assert re.fullmatch(r"My work · \d+", page.locator(".mainnav a").first.inner_text().strip())
    safety = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Safety tasks")))
    row = safety.locator("tr", has_text=person).first
    assert row.is_visible()
    screenshot(page, "safety-my-work-with-task")
    row.get_by_role("link", name="Acknowledge").click()
    settle(page)
    assert page.get_by_role("heading", name=f"Safety task: {person}").is_visible()
    page.get_by_role("button", name="Acknowledge").click()
    settle(page)
    assert page.get_by_text("Acknowledged. Escalation stopped").is_visible()
    page.get_by_label("Safety plan reviewed with the participant").check()
    page.get_by_label("Note").fill("Called; reviewed warning signs and coping steps; "
                                   "next contact tomorrow at group.")
    screenshot(page, "safety-task-resolving")
    page.get_by_role("button", name="Resolve").click()
    settle(page)
    assert page.get_by_text("Safety task resolved.").is_visible()
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("resolved", "safety_plan_reviewed")
    assert task.acknowledged_by == task.resolved_by == task.assigned_to


def test_an_unacknowledged_task_escalates_and_every_role_has_its_my_work(demo, page):
    clinician = User.objects.get(username="clinician")
    ep = (clinician.staff_profile.organization.programs.first().episodes
          .filter(status="active", primary_therapist=clinician).first())
    task = safety_task_open(organization=ep.program.organization, result=phq9_item9(2),
                            participant=ep.participant, program=ep.program,
                            assigned_to=clinician)
    supervisor = clinician.staff_profile.supervisor.user
    # The clock passes the deadline: the sweep escalates one step, and only once.
    with time_machine.travel(task.acknowledge_due_at + timedelta(minutes=1), tick=False):
        from django.utils import timezone

        made = safety_tasks_escalate(now=timezone.now())
        assert safety_tasks_escalate(now=timezone.now()) == []
    assert [(e.task_id, e.step, e.recipient) for e in made if e.task_id == task.pk] == [
        (task.pk, 1, supervisor)]
    assert Notification.objects.filter(user=supervisor, url__contains=str(task.code)).exists()

    sign_in(page, supervisor.username)
    page.goto("/dashboard/notifications/")
    assert page.get_by_text("A task for a participant of").first.is_visible()
    note = Notification.objects.get(user=supervisor, url__contains=str(task.code))
    page.locator(f"form[action='/dashboard/notifications/{note.pk}/open/'] button").click()
    settle(page)
    assert page.url.endswith(f"/dashboard/safety-tasks/{task.code}/")
    note.refresh_from_db()
    assert note.read_at is not None
    assert page.get_by_text(f"to supervisor: {supervisor}").is_visible()
    screenshot(page, "safety-task-escalated")
    page.goto("/dashboard/")
    settle(page)
    screenshot(page, f"my-work-{supervisor.role}")
    page.context.clear_cookies()

    for username in ("clinician", "intake", "prescriber", "nurse", "frontdesk"):
        sign_in(page, username)
        assert page.get_by_role("heading", name="My work").is_visible()
        if username == "frontdesk":
            assert page.get_by_text("Nothing is waiting for you").is_visible()
        else:
            assert page.locator("section.card h2 .badge").count() >= 1
        screenshot(page, f"my-work-{username}")
        page.context.clear_cookies()
