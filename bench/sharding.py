"""Duration-based (LPT) sharding vs splitting by test count, against the lower bound
max(total / shards, longest test), for 300 tests with long-tailed (lognormal) durations.

    python bench/sharding.py            # the table and ratios (target: LPT within 5% of the bound)
    python bench/sharding.py --suite    # also the sample app's suite wall time on 1 and 2 devices
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device_farm.sharding import lower_bound, makespan, plan_shards, split_by_count  # noqa: E402


def suite_durations(n: int = 300, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    # Median ~4 s, a long tail up to a few minutes, like real UI suites.
    return {f"test_{i:03d}": round(rng.lognormvariate(1.4, 1.0), 3) for i in range(n)}


def table() -> bool:
    durations = suite_durations()
    tests = list(durations)
    values = list(durations.values())
    print(
        f"300 tests, total {sum(values):.0f} s, longest {max(values):.1f} s, median {sorted(values)[150]:.1f} s"
    )
    print(
        f"{'shards':>6} {'bound s':>9} {'LPT s':>9} {'count s':>9} {'LPT/bound':>10} {'count/bound':>12} {'count/LPT':>10}"
    )
    ok = True
    for shards in range(2, 17):
        bound = lower_bound(values, shards)
        started = time.perf_counter()
        lpt = plan_shards(tests, durations, shards).predicted_makespan_s
        plan_ms = (time.perf_counter() - started) * 1000
        by_count = makespan(split_by_count(tests, shards), durations)
        ok &= lpt / bound <= 1.05
        print(
            f"{shards:>6} {bound:>9.1f} {lpt:>9.1f} {by_count:>9.1f} {lpt / bound:>10.3f} "
            f"{by_count / bound:>12.3f} {by_count / lpt:>10.2f}   (plan {plan_ms:.1f} ms)"
        )
    print("target LPT within 5% of the lower bound:", "met" if ok else "NOT met")
    return ok


def suite_wall_time() -> None:
    """Wall time of `instep suite run` on the sample app with 1 and 2 Chromium devices."""
    results = {}
    for devices in (["iphone-15"], ["iphone-15", "pixel-8"]):
        with tempfile.TemporaryDirectory() as home:
            argv = [sys.executable, "-m", "orchestrator.cli", "suite", "run", "acceptance",
                    "--path", "examples/sample-app/tests/acceptance", "--app", "examples/sample-app/www",
                    "--artifacts", f"{home}/artifacts", "--json"]  # fmt: skip
            for d in devices:
                argv += ["--device", d]
            env = {
                "INSTEP_HOME": home,
                "INSTEP_APPIUM_HOME": str(ROOT / "tools/appium/home"),
                "PATH": "/usr/bin:/bin",
            }
            started = time.monotonic()
            proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
            wall = time.monotonic() - started
            report = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
            results[len(devices)] = wall
            print(
                f"{len(devices)} device(s): wall {wall:.1f} s (suite {report.get('wall_s', float('nan')):.1f} s, "
                f"passed={report.get('passed')}, makespan actual {report.get('actual_makespan_s', float('nan')):.1f} s)"
            )
    print(f"speed-up 2 devices vs 1: {results[1] / results[2]:.2f}x")


if __name__ == "__main__":
    met = table()
    if "--suite" in sys.argv:
        suite_wall_time()
    sys.exit(0 if met else 1)
