"""Browser tests: Playwright driving Debian's chromium against the live test server.

Screenshots go to var/screenshots/<page>.png. Without /usr/bin/chromium the tests are
skipped with a clear reason (.ci/run installs it, so CI never skips them).
"""

from __future__ import annotations

import io
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
DEMO_TODAY_SEED = 2026

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (fixtures, assertions) are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """Every browser test signs in through the sign-in form, some several times; Argon2's
    deliberately slow check was seconds of CPU a run. The demo clinic is built under the
    same setting, so its password hashes use it too. (Argon2 itself: tests/accounts.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        yield instance
        instance.close()


class Traffic:
    """The page's requests in flight and when the last one started or ended, from
    Playwright's request events (delivered whenever the test makes a Playwright call)."""

    def __init__(self, page: object) -> None:
        self.pending: set[object] = set()
        self.last = time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: object) -> None:
        self.pending.add(request)
        self.last = time.monotonic()

    def _ended(self, request: object) -> None:
        self.pending.discard(request)
        self.last = time.monotonic()


# How long the network must stay quiet for a page to count as settled. Playwright's
# "networkidle" waits 500 ms of quiet after every navigation, which was a third of the
# browser tests' time; the pages' own delayed requests (htmx `delay:300ms` searches while
# typing, polls every few seconds) are waited for where a test types or polls.
QUIET_MS = 150


def settle(page: object, *, timeout_ms: float = 30_000) -> None:
    """Wait for the page's load event, then until no request has been in flight for
    QUIET_MS: what `wait_for_load_state("networkidle")` waits for, with a shorter quiet."""
    page.wait_for_load_state("load", timeout=timeout_ms)
    traffic: Traffic = page.traffic
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_timeout(20)  # lets Playwright deliver the request events so far
        now = time.monotonic()
        if not traffic.pending and (now - traffic.last) * 1000 >= QUIET_MS:
            return
        if now > deadline:
            raise TimeoutError(f"the page never settled: {len(traffic.pending)} requests "
                               f"in flight, e.g. {[r.url for r in list(traffic.pending)[:3]]}")


@pytest.fixture
def page(browser: object, live_server: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  base_url=live_server.url)
    pg = context.new_page()
    pg.traffic = Traffic(pg)
    errors: list[str] = []
    page_errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda exc: page_errors.append(str(exc)))
    pg.console_errors = errors
    pg.page_errors = page_errors
    yield pg
    context.close()


@pytest.fixture
def phone_page(browser: object, live_server: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, base_url=live_server.url)
    pg = context.new_page()
    pg.traffic = Traffic(pg)
    yield pg
    context.close()


# The demo clinic as built once in this worker, kept as an in-memory SQLite copy and keyed
# by the clinic's date (the demo is built around its day) and the suite's clock.
_DEMO_COPY: dict[tuple[str, str], sqlite3.Connection] = {}


@pytest.fixture
def demo(transactional_db: None) -> object:
    """The demo clinic (deterministic), freshly in the database for each browser test.

    Building it takes ~5 s of CPU; the first test in a worker builds it and keeps a copy,
    later tests copy it back with SQLite's backup API (the same copy the test databases are
    made with). The copy is for the same clinic day only; another day builds again.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from openiop.demo.generator import build_demo

    if connection.vendor != "sqlite":
        build_demo(seed=DEMO_TODAY_SEED, participants=60, out=io.StringIO())
        return None
    key = (timezone.localdate().isoformat(), os.environ.get("OPENIOP_TEST_NOW", ""))
    copy = _DEMO_COPY.get(key)
    connection.ensure_connection()
    if copy is None:
        build_demo(seed=DEMO_TODAY_SEED, participants=60, out=io.StringIO())
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        _DEMO_COPY.clear()
        _DEMO_COPY[key] = copy
    else:
        copy.backup(connection.connection)
        ContentType.objects.clear_cache()
    return None


def screenshot(page: object, name: str, *, full_page: bool = True) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 5_000, f"screenshot {name} looks empty"
    return path


def sign_in(page: object, username: str, password: str | None = None) -> None:
    from openiop.demo.generator import DEMO_PASSWORD

    # Leave the current page before clearing cookies: a request it still has in flight (the
    # My work count poll re-saves the session) could otherwise answer after the clearing
    # and set the previous user's session cookie again - the next page would then be
    # served to the wrong person (a 404 for the new user's pages).
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    settle(page)
