"""Real processes for end-to-end tests: `instep serve` and `instep worker` as subprocesses,
the `instep` CLI, and polling with deadlines."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
INSTEP = [sys.executable, "-m", "orchestrator.cli.__main__"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 60, every: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class Instep:
    """One Instep installation: its environment, and the processes started for it."""

    def __init__(self, home: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("INSTEP_")},
            "INSTEP_HOME": str(home),
            "INSTEP_SECRET_KEY": "integration-secret-key-0123",
            "INSTEP_URL": self.url,
            "INSTEP_HEARTBEAT_SECONDS": "0.5",
            "INSTEP_RECONCILE_SECONDS": "0.5",
            **(extra_env or {}),
        }
        self.procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []
        self.token: str | None = None

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **({"INSTEP_TOKEN": self.token} if self.token else {})}
        proc = subprocess.run([*INSTEP, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"instep {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.home / f"{name}.out"
        self.home.mkdir(parents=True, exist_ok=True)
        out = log.open("wb")
        proc = subprocess.Popen(
            [*INSTEP, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append((name, proc, log))
        return proc

    def serve(self) -> None:
        proc = self.start("serve", "serve", "--port", str(self.port))

        def healthy() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"instep serve exited {proc.returncode}:\n{self.output('serve')}")
            try:
                return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for("instep serve to answer", healthy, timeout=60)
        self.token = self.cli_json("token", "create", "--role", "admin")["token"]

    def output(self, name: str) -> str:
        for n, _p, log in self.procs:
            if n == name:
                return log.read_text(errors="replace")[-5000:]
        return ""

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    def run(self, run_id: int) -> dict[str, Any]:
        with self.api() as c:
            return c.get(f"/api/runs/{run_id}").json()

    def wait_run(
        self,
        run_id: int,
        timeout: float = 120,
        states: tuple[str, ...] = ("succeeded", "failed", "canceled", "skipped"),
    ) -> dict[str, Any]:
        return wait_for(
            f"run {run_id} to reach {states}",
            lambda: (r := self.run(run_id))["status"] in states and r,
            timeout=timeout,
            every=0.2,
        )

    def stop(self) -> None:
        for _name, proc, _log in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
