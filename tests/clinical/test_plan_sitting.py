"""Treatment plans a clinician trusts: one sitting of changes is one revision acknowledged
once; a form that was not saved comes back as typed with an error beside each field; the
PDF carries signature lines and the signature record, in a font that prints what people
type."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from openiop.clinical.models import TreatmentPlanRevision
from openiop.clinical.pdf import plan_pdf, printable
from openiop.clinical.selectors import plan_signature_record
from openiop.clinical.services import (
    plan_acknowledge,
    plan_add_goal,
    plan_add_objective,
    plan_add_problem,
    plan_finish_revision,
    plan_start,
)
from openiop.clinical.services.plans import plan_snapshot
from openiop.clinical.text import quoted
from tests.conftest import login


@pytest.fixture
def plan(clinic):
    w = clinic.world
    return plan_start(actor=w.clinician, participant=w.participant, episode=w.episode,
                      statement="I want my evenings back")


def _problem_goal_objectives(actor, plan, n_objectives=3):
    problem = plan_add_problem(actor=actor, plan=plan, text="Sleep", version=plan.version)
    plan.refresh_from_db()
    goal = plan_add_goal(actor=actor, problem=problem, text="Sleeps 6 hours",
                         version=plan.version)
    plan.refresh_from_db()
    for n in range(n_objectives):
        plan_add_objective(actor=actor, goal=goal, text=f"Sleep log week {n + 1}",
                           target_date=plan.started_on + timedelta(days=7 * (n + 1)),
                           version=plan.version)
        plan.refresh_from_db()
    return goal


def test_one_sitting_of_changes_is_one_revision_acknowledged_once(clinic, plan):
    w = clinic.world
    plan = plan_acknowledge(actor=w.clinician, plan=plan, method="signed in person",
                            version=plan.version)
    _problem_goal_objectives(w.clinician, plan)
    assert plan.revision == 2 and not plan.acknowledged_current
    second = TreatmentPlanRevision.objects.get(plan=plan, number=2)
    assert second.is_draft and second.changes == 5
    assert len(second.snapshot["problems"][0]["goals"][0]["objectives"]) == 3
    assert second.summary.startswith("Problem added: Sleep; Goal added: Sleeps 6 hours")
    plan = plan_acknowledge(actor=w.clinician, plan=plan, method="verbal, in session",
                            version=plan.version)
    assert plan.acknowledged_current and plan.acknowledged_revision == 2
    second.refresh_from_db()
    assert not second.is_draft
    # The next change starts revision 3; what was acknowledged stays as it was.
    plan_add_problem(actor=w.clinician, plan=plan, text="Mood", version=plan.version)
    plan.refresh_from_db()
    assert plan.revision == 3 and not plan.acknowledged_current
    second.refresh_from_db()
    assert [p["text"] for p in second.snapshot["problems"]] == ["Sleep"]


def test_someone_elses_change_finalizes_the_draft_and_opens_a_new_revision(clinic, plan):
    w = clinic.world
    plan_add_problem(actor=w.clinician, plan=plan, text="Sleep", version=plan.version)
    plan.refresh_from_db()
    plan_add_problem(actor=w.director, plan=plan, text="Work stress", version=plan.version)
    plan.refresh_from_db()
    first, second = TreatmentPlanRevision.objects.filter(plan=plan).order_by("number")
    assert (first.number, first.changes, first.is_draft) == (1, 2, False)
    assert (second.number, second.created_by, second.is_draft) == (2, w.director, True)


def test_finishing_a_revision_makes_the_next_change_a_new_revision(clinic, plan):
    w = clinic.world
    plan = plan_finish_revision(actor=w.clinician, plan=plan, version=plan.version)
    assert not TreatmentPlanRevision.objects.get(plan=plan, number=1).is_draft
    with pytest.raises(Exception) as exc:
        plan_finish_revision(actor=w.clinician, plan=plan, version=plan.version)
    assert "already final" in str(exc.value)
    plan_add_problem(actor=w.clinician, plan=plan, text="Sleep", version=plan.version)
    plan.refresh_from_db()
    assert plan.revision == 2


def test_finishing_through_the_page(clinic, plan):
    w = clinic.world
    client = login(w.clinician)
    url = f"/notes/participants/{w.participant.code}/plan/"
    page = client.get(url)
    assert b"Finish revision 1" in page.content
    response = client.post(url + "finish/", {"version": plan.version})
    assert response.status_code == 302
    assert not TreatmentPlanRevision.objects.get(plan=plan, number=1).is_draft
    assert b"Finish revision 1" not in client.get(url).content


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_postgresql_refuses_changing_a_finalized_revision(clinic, plan):
    w = clinic.world
    draft = TreatmentPlanRevision.objects.get(plan=plan, number=1)
    TreatmentPlanRevision.objects.filter(pk=draft.pk).update(summary="still a draft")
    plan_finish_revision(actor=w.clinician, plan=plan, version=plan.version)
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentPlanRevision.objects.filter(pk=draft.pk).update(summary="rewritten")


def test_an_invalid_date_keeps_the_typed_text_and_errors_sit_by_each_field(clinic, plan):
    w = clinic.world
    goal = _problem_goal_objectives(w.clinician, plan, n_objectives=0)
    client = login(w.clinician)
    response = client.post(
        f"/notes/participants/{w.participant.code}/plan/objective/",
        {"version": plan.version, "parent": str(goal.code),
         "objective-text": "Uses the wind-down routine 5 nights a week",
         "objective-target_date": "2026-02-31"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Uses the wind-down routine 5 nights a week</textarea>" in body
    assert 'value="2026-02-31"' in body
    assert "Target date: Enter a valid date." in body
    assert "Not saved: correct the fields marked below." in body
    assert goal.objectives.count() == 0


def test_a_rule_broken_in_the_service_is_shown_beside_its_field(clinic, plan):
    w = clinic.world
    goal = _problem_goal_objectives(w.clinician, plan, n_objectives=0)
    before = (plan.started_on - timedelta(days=3)).isoformat()
    response = login(w.clinician).post(
        f"/notes/participants/{w.participant.code}/plan/objective/",
        {"version": plan.version, "parent": str(goal.code),
         "objective-text": "Keeps a sleep diary", "objective-target_date": before})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Keeps a sleep diary</textarea>" in body
    assert "Target date: The target date must be on or after" in body
    # Each error is its own line by its field, never one joined "a: x; b: y" message.
    assert "; Target date" not in body


def test_quoted_words_get_one_pair_of_quotes():
    assert quoted("“I want my evenings back”") == "“I want my evenings back”"
    assert quoted('"Sleep through"') == "“Sleep through”"
    assert quoted("plain") == "“plain”"


def test_the_plan_page_shows_typed_quotes_once(clinic):
    w = clinic.world
    plan_start(actor=w.clinician, participant=w.participant, episode=w.episode,
               statement="“I want my evenings back”")
    body = login(w.clinician).get(
        f"/notes/participants/{w.participant.code}/plan/").content.decode()
    assert "“I want my evenings back”" in body and "““" not in body


def test_printable_names_what_no_font_covers():
    assert printable("Ζωή Παπαδοπούλου, Ёлка, Žofie") == "Ζωή Παπαδοπούλου, Ёлка, Žofie"
    assert printable("ok 👍🏽 done") == "ok [thumbs up sign] done"
    assert printable("❤️") in ("❤", "[heavy black heart]")


def _pdftotext(data: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; .ci/run installs it")
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data,
                          capture_output=True, check=True).stdout.decode()


def test_the_plan_pdf_prints_non_latin_names_emoji_and_signature_lines(clinic):
    w = clinic.world
    p = w.participant
    p.legal_first_name, p.legal_last_name, p.preferred_name = "Zoë", "Παπαδοπούλου", ""
    p.save()
    plan = plan_start(actor=w.clinician, participant=p, episode=w.episode,
                      statement="“Хочу спать спокойно 😴”")
    plan_add_problem(actor=w.clinician, plan=plan, text="Insomnie à répétition",
                     participant_words="Ich schlafe schlecht", version=plan.version)
    plan.refresh_from_db()
    plan = plan_acknowledge(actor=w.clinician, plan=plan, method="signed in person",
                            version=plan.version)
    text = _pdftotext(plan_pdf(plan, plan_snapshot(plan), plan.revision,
                               plan_signature_record(plan)))
    assert "Zoë Παπαδοπούλου" in text
    assert "“Хочу спать спокойно [sleeping face]”" in text and "““" not in text
    assert "Insomnie à répétition" in text and "“Ich schlafe schlecht”" in text
    assert "■" not in text
    assert "Participant signature" in text and "Clinician signature" in text
    assert "Participant acknowledged revision 1" in text
    assert "Revision 1 (final) prepared by" in text
    assert w.clinician.get_full_name() in text


def test_the_plan_pdf_through_the_page_says_when_not_yet_acknowledged(clinic, plan):
    w = clinic.world
    response = login(w.clinician).get(
        f"/notes/participants/{w.participant.code}/plan/export/pdf/")
    assert response.status_code == 200
    text = _pdftotext(response.content)
    assert "Not yet acknowledged by the participant." in text
    assert "Revision 1 (draft, not finished)" in text
