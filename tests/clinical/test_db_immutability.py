"""PostgreSQL itself refuses changes to signed notes (trigger migration 0002)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from openiop.clinical.models import Addendum, GroupNoteEntry, Note
from openiop.clinical.services import addendum_add, note_start

from .helpers import signed_group_note

DB_REFUSALS = (InternalError, ProgrammingError, IntegrityError)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres_only
def test_the_database_refuses_a_raw_update_of_a_signed_note(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    with pytest.raises(DB_REFUSALS, match="is signed"):
        _raw("UPDATE clinical_note SET sections = %s::jsonb WHERE id = %s",
             ['{"topic": "rewritten"}', note.pk])
    with pytest.raises(DB_REFUSALS):
        _raw("UPDATE clinical_note SET status = 'draft' WHERE id = %s", [note.pk])
    with pytest.raises(DB_REFUSALS):
        _raw("DELETE FROM clinical_note WHERE id = %s", [note.pk])
    with pytest.raises(DB_REFUSALS):
        _raw("UPDATE clinical_groupnoteentry SET plan = 'rewritten' WHERE note_id = %s",
             [note.pk])
    note.refresh_from_db()
    assert note.sections["topic"] == "Coping with cravings" and note.status == "signed"
    assert not GroupNoteEntry.objects.filter(note=note, plan="rewritten").exists()


@pytest.mark.postgres_only
def test_the_database_refuses_an_orm_update_of_a_signed_note(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    with pytest.raises(DB_REFUSALS), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(sections={"topic": "x"})
    note.refresh_from_db()
    assert note.sections["topic"] == "Coping with cravings"


@pytest.mark.postgres_only
def test_the_database_allows_the_forward_workflow_and_drafts(clinic):
    draft = note_start(actor=clinic.supervisor, session=clinic.individual)
    _raw("UPDATE clinical_note SET sections = %s::jsonb WHERE id = %s",
         ['{"data": "draft text"}', draft.pk])
    note = signed_group_note(clinic.supervisor, clinic.group)
    _raw("UPDATE clinical_note SET status = 'locked', locked_at = now() WHERE id = %s",
         [note.pk])
    with pytest.raises(DB_REFUSALS):
        _raw("UPDATE clinical_note SET locked_at = now() WHERE id = %s", [note.pk])
    addendum = addendum_add(actor=clinic.supervisor, note=Note.objects.get(pk=note.pk),
                            text="Clarification.", reason="correction", scope="whole",
                            confirm_whole=True)
    with pytest.raises(DB_REFUSALS):
        _raw("UPDATE clinical_addendum SET text = 'changed' WHERE id = %s", [addendum.pk])
    assert Addendum.objects.get(pk=addendum.pk).text == "Clarification."
