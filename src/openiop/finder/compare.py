"""The side-by-side comparison: every field a row, rows that differ marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from openiop.care.levels import PLAIN_LANGUAGE

from . import vocab
from .geo import ZipPoint, haversine_miles
from .models import Listing
from .trust import Stat, program_outcomes

MAX_COMPARE = 3


@dataclass
class Row:
    label: str
    values: list[str]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


def _list(values: list[str], names: dict[str, str] | None = None) -> str:
    if not values:
        return "Not listed"
    return ", ".join(names.get(v, v) for v in values) if names else ", ".join(values)


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def openings_text(openings: int | None, as_of: datetime | None, live: bool) -> str:
    if openings is None:
        return "Not reported"
    when = "live" if live else (
        f"as of {date_format(timezone.localtime(as_of), 'M j, Y')}" if as_of else "date unknown")
    return f"{openings} ({when})"


def compare_rows(listings: list[Listing], openings: dict[int, tuple], *,
                 origin: ZipPoint | None) -> list[Row]:
    rows: list[Row] = []

    def add(label: str, fn: object) -> None:
        rows.append(Row(label, [fn(x) for x in listings]))

    add("Organization", lambda x: x.organization_name or "Not listed")
    add("Address", lambda x: x.address_line)
    if origin is not None:
        def distance(x: Listing) -> str:
            miles = haversine_miles(origin.latitude, origin.longitude, x.latitude, x.longitude)
            return f"{miles:.1f} miles"
        add(f"Distance from {origin.zip_code}", distance)
    add("Phone", lambda x: x.phone or "Not listed")
    add("Website", lambda x: x.website or "Not listed")
    add("Openings", lambda x: openings_text(*openings[x.pk]))
    add("Focus", lambda x: vocab.FOCUS.get(x.focus, x.focus))
    add("Levels of care", lambda x: _list(x.levels_of_care, vocab.LEVELS))
    add("Populations served", lambda x: _list(x.populations, vocab.POPULATIONS))
    add("Therapies", lambda x: _list(x.therapies, vocab.THERAPIES))
    add("Medication management", lambda x: _yes(x.medication_management))
    add("Medications for opioid use disorder", lambda x: _list(x.moud, vocab.MOUD))
    add("Holistic activities", lambda x: _list(x.holistic, vocab.HOLISTIC))
    add("Schedule", lambda x: _list(x.schedule_options, vocab.SCHEDULE))
    add("Hours per week", lambda x: x.hours_label or "Not listed")
    add("Typical length", lambda x: f"{x.typical_length_weeks} weeks"
        if x.typical_length_weeks else "Not listed")
    add("Telehealth", lambda x: _yes(x.telehealth))
    add("Languages", lambda x: _list(x.languages))
    add("Payment accepted", lambda x: _list(x.payment, vocab.PAYMENT))
    add("Insurance companies", lambda x: _list(x.insurers))
    add("Accreditation", lambda x: _list(x.accreditation, vocab.ACCREDITATION))
    outcomes: dict[int, list[Stat]] = {
        x.pk: program_outcomes(x.program) for x in listings if x.program_id
    }
    labels = ["Completed the program", "Met the weekly hours minimum", "Median change in PHQ-9",
              "Median change in GAD-7"]
    for i, label in enumerate(labels):
        def value(x: Listing, i: int = i) -> str:
            if x.pk not in outcomes:
                return "Not published (directory listing)"
            stat = outcomes[x.pk][i]
            return stat.value or stat.note
        add(label, value)
    return rows


def level_explanations(listings: list[Listing]) -> list[tuple[str, str]]:
    seen: list[str] = []
    for x in listings:
        for level in x.levels_of_care:
            if level not in seen:
                seen.append(level)
    order = list(vocab.LEVELS)
    return [(vocab.LEVELS[lv], PLAIN_LANGUAGE[lv]) for lv in sorted(seen, key=order.index)
            if lv in PLAIN_LANGUAGE]
