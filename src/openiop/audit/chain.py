"""The audit chain's keyed hashes (pure functions, no database).

Each organization's events form their own chain (chain = organization id; 0 holds the
events that belong to no organization, e.g. platform administration). An event's hash is
HMAC-SHA256 over the previous event's hash and the event's own fields, keyed with a
per-chain key derived from OPENIOP_AUDIT_KEY. The key lives in the environment (or, for a
development checkout, in var/), never in the database, so someone who can write to the
database cannot recompute a chain after editing or deleting rows (HIPAA 45 CFR
164.312(c)(1)-(2): integrity and a mechanism to authenticate electronic PHI; NIST SP 800-92
section 4.3.6 and NIST SP 800-53 AU-9(3): cryptographic protection of audit information).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = 0


def _master_key() -> bytes:
    key = getattr(settings, "OPENIOP_AUDIT_KEY", "") or ""
    if len(key) < 32:
        raise ImproperlyConfigured(
            "OPENIOP_AUDIT_KEY: set a random secret of at least 32 characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
        )
    return key.encode()


@lru_cache(maxsize=4096)
def _derive(master: bytes, label: str) -> bytes:
    return hmac.new(master, label.encode(), hashlib.sha256).digest()


def chain_key(chain: int) -> bytes:
    """The key of one organization's chain (derived, so chains cannot vouch for each other)."""
    return _derive(_master_key(), f"openiop-audit-chain:{chain}")


def checkpoint_key() -> bytes:
    return _derive(_master_key(), "openiop-audit-checkpoint")


def key_fingerprint() -> str:
    """A short public fingerprint of the key (written in checkpoints, never the key)."""
    return _derive(_master_key(), "openiop-audit-fingerprint").hex()[:16]


def chain_of(organization_id: int | None) -> int:
    return organization_id or PLATFORM_CHAIN


# Fields added after chains were first written: in the payload only when non-empty, so
# every event written before they existed (all of them empty) hashes as it did.
OPTIONAL_FIELDS = ("recipient", "purpose")


def event_payload(event: Any) -> dict[str, object]:
    """The fields an event's hash covers, in a stable form (works on historical models)."""
    payload: dict[str, object] = {
        "seq": event.seq,
        "chain": event.chain,
        "chain_seq": event.chain_seq,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "organization": event.organization_id,
        "participant": event.participant_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "path": event.path,
        "client_ip": event.client_ip,
        "reason": event.reason,
    }
    for name in OPTIONAL_FIELDS:
        value = getattr(event, name, "")
        if value:
            payload[name] = value
    return payload


def link_hash(chain: int, prev_hash: str, payload: dict[str, object]) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(chain_key(chain), (prev_hash + body).encode(), hashlib.sha256).hexdigest()


def sign(body: dict[str, object]) -> str:
    """HMAC of a checkpoint body (canonical JSON), with the checkpoint key."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(checkpoint_key(), text.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
