"""Prometheus metrics at /metrics: request latency (django-prometheus middleware) and what
each app registers with the default registry in its `ready()` (the task queue and jobs:
`openiop.jobs.metrics`).

Only addresses in OPENIOP_METRICS_ALLOW (default: this machine) may read /metrics.
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

from .http import client_ip

logger = logging.getLogger("openiop.metrics")


def metrics(request: HttpRequest) -> HttpResponse:
    from django_prometheus.exports import ExportToDjangoView

    allowed = getattr(settings, "OPENIOP_METRICS_ALLOW", ("127.0.0.1/32", "::1/128"))
    ip = client_ip(request)
    if ip is None or not any(ipaddress.ip_address(ip) in ipaddress.ip_network(n, strict=False)
                             for n in allowed):
        raise Http404
    return ExportToDjangoView(request)
