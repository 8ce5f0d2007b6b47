"""instep.yml benchmark: reading and planning within the limits, and refusing what is past them.

1. Planning order: `planner.stage_order` (Kahn, heap by file position) against the earliest-ready
   rescan it replaced, on a chain of stages written last-first, in the same run. Then the new one
   alone on 71,150 stages (the 5 MB file that once did not finish planning in 268 s).
2. A 1 MB file with the most stages allowed (1,000, each with a ~1 KB script): parse, then plan.
3. Refusals: the 5 MB / 71,150-stage file (size), billion laughs 6 and 9 levels deep (aliases),
   a self-referencing alias and 20,000 nested lists (depth): time and peak traced memory.

    python bench/spec.py [--old-stages 4000]

Times are CPU seconds of this process (time.process_time), so a busy machine distorts them less."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator.planner import plan_jobs, stage_order  # noqa: E402
from orchestrator.spec import SpecError, StageSpec, parse_spec, parse_spec_bytes  # noqa: E402
from orchestrator.spec.checks import find_problems  # noqa: E402
from orchestrator.spec.document import read_document  # noqa: E402
from orchestrator.spec.limits import MAX_FILE_BYTES, MAX_STAGES  # noqa: E402


def rescan_order(stages: Mapping[str, StageSpec]) -> list[str]:
    """The order before: place the first stage in file order whose needs are placed; repeat."""
    placed: dict[str, None] = {}
    while len(placed) < len(stages):
        ready = next(n for n, s in stages.items() if n not in placed and all(d in placed for d in s.needs))
        placed[ready] = None
    return list(placed)


def chain(n: int) -> dict[str, StageSpec]:
    return {f"s{i}": StageSpec(run="true", needs=(f"s{i - 1}",) if i else ()) for i in reversed(range(n))}


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def laughs(levels: int) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    names = "abcdefghijklmnop"
    for prev, name in zip(names[: levels - 1], names[1:levels], strict=True):
        text += f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    return text


def one_megabyte_pipeline() -> str:
    head = "version: 1\nplatforms: {android: {}, ios: {}}\nstages:\n"
    body = []
    script = "".join(
        f"      ./gradlew :module{j}:test --tests 'com.shop.Suite{j}' --info\n" for j in range(15)
    )
    for i in range(MAX_STAGES):
        needs = f"[s{i - 1:04}]" if i else "[]"
        body.append(f"  s{i:04}:\n    needs: {needs}\n    env: {{SHARD: '{i}'}}\n    run: |\n{script}")
    text = head + "".join(body)
    while len(text.encode()) > MAX_FILE_BYTES:  # trim the last script lines to fit exactly under 1 MB
        text = text[: text.rstrip("\n").rfind("\n") + 1]
    return text


def refusal(label: str, raw: bytes) -> None:
    tracemalloc.start()
    start = time.process_time()
    try:
        parse_spec_bytes(raw)
        first = "accepted?!"
    except SpecError as exc:
        first = str(exc.errors[0])
    elapsed = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"  {label:<34} {len(raw):>9,} B  {elapsed * 1000:8.1f} ms  peak {peak / 1e6:6.1f} MB  {first[:90]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--old-stages", type=int, default=4000, help="chain length for the old order")
    args = parser.parse_args()

    print("1. planning order, chain written last-first")
    stages = chain(args.old_stages)
    old = timed(lambda: rescan_order(stages))
    new = timed(lambda: stage_order(stages), repeat=5)
    assert rescan_order(stages) == stage_order(stages)
    print(
        f"  {args.old_stages:,} stages: rescan {old * 1000:.0f} ms, Kahn {new * 1000:.1f} ms ({old / new:.0f}x)"
    )
    big = chain(71_150)
    print(f"  71,150 stages: Kahn {timed(lambda: stage_order(big), repeat=3) * 1000:.0f} ms")

    print("2. a 1 MB file with 1,000 stages, two platforms")
    text = one_megabyte_pipeline()
    parsed = timed(lambda: parse_spec(text))
    spec = parse_spec(text)
    planned = timed(lambda: plan_jobs(spec), repeat=5)
    print(
        f"  {len(text.encode()):,} bytes: parse+validate {parsed * 1000:.0f} ms, "
        f"plan {planned * 1000:.0f} ms ({len(plan_jobs(spec)):,} jobs)"
    )

    print("   the same with needs on the 90 stages before each (85,905 needs, 0.5 MB)")
    dense = "version: 1\nplatforms: {android: {}}\nstages:\n" + "".join(
        f"  s{i}: {{run: x, needs: [{', '.join(f's{j}' for j in range(max(0, i - 90), i))}]}}\n"
        for i in range(1000)
    )
    read = timed(lambda: read_document(dense))
    checked = timed(lambda: parse_spec(dense))
    spec = parse_spec(dense)
    print(
        f"  read {read * 1000:.0f} ms, parse+validate {checked * 1000:.0f} ms "
        f"(cross-stage checks {timed(lambda: find_problems(spec.stages, list(spec.stages), spec.platforms)) * 1000:.0f} ms), "
        f"plan {timed(lambda: plan_jobs(spec)) * 1000:.0f} ms"
    )

    print("3. refusals")
    stage = "  stage-{i:05}:\n    run: ./gradlew test-shard-{i:05}\n    needs: stage-{p:05}\n"
    five = "version: 1\nplatforms: {android: {}}\nstages:\n" + "".join(
        stage.format(i=i, p=i - 1) for i in range(71_150)
    )
    refusal("71,150 stages (size)", five.encode())
    refusal("billion laughs, 6 levels", laughs(6).encode())
    refusal("billion laughs, 9 levels", laughs(9).encode())
    refusal("self-referencing alias", b"x: &x [*x]\n")
    refusal("20,000 nested lists", b"x: " + b"[" * 20_000 + b"]" * 20_000 + b"\n")


if __name__ == "__main__":
    main()
