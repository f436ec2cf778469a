"""Pure medication rules (no database): the catalog, free-text matching, drug screens.

Everything clinical here is data in `data/*.json`, each entry with its source. This module
only reads those files and applies them, so the rules can be tested without Django. Dose
checks live in `dosing.py`, interaction rules in `interactions.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DoseLimit:
    """The largest single dose and daily total for some routes, in the entry's first unit."""

    routes: tuple[str, ...]
    max_single: Decimal
    max_daily: Decimal | None
    source: str


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    name: str
    rxnorm: str
    rxnorm_level: str
    verified: bool
    verified_by: str
    unverified_reason: str
    drug_class: str
    category: str
    ingredients: tuple[str, ...]
    synonyms: tuple[str, ...]
    forms: tuple[str, ...]
    routes: tuple[str, ...]
    dose_units: tuple[str, ...]
    dosing: tuple[DoseLimit, ...]
    effect_days: int
    dea_schedule: str | None
    flags: frozenset[str]
    screens_as: tuple[str, ...]
    source: str
    indication: str = ""
    otp_only: bool = False
    notes: str = ""

    @property
    def controlled(self) -> bool:
        return bool(self.dea_schedule)

    def limit_for(self, route: str) -> DoseLimit | None:
        return next((d for d in self.dosing if route in d.routes), None)

    @property
    def max_single_dose(self) -> Decimal:
        """The largest single dose over all routes (the outer bound shown in the catalog)."""
        return max(d.max_single for d in self.dosing)

    @property
    def tags(self) -> frozenset[str]:
        """Class flags plus `ing:<ingredient>` tags: what the interaction rules match on."""
        return self.flags | {f"ing:{i}" for i in self.ingredients}


CATEGORY_LABELS = {
    "antidepressant": "Antidepressants",
    "anxiolytic": "Anxiolytics",
    "antipsychotic": "Antipsychotics",
    "mood_stabilizer": "Mood stabilizers",
    "adhd": "ADHD medications",
    "sleep": "Sleep medications",
    "moud": "Medications for opioid use disorder",
    "aud": "Medications for alcohol use disorder",
    "nicotine": "Nicotine replacement and smoking cessation",
    "naloxone": "Naloxone rescue kits",
    "pain": "Pain medications (opioids, gabapentinoids, muscle relaxants)",
    "other": "Other medications the interaction rules check",
}


def _load(name: str) -> dict[str, Any]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return json.load(fh)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


@cache
def catalog() -> dict[str, CatalogEntry]:
    """The medication catalog by key (read once)."""
    entries = {}
    for raw in _load("catalog.json")["medications"]:
        entries[raw["key"]] = CatalogEntry(
            key=raw["key"], name=raw["name"], rxnorm=raw["rxnorm"],
            rxnorm_level=raw["rxnorm_level"], verified=raw["verified"],
            verified_by=raw.get("verified_by", ""),
            unverified_reason=raw.get("unverified_reason", ""), drug_class=raw["class"],
            category=raw["category"], ingredients=tuple(raw["ingredients"]),
            synonyms=tuple(raw.get("synonyms", [])), forms=tuple(raw["forms"]),
            routes=tuple(raw["routes"]), dose_units=tuple(raw["dose_units"]),
            dosing=tuple(DoseLimit(routes=tuple(d["routes"]), max_single=_dec(d["max_single"]),
                                   max_daily=None if d["max_daily"] is None
                                   else _dec(d["max_daily"]), source=d["source"])
                         for d in raw["dosing"]),
            effect_days=int(raw.get("effect_days", 0)),
            dea_schedule=raw.get("dea_schedule"), flags=frozenset(raw.get("flags", [])),
            screens_as=tuple(raw.get("screens_as", [])), source=raw["source"],
            indication=raw.get("indication", ""), otp_only=bool(raw.get("otp_only")),
            notes=raw.get("notes", ""),
        )
    return entries


def catalog_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped (category label, [(key, name)]) choices for a select."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for entry in catalog().values():
        groups.setdefault(entry.category, []).append((entry.key, entry.name))
    return [(CATEGORY_LABELS.get(cat, cat), sorted(items, key=lambda i: i[1]))
            for cat, items in groups.items()]


# --- free text → catalog -----------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


@cache
def _name_index() -> list[tuple[tuple[str, ...], str]]:
    """(words of a name, catalog key), longest names first. Names are the entry's name,
    its ingredients and its synonyms (generic and brand)."""
    index: dict[tuple[str, ...], str] = {}
    entries = catalog()
    for entry in entries.values():
        for name in (entry.name, *entry.synonyms):
            index.setdefault(_words(name), entry.key)
    # A bare ingredient name means the entry keyed by it (oral naltrexone, not the monthly
    # injection), else the first single-ingredient entry with it; never an entry only an
    # opioid treatment program may order (plain "methadone" is the pain entry; "Methadose"
    # or "methadone for opioid use disorder" name the other).
    for entry in entries.values():
        if len(entry.ingredients) == 1 and not entry.otp_only:
            ingredient = entry.ingredients[0]
            keyed = entries.get(ingredient)
            key = ingredient if keyed is not None and not keyed.otp_only else entry.key
            index.setdefault(_words(ingredient), key)
    return sorted(index.items(), key=lambda item: -len(item[0]))


def match_text(text: str) -> CatalogEntry | None:
    """The catalog entry a free-text medication name refers to, or None.

    A name matches when the words of a catalog name, ingredient or synonym (brand or
    generic) appear in it as whole consecutive words; the longest such name wins, so
    "Suboxone 8 mg film" and "buprenorphine/naloxone" are the combination, and
    "buprenorphine" alone is the single ingredient.
    """
    words = _words(text)
    for name, key in _name_index():
        n = len(name)
        if n and any(words[i:i + n] == name for i in range(len(words) - n + 1)):
            return catalog()[key]
    return None


@cache
def unit_limits() -> dict[str, dict[str, Any]]:
    return _load("dose_limits.json")["units"]


@cache
def screen_panel() -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in _load("screens.json")["substances"]}


def screen_substances() -> dict[str, str]:
    return {key: s["label"] for key, s in screen_panel().items()}


@cache
def interaction_rules() -> list[dict[str, Any]]:
    return _load("interactions.json")["rules"]


# --- drug screens ----------------------------------------------------------------------

EXPECTED_POSITIVE = "expected_positive"
EXPECTED_NEGATIVE = "expected_negative"
UNEXPECTED_POSITIVE = "unexpected_positive"
UNEXPECTED_NEGATIVE = "unexpected_negative"

ASSAY_MAY_MISS = "assay_may_miss"

INTERPRETATION_LABELS = {
    EXPECTED_POSITIVE: "Expected positive (prescribed)",
    EXPECTED_NEGATIVE: "Expected negative",
    UNEXPECTED_POSITIVE: "Unexpected positive (not prescribed)",
    UNEXPECTED_NEGATIVE: "Prescribed but absent",
    ASSAY_MAY_MISS: "Negative, but the screen often misses this medication",
}


def expected_substances(catalog_keys: Iterable[str]) -> set[str]:
    """Screen substances a participant on these medications should test positive for."""
    found: set[str] = set()
    for key in catalog_keys:
        entry = catalog().get(key)
        if entry:
            found.update(entry.screens_as)
    return found


def interpret_screen(*, substance: str, positive: bool, expected: set[str]) -> str:
    """Expected versus unexpected, given what is prescribed (data/screens.json source)."""
    prescribed = substance in expected
    if positive:
        return EXPECTED_POSITIVE if prescribed else UNEXPECTED_POSITIVE
    return UNEXPECTED_NEGATIVE if prescribed else EXPECTED_NEGATIVE


def interpret_result(*, substance: str, positive: bool, catalog_keys: Iterable[str]
                     ) -> tuple[str, str]:
    """(interpretation, caveat) for one result, given the medications active that day.

    The panel entry in data/screens.json lists what its immunoassay often misses
    (`misses`, by ingredient) and what can make it positive (`cross_reacts`). A negative
    result for a substance expected only from medications the assay misses is not
    "prescribed but absent": it is ASSAY_MAY_MISS with the caveat, and needs a definitive
    (chromatography/mass spectrometry) test before anyone thinks of non-adherence. A
    positive that a prescribed medication can cause carries the cross-reactivity caveat.
    """
    entries = [e for e in (catalog().get(k) for k in catalog_keys) if e is not None]
    panel = screen_panel().get(substance, {})
    expected = expected_substances(e.key for e in entries)
    interpretation = interpret_screen(substance=substance, positive=positive, expected=expected)
    if interpretation == UNEXPECTED_NEGATIVE:
        sources = [e for e in entries if substance in e.screens_as]
        missed = set(panel.get("misses", []))
        if sources and all(set(e.ingredients) & missed for e in sources):
            names = ", ".join(e.name for e in sources)
            return ASSAY_MAY_MISS, (f"{panel['label']} immunoassays often do not detect "
                                    f"{names}; a negative screen does not show it was not "
                                    f"taken. Confirm with a definitive test. "
                                    f"({panel.get('source', '')})")
    if positive and interpretation == UNEXPECTED_POSITIVE:
        cross = set(panel.get("cross_reacts", []))
        causes = [e.name for e in entries if set(e.ingredients) & cross]
        if causes:
            return interpretation, (f"{', '.join(causes)} can cause a false-positive "
                                    f"{panel['label'].lower()} immunoassay; confirm with a "
                                    f"definitive test before acting. "
                                    f"({panel.get('source', '')})")
    return interpretation, ""


def review_due(*, last_review: date | None, admitted_on: date | None, cadence_days: int) -> date | None:
    """The date the next medication review is due: cadence after the last review, or after
    admission when there has been none."""
    from datetime import timedelta

    base = last_review or admitted_on
    if base is None:
        return None
    return base + timedelta(days=cadence_days)
