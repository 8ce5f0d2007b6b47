"""Finding the fastlane to run: the configured one, the repo's bundle, PATH, or the dev toolchain.

Order: `INSTEP_FASTLANE` (settings), `bundle exec fastlane` when the repo's Gemfile names fastlane,
`fastlane` on PATH, then `<instep checkout>/tools/bin/fastlane` from scripts/install-fastlane.sh."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lanes.errors import FastlaneNotFound

SETTING = "INSTEP_FASTLANE"
# Where scripts/install-fastlane.sh puts the Linux test toolchain (fastlane 2.146), for development.
DEV_TOOLCHAIN = Path(__file__).resolve().parent.parent / "tools" / "bin" / "fastlane"

INSTALL_HELP = (
    'Install fastlane: `gem install fastlane` (or add `gem "fastlane"` to the repo\'s Gemfile and run '
    "`bundle install`), or set INSTEP_FASTLANE to the fastlane command to use. "
    "For Instep development on Linux: `make tools` (runs scripts/install-fastlane.sh)."
)


@dataclass(frozen=True)
class FastlaneCommand:
    """The argv prefix that starts fastlane, and where it came from (for messages)."""

    argv: tuple[str, ...]
    source: str

    def describe(self) -> str:
        return f"{shlex.join(self.argv)} (from {self.source})"


@dataclass(frozen=True)
class FastlaneFacts:
    """What the shell found on this machine; `choose_fastlane` decides from these alone."""

    configured: str | None
    configured_resolved: str | None
    gemfile: Path | None
    gemfile_names_fastlane: bool
    bundle: str | None
    on_path: str | None
    toolchain: Path | None


def fastlane_setting(environ: Mapping[str, str] | None = None) -> str | None:
    """The `INSTEP_FASTLANE` setting for the CLI; the only place `lanes` reads the environment.
    Inside the orchestrator, pass `settings.fastlane` to `locate_fastlane` instead."""
    env = os.environ if environ is None else environ
    return env.get(SETTING) or None


def choose_fastlane(facts: FastlaneFacts) -> FastlaneCommand:
    """Pick the fastlane command from what was found, in the documented order."""
    if facts.configured:
        argv = shlex.split(facts.configured)
        if not argv or facts.configured_resolved is None:
            raise FastlaneNotFound(
                f"{SETTING}={facts.configured!r} does not name an executable that exists. "
                f"Point {SETTING} at a fastlane executable (e.g. /usr/local/bin/fastlane or "
                "'bundle exec fastlane'), or unset it to use fastlane from PATH."
            )
        return FastlaneCommand((facts.configured_resolved, *argv[1:]), SETTING)
    if facts.gemfile is not None and facts.gemfile_names_fastlane:
        if facts.bundle is None:
            raise FastlaneNotFound(
                f"{facts.gemfile} names fastlane, so it must run with `bundle exec fastlane`, but "
                "`bundle` is not on PATH. Install Bundler (`gem install bundler`) and run "
                f"`bundle install` in {facts.gemfile.parent}."
            )
        return FastlaneCommand((facts.bundle, "exec", "fastlane"), f"bundler ({facts.gemfile})")
    if facts.on_path is not None:
        return FastlaneCommand((facts.on_path,), "PATH")
    if facts.toolchain is not None:
        return FastlaneCommand((str(facts.toolchain),), "Instep dev toolchain")
    raise FastlaneNotFound(f"fastlane is not installed: not on PATH and {SETTING} is not set. {INSTALL_HELP}")


def _resolve(executable: str, path: str | None) -> str | None:
    if os.sep in executable:
        candidate = Path(executable).expanduser()
        return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
    return shutil.which(executable, path=path)


def gather_facts(
    workspace: Path,
    *,
    configured: str | None,
    path: str | None = None,
    toolchain: Path | None = DEV_TOOLCHAIN,
) -> FastlaneFacts:
    """Look at the machine and the workspace. `path` is the PATH to search (default: ours)."""
    argv = shlex.split(configured) if configured else []
    gemfile = workspace / "Gemfile"
    names_fastlane = False
    if gemfile.is_file():
        lock = workspace / "Gemfile.lock"
        text = gemfile.read_text(errors="replace") + (
            lock.read_text(errors="replace") if lock.is_file() else ""
        )
        names_fastlane = "fastlane" in text
    return FastlaneFacts(
        configured=configured,
        configured_resolved=_resolve(argv[0], path) if argv else None,
        gemfile=gemfile if gemfile.is_file() else None,
        gemfile_names_fastlane=names_fastlane,
        bundle=shutil.which("bundle", path=path),
        on_path=shutil.which("fastlane", path=path),
        toolchain=toolchain if toolchain is not None and _resolve(str(toolchain), None) else None,
    )


def locate_fastlane(
    workspace: Path | str,
    *,
    configured: str | None = None,
    path: str | None = None,
    toolchain: Path | None = DEV_TOOLCHAIN,
) -> FastlaneCommand:
    """The fastlane command for lanes in `workspace`; raises `FastlaneNotFound` saying how to install."""
    facts = gather_facts(Path(workspace), configured=configured, path=path, toolchain=toolchain)
    return choose_fastlane(facts)
