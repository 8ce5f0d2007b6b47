"""Run one command as a child process group: stream its output line by line, redact secrets,
enforce a timeout and honour cancellation by killing the whole process tree.

This is the single adapter through which Instep runs `run:` steps, fastlane lanes and suites."""

from __future__ import annotations

import codecs
import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolrun.redaction import Redactor
from toolrun.sandbox import Sandbox

# A single "line" longer than this is split, so a tool that prints megabytes without a newline
# cannot grow our memory.
MAX_LINE_BYTES = 64 * 1024
KILL_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class ProcessResult:
    """How a process ended. `exit_code` is None when it was killed by us."""

    exit_code: int | None
    timed_out: bool
    canceled: bool
    duration_s: float
    tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.canceled


def _kill_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after `grace` seconds."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        if wait is None:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader exited; children that ignored SIGTERM still belong to the group.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def run_process(
    argv: Sequence[str] | str,
    *,
    cwd: Path | str,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    redactor: Redactor | None = None,
    shell: bool = False,
    tail_lines: int = 50,
    kill_grace: float = KILL_GRACE_SECONDS,
    on_start: Callable[[int], None] | None = None,
    sandbox: Sandbox | None = None,
) -> ProcessResult:
    """Run `argv` in a new session (inside `sandbox` when given), calling `on_line` with each
    redacted output line (stdout and stderr merged, decoded as UTF-8 with replacement). Returns
    when the process group is gone."""
    redact = redactor or Redactor()
    started = time.monotonic()
    if shell:
        argv = ["/bin/sh", "-c", argv if isinstance(argv, str) else " ".join(argv)]
    elif isinstance(argv, str):
        argv = [argv]
    if sandbox is not None:
        argv = sandbox.wrap(argv, cwd)
    proc = subprocess.Popen(
        list(argv),
        cwd=str(cwd),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if on_start is not None:
        on_start(proc.pid)
    tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
    reader_done = threading.Event()

    def emit(text: str) -> None:
        line = redact(text)
        tail.append(line)
        on_line(line)

    def pump() -> None:
        assert proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        carry = ""  # the end of an over-long line, held back so no secret is split in two
        try:
            while True:
                raw = proc.stdout.readline(MAX_LINE_BYTES)
                if not raw:
                    break
                text = carry + decoder.decode(raw)
                carry = ""
                if text.endswith("\n"):
                    emit(text.rstrip("\r\n"))
                    continue
                cut = redact.safe_cut(text)
                if cut == 0 and len(text) < MAX_LINE_BYTES * 4:
                    carry = text
                    continue
                emit(text[: cut or len(text)])
                carry = text[cut:] if cut else ""
            rest = carry + decoder.decode(b"", final=True)
            if rest:
                emit(rest.rstrip("\r\n"))
        finally:
            reader_done.set()

    reader = threading.Thread(target=pump, name=f"pump-{proc.pid}", daemon=True)
    reader.start()
    deadline = None if timeout is None else started + timeout
    timed_out = canceled = False
    while True:
        if proc.poll() is not None:
            break
        if cancel is not None and cancel.is_set():
            canceled = True
            _kill_group(proc, kill_grace)
            break
        if deadline is not None and time.monotonic() >= deadline:
            timed_out = True
            _kill_group(proc, kill_grace)
            break
        if cancel is not None:
            cancel.wait(0.05)
        else:
            time.sleep(0.05)
    proc.wait()
    # Grandchildren may still hold the pipe open after the leader exits: kill the group so
    # nothing is orphaned, then let the reader drain.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    reader_done.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()
    return ProcessResult(
        exit_code=None if (timed_out or canceled) else proc.returncode,
        timed_out=timed_out,
        canceled=canceled,
        duration_s=time.monotonic() - started,
        tail=list(tail),
    )
