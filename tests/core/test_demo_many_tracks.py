"""The demo's episode query works for a clinic with more than 1,000 tracks (the size the
demo reaches at 20,000 participants) on SQLite, whose expression depth is limited."""

from __future__ import annotations

from openiop.demo.people import episodes_with_tracks
from tests.core.test_demo_expression_depth import _clinic_with_tracks

TRACKS = 1_050  # more than SQLite's default expression depth of 1,000


def test_episodes_with_tracks_loads_every_track_of_a_clinic_with_over_1000_tracks(db):
    org, tracks = _clinic_with_tracks(TRACKS)

    loaded = list(episodes_with_tracks(org))

    assert len(loaded) == TRACKS
    seen = {enr.track.pk for ep in loaded for enr in ep.enrollments.all()}
    assert seen == {t.pk for t in tracks}
