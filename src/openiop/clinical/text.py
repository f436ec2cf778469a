"""Small text helpers shared by the plan pages and the PDFs."""

from __future__ import annotations

from typing import Any

# Straight, curly, low-9 and angle quotation marks.
QUOTE_MARKS = "\"'\u201c\u201d\u201e\u201f\u2018\u2019\u201a\u201b\u00ab\u00bb\u2039\u203a"


def quoted(text: Any) -> str:
    """A participant's words between one pair of curly quotes: quotes they typed around
    the words themselves are dropped first, so a statement never shows ““…””."""
    return f"“{str(text or '').strip().strip(QUOTE_MARKS).strip()}”"
