"""View decorators for access control."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from openiop.accounts.permissions import Perm, has_perm


def staff_required(perm: Perm | None = None) -> Callable:
    """Signed-in clinic staff with `perm`; others get a login redirect or a 404.

    404 rather than 403 so that a URL does not confirm what exists.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_clinic_staff or getattr(user, "staff_profile", None) is None:
                raise Http404
            if perm is not None and not has_perm(user, perm):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
