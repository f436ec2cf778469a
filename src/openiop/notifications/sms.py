"""Text messages through a provider interface; the backend is a setting.

`OPENIOP_SMS_BACKEND` names a class with `send(to: str, body: str) -> None`:
- `openiop.notifications.sms.ConsoleSMSBackend` (default): prints the message, for
  `make run` and development;
- `openiop.notifications.sms.LocmemSMSBackend`: keeps messages in `sms.outbox` (tests).
A provider (Twilio, Amazon SNS...) is one more class with the same method. Bodies never
carry clinical content: callers pass the same neutral text as the in-app notification.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class SMSBackend(Protocol):
    def send(self, to: str, body: str) -> None: ...


@dataclass(frozen=True)
class SMSMessage:
    to: str
    body: str


outbox: list[SMSMessage] = []


class ConsoleSMSBackend:
    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"[sms to {to}] {body}\n")
        sys.stdout.flush()


class LocmemSMSBackend:
    def send(self, to: str, body: str) -> None:
        outbox.append(SMSMessage(to, body))


def get_backend() -> SMSBackend:
    path = getattr(settings, "OPENIOP_SMS_BACKEND", "openiop.notifications.sms.ConsoleSMSBackend")
    return import_string(path)()


def send_sms(to: str, body: str) -> None:
    if not E164.match(to):
        raise ValueError("SMS numbers are E.164, e.g. +16145550123.")
    get_backend().send(to, body)
