"""The demo builds on SQLite whatever the size of the clinic: no step asks SQLite for an
expression as deep as the number of rows it reads.

SQLite refuses an expression deeper than SQLITE_MAX_EXPR_DEPTH (1,000 by default:
https://www.sqlite.org/limits.html). On SQLite, Django 5.2 fetches a prefetched foreign key
(`prefetch_related("enrollments__track")`) with one `id = x OR id = y ...` term per
distinct row, so a step that prefetched the tracks of a 20,000-participant clinic (over
1,000 tracks) failed. Rather than build that clinic, these tests lower the limit on the
test connection (sqlite3's Connection.setlimit) so that a small clinic meets it."""

from __future__ import annotations

import io
import sqlite3
from contextlib import contextmanager
from datetime import date, time

import pytest
from django.db import OperationalError, connection

from openiop.care.models import Enrollment, EpisodeOfCare, Track
from openiop.demo.generator import DEMO_SLUG, build_demo
from openiop.demo.people import episodes_with_tracks
from openiop.participants.models import Participant
from tests import factories as f

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's limit")

TODAY = date(2026, 3, 11)


@contextmanager
def expression_depth(limit):
    connection.ensure_connection()
    raw = connection.connection
    before = raw.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, limit)
    try:
        yield
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, before)


def _clinic_with_tracks(n):
    org = f.organization()
    program = f.program(org)
    Track.objects.bulk_create([
        Track(program=program, name=f"Evening {i}", kind="evening", weekdays=[0, 2],
              start_time=time(18), end_time=time(21), capacity=10) for i in range(n)])
    Participant.objects.bulk_create([
        Participant(organization=org, mrn=f"D{i:05d}", legal_first_name="Alex",
                    legal_last_name=f"Depth{i}", date_of_birth=date(1990, 5, 17))
        for i in range(n)])
    people = list(Participant.objects.filter(organization=org).order_by("mrn"))
    EpisodeOfCare.objects.bulk_create([
        EpisodeOfCare(participant=p, program=program, status="active", level_of_care="IOP",
                      admitted_on=date(2026, 1, 5)) for p in people])
    episodes = list(EpisodeOfCare.objects.filter(program=program).order_by("participant__mrn"))
    tracks = list(Track.objects.filter(program=program).order_by("pk"))
    Enrollment.objects.bulk_create([
        Enrollment(episode=ep, track=tr, start_date=ep.admitted_on)
        for ep, tr in zip(episodes, tracks, strict=True)])
    return org, tracks


def test_the_demos_episode_step_reads_more_tracks_than_the_depth_limit(db):
    org, tracks = _clinic_with_tracks(60)
    with expression_depth(40):
        # What the step did before: the limit bites at 60 tracks as 1,000 did at 20,000.
        with pytest.raises(OperationalError):
            list(EpisodeOfCare.objects.filter(program__organization=org)
                 .prefetch_related("enrollments__track"))
        loaded = list(episodes_with_tracks(org))
    assert len(loaded) == 60
    assert {e.track.pk for ep in loaded for e in ep.enrollments.all()} == {t.pk for t in tracks}


def test_the_whole_demo_builds_with_a_depth_limit_below_its_number_of_participants(db):
    with expression_depth(40):
        assert build_demo(seed=9, participants=120, today=TODAY, out=io.StringIO()) is True
    assert Participant.objects.filter(organization__slug=DEMO_SLUG).count() >= 120
