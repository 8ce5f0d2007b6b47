"""How backends run outside tools: short commands to completion (through toolrun.process)
and long-lived ones (emulator, Appium) as background process groups with a log file.

Backends take a `CommandRunner`, so tests can check the exact command lines and feed recorded
output without running adb, emulator or simctl."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from toolrun.process import run_process


@dataclass(frozen=True)
class CommandOutput:
    argv: tuple[str, ...]
    exit_code: int | None
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class CommandNotFound(Exception):
    def __init__(self, tool: str, hint: str) -> None:
        super().__init__(f"`{tool}` was not found on PATH; {hint}")
        self.tool = tool


class Background(Protocol):
    """A long-lived child process group."""

    @property
    def pid(self) -> int: ...

    def exit_code(self) -> int | None:
        """None while running."""
        ...

    def stop(self, grace_s: float = 5.0) -> None: ...


class CommandRunner(Protocol):
    def run(self, argv: Sequence[str], *, timeout: float) -> CommandOutput: ...

    def spawn(
        self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None
    ) -> Background: ...


class BackgroundProcess:
    """Popen in a new session with output appended to `log_path`; stop kills the whole group."""

    def __init__(self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self._proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=dict(env) if env is not None else None,
            )
        except OSError:
            self._log.close()
            raise

    @property
    def pid(self) -> int:
        return self._proc.pid

    def exit_code(self) -> int | None:
        return self._proc.poll()

    def stop(self, grace_s: float = 5.0) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self._proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                self._proc.wait(timeout=grace_s)
                # The leader is gone; make sure nothing it started outlives it.
                os.killpg(self._proc.pid, signal.SIGKILL)
            except subprocess.TimeoutExpired:
                continue
            except (ProcessLookupError, PermissionError):
                pass
            break
        self._proc.wait()
        self._log.close()


class ProcessCommandRunner:
    """The real runner: `toolrun.process.run_process` for commands, BackgroundProcess to spawn."""

    def __init__(self, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._cwd = cwd or Path.cwd()

    def run(self, argv: Sequence[str], *, timeout: float) -> CommandOutput:
        lines: list[str] = []
        try:
            result = run_process(
                list(argv), cwd=self._cwd, env=self._env, on_line=lines.append, timeout=timeout
            )
        except FileNotFoundError:
            raise CommandNotFound(argv[0], "install it or put it on PATH") from None
        return CommandOutput(tuple(argv), result.exit_code, "\n".join(lines), result.timed_out)

    def spawn(
        self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None
    ) -> Background:
        try:
            return BackgroundProcess(argv, log_path=log_path, env={**self._env, **(env or {})})
        except FileNotFoundError:
            raise CommandNotFound(argv[0], "install it or put it on PATH") from None
