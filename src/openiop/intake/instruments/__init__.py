"""Validated screening instruments: data files plus pure scoring functions.

No database and no Django: `score("phq9", answers)` works anywhere (portal check-ins,
the public self-check, the API, tests). Each instrument's items, answer options, bands,
flag rules and their sources live in `data/<code>.json`; the scoring rules that cannot be
expressed as data (sums, the DAST-10 reversed item, AUDIT-C sex-specific cut-offs,
C-SSRS skip logic and triage) are below, each citing the same sources.

Scoring never guesses: a missing, unknown or out-of-range answer raises
`ScoringError` naming every item at fault, and nothing is returned.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
CODES: tuple[str, ...] = ("phq9", "gad7", "auditc", "dast10", "cssrs")

# Answer words accepted for yes/no items (forms post strings; JSON clients send booleans).
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


class ScoringError(ValueError):
    """Answers that cannot be scored. `errors` maps the item id (or "sex") to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class Item:
    id: str
    number: int
    text: str
    options: tuple[tuple[int, str], ...]
    reverse: bool = False
    asked_if: str = ""

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(v for v, _ in self.options)


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    min: int | None
    max: int | None
    color: str


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    title: str
    measures: str
    loinc: str
    lookback: str
    source: str
    license: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    flag_rules: Mapping[str, Mapping[str, Any]]
    min_total: int | None
    max_total: int | None
    data: Mapping[str, Any] = field(repr=False)

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def band(self, code: str) -> Band:
        for b in self.bands:
            if b.code == code:
                return b
        raise KeyError(code)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def is_yes_no(self) -> bool:
        return all(it.values == (0, 1) for it in self.items)


@dataclass(frozen=True)
class Flag:
    """A rule that fired: `safety` flags open an urgent task and show the crisis line."""

    code: str
    level: str  # info | warn | danger
    message: str
    source: str
    safety: bool = False
    imminent: bool = False


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    total: int | None  # None for the C-SSRS: triage uses the highest item, not a sum
    band: str
    band_label: str
    flags: tuple[Flag, ...]
    answers: Mapping[str, int]

    @property
    def safety(self) -> bool:
        return any(f.safety for f in self.flags)

    @property
    def imminent_risk(self) -> bool:
        return any(f.imminent for f in self.flags)

    @property
    def flag_codes(self) -> list[str]:
        return [f.code for f in self.flags]

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "band_label": self.band_label,
            "safety": self.safety,
            "imminent_risk": self.imminent_risk,
            "flags": [
                {"code": f.code, "level": f.level, "message": f.message, "safety": f.safety,
                 "source": f.source}
                for f in self.flags
            ],
            "answers": dict(self.answers),
        }


def _load(code: str) -> Instrument:
    raw = json.loads((DATA_DIR / f"{code}.json").read_text(encoding="utf-8"))
    shared = raw.get("options")
    items = []
    for n, it in enumerate(raw["items"], start=1):
        opts = it.get("options", shared)
        items.append(Item(
            id=it["id"], number=n, text=it["text"],
            options=tuple((int(o["value"]), o["label"]) for o in opts),
            reverse=bool(it.get("reverse", False)), asked_if=it.get("asked_if", ""),
        ))
    bands = tuple(
        Band(code=b["code"], label=b["label"], min=b.get("min"), max=b.get("max"),
             color=b.get("color", ""))
        for b in raw["bands"]
    )
    return Instrument(
        code=raw["code"], name=raw["name"], title=raw["title"], measures=raw["measures"],
        loinc=raw.get("loinc", ""), lookback=raw["lookback"], source=raw["source"],
        license=raw.get("license", ""), items=tuple(items), bands=bands,
        flag_rules=raw.get("flags", {}), min_total=raw.get("min_total"),
        max_total=raw.get("max_total"), data=raw,
    )


@cache
def _registry() -> dict[str, Instrument]:
    return {code: _load(code) for code in CODES}


class _Registry(Mapping[str, Instrument]):
    """INSTRUMENTS["phq9"] -> Instrument (items with text and options, bands, sources)."""

    def __getitem__(self, key: str) -> Instrument:
        return _registry()[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(_registry())

    def __len__(self) -> int:
        return len(_registry())


INSTRUMENTS: Mapping[str, Instrument] = _Registry()


def get(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except KeyError:
        raise ScoringError(
            {"instrument": f"Unknown instrument {code!r}; choose one of {', '.join(CODES)}."}
        ) from None


def _coerce(item: Item, raw: Any, yes_no: bool) -> int:
    """One answer as an int, or ValueError with a message naming the allowed values."""
    if isinstance(raw, bool):
        value = int(raw)
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip():
        word = raw.strip().lower()
        if yes_no and word in _YES:
            value = 1
        elif yes_no and word in _NO:
            value = 0
        else:
            try:
                value = int(word)
            except ValueError:
                raise ValueError(_allowed(item, yes_no)) from None
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    else:
        raise ValueError(_allowed(item, yes_no))
    if value not in item.values:
        raise ValueError(_allowed(item, yes_no))
    return value


def _allowed(item: Item, yes_no: bool) -> str:
    if yes_no:
        return f"question {item.number} must be answered yes or no."
    low, high = min(item.values), max(item.values)
    return f"question {item.number} must be a whole number from {low} to {high}."


def _normalize(inst: Instrument, answers: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    if isinstance(answers, Mapping):
        raw = dict(answers)
    elif isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        ids = inst.item_ids
        if len(answers) > len(ids):
            raise ScoringError({"answers": f"{inst.name} has {len(ids)} questions; "
                                f"{len(answers)} answers were given."})
        raw = dict(zip(ids, answers, strict=False))
    else:
        raise ScoringError({"answers": "Answers must be a mapping of item id to value or a list."})
    unknown = sorted(set(raw) - set(inst.item_ids))
    if unknown:
        raise ScoringError({k: f"{inst.name} has no item {k!r}." for k in unknown})
    return raw


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(inst: Instrument, answers: Mapping[str, Any] | Sequence[Any],
           *, required: Sequence[str]) -> dict[str, int]:
    raw = _normalize(inst, answers)
    yes_no = inst.is_yes_no
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for item in inst.items:
        value = raw.get(item.id)
        if _is_blank(value):
            if item.id in required:
                errors[item.id] = f"question {item.number} is missing; every answer is needed."
            continue
        try:
            values[item.id] = _coerce(item, value, yes_no)
        except ValueError as exc:
            errors[item.id] = str(exc)
    if errors:
        raise ScoringError(errors)
    return values


def _band_for(inst: Instrument, total: int) -> Band:
    for band in inst.bands:
        if band.min is not None and band.max is not None and band.min <= total <= band.max:
            return band
    raise AssertionError(f"{inst.code}: no band covers {total}")  # data file is wrong


def _flag(inst: Instrument, code: str) -> Flag:
    rule = inst.flag_rules[code]
    return Flag(code=code, level=rule["level"], message=rule["message"], source=rule["source"],
                safety=bool(rule.get("safety")), imminent=bool(rule.get("imminent")))


def _sum_score(inst: Instrument, values: dict[str, int]) -> int:
    total = 0
    for item in inst.items:
        v = values[item.id]
        # DAST-10 question 3 is reversed: "no" scores 1 (see dast10.json reverse_source).
        total += (1 - v) if item.reverse else v
    return total


def _score_phq9(inst: Instrument, answers: Any, sex: str | None) -> ScoreResult:
    values = _parse(inst, answers, required=inst.item_ids)
    total = _sum_score(inst, values)
    band = _band_for(inst, total)
    flags = []
    # Item 9 above 0 -> safety flag regardless of the total (phq9.json flags.self_harm_thoughts).
    if values["q9"] > 0:
        flags.append(_flag(inst, "self_harm_thoughts"))
    # >= 10: probable major depression (Kroenke 2001).
    if total >= 10:
        flags.append(_flag(inst, "probable_major_depression"))
    return ScoreResult(inst.code, total, band.code, band.label, tuple(flags), values)


def _score_gad7(inst: Instrument, answers: Any, sex: str | None) -> ScoreResult:
    values = _parse(inst, answers, required=inst.item_ids)
    total = _sum_score(inst, values)
    band = _band_for(inst, total)
    flags = [_flag(inst, "probable_anxiety_disorder")] if total >= 10 else []  # Spitzer 2006
    return ScoreResult(inst.code, total, band.code, band.label, tuple(flags), values)


SEXES = ("female", "male")


def _score_auditc(inst: Instrument, answers: Any, sex: str | None) -> ScoreResult:
    if sex not in (None, "", *SEXES):
        raise ScoringError({"sex": "sex must be 'female', 'male' or left out."})
    values = _parse(inst, answers, required=inst.item_ids)
    total = _sum_score(inst, values)
    cutoffs = inst.data["cutoffs"]
    # Men >= 4, women >= 3; not stated -> the lower cut-off (auditc.json cutoffs_source).
    cutoff = cutoffs[sex] if sex else cutoffs["unstated"]
    flags = []
    positive = total >= cutoff
    if positive:
        flags.append(_flag(inst, "positive_screen"))
        if values["q1"] == total:
            flags.append(_flag(inst, "q1_only"))
    if not sex:
        flags.append(_flag(inst, "cutoff_assumed"))
    band = inst.band("positive" if positive else "negative")
    return ScoreResult(inst.code, total, band.code, band.label, tuple(flags), values)


def _score_dast10(inst: Instrument, answers: Any, sex: str | None) -> ScoreResult:
    values = _parse(inst, answers, required=inst.item_ids)
    total = _sum_score(inst, values)
    band = _band_for(inst, total)
    flags = [_flag(inst, "further_assessment")] if total >= 3 else []
    return ScoreResult(inst.code, total, band.code, band.label, tuple(flags), values)


def _score_cssrs(inst: Instrument, answers: Any, sex: str | None) -> ScoreResult:
    # Skip logic (cssrs.json flow_source): Q1, Q2 and Q6 always; Q3-Q5 only when Q2 is yes;
    # the "past 3 months" follow-up only when Q6 is yes.
    raw = _normalize(inst, answers)
    first = _parse(inst, {k: raw.get(k) for k in ("q1", "q2", "q6")},
                   required=("q1", "q2", "q6"))
    required = ["q1", "q2", "q6"]
    if first["q2"] == 1:
        required += ["q3", "q4", "q5"]
    if first["q6"] == 1:
        required.append("q6_recent")
    values = _parse(inst, raw, required=required)
    # Answers that contradict the skip logic (question 2 "no" but question 3, 4 or 5 "yes";
    # question 6 "no" but "yes" to the past 3 months) are kept, never discarded: the
    # endorsed item counts toward triage, and a flag asks the clinician to confirm them
    # with the person (cssrs.json flags.answers_to_confirm).
    contradictions = [k for k in ("q3", "q4", "q5") if first["q2"] == 0 and values.get(k)]
    if first["q6"] == 0 and values.get("q6_recent"):
        contradictions.append("q6_recent")
    # Triage by the highest item endorsed, never a sum (cssrs.json bands_source): any
    # recent "yes" to question 4 or 5, or recent behavior, is high risk whatever the
    # other answers were.
    if values.get("q4") or values.get("q5") or values.get("q6_recent"):
        level = "high"
    elif values.get("q3") or values.get("q6"):
        level = "moderate"
    elif values.get("q1") or values.get("q2"):
        level = "low"
    else:
        level = "none"
    flags = [] if level == "none" else [_flag(inst, f"suicide_risk_{level}")]
    if contradictions:
        numbers = ", ".join(str(inst.item(k).number) for k in contradictions)
        rule = inst.flag_rules["answers_to_confirm"]
        flags.append(Flag(code="answers_to_confirm", level=rule["level"],
                          message=rule["message"].format(items=numbers),
                          source=rule["source"]))
    band = inst.band(level)
    return ScoreResult(inst.code, None, band.code, band.label, tuple(flags), values)


_SCORERS = {
    "phq9": _score_phq9,
    "gad7": _score_gad7,
    "auditc": _score_auditc,
    "dast10": _score_dast10,
    "cssrs": _score_cssrs,
}


def score(
    instrument_code: str,
    answers: Mapping[str, Any] | Sequence[Any],
    *,
    sex: str | None = None,
) -> ScoreResult:
    """Score one completed instrument.

    `answers` maps item ids ("q1"...) to values, or lists values in item order. Yes/no
    items take booleans, 0/1 or "yes"/"no". `sex` ("female"/"male") sets the AUDIT-C
    cut-off. Raises ScoringError naming each missing or out-of-range item.
    """
    inst = get(instrument_code)
    return _SCORERS[inst.code](inst, answers, sex)


__all__ = [
    "CODES", "INSTRUMENTS", "Band", "Flag", "Instrument", "Item", "ScoreResult", "ScoringError",
    "get", "score",
]


def score_partial_safety(code: str, answers: Mapping[str, Any] | Sequence[Any]) -> ScoreResult | None:
    """The safety flag an incomplete form already shows, or None.

    A PHQ-9 with item 9 above 0 needs follow-up whatever the other answers are
    (phq9.json flags.self_harm_thoughts), so it is not lost because item 4 was skipped.
    There is no total and no band (`total` None, band "partial"); answers given are
    checked (an out-of-range answer raises ScoringError), missing ones are allowed.
    """
    if code != "phq9":
        return None
    inst = get(code)
    values = _parse(inst, answers, required=())
    if values.get("q9", 0) <= 0:
        return None
    return ScoreResult(inst.code, None, "partial", "Partial (not all items answered)",
                       (_flag(inst, "self_harm_thoughts"),), values)
