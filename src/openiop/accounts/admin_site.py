"""Django's admin, for platform operators only.

Clinic administrators manage their own organization through OpenIOP's pages (staff at
/accounts/staff/); the admin has no organization scoping, so it is open only to superusers
created from the command line (`openiop createsuperuser`). Every admin request is written
to the audit trail (reads included), on the platform chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse

from openiop.audit.vocabulary import Action, ObjectType


class PlatformAdminSite(admin.AdminSite):
    site_header = "OpenIOP platform administration"
    site_title = "OpenIOP platform administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_superuser)

    def admin_view(self, view: Callable[..., HttpResponse], cacheable: bool = False
                   ) -> Callable[..., HttpResponse]:
        inner = super().admin_view(view, cacheable)

        def audited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Recorded whatever the outcome (a refused or failing request included).
            try:
                return inner(request, *args, **kwargs)
            finally:
                if self.has_permission(request):
                    self._audit(request, kwargs)

        audited.__wrapped__ = inner  # type: ignore[attr-defined]
        return audited

    @staticmethod
    def _audit(request: HttpRequest, kwargs: dict[str, Any]) -> None:
        from openiop.audit.services import audit_record

        match = request.resolver_match
        audit_record(
            actor=request.user,
            action=Action.VIEW if request.method in ("GET", "HEAD") else Action.CHANGE,
            object_type=ObjectType.admin_page(match.url_name if match else None),
            object_id=str(kwargs.get("object_id", ""))[:64],
            request=request, reason=request.META.get("QUERY_STRING", "")[:500])


class PlatformAdminConfig(AdminConfig):
    default_site = "openiop.accounts.admin_site.PlatformAdminSite"
