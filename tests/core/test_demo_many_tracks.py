"""The demo's episode query works for a clinic with more than 1,000 tracks (the size the
demo reaches at 20,000 participants) on SQLite, whose expression depth is limited."""

from __future__ import annotations

from datetime import date, time

from openiop.care.models import Enrollment, EpisodeOfCare, Track
from openiop.demo.people import episodes_with_tracks
from openiop.participants.models import Participant
from tests import factories as f

TRACKS = 1_050  # more than SQLite's default expression depth of 1,000


def test_episodes_with_tracks_loads_every_track_of_a_clinic_with_over_1000_tracks(db):
    org = f.organization()
    program = f.program(org)
    Track.objects.bulk_create([
        Track(program=program, name=f"Evening {i}", kind="evening", weekdays=[0, 2],
              start_time=time(18), end_time=time(21), capacity=10) for i in range(TRACKS)])
    Participant.objects.bulk_create([
        Participant(organization=org, mrn=f"M{i:05d}", legal_first_name="Alex",
                    legal_last_name=f"Sample{i}", date_of_birth=date(1990, 5, 17))
        for i in range(TRACKS)])
    people = list(Participant.objects.filter(organization=org).order_by("mrn"))
    EpisodeOfCare.objects.bulk_create([
        EpisodeOfCare(participant=p, program=program, status="active", level_of_care="IOP",
                      admitted_on=date(2026, 1, 5)) for p in people])
    episodes = list(EpisodeOfCare.objects.filter(program=program).order_by("participant__mrn"))
    tracks = list(Track.objects.filter(program=program).order_by("pk"))
    Enrollment.objects.bulk_create([
        Enrollment(episode=ep, track=tr, start_date=ep.admitted_on)
        for ep, tr in zip(episodes, tracks, strict=True)])

    loaded = list(episodes_with_tracks(org))

    assert len(loaded) == TRACKS
    seen = {enr.track.pk for ep in loaded for enr in ep.enrollments.all()}
    assert seen == {t.pk for t in tracks}
