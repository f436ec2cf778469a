"""The suite's live server: no request thread outlives it.

Django's test server (ThreadedWSGIServer) answers each connection in a daemon thread and
does not wait for them when it stops. A client that keeps its connection open (Chromium,
a `requests` session, fhirclient) keeps that thread alive past the live server's stop; when
the client finally closes, the thread closes "its" database connections. On the in-memory
SQLite test database that connection is the test thread's own, lent to the server only
while it runs (pytest-django's LiveServer), so the close raised "DatabaseWrapper objects
created in a thread can only be used in that same thread" in a thread nobody joined: an
unhandled thread exception at the end of the run. On a file database the thread's own
connection was still closed after the test database's teardown had begun.

Here the server keeps its request threads, and stopping it first shuts the sockets still
open (a thread waiting for the next request on a kept-alive connection then ends) and
joins every thread, each closing its connections while they are still lent to it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from typing import Any

from django.core.servers.basehttp import ThreadedWSGIServer
from pytest_django.live_server_helper import LiveServer


class JoiningWSGIServer(ThreadedWSGIServer):
    # socketserver keeps non-daemon request threads and joins them in server_close()
    # (ThreadingMixIn.block_on_close).
    daemon_threads = False
    block_on_close = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        with self._open_lock:
            still_open = list(self._open)
        for request in still_open:
            with contextlib.suppress(OSError):  # the client closed it meanwhile
                request.shutdown(socket.SHUT_RDWR)
        super().server_close()  # joins the request threads


def start_live_server(addr: str = "localhost") -> LiveServer:
    server = LiveServer(addr, start=False)
    server.thread.server_class = JoiningWSGIServer
    server.start()
    return server


def live_server_address(config: Any) -> str:
    """Where pytest-django's own fixture would listen (--liveserver, the environment)."""
    return (config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
            or "localhost")
