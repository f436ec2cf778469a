"""Read queries for outcome charts and program dashboards."""

from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import TYPE_CHECKING, Any

from django.db.models import Count

from openiop.care.models import EpisodeOfCare, Program
from openiop.intake.instruments import INSTRUMENTS
from openiop.intake.models import MeasureResponse, Referral

from .rules import SOURCES, Point, evaluate

if TYPE_CHECKING:
    from openiop.participants.models import Participant

CHARTED = ("phq9", "gad7", "auditc", "dast10")


def participant_series(participant: Participant) -> dict[str, list[MeasureResponse]]:
    """Final responses per instrument, oldest first (one query)."""
    series: dict[str, list[MeasureResponse]] = defaultdict(list)
    rows = MeasureResponse.objects.filter(
        participant=participant, status=MeasureResponse.Status.FINAL
    ).order_by("completed_at")
    for row in rows:
        series[row.instrument].append(row)
    return series


def chart_spec(instrument: str, rows: list[MeasureResponse]) -> tuple[dict[str, Any], Any]:
    """A {% chart %} spec: totals over time, severity bands shaded, outcome markers."""
    inst = INSTRUMENTS[instrument]
    outcome = evaluate(instrument, [Point(r.completed_at.date(), r.total or 0) for r in rows])
    top = inst.max_total or 0
    bands = []
    if instrument == "auditc":
        # AUDIT-C bands are screen results, not ranges; shade from the women's cut-off.
        bands = [{"from": 0, "to": 3, "label": "below cut-off", "color": "#eef7ef"},
                 {"from": 3, "to": top, "label": "positive (women 3+, men 4+)",
                  "color": "#fdecea"}]
    else:
        for band in inst.bands:
            bands.append({"from": band.min,
                          "to": top if band.max is None else min(band.max + 1, top),
                          "label": band.label,
                          "color": band.color})
    return {
        "type": "line",
        "labels": [r.completed_at.strftime("%b %-d") for r in rows],
        "datasets": [{"label": inst.name, "data": [r.total for r in rows], "color": "#0f5e73"}],
        "bands": bands,
        "markers": [{"index": m.index, "label": m.label,
                     "color": "#b3261e" if m.kind == "reliable_worsening" else "#1b5e20"}
                    for m in outcome.markers],
        "y": {"min": 0, "max": top, "title": f"{inst.name} total"},
    }, outcome


def participant_charts(participant: Participant) -> list[dict[str, Any]]:
    out = []
    series = participant_series(participant)
    for code in CHARTED:
        rows = series.get(code, [])
        if not rows:
            continue
        spec, outcome = chart_spec(code, rows)
        out.append({"instrument": INSTRUMENTS[code], "rows": rows, "spec": spec,
                    "outcome": outcome})
    return out


def program_dashboard(organization_id: int) -> list[dict[str, Any]]:
    """Per program: episodes, PHQ-9/GAD-7 response, remission and reliable change rates,
    and the spread of latest PHQ-9 bands among open episodes."""
    programs = list(Program.objects.filter(organization_id=organization_id).order_by("name"))
    episodes = dict(EpisodeOfCare.objects.filter(program__organization_id=organization_id)
                    .values_list("pk", "program_id"))
    open_eps = set(EpisodeOfCare.objects.filter(
        program__organization_id=organization_id, status__in=EpisodeOfCare.OPEN_STATUSES,
    ).values_list("pk", flat=True))
    series: dict[tuple[int, str], list[Point]] = defaultdict(list)
    latest_band: dict[int, str] = {}
    rows = (MeasureResponse.objects.filter(
        episode_id__in=list(episodes), instrument__in=("phq9", "gad7"),
        status=MeasureResponse.Status.FINAL)
        .order_by("completed_at").values_list("episode_id", "instrument", "total", "band",
                                              "completed_at"))
    for ep_id, instrument, total, band, when in rows.iterator(chunk_size=5000):
        series[(ep_id, instrument)].append(Point(when.date(), total or 0))
        if instrument == "phq9":
            latest_band[ep_id] = band
    stats: dict[int, dict[str, Any]] = {
        p.pk: {"program": p, "episodes": 0, "open": 0, "phq9": _blank(), "gad7": _blank(),
               "bands": defaultdict(int)} for p in programs}
    for ep_id, program_id in episodes.items():
        s = stats[program_id]
        s["episodes"] += 1
        if ep_id in open_eps:
            s["open"] += 1
            if ep_id in latest_band:
                s["bands"][latest_band[ep_id]] += 1
    for (ep_id, instrument), points in series.items():
        outcome = evaluate(instrument, points)
        bucket = stats[episodes[ep_id]][instrument]
        if len(points) < 2:
            continue
        bucket["measured"] += 1
        bucket["changes"].append(outcome.change)
        if outcome.eligible:
            bucket["eligible"] += 1
            bucket["response"] += outcome.response
            bucket["remission"] += outcome.remission
        bucket["reliable"] += outcome.reliable_improvement
    phq_bands = INSTRUMENTS["phq9"].bands
    result = []
    for p in programs:
        s = stats[p.pk]
        for code in ("phq9", "gad7"):
            b = s[code]
            b["mean_change"] = (round(sum(b["changes"]) / len(b["changes"]), 1)
                                if b["changes"] else None)
            b["response_pct"] = _pct(b["response"], b["eligible"])
            b["remission_pct"] = _pct(b["remission"], b["eligible"])
            b["reliable_pct"] = _pct(b["reliable"], b["measured"])
        s["band_chart"] = {
            "type": "bar", "labels": [b.label for b in phq_bands],
            "datasets": [{"label": "Open episodes", "data": [s["bands"].get(b.code, 0)
                                                             for b in phq_bands],
                          "colors": ["#7cb342", "#c0ca33", "#fbc02d", "#fb8c00", "#e53935"]}],
            "y": {"title": "Participants by latest PHQ-9"},
        }
        result.append(s)
    return result


def referral_funnel(organization_id: int) -> dict[str, Any]:
    counts = dict(Referral.objects.filter(organization_id=organization_id)
                  .values_list("status").annotate(n=Count("pk")))
    days = [
        (closed - received).total_seconds() / 86400
        for received, closed in Referral.objects.filter(
            organization_id=organization_id, status=Referral.Status.ADMITTED,
            closed_at__isnull=False).values_list("received_at", "closed_at")
        if received is not None and closed is not None
    ]
    return {"counts": [(label, counts.get(code, 0)) for code, label in Referral.Status.choices],
            "median_days": round(median(days), 1) if days else None, "admitted": len(days)}


def _blank() -> dict[str, Any]:
    return {"measured": 0, "eligible": 0, "response": 0, "remission": 0, "reliable": 0,
            "changes": []}


def _pct(n: int, d: int) -> int | None:
    return round(100 * n / d) if d else None


RULE_SOURCES = SOURCES
