"""CSV import of external listings: parsing and row-level validation (no database).

The format is documented in docs/finder-import.md. `read_rows` refuses a file as a
whole (not UTF-8, no header, a required column missing, too many rows) before anything
is written; `validate_row` turns one row into the Listing fields or a list of messages
that name the column and the rule. Writing is `services.listing_import`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.dateparse import parse_date, parse_datetime

from . import vocab
from .geo import zip_point

REQUIRED_COLUMNS = ("source_id", "name", "city", "state", "zip")
OPTIONAL_COLUMNS = (
    "organization", "address1", "address2", "latitude", "longitude", "phone", "website",
    "description", "focus", "levels_of_care", "populations", "therapies",
    "medication_management", "moud", "holistic", "schedule", "hours_per_week",
    "program_weeks", "telehealth", "languages", "payment", "insurers", "accreditation",
    "openings", "openings_updated", "services",
)
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# The public locator's own column names (FindTreatment.gov's export rows: name1, name2,
# street1, street2, city, state, zip, phone, website, latitude, longitude, type_facility,
# services), accepted as a second input format and mapped onto ours. Its rows carry no
# stable id, so source_id is derived from name, street, city, state and ZIP.
LOCATOR_COLUMNS = {"name1": "name", "name2": "organization", "street1": "address1",
                   "street2": "address2"}
LOCATOR_REQUIRED = ("name1", "city", "state", "zip")
# type_facility: SA substance use, MH mental health, both (the spellings seen in exports).
FACILITY_TYPES = {"sa": "su", "su": "su", "mh": "mh", "both": "co", "sa/mh": "co",
                  "mh/sa": "co", "sa_mh": "co", "co": "co"}
US_STATES = frozenset(
    ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP"]
)
FOCUS_WORDS = {
    "mh": "mh", "mental health": "mh", "mental-health": "mh",
    "su": "su", "sa": "su", "substance use": "su", "substance abuse": "su",
    "co": "co", "both": "co", "co-occurring": "co", "co occurring": "co",
}
ASAM_LEVELS = {"1": "OP", "2.1": "IOP", "2.5": "PHP", "3.1": "RES", "3.3": "RES",
               "3.5": "RES", "3.7": "RES", "4": "INP"}
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0", ""}
MAX_LIST_ITEMS = 30


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing is written."""


@dataclass
class RowResult:
    line: int
    source_id: str
    data: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_rows(raw: bytes, *, max_rows: int) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """Decode and check the header; yield (line number, row dict)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload it again."
        ) from exc
    if "\x00" in text:
        raise ImportFileError("The file contains binary data; upload a CSV text file.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise ImportFileError("The file is empty: the first line must name the columns.")
    locator = "source_id" not in header and "name1" in header
    if locator:
        missing = [c for c in LOCATOR_REQUIRED if c not in header]
        if missing:
            raise ImportFileError(
                f"This looks like a locator export (name1, street1, ...), but column(s) "
                f"{', '.join(missing)} are missing. See docs/finder-import.md."
            )
        header = [LOCATOR_COLUMNS.get(h, h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header and not (
        locator and c == "source_id")]
    if missing:
        raise ImportFileError(
            f"Required column(s) missing from the header: {', '.join(missing)}. "
            f"See docs/finder-import.md for the format."
        )
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ImportFileError(f"Column(s) named twice in the header: {', '.join(duplicates)}.")
    reader.fieldnames = header
    lines = text.count("\n")
    if lines > max_rows + 1:
        raise ImportFileError(
            f"The file has about {lines - 1:,} rows; the limit is {max_rows:,} per import. "
            f"Split it into smaller files."
        )

    def rows() -> Iterator[tuple[int, dict]]:
        for row in reader:
            if locator:
                row["source_id"] = locator_source_id(row)
            # reader.line_num counts physical lines; the header is line 1.
            yield reader.line_num, row

    return header, rows()


def locator_source_id(row: dict[str, object]) -> str:
    """A stable id for a locator row: the same facility gets the same id on re-import."""
    parts = [" ".join(_clean(row.get(k)).lower().split())
             for k in ("name", "address1", "city", "state")]
    parts.append(_clean(row.get("zip"))[:5])
    return "loc-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # extra cells beyond the header
        return " ".join(str(v) for v in value).strip()
    return str(value).strip()


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.split(";") if p.strip()]


def _choice_list(
    column: str, value: str, vocabulary: dict[str, str], errors: list[str],
    aliases: dict[str, str] | None = None,
) -> list[str]:
    out: list[str] = []
    by_label = {label.lower(): code for code, label in vocabulary.items()}
    for item in _split(value):
        key = item.lower()
        code = (
            key if key in vocabulary else by_label.get(key) or (aliases or {}).get(key)
            or (item.upper() if item.upper() in vocabulary else None)
        )
        if code is None:
            errors.append(
                f"{column}: {item!r} is not one of {', '.join(vocabulary)} (separate values "
                f"with ';')."
            )
        elif code not in out:
            out.append(code)
    return out


def _bool(column: str, value: str, errors: list[str]) -> bool:
    key = value.lower()
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    errors.append(f"{column}: write yes or no, not {value!r}.")
    return False


def _int(column: str, value: str, lo: int, hi: int, errors: list[str]) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        errors.append(f"{column}: {value!r} is not a whole number.")
        return None
    if not lo <= number <= hi:
        errors.append(f"{column}: {number} is outside {lo}-{hi}.")
        return None
    return number


def _free_list(column: str, value: str, errors: list[str], max_len: int = 60) -> list[str]:
    items: list[str] = []
    for item in _split(value):
        if len(item) > max_len:
            errors.append(f"{column}: {item[:20]!r}... is longer than {max_len} characters.")
            continue
        normal = " ".join(item.split())
        if normal.lower() not in {i.lower() for i in items}:
            items.append(normal)
    if len(items) > MAX_LIST_ITEMS:
        errors.append(f"{column}: at most {MAX_LIST_ITEMS} values.")
    return items


def _timestamp(value: str) -> datetime | None:
    """A date (noon UTC) or an ISO timestamp (UTC when it names no zone); None when the
    text is not one, including well-formed but impossible dates such as 2026-02-31."""
    try:
        stamp = parse_datetime(value)
        if stamp is None:
            day = parse_date(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
            return datetime.combine(day, time(12), tzinfo=UTC) if day else None
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def validate_row(line: int, row: dict[str, object]) -> RowResult:
    """Validate one CSV row; `data` holds Listing field values when there are no errors."""
    get = {k: _clean(v) for k, v in row.items() if k is not None}
    if None in row and _clean(row[None]):
        extra = RowResult(line, get.get("source_id", ""))
        extra.errors.append("This row has more cells than the header has columns "
                            "(an unquoted comma?).")
        return extra
    result = RowResult(line, get.get("source_id", ""))
    errors, warnings = result.errors, result.warnings
    for column in REQUIRED_COLUMNS:
        if not get.get(column):
            errors.append(f"{column}: required.")
    for column in ("source_id",):
        if len(get.get(column, "")) > 100:
            errors.append(f"{column}: at most 100 characters.")
    for column, limit in (("name", 200), ("organization", 200), ("address1", 200),
                          ("address2", 200), ("city", 100), ("description", 4000)):
        if len(get.get(column, "")) > limit:
            errors.append(f"{column}: at most {limit} characters.")

    data: dict[str, Any] = {
        "name": " ".join(get.get("name", "").split()),
        "organization_name": get.get("organization", ""),
        "description": get.get("description", ""),
        "address1": get.get("address1", ""),
        "address2": get.get("address2", ""),
        "city": get.get("city", ""),
    }
    state = get.get("state", "").upper()
    if state and state not in US_STATES:
        errors.append(f"state: {state!r} is not a US state or territory abbreviation.")
    data["state"] = state

    zip_code = get.get("zip", "")
    if len(zip_code) == 10 and zip_code[5] == "-":
        zip_code = zip_code[:5]  # ZIP+4
    point = None
    if zip_code and not re.fullmatch(r"\d{5}", zip_code):
        errors.append(f"zip: {zip_code!r} is not a 5-digit ZIP code.")
    elif zip_code:
        point = zip_point(zip_code)
        if point is not None and state in US_STATES and point.state != state:
            # A ZIP code lies in one state; a mismatch would place the listing elsewhere.
            errors.append(f"zip: {zip_code} is in {point.place}, not in {state}; check the "
                          f"ZIP code and the state.")
    data["zip_code"] = zip_code

    lat_s, lon_s = get.get("latitude", ""), get.get("longitude", "")
    if bool(lat_s) != bool(lon_s):
        errors.append("latitude/longitude: give both or neither.")
    elif lat_s:
        try:
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            errors.append("latitude/longitude: must be decimal degrees, e.g. 39.96 and -83.00.")
        else:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                errors.append("latitude/longitude: out of range (-90..90, -180..180).")
            data["latitude"], data["longitude"] = round(lat, 6), round(lon, 6)
    if "latitude" not in data and zip_code and re.fullmatch(r"\d{5}", zip_code):
        if point is None:
            errors.append(f"zip: {zip_code} is not a ZIP code we know; give latitude and "
                          f"longitude for it.")
        else:
            data["latitude"], data["longitude"] = point.latitude, point.longitude

    phone = get.get("phone", "")
    digits = re.sub(r"\D", "", phone)
    if phone and not (len(digits) == 10 or (len(digits) == 11 and digits[0] == "1")):
        errors.append(f"phone: {phone!r} is not a 10-digit US phone number.")
    data["phone"] = phone[:30]
    website = get.get("website", "")
    if website:
        if not re.match(r"^https?://", website, re.I):
            website = "https://" + website
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors.append(f"website: {get['website']!r} is not a web address.")
    data["website"] = website[:200]

    # Controlled lists: explicit columns first, then what the locator codes add.
    data["levels_of_care"] = _choice_list("levels_of_care", get.get("levels_of_care", ""),
                                          vocab.LEVELS, errors, ASAM_LEVELS)
    data["populations"] = _choice_list("populations", get.get("populations", ""),
                                       vocab.POPULATIONS, errors)
    data["therapies"] = _choice_list("therapies", get.get("therapies", ""), vocab.THERAPIES,
                                     errors)
    data["moud"] = _choice_list("moud", get.get("moud", ""), vocab.MOUD, errors)
    data["holistic"] = _choice_list("holistic", get.get("holistic", ""), vocab.HOLISTIC, errors)
    data["schedule_options"] = _choice_list("schedule", get.get("schedule", ""),
                                            vocab.SCHEDULE, errors)
    data["payment"] = _choice_list("payment", get.get("payment", ""), vocab.PAYMENT, errors)
    data["accreditation"] = _choice_list("accreditation", get.get("accreditation", ""),
                                         vocab.ACCREDITATION, errors)
    data["languages"] = _free_list("languages", get.get("languages", ""), errors)
    data["insurers"] = _free_list("insurers", get.get("insurers", ""), errors)
    data["medication_management"] = _bool("medication_management",
                                          get.get("medication_management", ""), errors)
    data["telehealth"] = _bool("telehealth", get.get("telehealth", ""), errors)

    focus_raw = get.get("focus", "").lower()
    focus = FOCUS_WORDS.get(focus_raw) if focus_raw else None
    if focus_raw and focus is None:
        errors.append(f"focus: {get['focus']!r} is not mh, su or co (mental health, "
                      f"substance use, co-occurring).")
    facility = get.get("type_facility", "").lower()
    if facility and not focus_raw:
        focus = FACILITY_TYPES.get(facility.replace(" ", ""))
        focus_raw = facility if focus else ""
        if focus is None:
            warnings.append(f"type_facility: {get['type_facility']!r} not recognised (SA, MH "
                            f"or both); the focus comes from the service codes.")

    codes: list[str] = []
    for token in re.split(r"[\s,;]+", get.get("services", "")):
        if not token:
            continue
        code = token.upper()
        if not re.fullmatch(r"[A-Z0-9]{1,6}", code):
            errors.append(f"services: {token!r} is not a locator service code.")
            continue
        if code in codes:
            continue
        codes.append(code)
        effect = vocab.LOCATOR_CODES.get(code)
        if effect is None:
            warnings.append(f"services: unknown code {code} kept but not used for search.")
            continue
        for fname, values in effect.values.items():
            for v in values:
                if v not in data[fname]:
                    data[fname].append(v)
        for fname, value in effect.flags.items():
            if fname == "focus":
                focus = focus if focus == "co" or focus_raw else value
            else:
                data[fname] = data[fname] or value
    data["locator_codes"] = codes
    if focus is None and data["moud"]:
        focus = "su"  # medications for opioid use disorder are substance use treatment
    if data["moud"] and focus == "mh":
        errors.append("moud: a mental-health-only program cannot list medications for opioid "
                      "use disorder; set focus to su or co.")
    if focus is None:
        errors.append("focus: required (mh, su or co), or a CO or IDD service code.")
    data["focus"] = focus or ""
    if not data["levels_of_care"]:
        errors.append("levels_of_care: give at least one (OP, IOP, PHP, RES, INP), or a "
                      "service code such as OIT.")

    hours = get.get("hours_per_week", "")
    data["hours_per_week_min"] = data["hours_per_week_max"] = None
    if hours:
        m = re.fullmatch(r"(\d{1,2})(?:\s*-\s*(\d{1,2}))?", hours)
        if not m:
            errors.append(f"hours_per_week: {hours!r} is not a number or a range like 9-12.")
        else:
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            if not (1 <= lo <= hi <= 60):
                errors.append("hours_per_week: must be between 1 and 60, low before high.")
            data["hours_per_week_min"], data["hours_per_week_max"] = lo, hi
    data["typical_length_weeks"] = _int("program_weeks", get.get("program_weeks", ""), 1, 104,
                                        errors)
    data["openings"] = _int("openings", get.get("openings", ""), 0, 1000, errors)
    updated = get.get("openings_updated", "")
    data["openings_updated_at"] = None
    if updated:
        stamp = _timestamp(updated)
        if stamp is None:
            errors.append(f"openings_updated: {updated!r} is not a date like 2026-11-02.")
        data["openings_updated_at"] = stamp
        if data["openings"] is None:
            errors.append("openings_updated: given without openings.")

    if not errors:
        result.data = data
    return result


def content_hash(data: dict[str, Any]) -> str:
    """A stable fingerprint of a row's data: equal for an unchanged re-import."""
    def default(value: object) -> str:
        return value.isoformat() if isinstance(value, datetime) else str(value)

    payload = json.dumps(data, sort_keys=True, default=default)
    return hashlib.sha256(payload.encode()).hexdigest()
