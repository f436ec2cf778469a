"""Charge rules: one participant's attended, documented services on one day -> charge lines.

Pure logic (no database). The rules themselves are data with their sources in
data/charge_rules.json; this module only applies them. See docs/billing.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


@cache
def charge_rules() -> dict[str, Any]:
    return json.loads((DATA / "charge_rules.json").read_text())


@dataclass(frozen=True)
class Service:
    """One attended session of the day."""

    session_id: int
    kind: str  # scheduling.SessionKind value
    minutes: int  # minutes attended (late arrival / leaving early already taken off)
    provider_id: int | None
    note_id: int | None
    note_signed: bool
    family_present_with_patient: bool = True


@dataclass(frozen=True)
class Line:
    claim_type: str
    hcpcs: str
    revenue_code: str
    units: int
    minutes: int
    rule: str
    session_id: int | None
    note_id: int | None
    provider_id: int | None
    key: str  # what makes this line unique for the participant and day


@dataclass
class DayResult:
    lines: list[Line] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # plain-words reasons
    tier: str = ""


def _band(bands: list[dict[str, Any]], minutes: int, key: str = "code") -> str:
    for band in bands:
        if band["min"] <= minutes <= band["max"]:
            return band[key]
    return ""


def em_code(minutes: int) -> str:
    """The established-patient office E/M code whose time threshold the minutes meet."""
    code = ""
    for band in charge_rules()["professional"]["em"]:
        if minutes >= band["min"]:
            code = band["code"]
    return code


def psychotherapy_code(minutes: int, *, with_em: bool) -> str:
    return _band(charge_rules()["professional"]["psychotherapy"], minutes,
                 "addon" if with_em else "code")


def _professional_line(svc: Service, *, with_em_providers: set[int | None],
                       revenue_code: str = "", claim_type: str = "P",
                       prefix: str = "professional") -> tuple[Line | None, str]:
    pro = charge_rules()["professional"]
    kind = svc.kind
    if kind == "individual":
        with_em = svc.provider_id in with_em_providers
        code = psychotherapy_code(svc.minutes, with_em=with_em)
        if not code:
            return None, f"individual session of {svc.minutes} min is under the 16 minutes " \
                         "a psychotherapy code needs"
        rule = f"{prefix}:psychotherapy{'+E/M add-on' if with_em else ''}"
    elif kind == "family":
        if svc.minutes < pro["family"]["min"]:
            return None, f"family session of {svc.minutes} min is under the 26 minutes " \
                         "90846/90847 need"
        code = pro["family"]["with_patient" if svc.family_present_with_patient
                             else "without_patient"]
        rule = f"{prefix}:family"
    elif kind == "medication":
        code = em_code(svc.minutes)
        if not code:
            return None, f"medication visit of {svc.minutes} min is under the 10 minutes 99212 needs"
        rule = f"{prefix}:E/M by time"
    elif kind == "group" and claim_type == "P":
        code, rule = pro["group"]["code"], f"{prefix}:group"
    else:
        return None, ""
    return Line(claim_type, code, revenue_code, 1, svc.minutes, rule, svc.session_id,
                svc.note_id, svc.provider_id, f"s{svc.session_id}:{code}"), ""


def _documented(services: list[Service], result: DayResult) -> list[Service]:
    kept = []
    for svc in services:
        if not svc.note_signed:
            result.skipped.append(f"{svc.kind} session has no signed note")
        elif svc.minutes <= 0:
            result.skipped.append(f"{svc.kind} session has no attended minutes")
        else:
            kept.append(svc)
    return kept


def _em_providers(services: list[Service]) -> set[int | None]:
    """Providers with a billable E/M that day: their psychotherapy becomes the add-on code."""
    return {s.provider_id for s in services if s.kind == "medication" and em_code(s.minutes)}


def medicare_day_tier(count: int) -> str:
    """The Medicare IOP payment tier of a day with `count` IOP services, in words."""
    spec = charge_rules()["medicare_iop"]
    if not count:
        return ""
    if count < spec["min_services_per_day"]:
        return f"{count} service{'s' if count > 1 else ''}: below the 3 a paid IOP day needs"
    label = ""
    for tier in spec["day_tiers"]:
        if count >= tier["min_services"]:
            label = tier["label"]
    return label


def day_lines(*, rule_set: str, focus: str, services: list[Service], per_diem_code: str = "",
              min_minutes_per_day: int = 0) -> DayResult:
    result = DayResult()
    services = _documented(services, result)
    if not services:
        return result
    em_providers = _em_providers(services)
    rules = charge_rules()
    if rule_set == "medicare_iop":
        spec = rules["medicare_iop"]
        revenue = spec["revenue_code_by_focus"].get(focus, "0905")
        for svc in services:
            target = spec["service_codes"].get(svc.kind, "")
            if target in ("psychotherapy_by_time", "family"):
                line, why = _professional_line(svc, with_em_providers=set(), revenue_code=revenue,
                                               claim_type="I", prefix="medicare_iop")
            elif target == "em_by_time":
                # The psychiatrist's visit is a professional claim (837P).
                line, why = _professional_line(svc, with_em_providers=em_providers)
            elif target:
                line = Line("I", target, revenue, 1, svc.minutes, f"medicare_iop:{svc.kind}",
                            svc.session_id, svc.note_id, svc.provider_id,
                            f"s{svc.session_id}:{target}")
                why = ""
            else:
                line, why = None, f"{svc.kind} is not an IOP service"
            if line:
                result.lines.append(line)
            elif why:
                result.skipped.append(why)
        result.tier = medicare_day_tier(sum(1 for ln in result.lines if ln.claim_type == "I"))
    elif rule_set in ("per_diem", "self_pay"):
        spec = rules["per_diem"]
        total = sum(s.minutes for s in services if s.kind != "medication")
        code = per_diem_code or ("H0015" if focus == "su" else "S9480")
        if total >= min_minutes_per_day:
            result.lines.append(Line(
                "I" if rule_set == "per_diem" else "P", code,
                spec["revenue_code_by_per_diem"].get(code, "0905"), spec["units_per_day"], total,
                f"{rule_set}:{code} day of {total} min (minimum {min_minutes_per_day})",
                None, None, None, f"day:{code}"))
        else:
            result.skipped.append(f"day of {total} min is below the payer's minimum of "
                                  f"{min_minutes_per_day} min for a per-diem day")
        if rule_set == "per_diem":
            for svc in services:
                if svc.kind == "medication":
                    line, why = _professional_line(svc, with_em_providers=em_providers)
                    if line:
                        result.lines.append(line)
                    elif why:
                        result.skipped.append(why)
    elif rule_set == "professional":
        for svc in services:
            line, why = _professional_line(svc, with_em_providers=em_providers)
            if line:
                result.lines.append(line)
            else:
                result.skipped.append(why or f"{svc.kind} is not billed professionally")
    else:
        raise ValueError(f"unknown rule set {rule_set!r}")
    return result


def rate_for(code: str, *, payer_rates: dict[str, str], clinic_rates: dict[str, str]) -> Decimal:
    for table in (payer_rates, clinic_rates, charge_rules()["default_rates"]):
        if code in table:
            return Decimal(str(table[code]))
    return Decimal("0.00")
