"""Running a job's commands inside a bubblewrap sandbox (Linux).

The sandbox sees the machine's files read-only, its own writable folders (the workspace, the
job's artifacts and home), a private /tmp, and none of the hidden folders (Instep's home: the
database, the secret key, git mirrors, other jobs' workspaces). It has its own PID and IPC
namespaces, so other processes are invisible and every process the job starts — `setsid` and
daemonised ones included — ends with it. All capabilities are dropped. The network is shared:
jobs fetch dependencies, and device suites talk to their Appium servers on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install "
    "bubblewrap`), or set INSTEP_UNSANDBOXED_JOBS=1 to run jobs without a sandbox — they can then "
    "read everything the worker can, including INSTEP_HOME's secret key and database"
)


class SandboxUnavailable(Exception):
    """Jobs must run sandboxed and no sandbox can be had on this machine; says how to fix it."""


@dataclass(frozen=True)
class Sandbox:
    """How to wrap one job's commands. Paths are absolute; `writable` may lie inside `hidden`."""

    bwrap: str
    writable: tuple[Path, ...]
    hidden: tuple[Path, ...] = ()
    # Folders under /tmp the job must still see (read-only) over its private /tmp: the Python
    # environment and the toolchains of a checkout that itself lives under /tmp.
    visible: tuple[Path, ...] = ()

    def wrap(self, argv: Sequence[str], cwd: Path | str) -> list[str]:
        """The bubblewrap command line that runs `argv` in `cwd` inside the sandbox."""
        args = [
            self.bwrap,
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-ipc",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
        ]
        for path in self.visible:
            if Path(path).exists():
                args += ["--ro-bind", str(path), str(path)]
        for path in self.hidden:
            if Path(path).exists():
                args += ["--tmpfs", str(path)]
        for path in self.writable:
            args += ["--bind", str(path), str(path)]
        args += ["--chdir", str(cwd), "--", *argv]
        return args


def find_bwrap() -> str | None:
    """The bubblewrap executable, or None where there is none (or not on Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    return shutil.which("bwrap")


def _probe(bwrap: str) -> str | None:
    """None when bwrap can build the sandbox jobs get; else what it said."""
    probe = Sandbox(bwrap, writable=()).wrap(["/bin/true"], "/")
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return (done.stderr or done.stdout).strip()[:500] or f"exit code {done.returncode}"
    return None


def require_sandbox(allow_unsandboxed: bool) -> str | None:
    """The bwrap path jobs will run under; None when running unsandboxed was allowed explicitly.
    Raises SandboxUnavailable (with the fix) when there is no sandbox and it was not allowed."""
    bwrap = find_bwrap()
    if bwrap is not None:
        problem = _probe(bwrap)
        if problem is None:
            return bwrap
        if not allow_unsandboxed:
            raise SandboxUnavailable(f"bubblewrap ({bwrap}) cannot start a sandbox here: {problem}")
        return None
    if allow_unsandboxed:
        return None
    where = "this machine" if sys.platform.startswith("linux") else f"{sys.platform} (no bubblewrap)"
    raise SandboxUnavailable(f"jobs cannot run sandboxed on {where}: {INSTALL_HINT}")
