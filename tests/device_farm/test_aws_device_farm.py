"""AWS Device Farm as a profile of the suite runner. botocore's Stubber validates every request
against the service model; the presigned-URL uploads and downloads go through an
httpx.MockTransport; the test package is checked by opening the zip Instep uploaded."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import boto3
import httpx
import pytest
import yaml
from botocore.stub import ANY, Stubber

from device_farm.backends.aws_device_farm import AwsProfile, DeviceFarm, DeviceFarmError
from device_farm.backends.aws_test_package import (
    PLUGIN_MODULE,
    build_test_package,
    plugin_wheel,
    suite_requirements,
)
from device_farm.commands import CommandOutput
from device_farm.durations import InMemoryDurationStore
from device_farm.leases import InMemoryLeaseStore
from device_farm.outcomes import Final
from device_farm.profiles import DeviceProfile, Inventory
from device_farm.suite import SuiteContext, SuiteError, SuiteRequest, run_suite

PROJECT = "arn:aws:devicefarm:us-west-2:123456789012:project:5e01a8c7-c861-4c0a-b1d5-12345EXAMPLE"
DEVICE = "arn:aws:devicefarm:us-west-2::device:70D5B22608A149568923E4A225EC5D04"
POOL = "arn:aws:devicefarm:us-west-2:123456789012:devicepool:5e01a8c7/pool-1"
APP_UP = "arn:aws:devicefarm:us-west-2:123456789012:upload:5e01a8c7/app-1"
PKG_UP = "arn:aws:devicefarm:us-west-2:123456789012:upload:5e01a8c7/pkg-1"
SPEC_UP = "arn:aws:devicefarm:us-west-2:123456789012:upload:5e01a8c7/spec-1"
RUN = "arn:aws:devicefarm:us-west-2:123456789012:run:5e01a8c7/run-1"
JOB = "arn:aws:devicefarm:us-west-2:123456789012:job:5e01a8c7/run-1/00000"
SUITE_ARN = "arn:aws:devicefarm:us-west-2:123456789012:suite:5e01a8c7/run-1/00000/00001"
TEST_ARN = "arn:aws:devicefarm:us-west-2:123456789012:test:5e01a8c7/run-1/00000/00001/00000"
UPLOADS = "https://prod-us-west-2-uploads.s3-us-west-2.amazonaws.com"
RESULTS = "https://prod-us-west-2-results.s3-us-west-2.amazonaws.com"


@pytest.fixture
def client():
    c = boto3.client(
        "devicefarm", region_name="us-west-2", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(c) as stub:
        c.stub = stub
        yield c
        stub.assert_no_pending_responses()


class S3:
    """The presigned URLs' side: records PUTs, serves GETs from `files`."""

    def __init__(self):
        self.put: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if request.method == "PUT":
            assert request.headers["content-type"] == "application/octet-stream"
            self.put[url.rsplit("/", 1)[1]] = request.read()
            return httpx.Response(200)
        if url in self.files:
            return httpx.Response(200, content=self.files[url])
        return httpx.Response(404)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))


class Clock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, s):
        self.now += s

    def time(self):
        return self.now


class PipWheel:
    """Stands in for `python -m pip wheel`: writes one wheel per requirement into --wheel-dir."""

    def __init__(self, code: int = 0, output: str = ""):
        self.code, self.output, self.calls = code, output, []

    def run(self, argv, *, timeout):
        argv = tuple(argv)
        self.calls.append(argv)
        assert argv[1:4] == ("-m", "pip", "wheel"), argv
        wheel_dir = Path(argv[argv.index("--wheel-dir") + 1])
        if self.code == 0:
            for line in Path(argv[argv.index("--requirement") + 1]).read_text().split():
                name = line.split("=")[0].replace("-", "_")
                (wheel_dir / f"{name}-1.0-py3-none-any.whl").write_bytes(b"wheel " + name.encode())
        return CommandOutput(argv, self.code, self.output)

    def spawn(self, argv, *, log_path, env=None):
        raise AssertionError("an AWS profile starts no local process")


def write_suite(root: Path) -> Path:
    suite = root / "acceptance"
    (suite / "pages").mkdir(parents=True)
    (suite / "test_app.py").write_text("def test_sign_in():\n    pass\n\ndef test_orders():\n    pass\n")
    (suite / "conftest.py").write_text("")
    (suite / "pages" / "shop.py").write_text("URL = '/'\n")
    (suite / "requirements.txt").write_text("# the suite's own\nrequests==2.32.3\n")
    (suite / "__pycache__").mkdir()
    (suite / "__pycache__" / "test_app.cpython-311.pyc").write_bytes(b"\0")
    return suite


def aws_profile(tmp_path: Path, **options) -> DeviceProfile:
    (tmp_path / "app-release.apk").write_bytes(b"APK")
    return DeviceProfile(
        "aws-pixel", "aws-device-farm", locale="de-DE",
        options={"project_arn": PROJECT, "app": "app-release.apk", **options},
    )  # fmt: skip


def expect_upload(stub, name, kind, arn, statuses=("SUCCEEDED",), message=""):
    stub.add_response(
        "create_upload",
        {"upload": {"arn": arn, "status": "INITIALIZED", "url": f"{UPLOADS}/{name}"}},
        {"projectArn": PROJECT, "name": name, "type": kind, "contentType": "application/octet-stream"},
    )
    for status in statuses:
        stub.add_response(
            "get_upload", {"upload": {"arn": arn, "status": status, "message": message}}, {"arn": arn}
        )


def junit_xml(failure: str) -> bytes:
    return textwrap.dedent(f"""\
        <?xml version="1.0" encoding="utf-8"?>
        <testsuites><testsuite name="pytest" tests="2">
          <testcase classname="test_app" name="test_sign_in" time="3.5"/>
          <testcase classname="test_app" name="test_orders" time="1.25">
            <failure message="{failure}">{failure}</failure>
          </testcase>
        </testsuite></testsuites>
    """).encode()


def customer_artifacts(junit: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("Host_Machine_Files/$DEVICEFARM_LOG_DIR/instep-junit.xml", junit)
        z.writestr("Host_Machine_Files/$DEVICEFARM_LOG_DIR/appium.log", "[Appium] Welcome")
    return buffer.getvalue()


def context(tmp_path, client, s3, runner, cancel=None):
    lines: list[str] = []
    profile = aws_profile(tmp_path, device_arns=[DEVICE])
    ctx = SuiteContext(
        inventory=Inventory({"aws-pixel": profile}),
        leases=InMemoryLeaseStore(),
        durations=InMemoryDurationStore(),
        artifacts_dir=tmp_path / "artifacts",
        appium=None,
        runner=runner,
        on_line=lines.append,
        cancel=cancel,
        device_farm_factory=lambda p: DeviceFarm(client, Clock(), s3.client(), poll_s=5),
        base_dir=tmp_path,
    )
    return ctx, lines


def expect_run_until_jobs(stub, selection):
    expect_upload(stub, "app-release.apk", "ANDROID_APP", APP_UP, ["PROCESSING", "SUCCEEDED"])
    expect_upload(stub, "test_bundle.zip", "APPIUM_PYTHON_TEST_PACKAGE", PKG_UP)
    expect_upload(stub, "instep-testspec.yml", "APPIUM_PYTHON_TEST_SPEC", SPEC_UP)
    stub.add_response("schedule_run", {"run": {"arn": RUN, "status": "SCHEDULING"}}, {
        "projectArn": PROJECT, "appArn": APP_UP, "name": "instep aws-pixel",
        "test": {"type": "APPIUM_PYTHON", "testPackageArn": PKG_UP, "testSpecArn": SPEC_UP},
        **selection})  # fmt: skip
    stub.add_response("get_run", {"run": {"arn": RUN, "status": "RUNNING"}}, {"arn": RUN})
    stub.add_response(
        "get_run",
        {"run": {"arn": RUN, "status": "COMPLETED", "result": "FAILED", "message": "1 failed"}},
        {"arn": RUN},
    )
    stub.add_response(
        "list_jobs",
        {"jobs": [{"arn": JOB, "name": "Google Pixel 8", "device": {"name": "Google Pixel 8"}}]},
        {"arn": RUN},
    )


def test_an_aws_profile_runs_the_suite_on_device_farm_with_per_test_results_and_files(client, tmp_path):
    suite = write_suite(tmp_path)
    s3 = S3()
    s3.files[f"{RESULTS}/customer.zip"] = customer_artifacts(junit_xml("AssertionError: 2 != 3"))
    s3.files[f"{RESULTS}/logcat"] = b"I/ActivityManager: Start proc"
    s = client.stub
    expect_run_until_jobs(s, {"deviceSelectionConfiguration": {
        "filters": [{"attribute": "ARN", "operator": "IN", "values": [DEVICE]}], "maxDevices": 1}})  # fmt: skip
    s.add_response("list_artifacts", {"artifacts": [
        {"arn": JOB + "/a1", "name": "Customer Artifacts", "type": "CUSTOMER_ARTIFACT", "extension": "zip",
         "url": f"{RESULTS}/customer.zip"},
        {"arn": JOB + "/a2", "name": "Logcat", "type": "DEVICE_LOG", "extension": "logcat", "url": f"{RESULTS}/logcat"},
    ]}, {"arn": JOB, "type": "FILE"})  # fmt: skip
    runner = PipWheel()
    ctx, lines = context(tmp_path, client, s3, runner)

    report = run_suite(SuiteRequest("acceptance", suite, ("aws-pixel",)), ctx)

    finals = {r.test_id: r.final for r in report.results}
    assert finals == {
        "aws-pixel/Google Pixel 8/test_app.py::test_sign_in": Final.PASSED,
        "aws-pixel/Google Pixel 8/test_app.py::test_orders": Final.FAILED,
    }
    assert not report.passed
    assert report.verdict.reasons == ("1 test(s) failed: aws-pixel/Google Pixel 8/test_app.py::test_orders",)
    failed = next(r for r in report.results if r.final == Final.FAILED).attempts[0]
    assert failed.message == "AssertionError: 2 != 3" and failed.device == "Google Pixel 8"
    job_dir = tmp_path / "artifacts" / "shards" / "0-0" / "jobs" / "Google_Pixel_8"
    assert (job_dir / "Logcat.logcat").read_bytes() == b"I/ActivityManager: Start proc"
    assert str(job_dir / "Customer_Artifacts.zip") in failed.artifacts
    assert [sh.device for sh in report.shards] == ["aws-pixel"]
    assert ctx.durations.load("default") == {}
    assert any(f"scheduled run {RUN}" in line for line in lines)

    # What was PUT to the presigned URLs: the app as built, the package, the test spec.
    assert s3.put["app-release.apk"] == b"APK"
    with zipfile.ZipFile(io.BytesIO(s3.put["test_bundle.zip"])) as bundle:
        names = sorted(bundle.namelist())
        requirements = bundle.read("requirements.txt").decode().split()
    assert names == [
        "requirements.txt",
        "tests/conftest.py",
        "tests/pages/shop.py",
        "tests/requirements.txt",
        "tests/test_app.py",
        "wheelhouse/Appium_Python_Client-1.0-py3-none-any.whl",
        f"wheelhouse/{PLUGIN_MODULE}-1.0.0-py3-none-any.whl",
        "wheelhouse/pytest-1.0-py3-none-any.whl",
        "wheelhouse/requests-1.0-py3-none-any.whl",
    ]
    assert requirements == [
        "requests==2.32.3",
        "pytest",
        "Appium-Python-Client",
        "instep-suite-plugin==1.0.0",
    ]
    spec = yaml.safe_load(s3.put["instep-testspec.yml"])
    assert spec["version"] == 0.1
    assert "--find-links=./wheelhouse" in spec["phases"]["install"]["commands"][-1]
    assert "export INSTEP_DEVICE_PROFILE='aws-pixel'" in spec["phases"]["test"]["commands"]
    assert "export INSTEP_LOCALE='de-DE'" in spec["phases"]["test"]["commands"]
    assert spec["phases"]["test"]["commands"][-1].endswith(
        "--junitxml=$DEVICEFARM_LOG_DIR/instep-junit.xml tests"
    )
    assert spec["artifacts"] == ["$DEVICEFARM_LOG_DIR"]
    assert runner.calls[0][-4:-2] == (
        "--wheel-dir",
        str(tmp_path / "artifacts/shards/0-0/package/wheelhouse"),
    )


def test_without_a_junit_report_aws_own_test_list_is_the_result(client, tmp_path):
    suite = write_suite(tmp_path)
    s = client.stub
    expect_run_until_jobs(s, {"deviceSelectionConfiguration": {
        "filters": [{"attribute": "ARN", "operator": "IN", "values": [DEVICE]}], "maxDevices": 1}})  # fmt: skip
    s.add_response("list_artifacts", {"artifacts": []}, {"arn": JOB, "type": "FILE"})
    s.add_response("list_suites", {"suites": [{"arn": SUITE_ARN, "name": "Tests Suite"}]}, {"arn": JOB})
    s.add_response("list_tests", {"tests": [
        {"arn": TEST_ARN, "name": "Tests", "result": "ERRORED", "message": "pip install failed",
         "deviceMinutes": {"total": 0.5}}]}, {"arn": SUITE_ARN})  # fmt: skip
    ctx, _ = context(tmp_path, client, S3(), PipWheel())
    report = run_suite(SuiteRequest("acceptance", suite, ("aws-pixel",)), ctx)
    [result] = report.results
    assert result.test_id == "aws-pixel/Google Pixel 8/Tests Suite::Tests"
    assert result.final == Final.ERROR
    assert result.attempts[0].message == "pip install failed"
    assert result.attempts[0].duration_s == 30.0
    assert not report.passed


def test_a_device_pool_and_a_given_test_spec_are_used_as_they_are(client, tmp_path):
    (tmp_path / "spec.yml").write_text("version: 0.1\nphases: {}\n")
    profile = AwsProfile.from_profile(
        aws_profile(tmp_path, device_pool_arn=POOL, test_spec="spec.yml", region="us-west-2"), tmp_path
    )
    assert profile.devices() == {"devicePoolArn": POOL}
    assert profile.test_spec == tmp_path / "spec.yml"
    assert profile.app == tmp_path / "app-release.apk"
    filters = AwsProfile.from_profile(
        aws_profile(tmp_path, device_filters=[{"attribute": "PLATFORM", "operator": "EQUALS", "values": ["ANDROID"]}],
                    max_devices=3), tmp_path)  # fmt: skip
    assert filters.devices()["deviceSelectionConfiguration"]["maxDevices"] == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs exactly one of `device_pool_arn`, `device_arns` or `device_filters` \\(found none\\)"),
        ({"device_pool_arn": POOL, "device_arns": [DEVICE]}, "found device_pool_arn, device_arns"),
        ({"device_arns": []}, "`device_arns` must be a non-empty list"),
        (
            {"device_filters": [{"attribute": "PLATFORM"}], "max_devices": 0},
            "`max_devices` must be an integer",
        ),
        ({"device_pool_arn": POOL, "project_arn": None}, "needs `project_arn`"),
    ],
)
def test_profile_mistakes_name_the_profile_and_key(tmp_path, options, message):
    profile = aws_profile(tmp_path)
    profile = DeviceProfile(profile.name, profile.backend, options={**profile.options, **options})
    with pytest.raises(DeviceFarmError, match=f"device profile 'aws-pixel' \\(aws-device-farm\\).*{message}"):
        AwsProfile.from_profile(profile, tmp_path)


def test_a_failed_package_build_errors_every_test_with_pips_words(client, tmp_path):
    suite = write_suite(tmp_path)
    runner = PipWheel(code=1, output="ERROR: No matching distribution found for requests==2.32.3")
    ctx, _ = context(tmp_path, client, S3(), runner)
    report = run_suite(SuiteRequest("acceptance", suite, ("aws-pixel",)), ctx)
    assert [r.final for r in report.results] == [Final.ERROR, Final.ERROR]
    assert "building the wheelhouse for the AWS test package failed (exit 1)" in report.errors[0]
    assert "No matching distribution found for requests==2.32.3" in report.results[0].attempts[0].message
    assert not report.passed


def test_an_app_without_a_known_type_is_refused_before_anything_is_uploaded(client, tmp_path):
    suite = write_suite(tmp_path)
    (tmp_path / "app.bin").write_bytes(b"?")
    ctx, _ = context(tmp_path, client, S3(), PipWheel())
    report = run_suite(SuiteRequest("acceptance", suite, ("aws-pixel",), app=str(tmp_path / "app.bin")), ctx)
    assert "cannot tell the app type of app.bin; set `app_type:`" in report.errors[0]


def test_cancel_while_the_run_is_going_sends_stop_run(client, tmp_path):
    suite = write_suite(tmp_path)
    cancel = threading.Event()
    s = client.stub
    expect_upload(s, "app-release.apk", "ANDROID_APP", APP_UP)
    expect_upload(s, "test_bundle.zip", "APPIUM_PYTHON_TEST_PACKAGE", PKG_UP)
    expect_upload(s, "instep-testspec.yml", "APPIUM_PYTHON_TEST_SPEC", SPEC_UP)
    s.add_response("schedule_run", {"run": {"arn": RUN, "status": "SCHEDULING"}}, {
        "projectArn": PROJECT, "appArn": APP_UP, "name": "instep aws-pixel", "test": ANY,
        "deviceSelectionConfiguration": ANY})  # fmt: skip
    s.add_response("stop_run", {"run": {"arn": RUN, "status": "STOPPING"}}, {"arn": RUN})
    ctx, lines = context(tmp_path, client, S3(), PipWheel(), cancel)
    ctx.on_line = lambda line: (lines.append(line), "scheduled run" in line and cancel.set())
    report = run_suite(SuiteRequest("acceptance", suite, ("aws-pixel",)), ctx)
    assert f"the AWS Device Farm run {RUN} was canceled (StopRun sent)" in report.errors[0]
    assert "the suite was canceled" in report.errors
    assert not report.passed


def test_upload_that_ends_failed_reports_aws_message(client, tmp_path):
    (tmp_path / "app.apk").write_bytes(b"x")
    expect_upload(client.stub, "app.apk", "ANDROID_APP", APP_UP, ["FAILED"], "The APK is not signed.")
    farm = DeviceFarm(client, Clock(), S3().client())
    with pytest.raises(DeviceFarmError, match=r"rejected app.apk \(ANDROID_APP\): The APK is not signed."):
        farm.upload(PROJECT, tmp_path / "app.apk", "ANDROID_APP")


def test_upload_stuck_in_initialized_fails_with_the_time_and_message(client, tmp_path):
    (tmp_path / "app.apk").write_bytes(b"x")
    expect_upload(client.stub, "app.apk", "ANDROID_APP", APP_UP, ["INITIALIZED"] * 4, "Waiting for upload")
    farm = DeviceFarm(client, Clock(), S3().client(), poll_s=10, upload_timeout_s=30)
    with pytest.raises(DeviceFarmError, match="still INITIALIZED after 30 s: Waiting for upload"):
        farm.upload(PROJECT, tmp_path / "app.apk", "ANDROID_APP")


def test_stubber_rejects_a_request_the_service_model_does_not_allow(client):
    client.stub.add_response("get_run", {"run": {"arn": RUN, "status": "COMPLETED"}}, {"arn": ANY})
    with pytest.raises(Exception, match="Parameter validation failed"):
        client.get_run(arn=12)
    assert client.get_run(arn=RUN)["run"]["status"] == "COMPLETED"


def test_requirements_default_to_pytest_and_the_appium_client(tmp_path):
    assert suite_requirements(tmp_path) == ["pytest", "Appium-Python-Client"]
    (tmp_path / "reqs.txt").write_text("pytest==8.3.3\nappium_python_client>=4\n")
    assert suite_requirements(tmp_path, tmp_path / "reqs.txt") == ["pytest==8.3.3", "appium_python_client>=4"]


def test_the_plugin_wheel_is_valid_and_pytest_loads_it_by_its_entry_point(tmp_path):
    name, data = plugin_wheel()
    assert plugin_wheel() == (name, data)
    with zipfile.ZipFile(io.BytesIO(data)) as whl:
        record = whl.read(f"{PLUGIN_MODULE}-1.0.0.dist-info/RECORD").decode().splitlines()
        for line in record[:-1]:
            path, digest, size = line.split(",")
            content = whl.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(content)
    (tmp_path / name).write_bytes(data)
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(site),
         str(tmp_path / name)],
        check=True, timeout=120,
    )  # fmt: skip
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_plugin.py").write_text(
        "def test_fixture_from_the_wheel(instep_session):\n    assert instep_session.profile == 'aws-pixel'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(suite), str(suite)],
        cwd=suite, env={"PYTHONPATH": str(site), "INSTEP_DEVICE_PROFILE": "aws-pixel"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_the_package_keeps_a_given_requirements_file_and_skips_caches(tmp_path):
    suite = write_suite(tmp_path)
    (tmp_path / "reqs.txt").write_text("pytest==8.3.3\n")
    package = build_test_package(
        suite, tmp_path / "out", runner=PipWheel(), python="python3", requirements_file=tmp_path / "reqs.txt"
    )
    assert package.requirements == ("pytest==8.3.3", "Appium-Python-Client", "instep-suite-plugin==1.0.0")
    with zipfile.ZipFile(package.path) as bundle:
        assert not [n for n in bundle.namelist() if "__pycache__" in n or n.endswith(".pyc")]


def test_a_mistaken_aws_profile_stops_the_suite_before_anything_runs(client, tmp_path):
    suite = write_suite(tmp_path)
    ctx, _ = context(tmp_path, client, S3(), PipWheel())
    ctx.inventory = Inventory({"aws-pixel": aws_profile(tmp_path)})
    with pytest.raises(SuiteError, match="'aws-pixel' \\(aws-device-farm\\) needs exactly one of"):
        run_suite(SuiteRequest("acceptance", suite, ("aws-pixel",)), ctx)


def test_instep_suite_run_reaches_an_aws_profile_from_devices_yml(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from device_farm.cli import suite as suite_cli

    suite = write_suite(tmp_path)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "devices.yml").write_text(
        f"devices:\n  - {{name: aws-pixel, backend: aws-device-farm, project_arn: '{PROJECT}',"
        f" device_pool_arn: '{POOL}', app: build/missing.apk}}\n"
    )
    monkeypatch.chdir(tmp_path)
    env = {"INSTEP_HOME": str(tmp_path / "home"), "INSTEP_REDIS_URL": "", "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test"}  # fmt: skip
    result = CliRunner().invoke(
        suite_cli, ["run", "acceptance", "--path", str(suite), "--device", "aws-pixel", "--json"], env=env
    )
    assert result.exit_code == 1, result.output
    report = result.output[result.output.index("{") :]
    parsed = json.loads(report)
    assert parsed["reasons"][0] == (
        f"the app {tmp_path / 'build' / 'missing.apk'} for device profile 'aws-pixel' does not exist"
    )
    assert [t["id"] for t in parsed["tests"]] == [
        "aws-pixel/test_app.py::test_sign_in",
        "aws-pixel/test_app.py::test_orders",
    ]
