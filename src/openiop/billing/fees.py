"""Self-pay sliding fee and the participant's cost estimate (pure functions).

The poverty line is the HHS poverty guideline for the schedule's year
(data/poverty_guidelines.json carries the Federal Register citation). The default tiers
follow the shape the HRSA Health Center Program asks of a sliding fee discount schedule:
a full discount (nominal charge) at or below 100 % of the guidelines, partial discounts in
bands up to 200 %, and the full fee above (HRSA Health Center Program Compliance Manual,
chapter 9, "Sliding Fee Discount Program";
https://bphc.hrsa.gov/compliance/compliance-manual/chapter9). Each program can change the
bands and fees: they are data on SlidingFeeSchedule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

DEFAULT_TIERS: list[dict[str, object]] = [
    {"up_to_percent": 100, "fee_per_day": "10.00"},
    {"up_to_percent": 150, "fee_per_day": "40.00"},
    {"up_to_percent": 200, "fee_per_day": "80.00"},
    {"up_to_percent": None, "fee_per_day": None},  # None: the full fee
]
DEFAULT_GUIDELINE_YEAR = 2025


@cache
def _guidelines() -> dict[str, dict[str, int]]:
    return json.loads((DATA / "poverty_guidelines.json").read_text())["years"]


def guideline_years() -> list[int]:
    return sorted(int(y) for y in _guidelines())


def poverty_line(year: int, household_size: int) -> Decimal:
    if household_size < 1:
        raise ValueError("household size must be at least 1")
    row = _guidelines().get(str(year))
    if row is None:
        raise ValueError(f"no poverty guidelines for {year}")
    return Decimal(row["first_person"] + row["each_additional"] * (household_size - 1))


@dataclass(frozen=True)
class SlidingFee:
    percent_of_poverty: int
    fee_per_day: Decimal
    band: str


def sliding_fee(*, year: int, household_size: int, annual_income: Decimal,
                full_fee: Decimal, tiers: list[dict[str, object]]) -> SlidingFee:
    line = poverty_line(year, household_size)
    percent = int((Decimal(annual_income) * 100 / line).to_integral_value(ROUND_HALF_UP))
    lower = 0
    for tier in tiers:
        bound = tier.get("up_to_percent")
        if bound is None or percent <= int(bound):  # type: ignore[call-overload]
            fee = tier.get("fee_per_day")
            amount = full_fee if fee in (None, "") else Decimal(str(fee))
            band = (f"above {lower} %" if bound is None
                    else f"{lower}-{bound} % of the poverty guideline")
            return SlidingFee(percent, min(amount, full_fee), band)
        lower = int(bound)  # type: ignore[call-overload]
    return SlidingFee(percent, full_fee, "full fee")


def validate_tiers(tiers: object) -> str:
    """'' when the tiers are well formed, else a sentence saying what is wrong."""
    if not isinstance(tiers, list) or not tiers:
        return "List at least one band."
    last = -1
    for i, tier in enumerate(tiers):
        if not isinstance(tier, dict):
            return f"Band {i + 1} is not a band."
        bound = tier.get("up_to_percent")
        if bound is None:
            if i != len(tiers) - 1:
                return "Only the last band may be open-ended."
        elif not isinstance(bound, int) or bound <= last:
            return "Band limits must be whole percents in rising order."
        else:
            last = bound
        fee = tier.get("fee_per_day")
        if fee not in (None, ""):
            try:
                if Decimal(str(fee)) < 0:
                    return "Fees cannot be negative."
            except ArithmeticError:
                return f"Band {i + 1} has a fee that is not a number."
    if tiers[-1].get("up_to_percent") is not None:
        return "The last band must be open-ended (no upper limit)."
    return ""
