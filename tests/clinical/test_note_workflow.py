"""Every note workflow transition and every refusal from the issue."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from openiop.audit.models import AccessEvent
from openiop.clinical.models import Addendum, GroupNoteEntry, Note, NoteConflictCopy
from openiop.clinical.services import (
    addendum_add,
    group_entry_add,
    note_cosign,
    note_lock,
    note_save_draft,
    note_sign,
    note_start,
)
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.participants.models import Consent, RelatedPerson
from tests import factories as f

from .helpers import DAP, SHARED, distinct_entries, signed_group_note, written_group_note


def test_a_group_note_is_prefilled_with_the_attendees_only(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.group)
    assert note.kind == "group" and note.status == "draft" and note.version == 1
    people = set(note.entries.values_list("participant_id", flat=True))
    assert people == {p.pk for p in clinic.attendees}
    assert clinic.absent.pk not in people
    # Starting again returns the same note, not a second one.
    assert note_start(actor=clinic.supervisor, session=clinic.group) == note


def test_an_individual_note_uses_the_program_format(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    assert (note.kind, note.note_format, note.participant) == (
        "individual", "DAP", clinic.world.participant)
    with pytest.raises(ValidationError) as exc:
        note_save_draft(actor=clinic.supervisor, note=note, sections={"behavior": "x"},
                        version=1)
    assert "sections" in exc.value.message_dict


def test_only_the_facilitator_starts_a_group_note(clinic):
    with pytest.raises(NotPermitted):
        note_start(actor=clinic.world.colleague, session=clinic.group)
    assert not Note.objects.exists()


def test_a_draft_save_bumps_the_version(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    saved = note_save_draft(actor=clinic.supervisor, note=note, sections=DAP, version=1)
    assert saved.version == 2 and saved.sections["data"] == DAP["data"]


def test_a_save_against_an_older_version_keeps_both_texts(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    note_save_draft(actor=clinic.supervisor, note=note, sections=DAP | {"data": "Tab A text"},
                    version=1)
    stale = Note.objects.get(pk=note.pk)
    with pytest.raises(Conflict):
        note_save_draft(actor=clinic.supervisor, note=stale,
                        sections=DAP | {"data": "Tab B text"}, version=1)
    stale.refresh_from_db()
    assert stale.sections["data"] == "Tab A text" and stale.version == 2
    copy = NoteConflictCopy.objects.get(note=note)
    assert copy.sections["data"] == "Tab B text" and copy.based_on_version == 1


def test_signing_with_an_empty_required_section_is_refused(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    note = note_save_draft(actor=clinic.supervisor, note=note,
                           sections=DAP | {"assessment": "   "}, version=1)
    with pytest.raises(ValidationError) as exc:
        note_sign(actor=clinic.supervisor, note=note)
    assert "sections.assessment" in exc.value.message_dict
    note.refresh_from_db()
    assert note.status == "draft" and note.signed_at is None


def test_signing_someone_elses_note_is_refused(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    note = note_save_draft(actor=clinic.supervisor, note=note, sections=DAP, version=1)
    with pytest.raises(NotPermitted):
        note_sign(actor=clinic.world.director, note=note)
    note.refresh_from_db()
    assert note.status == "draft"


def test_signing_freezes_the_credential_and_a_hash(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    note = note_save_draft(actor=clinic.supervisor, note=note, sections=DAP, version=1)
    signed = note_sign(actor=clinic.supervisor, note=note)
    assert signed.status == "signed" and signed.signed_at is not None
    assert signed.signed_as.endswith(", LCSW") and len(signed.content_hash) == 64
    assert not signed.needs_cosignature
    assert AccessEvent.objects.filter(action="sign", object_id=str(note.code)).exists()


def test_editing_a_signed_note_is_refused_and_changes_nothing(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    before = (note.sections, note.version)
    with pytest.raises(InvalidTransition):
        note_save_draft(actor=clinic.supervisor, note=note, sections={"topic": "changed"},
                        version=note.version)
    with pytest.raises(InvalidTransition):
        note_sign(actor=clinic.supervisor, note=note)
    note.refresh_from_db()
    assert (note.sections, note.version) == before


def test_a_supervised_author_needs_the_supervisor_to_cosign(clinic):
    clinic.group.facilitator = clinic.associate
    clinic.group.save()
    note = signed_group_note(clinic.associate, clinic.group)
    assert note.status == "signed" and note.needs_cosignature
    with pytest.raises(InvalidTransition):
        note_lock(actor=clinic.associate, note=note)
    for not_supervisor in (clinic.world.colleague, clinic.world.director, clinic.associate):
        with pytest.raises(NotPermitted):
            note_cosign(actor=not_supervisor, note=note)
    note.refresh_from_db()
    assert note.status == "signed" and note.cosigned_by is None
    cosigned = note_cosign(actor=clinic.supervisor, note=note)
    assert cosigned.status == "cosigned" and cosigned.cosigned_as.endswith("LCSW")
    with pytest.raises(InvalidTransition):
        note_cosign(actor=clinic.supervisor, note=cosigned)
    locked = note_lock(actor=clinic.associate, note=cosigned)
    assert locked.status == "locked" and locked.locked_at is not None


def test_a_note_without_supervision_cannot_be_cosigned(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    with pytest.raises(InvalidTransition):
        note_cosign(actor=clinic.world.director, note=note)


def test_a_draft_cannot_be_locked_or_amended(clinic):
    note = written_group_note(clinic.supervisor, clinic.group)
    with pytest.raises(InvalidTransition):
        note_lock(actor=clinic.supervisor, note=note)
    with pytest.raises(InvalidTransition):
        addendum_add(actor=clinic.supervisor, note=note, text="x", reason="late entry")
    assert not Addendum.objects.exists()


def test_a_locked_note_is_amended_with_a_dated_signed_addendum(clinic):
    note = note_lock(actor=clinic.supervisor,
                     note=signed_group_note(clinic.supervisor, clinic.group))
    addendum = addendum_add(actor=clinic.supervisor, note=note,
                            text="Jamie called after group to add context.", reason="late entry",
                            scope="whole", confirm_whole=True)
    assert addendum.signed_as.endswith("LCSW") and addendum.created_at is not None
    with pytest.raises(ValidationError) as exc:
        addendum_add(actor=clinic.supervisor, note=note, text="", reason="x")
    assert "text" in exc.value.message_dict
    with pytest.raises(NotPermitted):
        addendum_add(actor=f.staff(clinic.world.org), note=note, text="x", reason="y")
    assert note.addenda.count() == 1


def test_a_group_entry_for_someone_who_did_not_attend_is_refused(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.group)
    with pytest.raises(ValidationError) as exc:
        group_entry_add(actor=clinic.supervisor, note=note, participant=clinic.absent)
    assert "did not attend" in exc.value.message_dict["participant"][0]
    with pytest.raises(ValidationError):
        note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED, version=1,
                        entries={str(clinic.absent.code): {"participation": "x"}})
    assert not GroupNoteEntry.objects.filter(participant=clinic.absent).exists()


def test_an_attendee_recorded_late_can_be_added(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.group)
    attendance = clinic.absent.bookings.get(session=clinic.group).attendance
    attendance.status = "present"
    attendance.save()
    entry = group_entry_add(actor=clinic.supervisor, note=note, participant=clinic.absent)
    assert entry.attendance == attendance


def test_signing_rechecks_attendance(clinic):
    note = written_group_note(clinic.supervisor, clinic.group)
    attendance = clinic.attendees[1].bookings.get(session=clinic.group).attendance
    attendance.status = "absent"
    attendance.save()
    with pytest.raises(ValidationError) as exc:
        note_sign(actor=clinic.supervisor, note=note)
    assert f"entries.{clinic.attendees[1].code}" in exc.value.message_dict


def test_shared_text_naming_an_attendee_warns_until_overridden(clinic):
    note = written_group_note(clinic.supervisor, clinic.group,
                              group_summary="Mo shared a story about work.")
    with pytest.raises(ValidationError) as exc:
        note_sign(actor=clinic.supervisor, note=note)
    message = exc.value.message_dict["override_reason"][0]
    assert "Mo Ellis" in message
    note.refresh_from_db()
    assert note.status == "draft"
    signed = note_sign(actor=clinic.supervisor, note=note,
                       override_reason="'Mo' is the name of a song here, not a person.")
    assert signed.status == "signed" and "song" in signed.warning_override


def test_identical_entries_warn_as_cloned(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.group)
    same = {"participation": "Active.", "response": "Good.", "progress": "Some.",
            "plan": "Continue."}
    note = note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED, version=1,
                           entries={str(p.code): same for p in clinic.attendees})
    with pytest.raises(ValidationError) as exc:
        note_sign(actor=clinic.supervisor, note=note)
    assert "identical" in exc.value.message_dict["override_reason"][0]
    note = note_save_draft(actor=clinic.supervisor, note=note, sections=SHARED,
                           version=note.version, entries=distinct_entries(note))
    assert note_sign(actor=clinic.supervisor, note=note).status == "signed"


def test_a_family_member_without_consent_is_refused(clinic):
    session = f.session(clinic.world.program, kind="family", title="Family session",
                        facilitator=clinic.supervisor, minutes=50)
    f.attendance(f.booking(session, clinic.world.participant), "present")
    parent = RelatedPerson.objects.create(participant=clinic.world.participant,
                                          name="Pat Rivera", relationship="parent")
    note = note_start(actor=clinic.supervisor, session=session)
    with pytest.raises(ValidationError) as exc:
        note_save_draft(actor=clinic.supervisor, note=note, sections=DAP, version=1,
                        family_member_ids=[parent.pk])
    assert "consent" in exc.value.message_dict["family_members"][0]
    Consent.objects.create(participant=clinic.world.participant, related_person=parent,
                           kind=Consent.Kind.FAMILY_INVOLVEMENT)
    note = note_save_draft(actor=clinic.supervisor, note=note, sections=DAP, version=1,
                           family_member_ids=[parent.pk])
    assert list(note.family_members.all()) == [parent]


def test_pasted_html_and_long_text_are_stored_as_text(clinic):
    note = note_start(actor=clinic.supervisor, session=clinic.individual)
    html = "<script>alert(1)</script><b>bold</b>"
    note = note_save_draft(actor=clinic.supervisor, note=note,
                           sections=DAP | {"data": html + "x" * 15_000}, version=1)
    assert note.sections["data"].startswith(html)
    with pytest.raises(ValidationError) as exc:
        note_save_draft(actor=clinic.supervisor, note=note, sections={"data": "y" * 20_001},
                        version=note.version)
    assert "sections.data" in exc.value.message_dict
