"""The suite's live server ends with no request thread left behind (tests/live_server.py):
a client that keeps its connection open past the server's stop used to leave a thread that
later closed the test thread's database connection, an unhandled thread exception at the
end of the run ("DatabaseWrapper objects created in a thread can only be used in that same
thread")."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

import pytest

from tests.live_server import start_live_server


@pytest.mark.django_db(transaction=True)
def test_a_kept_alive_connection_does_not_outlive_the_live_server(monkeypatch):
    raised: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    before = set(threading.enumerate())
    server = start_live_server()
    address = urlsplit(server.url)
    client = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        for _ in range(2):  # HTTP/1.1: both on the one connection, kept open after
            client.request("GET", "/")
            response = client.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
        server.stop()
        # Stopping joined the server's threads (its request threads among them).
        assert set(threading.enumerate()) <= before
    finally:
        client.close()
    assert raised == []
