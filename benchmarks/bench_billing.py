"""Billing on the demo clinic: charge capture and 837 generation for a month.

Builds the demo clinic (`--participants`, default 5,000) in a temporary SQLite database,
clears the claims and charges the demo made, then times, for the demo's last 30 days:

- charge capture (attended sessions with signed notes -> charge lines, every participant),
- claim building with the scrubber (every participant),
- 837I and 837P writing for every claim that came out ready (text only, nothing sent).

Prints rows per second for each step and a ratio measured in the same run (837 claims per
second / claims built and scrubbed per second: how much cheaper writing is than
scrubbing). Writes var/bench/billing.json.

    .venv/bin/python benchmarks/bench_billing.py [--participants N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "billing.json"


def _setup(tmp: str) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["OPENIOP_VAR_DIR"] = tmp
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    os.environ["OPENIOP_REQUIRE_MFA"] = "0"
    os.environ.setdefault("OPENIOP_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="openiop-bench-")
    try:
        _setup(tmp)
        return _run(args.participants)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _clear() -> None:
    from openiop.billing.models import (
        Adjustment,
        Charge,
        Claim,
        ClaimBatch,
        ClaimLine,
        ClaimPayment,
        Remittance,
    )

    for model in (Adjustment, ClaimPayment, Remittance, ClaimLine, Claim, ClaimBatch, Charge):
        model.objects.all().delete()


def _run(n: int) -> int:
    from django.core.management import call_command
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.billing import services
    from openiop.billing.models import BillingProfile, Charge, Claim
    from openiop.billing.x12 import build as x12_build
    from openiop.billing.x12.writer import write_837
    from openiop.demo.generator import build_demo

    print(f"==> migrating a temporary SQLite database and building a {n:,}-participant demo")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_demo(participants=n, out=open(os.devnull, "w"))  # noqa: SIM115
    print(f"    demo built in {time.perf_counter() - started:.1f} s")
    _clear()
    biller = User.objects.get(username="billing")
    org = biller.staff_profile.organization
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=29)

    t0 = time.perf_counter()
    capture = services.capture_charges(actor=biller, organization=org, start=start, end=end)
    capture_s = time.perf_counter() - t0
    charges = Charge.objects.count()

    t0 = time.perf_counter()
    claims = services.build_claims(actor=biller, organization=org, period_start=start,
                                   period_end=end)
    build_s = time.perf_counter() - t0

    profile = BillingProfile.objects.get(organization=org)
    written = 0
    size = 0
    t0 = time.perf_counter()
    for claim_type in ("I", "P"):
        ready = list(Claim.objects.filter(organization=org, claim_type=claim_type,
                                          status="ready"))
        if ready:
            text = write_837(x12_build.envelope(profile, timezone.localtime()),
                             x12_build.claims_data(profile, ready))
            written += len(ready)
            size += len(text)
    write_s = time.perf_counter() - t0

    def rate(count: int, seconds: float) -> float:
        return round(count / seconds, 1) if seconds > 0 else 0.0

    rows = {
        "capture": {"rows": charges, "seconds": round(capture_s, 2),
                    "per_second": rate(charges, capture_s), "participant_days": capture.days},
        "build_and_scrub": {"rows": len(claims), "seconds": round(build_s, 2),
                            "per_second": rate(len(claims), build_s)},
        "write_837": {"rows": written, "seconds": round(write_s, 2),
                      "per_second": rate(written, write_s), "bytes": size},
    }
    ratio = (rows["write_837"]["per_second"] / rows["build_and_scrub"]["per_second"]
             if rows["build_and_scrub"]["per_second"] else 0.0)
    print(f"\n{'step':<18}{'rows':>9}{'seconds':>10}{'rows/s':>10}")
    for name, row in rows.items():
        print(f"{name:<18}{row['rows']:>9}{row['seconds']:>10.2f}{row['per_second']:>10.1f}")
    print(f"\n837 claims/s over build-and-scrub claims/s: {ratio:.1f}x")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"participants": n, "days": 30, "steps": rows,
                               "write_over_scrub": round(ratio, 2)}, indent=2))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
