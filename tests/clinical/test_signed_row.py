"""The database refuses any change to a signed note's row but the signing workflow's own
columns, on SQLite and PostgreSQL alike (clinical.signed_guard, migration 0006).

The columns come from the model, so a column added later is tried here automatically."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from openiop.clinical import signed_guard
from openiop.clinical.models import GroupNoteEntry, Note
from openiop.clinical.services import note_cosign, note_lock
from openiop.participants.models import RelatedPerson
from tests import factories as f

from .helpers import signed_group_note


def _other_row(field: models.ForeignKey, current: Any, note: Note) -> Any:
    model = field.related_model
    other = model.objects.exclude(pk=current).order_by("pk").first()
    if other is None and model._meta.label == "care.Program":
        other = f.program(note.program.organization)
    assert other is not None, f"no other {model.__name__} to point {field.name} at"
    return other.pk


def _different(field: models.Field, note: Note) -> Any:
    """A valid value of `field` that differs from the note's."""
    current = getattr(note, field.attname)
    kind = field.get_internal_type()
    if isinstance(field, models.ForeignKey):
        return _other_row(field, current, note)
    if kind in ("AutoField", "BigAutoField"):
        return current + 100_000
    if kind == "UUIDField":
        return uuid.uuid4()
    if kind in ("CharField", "TextField"):
        if field.choices:
            return next(value for value, _ in field.choices if value != current)
        return "z" if current != "z" else "y"
    if kind == "JSONField":
        return {"rewritten": True}
    if kind == "DateTimeField":
        return (current or timezone.now()) + timedelta(days=1)
    if kind == "BooleanField":
        return not current
    if kind in ("IntegerField", "PositiveIntegerField", "BigIntegerField",
                "PositiveSmallIntegerField", "SmallIntegerField"):
        return (current or 0) + 1
    pytest.fail(f"Note.{field.name} is a {kind}: teach _different() a value for it")


def _refused(note: Note, **values: Any) -> None:
    with pytest.raises(DatabaseError, match="is signed"), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(**values)


def _row(note: Note) -> dict[str, Any]:
    return Note.objects.filter(pk=note.pk).values(
        *[fld.attname for fld in Note._meta.concrete_fields]).get()


def test_every_column_but_the_signing_workflows_is_protected(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    before = _row(note)
    protected = [fld for fld in Note._meta.concrete_fields
                 if fld.column not in signed_guard.AFTER_SIGNING]
    # The model's columns, less the listed ones: nothing is left out by a name mismatch.
    assert {fld.column for fld in Note._meta.concrete_fields} - {
        fld.column for fld in protected} == set(signed_guard.AFTER_SIGNING)
    tried = []
    for fld in protected:
        _refused(note, **{fld.attname: _different(fld, note)})
        tried.append(fld.column)
    assert len(tried) == len(protected) >= 15
    assert _row(note) == before


def test_a_signed_note_is_not_deleted_nor_its_entries_added_or_changed(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    entry = note.entries.order_by("pk").first()
    with pytest.raises(DatabaseError, match="is signed"), transaction.atomic():
        Note.objects.filter(pk=note.pk).delete()
    with pytest.raises(DatabaseError, match="is signed"), transaction.atomic():
        GroupNoteEntry.objects.filter(pk=entry.pk).update(plan="rewritten")
    with pytest.raises(DatabaseError, match="is signed"), transaction.atomic():
        GroupNoteEntry.objects.create(note=note, participant=clinic.absent)
    with pytest.raises(DatabaseError, match="is signed"), transaction.atomic():
        note.family_members.add(RelatedPerson.objects.create(
            participant=clinic.world.participant, name="Pat Rivera",
            relationship=RelatedPerson.Relationship.choices[0][0]))
    assert Note.objects.filter(pk=note.pk).exists()
    assert note.entries.count() == 2 and not note.entries.filter(plan="rewritten").exists()


def test_the_workflow_columns_move_forward_once_and_a_locked_note_is_final(clinic):
    clinic.group.facilitator = clinic.associate
    clinic.group.save()
    note = signed_group_note(clinic.associate, clinic.group)
    assert note.needs_cosignature and note.status == "signed"
    _refused(note, status="draft")
    note = note_cosign(actor=clinic.supervisor, note=note)
    assert note.status == "cosigned" and note.cosigned_at is not None
    _refused(note, status="signed")
    _refused(note, cosigned_at=note.cosigned_at + timedelta(minutes=5))
    _refused(note, cosigned_by_id=clinic.associate.pk)
    _refused(note, cosigned_as="someone else")
    note = note_lock(actor=clinic.supervisor, note=note)
    assert note.status == "locked" and note.locked_at is not None
    _refused(note, updated_at=timezone.now())
    _refused(note, locked_at=note.locked_at + timedelta(minutes=5))
    note.refresh_from_db()
    assert note.status == "locked"


def test_a_draft_is_still_edited_freely(clinic):
    from openiop.clinical.services import note_start

    draft = note_start(actor=clinic.supervisor, session=clinic.individual)
    Note.objects.filter(pk=draft.pk).update(sections={"data": "draft text"}, version=7)
    draft.refresh_from_db()
    assert draft.sections == {"data": "draft text"} and draft.version == 7
