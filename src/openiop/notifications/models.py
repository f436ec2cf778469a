"""Who to reach and how: in-app notifications, staff contact preferences, on-call rota.

Messages never carry clinical content (no name, score, drug or diagnosis): they say that
something in OpenIOP needs the person and link to it; the page behind the link checks
access as usual.
"""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models


class Notification(models.Model):
    """One in-app message to one staff member (the bell in the navigation)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE,
                             related_name="notifications")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The unread count in the navigation and the newest-first list.
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return self.text


class ContactPreference(models.Model):
    """How a staff member wants to be reached outside the app (e-mail uses User.email)."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE,
                                related_name="contact_preference")
    email_enabled = models.BooleanField(default=True)
    sms_number = models.CharField(
        "Mobile number for text messages", max_length=20, blank=True,
        help_text="E.164 format, e.g. +16145550123. Leave empty for no text messages.",
    )

    def __str__(self) -> str:
        return f"Contact preference of {self.user_id}"


class OnCallShift(models.Model):
    """One weekly on-call block of a program: weekday, start, end, the clinician on call.

    `end_time` 00:00 means midnight at the end of the day. A block covers [start, end).
    """

    program = models.ForeignKey("care.Program", on_delete=models.CASCADE,
                                related_name="on_call_shifts")
    weekday = models.PositiveSmallIntegerField(help_text="Monday = 0 ... Sunday = 6.")
    start_time = models.TimeField()
    end_time = models.TimeField()
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["program", "weekday", "start_time"]
        indexes = [models.Index(fields=["program", "weekday"], name="oncall_program_day")]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__gte=0, weekday__lte=6),
                                   name="oncall_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"On call {self.weekday} {self.start_time}-{self.end_time}"

    @property
    def ends_at_midnight(self) -> bool:
        return self.end_time == time(0)

    def covers(self, moment: time) -> bool:
        return self.start_time <= moment and (self.ends_at_midnight or moment < self.end_time)

    def clean(self) -> None:
        if not self.ends_at_midnight and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The shift must end after it starts (00:00 means "
                                   "midnight; split a shift that crosses midnight in two)."})
