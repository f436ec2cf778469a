"""Shared fixtures: personas from STYLE.md (a clinician, a colleague on the same team,
an outsider from another organization, a participant)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from openiop.accounts.models import Role, User
from openiop.care.models import EpisodeOfCare, Program, Track
from openiop.organizations.models import Organization, Site
from openiop.participants.models import Participant

from . import factories as f


@pytest.fixture(autouse=True)
def _no_mfa_by_default(settings):
    """Most tests are about other things; MFA tests turn it back on explicitly."""
    settings.OPENIOP_REQUIRE_MFA = False


@pytest.fixture(autouse=True)
def _clear_axes_cache():
    from django.core.cache import cache

    cache.clear()


@dataclass
class World:
    org: Organization
    site: Site
    program: Program
    track: Track
    clinician: User
    colleague: User
    director: User
    participant: Participant
    episode: EpisodeOfCare
    outsider_org: Organization
    outsider: User
    outsider_participant: Participant


@pytest.fixture
def world(db) -> World:
    org = f.organization(name="Riverbend Test")
    s = f.site(org)
    prog = f.program(org, s)
    tr = f.track(prog)
    clinician = f.staff(org, Role.CLINICIAN, credentials=["LCSW"], username="clin")
    colleague = f.staff(org, Role.CLINICIAN, credentials=["LPC"], username="colleague")
    director = f.staff(org, Role.DIRECTOR, username="boss")
    p = f.participant(org, legal_first_name="Jamie", legal_last_name="Rivera")
    ep = f.episode(p, prog, therapist=clinician)
    f.enrollment(ep, tr)
    other = f.organization(name="Elsewhere Health")
    outsider = f.staff(other, Role.DIRECTOR, username="outsider")
    other_p = f.participant(other, legal_first_name="Other", legal_last_name="Person")
    return World(org, s, prog, tr, clinician, colleague, director, p, ep, other, outsider,
                 other_p)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_clinician(world: World) -> Client:
    return login(world.clinician)


@pytest.fixture
def as_outsider(world: World) -> Client:
    return login(world.outsider)


@pytest.fixture
def as_director(world: World) -> Client:
    return login(world.director)


@pytest.fixture
def run_worker(monkeypatch):
    """Run what is queued with django-tasks-db's worker, in this process and transaction."""
    from django_tasks_db.management.commands import db_worker

    # The worker closes stale connections between tasks; inside a test's transaction that
    # would roll the test back, so it is a no-op here.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run(worker_id: str = "test-worker") -> int:
        worker = db_worker.Worker(queue_names=["default"], interval=0, batch=True,
                                  backend_name="default", startup_delay=False, max_tasks=None,
                                  worker_id=worker_id, excluded_queue_names=[])
        worker.run()
        return worker._run_tasks

    return run
