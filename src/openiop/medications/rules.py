"""Pure medication rules (no database): the catalog, dose sanity, interactions, screens.

Everything clinical here is data in `data/*.json`, each entry with its source. This module
only reads those files and applies them, so the rules can be tested without Django.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    name: str
    rxnorm: str
    verified: bool
    verified_by: str
    drug_class: str
    category: str
    forms: tuple[str, ...]
    routes: tuple[str, ...]
    dose_units: tuple[str, ...]
    max_single_dose: Decimal
    dea_schedule: str | None
    flags: frozenset[str]
    screens_as: tuple[str, ...]
    source: str
    notes: str = ""

    @property
    def controlled(self) -> bool:
        return bool(self.dea_schedule)


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
}


def _load(name: str) -> dict[str, Any]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def catalog() -> dict[str, CatalogEntry]:
    """The medication catalog by key (read once)."""
    entries = {}
    for raw in _load("catalog.json")["medications"]:
        entries[raw["key"]] = CatalogEntry(
            key=raw["key"], name=raw["name"], rxnorm=raw["rxnorm"], verified=raw["verified"],
            verified_by=raw.get("verified_by", ""), drug_class=raw["class"],
            category=raw["category"], forms=tuple(raw["forms"]), routes=tuple(raw["routes"]),
            dose_units=tuple(raw["dose_units"]),
            max_single_dose=Decimal(str(raw["max_single_dose"])),
            dea_schedule=raw.get("dea_schedule"), flags=frozenset(raw.get("flags", [])),
            screens_as=tuple(raw.get("screens_as", [])), source=raw["source"],
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


@cache
def unit_limits() -> dict[str, dict[str, Any]]:
    return _load("dose_limits.json")["units"]


@cache
def screen_substances() -> dict[str, str]:
    return {s["key"]: s["label"] for s in _load("screens.json")["substances"]}


@cache
def interaction_rules() -> list[dict[str, Any]]:
    return _load("interactions.json")["rules"]


# --- dose sanity -----------------------------------------------------------------------

def dose_problem(*, dose: Decimal | None, unit: str, catalog_key: str = "") -> tuple[str, str] | None:
    """(field, message) when the dose is negative, zero or absurd for its unit; else None."""
    limits = unit_limits()
    if unit not in limits:
        return "unit", f"Unknown dose unit {unit!r}; choose one of {', '.join(limits)}."
    if dose is None:
        return "dose", "Enter a dose."
    if dose <= 0:
        return "dose", "The dose must be greater than zero."
    entry = catalog().get(catalog_key) if catalog_key else None
    if entry is not None:
        if unit not in entry.dose_units:
            return "unit", (f"{entry.name} is dosed in {', '.join(entry.dose_units)}, "
                            f"not {unit}.")
        if dose > entry.max_single_dose:
            return "dose", (f"{dose.normalize():f} {unit} is above the largest single dose of "
                            f"{entry.name} ({entry.max_single_dose.normalize():f} {unit}, from "
                            "its FDA label); check for a typing error.")
    limit = Decimal(str(limits[unit]["max"]))
    if dose > limit:
        return "dose", (f"{dose.normalize():f} {unit} is not a plausible single dose "
                        f"(limit {limit.normalize():f} {unit}); check for a typing error.")
    return None


# --- interactions ----------------------------------------------------------------------

@dataclass(frozen=True)
class MedFacts:
    """What the interaction rules need to know about one medication on the list."""

    ref: str  # an id to tell medications apart (an order code, or "new")
    name: str
    flags: frozenset[str]


@dataclass(frozen=True)
class Warning:
    rule_id: str
    title: str
    severity: str
    message: str
    source: str
    medications: tuple[str, ...] = field(default=())

    @property
    def involved(self) -> str:
        return " + ".join(self.medications)


def facts_for(*, ref: str, name: str, catalog_key: str = "", contains_alcohol: bool = False
              ) -> MedFacts:
    entry = catalog().get(catalog_key) if catalog_key else None
    flags = set(entry.flags) if entry else set()
    if contains_alcohol:
        flags.add("alcohol_containing")
    return MedFacts(ref=ref, name=name, flags=frozenset(flags))


def interaction_warnings(candidate: MedFacts, others: Iterable[MedFacts]) -> list[Warning]:
    """Warnings that involve the candidate medication together with the others.

    Only combinations that include the candidate fire, so adjusting an unrelated order
    does not re-raise a warning already acknowledged for another one.
    """
    others = [o for o in others if o.ref != candidate.ref]
    meds = [candidate, *others]
    warnings: list[Warning] = []
    for rule in interaction_rules():
        if rule["kind"] == "pair":
            a, b = set(rule["a"]), set(rule["b"])
            partners: list[str] = []
            if candidate.flags & a:
                partners += [o.name for o in others if o.flags & b]
            if candidate.flags & b:
                partners += [o.name for o in others if o.flags & a]
            if partners:
                involved = (candidate.name, *dict.fromkeys(partners))
                warnings.append(_warning(rule, involved))
        elif rule["kind"] == "count":
            flag = rule["flag"]
            with_flag = [m.name for m in meds if flag in m.flags]
            if flag in candidate.flags and len(with_flag) >= rule["min_count"]:
                warnings.append(_warning(rule, tuple(dict.fromkeys(with_flag))))
    return warnings


def _warning(rule: dict[str, Any], involved: tuple[str, ...]) -> Warning:
    return Warning(rule_id=rule["id"], title=rule["title"], severity=rule["severity"],
                   message=rule["message"], source=rule["source"], medications=involved)


# --- drug screens ----------------------------------------------------------------------

EXPECTED_POSITIVE = "expected_positive"
EXPECTED_NEGATIVE = "expected_negative"
UNEXPECTED_POSITIVE = "unexpected_positive"
UNEXPECTED_NEGATIVE = "unexpected_negative"

INTERPRETATION_LABELS = {
    EXPECTED_POSITIVE: "Expected positive (prescribed)",
    EXPECTED_NEGATIVE: "Expected negative",
    UNEXPECTED_POSITIVE: "Unexpected positive (not prescribed)",
    UNEXPECTED_NEGATIVE: "Prescribed but absent",
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


def review_due(*, last_review: date | None, admitted_on: date | None, cadence_days: int) -> date | None:
    """The date the next medication review is due: cadence after the last review, or after
    admission when there has been none."""
    from datetime import timedelta

    base = last_review or admitted_on
    if base is None:
        return None
    return base + timedelta(days=cadence_days)
