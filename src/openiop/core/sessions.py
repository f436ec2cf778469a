"""Saving the session never undoes, or hides, what a request already did.

Django saves the session after the view has answered (when the request changed it, or to
renew its idle expiry: below). By then the view's writes are committed; if that save failed
(the session store unreachable, the database read-only, the session ended in another tab),
Django would answer 500 or 400 for a request whose change was made, and the user, told it
failed, would send it again. Here the session is saved whole or not at all, and its failure
only costs what the session would have carried forward (the idle timer's restart, a flash
message): the view's answer stands and the failure is logged by its class only. Forms that
create things also carry idempotency keys (core/idempotency.py), for answers lost on the
way back.

The session is not written on every request either. Its stored expiry is what ends an idle
session (SESSION_COOKIE_AGE after it was last written; HIPAA 45 CFR 164.312(a)(2)(iii),
automatic logoff), so a request renews it by writing it - but only when the last write is
more than WRITE_SLACK_SECONDS old (or the request changed the session anyway). The slack:
an idle session ends between SESSION_COOKIE_AGE - write_slack() and SESSION_COOKIE_AGE
after the last request, never later (15 minutes by default: between 14 and 15). A burst of
page loads and htmx requests costs one write a minute instead of one each.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

logger = logging.getLogger("openiop.sessions")

# How stale the session's last write may get before a request writes it again (see above).
WRITE_SLACK_SECONDS = 60


def write_slack(session_age: int) -> int:
    """The slack for a session lasting `session_age` seconds: WRITE_SLACK_SECONDS, but never
    more than a quarter of the session (a session of a few seconds is written every time)."""
    return min(WRITE_SLACK_SECONDS, max(0, session_age) // 4)


def idle_limit_seconds() -> int:
    """How long after the last request the session is surely still alive: the screen signs
    itself out then, never later than the server may have ended it."""
    from django.conf import settings

    age = int(settings.SESSION_COOKIE_AGE)
    return age - write_slack(age)
# When the session was last written (seconds since the epoch, on the clock the session
# store's expiry uses: django.utils.timezone.now).
WRITTEN_AT_KEY = "_openiop_written_at"


def renew_when_stale(request: HttpRequest) -> None:
    """Mark the session for saving when its last write is more than the slack ago (saving
    restarts its idle expiry); a session the request changed is saved anyway, and stamped.
    A signed-out or missing session (nothing stored) is left alone."""
    session = getattr(request, "session", None)
    if session is None or session.is_empty():
        return
    accessed = session.accessed  # looking here is not the page's use of the session
    written = session.get(WRITTEN_AT_KEY)
    now = timezone.now().timestamp()
    # Loaded only now: a cookie whose session has expired or ended loads as empty.
    if not session.is_empty() and (
        session.modified or not isinstance(written, (int, float))
        or not 0 <= now - written < write_slack(int(settings.SESSION_COOKIE_AGE))
    ):
        session[WRITTEN_AT_KEY] = now
    session.accessed = accessed


class SessionMiddleware(DjangoSessionMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        from .decorators import BACKGROUND_HEADER

        if request.headers.get(BACKGROUND_HEADER):
            # A background poll (the My work count) neither extends the session - it is not
            # activity, so the idle logoff still comes - nor writes it back: saved after a
            # request that ran meanwhile, its stale copy would erase what that request
            # stored (a "saved" message, a sign-in).
            return response
        try:
            renew_when_stale(request)
            return super().process_response(request, response)
        except Exception as exc:  # any store failure: the answer must stand
            from django.db import DatabaseError

            from .readonly import is_read_only_error, mark_read_only

            if isinstance(exc, DatabaseError) and is_read_only_error(exc):
                mark_read_only()
            logger.warning("session not saved (%s); the answer stands", type(exc).__name__)
            return response
