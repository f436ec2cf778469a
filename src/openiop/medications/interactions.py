"""Interaction rules (no database): which warnings a new or changed order raises.

The rules are data (`data/interactions.json`, each with severity, mechanism, what to do
and its source). A medication is described by its tags: the catalog entry's class flags,
`ing:<ingredient>` per ingredient, and `alcohol_containing` for an alcohol-containing
preparation. A free-text order that matches no catalog entry has no tags: it is shown as
"not checked for interactions" rather than silently passing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import rules


@dataclass(frozen=True)
class MedFacts:
    """What the interaction rules need to know about one medication on the list."""

    ref: str  # an id to tell medications apart (an order code, or "new")
    name: str
    tags: frozenset[str]

    @property
    def checked(self) -> bool:
        return bool(self.tags - {"alcohol_containing"})


@dataclass(frozen=True)
class Warning:
    rule_id: str
    title: str
    severity: str
    mechanism: str
    action: str
    source: str
    medications: tuple[str, ...] = field(default=())

    @property
    def message(self) -> str:
        return f"{self.mechanism} What to do: {self.action}"

    @property
    def involved(self) -> str:
        return " + ".join(self.medications)


def facts_for(*, ref: str, name: str, catalog_key: str = "", contains_alcohol: bool = False,
              label: str = "") -> MedFacts:
    """Facts for an order; `label` (e.g. "stopped Jan 3, still active") is added to the name."""
    entry = rules.catalog().get(catalog_key) if catalog_key else None
    tags = set(entry.tags) if entry else set()
    if contains_alcohol:
        tags.add("alcohol_containing")
    return MedFacts(ref=ref, name=f"{name} ({label})" if label else name, tags=frozenset(tags))


def _pair_partners(rule: dict[str, Any], candidate: MedFacts, others: list[MedFacts]
                   ) -> list[str]:
    a, b, b_not = set(rule["a"]), set(rule["b"]), set(rule.get("b_not", []))
    partners: list[str] = []
    if candidate.tags & a:
        partners += [o.name for o in others if o.tags & b and not o.tags & b_not]
    if candidate.tags & b and not candidate.tags & b_not:
        partners += [o.name for o in others if o.tags & a]
    return partners


def interaction_warnings(candidate: MedFacts, others: Iterable[MedFacts]) -> list[Warning]:
    """Warnings that involve the candidate medication together with the others.

    Only combinations that include the candidate fire, so adjusting an unrelated order
    does not re-raise a warning already acknowledged for another one.
    """
    others = [o for o in others if o.ref != candidate.ref]
    warnings: list[Warning] = []
    for rule in rules.interaction_rules():
        kind = rule["kind"]
        if kind == "pair":
            partners = _pair_partners(rule, candidate, others)
            if partners:
                warnings.append(_warning(rule, (candidate.name, *dict.fromkeys(partners))))
        elif kind == "count":
            flag = rule["flag"]
            with_flag = [m.name for m in (candidate, *others) if flag in m.tags]
            if flag in candidate.tags and len(with_flag) >= rule["min_count"]:
                warnings.append(_warning(rule, tuple(dict.fromkeys(with_flag))))
        elif kind == "single" and rule["flag"] in candidate.tags:
            warnings.append(_warning(rule, (candidate.name,)))
    superseded = {s for w in warnings for s in _rule(w.rule_id).get("supersedes", [])}
    return [w for w in warnings if w.rule_id not in superseded]


def _rule(rule_id: str) -> dict[str, Any]:
    return next(r for r in rules.interaction_rules() if r["id"] == rule_id)


def _warning(rule: dict[str, Any], involved: tuple[str, ...]) -> Warning:
    return Warning(rule_id=rule["id"], title=rule["title"], severity=rule["severity"],
                   mechanism=rule["mechanism"], action=rule["action"], source=rule["source"],
                   medications=involved)
