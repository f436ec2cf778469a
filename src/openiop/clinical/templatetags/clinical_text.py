"""{% load clinical_text %}: `{{ words|quoted }}` puts a participant's words in one pair of
curly quotes."""

from __future__ import annotations

from django import template

from ..text import quoted as quote_words

register = template.Library()


@register.filter
def quoted(value: object) -> str:
    return quote_words(value)


@register.filter
def objective_badge(status: object) -> str:
    """The badge class for an objective's status in a plan snapshot (a dict, so the
    status_is filter cannot tell its model): compared with the enum here, where a misspelt
    member fails at import instead of never matching in the template."""
    from ..models.plans import TreatmentObjective

    badges: dict[str, str] = {TreatmentObjective.Status.MET: "badge-ok",
                              TreatmentObjective.Status.OPEN: "badge-info"}
    return badges.get(str(status), "")
