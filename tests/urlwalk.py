"""Find every participant-scoped URL in the project.

Convention (ARCHITECTURE.md access rules): every page or endpoint about one participant
has `participants/<uuid:code>` in its route, whichever app owns it. The isolation test
walks all of them as a user of another organization.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

PARTICIPANT_ROUTE = "participants/<uuid:code>"


def _walk(patterns: list, prefix: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def participant_routes() -> list[str]:
    return sorted({r for r in _walk(get_resolver().url_patterns) if PARTICIPANT_ROUTE in r})


def fill(route: str, code: str) -> str:
    """Turn a route into a URL: the participant code, 1 for ints, a UUID for other uuids."""
    url = route.replace("<uuid:code>", code)
    url = re.sub(r"<int:[^>]+>", "1", url)
    url = re.sub(r"<uuid:[^>]+>", "00000000-0000-4000-8000-000000000000", url)
    url = re.sub(r"<(str|slug|path):[^>]+>", "x", url)
    url = re.sub(r"<[^>]+>", "x", url)
    url = url.replace("^", "").replace("$", "")
    return "/" + url.lstrip("/")
