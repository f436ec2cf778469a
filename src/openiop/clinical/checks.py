"""Pre-signing checks of a group note (pure Python, no database).

- Privacy: the shared part of a group note is copied into every attendee's chart, so it
  must not name another attendee (HIPAA minimum necessary, 45 CFR 164.502(b) and
  164.514(d); see docs/privacy-and-part2.md). We look for each attendee's legal first
  name, legal last name, full legal name and preferred name as whole words.
- Individuality: payers deny "cloned" documentation, where entries are identical across
  patients (Medicare contractors' "cloned documentation" guidance, e.g. Noridian
  and Palmetto GBA medical-review articles; treated as a warning, not a rule); entries that are the same after normalising case and
  whitespace are flagged.
Both are warnings: the author may sign anyway with a written reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MIN_NAME_LENGTH = 2


@dataclass(frozen=True)
class Attendee:
    key: str
    legal_first_name: str
    legal_last_name: str
    preferred_name: str = ""

    @property
    def label(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    def names(self) -> list[str]:
        names = [f"{self.legal_first_name} {self.legal_last_name}", self.legal_first_name,
                 self.legal_last_name, self.preferred_name]
        return [n.strip() for n in names if n and len(n.strip()) >= MIN_NAME_LENGTH]


@dataclass(frozen=True)
class NoteWarning:
    kind: str  # "privacy" | "cloned"
    message: str


def _mentions(text: str, name: str) -> bool:
    pattern = r"(?<![\w])" + re.escape(name) + r"(?![\w])"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def privacy_warnings(shared: Mapping[str, str], attendees: Iterable[Attendee]) -> list[NoteWarning]:
    """One warning per attendee named in the shared text."""
    text = "\n".join(v for v in shared.values() if v)
    warnings = []
    for person in attendees:
        hits = [n for n in person.names() if _mentions(text, n)]
        if hits:
            warnings.append(NoteWarning(
                "privacy",
                f"The shared part names {person.label} (\"{hits[0]}\"). It is copied into every "
                "attendee's chart: describe the group without names.",
            ))
    return warnings


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lower()


def cloned_warnings(entries: Mapping[str, Mapping[str, str]],
                    labels: Mapping[str, str]) -> list[NoteWarning]:
    """A warning for each group of attendees whose entries are identical (and not empty)."""
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for key, fields in entries.items():
        body = tuple(_normalise(fields.get(f, "")) for f in sorted(fields))
        if any(body):
            groups[body].append(key)
    warnings = []
    for keys in groups.values():
        if len(keys) > 1:
            names = ", ".join(sorted(labels.get(k, k) for k in keys))
            warnings.append(NoteWarning(
                "cloned",
                f"The individual entries of {names} are identical. Payers deny cloned notes: "
                "describe each person's own participation and response.",
            ))
    return warnings
