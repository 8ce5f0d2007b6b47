"""What the webhook benchmarks share: the pipeline they push (on a branch it does not build, so
the webhook path and planning are measured, not builds), signed GitHub pushes sent open-loop at a
fixed rate to a running `instep serve`, and percentiles."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from orchestrator.webhooks import sign

PIPELINE = (
    'version: 1\ntriggers: {branches: ["main"]}\nplatforms: {android: {}}\nstages:\n  unit: {run: "true"}\n'
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def send_pushes(
    url: str,
    secret: str,
    sha: str,
    rate: float,
    seconds: float,
    workers: int = 32,
    repository: str = "acme/shop",
) -> tuple[list[float], list[int]]:
    """`rate * seconds` signed pushes of `sha` to refs/heads/bench of `repository`, each sent on
    schedule whatever the previous answers took; every answer's latency (seconds) and status."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=workers * 2))

    def push() -> None:
        body = json.dumps(
            {
                "ref": "refs/heads/bench",
                "before": "0" * 40,
                "after": sha,
                "repository": {"full_name": repository},
                "pusher": {"name": "bench"},
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret, body),
        }
        started = time.perf_counter()
        r = client.post(f"{url}/api/webhooks/github", content=body, headers=headers)
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            statuses.append(r.status_code)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(push)
    client.close()
    return latencies, statuses
