"""Who may freeze attendance: a small hook registry.

Attendance can be corrected (with an audit trail) until something locks the session;
the clinical notes app locks it once the session's note is signed. It registers, in its
AppConfig.ready():

    from openiop.scheduling.locks import register_attendance_lock

    def signed_note_lock(session) -> str | None:
        # Return a reason (shown to the user) when attendance is locked, else None.
        ...

    register_attendance_lock(signed_note_lock)

`attendance_lock_reason(session)` asks every registered hook; the attendance services
refuse changes with that reason (InvalidTransition) and the roster shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AttendanceLock = Callable[[Any], "str | None"]
_LOCKS: list[AttendanceLock] = []


def register_attendance_lock(fn: AttendanceLock) -> None:
    """Add a hook fn(session) -> reason | None. Registering twice has no effect."""
    if fn not in _LOCKS:
        _LOCKS.append(fn)


def unregister_attendance_lock(fn: AttendanceLock) -> None:
    if fn in _LOCKS:
        _LOCKS.remove(fn)


def attendance_lock_reason(session: Any) -> str | None:
    """The first reason a registered hook gives for locking this session's attendance."""
    for fn in _LOCKS:
        reason = fn(session)
        if reason:
            return reason
    return None
