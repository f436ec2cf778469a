"""The request type of the API's signed-in operations, for the type checker.

Every router but the finder's requires authentication (api.py: a session or a bearer token
of a staff user), so by the time an operation runs `request.user` is a `User`.
"""

from __future__ import annotations

from django.http import HttpRequest

from openiop.accounts.models import User


class StaffRequest(HttpRequest):
    user: User  # narrower than HttpRequest's (no AnonymousUser): authenticated
