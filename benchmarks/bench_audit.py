"""Audit-trail throughput: events per second with 1, 4 and 16 concurrent writers, across 1
and 4 organizations.

Every audited request appends to its organization's chain under a per-chain lock, so
writers of different organizations should not wait for each other; the ratio
"4 organizations / 1 organization at 16 writers" measures that in the same run (on
PostgreSQL; SQLite serializes every write transaction whatever the chain, so there the
ratio stays near 1). Each writer appends `--events` events, one transaction each, then the
chains are verified (keyed hashes intact under concurrency).

Uses a temporary SQLite database, or the database in DATABASE_URL (a scratch PostgreSQL
database: it is migrated and written to). Writes var/bench/audit.json.

    .venv/bin/python benchmarks/bench_audit.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "audit.json"
WRITERS = (1, 4, 16)
ORGANIZATIONS = (1, 4)


def _setup(tmp: str) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["OPENIOP_VAR_DIR"] = tmp
    os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    os.environ.setdefault("OPENIOP_LOG_LEVEL", "WARNING")
    os.environ.setdefault("OPENIOP_AUDIT_CHECKPOINT_DIR", str(Path(tmp) / "checkpoints"))
    import django

    django.setup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300, help="events per writer")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="openiop-bench-audit-")
    try:
        _setup(tmp)
        return _run(args.events)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(events: int) -> int:
    from django.core.management import call_command
    from django.db import connection, connections

    from openiop.accounts.models import User
    from openiop.audit.services import audit_record
    from openiop.audit.verify import audit_verify_report
    from openiop.organizations.models import Organization

    call_command("migrate", verbosity=0)
    stamp = int(time.time())
    orgs = [Organization.objects.create(name=f"Bench {stamp} {i}", slug=f"bench-{stamp}-{i}")
            for i in range(max(ORGANIZATIONS))]
    actor = User.objects.create(username=f"bench-audit-{stamp}", role="clinician")
    print(f"==> audit throughput on {connection.vendor}, {events} events per writer")

    def writer(org_list: list[Organization], offset: int, errors: list[str]) -> None:
        try:
            for i in range(events):
                audit_record(actor=actor, action="view", object_type="bench",
                             object_id=i, organization=org_list[(offset + i) % len(org_list)])
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    results = []
    print(f"{'writers':>8} {'orgs':>5} {'events':>8} {'seconds':>8} {'events/s':>9}")
    for n_orgs in ORGANIZATIONS:
        for n_writers in WRITERS:
            errors: list[str] = []
            threads = [threading.Thread(target=writer, args=(orgs[:n_orgs], w, errors))
                       for w in range(n_writers)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - started
            total = events * n_writers
            rate = total / seconds if seconds else 0.0
            results.append({"writers": n_writers, "organizations": n_orgs, "events": total,
                            "seconds": round(seconds, 3), "events_per_second": round(rate, 1),
                            "errors": errors[:3]})
            print(f"{n_writers:>8} {n_orgs:>5} {total:>8} {seconds:>8.2f} {rate:>9.0f}"
                  + (f"  ERRORS: {errors[0]}" if errors else ""))
    by = {(r["writers"], r["organizations"]): r["events_per_second"] for r in results}
    ratio = by[(16, 4)] / by[(16, 1)] if by[(16, 1)] else 0.0
    scaling = by[(16, 4)] / by[(1, 4)] if by[(1, 4)] else 0.0
    report = audit_verify_report()
    print(f"    16 writers, 4 organizations / 1 organization: {ratio:.2f}x")
    print(f"    4 organizations, 16 writers / 1 writer: {scaling:.2f}x")
    print(f"    chains verified after the run: {'intact' if report.intact else 'BROKEN'} "
          f"({report.events} events)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "database": connection.vendor, "events_per_writer": events, "results": results,
        "ratio_4_orgs_vs_1_at_16_writers": round(ratio, 2),
        "ratio_16_vs_1_writers_at_4_orgs": round(scaling, 2),
        "chains_intact": report.intact,
    }, indent=2))
    print(f"==> wrote {OUT.relative_to(ROOT)}")
    failed = any(r["errors"] for r in results) or not report.intact
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
