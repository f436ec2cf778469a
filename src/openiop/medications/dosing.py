"""Dose checks (no database): unit, route, single dose, daily total, ten-fold changes.

The limits are data (`data/catalog.json` → `dosing`, per route, each with its label
source; `data/dose_limits.json` for medications outside the catalog). This module only
applies them:

- the unit must be one the medication is dosed in; mass units (g, mg, mcg) are converted
  before comparing, volume (mL) and counted units (tablet, patch) never are;
- the route must be one of the medication's routes, and the limits of that route apply
  (oral haloperidol is not checked against the monthly injection's limit);
- a single dose above the route's maximum is refused outright (a likely entry error);
- the daily total is dose x doses per day (an as-needed order counts its maximum doses
  per day); above the route's daily maximum it needs a prescriber's documented override;
- a dose ten times (or a tenth of) the previous dose of the same medication needs an
  explicit confirmation (the classic decimal-point error).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import rules

# Doses per day for each frequency; None where a daily total is not meaningful (weekly,
# monthly or one-off doses: only the single dose is checked) and for PRN (the order's own
# maximum doses per day is used).
DOSES_PER_DAY: dict[str, int | None] = {
    "once": None, "daily": 1, "qhs": 1, "bid": 2, "tid": 3, "qid": 4,
    "weekly": None, "q4w": None, "prn": None,
}

MASS_IN_MG = {"g": Decimal("1000"), "mg": Decimal("1"), "mcg": Decimal("0.001")}

TENFOLD = Decimal("10")


@dataclass(frozen=True)
class DoseCheck:
    """What the dose checks found: `refusal` is (field, message) when the order cannot be
    saved at all; `over_daily` names the daily-maximum problem that a prescriber may
    override with a documented reason."""

    refusal: tuple[str, str] | None = None
    over_daily: str = ""
    daily_total: Decimal | None = None


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def convert(dose: Decimal, unit: str, to_unit: str) -> Decimal | None:
    """The dose in `to_unit`, or None when the two units cannot be converted."""
    if unit == to_unit:
        return dose
    if unit in MASS_IN_MG and to_unit in MASS_IN_MG:
        return dose * MASS_IN_MG[unit] / MASS_IN_MG[to_unit]
    return None


def doses_per_day(frequency: str, max_doses_per_day: int | None = None) -> int | None:
    if frequency == "prn":
        return max_doses_per_day
    return DOSES_PER_DAY.get(frequency)


def check_dose(*, dose: Decimal | None, unit: str, route: str = "", frequency: str = "",
               catalog_key: str = "", max_doses_per_day: int | None = None) -> DoseCheck:
    """Check a dose for a medication (catalog entry or free text) on a route and schedule."""
    limits = rules.unit_limits()
    if unit not in limits:
        return DoseCheck(refusal=("unit", f"Unknown dose unit {unit!r}; choose one of "
                                          f"{', '.join(limits)}."))
    if dose is None:
        return DoseCheck(refusal=("dose", "Enter a dose."))
    if dose <= 0:
        return DoseCheck(refusal=("dose", "The dose must be greater than zero."))
    if frequency == "prn" and not max_doses_per_day:
        return DoseCheck(refusal=("max_doses_per_day", "An as-needed order needs its maximum "
                                                       "number of doses per day."))
    unit_max = Decimal(str(limits[unit]["max"]))
    if dose > unit_max:
        return DoseCheck(refusal=("dose", f"{_fmt(dose)} {unit} is not a plausible single dose "
                                          f"(limit {_fmt(unit_max)} {unit}); check for a typing "
                                          "error."))
    entry = rules.catalog().get(catalog_key) if catalog_key else None
    if entry is None:
        return DoseCheck()
    return _check_catalog_dose(entry, dose, unit, route, frequency, max_doses_per_day)


def _check_catalog_dose(entry: rules.CatalogEntry, dose: Decimal, unit: str, route: str,
                        frequency: str, max_doses_per_day: int | None) -> DoseCheck:
    base_unit = entry.dose_units[0]
    if unit not in entry.dose_units:
        return DoseCheck(refusal=("unit", f"{entry.name} is dosed in "
                                          f"{' or '.join(entry.dose_units)}, not {unit}."))
    if route and route not in entry.routes:
        return DoseCheck(refusal=("route", f"{entry.name} is not given by the {route} route "
                                           f"(routes: {', '.join(entry.routes)})."))
    limit = entry.limit_for(route) if route else None
    if limit is None:
        limit = max(entry.dosing, key=lambda d: d.max_single)
    amount = convert(dose, unit, base_unit)
    if amount is None:  # pragma: no cover - dose_units are mutually convertible by design
        return DoseCheck(refusal=("unit", f"{unit} cannot be compared with {base_unit}."))
    route_label = f"{route} " if route else ""
    if amount > limit.max_single:
        return DoseCheck(refusal=("dose", (
            f"{_fmt(dose)} {unit} is above the largest single {route_label}dose of "
            f"{entry.name} ({_fmt(limit.max_single)} {base_unit}; {limit.source}). Check for a "
            "typing error, the unit (mg or mcg) and the route.")))
    per_day = doses_per_day(frequency, max_doses_per_day)
    if per_day is None or limit.max_daily is None:
        return DoseCheck()
    total = amount * per_day
    if total > limit.max_daily:
        return DoseCheck(over_daily=(
            f"{_fmt(dose)} {unit} x {per_day} a day = {_fmt(total)} {base_unit} a day, above "
            f"the maximum daily {route_label}dose of {entry.name} "
            f"({_fmt(limit.max_daily)} {base_unit}; {limit.source})."), daily_total=total)
    return DoseCheck(daily_total=total)


def tenfold_change(*, previous: Decimal | None, previous_unit: str, dose: Decimal, unit: str
                   ) -> str:
    """A message when the new dose is at least ten times, or at most a tenth of, the
    previous dose of the same medication (after unit conversion); else ""."""
    if previous is None or previous <= 0:
        return ""
    new = convert(dose, unit, previous_unit)
    if new is None:
        return (f"The unit changed from {previous_unit} to {unit} for the same medication; "
                "confirm the new dose.")
    ratio = new / previous
    if ratio >= TENFOLD or ratio <= 1 / TENFOLD:
        return (f"{_fmt(dose)} {unit} is {'ten times or more' if ratio >= 1 else 'a tenth or less of'}"
                f" the previous dose ({_fmt(previous)} {previous_unit}); confirm it is "
                "intended.")
    return ""
