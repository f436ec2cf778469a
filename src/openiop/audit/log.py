"""The organization's audit log as staff read it: filters (staff member, participant name
or MRN, action, dates, channel), staff names, and a formula-safe CSV export.

The channel an event came through is not stored; it is derived from what is: an export or
print is an export whatever the path; otherwise the request path says API (/api/), FHIR
(/fhir/) or a page; an event recorded without a request (a background task, a management
command, the demo) has no path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from defusedcsv import csv
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from openiop.accounts.models import User

from .models import AccessEvent, Action

EXPORT_ACTIONS = (Action.EXPORT, Action.PRINT)
CHANNELS = [
    ("page", "Web pages"),
    ("api", "API"),
    ("fhir", "FHIR"),
    ("export", "Exports and prints"),
    ("system", "No request (tasks, commands)"),
]
CHANNEL_LABELS = dict(CHANNELS)
API_PREFIX, FHIR_PREFIX = "/api/", "/fhir/"


def channel_of(event: AccessEvent) -> str:
    if event.action in EXPORT_ACTIONS:
        return "export"
    if event.path.startswith(API_PREFIX):
        return "api"
    if event.path.startswith(FHIR_PREFIX):
        return "fhir"
    return "page" if event.path else "system"


def _channel_q(channel: str) -> Q:
    not_export = ~Q(action__in=EXPORT_ACTIONS)
    return {
        "export": Q(action__in=EXPORT_ACTIONS),
        "api": not_export & Q(path__startswith=API_PREFIX),
        "fhir": not_export & Q(path__startswith=FHIR_PREFIX),
        "system": not_export & Q(path=""),
        "page": not_export & ~Q(path="") & ~Q(path__startswith=API_PREFIX)
        & ~Q(path__startswith=FHIR_PREFIX),
    }[channel]


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return staff_name(obj)


def staff_name(user: User | None, fallback: str = "") -> str:
    if user is None:
        return fallback or "—"
    return user.get_full_name() or user.username


class EventFilterForm(forms.Form):
    staff = StaffChoiceField(label="Staff member", required=False, queryset=User.objects.none(),
                             empty_label="Anyone")
    participant = forms.CharField(label="Participant name or MRN", required=False,
                                  max_length=100)
    action = forms.ChoiceField(label="Action", required=False,
                               choices=[("", "Any action"), *Action.choices])
    channel = forms.ChoiceField(label="Channel", required=False,
                                choices=[("", "Any channel"), *CHANNELS])
    since = forms.DateField(label="From", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = User.objects.filter(
            staff_profile__organization_id=organization_id).order_by("last_name", "first_name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date must be on or after the start date.")
        return data

    def describe(self) -> str:
        """The filters in words, for the export's audit entry."""
        if not self.is_bound or not self.is_valid():
            return "no filters"
        parts = []
        for name, value in self.cleaned_data.items():
            if value not in (None, ""):
                shown = value.isoformat() if isinstance(value, date) else (
                    f"user {value.pk}" if isinstance(value, User) else str(value))
                parts.append(f"{name}={shown}")
        return ", ".join(parts) or "no filters"


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered_events(organization_id: int, form: EventFilterForm) -> QuerySet[AccessEvent]:
    qs = AccessEvent.objects.filter(organization_id=organization_id).select_related(
        "participant", "actor")
    if not form.is_bound or not form.is_valid():
        return qs.order_by("-seq")
    data = form.cleaned_data
    if data["staff"]:
        qs = qs.filter(actor=data["staff"])
    if data["participant"]:
        words = data["participant"].split()
        for word in words:
            qs = qs.filter(Q(participant__legal_first_name__icontains=word)
                           | Q(participant__legal_last_name__icontains=word)
                           | Q(participant__preferred_name__icontains=word)
                           | Q(participant__mrn__iexact=word))
    if data["action"]:
        qs = qs.filter(action=data["action"])
    if data["channel"]:
        qs = qs.filter(_channel_q(data["channel"]))
    # Whole days in the clinic's time zone.
    if data["since"]:
        qs = qs.filter(occurred_at__gte=_midnight(data["since"]))
    if data["until"]:
        qs = qs.filter(occurred_at__lt=_midnight(data["until"] + timedelta(days=1)))
    return qs.order_by("-seq")


PAGE_SIZE = 50


@dataclass
class KeysetPage:
    """One page of the log by sequence number, newest first: `older` and `newer` are the
    `before=` and `after=` values of the links to the neighbouring pages (None: no page)."""

    object_list: list[AccessEvent]
    older: int | None
    newer: int | None
    count: int | None = None  # only when the reader asked for it


def parse_cursor(raw: str | None, name: str) -> int | None:
    """A page link's sequence number; ValueError with a message naming the field."""
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(f"{name}: a page link carries a whole number of at most 18 digits.")
    return int(raw)


def keyset_page(events: QuerySet[AccessEvent], *, before: int | None = None,
                after: int | None = None, size: int = PAGE_SIZE) -> KeysetPage:
    """`size` events with seq below `before` (or, going back, above `after`), newest first.

    Keyset paging on the unique `seq`: each page is an index range read, as fast on the
    last page as on the first, and nothing is counted (OFFSET paging reads and skips every
    row before the page, and a page count needs every matching row)."""
    if after is not None:
        rows = list(events.filter(seq__gt=after).order_by("seq")[:size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(rows, rows[-1].seq if rows else None,
                          rows[0].seq if rows and more_newer else None)
    if before is not None:
        events = events.filter(seq__lt=before)
    rows = list(events.order_by("-seq")[:size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, rows[-1].seq if rows and more_older else None,
                      rows[0].seq if rows and before is not None else None)


CSV_HEADER = ["seq", "occurred_at", "staff_member", "username", "action", "channel",
              "record_type", "record_id", "participant", "mrn", "path", "client_ip", "reason"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(events: QuerySet[AccessEvent]) -> Iterator[str]:
    """The events as CSV lines. defusedcsv escapes cells starting with = + - @ (and tab or
    carriage return), so a value typed into a reason cannot run as a spreadsheet formula
    (OWASP, CSV Injection: https://owasp.org/www-community/attacks/CSV_Injection)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for e in events.iterator(chunk_size=2000):
        yield writer.writerow([
            e.seq, timezone.localtime(e.occurred_at).isoformat(timespec="seconds"),
            staff_name(e.actor, e.actor_label), e.actor_label, e.get_action_display(),
            CHANNEL_LABELS[channel_of(e)], e.object_type, e.object_id,
            e.participant.display_name if e.participant else "",
            e.participant.mrn if e.participant else "", e.path, e.client_ip or "", e.reason,
        ])
