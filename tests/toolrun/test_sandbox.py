"""Jobs under bubblewrap: they write only their own folders, see nothing of Instep's home or of
other processes, and leave no process behind — not even one started with setsid."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import processes_with_env, require_service
from toolrun import sandbox as sandbox_module
from toolrun.process import run_process
from toolrun.sandbox import Sandbox, SandboxUnavailable, find_bwrap, require_sandbox


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    require_service("bubblewrap", find_bwrap() is not None, "apt-get install bubblewrap")
    home = tmp_path / "home"
    paths = {
        "home": home,
        "key": home / "secret_key",
        "db": home / "instep.db",
        "workspace": home / "workspaces" / "job-1" / "src",
        "artifacts": home / "workspaces" / "job-1" / "artifacts",
        "other": home / "workspaces" / "job-2" / "src",
    }
    for name in ("workspace", "artifacts", "other"):
        paths[name].mkdir(parents=True)
    paths["key"].write_text("server-secret-key")
    paths["db"].write_text("SQLite format 3")
    (paths["other"] / "their-file").write_text("another job's code")
    return paths


def _run(layout: dict[str, Path], script: str, env: dict[str, str] | None = None) -> tuple[int | None, str]:
    # The Python environment stays visible as the job sandbox keeps it (a CI clone may live in /tmp).
    box = Sandbox(
        find_bwrap() or "bwrap",
        writable=(layout["workspace"], layout["artifacts"]),
        hidden=(layout["home"],),
        visible=(Path(sys.prefix),),
    )
    lines: list[str] = []
    result = run_process(
        ["/bin/sh", "-c", script],
        cwd=layout["workspace"],
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **(env or {})},
        on_line=lines.append,
        timeout=60,
        sandbox=box,
    )
    return result.exit_code, "\n".join(lines)


def test_a_job_cannot_read_the_key_the_database_or_another_jobs_workspace(layout: dict[str, Path]) -> None:
    code, out = _run(
        layout,
        'cat "$PWD/../../../secret_key"; cat ../../../instep.db; ls ../../job-2/src; '
        f"cat {layout['key']}; ls {layout['home']}; echo done",
    )
    assert "server-secret-key" not in out and "SQLite format" not in out and "their-file" not in out
    assert out.splitlines()[-2:] == ["workspaces", "done"], out  # only the job's own folders exist


def test_other_processes_and_their_environment_are_invisible(layout: dict[str, Path]) -> None:
    marker = f"INSTEP_TEST_OUTSIDE={uuid.uuid4().hex}"
    name, value = marker.split("=")
    outside = subprocess.Popen(["sleep", "30"], env={**os.environ, name: value})
    try:
        code, out = _run(
            layout, "ls /proc | grep -c '^[0-9]'; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'"
        )
        assert value not in out
        assert int(out.splitlines()[0]) <= 6, out  # the sandbox's own few processes
        assert "INSTEP_SECRET_KEY" not in out
    finally:
        outside.kill()
        outside.wait()


def test_only_the_workspace_and_artifacts_are_writable(layout: dict[str, Path]) -> None:
    code, out = _run(
        layout,
        'echo built > app.txt && echo log > "$ARTIFACTS/report.txt" && echo ok; '
        f"echo x > {Path(sys.executable).parent}/evil 2>&1 || echo refused; touch /tmp/scratch && echo tmp",
        env={"ARTIFACTS": str(layout["artifacts"])},
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "ok" and lines[-2:] == ["refused", "tmp"], out
    assert "Read-only file system" in out
    assert (layout["workspace"] / "app.txt").read_text() == "built\n"
    assert (layout["artifacts"] / "report.txt").read_text() == "log\n"
    assert not (Path(sys.executable).parent / "evil").exists()


def test_a_setsid_child_ends_with_the_job(layout: dict[str, Path]) -> None:
    marker = f"INSTEP_TEST_JOB={uuid.uuid4().hex}"
    name, value = marker.split("=")
    code, out = _run(
        layout, "setsid sleep 77 & nohup sleep 78 >/dev/null 2>&1 & echo started", env={name: value}
    )
    assert code == 0 and "started" in out
    deadline = time.monotonic() + 10
    while processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_env(marker) == []


def test_without_bubblewrap_jobs_are_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    with pytest.raises(SandboxUnavailable, match=r"apt-get install bubblewrap.*INSTEP_UNSANDBOXED_JOBS=1"):
        require_sandbox(allow_unsandboxed=False)
    assert require_sandbox(allow_unsandboxed=True) is None


def test_a_bubblewrap_that_cannot_start_says_what_it_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: str(fake))
    with pytest.raises(SandboxUnavailable, match="No permissions to creating new namespace"):
        require_sandbox(allow_unsandboxed=False)


def test_folders_named_visible_stay_readable_over_the_private_tmp(
    layout: dict[str, Path], tmp_path: Path
) -> None:
    tools = tmp_path / "checkout" / "tools"
    tools.mkdir(parents=True)
    (tools / "fastlane").write_text("the toolchain")
    (tmp_path / "other.txt").write_text("someone else's file")
    box = Sandbox(
        find_bwrap() or "bwrap",
        writable=(layout["workspace"],),
        hidden=(layout["home"],),
        visible=(tmp_path / "checkout",),
    )
    lines: list[str] = []
    run_process(
        ["/bin/sh", "-c", f"cat {tools}/fastlane; echo; cat {tmp_path}/other.txt 2>&1; ls {layout['home']}"],
        cwd=layout["workspace"],
        env={"PATH": os.environ["PATH"]},
        on_line=lines.append,
        timeout=60,
        sandbox=box,
    )
    out = "\n".join(lines)
    assert "the toolchain" in out and "someone else's file" not in out and "secret_key" not in out
