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

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from openiop.care.models import Program
from openiop.scheduling.models import GROUP_KINDS, Attendance, Booking, Session, SessionKind

from .models import NoteStatus


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


# The longest list of one clinician's overdue (or pending) sessions a page reads; the
# counts above it are exact whatever the size.
LIST_LIMIT = 100


def _deadline(programs: dict[int, Program]) -> ExpressionWrapper:
    """A session's note deadline in SQL: its end plus its program's limit for the note kind
    (one branch per program and session kind; programs and kinds are few)."""
    whens = [When(program_id=pk, kind=kind,
                  then=Value(timedelta(hours=limit_hours(program, note_kind(kind)))))
             for pk, program in programs.items() for kind in SessionKind.values]
    limit = Case(*whens, default=Value(timedelta(hours=72)), output_field=DurationField())
    return ExpressionWrapper(F("ends_at") + limit, output_field=DateTimeField())


def note_timeliness(*, organization_id: int, now: datetime, window_days: int = 30,
                    clinician_id: int | None = None,
                    sessions_for: int | None = None) -> list[ClinicianTimeliness]:
    """Per clinician (the note's author, else the session's facilitator), sessions of the
    last `window_days` that ended before `now`: overdue, pending, signed on time, late.

    Counted in the database (grouped by clinician), so a page reads a handful of rows
    whatever the size of the clinic; `clinician_id` keeps one clinician. The overdue and
    pending sessions themselves are listed only for `sessions_for` (default: clinician_id),
    oldest first, at most LIST_LIMIT each. Five queries at most: programs, counts, names,
    and the two lists.
    """
    programs = {p.pk: p for p in Program.objects.filter(organization_id=organization_id)}
    if not programs:
        return []
    attended = Attendance.objects.filter(booking__session=OuterRef("pk"),
                                         booking__status=Booking.Status.BOOKED,
                                         status__in=Attendance.ATTENDED)
    base = (
        Session.objects.filter(program_id__in=list(programs), ends_at__lte=now,
                               ends_at__gte=now - timedelta(days=window_days),
                               facilitator__isnull=False)
        .exclude(status=Session.Status.CANCELLED)
        .filter(Exists(attended))
        .annotate(who=Coalesce("notes__author_id", "facilitator_id"),
                  note_status=F("notes__status"), note_signed_at=F("notes__signed_at"),
                  deadline=_deadline(programs))
    )
    if clinician_id is not None:
        base = base.filter(who=clinician_id)
    signed = Q(note_status__isnull=False) & ~Q(note_status=NoteStatus.DRAFT)
    unsigned = Q(note_status__isnull=True) | Q(note_status=NoteStatus.DRAFT)
    counts = (base.order_by().values("who").annotate(
        overdue=Count("pk", filter=unsigned & Q(deadline__lt=now)),
        pending=Count("pk", filter=unsigned & Q(deadline__gte=now)),
        on_time=Count("pk", filter=signed & Q(note_signed_at__lte=F("deadline"))),
        late=Count("pk", filter=signed & Q(note_signed_at__gt=F("deadline")))))
    by_user = {row["who"]: ClinicianTimeliness(
        user_id=row["who"], overdue=row["overdue"], pending=row["pending"],
        signed_on_time=row["on_time"], signed_late=row["late"]) for row in counts}
    if not by_user:
        return []
    listed = sessions_for if sessions_for is not None else clinician_id
    if listed in by_user:
        stats = by_user[listed]
        mine = base.filter(unsigned, who=listed).values(
            "code", "title", "kind", "ends_at", "deadline", "notes__code").order_by("ends_at", "pk")
        for row in mine.filter(deadline__lt=now)[:LIST_LIMIT]:
            stats.overdue_sessions.append(_item(row, now))
        for row in mine.filter(deadline__gte=now)[:LIST_LIMIT]:
            stats.pending_sessions.append(_item(row, now))
    from openiop.accounts.models import User

    names = {u.pk: str(u) for u in User.objects.filter(pk__in=list(by_user))}
    for uid, stats in by_user.items():
        stats.name = names.get(uid, "?")
    return sorted(by_user.values(), key=lambda s: (-s.overdue, s.name))


def _item(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    deadline = row["deadline"]
    return {
        "session_code": row["code"], "title": row["title"], "kind": note_kind(row["kind"]),
        "ended": row["ends_at"], "deadline": deadline, "note_code": row["notes__code"],
        "hours_late": int((now - deadline).total_seconds() // 3600),
        "hours_left": int((deadline - now).total_seconds() // 3600),
        "late_by": late_by(now - deadline),
    }


def totals(rows: list[ClinicianTimeliness]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out["overdue"] += r.overdue
        out["pending"] += r.pending
        out["signed_on_time"] += r.signed_on_time
        out["signed_late"] += r.signed_late
    return dict(out)
