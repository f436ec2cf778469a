"""One read-only request, one answer per question: the relationships behind the access
decisions (care team, break-the-glass grant, 42 CFR Part 2 record) are remembered for the
rest of a GET or HEAD request.

A chart tab asks the same questions several times (the page's own `require`, the tab
filter, the view's permission helpers); each answer costs a query. Only GET and HEAD are
remembered: they change nothing the answers depend on, while a POST may create a grant or
change an episode's team and then ask again in the same request. Outside a request (a
service, a worker, a shell) nothing is remembered and every question is asked afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

_MEMO: ContextVar[dict[Hashable, Any] | None] = ContextVar("openiop_access_memo", default=None)

SAFE_METHODS = frozenset({"GET", "HEAD"})


def remembered(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """`compute()`, or its answer from earlier in this read-only request. A key holding None
    (an unsaved record, an anonymous user) is never remembered."""
    memo = _MEMO.get()
    if memo is None or any(part is None for part in key):
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class DecisionMemoMiddleware:
    """Opens the memo for a GET or HEAD request and drops it when the response is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        token = _MEMO.set({})
        try:
            return self.get_response(request)
        finally:
            _MEMO.reset(token)
