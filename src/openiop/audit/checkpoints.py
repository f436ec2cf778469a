"""Signed checkpoints of the audit chains, written outside the database.

A checkpoint records, for every chain (organization), the position and hash of its newest
event and how many events it holds, signed with an HMAC key derived from OPENIOP_AUDIT_KEY.
It is written as one JSON file into OPENIOP_AUDIT_CHECKPOINT_DIR, which production points
at storage the database's users cannot rewrite (another host, or an object store bucket
with object lock). `openiop audit verify` then catches what a chain alone cannot: deleted
newest events, a truncated table, and a chain rebuilt after edits (NIST SP 800-53 AU-9(2),
audit records on a separate system; AU-9(3), cryptographic protection).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max

from .chain import key_fingerprint, same, sign
from .models import AccessEvent

FORMAT = "openiop-audit-checkpoint/1"
_PREFIX = "audit-checkpoint-"


@dataclass(frozen=True)
class ChainHead:
    chain: int
    seq: int
    count: int
    head: str


@dataclass
class Checkpoint:
    path: Path
    written_at: str = ""
    chains: dict[int, ChainHead] = field(default_factory=dict)
    error: str = ""


def checkpoint_dir() -> Path:
    return Path(settings.OPENIOP_AUDIT_CHECKPOINT_DIR)


def chain_heads() -> list[ChainHead]:
    """Every chain's newest position, event count and newest hash (one consistent read)."""
    rows = list(AccessEvent.objects.order_by().values("chain")
                .annotate(head=Max("chain_seq"), count=Count("id")).order_by("chain"))
    heads = []
    for row in rows:
        head_hash = (AccessEvent.objects.filter(chain=row["chain"], chain_seq=row["head"])
                     .values_list("hash", flat=True).get())
        heads.append(ChainHead(row["chain"], row["head"], row["count"], head_hash))
    return heads


def audit_checkpoint_write(*, directory: Path | None = None) -> Path:
    """Write one signed checkpoint file; return its path."""
    target = directory or checkpoint_dir()
    target.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    body: dict[str, object] = {
        "format": FORMAT,
        "written_at": now.isoformat(timespec="microseconds"),
        "key": key_fingerprint(),
        "chains": [h.__dict__ for h in chain_heads()],
    }
    document = {**body, "signature": sign(body)}
    path = target / f"{_PREFIX}{now:%Y%m%dT%H%M%S%f}Z.json"
    # Written whole or not at all: a temporary file in the same folder, then renamed.
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, sort_keys=True, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: Path) -> Checkpoint:
    """Parse and check one checkpoint file; `error` says why it cannot be trusted."""
    try:
        document = json.loads(path.read_text())
        signature = document.pop("signature")
        chains = {int(c["chain"]): ChainHead(int(c["chain"]), int(c["seq"]), int(c["count"]),
                                             str(c["head"])) for c in document["chains"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Checkpoint(path, error=f"checkpoint {path.name} cannot be read as a checkpoint")
    if document.get("format") != FORMAT:
        return Checkpoint(path, error=f"checkpoint {path.name} has an unknown format")
    if not same(str(document.get("key", "")), key_fingerprint()):
        return Checkpoint(path, error=f"checkpoint {path.name} was signed with a different "
                                      "OPENIOP_AUDIT_KEY than the one configured")
    if not same(str(signature), sign(document)):
        return Checkpoint(path, error=f"checkpoint {path.name} was altered: its signature "
                                      "does not match")
    return Checkpoint(path, str(document["written_at"]), chains)


def latest_checkpoint(*, directory: Path | None = None) -> Checkpoint | None:
    target = directory or checkpoint_dir()
    if not target.is_dir():
        return None
    files = sorted(target.glob(f"{_PREFIX}*.json"))
    return read_checkpoint(files[-1]) if files else None
