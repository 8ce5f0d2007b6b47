import os
import sys
import threading
import time
from pathlib import Path

import pytest

from toolrun.process import run_process
from toolrun.redaction import Redactor


def _env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}


def test_lines_stream_in_order_with_secrets_masked(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_process(
        "echo start; echo token=s3cr3t-value >&2; printf 'no newline'",
        shell=True,
        cwd=tmp_path,
        env=_env(),
        on_line=lines.append,
        redactor=Redactor(["s3cr3t-value"]),
    )
    assert result.ok
    assert lines == ["start", "token=***", "no newline"]


def test_non_utf8_bytes_and_huge_output_are_kept_line_by_line(tmp_path: Path) -> None:
    count = 0
    last = ""

    def on_line(line: str) -> None:
        nonlocal count, last
        count += 1
        last = line

    script = "import sys\nfor i in range(100000): sys.stdout.buffer.write(b'line %d \\xff\\xfe\\n' % i)\n"
    result = run_process([sys.executable, "-c", script], cwd=tmp_path, env=_env(), on_line=on_line)
    assert result.exit_code == 0
    assert count == 100000
    assert last == "line 99999 \ufffd\ufffd"


def test_timeout_kills_the_whole_process_tree(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    result = run_process(
        f"sleep 300 & echo $! > {pidfile}; wait",
        shell=True,
        cwd=tmp_path,
        env=_env(),
        on_line=lambda _l: None,
        timeout=1.0,
        kill_grace=1.0,
    )
    assert result.timed_out and result.exit_code is None
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"grandchild {child} survived the timeout")


def test_cancel_stops_a_running_command(tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        cancel.set()

    result = run_process(
        "echo ready; exec sleep 300",
        shell=True,
        cwd=tmp_path,
        env=_env(),
        on_line=on_line,
        cancel=cancel,
    )
    assert result.canceled and not result.ok
    assert seen == ["ready"]
    assert result.duration_s < 60


def test_exit_code_and_tail_are_reported(tmp_path: Path) -> None:
    result = run_process(
        "for i in 1 2 3; do echo $i; done; exit 3",
        shell=True,
        cwd=tmp_path,
        env=_env(),
        on_line=lambda _l: None,
        tail_lines=2,
    )
    assert result.exit_code == 3 and not result.ok
    assert result.tail == ["2", "3"]
