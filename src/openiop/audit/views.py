"""Audit pages: the organization's access log and a participant's access log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from openiop.accounts.permissions import Perm
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.organizations.models import Organization
from openiop.participants.selectors import get_participant_for_user
from openiop.participants.views import chart_context

from .log import (
    CHANNEL_LABELS,
    EventFilterForm,
    channel_of,
    csv_rows,
    filtered_events,
    keyset_page,
    parse_cursor,
    staff_name,
)
from .services import audit_record


@staff_required(Perm.AUDIT_VIEW)
def event_list(request: HttpRequest) -> HttpResponse:
    """The log, 50 events a page by sequence number (links to older and newer pages); the
    number of matching events is counted only when the reader asks (`count=1`)."""
    org_id = request.user.staff_organization_id
    form = EventFilterForm(request.GET or None, organization_id=org_id)
    cursor_error = ""
    try:
        before = parse_cursor(request.GET.get("before"), "Before")
        after = parse_cursor(request.GET.get("after"), "After")
    except ValueError as exc:
        cursor_error, before, after = str(exc), None, None
    events = filtered_events(org_id, form)
    page = keyset_page(events, before=before, after=after)
    if request.GET.get("count") == "1":
        page.count = events.count()
    for event in page.object_list:
        event.staff_name = staff_name(event.actor, event.actor_label)
        event.channel = CHANNEL_LABELS[channel_of(event)]
    query_string = request.GET.copy()
    for key in ("page", "before", "after", "count"):
        query_string.pop(key, None)
    bad = cursor_error or (form.is_bound and not form.is_valid())
    return render(request, "audit/event_list.html",
                  {"form": form, "page": page, "query_string": query_string.urlencode(),
                   "cursor_error": cursor_error, "count_asked": page.count is not None},
                  status=400 if bad else 200)


@staff_required(Perm.AUDIT_VIEW)
def event_export(request: HttpRequest) -> HttpResponse:
    """The filtered log as CSV; the export itself is recorded in the log."""
    org_id = request.user.staff_organization_id
    form = EventFilterForm(request.GET or None, organization_id=org_id)
    if form.is_bound and not form.is_valid():
        return event_list(request)
    events = filtered_events(org_id, form)
    audit_record(actor=request.user, action=Action.EXPORT, object_type=ObjectType.ACCESS_LOG,
                 organization=Organization.objects.filter(pk=org_id).first(), request=request,
                 reason=f"audit log CSV: {form.describe()}"[:500])
    response = StreamingHttpResponse(csv_rows(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


@staff_required(Perm.AUDIT_VIEW)
def participant_events(request: HttpRequest, code: str) -> HttpResponse:
    """The chart's access-log tab: 50 events a page by sequence number, like the
    organization's log (an index range on participant and seq whatever the page); the
    number of events is counted only when the reader asks (`count=1`)."""
    participant = get_participant_for_user(request.user, code, request=request,
                                           object_type=ObjectType.ACCESS_LOG)
    cursor_error = ""
    try:
        before = parse_cursor(request.GET.get("before"), "Before")
        after = parse_cursor(request.GET.get("after"), "After")
    except ValueError as exc:
        cursor_error, before, after = str(exc), None, None
    events = participant.access_events.all()
    page = keyset_page(events, before=before, after=after)
    if request.GET.get("count") == "1":
        page.count = events.count()
    context = chart_context(request, participant, active_tab="audit:participant_events")
    return render(request, "audit/participant_events.html",
                  context | {"page": page, "cursor_error": cursor_error},
                  status=400 if cursor_error else 200)
