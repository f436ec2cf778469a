"""Saving the session never undoes, or hides, what a request already did.

Django saves the session after the view has answered (every request here: the idle logoff
counts from the last one). By then the view's writes are committed; if that save failed
(the session store unreachable, the database read-only, the session ended in another tab),
Django would answer 500 or 400 for a request whose change was made, and the user, told it
failed, would send it again. Here the session is saved whole or not at all, and its failure
only costs what the session would have carried forward (the idle timer's restart, a flash
message): the view's answer stands and the failure is logged by its class only. Forms that
create things also carry idempotency keys (core/idempotency.py), for answers lost on the
way back.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("openiop.sessions")


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
            return super().process_response(request, response)
        except Exception as exc:  # any store failure: the answer must stand
            from django.db import DatabaseError

            from .readonly import is_read_only_error, mark_read_only

            if isinstance(exc, DatabaseError) and is_read_only_error(exc):
                mark_read_only()
            logger.warning("session not saved (%s); the answer stands", type(exc).__name__)
            return response
