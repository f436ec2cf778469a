"""Billing on the demo clinic: charge capture and 837 generation for a month, in rows and
claims per second.

Builds the demo clinic (`--participants`, default 5,000) in a temporary SQLite database,
clears the claims and charges the demo made, then times, for the demo's last `--days` days
(default 30):

- charge capture (attended sessions with signed notes -> charge lines, every participant),
- claim building with the scrubber, first for a sample of the participants (`--sample`,
  default 10 %), then for all the others,
- 837I and 837P writing (text only, nothing sent), first for the sample's ready claims,
  then for every ready claim.

Prints each step's rate beside its floor (rate / floor: under 1 is too slow), and ratios
measured in the same run: claims per second for the rest of the clinic over the sample (near
1 when the cost of a claim does not grow with the number of claims), and 837 claims per
second over build-and-scrub claims per second. Prints the load average before and after
(timings on a loaded machine are not comparable) and writes var/bench/billing.json.
Exits 1 when a rate is under its floor.

    .venv/bin/python benchmarks/bench_billing.py [--participants N] [--days N] [--sample F]
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "billing.json"
# Floors on the 2-core reference machine, SQLite (rows per second), set at about a third of
# what the 5,000-participant demo's month measured there on 2026-11-30 (load average 1-2:
# capture 4,890 lines/s, build and scrub 178-216 claims/s, 837 writing 800-1,230 claims/s),
# so a change that makes any step several times slower fails its line.
FLOOR = {"capture": 1500.0, "build_sample": 60.0, "build_rest": 60.0, "write_sample": 300.0,
         "write_all": 250.0}


def _setup(tmp: str) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["OPENIOP_VAR_DIR"] = tmp
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    os.environ["OPENIOP_REQUIRE_MFA"] = "0"
    os.environ.setdefault("OPENIOP_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not every platform has it
        return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000,
                        help="participants in the demo clinic (default 5000)")
    parser.add_argument("--days", type=int, default=30,
                        help="days of charges and claims, ending yesterday (default 30, at most 31)")
    parser.add_argument("--sample", type=float, default=0.1,
                        help="share of participants in the sample (default 0.1)")
    args = parser.parse_args()
    if args.participants < 20:
        parser.error("--participants: 20 or more")
    if not 1 <= args.days <= 31:
        parser.error("--days: from 1 to 31 (capture takes at most a month at a time)")
    if not 0 < args.sample < 1:
        parser.error("--sample: a share between 0 and 1, e.g. 0.1")
    tmp = tempfile.mkdtemp(prefix="openiop-bench-")
    try:
        _setup(tmp)
        return _run(args.participants, args.days, args.sample)
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


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def _row(name: str, count: int, seconds: float, **extra: Any) -> dict[str, Any]:
    rate = _rate(count, seconds)
    return {"rows": count, "seconds": round(seconds, 2), "per_second": rate,
            "floor_per_second": FLOOR[name], "over_floor": round(rate / FLOOR[name], 2),
            **extra}


def _run(n: int, days: int, share: float) -> int:
    from django.core.management import call_command
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.billing import services
    from openiop.billing.models import BillingProfile, Charge, Claim
    from openiop.billing.x12 import build as x12_build
    from openiop.billing.x12.writer import write_837
    from openiop.demo.generator import build_demo

    load_before = _load()
    print(f"load average before: {load_before}", flush=True)
    print(f"==> migrating a temporary SQLite database and building a {n:,}-participant demo")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_demo(participants=n, out=open(os.devnull, "w"))  # noqa: SIM115
    demo_seconds = round(time.perf_counter() - started, 1)
    print(f"    demo built in {demo_seconds} s")
    _clear()
    biller = User.objects.get(username="billing")
    org = biller.staff_profile.organization
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    rows: dict[str, dict[str, Any]] = {}

    t0 = time.perf_counter()
    capture = services.capture_charges(actor=biller, organization=org, start=start, end=end)
    seconds = time.perf_counter() - t0
    rows["capture"] = _row("capture", Charge.objects.count(), seconds,
                           participant_days=capture.days)

    # The sample first, then everyone else: the same work per claim, in batches of very
    # different sizes.
    people = sorted(set(Charge.objects.values_list("participant_id", flat=True)))
    cut = max(1, round(len(people) * share))
    for name, ids, count in (("build_sample", people[:cut], cut),
                             ("build_rest", None, len(people) - cut)):  # None: all still open
        t0 = time.perf_counter()
        claims = services.build_claims(actor=biller, organization=org, period_start=start,
                                       period_end=end, participant_ids=ids)
        rows[name] = _row(name, len(claims), time.perf_counter() - t0, participants=count)

    profile = BillingProfile.objects.get(organization=org)
    sample = set(people[:cut])
    for name, only_sample in (("write_sample", True), ("write_all", False)):
        written = size = 0
        t0 = time.perf_counter()
        for claim_type in ("I", "P"):
            ready = [c for c in Claim.objects.filter(organization=org, claim_type=claim_type,
                                                     status="ready").order_by("pk")
                     if not only_sample or c.participant_id in sample]
            if ready:
                text = write_837(x12_build.envelope(profile, timezone.localtime()),
                                 x12_build.claims_data(profile, ready))
                written += len(ready)
                size += len(text)
        rows[name] = _row(name, written, time.perf_counter() - t0, bytes=size)

    def ratio(a: str, b: str) -> float:
        return round(rows[a]["per_second"] / rows[b]["per_second"], 2) \
            if rows[b]["per_second"] else 0.0

    ratios = {"build_rest_over_sample": ratio("build_rest", "build_sample"),
              "write_all_over_sample": ratio("write_all", "write_sample"),
              "write_over_build": ratio("write_all", "build_rest")}
    load_after = _load()
    print(f"\n{n:,} participants, {days} days ({start} to {end}); "
          f"load average {load_before} -> {load_after}")
    print(f"{'step':<14}{'rows':>9}{'seconds':>10}{'rows/s':>10}{'floor':>8}{'rate/floor':>12}")
    failed = []
    for name, row in rows.items():
        flag = "" if row["over_floor"] >= 1 or not row["rows"] else "  UNDER FLOOR"
        if flag:
            failed.append(name)
        print(f"{name:<14}{row['rows']:>9}{row['seconds']:>10.2f}{row['per_second']:>10.1f}"
              f"{row['floor_per_second']:>8.0f}{row['over_floor']:>12.2f}{flag}")
    print("\nratios in this run:")
    print(f"  claims/s built and scrubbed, rest of the clinic / {share:.0%} sample: "
          f"{ratios['build_rest_over_sample']:.2f} (near 1: a claim costs the same in any batch)")
    print(f"  837 claims/s written, all / sample: {ratios['write_all_over_sample']:.2f}")
    print(f"  837 claims/s written / claims/s built and scrubbed: "
          f"{ratios['write_over_build']:.2f}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "participants": n, "days": days, "period": [str(start), str(end)],
        "sample_share": share, "demo_build_seconds": demo_seconds,
        "load_average_before": load_before, "load_average_after": load_after,
        "steps": rows, "ratios": ratios, "under_floor": failed}, indent=2) + "\n")
    print(f"wrote {OUT}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
