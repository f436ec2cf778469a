"""Demo data a clinic does not doubt: no sessions on a site's public holidays (they are
closures, as the director's holiday button makes them), and nobody under 18 is referred by
a spouse or an employer."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

from openiop.demo.generator import build_demo
from openiop.intake.models import Referral
from openiop.organizations.models import Site
from openiop.scheduling.models import Session, SiteClosure

TODAY = date(2026, 11, 18)  # the demo's two weeks ahead include Thanksgiving, Nov 26
THANKSGIVING = date(2026, 11, 26)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_no_sessions_on_holidays_and_age_fitting_referral_sources(db):
    build_demo(seed=5, participants=60, today=TODAY, out=io.StringIO())
    sites = list(Site.objects.all())
    closures = SiteClosure.objects.filter(date=THANKSGIVING)
    assert {c.site_id for c in closures} == {s.pk for s in sites}
    assert all(c.reason.startswith("Thanksgiving") for c in closures)
    # Veterans Day (Nov 11, a Wednesday) is inside the history too.
    assert SiteClosure.objects.filter(date=date(2026, 11, 11)).count() == len(sites)
    local_days = {s.starts_at.astimezone(ZoneInfo(s.program.organization.time_zone)).date()
                  for s in Session.objects.select_related("program__organization")}
    assert THANKSGIVING not in local_days and date(2026, 11, 11) not in local_days
    # The days around it still have sessions.
    assert date(2026, 11, 25) in local_days or date(2026, 11, 24) in local_days

    minors = [r for r in Referral.objects.all()
              if r.date_of_birth and _age(r.date_of_birth, TODAY) < 18]
    assert minors, "the demo has adolescents"
    assert not [r for r in minors if r.referrer_name == "Spouse" or r.source == "employer"]
    adults = Referral.objects.exclude(pk__in=[r.pk for r in minors])
    assert adults.filter(source="family").exists()
