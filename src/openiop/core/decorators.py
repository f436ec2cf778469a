"""View decorators for access control."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from openiop.accounts.permissions import Perm, has_perm

BACKGROUND_HEADER = "X-OpenIOP-Background"


def signed_out_response(request: HttpRequest) -> HttpResponse:
    """What a request from a signed-out browser gets.

    A page: the sign-in page, coming back here afterwards. An htmx request: 401 with
    HX-Redirect, so the whole page goes to sign-in instead of a sign-in form being swapped
    into a fragment. A background poll (the My work count): 204 and nothing else - it must
    neither navigate nor render the sign-in page, which would consume the "You were signed
    out" message meant for the page the idle sign-out is about to show.
    """
    if request.headers.get(BACKGROUND_HEADER):
        return HttpResponse(status=204)
    if request.headers.get("HX-Request"):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        response = HttpResponse(status=401)
        response["HX-Redirect"] = redirect_to_login(current.path or "/")["Location"]
        return response
    return redirect_to_login(request.get_full_path())


def staff_required(perm: Perm | None = None) -> Callable:
    """Signed-in clinic staff with `perm`; others get a login redirect or a 404.

    404 rather than 403 so that a URL does not confirm what exists.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return signed_out_response(request)
            if not user.is_clinic_staff or getattr(user, "staff_profile", None) is None:
                raise Http404
            if perm is not None and not has_perm(user, perm):
                raise Http404
            return view(request, *args, **kwargs)

        # Read by the persona walk (tests/access), which checks this against the page's
        # declared permission in `openiop.access.policy.PAGE_PERMS`.
        wrapped.required_perm = perm  # type: ignore[attr-defined]
        return wrapped

    return decorator
