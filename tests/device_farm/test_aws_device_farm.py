"""AWS Device Farm through botocore's Stubber: every request is validated against the service model."""

import threading

import boto3
import httpx
import pytest
from botocore.stub import ANY, Stubber

from device_farm.backends.aws_device_farm import DeviceFarm, DeviceFarmError, run_on_device_farm
from device_farm.outcomes import Final
from device_farm.profiles import DeviceProfile

PROJECT = "arn:aws:devicefarm:us-west-2:123456789012:project:5e01a8c7-c861-4c0a-b1d5-12345EXAMPLE"
DEVICE = "arn:aws:devicefarm:us-west-2::device:70D5B22608A149568923E4A225EC5D04"
APP_UP = "arn:aws:devicefarm:us-west-2:123456789012:upload:5e01a8c7/app-1"
PKG_UP = "arn:aws:devicefarm:us-west-2:123456789012:upload:5e01a8c7/pkg-1"
POOL = "arn:aws:devicefarm:us-west-2:123456789012:devicepool:5e01a8c7/pool-1"
RUN = "arn:aws:devicefarm:us-west-2:123456789012:run:5e01a8c7/run-1"
JOB = "arn:aws:devicefarm:us-west-2:123456789012:job:5e01a8c7/run-1/00000"
SUITE = "arn:aws:devicefarm:us-west-2:123456789012:suite:5e01a8c7/run-1/00000/00001"
TEST_OK = "arn:aws:devicefarm:us-west-2:123456789012:test:5e01a8c7/run-1/00000/00001/00000"
TEST_BAD = "arn:aws:devicefarm:us-west-2:123456789012:test:5e01a8c7/run-1/00000/00001/00001"


class Clock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, s):
        self.now += s

    def time(self):
        return self.now


@pytest.fixture
def client():
    c = boto3.client(
        "devicefarm", region_name="us-west-2", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(c) as stub:
        c.stub = stub
        yield c
        stub.assert_no_pending_responses()


@pytest.fixture
def uploads():
    seen = []

    def handler(request):
        seen.append((request.method, str(request.url), request.content))
        return httpx.Response(200)

    return seen, httpx.Client(transport=httpx.MockTransport(handler))


def profile(tmp_path):
    (tmp_path / "app.apk").write_bytes(b"APK")
    (tmp_path / "tests.zip").write_bytes(b"ZIP")
    return DeviceProfile(
        "aws-pixel", "aws-device-farm",
        options={"project_arn": PROJECT, "device_arns": [DEVICE], "app": str(tmp_path / "app.apk"),
                 "test_package": str(tmp_path / "tests.zip")},
    )  # fmt: skip


def expect_upload(stub, name, kind, arn, statuses, message=""):
    stub.add_response(
        "create_upload",
        {
            "upload": {
                "arn": arn,
                "status": "INITIALIZED",
                "url": f"https://prod-us-west-2-uploads.s3.amazonaws.com/{name}",
            }
        },
        {"projectArn": PROJECT, "name": name, "type": kind, "contentType": "application/octet-stream"},
    )
    for status in statuses:
        stub.add_response(
            "get_upload", {"upload": {"arn": arn, "status": status, "message": message}}, {"arn": arn}
        )


def test_full_run_uploads_schedules_polls_and_reads_every_test(client, uploads, tmp_path):
    seen, http = uploads
    s = client.stub
    expect_upload(s, "app.apk", "ANDROID_APP", APP_UP, ["PROCESSING", "SUCCEEDED"])
    expect_upload(s, "tests.zip", "APPIUM_PYTHON_TEST_PACKAGE", PKG_UP, ["SUCCEEDED"])
    s.add_response("create_device_pool", {"devicePool": {"arn": POOL}}, {
        "projectArn": PROJECT, "name": "instep-aws-pixel",
        "rules": [{"attribute": "ARN", "operator": "IN", "value": f'["{DEVICE}"]'}]})  # fmt: skip
    s.add_response("schedule_run", {"run": {"arn": RUN, "status": "SCHEDULING"}}, {
        "projectArn": PROJECT, "appArn": APP_UP, "devicePoolArn": POOL, "name": "instep aws-pixel",
        "test": {"type": "APPIUM_PYTHON", "testPackageArn": PKG_UP}})  # fmt: skip
    s.add_response("get_run", {"run": {"arn": RUN, "status": "RUNNING"}}, {"arn": RUN})
    s.add_response("get_run", {"run": {"arn": RUN, "status": "COMPLETED", "result": "FAILED"}}, {"arn": RUN})
    s.add_response(
        "list_jobs",
        {"jobs": [{"arn": JOB, "name": "Google Pixel 8", "device": {"name": "Google Pixel 8"}}]},
        {"arn": RUN},
    )
    s.add_response("list_suites", {"suites": [{"arn": SUITE, "name": "Tests Suite"}]}, {"arn": JOB})
    s.add_response("list_tests", {"tests": [
        {"arn": TEST_OK, "name": "test_sign_in", "result": "PASSED", "deviceMinutes": {"total": 0.5}},
        {"arn": TEST_BAD, "name": "test_orders", "result": "FAILED", "message": "AssertionError: 2 != 3"},
    ]}, {"arn": SUITE})  # fmt: skip
    s.add_response("list_artifacts", {"artifacts": [{"name": "Appium Server Output", "url": "https://a/log"}]},
                   {"arn": TEST_OK, "type": "FILE"})  # fmt: skip
    s.add_response("list_artifacts", {"artifacts": []}, {"arn": TEST_BAD, "type": "FILE"})
    farm = DeviceFarm(client, Clock(), http, poll_s=5)
    results = run_on_device_farm(profile(tmp_path), farm)
    assert [(r.test_id, r.final) for r in results] == [
        ("Google Pixel 8/Tests Suite::test_sign_in", Final.PASSED),
        ("Google Pixel 8/Tests Suite::test_orders", Final.FAILED),
    ]
    assert results[0].attempts[0].duration_s == 30.0
    assert results[0].attempts[0].artifacts == ("https://a/log",)
    assert results[1].attempts[0].message == "AssertionError: 2 != 3"
    assert [(m, u.rsplit("/", 1)[1], c) for m, u, c in seen] == [
        ("PUT", "app.apk", b"APK"),
        ("PUT", "tests.zip", b"ZIP"),
    ]


def test_upload_that_ends_failed_reports_aws_message(client, uploads, tmp_path):
    (tmp_path / "app.apk").write_bytes(b"x")
    expect_upload(client.stub, "app.apk", "ANDROID_APP", APP_UP, ["FAILED"], "The APK is not signed.")
    farm = DeviceFarm(client, Clock(), uploads[1])
    with pytest.raises(DeviceFarmError, match=r"rejected app.apk \(ANDROID_APP\): The APK is not signed."):
        farm.upload(PROJECT, tmp_path / "app.apk", "ANDROID_APP")


def test_upload_stuck_in_initialized_fails_with_the_time_and_message(client, uploads, tmp_path):
    (tmp_path / "app.apk").write_bytes(b"x")
    expect_upload(client.stub, "app.apk", "ANDROID_APP", APP_UP, ["INITIALIZED"] * 4, "Waiting for upload")
    farm = DeviceFarm(client, Clock(), uploads[1], poll_s=10, upload_timeout_s=30)
    with pytest.raises(DeviceFarmError, match="still INITIALIZED after 30 s: Waiting for upload"):
        farm.upload(PROJECT, tmp_path / "app.apk", "ANDROID_APP")


def test_cancel_stops_the_run(client, uploads):
    client.stub.add_response("stop_run", {"run": {"arn": RUN, "status": "STOPPING"}}, {"arn": RUN})
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DeviceFarmError, match="canceled"):
        DeviceFarm(client, Clock(), uploads[1]).wait_run(RUN, cancel)


def test_stubber_rejects_a_request_the_service_model_does_not_allow(client, uploads):
    client.stub.add_response("get_run", {"run": {"arn": RUN, "status": "COMPLETED"}}, {"arn": ANY})
    with pytest.raises(Exception, match="Parameter validation failed"):
        client.get_run(arn=12)
    assert client.get_run(arn=RUN)["run"]["status"] == "COMPLETED"
