"""Named domain errors raised by services before anything is written ("check, then do")."""

from __future__ import annotations


class DomainError(Exception):
    """A refused action. `field` names the input at fault when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotPermitted(DomainError):
    """The acting user may not do this."""


class InvalidTransition(DomainError):
    """The record is not in a state that allows this change."""


class Conflict(DomainError):
    """The record changed since the user loaded it (optimistic locking)."""
