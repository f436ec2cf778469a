"""The demo's featured personas (the portal participant and the teen whose parent has the
family login) have the same record at every clinic size: their chart then reads the same
queries in a small and a large clinic, which is what benchmarks/bench_pages.py compares."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from openiop.accounts.models import User
from openiop.care.models import EpisodeOfCare
from openiop.clinical.models import GroupNoteEntry, Note
from openiop.core.navigation import CHART_TABS
from openiop.demo.generator import build_demo
from openiop.participants.models import Participant
from openiop.scheduling.models import Attendance, Booking
from tests.conftest import login

TODAY = date(2026, 11, 18)
# 20 participants: one cohort per track; 70: a second, parallel cohort of every track.
SIZES = (20, 70)
READERS = ("clinician", "director", "admin", "billing", "intake")


def _rows(model: type[models.Model], **where: Any) -> Counter:
    """How many rows of `model` match, by status (or kind) when it has one."""
    rows = model._default_manager.filter(**where)
    names = {f.name for f in model._meta.concrete_fields}
    key = next((k for k in ("status", "kind", "instrument") if k in names), None)
    if key is None:
        return Counter({"": rows.count()})
    return Counter(dict(rows.values_list(key).annotate(n=models.Count("pk")).order_by(key)))


def _record(person: Participant) -> dict[str, Counter]:
    """Every row that points at the person (or their login), counted per model and status,
    with their attendance, notes (group notes through their entries) and episodes."""
    record: dict[str, Counter] = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey):
                continue
            target = field.related_model
            if target is Participant:
                value = person
            elif target is User and person.user_id is not None:
                value = person.user
            else:
                continue
            if model._meta.app_label == "audit":
                continue  # the chart requests below add access events
            record[f"{model._meta.label}.{field.name}"] = _rows(model, **{field.name: value})
    record["attendance"] = Counter(dict(
        Attendance.objects.filter(booking__participant=person).values_list("status")
        .annotate(n=models.Count("pk")).order_by("status")))
    record["bookings by session kind"] = Counter(dict(
        Booking.objects.filter(participant=person).values_list("session__kind")
        .annotate(n=models.Count("pk")).order_by("session__kind")))
    record["group notes"] = Counter(dict(
        GroupNoteEntry.objects.filter(participant=person).values_list("note__status")
        .annotate(n=models.Count("pk")).order_by("note__status")))
    record["own notes"] = Counter(
        f"{kind} {status}" for kind, status in
        Note.objects.filter(participant=person).values_list("kind", "status"))
    record["episodes"] = Counter(
        f"{p} {s} {t}" for p, s, t in EpisodeOfCare.objects.filter(participant=person)
        .values_list("program__name", "status", "enrollments__track__name"))
    return record


def _chart_queries(person: Participant) -> dict[str, int]:
    users = {u.username: u for u in User.objects.filter(username__in=READERS)}
    counts = {}
    for item in CHART_TABS:
        who = next((name for name in READERS if item.allowed(users[name])), None)
        if who is None:
            continue
        try:
            url = reverse(item.url_name, kwargs={"code": person.code})
        except NoReverseMatch:
            continue
        client = login(users[who])
        client.get(url)  # warm-up: the first request of a session reads more
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[item.label] = len(queries.captured_queries)
    return counts


def _personas_at(size: int) -> dict[str, Any]:
    """The personas' records and chart queries in a demo of `size` participants, then the
    demo is rolled back (so the next size starts from the same empty database)."""
    with transaction.atomic():
        assert build_demo(seed=2026, participants=size, today=TODAY, out=io.StringIO())
        portal = Participant.objects.get(user__username="participant")
        teen = Participant.objects.get(related_people__user__username="family")
        seen = {
            "participant": (portal.mrn, portal.legal_name, _record(portal)),
            "family's teen": (teen.mrn, teen.legal_name, _record(teen)),
            "participant chart queries": _chart_queries(portal),
            "teen chart queries": _chart_queries(teen),
        }
        transaction.set_rollback(True)
    return seen


def test_the_featured_personas_have_the_same_record_at_every_clinic_size(db):
    small, large = (_personas_at(size) for size in SIZES)
    for who in ("participant", "family's teen"):
        mrn, name, record = small[who]
        assert (mrn, name) == large[who][:2], who
        # A record with something in it: the comparison is not of two empty charts.
        assert record["attendance"] and record["own notes"] and record["group notes"], who
        for kind, counts in record.items():
            assert counts == large[who][2][kind], (who, kind, counts, large[who][2][kind])
        assert record.keys() == large[who][2].keys()
    participant = small["participant"][2]
    assert participant["clinical.TreatmentPlan.participant"]
    assert participant["medications.MedicationOrder.participant"]
    assert participant["portal.Message.participant"]
    assert small["participant chart queries"] == large["participant chart queries"]
    assert small["teen chart queries"] == large["teen chart queries"]
    assert len(small["participant chart queries"]) >= 10
