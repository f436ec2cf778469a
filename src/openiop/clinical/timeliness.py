"""Note timeliness: which sessions' notes were not signed within the program's limit.

Limits come from Program.settings["note_timeliness_hours"] per note kind (e.g. 24 h for
groups, 72 h for individual sessions); they are configurable program policies, not
clinical facts or regulations. A session needs a note when at
least one booked participant attended it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q

from openiop.care.models import Program
from openiop.scheduling.models import GROUP_KINDS, Attendance, Session

ATTENDED = ("present", "late", "left_early")


def note_kind(session_kind: str) -> str:
    return "group" if session_kind in GROUP_KINDS else session_kind


def limit_hours(program: Program, kind: str) -> int:
    limits = program.typed_settings.note_timeliness_hours
    return int(getattr(limits, kind, limits.individual))


def late_by(delay: timedelta) -> str:
    """How late a note is, in words a person reads at a glance: hours within the first
    day, then whole days ("27 days", never "648 h")."""
    hours = int(delay.total_seconds() // 3600)
    if hours < 24:
        return f"{max(hours, 0)} h"
    days = hours // 24
    return f"{days} day{'s' if days != 1 else ''}"


@dataclass
class ClinicianTimeliness:
    user_id: int
    name: str = ""
    overdue: int = 0  # past the limit and not signed (no note, or a draft)
    pending: int = 0  # within the limit, not signed yet
    signed_on_time: int = 0
    signed_late: int = 0
    overdue_sessions: list[dict[str, Any]] = field(default_factory=list)
    pending_sessions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def signed(self) -> int:
        return self.signed_on_time + self.signed_late

    @property
    def on_time_percent(self) -> int | None:
        due = self.signed + self.overdue
        return round(100 * self.signed_on_time / due) if due else None


def note_timeliness(*, organization_id: int, now: datetime, window_days: int = 30,
                    clinician_id: int | None = None) -> list[ClinicianTimeliness]:
    """Per clinician (the note's author, else the session's facilitator), sessions of the
    last `window_days` that ended before `now`: overdue, pending, signed on time, late.

    Three queries whatever the size: programs, sessions with their note, staff names.
    """
    programs = {p.pk: p for p in Program.objects.filter(organization_id=organization_id)}
    attended = Attendance.objects.filter(booking__session=OuterRef("pk"),
                                         booking__status="booked", status__in=ATTENDED)
    rows = (
        Session.objects.filter(program_id__in=programs, ends_at__lte=now,
                               ends_at__gte=now - timedelta(days=window_days),
                               facilitator__isnull=False)
        .exclude(status="cancelled")
        .filter(Exists(attended))
        .filter(Q(facilitator_id=clinician_id) | Q(notes__author_id=clinician_id)
                if clinician_id is not None else Q())
        .values("pk", "code", "title", "kind", "program_id", "ends_at", "facilitator_id",
                "notes__code", "notes__status", "notes__signed_at", "notes__author_id")
        .order_by("ends_at")
    )
    by_user: dict[int, ClinicianTimeliness] = {}
    for row in rows:
        who = row["notes__author_id"] or row["facilitator_id"]
        if clinician_id is not None and who != clinician_id:
            continue
        kind = note_kind(row["kind"])
        deadline = row["ends_at"] + timedelta(hours=limit_hours(programs[row["program_id"]],
                                                                kind))
        stats = by_user.setdefault(who, ClinicianTimeliness(user_id=who))
        status = row["notes__status"]
        if status and status != "draft":
            if row["notes__signed_at"] <= deadline:
                stats.signed_on_time += 1
            else:
                stats.signed_late += 1
        else:
            item = {
                "session_code": row["code"], "title": row["title"], "kind": kind,
                "ended": row["ends_at"], "deadline": deadline, "note_code": row["notes__code"],
                "hours_late": int((now - deadline).total_seconds() // 3600),
                "hours_left": int((deadline - now).total_seconds() // 3600),
                "late_by": late_by(now - deadline),
            }
            if now > deadline:
                stats.overdue += 1
                stats.overdue_sessions.append(item)
            else:
                stats.pending += 1
                stats.pending_sessions.append(item)
    if by_user:
        from openiop.accounts.models import User

        names = {u.pk: str(u) for u in User.objects.filter(pk__in=by_user)}
        for uid, stats in by_user.items():
            stats.name = names.get(uid, "?")
    return sorted(by_user.values(), key=lambda s: (-s.overdue, s.name))


def totals(rows: list[ClinicianTimeliness]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out["overdue"] += r.overdue
        out["pending"] += r.pending
        out["signed_on_time"] += r.signed_on_time
        out["signed_late"] += r.signed_late
    return dict(out)
