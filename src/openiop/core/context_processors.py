"""Template context shared by every page."""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .navigation import STAFF_NAV
from .sessions import idle_limit_seconds

# A participant-scoped page (a chart tab such as /medications/participants/<code>/) belongs
# to the Participants section whichever app serves it.
_CHART_PATH = re.compile(r"^/[^/]+/participants/[0-9a-f-]{36}/")


def _section_of(path: str) -> str:
    return "/participants/" if _CHART_PATH.match(path) else path


@cache
def _resolved(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    items: list[dict[str, object]] = []
    awaiting_second_factor = (
        settings.OPENIOP_REQUIRE_MFA
        and user is not None
        and user.is_authenticated
        and not getattr(user, "is_verified", lambda: True)()
    )
    section = _section_of(request.path)
    if (user is not None and user.is_authenticated and user.is_clinic_staff
            and not awaiting_second_factor):
        for item in STAFF_NAV:
            url = _resolved(item.url_name)
            if url is None or not item.allowed(user):
                continue
            items.append(
                {"label": item.label, "url": url, "secondary": item.secondary,
                 "current": bool(item.section) and section.startswith(item.section),
                 # My work shows its count, polled by htmx (dashboard:count).
                 "count_url": _resolved("dashboard:count")
                 if item.url_name == "dashboard:my_work" else None}
            )
    # Two or more administrative entries fold under "More" (a disclosure in base.html); a
    # single one stays in the bar, where it takes less room than the "More" button.
    more = [i for i in items if i["secondary"]]
    if len(more) < 2:
        more = []
    return {
        "staff_nav": [i for i in items if i not in more],
        "staff_nav_more": more,
        "staff_nav_more_current": any(i["current"] for i in more),
        "crisis_line": "988",
        "demo_mode": settings.OPENIOP_DEMO,
        "idle_minutes": settings.OPENIOP_IDLE_MINUTES,
        # The browser signs out an idle screen no later than the session can have expired
        # (it is written at most once per slack, core/sessions.py): the screen must not look
        # signed in after the server gave up.
        "idle_seconds": idle_limit_seconds(),
        # How often the navigation refreshes the My work count (a background poll).
        "count_poll_seconds": getattr(settings, "OPENIOP_COUNT_POLL_SECONDS", 60),
    }
