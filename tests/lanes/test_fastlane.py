"""Lanes run by the real fastlane: results, faults, lane discovery, templates and the sample app.

fastlane takes seconds to start, so each check shares one workspace and one run where it can."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

import pytest

from lanes.discovery import list_lanes
from lanes.errors import FastfileInvalid, FastfileNotFound
from lanes.locate import FastlaneCommand
from lanes.outcome import LaneResult
from lanes.runner import run_lane
from lanes.templates import TemplateConfig, render
from tests.conftest import processes_with_env
from tests.lanes.conftest import write
from toolrun.redaction import Redactor

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLE_APP = REPO / "examples" / "sample-app"
GRADLE_JUNIT = Path(__file__).parent / "fixtures" / "gradle-TEST-com.example.BTest.xml"
SECRET = "tok-3f9a7c21e5"
FLOOD_LINES = 100_000

FASTFILE = r"""
default_platform(:android)

platform :android do
  desc "Writes an AAB and a Gradle JUnit report, logs the deploy token"
  lane :ok do |options|
    UI.message("deploying with token #{ENV['DEPLOY_TOKEN']}")
    File.write(File.join(ENV["INSTEP_ARTIFACTS_DIR"], "app-release.aab"), "aab")
    results = File.expand_path("../android/app/build/test-results/testReleaseUnitTest")
    FileUtils.mkdir_p(results)
    FileUtils.cp(ENV["GRADLE_JUNIT"], File.join(results, "TEST-com.example.BTest.xml"))
    sh("echo version #{options[:version]} beta #{options[:beta].inspect}")
  end

  desc "Fails like a lane whose signing is not configured"
  lane :signing do
    sh("echo checking keystore")
    UI.user_error!("Signing key missing: set ANDROID_KEYSTORE_PASSWORD")
  end

  lane :hang do
    sh("sleep 600")
  end

  lane :flood do
    system('seq 1 100000 | sed "s/^/flood line 0123456789012345678901234567890123456789012345678901234567890123456789 /"; printf "bytes \\377\\376 end\\n"')
  end
end

platform :ios do
  desc "An iOS lane"
  lane :build do
  end
end
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lanes-ws")
    write(root / "fastlane" / "Fastfile", FASTFILE)
    return root


def run(
    fastlane: FastlaneCommand,
    workspace: Path,
    env: dict[str, str],
    platform: str | None,
    lane: str,
    options: dict | None = None,
    **kwargs: object,
) -> tuple[LaneResult, list[str]]:
    lines: list[str] = kwargs.pop("lines", [])  # type: ignore[assignment]
    artifacts = workspace.parent / f"artifacts-{lane}-{uuid.uuid4().hex[:6]}"
    artifacts.mkdir()
    result = run_lane(
        fastlane,
        platform,
        lane,
        options,
        workspace=workspace,
        artifacts_dir=artifacts,
        env=env,
        on_line=kwargs.pop("on_line", lines.append),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return result, lines


def test_successful_lane_steps_artifacts_tests_and_redacted_log(
    fastlane: FastlaneCommand, workspace: Path, base_env: dict[str, str]
) -> None:
    env = {**base_env, "DEPLOY_TOKEN": SECRET, "GRADLE_JUNIT": str(GRADLE_JUNIT), "LANG": "C"}
    result, lines = run(
        fastlane,
        workspace,
        env,
        "android",
        "ok",
        {"version": "1.4.0", "beta": True},
        redactor=Redactor([SECRET]),
    )
    assert result.status == "succeeded", result.reason
    assert result.reason is None and result.exit_code == 0
    assert result.command[-4:] == ("android", "ok", "version:1.4.0", "beta:true")
    log = "\n".join(lines)
    assert "deploying with token ***" in log and SECRET not in log
    assert "version 1.4.0 beta true" in log
    assert [step.name for step in result.steps][-1] == "echo version 1.4.0 beta true"
    kinds = {a.path.name: a.kind for a in result.artifacts}
    assert kinds == {"app-release.aab": "aab", "TEST-com.example.BTest.xml": "junit"}
    assert [(t.name, t.status) for t in result.tests] == [("greet", "failed"), ("farewell", "passed")]
    assert result.report_path is not None and result.report_path.is_file()


def test_user_error_fails_the_lane_with_its_message(
    fastlane: FastlaneCommand, workspace: Path, base_env: dict[str, str]
) -> None:
    result, _ = run(fastlane, workspace, base_env, "android", "signing")
    assert result.status == "failed" and result.exit_code == 1
    assert result.reason == (
        "lane 'android signing' failed (fastlane exited with code 1): "
        "Signing key missing: set ANDROID_KEYSTORE_PASSWORD"
    )
    assert [step.name for step in result.steps] == ["default_platform", "echo checking keystore"]


def test_unknown_lane_lists_the_lanes_that_exist(
    fastlane: FastlaneCommand, workspace: Path, base_env: dict[str, str]
) -> None:
    result, _ = run(fastlane, workspace, base_env, "android", "deploy")
    assert result.status == "failed"
    assert result.reason == (
        "lane 'android deploy' does not exist in fastlane/Fastfile; lanes that exist: "
        "android ok, android signing, android hang, android flood, ios build"
    )


def test_hanging_lane_is_killed_at_its_timeout_with_no_orphans(
    fastlane: FastlaneCommand, workspace: Path, base_env: dict[str, str]
) -> None:
    marker = f"INSTEP_TEST_RUN={uuid.uuid4().hex}"
    name, value = marker.split("=")
    started = time.monotonic()
    result, _ = run(
        fastlane, workspace, {**base_env, name: value}, "android", "hang", timeout=15, kill_grace=2
    )
    assert time.monotonic() - started < 40
    assert result.status == "failed" and result.timed_out and result.exit_code is None
    assert result.reason == (
        "lane 'android hang' timed out after 15 s during step 'sleep 600'; the process tree was killed"
    )
    deadline = time.monotonic() + 10
    while processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_env(marker) == []


def test_flood_of_lines_and_bad_bytes_keeps_the_log_intact_and_memory_flat(
    fastlane: FastlaneCommand, workspace: Path, base_env: dict[str, str]
) -> None:
    seen = {"count": 0, "sum": 0, "bad": None}
    pattern = re.compile(r"^flood line \d{70} (\d+)$")

    def on_line(line: str) -> None:
        match = pattern.match(line)
        if match:
            seen["count"] += 1
            seen["sum"] += int(match.group(1))
        elif line.startswith("bytes "):
            seen["bad"] = line

    tracemalloc.start()
    try:
        result, _ = run(fastlane, workspace, base_env, "android", "flood", on_line=on_line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == "succeeded", result.reason
    assert seen["count"] == FLOOD_LINES
    assert seen["sum"] == FLOOD_LINES * (FLOOD_LINES + 1) // 2
    assert seen["bad"] == "bytes \ufffd\ufffd end"
    # ~10 MB went through; keeping it would need far more than this.
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_no_fastfile_names_the_paths_looked_at(fastlane: FastlaneCommand, tmp_path: Path) -> None:
    with pytest.raises(FastfileNotFound) as error:
        run_lane(
            fastlane,
            "android",
            "build",
            workspace=tmp_path,
            artifacts_dir=tmp_path / "a",
            env={},
            on_line=print,
        )
    assert str(tmp_path / "fastlane" / "Fastfile") in str(error.value)
    assert "instep lanes init" in str(error.value)


def test_lane_discovery_and_a_fastfile_that_does_not_parse(
    fastlane: FastlaneCommand, workspace: Path, base_env: dict[str, str], tmp_path: Path
) -> None:
    found = list_lanes(workspace, fastlane, env=base_env)
    assert [(i.platform, i.name) for i in found] == [
        ("android", "ok"),
        ("android", "signing"),
        ("android", "hang"),
        ("android", "flood"),
        ("ios", "build"),
    ]
    assert found[0].description == "Writes an AAB and a Gradle JUnit report, logs the deploy token"
    broken = write(tmp_path / "fastlane" / "Fastfile", 'lane :build do\n  sh("echo hi"\nend\n')
    with pytest.raises(FastfileInvalid) as error:
        list_lanes(tmp_path, fastlane, env=base_env)
    assert str(broken) in str(error.value)
    assert "Syntax error in your Fastfile on line 3" in str(error.value)


# Every template combination; each must load in fastlane and list the six standard lanes.
TEMPLATE_CONFIGS = {
    "ios": TemplateConfig(platforms=("ios",), xcode_project="ios/Shop.xcodeproj", phased_release=False),
    "android": TemplateConfig(platforms=("android",), gradle_task="assemble", track="beta", rollout=1.0),
    "ios,android": TemplateConfig(platforms=("ios", "android"), xcode_workspace="ios/Shop.xcworkspace"),
    "android,ios": TemplateConfig(platforms=("android", "ios")),
}
STANDARD_LANES = ["build", "test", "screenshots", "beta", "release", "promote"]


def _calls(source: str) -> dict[str, set[str]]:
    """Action name -> keyword option names used in the rendered Fastfile (top level of each call)."""
    calls: dict[str, set[str]] = {}
    for match in re.finditer(r"\b([a-z_]+)\(", source):
        depth, i, keys = 1, match.end(), set()
        start = i
        while depth and i < len(source):
            ch = source[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            i += 1
        body = source[start : i - 1]
        flat, level = [], 0
        for ch in body:
            level += ch in "([{"
            level -= ch in ")]}"
            flat.append(ch if level == 0 else " ")
        keys = set(re.findall(r"(?<![\w:])([a-z_]+): ", "".join(flat)))
        calls.setdefault(match.group(1), set()).update(keys)
    return calls


def test_every_template_parses_in_fastlane_and_uses_real_action_options(
    fastlane: FastlaneCommand, base_env: dict[str, str], tmp_path: Path
) -> None:
    used: dict[str, set[str]] = {}
    for name, config in TEMPLATE_CONFIGS.items():
        app = tmp_path / name.replace(",", "-")
        rendered = render(config)
        write(app / "fastlane" / "Fastfile", rendered["Fastfile"])
        write(app / "fastlane" / "Appfile", rendered["Appfile"])
        found = list_lanes(app, fastlane, env=base_env)
        expected = [(platform, lane) for platform in config.platforms for lane in STANDARD_LANES]
        assert sorted((i.platform, i.name) for i in found) == sorted(expected), name
        assert all(i.description for i in found)
        for action, keys in _calls(rendered["Fastfile"]).items():
            used.setdefault(action, set()).update(keys)

    # Ask this fastlane which options each action really has.
    probe = tmp_path / "probe"
    write(
        probe / "fastlane" / "Fastfile",
        """
lane :options do |opts|
  found = {}
  opts[:actions].split(",").each do |name|
    klass = Fastlane::Actions.action_class_ref(name)
    next unless klass
    options = klass.available_options || []
    # snapshot hides its options off macOS; read them from the tool itself.
    if options.empty? && name == "capture_screenshots"
      require "snapshot"
      options = Snapshot::Options.available_options
    end
    found[name] = options.map { |o| o.respond_to?(:key) ? o.key.to_s : o.first.to_s }
  end
  puts("OPTIONS_JSON " + JSON.generate(found))
end
""",
    )
    lines: list[str] = []
    result = run_lane(
        fastlane,
        None,
        "options",
        {"actions": ",".join(sorted(used))},
        workspace=probe,
        artifacts_dir=tmp_path / "probe-artifacts",
        env=base_env,
        on_line=lines.append,
    )
    assert result.ok, result.reason
    (payload,) = [line.split("OPTIONS_JSON ", 1)[1] for line in lines if "OPTIONS_JSON " in line]
    known = json.loads(payload)
    for action in (
        "build_app",
        "run_tests",
        "capture_screenshots",
        "upload_to_testflight",
        "upload_to_app_store",
    ):
        assert action in known
    for action in ("gradle", "upload_to_play_store", "capture_android_screenshots", "increment_build_number"):
        assert action in known
    assert {"submit_for_review", "phased_release"} <= used["upload_to_app_store"]
    assert {"track", "rollout", "track_promote_to"} <= used["upload_to_play_store"]
    unknown = {action: sorted(keys - set(known[action])) for action, keys in used.items() if action in known}
    assert {a: k for a, k in unknown.items() if k} == {}


def test_sample_app_lanes_build_and_test_on_both_platforms(
    fastlane: FastlaneCommand, base_env: dict[str, str], tmp_path: Path
) -> None:
    if not (SAMPLE_APP / "www").is_dir():
        pytest.fail(f"the sample app is missing at {SAMPLE_APP}")
    app = tmp_path / "sample-app"
    shutil.copytree(SAMPLE_APP, app, ignore=shutil.ignore_patterns("build", "node_modules"))
    for platform in ("android", "ios"):
        build, _ = run(
            fastlane, app, {**base_env, "INSTEP_RUN_NUMBER": "17"}, platform, "build", {"version": "2.3.0"}
        )
        assert build.status == "succeeded", build.reason
        (bundle,) = [a for a in build.artifacts if a.path.name == "sample-app-2.3.0-17.tar.gz"]
        stamp = subprocess.run(
            ["tar", "-xzOf", str(bundle.path), "./version.json"], check=True, capture_output=True, text=True
        ).stdout
        assert json.loads(stamp) == {"version": "2.3.0", "build": 17, "platform": platform}
        listing = subprocess.run(
            ["tar", "-tzf", str(bundle.path)], check=True, capture_output=True, text=True
        ).stdout
        assert "./index.html" in listing.split()
        assert (app / "build" / platform / "sample-app-2.3.0-17.tar.gz").is_file()

        tests, _ = run(fastlane, app, base_env, platform, "test")
        assert tests.status == "succeeded", tests.reason
        assert [a.kind for a in tests.artifacts] == ["junit"]
        assert len(tests.tests) >= 1 and all(t.status == "passed" for t in tests.tests)

    bad, _ = run(fastlane, app, base_env, "android", "build", {"build_number": "seventeen"})
    assert bad.status == "failed"
    assert bad.reason is not None and bad.reason.endswith(
        "build_number:seventeen is not a whole number like 42"
    )


def test_cli_run_prints_json_and_exit_code(
    fastlane: FastlaneCommand, workspace: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "INSTEP_FASTLANE": " ".join(fastlane.argv), "DEPLOY_TOKEN": SECRET}
    env["GRADLE_JUNIT"] = str(GRADLE_JUNIT)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrator.cli",
            "lanes",
            "run",
            "android",
            "ok",
            "version:9.9.9",
            "--path",
            str(workspace),
            "--artifacts-dir",
            str(tmp_path / "out"),
            "--redact-env",
            "DEPLOY_TOKEN",
            "--json",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert SECRET not in done.stderr and "deploying with token ***" in done.stderr
    document = json.loads(done.stdout)
    assert document["status"] == "succeeded" and document["lane"] == "android ok"
    assert document["test_counts"] == {"passed": 1, "failed": 1, "error": 0, "skipped": 0}
    assert {a["kind"] for a in document["artifacts"]} == {"aab", "junit"}
