"""Level-of-care recommendation: a plain-Python rule engine, no database.

Input: screening results (`instruments.ScoreResult` by instrument code), clinician-rated
ASAM-style dimensions (0-4 each) and the hours a week the person can attend. Output: the
least intensive level that satisfies every rule, and every rule that fired, in plain words.

Sources and design (background in docs/clinical-rules.md):
- Six dimensions; placement follows the highest-risk dimension, ratings are not averaged.
  Mee-Lee D et al., eds. The ASAM Criteria, 3rd ed. American Society of Addiction
  Medicine, 2013 (the six assessment dimensions).
- Hour ranges per level (IOP adults 9-19 h, youth 6-19 h, PHP 20 h or more). See
  openiop.care.levels for the sources.
- The mapping from a dimension rating to a minimum level is OpenIOP's simplification of the
  ASAM matrix, a configurable program default rather than a published rule; it lives in
  data/loc_rules.json so a clinic can correct it without a
  release.
- C-SSRS high risk (yes to Q4/Q5, or behavior in the past 3 months) calls for immediate
  evaluation and safety precautions: Posner K et al. Am J Psychiatry 2011;168:1266-1277, and
  the Columbia Lighthouse Project's C-SSRS Screen Version with triage points,
  https://cssrs.columbia.edu/the-columbia-scale-c-ssrs/triage-c-ssrs/ ; so imminent
  risk always recommends a level above IOP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from .instruments import ScoreResult

LEVELS: tuple[str, ...] = ("OP", "IOP", "PHP", "RES", "INP")  # care.levels.LEVEL_ORDER
LEVEL_NAMES = {
    "OP": "outpatient", "IOP": "intensive outpatient", "PHP": "partial hospitalization",
    "RES": "residential", "INP": "inpatient",
}
DIMENSIONS: tuple[str, ...] = (
    "withdrawal", "biomedical", "emotional", "readiness", "relapse", "environment",
)
RULES_FILE = Path(__file__).resolve().parent / "data" / "loc_rules.json"


class LocInputError(ValueError):
    """Inputs the engine cannot use. `errors` maps the field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class FiredRule:
    code: str
    text: str
    level: str | None  # the minimum level this rule calls for; None for advice only
    source: str = ""


@dataclass(frozen=True)
class Recommendation:
    level: str
    rules: tuple[FiredRule, ...]
    imminent_risk: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    def as_list(self) -> list[dict[str, Any]]:
        return [{"code": r.code, "text": r.text, "level": r.level, "source": r.source}
                for r in self.rules]


@cache
def rules_data() -> dict[str, Any]:
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


def rank(level: str) -> int:
    return LEVELS.index(level)


def higher(a: str, b: str) -> str:
    return a if rank(a) >= rank(b) else b


def minimum_hours(level: str, *, adolescent: bool) -> Decimal | None:
    hours = rules_data()["hours"].get(level)
    if hours is None:
        return None
    return Decimal(str(hours["adolescent" if adolescent else "adult"]))


def validate_inputs(dimensions: Mapping[str, Any], hours_available: Any) -> tuple[dict[str, int], Decimal]:
    errors: dict[str, str] = {}
    ratings: dict[str, int] = {}
    labels = rules_data()["dimensions"]
    for dim in DIMENSIONS:
        raw = dimensions.get(dim)
        label = labels[dim]["label"]
        if raw is None or raw == "":
            errors[dim] = f"{label}: a rating from 0 to 4 is required."
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[dim] = f"{label}: the rating must be a whole number from 0 to 4."
            continue
        if isinstance(raw, float) and not raw.is_integer():
            errors[dim] = f"{label}: the rating must be a whole number from 0 to 4."
        elif not 0 <= value <= 4:
            errors[dim] = f"{label}: the rating must be from 0 to 4, not {value}."
        else:
            ratings[dim] = value
    unknown = sorted(set(dimensions) - set(DIMENSIONS))
    for k in unknown:
        errors[k] = f"There is no dimension called {k!r}."
    try:
        hours = Decimal(str(hours_available))
        if not hours.is_finite() or hours < 0 or hours > 168:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["hours_available"] = "Hours a week must be a number from 0 to 168."
        hours = Decimal(0)
    if errors:
        raise LocInputError(errors)
    return ratings, hours


def recommend(
    *,
    screening: Mapping[str, ScoreResult],
    dimensions: Mapping[str, Any],
    hours_available: Any,
    adolescent: bool = False,
) -> Recommendation:
    """The recommended level and every rule that fired. Raises LocInputError on bad input."""
    ratings, hours = validate_inputs(dimensions, hours_available)
    data = rules_data()
    fired: list[FiredRule] = []
    imminent = False

    # 1. Dimensions: the highest-risk dimension drives placement (never an average).
    for dim in DIMENSIONS:
        spec = data["dimensions"][dim]
        rating = ratings[dim]
        floor = spec["floors"].get(str(rating))
        if floor:
            fired.append(FiredRule(
                f"dimension_{dim}",
                f"{spec['label']} rated {rating} ({data['rating_words'][str(rating)]}): "
                f"{spec['why'][str(rating)]} At least {LEVEL_NAMES[floor]}.",
                floor, data["dimensions_source"],
            ))
        if dim == "emotional" and rating == 4:
            imminent = True

    # 2. Screening results.
    for code, rule in data["screening"].items():
        result = screening.get(rule["instrument"])
        if result is None:
            continue
        if _screening_rule_fires(rule, result):
            fired.append(FiredRule(code, rule["text"].format(total=result.total,
                                                             band=result.band_label.lower()),
                                   rule.get("level"), rule["source"]))
            if rule.get("imminent"):
                imminent = True

    phq9 = screening.get("phq9")
    risk_unanswered = (phq9 is not None and "self_harm_thoughts" in phq9.flag_codes
                       and "cssrs" not in screening)
    if risk_unanswered:
        fired.append(FiredRule(
            "cssrs_needed",
            "PHQ-9 item 9 was above 0 and no recent C-SSRS screen is on file: complete the "
            "C-SSRS before deciding the level of care.",
            None, data["screening_source"],
        ))

    level = "OP"
    for rule in fired:
        if rule.level:
            level = higher(level, rule.level)

    # 3. Imminent risk always recommends a level above IOP (C-SSRS triage, source above).
    if imminent and rank(level) <= rank("IOP"):
        level = "PHP"
    if imminent:
        fired.append(FiredRule(
            "imminent_risk",
            "Imminent risk of harm: a level more intensive than IOP is recommended, with "
            "immediate evaluation and safety precautions; IOP alone is not safe enough.",
            higher(level, "PHP"), data["imminent_source"],
        ))

    if not any(r.level for r in fired):
        # Never "nothing called for more" while a suicide-risk prompt is unanswered: the
        # recommendation is provisional until the C-SSRS is done.
        fired.append(FiredRule(
            "default_outpatient",
            "Outpatient only provisionally: the suicide-risk screen is still missing, so the "
            "level cannot be decided until the C-SSRS is done." if risk_unanswered else
            "No dimension or screening result called for more than outpatient care: outpatient "
            "is the least intensive level that fits.",
            "OP", data["dimensions_source"],
        ))

    # 4. Hours: advice only; a lack of time never lowers the recommendation.
    needed = minimum_hours(level, adolescent=adolescent)
    if needed is not None and hours < needed:
        fired.append(FiredRule(
            "hours_short",
            f"Can attend {_h(hours)} h a week, but {LEVEL_NAMES[level]} needs at least "
            f"{_h(needed)} h a week{' for adolescents' if adolescent else ''}: plan around work "
            "or school (for example an evening track) rather than lowering the level.",
            None, data["hours_source"],
        ))
    return Recommendation(level=level, rules=tuple(fired), imminent_risk=imminent)


def _h(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _screening_rule_fires(rule: Mapping[str, Any], result: ScoreResult) -> bool:
    if "bands" in rule:
        return result.band in rule["bands"]
    if "flag" in rule:
        return rule["flag"] in result.flag_codes
    low, high = rule["total"]
    return result.total is not None and low <= result.total <= high
