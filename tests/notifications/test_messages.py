"""Notifications: in the app, by e-mail (a real local SMTP server) and SMS, never with
clinical content."""

from __future__ import annotations

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from openiop.accounts.models import User
from openiop.intake.measures import measure_record
from openiop.intake.models import SafetyTask
from openiop.notifications import sms
from openiop.notifications.models import ContactPreference, Notification
from openiop.notifications.services import deliver, notify, task_message

NEUTRAL = "A task for a participant of Adult IOP needs you — open OpenIOP"


@pytest.fixture
def reachable(world, settings):
    settings.OPENIOP_SMS_BACKEND = "openiop.notifications.sms.LocmemSMSBackend"
    settings.OPENIOP_SITE_URL = "https://openiop.example.org"
    sms.outbox.clear()
    User.objects.filter(pk=world.clinician.pk).update(email="clin@example.org")
    ContactPreference.objects.create(user=world.clinician, sms_number="+16145550123")
    world.clinician.refresh_from_db()
    yield world
    sms.outbox.clear()


def _forbidden(world) -> list[str]:
    p = world.participant
    return [p.legal_first_name, p.legal_last_name, p.mrn, "PHQ", "item 9", "suicid", "score",
            "self-harm"]


def test_a_risk_answer_notifies_in_app_by_email_and_sms_without_clinical_content(
        reachable, django_capture_on_commit_callbacks):
    world = reachable
    with django_capture_on_commit_callbacks(execute=True):
        measure_record(actor=world.clinician, participant=world.participant, instrument="phq9",
                       answers=[2] * 8 + [3])
    task = SafetyTask.objects.get()
    link = f"https://openiop.example.org/dashboard/safety-tasks/{task.code}/"
    note = Notification.objects.get(user=world.clinician)
    assert note.text == NEUTRAL
    (email,) = mail.outbox
    assert email.to == ["clin@example.org"] and email.body == f"{NEUTRAL}: {link}"
    assert sms.outbox == [sms.SMSMessage("+16145550123", f"{NEUTRAL}: {link}")]
    for text in (note.text, email.subject, email.body, sms.outbox[0].body):
        for word in _forbidden(world):
            assert word.lower() not in text.lower()
        assert "3" not in text.replace(str(task.code), "")  # no score or answer value


def test_nothing_is_sent_when_the_write_is_rolled_back(reachable,
                                                       django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify(users=[reachable.clinician], text=NEUTRAL, url="/dashboard/")
                raise RuntimeError("the caller's write failed")
        except RuntimeError:
            pass
    assert not mail.outbox and not sms.outbox and not Notification.objects.exists()


def test_e_mail_can_be_switched_off_and_a_bad_sms_number_is_refused(reachable):
    ContactPreference.objects.filter(user=reachable.clinician).update(email_enabled=False)
    deliver(user_ids=[reachable.clinician.pk], text=NEUTRAL, url="")
    assert not mail.outbox and len(sms.outbox) == 1
    with pytest.raises(ValueError, match=r"E\.164"):
        sms.send_sms("614-555-0123", NEUTRAL)


def test_the_message_names_only_the_program(world):
    assert task_message(world.program) == NEUTRAL
    assert task_message(None) == "A task for a participant needs you — open OpenIOP"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_e_mail_reaches_a_real_smtp_server(reachable, settings):
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER = False, ""
        settings.DEFAULT_FROM_EMAIL = "OpenIOP <no-reply@openiop.example.org>"
        deliver(user_ids=[reachable.clinician.pk], text=NEUTRAL, url="/dashboard/")
        deadline = time.monotonic() + 5
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    ((sender, recipients, raw),) = inbox.messages
    assert sender == "no-reply@openiop.example.org" and recipients == ["clin@example.org"]
    assert "Subject: OpenIOP: something needs you" in raw
    assert "https://openiop.example.org/dashboard/" in raw
    assert reachable.participant.legal_last_name not in raw
