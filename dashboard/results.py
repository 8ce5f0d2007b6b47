"""Test results of a job as one list, pure: lane JUnit cases and device-suite tests (with their
flaky verdicts) in the same shape, failures first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Failures first, then flaky (passed on a retry), then skipped, then passed.
_ORDER = {"failed": 0, "error": 0, "flaky": 1, "skipped": 2, "passed": 3}


@dataclass(frozen=True)
class ResultRow:
    name: str
    status: str
    where: str = ""
    duration_s: float | None = None
    message: str = ""
    attempts: int = 1
    quarantined: bool = False

    @property
    def flaky(self) -> bool:
        return self.status == "flaky"

    @property
    def failing(self) -> bool:
        return self.status in ("failed", "error")


def result_rows(results: dict[str, Any] | None, only: frozenset[str] | None = None) -> list[ResultRow]:
    """Every test a job reported (or those whose status is in `only`), failures first (then
    flaky, skipped, passed; by name within)."""
    rows: list[ResultRow] = []
    if not results:
        return rows
    for case in results.get("tests") or []:
        if only is not None and case.get("status", "passed") not in only:
            continue
        rows.append(
            ResultRow(
                name=str(case.get("name") or ""),
                status=str(case.get("status") or "passed"),
                where=str(case.get("classname") or case.get("suite") or ""),
                duration_s=case.get("duration_s"),
                message=str(case.get("message") or ""),
            )
        )
    for device, suite in (results.get("suites") or {}).items():
        for test in suite.get("tests") or []:
            if only is not None and test.get("status", "passed") not in only:
                continue
            attempts = test.get("attempts") or []
            failed = [a for a in attempts if a.get("status") not in ("passed", "skipped")]
            rows.append(
                ResultRow(
                    name=str(test.get("id") or ""),
                    status=str(test.get("status") or "passed"),
                    where=str(device),
                    duration_s=sum(float(a.get("duration_s") or 0) for a in attempts) or None,
                    message=str((failed[-1].get("message") if failed else "") or ""),
                    attempts=max(1, len(attempts)),
                    quarantined=bool(test.get("quarantined")),
                )
            )
    return sorted(rows, key=lambda r: (_ORDER.get(r.status, 0), r.where, r.name))


def counts(rows: list[ResultRow]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[row.status] = out.get(row.status, 0) + 1
    return out


def status_counts(results: dict[str, Any] | None) -> dict[str, int]:
    """How many tests of each status a job reported (without building the rows)."""
    out: dict[str, int] = {}
    if not results:
        return out
    cases = list(results.get("tests") or [])
    for suite in (results.get("suites") or {}).values():
        cases += suite.get("tests") or []
    for case in cases:
        status = str(case.get("status") or "passed")
        out[status] = out.get(status, 0) + 1
    return out
