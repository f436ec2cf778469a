"""Production runtime: settings that refuse to start, client addresses behind proxies,
health and readiness, metrics, the database-free 500 page, scrubbed JSON logs, Redis."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.http import client_ip
from openiop.core.logs import (
    JsonFormatter,
    RequestIdFilter,
    RequestIdMiddleware,
    ScrubDatabaseDetail,
)

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50


def _settings_in_subprocess(env: dict[str, str], expr: str = "settings.DEBUG") -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "OPENIOP_ENV")}
    code = f"import openiop.settings as settings; print({expr})"
    return subprocess.run([sys.executable, "-c", code], env={**base, "PYTHONPATH": str(ROOT / "src"),
                          "OPENIOP_VAR_DIR": str(ROOT / "var" / "settings-test"), **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("missing", "named"), [
    ("SECRET_KEY", "SECRET_KEY"), ("ALLOWED_HOSTS", "ALLOWED_HOSTS"), ("DATABASE_URL", "DATABASE_URL"),
])
def test_production_refuses_to_start_without_its_settings(missing, named):
    env = {"OPENIOP_ENV": "production", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "iop.example.org",
           "DATABASE_URL": "postgres://u@db:5432/openiop"}
    del env[missing]
    done = _settings_in_subprocess(env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and named in done.stderr.splitlines()[-1]


def test_production_refuses_sqlite_and_a_short_key_but_starts_when_configured():
    env = {"OPENIOP_ENV": "production", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "iop.example.org",
           "DATABASE_URL": "sqlite:////tmp/x.sqlite3"}
    assert "DATABASE_URL" in _settings_in_subprocess(env).stderr
    assert "SECRET_KEY" in _settings_in_subprocess({**env, "SECRET_KEY": "short",
                                                    "DATABASE_URL": "postgres://u@db/o"}).stderr
    ok = _settings_in_subprocess({**env, "DATABASE_URL": "postgres://u@db/o"},
                                 "settings.DEBUG, settings.DATABASES['default']['CONN_HEALTH_CHECKS'],"
                                 " settings.CACHES['default']['BACKEND'],"
                                 " settings.LOGGING['handlers']['console']['formatter']")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == ("False True django.core.cache.backends.db.DatabaseCache json")


def test_redis_url_puts_sessions_and_cache_in_redis():
    done = _settings_in_subprocess({"REDIS_URL": "redis://127.0.0.1:6379/3"},
                                   "settings.SESSION_ENGINE, settings.CACHES['default']['BACKEND']")
    assert done.stdout.strip() == ("django.contrib.sessions.backends.cache "
                                   "django.core.cache.backends.redis.RedisCache")


def test_sessions_round_trip_through_a_real_redis():
    from django.contrib.sessions.backends.cache import SessionStore
    from django.core.cache.backends.redis import RedisCache

    redis = RedisCache("redis://127.0.0.1:6379/15", {})
    try:
        redis.set("openiop-test-ping", "1", 5)
    except Exception as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379 ({type(exc).__name__})")
    store = SessionStore()
    store._cache = redis
    store["node"] = "a"
    store.save()
    other = SessionStore(session_key=store.session_key)  # another web node reading it
    other._cache = redis
    assert other["node"] == "a"
    redis.delete(store.cache_key)


# --- client addresses ---------------------------------------------------------------------

def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_x_forwarded_for_is_ignored_unless_the_connection_is_a_trusted_proxy(settings):
    settings.OPENIOP_TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"
    settings.OPENIOP_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"
    # Through the proxy: the right-most address that is not a proxy; a spoofed left part is
    # not believed.
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.3")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "garbage, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "10.0.0.5, not-an-ip")) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"
    assert client_ip(_request("not an address")) is None


@pytest.mark.django_db
def test_audit_rows_record_the_client_behind_a_trusted_proxy(settings, world):
    from openiop.audit.services import audit_record

    settings.OPENIOP_TRUSTED_PROXIES = ["127.0.0.1"]
    event = audit_record(actor=world.director, action=Action.VIEW, object_type=ObjectType.ACCESS_LOG,
                         request=_request("127.0.0.1", "198.51.100.7"))
    assert event.client_ip == "198.51.100.7"


def test_the_finders_contact_limit_counts_each_client_behind_the_proxy(settings):
    from openiop.finder.services import RateLimited, contact_rate_check

    settings.OPENIOP_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.FINDER_CONTACT_LIMIT = (2, 60)
    cache.clear()
    for _ in range(2):
        contact_rate_check(request=_request("10.0.0.2", "198.51.100.7"))
    with pytest.raises(RateLimited):
        contact_rate_check(request=_request("10.0.0.2", "198.51.100.7"))
    contact_rate_check(request=_request("10.0.0.2", "198.51.100.8"))  # another client: allowed
    # Without the proxy setting, everyone behind it would share one limit.
    settings.OPENIOP_TRUSTED_PROXIES = []
    cache.clear()
    for _ in range(2):
        contact_rate_check(request=_request("10.0.0.2", "198.51.100.7"))
    with pytest.raises(RateLimited):
        contact_rate_check(request=_request("10.0.0.2", "198.51.100.9"))
    cache.clear()


# --- health, readiness, metrics ------------------------------------------------------------

@pytest.mark.django_db
def test_liveness_does_not_touch_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(queries) == 0


@pytest.mark.django_db
def test_readiness_checks_database_cache_and_queue(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert set(response.json().values()) == {"OK"} and len(response.json()) == 3


@pytest.mark.django_db
def test_readiness_is_503_when_the_database_is_down(client, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert any("database unreachable (OperationalError)" in v for v in body.values())
    assert "5432" not in response.content.decode()


@pytest.mark.django_db
def test_readiness_is_503_when_the_queue_lags(client, world, settings):
    from django_tasks_db.models import DBTaskResult

    from openiop.jobs.services import start_job

    settings.OPENIOP_QUEUE_LAG_SECONDS = 60
    job = start_job(actor=None, kind="t", label="t", handler="tests.jobs.handlers.count_to",
                    params={"n": 1})
    DBTaskResult.objects.filter(id=job.task_id).update(
        enqueued_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert any("oldest queued task waited 300 s" in v for v in response.json().values())


@pytest.mark.django_db
def test_metrics_show_request_latency_and_the_queue_to_allowed_addresses_only(client, world):
    from openiop.jobs.services import start_job

    start_job(actor=None, kind="t", label="t", handler="tests.jobs.handlers.count_to",
              params={"n": 1})
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert "openiop_task_queue_depth 1.0" in text and "openiop_jobs_failed" in text
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


# --- the 500 page ---------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("path", "kind"), [
    ("/api/participants/", "application/json"),
    ("/fhir/R4/Patient", "application/fhir+json"),
    ("/dashboard/", "text/html"),
])
def test_the_500_handler_answers_without_the_database(path, kind, monkeypatch):
    from openiop.core.views import server_error

    def down(*args, **kwargs):
        raise OperationalError("the database is down")

    monkeypatch.setattr(connection, "cursor", down)
    request = RequestFactory().get(path)
    request.request_id = "abc123def456"
    response = server_error(request)
    assert response.status_code == 500 and response["Content-Type"].startswith(kind)
    body = response.content.decode()
    assert "abc123def456" in body
    if kind == "application/fhir+json":
        assert json.loads(body)["resourceType"] == "OperationOutcome"
    elif kind == "application/json":
        assert json.loads(body)["detail"].startswith("The server could not complete the request")


# --- logs -----------------------------------------------------------------------------------

def test_log_lines_are_json_with_the_request_id_and_no_database_row_contents():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ScrubDatabaseDetail())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("openiop.test.runtime")
    logger.addHandler(handler)
    logger.propagate = False

    def view(request):
        try:
            raise OperationalError(
                'new row for relation "medications_order" violates check constraint '
                '"dose_positive"\nDETAIL:  Failing row contains (17, sertraline, oral, depression).')
        except OperationalError as exc:
            logger.exception("Internal Server Error: %s (%s)", request.path, exc)
        logger.error('duplicate: Key (mrn)=(MRN-4411) already exists.')
        from django.http import HttpResponse

        return HttpResponse("ok")

    try:
        response = RequestIdMiddleware(view)(RequestFactory().get("/x", HTTP_X_REQUEST_ID="req-0001-abcd"))
    finally:
        logger.removeHandler(handler)
    assert response["X-Request-ID"] == "req-0001-abcd"
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert len(lines) == 2
    assert {line["request_id"] for line in lines} == {"req-0001-abcd"}
    text = stream.getvalue()
    for secret in ("sertraline", "depression", "MRN-4411", "(17,"):
        assert secret not in text
    assert "dose_positive" in text and "Key (mrn)=([removed])" in text
    assert "OperationalError" in lines[0]["exception"]


def test_a_request_without_a_sane_id_gets_a_new_one():
    from django.http import HttpResponse

    response = RequestIdMiddleware(lambda r: HttpResponse())(
        RequestFactory().get("/", HTTP_X_REQUEST_ID="bad id\nwith newline"))
    assert len(response["X-Request-ID"]) == 32 and "\n" not in response["X-Request-ID"]


# --- read replica --------------------------------------------------------------------------

def test_the_router_sends_finder_reads_to_the_replica_and_everything_else_to_the_primary(monkeypatch):
    from openiop.core import dbrouter
    from openiop.core.dbrouter import ReplicaRouter
    from openiop.finder.models import Listing
    from openiop.participants.models import Participant

    router = ReplicaRouter()
    assert router.db_for_read(Listing) is None  # no replica configured: the default
    monkeypatch.setattr(dbrouter, "has_replica", lambda: True)
    assert router.db_for_read(Listing) == "replica"
    assert router.db_for_read(Participant) is None
    assert router.db_for_write(Listing) == "default"
    assert router.allow_migrate("replica", "finder") is False
    assert router.allow_migrate("default", "finder") is True


def test_a_replica_url_adds_the_replica_alias():
    done = _settings_in_subprocess({"DATABASE_REPLICA_URL": "postgres://u@replica:5432/openiop"},
                                   "settings.DATABASES['replica']['HOST'], settings.OPENIOP_REPLICA_APPS")
    assert done.stdout.strip() == "replica ['finder']"
