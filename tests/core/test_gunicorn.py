"""The shipped gunicorn settings keep answering while slow clients hold connections open
(slowloris): threaded workers, so one slow socket holds one thread, not a worker."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        data = s.recv(200)
    return int(data.split()[1]), time.monotonic() - started


@pytest.mark.skipif(not (ROOT / "deploy" / "gunicorn.conf.py").exists(), reason="no config")
def test_gunicorn_answers_while_slow_clients_hold_connections(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DJANGO_SETTINGS_MODULE": "openiop.settings",
           "OPENIOP_VAR_DIR": str(tmp_path), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "2", "DATABASE_URL": ""}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen([str(gunicorn), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                               "openiop.wsgi"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "log").open("w"))
    slow: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(port, "/healthz", 10)[0] == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.5)
        # Eight slow clients (what froze four sync workers for 40 s): each sends part of
        # its headers and then a byte now and then, never finishing the request.
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            slow.append(s)
        for _ in range(3):
            time.sleep(1)
            for s in slow:
                with contextlib.suppress(OSError):
                    s.sendall(b"X-a: b\r\n")
            status, seconds = _get(port, "/healthz", 5)
            assert status == 200 and seconds < 2
    finally:
        for s in slow:
            s.close()
        server.terminate()
        server.wait(timeout=30)
