"""Rechain the existing events into keyed per-organization chains.

The events written before this upgrade form one chain of plain SHA-256 hashes. This step
first verifies that chain (so an earlier tampering is reported, not laundered), then
assigns every event to its organization's chain and recomputes the links as HMACs with
OPENIOP_AUDIT_KEY. Set the key before migrating. If the old chain is already broken the
migration stops; after investigating, OPENIOP_AUDIT_ACCEPT_BROKEN_LEGACY=1 rechains anyway
(see docs/AUDIT.md). On PostgreSQL the append-only trigger is switched off for this one
rewrite by the table's owner, inside the migration's transaction.
"""

import hashlib
import json
import os

from django.db import migrations, models

from openiop.audit.chain import GENESIS_HASH, chain_of, event_payload, link_hash

_LEGACY_FIELDS = ("seq", "occurred_at", "actor", "actor_label", "organization", "participant",
                  "action", "object_type", "object_id", "path", "client_ip", "reason")


def _legacy_hash(event):
    payload = {k: v for k, v in event_payload(event).items() if k in _LEGACY_FIELDS}
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((event.prev_hash + body).encode()).hexdigest()


def _check_legacy(AccessEvent):
    expected_prev, expected_seq = GENESIS_HASH, 1
    for event in AccessEvent.objects.order_by("seq").iterator(chunk_size=5000):
        event.chain, event.chain_seq = 0, 0  # not part of the legacy hash
        if (event.seq != expected_seq or event.prev_hash != expected_prev
                or _legacy_hash(event) != event.hash):
            return event.seq
        expected_prev, expected_seq = event.hash, expected_seq + 1
    return None


def _plain(model):
    # A plain queryset: the model's own refuses updates, which this one rewrite needs.
    return models.QuerySet(model=model)


def rechain(apps, schema_editor):
    AccessEvent = apps.get_model("audit", "AccessEvent")
    broken = _check_legacy(AccessEvent)
    if broken is not None and os.environ.get("OPENIOP_AUDIT_ACCEPT_BROKEN_LEGACY") != "1":
        raise RuntimeError(
            f"The existing audit chain is broken at event #{broken} (run `openiop audit "
            "verify` on the previous version). Investigate first; then set "
            "OPENIOP_AUDIT_ACCEPT_BROKEN_LEGACY=1 to rechain the events as they are.")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # ALTER TABLE needs no deferred foreign-key checks pending on the table.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("ALTER TABLE audit_accessevent "
                              "DISABLE TRIGGER audit_accessevent_no_update_delete")
    heads: dict[int, tuple[int, str]] = {}
    batch = []
    for event in AccessEvent.objects.order_by("seq").iterator(chunk_size=5000):
        chain = chain_of(event.organization_id)
        position, prev = heads.get(chain, (0, GENESIS_HASH))
        event.chain, event.chain_seq, event.prev_hash = chain, position + 1, prev
        event.hash = link_hash(chain, prev, event_payload(event))
        heads[chain] = (event.chain_seq, event.hash)
        batch.append(event)
        if len(batch) >= 2000:
            _plain(AccessEvent).bulk_update(batch, ["chain", "chain_seq", "prev_hash", "hash"])
            batch = []
    if batch:
        _plain(AccessEvent).bulk_update(batch, ["chain", "chain_seq", "prev_hash", "hash"])
    if postgres:
        schema_editor.execute("ALTER TABLE audit_accessevent "
                              "ENABLE TRIGGER audit_accessevent_no_update_delete")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_fields")]

    # Going back leaves the keyed chains in place (the old plain chain cannot be restored).
    operations = [migrations.RunPython(rechain, migrations.RunPython.noop)]
