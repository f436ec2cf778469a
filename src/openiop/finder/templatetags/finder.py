"""Template filters that turn the finder's codes into the words people read."""

from __future__ import annotations

from django import template

from openiop.finder import vocab

register = template.Library()


@register.filter
def vocab_labels(codes: list[str] | None, vocabulary: str) -> str:
    """`listing.payment|vocab_labels:"payment"` -> "Medicaid, Medicare"."""
    names = vocab.VOCABULARIES.get(vocabulary, {})
    return ", ".join(names.get(c, c) for c in codes or [])


@register.filter
def focus_label(listing: object) -> str:
    return vocab.FOCUS.get(getattr(listing, "focus", ""), "")
