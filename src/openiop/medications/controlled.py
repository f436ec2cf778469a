"""Controlled-substance rules (no database): refills per DEA schedule, methadone for opioid
use disorder only in a certified opioid treatment program.

Limits are data (`data/controlled.json`, each with its regulation); stricter state
limits go in the same file by state.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from . import rules

GENERAL_MAX_REFILLS = 12

# Words in an order's indication that mean opioid use disorder.
_OUD = re.compile(r"\b(opioid use disorder|oud|opioid dependence|opioid addiction|"
                  r"opioid maintenance|opioid withdrawal)\b", re.IGNORECASE)


@cache
def limits() -> dict[str, Any]:
    return rules._load("controlled.json")


def refill_problem(*, entry: rules.CatalogEntry | None, refills: int, state: str = ""
                   ) -> str:
    """The message when `refills` is not allowed for this medication, else ""."""
    if refills < 0 or refills > GENERAL_MAX_REFILLS:
        return f"Refills must be between 0 and {GENERAL_MAX_REFILLS}."
    if entry is None or not entry.dea_schedule:
        return ""
    schedule = entry.dea_schedule
    caps = [limits()["federal"].get(schedule, {})]
    state_rule = limits()["states"].get(state.upper(), {}).get(schedule) if state else None
    if state_rule:
        caps.append(state_rule)
    for cap in caps:
        most = cap.get("max_refills")
        if most is not None and refills > most:
            allowed = "no refills" if most == 0 else f"at most {most} refills"
            return (f"{entry.name} is Schedule {schedule}: {allowed} ({cap['source']}). "
                    "Write a new prescription instead.")
    return ""


def is_methadone_for_oud(entry: rules.CatalogEntry | None, indication: str) -> bool:
    """True for the methadone entry for opioid use disorder, or any methadone order whose
    indication says opioid use disorder."""
    if entry is None or "methadone" not in entry.ingredients:
        return False
    return entry.indication == "opioid_use_disorder" or bool(_OUD.search(indication or ""))


OTP_REFUSAL = (
    "Methadone for opioid use disorder can only be ordered and dispensed by a certified "
    "opioid treatment program (42 CFR Part 8, sections 8.11 and 8.12; 21 CFR 1306.07). This "
    "program is not marked as a certified opioid treatment program. Refer the participant to "
    "an OTP and record its methadone as an outside prescription, or, if the order is for "
    "pain, choose \"Methadone (pain)\" (checked as an opioid)."
)
