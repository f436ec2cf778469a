"""Secure in-app messages between a participant and the care team; notes shared with family.

Message bodies never leave the application by email or SMS (a notification, if any,
says only that a message is waiting).
"""

from __future__ import annotations

import uuid

from django.db import models


class Message(models.Model):
    """One message in a participant's conversation with their care team."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="portal_messages"
    )
    sender = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    from_participant = models.BooleanField(
        help_text="True when the participant wrote it; False when the care team did."
    )
    body = models.TextField(max_length=4000)
    sent_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the other side opened it.")

    class Meta:
        ordering = ["sent_at"]
        indexes = [
            # The conversation, oldest first, and unread counts per side.
            models.Index(fields=["participant", "sent_at"], name="message_pt_sent"),
            models.Index(fields=["participant", "from_participant", "read_at"], name="message_pt_unread"),
        ]

    def __str__(self) -> str:
        return f"Message {self.sent_at:%Y-%m-%d %H:%M}"


class SharedNote(models.Model):
    """A note the team writes for the family (shown under the shared_notes consent scope)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="shared_notes"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=4000)
    shared_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    shared_at = models.DateTimeField()

    class Meta:
        ordering = ["-shared_at"]
        indexes = [models.Index(fields=["participant", "-shared_at"], name="sharednote_pt_when")]

    def __str__(self) -> str:
        return self.title
