"""A backend service's public keys read from its `jwks_uri` (SMART Backend Services).

SMART lets a client register a URL where it publishes its JWK Set instead of the keys
themselves, so that it can rotate keys without asking us
(https://hl7.org/fhir/smart-app-launch/STU2/backend-services.html, "Registering a SMART
Backend Service" and "Signature Verification"). What this module does, and why:
- https only: the keys decide who may read records, so they must come over an
  authenticated channel. http is taken only for a loopback host when
  OPENIOP_JWKS_HTTP_LOCALHOST is on (DEBUG, and tests that serve keys from a local
  thread). Redirects are not followed (one could lead to http or to another host).
- A short timeout and a size cap: a slow or huge answer must not hold a token request.
- A cache of at most CACHE_SECONDS (less when the answer's Cache-Control says so,
  none with no-store), so that each token request does not fetch the keys; an assertion
  whose `kid` is not in the cached set fetches once more (the client may have just
  rotated its keys), but not more often than every REFRESH_SECONDS, so that assertions
  with made-up kids cannot make us hammer the client's server.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.cache import cache
from jwcrypto import jwk
from jwcrypto.common import JWException

FETCH_TIMEOUT_SECONDS = 3.0
MAX_BYTES = 64 * 1024  # a JWK Set of a few RSA keys is a few kilobytes
CACHE_SECONDS = 300
REFRESH_SECONDS = 30
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class JwksUnavailable(ValueError):
    """The keys at a jwks_uri could not be read or used; the message says why."""


def parse_jwks(value: Any) -> jwk.JWKSet:
    """A JWK Set of public RSA (2048 bits or more) or P-384 keys, else ValueError."""
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise ValueError('a JWK Set is a JSON object with a non-empty "keys" list')
    try:
        keys = jwk.JWKSet.from_json(json.dumps(value))
    except (JWException, ValueError, TypeError) as exc:
        raise ValueError(f"not a valid JWK Set ({exc or 'a key is malformed'})") from exc
    for key in keys:
        if key.has_private:
            raise ValueError("it holds a private key: register the public keys only")
        kty = key.get("kty")
        if not (kty == "RSA" or (kty == "EC" and key.get("crv") == "P-384")):
            raise ValueError("keys must be RSA (for RS384) or EC P-384 (for ES384)")
        try:
            public = key.get_op_key("verify")
        except (JWException, ValueError, TypeError) as exc:
            raise ValueError(f"a key is not valid ({exc or 'malformed'})") from exc
        if kty == "RSA" and public.key_size < 2048:
            raise ValueError("RSA keys must have 2048 bits or more")
    return keys


def check_uri(uri: str) -> None:
    """ValueError unless `uri` is an https URL (or http on loopback where allowed)."""
    parts = urlparse(uri)
    local_http = (parts.scheme == "http" and parts.hostname in LOOPBACK
                  and settings.OPENIOP_JWKS_HTTP_LOCALHOST)
    if not parts.hostname or parts.fragment or not (parts.scheme == "https" or local_http):
        raise ValueError(f"{uri} must be an https URL without a #fragment")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx then surfaces as an HTTPError


_opener = urllib.request.build_opener(_NoRedirect)


def _max_age(cache_control: str) -> int:
    if re.search(r"\b(no-store|no-cache)\b", cache_control):
        return 0
    match = re.search(r"\bmax-age=(\d+)", cache_control)
    return min(int(match.group(1)), CACHE_SECONDS) if match else CACHE_SECONDS


def _fetch(uri: str) -> tuple[dict[str, Any], int]:
    """The JSON at `uri` and how long it may be cached."""
    check_uri(uri)
    # check_uri allowed https (or http on loopback) only: no file: or custom schemes
    request = urllib.request.Request(uri, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with _opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            body = response.read(MAX_BYTES + 1)
            cache_control = response.headers.get("Cache-Control", "")
    except urllib.error.HTTPError as exc:
        raise JwksUnavailable(f"the jwks_uri answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise JwksUnavailable(f"the jwks_uri could not be reached ({reason})") from exc
    if len(body) > MAX_BYTES:
        raise JwksUnavailable(f"the jwks_uri answered more than {MAX_BYTES // 1024} KB")
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise JwksUnavailable("the jwks_uri did not answer JSON") from exc
    return value, _max_age(cache_control)


def _key(uri: str) -> str:
    return "fhir:jwks:" + hashlib.sha256(uri.encode()).hexdigest()


def keys_at(uri: str, *, kid: str | None = None) -> jwk.JWKSet:
    """The usable public keys published at `uri` (cached); JwksUnavailable if none.

    With `kid`, a cached set that lacks it is fetched again (at most every REFRESH_SECONDS).
    """
    cached = cache.get(_key(uri))
    if cached is not None:
        keys = parse_jwks(cached["jwks"])
        stale = time.time() - cached["at"] > REFRESH_SECONDS
        if kid is None or any(k.get("kid") == kid for k in keys) or not stale:
            return keys
    try:
        value, max_age = _fetch(uri)
    except ValueError as exc:  # JwksUnavailable, or a URL no longer allowed
        raise JwksUnavailable(str(exc)) from exc
    try:
        keys = parse_jwks(value)
    except ValueError as exc:
        raise JwksUnavailable(f"the keys at the jwks_uri are not usable: {exc}") from exc
    if max_age:
        cache.set(_key(uri), {"jwks": value, "at": time.time()}, max_age)
    else:
        cache.delete(_key(uri))
    return keys


def forget(uri: str) -> None:
    cache.delete(_key(uri))
