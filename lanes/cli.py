"""`instep lanes init|list|run`: the command-line edge of the lanes package."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from pathlib import Path

import click

from lanes.command import parse_option
from lanes.discovery import list_lanes
from lanes.errors import LanesError
from lanes.fastfile import find_fastfile
from lanes.locate import fastlane_setting, locate_fastlane
from lanes.outcome import LaneResult
from lanes.runner import run_lane
from lanes.templates import TemplateConfig, init_fastlane
from toolrun.cli_output import emit_json, fail, json_option, table
from toolrun.junit import count_by_status
from toolrun.redaction import Redactor

BAD_INPUT = 2
DEFAULT_TIMEOUT_S = 3600.0

path_option = click.option(
    "--path",
    "path",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The app's directory (the one that contains fastlane/).",
)


@click.group()
def lanes() -> None:
    """fastlane lanes: create a standard Fastfile, list lanes, run one as a worker would."""


@lanes.command("init")
@click.option(
    "--platform", "platforms", required=True, help="Comma-separated platforms: ios, android or ios,android."
)
@path_option
@click.option("--force", is_flag=True, help="Overwrite an existing fastlane/Fastfile and fastlane/Appfile.")
@click.option("--bundle-id", default="com.example.app", show_default=True, help="iOS bundle identifier.")
@click.option("--scheme", default="App", show_default=True, help="Xcode scheme to build and test.")
@click.option("--xcode-workspace", default=None, help="Xcode workspace, e.g. ios/App.xcworkspace.")
@click.option("--xcode-project", default=None, help="Xcode project, e.g. ios/App.xcodeproj.")
@click.option(
    "--phased-release/--no-phased-release",
    default=True,
    show_default=True,
    help="App Store release over 7 days (phased) or to everyone at once.",
)
@click.option("--package-name", default="com.example.app", show_default=True, help="Android package name.")
@click.option(
    "--gradle-task",
    default="bundle",
    show_default=True,
    help="Release build task: bundle (AAB) or assemble (APK).",
)
@click.option(
    "--gradle-project-dir", default="android/", show_default=True, help="Directory of the Gradle project."
)
@click.option(
    "--track",
    default="internal",
    show_default=True,
    help="Play track for `beta` and the source of `promote`: internal, alpha or beta.",
)
@click.option(
    "--rollout",
    type=float,
    default=0.1,
    show_default=True,
    help="Fraction of users for the Play production rollout (0 < rollout <= 1).",
)
def init_command(
    platforms: str,
    path: Path,
    force: bool,
    bundle_id: str,
    scheme: str,
    xcode_workspace: str | None,
    xcode_project: str | None,
    phased_release: bool,
    package_name: str,
    gradle_task: str,
    gradle_project_dir: str,
    track: str,
    rollout: float,
) -> None:
    """Write a standard fastlane/Fastfile and fastlane/Appfile with lanes build, test, screenshots,
    beta, release and promote. Never overwrites existing files without --force."""
    chosen = tuple(p.strip().lower() for p in platforms.split(",") if p.strip())
    config = TemplateConfig(
        platforms=chosen,
        bundle_id=bundle_id,
        scheme=scheme,
        xcode_workspace=xcode_workspace,
        xcode_project=xcode_project,
        phased_release=phased_release,
        package_name=package_name,
        gradle_task=gradle_task,
        project_dir=gradle_project_dir,
        track=track,
        rollout=rollout,
    )
    try:
        written = init_fastlane(path, config, force=force)
    except LanesError as exc:
        fail(str(exc), BAD_INPUT)
    for file in written:
        click.echo(f"wrote {file}")
    click.echo(f"lanes for {', '.join(chosen)}: build, test, screenshots, beta, release, promote")
    click.echo(f"check them with: instep lanes list --path {path}")


@lanes.command("list")
@path_option
@json_option
def list_command(path: Path, as_json: bool) -> None:
    """List the platforms, lanes and descriptions of the Fastfile, as fastlane itself sees them."""
    try:
        fastfile = find_fastfile(path)
        fastlane = locate_fastlane(path, configured=fastlane_setting())
        found = list_lanes(path, fastlane, env=os.environ)
    except LanesError as exc:
        fail(str(exc), BAD_INPUT)
    if as_json:
        emit_json(
            {
                "fastfile": str(fastfile),
                "lanes": [
                    {
                        "platform": i.platform,
                        "name": i.name,
                        "full_name": i.full_name,
                        "description": i.description,
                    }
                    for i in found
                ],
            }
        )
        return
    if not found:
        click.echo(f"{fastfile} defines no lanes")
        return
    table(
        [[i.platform or "-", i.name, i.description.replace("\n", " ")] for i in found],
        ["PLATFORM", "LANE", "DESCRIPTION"],
    )


def _summary(result: LaneResult) -> None:
    click.echo("")
    click.echo(f"lane {result.lane}: {result.status} in {result.duration_s:.1f} s")
    if result.reason:
        click.echo(f"  reason: {result.reason}")
    if result.steps:
        click.echo("steps:")
        for step in result.steps:
            mark = "ok  " if step.ok else "FAIL"
            click.echo(f"  {mark} {step.name} ({step.duration_s:.2f} s)")
    if result.artifacts:
        click.echo("artifacts:")
        for artifact in result.artifacts:
            click.echo(f"  {artifact.kind:<10} {artifact.path} ({artifact.size} bytes)")
    if result.tests:
        counts = count_by_status(result.tests)
        click.echo("tests: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
        for case in result.tests:
            if case.status in ("failed", "error"):
                click.echo(
                    f"  {case.status.upper()} {case.suite + ' > ' if case.suite else ''}{case.name}: {case.message or ''}"
                )
    for problem in result.problems:
        click.echo(f"  warning: {problem}")


@lanes.command("run")
@click.argument("platform")
@click.argument("lane")
@click.argument("options", nargs=-1)
@path_option
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="Seconds before the lane is killed.",
)
@click.option(
    "--artifacts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the lane's artifacts go (INSTEP_ARTIFACTS_DIR). Default: a fresh build/instep-lanes/PLATFORM-LANE under --path.",
)
@click.option(
    "--redact-env",
    "redact_env",
    multiple=True,
    metavar="NAME",
    help="Mask the value of this environment variable in the log, as a worker masks secrets. Repeatable.",
)
@json_option
def run_command(
    platform: str,
    lane: str,
    options: tuple[str, ...],
    path: Path,
    timeout: float,
    artifacts_dir: Path | None,
    redact_env: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run PLATFORM LANE [key:value ...] as a worker would: same environment, log redaction and
    result parsing. Prints the log, then steps, artifacts and tests. Exit code 0 when the lane
    succeeded, 1 when it failed, 2 on bad input, 130 when interrupted."""
    platform_name = None if platform in ("-", "") else platform
    try:
        parsed = dict(parse_option(option) for option in options)
        find_fastfile(path)
        fastlane = locate_fastlane(path, configured=fastlane_setting())
    except LanesError as exc:
        fail(str(exc), BAD_INPUT)
    if artifacts_dir is None:
        artifacts_dir = path / "build" / "instep-lanes" / f"{platform_name or 'default'}-{lane}"
        shutil.rmtree(artifacts_dir, ignore_errors=True)
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    redactor = Redactor(os.environ[name] for name in redact_env if os.environ.get(name))
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    log_stream = sys.stderr if as_json else sys.stdout

    def show(line: str) -> None:
        click.echo(line, file=log_stream)

    try:
        result = run_lane(
            fastlane,
            platform_name,
            lane,
            parsed,
            workspace=path.resolve(),
            artifacts_dir=artifacts_dir.resolve(),
            env=os.environ,
            on_line=show,
            timeout=timeout,
            cancel=cancel,
            redactor=redactor,
        )
    except LanesError as exc:
        fail(str(exc), BAD_INPUT)
    finally:
        signal.signal(signal.SIGINT, previous)
    if as_json:
        emit_json(result.as_dict())
    else:
        _summary(result)
    if result.status == "canceled":
        raise SystemExit(130)
    raise SystemExit(0 if result.ok else 1)
