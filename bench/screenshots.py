"""Benchmark `instep screenshots diff` on a folder of phone screenshots (1170x2532, rendered by
headless Chromium) against odiff, npm pixelmatch 7.2.0 and PyPI pixelmatch, measured in the
same run. Checks that every count equals npm pixelmatch 7.2.0's and prints the peak memory.

    scripts/install-bench-screenshots.sh      # odiff-bin, pixelmatch@7.2.0, pngjs into tools/
    .venv/bin/python bench/screenshots.py [--pairs 100] [--pypi-sample 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from pixelmatch import pixelmatch as pypi_pixelmatch
from screenshots_corpus import Pair, build_corpus, find_chromium

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools" / "bench-screenshots"
ODIFF = TOOLS / "node_modules" / "@odiff" / "linux-x64" / "odiff"
JS_PIXELMATCH = Path(__file__).with_name("screenshots_pixelmatch.mjs")
THRESHOLD = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--pypi-sample", type=int, default=3, help="pairs timed with PyPI pixelmatch (slow)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench" / ".corpus" / "screenshots-v1")
    args = parser.parse_args()

    chromium, instep, node = (
        find_chromium(),
        shutil.which("instep", path=str(Path(sys.executable).parent)),
        shutil.which("node"),
    )
    missing = [
        what
        for what, ok in (("chromium", chromium), ("instep (pip install -e .)", instep), ("node", node))
        if not ok
    ]
    if not ODIFF.exists() or not (TOOLS / "node_modules" / "pixelmatch").exists():
        missing.append(f"odiff/pixelmatch in {TOOLS} (run scripts/install-bench-screenshots.sh)")
    if missing:
        print("missing: " + "; ".join(missing), file=sys.stderr)
        return 2

    pairs = build_corpus(args.corpus, args.pairs, chromium)
    kinds = Counter(p.kind for p in pairs)
    identical = sum(p.baseline.read_bytes() == p.candidate.read_bytes() for p in pairs)
    print(
        f"corpus: {len(pairs)} pairs of 1170x2532 PNGs in {args.corpus} ({dict(kinds)}; {identical} byte-identical)"
    )
    print(f"machine: {len(os.sched_getaffinity(0))} cores; every tool measured in this run, wall-clock\n")

    base_dir, cand_dir = args.corpus / "baseline", args.corpus / "candidate"
    with tempfile.TemporaryDirectory() as tmp:
        t_instep, doc, peak_tree, peak_single = run_instep(instep, base_dir, cand_dir, [])
        t_instep_out, _, peak_tree_out, _ = run_instep(instep, base_dir, cand_dir, ["--out", f"{tmp}/diffs"])
        t_npm, npm_counts = run_npm_pixelmatch(node, pairs, Path(tmp))
        t_odiff = run_odiff(pairs, Path(tmp))
    ours = {c["name"]: c["diff_pixels"] for c in doc["comparisons"]}
    t_pypi, pypi_note, pypi_ok = run_pypi(pairs, args.pypi_sample, ours)

    mismatches = {n: (ours.get(n), npm_counts.get(n)) for n in npm_counts if ours.get(n) != npm_counts.get(n)}
    changed = sum(1 for c in doc["comparisons"] if c["status"] == "changed")
    print(
        f"instep screenshots diff (counts only)  {t_instep:8.2f} s   {1000 * t_instep / len(pairs):6.1f} ms/pair"
    )
    print(
        f"instep screenshots diff --out DIR      {t_instep_out:8.2f} s   {1000 * t_instep_out / len(pairs):6.1f} ms/pair"
    )
    print(f"odiff {odiff_version()} (native binary, one process per pair) {t_odiff:8.2f} s")
    print(f"npm pixelmatch 7.2.0 + pngjs (one node process) {t_npm:8.2f} s")
    print(f"PyPI pixelmatch 0.4.0 {pypi_note}  {t_pypi:8.1f} s\n")
    print(
        f"ratio odiff / instep:           {t_odiff / t_instep:7.1f}x   (target > 1x)   with --out: {t_odiff / t_instep_out:.1f}x"
    )
    print(
        f"ratio npm pixelmatch / instep:  {t_npm / t_instep:7.1f}x   (target > 3x)   with --out: {t_npm / t_instep_out:.1f}x"
    )
    print(f"ratio PyPI pixelmatch / instep: {t_pypi / t_instep:7.0f}x   (target > 100x)")
    print(
        f"\ncounts equal to npm pixelmatch 7.2.0: {len(npm_counts) - len(mismatches)}/{len(npm_counts)} pairs"
        f" ({changed} changed){'' if not mismatches else f'  MISMATCHES: {mismatches}'}"
    )
    print(f"counts equal to PyPI pixelmatch on the timed sample: {pypi_ok}")
    print(
        f"peak RSS for {len(pairs)} pairs (sum over the instep process tree, sampled every 5 ms): "
        f"{peak_tree / 2**20:.0f} MB counts only, {peak_tree_out / 2**20:.0f} MB with --out; "
        f"largest single process {peak_single / 2**20:.0f} MB (target < 300 MB)"
    )
    return 0 if not mismatches else 1


def run_instep(instep: str, base: Path, cand: Path, extra: list[str]) -> tuple[float, dict, int, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [instep, "screenshots", "diff", str(base), str(cand), "--json", *extra], stdout=subprocess.PIPE
    )
    sampler = TreeRss(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.stop()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"instep failed with exit code {proc.returncode}")
    return elapsed, json.loads(out), sampler.peak, sampler.peak_single


def run_npm_pixelmatch(node: str, pairs: list[Pair], tmp: Path) -> tuple[float, dict[str, int | None]]:
    listing = tmp / "pairs.json"
    listing.write_text(
        json.dumps(
            [{"name": p.name, "baseline": str(p.baseline), "candidate": str(p.candidate)} for p in pairs]
        )
    )
    start = time.perf_counter()
    out = subprocess.run(
        [node, str(JS_PIXELMATCH), str(TOOLS), str(listing), str(THRESHOLD)], check=True, capture_output=True
    )
    return time.perf_counter() - start, json.loads(out.stdout)["counts"]


def run_odiff(pairs: list[Pair], tmp: Path) -> float:
    start = time.perf_counter()
    for n, pair in enumerate(pairs):
        result = subprocess.run(
            [
                str(ODIFF),
                str(pair.baseline),
                str(pair.candidate),
                str(tmp / f"odiff-{n}.png"),
                "--threshold",
                str(THRESHOLD),
                "--antialiasing",
            ],
            capture_output=True,
        )
        if result.returncode not in (0, 21, 22):
            raise SystemExit(f"odiff failed on {pair.name}: {result.stderr.decode()[:300]}")
    return time.perf_counter() - start


def run_pypi(pairs: list[Pair], sample: int, ours: dict[str, int | None]) -> tuple[float, str, str]:
    """Time PyPI pixelmatch (decoding with Pillow) on `sample` pairs spread over the kinds, then
    extrapolate per kind to the whole folder; it takes seconds per pair."""
    by_kind: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_kind.setdefault(pair.kind, []).append(pair)
    chosen = [group[i] for i in range(sample) for group in by_kind.values() if i < len(group)][
        : max(sample, 1)
    ]
    seconds: dict[str, list[float]] = {}
    equal = 0
    for pair in chosen:
        start = time.perf_counter()
        a = np.asarray(Image.open(pair.baseline).convert("RGBA"))
        b = np.asarray(Image.open(pair.candidate).convert("RGBA"))
        count = pypi_pixelmatch(a.tobytes(), b.tobytes(), a.shape[1], a.shape[0], None, threshold=THRESHOLD)
        seconds.setdefault(pair.kind, []).append(time.perf_counter() - start)
        equal += count == ours.get(pair.name)
    overall = float(np.mean([s for v in seconds.values() for s in v]))
    total = sum(float(np.mean(seconds.get(kind, [overall]))) * len(group) for kind, group in by_kind.items())
    per_kind = ", ".join(f"{k} {np.mean(v):.1f} s" for k, v in seconds.items())
    note = f"(EXTRAPOLATED from {len(chosen)} timed pairs: {per_kind} per pair)"
    return total, note, f"{equal}/{len(chosen)}"


def odiff_version() -> str:
    out = subprocess.run([str(ODIFF), "--version"], capture_output=True, text=True)
    text = (out.stdout or out.stderr).strip()
    return text.split()[-1] if text else "?"


class TreeRss(threading.Thread):
    """Samples the summed resident memory of a process and its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_single, self._done = pid, 0, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.005):
            sizes = [_rss(p) for p in _tree(self.pid)]
            self.peak = max(self.peak, sum(sizes))
            self.peak_single = max(self.peak_single, *sizes)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except OSError:
            pass
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
