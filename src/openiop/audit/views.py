"""Audit pages: the organization's access log and a participant's access log."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.accounts.permissions import Perm
from openiop.core.decorators import staff_required
from openiop.participants.selectors import get_participant_for_user
from openiop.participants.views import chart_context

from .models import AccessEvent, Action


class EventFilterForm(forms.Form):
    actor = forms.CharField(label="User name", required=False, max_length=150)
    mrn = forms.CharField(label="Participant MRN", required=False, max_length=30)
    action = forms.ChoiceField(label="Action", required=False,
                               choices=[("", "Any action"), *Action.choices])
    since = forms.DateField(label="From", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))


@staff_required(Perm.AUDIT_VIEW)
def event_list(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    qs = AccessEvent.objects.filter(
        organization_id=request.user.staff_organization_id
    ).select_related("participant")
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            qs = qs.filter(actor_label__iexact=data["actor"])
        if data["mrn"]:
            qs = qs.filter(participant__mrn__iexact=data["mrn"])
        if data["action"]:
            qs = qs.filter(action=data["action"])
        if data["since"]:
            qs = qs.filter(occurred_at__date__gte=data["since"])
        if data["until"]:
            qs = qs.filter(occurred_at__date__lte=data["until"])
    page = Paginator(qs.order_by("-seq"), 50).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    return render(request, "audit/event_list.html",
                  {"form": form, "page": page, "query_string": query_string.urlencode()})


@staff_required(Perm.AUDIT_VIEW)
def participant_events(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           object_type="access_log")
    page = Paginator(participant.access_events.order_by("-seq"), 50).get_page(
        request.GET.get("page"))
    context = chart_context(request, participant, active_tab="audit:participant_events")
    return render(request, "audit/participant_events.html", context | {"page": page})
