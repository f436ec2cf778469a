"""Root URLconf: each app owns its prefix."""

from django.contrib import admin
from django.urls import include, path

from openiop.core import views as core_views

handler400 = "openiop.core.views.bad_request"
handler403 = "openiop.core.views.permission_denied"
handler404 = "openiop.core.views.page_not_found"
handler500 = "openiop.core.views.server_error"

urlpatterns = [
    path("", core_views.root, name="root"),
    path("", include("openiop.core.urls")),
    path("dashboard/", include("openiop.dashboard.urls")),
    path("accounts/", include("openiop.accounts.urls")),
    path("participants/", include("openiop.participants.urls")),
    path("programs/", include("openiop.care.urls")),
    path("intake/", include("openiop.intake.urls")),
    path("schedule/", include("openiop.scheduling.urls")),
    path("notes/", include("openiop.clinical.urls")),
    path("skills/", include("openiop.skills.urls")),
    path("medications/", include("openiop.medications.urls")),
    path("outcomes/", include("openiop.outcomes.urls")),
    path("billing/", include("openiop.billing.urls")),
    path("find/", include("openiop.finder.urls")),
    path("portal/", include("openiop.portal.urls")),
    path("audit/", include("openiop.audit.urls")),
    path("access/", include("openiop.access.urls")),
    path("jobs/", include("openiop.jobs.urls")),
    path("api/", include("openiop.api.urls")),
    path("fhir/R4/", include("openiop.fhir.urls")),
    path("o/", include("openiop.fhir.oauth_urls")),
    path("admin/", admin.site.urls),
]
