"""The director's review of emergency-access grants (organization-scoped, paginated)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from openiop.accounts.permissions import Perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required

from .models import BreakGlassGrant
from .services import break_glass_revoke

PAGE_SIZE = 50


@staff_required(Perm.AUDIT_VIEW)
@require_GET
def grant_review(request: HttpRequest) -> HttpResponse:
    org = request.user.staff_organization_id
    grants = (BreakGlassGrant.objects.filter(participant__organization_id=org)
              .select_related("actor", "participant", "revoked_by")
              .order_by("-created_at", "-pk"))
    page = Paginator(grants, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.BREAK_GLASS_REVIEW,
                 organization=request.user.staff_profile.organization, request=request)
    return render(request, "access/grant_review.html",
                  {"page": page, "now": timezone.now()})


@staff_required(Perm.AUDIT_VIEW)
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = (BreakGlassGrant.objects.select_related("participant")
             .filter(pk=pk, participant__organization_id=request.user.staff_organization_id)
             .first())
    if grant is None:
        raise Http404
    break_glass_revoke(actor=request.user, grant=grant, request=request)
    messages.success(request, "Emergency access ended.")
    return redirect("access:grant_review")
