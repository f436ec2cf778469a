"""The utilization-review packet page and PDF (clinical roles; a disclosure to the payer).

The packet carries clinical facts (scores, the plan's goals, medications), so it opens only
for users with clinical view in the participant's organization — the billing role, which
never reads clinical content, does not generate it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from openiop.accounts.permissions import Perm
from openiop.core.decorators import staff_required
from openiop.jobs import downloads
from openiop.participants.selectors import get_participant_for_user
from openiop.participants.views import chart_context

from .. import packet as ur
from ..models import Authorization

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.participants.models import Participant


def _load(request: HttpRequest, code: UUID | str, auth_code: UUID | str) -> tuple[Any, Authorization]:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.CLINICAL_VIEW, audit_action=None)
    if participant.organization_id != getattr(request.user, "staff_organization_id", None):
        raise Http404
    auth = get_object_or_404(
        Authorization.objects.select_related("coverage__payer", "coverage__participant"),
        code=auth_code, coverage__participant=participant)
    return participant, auth


def _refused(request: HttpRequest, participant: Participant, auth: Authorization) -> HttpResponse:
    # Said the same way whatever the reason, without naming what kind of record it is.
    refusal = (f"Nothing can be released to {auth.coverage.payer.name} for payment: the "
               "participant has no active consent naming this payer (or health plans) for "
               "payment.")
    context = chart_context(request, participant, active_tab="billing:participant_billing") | {
        "authorization": auth, "refusal": refusal}
    return render(request, "billing/ur_packet.html", context, status=403)


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def ur_packet(request: HttpRequest, code: UUID, auth_code: UUID) -> HttpResponse:
    participant, auth = _load(request, code, auth_code)
    decision = ur.release(auth, actor=request.user, request=request)
    if not decision.released:
        return _refused(request, participant, auth)
    data = ur.packet(auth, today=timezone.localdate())
    context = chart_context(request, participant, active_tab="billing:participant_billing") | data | {
        "consent": decision.consent if decision.part2_released else None,
        "part2_notice": decision.statement}
    return render(request, "billing/ur_packet.html", context)


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def ur_packet_pdf(request: HttpRequest, code: UUID, auth_code: UUID) -> HttpResponse:
    """The PDF; a long one is offered, then prepared, in the background (POST)."""
    participant, auth = _load(request, code, auth_code)
    # Decided first without a record: the offer of a long PDF discloses nothing yet.
    decision = ur.release(auth, actor=request.user, request=request, audit=False)
    if not decision.released:
        ur.release(auth, actor=request.user, request=request)  # the refusal, audited
        return _refused(request, participant, auth)
    data = ur.packet(auth, today=timezone.localdate())
    size = ur.packet_size(data)
    if downloads.is_large(size) or request.method == "POST":
        return downloads.offer_or_start(
            request, what="ur_packet", label="Utilization review packet (PDF)",
            params={"authorization_id": auth.pk, "notice": decision.statement},
            filename=f"ur-packet-{auth.code}.pdf", size=size, participant=participant,
            audit=lambda: ur.release(auth, actor=request.user, request=request))
    ur.release(auth, actor=request.user, request=request)  # the disclosure, audited
    pdf = ur.packet_pdf(data, notice=decision.statement)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ur-packet-{auth.code}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
