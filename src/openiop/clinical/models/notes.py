"""Session notes: individual, family, group (with one entry per attendee) and medication.

Workflow: draft -> signed -> (co-signed when the author needs supervision) -> locked.
A note that left `draft` is never changed again; corrections are dated, signed addenda.
The service layer enforces this and, on PostgreSQL, a trigger does too
(migration 0002_signed_note_immutable).
"""

from __future__ import annotations

import hashlib
import json
import uuid

from django.db import models
from django.db.models import Q


class NoteKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual session"
    FAMILY = "family", "Family session"
    GROUP = "group", "Group session"
    MEDICATION = "medication", "Medication management"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    COSIGNED = "cosigned", "Co-signed"
    LOCKED = "locked", "Locked"


class Note(models.Model):
    """One clinical note about a session (group notes hold a GroupNoteEntry per attendee)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey("care.Program", on_delete=models.PROTECT, related_name="notes")
    session = models.ForeignKey(
        "scheduling.Session", null=True, blank=True, on_delete=models.PROTECT,
        related_name="notes",
    )
    kind = models.CharField(max_length=20, choices=NoteKind.choices)
    note_format = models.CharField(
        max_length=10, help_text="Copied from the program when the note is started."
    )
    # Individual, family and medication notes are about one participant; group notes have
    # their attendees in GroupNoteEntry.
    participant = models.ForeignKey(
        "participants.Participant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="clinical_notes",
    )
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    sections = models.JSONField(default=dict, blank=True)
    family_members = models.ManyToManyField(
        "participants.RelatedPerson", blank=True, related_name="family_notes",
        help_text="Family members who attended (each with consent on file).",
    )
    objectives = models.ManyToManyField(
        "clinical.TreatmentObjective", blank=True, related_name="notes"
    )
    status = models.CharField(max_length=20, choices=NoteStatus.choices,
                              default=NoteStatus.DRAFT)
    # Optimistic locking for the draft (autosave): each save carries the version it saw.
    version = models.PositiveIntegerField(default=1)
    needs_cosignature = models.BooleanField(default=False)
    signed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_as = models.CharField(
        max_length=200, blank=True, help_text="Name and credentials at the time of signing."
    )
    content_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the content as signed."
    )
    cosigned_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_as = models.CharField(max_length=200, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    warning_override = models.TextField(
        blank=True, help_text="Why the author signed despite privacy or cloning warnings."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(session__isnull=False),
                name="clinical_note_one_per_session",
            ),
            models.CheckConstraint(
                condition=Q(kind="group") | Q(participant__isnull=False),
                name="clinical_note_participant_unless_group",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_at__isnull=False),
                name="clinical_note_signed_has_time",
            ),
        ]
        indexes = [
            # The timeliness dashboard and "my drafts": a program's notes by status.
            models.Index(fields=["program", "status"], name="clinical_note_program_status"),
            models.Index(fields=["author", "status"], name="clinical_note_author_status"),
            # A participant's notes tab.
            models.Index(fields=["participant", "-created_at"], name="clinical_note_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note {self.code}"

    @property
    def is_draft(self) -> bool:
        return self.status == NoteStatus.DRAFT

    @property
    def is_group(self) -> bool:
        return self.kind == NoteKind.GROUP

    @property
    def awaiting_cosignature(self) -> bool:
        return self.status == NoteStatus.SIGNED and self.needs_cosignature

    def compute_hash(self, entries: list[dict[str, object]] | None = None) -> str:
        body = json.dumps(
            {"sections": self.sections, "entries": entries or []},
            sort_keys=True, separators=(",", ":"), default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


class GroupNoteEntry(models.Model):
    """One attendee's individual entry in a group note."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="entries")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="group_note_entries"
    )
    # SET_NULL: attendance may be re-taken while the note is a draft. Once the note is
    # signed, the attendance lock (hooks.signed_note_lock) and, on PostgreSQL, the trigger
    # keep the entry as signed.
    attendance = models.ForeignKey(
        "scheduling.Attendance", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    objective = models.ForeignKey(
        "clinical.TreatmentObjective", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="group_entries",
    )
    participation = models.TextField(blank=True)
    response = models.TextField(blank=True)
    progress = models.TextField(blank=True)
    plan = models.TextField(blank=True)

    class Meta:
        ordering = ["participant__legal_last_name", "participant__legal_first_name"]
        constraints = [
            models.UniqueConstraint(fields=["note", "participant"],
                                    name="clinical_entry_one_per_participant"),
        ]

    def __str__(self) -> str:
        return f"Entry for {self.participant_id} in {self.note_id}"

    def as_dict(self) -> dict[str, str]:
        return {"participation": self.participation, "response": self.response,
                "progress": self.progress, "plan": self.plan}


class Addendum(models.Model):
    """A dated, signed amendment to a signed note. Addenda are never edited.

    On a group note an addendum is for one attendee's entry (`participant`, shown only in
    that attendee's chart) or for the whole note (`participant` empty, shown in every
    attendee's chart, chosen explicitly after a warning naming how many charts).
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    participant = models.ForeignKey(
        "participants.Participant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text="The attendee whose entry this amends (group notes); "
        "empty: the whole note.")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    signed_as = models.CharField(max_length=200)
    reason = models.CharField(max_length=300)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum {self.code} to {self.note_id}"


class NoteConflictCopy(models.Model):
    """The text of a draft save refused because someone saved a newer version first.

    Kept so that nothing typed is lost even if the author closes the comparison page.
    """

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="conflict_copies")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    based_on_version = models.PositiveIntegerField()
    sections = models.JSONField(default=dict)
    entries = models.JSONField(default=dict, help_text="participant code -> entry fields")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Conflict copy of {self.note_id} (v{self.based_on_version})"


class NoteDraftSave(models.Model):
    """Which editor (one open page of the note) produced a draft version, under which save id.

    An autosave whose answer is lost leaves the page at the version it had: its next save
    names a version that is no longer current although only that page wrote since. These
    rows let the server tell that continuation, and a save sent twice, from a change made
    elsewhere (another tab or device), which still conflicts.
    """

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="draft_saves")
    version = models.PositiveIntegerField(help_text="The version this save produced.")
    base_version = models.PositiveIntegerField(help_text="The version the page sent.")
    editor = models.CharField(max_length=64, help_text="Chosen by the page when it is shown.")
    save_id = models.CharField(max_length=64, help_text="Chosen by the page for each save.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(fields=["note", "version"], name="clinical_draftsave_version"),
            models.UniqueConstraint(fields=["note", "save_id"], name="clinical_draftsave_save_id"),
        ]

    def __str__(self) -> str:
        return f"Draft save {self.save_id} of {self.note_id} (v{self.version})"
