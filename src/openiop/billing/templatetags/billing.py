"""Template tags other apps use to show billing facts in general terms."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def program_cost(program: Any) -> str:
    """One sentence on what a program accepts and its self-pay range ('' when unknown)."""
    if program is None:
        return ""
    from ..reports import program_cost_summary

    return program_cost_summary(program)
