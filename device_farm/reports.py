"""What a suite run produced: per-test results over attempts, per-shard timings, the verdict;
as JSON for `--json` and the job's results, and as a combined JUnit file for `--junit`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device_farm.outcomes import Final, TestResult, Verdict


@dataclass(frozen=True)
class ShardReport:
    round: int  # 0 for the first run, 1.. for retry rounds
    index: int
    device: str
    tests: tuple[str, ...]
    predicted_s: float
    # Sum of the JUnit durations of this shard's tests: comparable with `predicted_s`.
    actual_s: float
    wall_s: float
    error: str | None = None
    artifacts_dir: str = ""


@dataclass(frozen=True)
class SuiteReport:
    suite: str
    results: tuple[TestResult, ...]
    shards: tuple[ShardReport, ...]
    verdict: Verdict
    wall_s: float
    errors: tuple[str, ...] = ()
    artifacts_dir: str = ""

    @property
    def passed(self) -> bool:
        """The verdict decides; shard errors whose tests passed on a retry are reported only."""
        return self.verdict.passed

    def _first_round(self) -> list[ShardReport]:
        return [s for s in self.shards if s.round == 0]

    @property
    def predicted_makespan_s(self) -> float:
        return max((s.predicted_s for s in self._first_round()), default=0.0)

    @property
    def actual_makespan_s(self) -> float:
        return max((s.actual_s for s in self._first_round()), default=0.0)

    def counts(self) -> dict[str, int]:
        out = {f.value: 0 for f in Final}
        for r in self.results:
            out[r.final.value] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "passed": self.passed,
            "reasons": [*self.errors, *self.verdict.reasons],
            "counts": self.counts(),
            "flaky": list(self.verdict.flaky),
            "quarantined_failing": list(self.verdict.quarantined_failing),
            "predicted_makespan_s": round(self.predicted_makespan_s, 3),
            "actual_makespan_s": round(self.actual_makespan_s, 3),
            "wall_s": round(self.wall_s, 3),
            "artifacts_dir": self.artifacts_dir,
            "tests": [
                {
                    "id": r.test_id,
                    "status": r.final.value,
                    "quarantined": r.quarantined,
                    "attempts": [
                        {
                            "status": a.status.value,
                            "duration_s": round(a.duration_s, 3),
                            "device": a.device,
                            "shard": a.shard,
                            "message": a.message,
                            "artifacts": list(a.artifacts),
                        }
                        for a in r.attempts
                    ],
                }
                for r in self.results
            ],
            "shards": [
                {
                    "round": s.round,
                    "index": s.index,
                    "device": s.device,
                    "tests": list(s.tests),
                    "predicted_s": round(s.predicted_s, 3),
                    "actual_s": round(s.actual_s, 3),
                    "wall_s": round(s.wall_s, 3),
                    "error": s.error,
                    "artifacts_dir": s.artifacts_dir,
                }
                for s in self.shards
            ],
        }


def write_junit(report: SuiteReport, path: Path) -> None:
    """One <testsuite> with each test's final result; flaky tests pass with an `instep.flaky`
    property and every attempt listed in system-out."""
    counts = report.counts()
    suite = ET.Element(
        "testsuite",
        name=f"instep.{report.suite}",
        tests=str(len(report.results)),
        failures=str(sum(1 for r in report.results if r.final == Final.FAILED)),
        errors=str(sum(1 for r in report.results if r.final == Final.ERROR)),
        skipped=str(counts[Final.SKIPPED.value]),
        time=f"{report.wall_s:.3f}",
    )
    for r in report.results:
        classname, _, name = r.test_id.rpartition("::")
        last = r.attempts[-1] if r.attempts else None
        case = ET.SubElement(
            suite,
            "testcase",
            classname=classname.replace("/", ".").removesuffix(".py"),
            name=name,
            time=f"{last.duration_s if last else 0:.3f}",
        )
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="instep.attempts", value=str(len(r.attempts)))
        if r.final == Final.FLAKY:
            ET.SubElement(props, "property", name="instep.flaky", value="true")
        if r.quarantined:
            ET.SubElement(props, "property", name="instep.quarantined", value="true")
        message = last.message if last else "no result"
        if r.final == Final.FAILED:
            ET.SubElement(case, "failure", message=message[:500]).text = message
        elif r.final == Final.ERROR:
            ET.SubElement(case, "error", message=message[:500]).text = message
        elif r.final == Final.SKIPPED:
            ET.SubElement(case, "skipped", message=message[:500])
        ET.SubElement(case, "system-out").text = "\n".join(
            f"attempt {i + 1}: {a.status.value} on {a.device} (shard {a.shard}) in {a.duration_s:.2f} s"
            + (f": {a.message.splitlines()[0]}" if a.message else "")
            for i, a in enumerate(r.attempts)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
