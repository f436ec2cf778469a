"""{% load clinical_text %}: `{{ words|quoted }}` puts a participant's words in one pair of
curly quotes."""

from __future__ import annotations

from django import template

from ..text import quoted as quote_words

register = template.Library()


@register.filter
def quoted(value: object) -> str:
    return quote_words(value)
