"""Group-note entries name the treatment-plan objective they address: chosen per attendee
from that attendee's current plan, saved by autosave and the normal save, refused for
another participant's objective (nothing stored) and on a signed note, shown on the signed
document, its print, PDF and in the API; the editor's query count does not grow with it."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.audit.models import AccessEvent
from openiop.care.models import EpisodeOfCare
from openiop.clinical import pdf as clinical_pdf
from openiop.clinical.models import GroupNoteEntry, Note, NoteConflictCopy
from openiop.clinical.services import (
    note_save_draft,
    note_sign,
    note_start,
    plan_add_goal,
    plan_add_objective,
    plan_add_problem,
    plan_set_objective_status,
    plan_start,
)
from openiop.core.exceptions import InvalidTransition
from tests.conftest import login

from .helpers import SHARED, distinct_entries, written_group_note


def plan_objectives(actor, person, *texts):
    """A current treatment plan for `person` with one objective per text."""
    episode = EpisodeOfCare.objects.get(participant=person, status="active")
    plan = plan_start(actor=actor, participant=person, episode=episode)
    problem = plan_add_problem(actor=actor, plan=plan, text="Cravings in the evening",
                               version=plan.version)
    plan.refresh_from_db()
    goal = plan_add_goal(actor=actor, problem=problem, text="30 days without use",
                         version=plan.version)
    plan.refresh_from_db()
    out = []
    for n, text in enumerate(texts):
        out.append(plan_add_objective(actor=actor, goal=goal, text=text,
                                      target_date=plan.started_on + timedelta(days=14 + n),
                                      version=plan.version))
        plan.refresh_from_db()
    return out


@pytest.fixture
def objectives(clinic):
    """Two objectives for the first attendee, one for the second."""
    first, second = clinic.attendees
    actor = clinic.world.clinician
    return {
        first.pk: plan_objectives(actor, first, "Logs cravings daily", "Names two supports"),
        second.pk: plan_objectives(actor, second, "Uses urge surfing twice a week"),
    }


def _entry(note, person) -> GroupNoteEntry:
    return GroupNoteEntry.objects.select_related("objective").get(note=note, participant=person)


def _select(body: str, person) -> str:
    match = re.search(rf'<select id="e-{person.code}-objective".*?</select>', body, re.S)
    assert match, f"no objective select for {person}"
    return match.group(0)


def _form_post(note, *, objective_for=None, version=None):
    """What the note form posts (the autosave JavaScript sends the whole form)."""
    data = {"version": str(version or note.version),
            **{f"section-{k}": v for k, v in SHARED.items()}}
    for code, fields in distinct_entries(note).items():
        data |= {f"entry-{code}-{k}": v for k, v in fields.items()}
        data[f"entry-{code}-objective"] = ""
    for person, objective in (objective_for or {}).items():
        data[f"entry-{person.code}-objective"] = str(objective.code)
    return data


class TestEditor:
    def test_each_entry_lists_only_its_own_participants_objectives_with_an_empty_choice(
            self, clinic, objectives):
        first, second = clinic.attendees
        note = note_start(actor=clinic.supervisor, session=clinic.group)
        body = login(clinic.supervisor).get(f"/notes/{note.code}/").content.decode()
        first_select, second_select = _select(body, first), _select(body, second)
        assert f'<label for="e-{first.code}-objective">Plan objective this addresses</label>' in (
            body)
        assert '<option value="">' in first_select and '<option value="">' in second_select
        for o in objectives[first.pk]:
            assert str(o.code) in first_select and str(o.code) not in second_select
        only = objectives[second.pk][0]
        assert str(only.code) in second_select and str(only.code) not in first_select

    def test_met_objectives_are_not_offered_unless_already_linked(self, clinic, objectives):
        first, _ = clinic.attendees
        logs, supports = objectives[first.pk]
        note = written_group_note(clinic.supervisor, clinic.group)
        note = note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                               version=note.version,
                               entries={str(first.code): {"objective": str(logs.code)}})
        plan = logs.goal.problem.plan
        for o in (logs, supports):
            plan.refresh_from_db()
            plan_set_objective_status(actor=clinic.world.clinician, objective=o, status="met",
                                      version=plan.version)
        select = _select(login(clinic.supervisor).get(f"/notes/{note.code}/").content.decode(),
                         first)
        assert f'<option value="{logs.code}" selected>' in select
        assert str(supports.code) not in select

    def test_an_attendee_without_a_plan_gets_only_the_empty_choice(self, clinic):
        note = note_start(actor=clinic.supervisor, session=clinic.group)
        body = login(clinic.supervisor).get(f"/notes/{note.code}/").content.decode()
        select = _select(body, clinic.attendees[0])
        assert select.count("<option") == 1
        assert "No open objectives on a current treatment plan." in body

    def test_the_editor_query_count_does_not_grow_with_plans_and_objectives(self, clinic):
        client = login(clinic.supervisor)
        note = note_start(actor=clinic.supervisor, session=clinic.group)
        url = f"/notes/{note.code}/"
        client.get(url)
        with CaptureQueriesContext(connection) as without:
            assert client.get(url).status_code == 200
        for person in clinic.attendees:
            plan_objectives(clinic.world.clinician, person, "One", "Two", "Three")
        with CaptureQueriesContext(connection) as with_plans:
            response = client.get(url)
        assert response.content.decode().count("<option value=\"") >= 6 + 2
        assert len(with_plans) == len(without)
        objective_reads = [q for q in with_plans.captured_queries
                           if '"plan_participant_id"' in q["sql"]]
        assert len(objective_reads) == 1


class TestSave:
    def test_the_service_links_and_unlinks_an_entrys_objective(self, clinic, objectives):
        first, second = clinic.attendees
        note = written_group_note(clinic.supervisor, clinic.group)
        target = objectives[first.pk][1]
        note = note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                               version=note.version,
                               entries={str(first.code): {"objective": str(target.code)}})
        assert _entry(note, first).objective == target
        assert _entry(note, second).objective is None
        # The text saved earlier is untouched by a save of the objective alone.
        assert _entry(note, first).plan == distinct_entries(note)[str(first.code)]["plan"]
        note = note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                               version=note.version, entries={str(first.code): {"objective": ""}})
        assert _entry(note, first).objective is None
        assert AccessEvent.objects.filter(object_type="note", object_id=str(note.code),
                                          reason="draft saved", participant=first).count() >= 2

    def test_another_participants_objective_is_refused_and_nothing_is_stored(
            self, clinic, objectives):
        first, second = clinic.attendees
        note = written_group_note(clinic.supervisor, clinic.group)
        before = note.version
        entries = {str(first.code): {"objective": str(objectives[first.pk][0].code),
                                     "plan": "Changed plan text"},
                   str(second.code): {"objective": str(objectives[first.pk][1].code)}}
        with pytest.raises(ValidationError) as exc:
            note_save_draft(actor=clinic.supervisor, note=note,
                            sections=SHARED | {"topic": "Changed topic"},
                            version=note.version, entries=entries)
        assert list(exc.value.message_dict) == ["entries.objective"]
        assert second.display_name in exc.value.message_dict["entries.objective"][0]
        note.refresh_from_db()
        assert note.version == before and note.sections["topic"] == SHARED["topic"]
        assert _entry(note, first).objective is None
        assert _entry(note, first).plan != "Changed plan text"
        assert _entry(note, second).objective is None

    def test_an_objective_of_a_participant_outside_the_note_is_refused(self, clinic, objectives):
        outsider_objective = plan_objectives(clinic.world.colleague, clinic.absent, "Other")[0]
        first, _ = clinic.attendees
        note = written_group_note(clinic.supervisor, clinic.group)
        with pytest.raises(ValidationError) as exc:
            note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                            version=note.version,
                            entries={str(first.code): {"objective": str(outsider_objective.code)}})
        assert "entries.objective" in exc.value.message_dict
        assert _entry(note, first).objective is None

    def test_an_objective_from_a_plan_whose_episode_ended_is_refused(self, clinic, objectives):
        first, _ = clinic.attendees
        old = objectives[first.pk][0]
        EpisodeOfCare.objects.filter(pk=old.goal.problem.plan.episode_id).update(
            status="finished")
        note = written_group_note(clinic.supervisor, clinic.group)
        with pytest.raises(ValidationError) as exc:
            note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                            version=note.version,
                            entries={str(first.code): {"objective": str(old.code)}})
        assert "entries.objective" in exc.value.message_dict

    def test_a_value_that_is_not_an_objective_code_is_refused_naming_the_field(self, clinic):
        first, _ = clinic.attendees
        note = written_group_note(clinic.supervisor, clinic.group)
        with pytest.raises(ValidationError) as exc:
            note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                            version=note.version,
                            entries={str(first.code): {"objective": "not-a-code"}})
        assert "entries.objective" in exc.value.message_dict

    def test_a_signed_note_refuses_an_objective(self, clinic, objectives):
        first, _ = clinic.attendees
        note = note_sign(actor=clinic.supervisor,
                         note=written_group_note(clinic.supervisor, clinic.group))
        with pytest.raises(InvalidTransition):
            note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                            version=note.version,
                            entries={str(first.code): {"objective": str(
                                objectives[first.pk][0].code)}})
        assert _entry(note, first).objective is None
        # Nor through the page.
        response = login(clinic.supervisor).post(
            f"/notes/{note.code}/save/",
            _form_post(note, objective_for={first: objectives[first.pk][0]}))
        assert response.status_code == 302
        assert _entry(note, first).objective is None
        note.refresh_from_db()
        assert note.status == "signed"

    def test_a_stale_save_that_changes_only_the_objective_is_kept_as_a_conflict(
            self, clinic, objectives):
        first, _ = clinic.attendees
        note = written_group_note(clinic.supervisor, clinic.group)
        stale = note.version
        note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED, version=stale,
                        entries={})
        response = login(clinic.supervisor).post(
            f"/notes/{note.code}/save/",
            _form_post(note, objective_for={first: objectives[first.pk][0]}, version=stale),
            HTTP_HX_REQUEST="true")
        assert response["HX-Retarget"] == "#conflict-panel"
        body = response.content.decode()
        assert "Logs cravings daily" in body  # the objective shown by its text
        assert f'name="entry-{first.code}-objective" value="{objectives[first.pk][0].code}"' in (
            body)
        assert _entry(note, first).objective is None
        copy = NoteConflictCopy.objects.get(note=note)
        assert copy.entries[str(first.code)]["objective"] == str(objectives[first.pk][0].code)


class TestPages:
    def test_autosave_posts_the_objective_like_the_javascript_does(self, clinic, objectives):
        first, second = clinic.attendees
        note = note_start(actor=clinic.supervisor, session=clinic.group)
        client = login(clinic.supervisor)
        pick = {first: objectives[first.pk][1], second: objectives[second.pk][0]}
        response = client.post(f"/notes/{note.code}/save/", _form_post(note, objective_for=pick),
                               HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and b"version 2" in response.content
        assert _entry(note, first).objective == pick[first]
        assert _entry(note, second).objective == pick[second]
        page = client.get(f"/notes/{note.code}/").content.decode()
        assert f'<option value="{pick[first].code}" selected>' in _select(page, first)

    def test_autosave_of_another_participants_objective_says_what_to_pick(
            self, clinic, objectives):
        first, second = clinic.attendees
        note = note_start(actor=clinic.supervisor, session=clinic.group)
        response = login(clinic.supervisor).post(
            f"/notes/{note.code}/save/",
            _form_post(note, objective_for={second: objectives[first.pk][0]}),
            HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert b"Pick an objective from Mo Ellis" in response.content
        assert b"entries.objective" not in response.content
        note.refresh_from_db()
        assert note.version == 1 and not note.sections
        assert _entry(note, second).objective is None

    def test_the_normal_save_and_sign_keep_the_objective_on_the_signed_document(
            self, clinic, objectives, monkeypatch):
        first, _ = clinic.attendees
        note = note_start(actor=clinic.supervisor, session=clinic.group)
        client = login(clinic.supervisor)
        target = objectives[first.pk][0]
        response = client.post(f"/notes/{note.code}/save/",
                               _form_post(note, objective_for={first: target}))
        assert response.status_code == 302
        note.refresh_from_db()
        response = client.post(f"/notes/{note.code}/sign/",
                               _form_post(note, objective_for={first: target}))
        assert response.status_code == 302
        note.refresh_from_db()
        assert note.status == "signed" and _entry(note, first).objective == target
        doc = client.get(f"/notes/{note.code}/").content.decode()
        assert "Plan objective addressed" in doc and target.text in doc
        assert f'name="entry-{first.code}-objective"' not in doc  # no editor once signed
        printed = client.get(f"/notes/{note.code}/print/").content.decode()
        assert target.text in printed
        texts: list[str] = []
        real = clinical_pdf._p
        monkeypatch.setattr(clinical_pdf, "_p",
                            lambda text, style: texts.append(str(text)) or real(text, style))
        assert client.get(f"/notes/{note.code}/pdf/").content.startswith(b"%PDF")
        assert "Plan objective addressed" in texts and target.text in texts

    def test_the_signed_hash_covers_the_objective(self, clinic, objectives):
        first, _ = clinic.attendees
        plain = written_group_note(clinic.supervisor, clinic.group)
        expected_without = plain.compute_hash(sorted(
            ({"participant": str(e.participant.code), **e.as_dict()}
             for e in plain.entries.select_related("participant")),
            key=lambda d: d["participant"]))
        note = note_save_draft(actor=clinic.supervisor, note=plain, sections=SHARED,
                               version=plain.version, entries={str(first.code): {
                                   "objective": str(objectives[first.pk][0].code)}})
        note = note_sign(actor=clinic.supervisor, note=note)
        assert note.content_hash and note.content_hash != expected_without


class TestApi:
    def _put(self, client, note, body):
        return client.put(f"/api/clinical/notes/{note.code}/draft", json.dumps(body),
                          content_type="application/json")

    def test_the_api_reads_and_writes_the_entry_objective(self, clinic, objectives):
        first, second = clinic.attendees
        note = written_group_note(clinic.supervisor, clinic.group)
        client = login(clinic.supervisor)
        target = objectives[second.pk][0]
        response = self._put(client, note, {"version": note.version, "sections": SHARED,
                                            "entries": {str(second.code): {
                                                "objective": str(target.code)}}})
        assert response.status_code == 200
        entries = {e["participant"]: e for e in response.json()["entries"]}
        assert entries[str(second.code)]["objective"] == str(target.code)
        assert entries[str(second.code)]["objective_text"] == target.text
        assert entries[str(first.code)]["objective"] is None
        read = client.get(f"/api/clinical/notes/{note.code}").json()
        assert {e["participant"]: e["objective"] for e in read["entries"]}[str(second.code)] == (
            str(target.code))

    def test_the_api_refuses_another_participants_objective_with_the_field(
            self, clinic, objectives):
        first, second = clinic.attendees
        note = written_group_note(clinic.supervisor, clinic.group)
        response = self._put(login(clinic.supervisor), note, {
            "version": note.version, "sections": SHARED,
            "entries": {str(second.code): {"objective": str(objectives[first.pk][0].code)}}})
        assert response.status_code == 422
        assert response.json()["detail"].startswith("entries.objective:")
        assert Note.objects.get(pk=note.pk).version == note.version
        assert _entry(note, second).objective is None
