"""The runner end to end with real pytest subprocesses and a stand-in Appium server
(tests/device_farm/fake_appium/appium); device backends are doubles."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from device_farm.appium_server import AppiumLauncher
from device_farm.backends.base import DeviceDidNotBoot, Health
from device_farm.durations import JsonDurationStore
from device_farm.leases import InMemoryLeaseStore
from device_farm.outcomes import Final, Status
from device_farm.profiles import DeviceProfile, Inventory, UnknownProfile
from device_farm.reports import write_junit
from device_farm.suite import SuiteContext, SuiteRequest, run_suite
from toolrun.junit import read_junit

FAKE_APPIUM = str(Path(__file__).parent / "fake_appium" / "appium")
PROFILES = {n: DeviceProfile(n, "chromium", slots=1) for n in ("dev-a", "dev-b")}


class FakeBackend:
    appium_driver = "chromium"

    def __init__(self, profile, boots=True, healthy=True):
        self.profile, self.boots, self.healthy, self.stopped = profile, boots, healthy, False

    def prepare(self):
        pass

    def start(self, *, boot_timeout_s):
        if not self.boots:
            raise DeviceDidNotBoot(self.profile.name, boot_timeout_s)

    def health_check(self):
        return Health(self.healthy, "" if self.healthy else "adb: device offline")

    def capabilities(self):
        return {"platformName": "linux", "instep:profile": self.profile.name}

    def remote_url(self):
        return None

    def stop(self):
        self.stopped = True


def write_suite(root: Path, files: dict[str, str]) -> Path:
    suite = root / "suite"
    suite.mkdir()
    for name, body in files.items():
        (suite / name).write_text(textwrap.dedent(body))
    return suite


def context(tmp_path, store=None, **backend_kw):
    lines: list[str] = []
    ctx = SuiteContext(
        inventory=Inventory(PROFILES),
        leases=store or InMemoryLeaseStore(),
        durations=JsonDurationStore(tmp_path / "durations"),
        artifacts_dir=tmp_path / "artifacts",
        appium=AppiumLauncher(FAKE_APPIUM, tmp_path / "appium-home", start_timeout_s=20),
        on_line=lines.append,
        backend_factory=lambda profile, slot, log_dir: FakeBackend(profile, **backend_kw),
    )
    return ctx, lines


def test_retries_mark_flaky_quarantined_never_fail_and_durations_are_recorded(tmp_path):
    marker = tmp_path / "flaky-marker"
    suite = write_suite(tmp_path, {"test_app.py": f"""
        import json, os, urllib.request
        from pathlib import Path

        def test_ok():
            status = json.load(urllib.request.urlopen(os.environ["INSTEP_APPIUM_URL"] + "/status"))
            assert status["value"]["ready"]
            assert json.loads(os.environ["INSTEP_CAPABILITIES"])["instep:profile"] == os.environ["INSTEP_DEVICE_PROFILE"]

        def test_flaky():
            marker = Path({str(marker)!r})
            if not marker.exists():
                marker.write_text("failed once")
                assert False, "first attempt fails"

        def test_known_bad():
            assert 1 == 2
    """})  # fmt: skip
    ctx, lines = context(tmp_path)
    request = SuiteRequest(
        "acceptance", suite, ("dev-a", "dev-b"), retries=1, project="shop",
        quarantined_tests=frozenset({"test_app.py::test_known_bad"}),
    )  # fmt: skip
    report = run_suite(request, ctx)
    finals = {r.test_id: r.final for r in report.results}
    assert finals == {
        "test_app.py::test_ok": Final.PASSED,
        "test_app.py::test_flaky": Final.FLAKY,
        "test_app.py::test_known_bad": Final.FAILED,
    }
    assert report.passed, report.verdict.reasons
    assert report.verdict.flaky == ("test_app.py::test_flaky",)
    assert report.verdict.quarantined_failing == ("test_app.py::test_known_bad",)
    assert {s.device for s in report.shards if s.round == 0} == {"dev-a", "dev-b"}
    assert len([s for s in report.shards if s.round == 1]) == 1
    recorded = ctx.durations.load("shop")
    assert set(recorded) == {"test_app.py::test_ok", "test_app.py::test_flaky"}
    assert ctx.leases.leases() == []
    assert any("retry round 1: 1 failed test(s)" in line for line in lines)

    junit = tmp_path / "out" / "junit.xml"
    write_junit(report, junit)
    cases = {c.name: c.status for c in read_junit(junit)}
    assert cases == {"test_ok": "passed", "test_flaky": "passed", "test_known_bad": "failed"}
    assert 'name="instep.flaky" value="true"' in junit.read_text()
    assert json.loads(json.dumps(report.to_json()))["flaky"] == ["test_app.py::test_flaky"]


def test_appium_dying_mid_suite_errors_tests_in_flight_and_other_shards_continue(tmp_path):
    suite = write_suite(tmp_path, {"test_app.py": """
        import os, urllib.request

        def status():
            return urllib.request.urlopen(os.environ["INSTEP_APPIUM_URL"] + "/status", timeout=5).status

        def test_1():
            assert status() == 200

        def test_2():
            if os.environ["INSTEP_DEVICE_PROFILE"] == "dev-b":
                try:
                    urllib.request.urlopen(os.environ["INSTEP_APPIUM_URL"] + "/die", timeout=5)
                except OSError:
                    pass
            assert status() == 200

        def test_3():
            assert status() == 200
    """})  # fmt: skip
    ctx, _ = context(tmp_path)
    report = run_suite(SuiteRequest("acceptance", suite, ("dev-a", "dev-b"), shards=2), ctx)
    by_id = {r.test_id: r for r in report.results}
    died = by_id["test_app.py::test_2"].attempts[-1]
    assert died.status == Status.ERROR
    assert died.device == "dev-b"
    assert "Appium server exited with code 3 during the suite" in died.message
    appium_log = next(p for p in died.artifacts if p.endswith("appium.log"))
    assert "simulated crash" in Path(appium_log).read_text()
    assert by_id["test_app.py::test_1"].final == Final.PASSED
    assert by_id["test_app.py::test_3"].final == Final.PASSED
    assert not report.passed
    assert any("Appium server exited with code 3" in e for e in report.errors)


def test_device_that_never_boots_releases_its_lease_and_fails_the_job(tmp_path):
    suite = write_suite(tmp_path, {"test_app.py": "def test_a():\n    pass\n"})
    store = InMemoryLeaseStore()
    ctx, _ = context(tmp_path, store=store, boots=False)
    report = run_suite(SuiteRequest("acceptance", suite, ("dev-a",), boot_timeout_s=45), ctx)
    assert not report.passed
    assert report.errors == ("device did not boot in 45 s (dev-a)",)
    assert report.results[0].attempts[0].message == "device did not boot in 45 s (dev-a)"
    assert store.leases() == []


def test_failing_health_check_twice_quarantines_the_device(tmp_path):
    suite = write_suite(tmp_path, {"test_app.py": "def test_a():\n    pass\n"})
    store = InMemoryLeaseStore()
    ctx, _ = context(tmp_path, store=store, healthy=False)
    first = run_suite(SuiteRequest("acceptance", suite, ("dev-a",)), ctx)
    assert "failed its health check: adb: device offline" in first.errors[0]
    second = run_suite(SuiteRequest("acceptance", suite, ("dev-a",)), ctx)
    assert "quarantined: adb: device offline" in second.errors[0]
    assert [q.device for q in store.quarantined()] == ["dev-a"]
    third = run_suite(SuiteRequest("acceptance", suite, ("dev-a",), lease_wait_s=0), ctx)
    assert "dev-a is quarantined: adb: device offline" in third.errors[0]


def test_malformed_junit_is_a_clear_error_and_the_raw_file_is_kept(tmp_path):
    suite = write_suite(tmp_path, {
        "test_app.py": "def test_a():\n    pass\n",
        "conftest.py": """
            def pytest_unconfigure(config):
                path = getattr(config.option, "xmlpath", None)
                if path:
                    open(path, "w").write("<testsuites><testcase name='test_a'")
        """,
    })  # fmt: skip
    ctx, _ = context(tmp_path)
    report = run_suite(SuiteRequest("acceptance", suite, ("dev-a",)), ctx)
    assert not report.passed
    message = report.results[0].attempts[0].message
    assert "not a readable JUnit XML report: malformed XML" in message
    kept = Path(report.results[0].attempts[0].artifacts[0])
    assert kept.read_text().startswith("<testsuites><testcase")


def test_unknown_profile_is_named(tmp_path):
    suite = write_suite(tmp_path, {"test_app.py": "def test_a():\n    pass\n"})
    ctx, _ = context(tmp_path)
    with pytest.raises(UnknownProfile, match="unknown device profile 'pixel-9'"):
        run_suite(SuiteRequest("acceptance", suite, ("pixel-9",)), ctx)


def test_the_caller_decides_the_whole_environment_of_the_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKER_CLOUD_KEY", "worker-only")
    suite = write_suite(tmp_path, {"test_env.py": """
        import os

        def test_env():
            assert os.environ["STAGE_VAR"] == "from the stage"
            assert "WORKER_CLOUD_KEY" not in os.environ
            assert os.environ["INSTEP_DEVICE_PROFILE"] == "dev-a"
            assert "INSTEP_SECRET_KEY" not in os.environ
    """})  # fmt: skip
    ctx, _ = context(tmp_path)
    request = SuiteRequest("acceptance", suite, ("dev-a",), env={"STAGE_VAR": "from the stage"})
    report = run_suite(request, ctx)
    assert report.passed, report.to_json()["tests"]


def test_without_an_explicit_environment_the_tests_see_this_one_minus_instep_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVELOPER_VAR", "yes")
    monkeypatch.setenv("INSTEP_SECRET_KEY", "must-not-leak-0123456789")
    suite = write_suite(tmp_path, {"test_env.py": """
        import os

        def test_env():
            assert os.environ["DEVELOPER_VAR"] == "yes"
            assert "INSTEP_SECRET_KEY" not in os.environ
    """})  # fmt: skip
    ctx, _ = context(tmp_path)
    report = run_suite(SuiteRequest("acceptance", suite, ("dev-a",)), ctx)
    assert report.passed, report.to_json()["tests"]
