"""Measurement-based care rules over a score series: response, remission, reliable change.

Pure Python. Sources (background in docs/clinical-rules.md, "Measurement-based care"):
- Response = a drop of at least 50% from baseline; remission = PHQ-9 below 5; both used
  with a baseline PHQ-9 of 10 or more. Psychiatric Services 2020,
  doi:10.1176/appi.ps.201900295 (http://ps.psychiatryonline.org/doi/full/10.1176/appi.ps.201900295);
  Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16:606-613 (score below 5 =
  minimal depression).
- GAD-7 remission below 5 and response 50% apply the same convention to the GAD-7, whose
  cut point 5 separates minimal from mild anxiety (Spitzer RL, Kroenke K, Williams JB,
  Lowe B. Arch Intern Med 2006;166:1092-1097). Using the PHQ-9 convention for the GAD-7 is
  OpenIOP's program default.
- PHQ-9 change threshold: the individual minimal clinically important difference is about
  5 points (2 SEM). Lowe B, Unutzer J, Callahan CM, Perkins AJ, Kroenke K. Monitoring
  depression treatment outcomes with the Patient Health Questionnaire-9. Med Care
  2004;42:1194-1201. No GAD-7 change threshold has been adopted from a source yet, so none
  is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

RULES: dict[str, dict[str, object]] = {
    "phq9": {"baseline_min": 10, "remission_below": 5, "reliable_change": 5},
    "gad7": {"baseline_min": 10, "remission_below": 5, "reliable_change": None},
}
RESPONSE_DROP = 0.5

SOURCES = {
    "response": "At least a 50% drop from a baseline of 10 or more. "
    "http://ps.psychiatryonline.org/doi/full/10.1176/appi.ps.201900295",
    "remission": "PHQ-9 below 5 (GAD-7 below 5). "
    "http://ps.psychiatryonline.org/doi/full/10.1176/appi.ps.201900295",
    "reliable_change": "PHQ-9 change of 5 points or more (about 2 SEM): Lowe B, Unutzer J, "
    "Callahan CM, Perkins AJ, Kroenke K. Med Care 2004;42:1194-1201. "
    "https://doi.org/10.1097/00005650-200412000-00006",
}


@dataclass(frozen=True)
class Point:
    on: date
    total: int


@dataclass(frozen=True)
class Marker:
    index: int
    kind: str  # response | remission | reliable_improvement | reliable_worsening
    label: str


@dataclass(frozen=True)
class Outcome:
    baseline: int | None
    latest: int | None
    change: int | None
    response: bool
    remission: bool
    reliable_improvement: bool
    reliable_worsening: bool
    eligible: bool  # baseline high enough for response/remission to mean something
    markers: tuple[Marker, ...]


def evaluate(instrument: str, series: Sequence[Point]) -> Outcome:
    """Classify a series (oldest first; the first point is the baseline)."""
    rules = RULES.get(instrument)
    if not series or rules is None:
        latest = series[-1].total if series else None
        base = series[0].total if series else None
        return Outcome(base, latest, None if base is None else latest - base, False, False,
                       False, False, False, ())
    baseline = series[0].total
    eligible = baseline >= int(rules["baseline_min"])  # type: ignore[arg-type]
    rc = rules["reliable_change"]
    markers: list[Marker] = []
    seen: set[str] = set()
    for i, point in enumerate(series[1:], start=1):
        found = []
        if eligible and point.total <= baseline * RESPONSE_DROP:
            found.append(("response", "Response"))
        if eligible and point.total < int(rules["remission_below"]):  # type: ignore[arg-type]
            found.append(("remission", "Remission"))
        if rc is not None and baseline - point.total >= int(rc):  # type: ignore[arg-type]
            found.append(("reliable_improvement", "Reliable change"))
        if rc is not None and point.total - baseline >= int(rc):  # type: ignore[arg-type]
            found.append(("reliable_worsening", "Reliable worsening"))
        new = [(k, lab) for k, lab in found if k not in seen]
        if new:
            markers.append(Marker(i, new[0][0], " + ".join(lab for _, lab in new)))
            seen.update(k for k, _ in new)
    latest = series[-1].total
    return Outcome(
        baseline=baseline, latest=latest, change=latest - baseline,
        response=eligible and len(series) > 1 and latest <= baseline * RESPONSE_DROP,
        remission=eligible and len(series) > 1
        and latest < int(rules["remission_below"]),  # type: ignore[arg-type]
        reliable_improvement=rc is not None and len(series) > 1
        and baseline - latest >= int(rc),  # type: ignore[arg-type]
        reliable_worsening=rc is not None and latest - baseline >= int(rc),  # type: ignore[arg-type]
        eligible=eligible, markers=tuple(markers),
    )
