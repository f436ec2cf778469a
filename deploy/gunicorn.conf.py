"""gunicorn settings for OpenIOP (`gunicorn -c deploy/gunicorn.conf.py openiop.wsgi`).

Threaded workers (gthread): a slow client holds one thread, not a whole worker, and the
other threads keep answering. Timeouts bound what one request or one idle connection can
hold. This does not replace a buffering reverse proxy (nginx, Caddy, a cloud load balancer
that buffers): the proxy reads slow clients' requests in full before gunicorn sees them.
See docs/deploy.md. Every value can be overridden with the GUNICORN_* variables below.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# Two processes per core, sixteen threads each: planning and imports run in the task
# workers, so web requests are short and mostly wait on PostgreSQL. A client that sends its
# headers slowly holds one thread until it finishes (gunicorn has no header timeout), so a
# worker keeps answering through 15 such sockets; more than that is the proxy's job. Each
# thread may hold a database connection: size PostgreSQL or PgBouncer for
# workers x threads per node (docs/deploy.md).
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", 16))
# A request that takes longer than this is killed (the worker is restarted): nothing long
# runs in a request any more.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 25))
# Idle keep-alive connections are closed after this many seconds.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Waiting connections per worker before new ones are refused at the socket.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", 200))
backlog = 512
# Bound what a client may send in the request line and headers.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Recycle workers now and then (memory growth), staggered so they do not restart together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# Load the application before forking: faster start, and a broken settings file (for
# example a missing SECRET_KEY in production) stops the master at once.
preload_app = True
accesslog = "-"
# Request id, status and time; never query strings (they may hold search terms).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
forwarded_allow_ips = os.environ.get("OPENIOP_TRUSTED_PROXIES", "127.0.0.1")


def when_ready(server):
    """Import every view once in the master (the application is preloaded), so each forked
    worker answers its first request at once instead of importing the project then."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
