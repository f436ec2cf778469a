"""Search parameter parsing shared by the FHIR views (no database access).

Date parameters follow FHIR R4 search rules for a `date` parameter
(https://hl7.org/fhir/R4/search.html#date): a value is a range at its precision
(YYYY, YYYY-MM, YYYY-MM-DD, or a dateTime with a time zone), and the prefix compares the
resource's value against that range. Supported prefixes: eq (the default), ge, gt, le,
lt. Others (ne, sa, eb, ap) are refused with a 400 rather than silently ignored.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.db.models import Q
from django.utils.dateparse import parse_datetime

PREFIXES = ("eq", "ge", "gt", "le", "lt")

_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


class SearchError(ValueError):
    """A search parameter value the server cannot use (becomes a 400 OperationOutcome)."""


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def date_range(value: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a FHIR date value; dates without a time are days in `tz`."""
    try:
        bounds = _bounds(value, tz)
        if bounds is not None:
            for moment in bounds:  # the database stores UTC: years 1-9999 only
                moment.astimezone(UTC)
            return bounds
    except (ValueError, OverflowError) as exc:
        raise SearchError(f"{value!r} is not a valid date in the supported range.") from exc
    raise SearchError(f"{value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime "
                      "with a time zone).")


def _bounds(value: str, tz: tzinfo) -> tuple[datetime, datetime] | None:
    if _YEAR.match(value):
        year = int(value)
        return _midnight(date(year, 1, 1), tz), _midnight(date(year + 1, 1, 1), tz)
    if m := _MONTH.match(value):
        year, month = int(m[1]), int(m[2])
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return _midnight(first, tz), _midnight(following, tz)
    if m := _DAY.match(value):
        day = date(int(m[1]), int(m[2]), int(m[3]))
        return _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    if m := _DATETIME.match(value):
        moment = parse_datetime(value)
        if moment is not None:
            return moment, moment + (timedelta(seconds=1) if m[1] else timedelta(minutes=1))
    return None


def date_filter(values: list[str], field: str, tz: tzinfo) -> Q:
    """AND of every `date=` value, compared with the model field `field`."""
    query = Q()
    for raw in values:
        raw = raw.strip()
        prefix = "eq"
        if raw[:2].isalpha():
            prefix, raw = raw[:2], raw[2:]
            if prefix not in PREFIXES:
                raise SearchError(f"Unsupported date prefix {prefix!r}; use one of "
                                  f"{', '.join(PREFIXES)} or none.")
        start, end = date_range(raw, tz)
        query &= {
            "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
            "ge": Q(**{f"{field}__gte": start}),
            "gt": Q(**{f"{field}__gte": end}),
            "le": Q(**{f"{field}__lt": end}),
            "lt": Q(**{f"{field}__lt": start}),
        }[prefix]
    return query


# --- Tokens, references and strings (https://hl7.org/fhir/R4/search.html) ---------------

def split_or(value: str) -> list[str]:
    """A parameter's comma-separated values (OR); `\\,` is a literal comma."""
    parts = [p.replace("\\,", ",").strip() for p in re.split(r"(?<!\\),", value)]
    if not all(parts):
        raise SearchError(f"{value!r} has an empty value between commas.")
    return parts


def token(value: str) -> tuple[str | None, str]:
    """(system, code) of a token: `code` -> (None, code) any system; `system|code`;
    `|code` -> ("", code), a code without a system. `system|` (any code) is refused."""
    if "|" not in value:
        return None, value
    system, code = value.split("|", 1)
    if not code:
        raise SearchError(f"{value!r}: a token needs a code after '|'.")
    return system, code


def reference_id(value: str, resource_type: str) -> str:
    """The id in `Type/id`, `id` or `<base>/Type/id` (of `resource_type` only)."""
    tail = value.rstrip("/").rsplit("/", 2)
    if len(tail) >= 2 and tail[-2] != resource_type:
        raise SearchError(f"{value!r} is not a reference to a {resource_type}.")
    return tail[-1]


def int_value(raw: str, name: str, low: int, high: int) -> int:
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SearchError(f"{name} must be a whole number from {low} to {high}.")
    return int(raw)
