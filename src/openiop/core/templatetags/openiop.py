"""Template tags shared by every app."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.html import format_html, json_script

register = template.Library()


@register.simple_tag
def chart(chart_id: str, spec: dict[str, Any], label: str, caption: str = "") -> str:
    """A Chart.js chart from a JSON spec, drawn by static/openiop/charts.js.

    spec = {"type": "line"|"bar", "labels": [...], "datasets": [{"label", "data", "color"}],
            "bands": [{"from": 0, "to": 4, "label": "minimal", "color": "#e8f5e9"}],
            "markers": [{"index": 3, "label": "response"}], "y": {"min": 0, "max": 27,
            "title": "PHQ-9"}, "threshold": {"value": 9, "label": "9 h minimum"}}
    A table of the same data follows for screen readers and printing.
    """
    script = json_script(spec, f"{chart_id}-spec")
    rows = ""
    labels = spec.get("labels", [])
    datasets = spec.get("datasets", [])
    if labels and datasets:
        head = "".join(format_html("<th scope='col'>{}</th>", d.get("label", "")) for d in datasets)
        body = []
        for i, lab in enumerate(labels):
            cells = "".join(
                format_html("<td>{}</td>", "" if i >= len(d.get("data", [])) or d["data"][i] is None
                            else d["data"][i])
                for d in datasets
            )
            body.append(format_html("<tr><th scope='row'>{}</th>{}</tr>", lab, _safe(cells)))
        rows = format_html(
            "<details class='chart-table'><summary>Show the numbers</summary>"
            "<table class='table table-compact'><thead><tr><th scope='col'></th>{}</tr></thead>"
            "<tbody>{}</tbody></table></details>",
            _safe(head), _safe("".join(body)),
        )
    return format_html(
        "<figure class='chart'><div class='chart-canvas'><canvas id='{}' role='img' "
        "aria-label='{}' data-chart-spec='{}-spec'></canvas></div>{}{}{}</figure>",
        chart_id, label, chart_id, script,
        format_html("<figcaption>{}</figcaption>", caption) if caption else "",
        rows,
    )


def _safe(html: str) -> Any:
    from django.utils.safestring import mark_safe

    return mark_safe(html)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def as_json(value: Any) -> str:
    return json.dumps(value)


@register.filter
def minutes_as_hours(minutes: int | None) -> str:
    if not minutes:
        return "0 h"
    hours, rest = divmod(int(minutes), 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


@register.simple_tag
def idempotency_key() -> str:
    """A hidden field with a fresh key: submitting this form twice saves it once
    (core/idempotency.py)."""
    import uuid

    from django.utils.html import format_html

    return format_html('<input type="hidden" name="_idem" value="{}">', uuid.uuid4())


def allowed_statuses(obj: Any) -> frozenset[str]:
    """The statuses `obj` can have: its model's `status` choices, or the enum its `status`
    is a member of (a derived status such as skills' Delivery)."""
    from enum import Enum

    meta = getattr(type(obj), "_meta", None)
    if meta is not None:
        choices = meta.get_field("status").choices
        if choices:
            return frozenset(str(value) for value, _label in choices)
    status = getattr(obj, "status", None)
    if isinstance(status, Enum):
        return frozenset(str(member.value) for member in type(status))
    raise TypeError(f"status_is: {type(obj).__name__} has no declared statuses")


@register.filter
def status_is(obj: Any, wanted: str) -> bool:
    """`{% if note|status_is:"signed" %}`: whether `obj.status` is one of the statuses named
    (several: space-separated, `"declined referred_elsewhere"`).

    Templates compare statuses through this filter, never `note.status == "signed"`: a
    misspelt status there silently never matches. Here it raises ValueError when rendered
    (except where `{% if %}`'s and/or/not swallow errors), and
    tests/core/test_template_statuses.py checks every status named in a template against
    the statuses the models and enums declare."""
    if obj is None or obj == "":
        return False
    names = wanted.split()
    unknown = [name for name in names if name not in allowed_statuses(obj)]
    if unknown or not names:
        raise ValueError(f"status_is: {unknown or wanted!r} is not a status of "
                         f"{type(obj).__name__}")
    return str(getattr(obj, "status", "")) in names
