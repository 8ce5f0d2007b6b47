"""AWS Device Farm (boto3, us-west-2): the suite runs on AWS's devices, not through a local
Appium server. Upload the app and the Appium Python test package, wait for `SUCCEEDED`, create
the device pool, schedule the run, poll it until `COMPLETED`, then walk jobs, suites, tests and
artifacts. `stop_run` on cancel.

    devices:
      - name: aws-pixel-pool
        backend: aws-device-farm
        project_arn: arn:aws:devicefarm:us-west-2:123456789012:project:...
        device_arns: [arn:aws:devicefarm:us-west-2::device:...]
        app: build/app-release.apk
        app_type: ANDROID_APP
        test_package: build/test_bundle.zip
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from device_farm.backends.base import BackendError, Health, option
from device_farm.clock import Clock, PollTimeout, poll
from device_farm.outcomes import Attempt, Status, TestResult
from device_farm.profiles import DeviceProfile

REGION = "us-west-2"
_STATUS = {
    "PASSED": Status.PASSED,
    "WARNED": Status.PASSED,
    "FAILED": Status.FAILED,
    "SKIPPED": Status.SKIPPED,
    "ERRORED": Status.ERROR,
    "STOPPED": Status.ERROR,
    "PENDING": Status.ERROR,
}


class DeviceFarmError(BackendError):
    """AWS Device Farm refused or failed something; the message carries AWS's own words."""


def create_client() -> Any:
    import boto3

    return boto3.client("devicefarm", region_name=REGION)


@dataclass(frozen=True)
class DeviceFarmTest:
    device: str
    suite: str
    name: str
    status: Status
    duration_s: float
    message: str
    artifacts: tuple[str, ...]

    @property
    def test_id(self) -> str:
        return f"{self.suite}::{self.name}"


class DeviceFarm:
    """The boto3 adapter: every Device Farm call Instep makes lives here."""

    def __init__(
        self,
        client: Any,
        clock: Clock,
        http: httpx.Client | None = None,
        *,
        poll_s: float = 10.0,
        upload_timeout_s: float = 900.0,
        run_timeout_s: float = 4 * 3600.0,
    ) -> None:
        self._c = client
        self._clock = clock
        self._http = http or httpx.Client(timeout=300)
        self.poll_s = poll_s
        self.upload_timeout_s = upload_timeout_s
        self.run_timeout_s = run_timeout_s

    def upload(self, project_arn: str, path: Path, upload_type: str) -> str:
        """Upload `path`, return its ARN once AWS says SUCCEEDED."""
        created = self._c.create_upload(
            projectArn=project_arn, name=path.name, type=upload_type, contentType="application/octet-stream"
        )["upload"]
        with path.open("rb") as f:
            response = self._http.put(
                created["url"], content=f.read(), headers={"Content-Type": "application/octet-stream"}
            )
        if response.status_code >= 300:
            raise DeviceFarmError(
                f"uploading {path.name} to AWS Device Farm failed: HTTP {response.status_code}"
            )
        last: dict[str, Any] = created

        def probe() -> str | None:
            nonlocal last
            last = self._c.get_upload(arn=created["arn"])["upload"]
            if last["status"] == "FAILED":
                raise DeviceFarmError(
                    f"AWS Device Farm rejected {path.name} ({upload_type}): {last.get('message') or 'no message'}"
                )
            return last["arn"] if last["status"] == "SUCCEEDED" else None

        try:
            return poll(probe, timeout=self.upload_timeout_s, interval=self.poll_s, clock=self._clock)
        except PollTimeout:
            raise DeviceFarmError(
                f"AWS Device Farm upload of {path.name} is still {last.get('status')} after "
                f"{self.upload_timeout_s:.0f} s: {last.get('message') or 'no message from AWS'}"
            ) from None

    def create_device_pool(self, project_arn: str, name: str, device_arns: list[str]) -> str:
        pool = self._c.create_device_pool(
            projectArn=project_arn,
            name=name,
            rules=[{"attribute": "ARN", "operator": "IN", "value": json.dumps(device_arns)}],
        )
        return str(pool["devicePool"]["arn"])

    def schedule_run(
        self,
        project_arn: str,
        app_arn: str,
        pool_arn: str,
        package_arn: str,
        name: str,
        spec_arn: str | None = None,
    ) -> str:
        test: dict[str, Any] = {"type": "APPIUM_PYTHON", "testPackageArn": package_arn}
        if spec_arn:
            test["testSpecArn"] = spec_arn
        run = self._c.schedule_run(
            projectArn=project_arn, appArn=app_arn, devicePoolArn=pool_arn, name=name, test=test
        )
        return str(run["run"]["arn"])

    def wait_run(self, run_arn: str, cancel: threading.Event | None = None) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            if cancel is not None and cancel.is_set():
                self.stop_run(run_arn)
                raise DeviceFarmError(f"the AWS Device Farm run {run_arn} was canceled (stop_run sent)")
            run = self._c.get_run(arn=run_arn)["run"]
            return run if run["status"] == "COMPLETED" else None

        try:
            return poll(probe, timeout=self.run_timeout_s, interval=self.poll_s, clock=self._clock)
        except PollTimeout:
            self.stop_run(run_arn)
            raise DeviceFarmError(
                f"the AWS Device Farm run did not complete in {self.run_timeout_s:.0f} s; stop_run sent"
            ) from None

    def stop_run(self, run_arn: str) -> None:
        self._c.stop_run(arn=run_arn)

    def _pages(self, method: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = getattr(self._c, method)(**params, **({"nextToken": token} if token else {}))
            yield from page.get(key, [])
            token = page.get("nextToken")
            if not token:
                return

    def results(self, run_arn: str) -> list[DeviceFarmTest]:
        out: list[DeviceFarmTest] = []
        for job in self._pages("list_jobs", "jobs", arn=run_arn):
            device = job.get("device", {}).get("name") or job.get("name", "")
            for suite in self._pages("list_suites", "suites", arn=job["arn"]):
                for test in self._pages("list_tests", "tests", arn=suite["arn"]):
                    files = self._pages("list_artifacts", "artifacts", arn=test["arn"], type="FILE")
                    out.append(
                        DeviceFarmTest(
                            device=device,
                            suite=suite.get("name", ""),
                            name=test.get("name", ""),
                            status=_STATUS.get(test.get("result", "PENDING"), Status.ERROR),
                            duration_s=float(test.get("deviceMinutes", {}).get("total", 0.0)) * 60,
                            message=test.get("message", "") or "",
                            artifacts=tuple(a["url"] for a in files if a.get("url")),
                        )
                    )
        return out


class AwsDeviceFarmBackend:
    """The Backend shape for AWS: prepare uploads, start schedules the run, stop stops it.
    `capabilities()` is empty because AWS starts Appium on its own hosts."""

    appium_driver = ""

    def __init__(
        self, profile: DeviceProfile, farm: DeviceFarm, cancel: threading.Event | None = None
    ) -> None:
        self.profile = profile
        self._farm = farm
        self._cancel = cancel
        self.project_arn = option(profile, "project_arn", str)
        self.device_arns = list(option(profile, "device_arns", list))
        self.app = Path(option(profile, "app", str))
        self.app_type = option(profile, "app_type", str, "ANDROID_APP")
        self.test_package = Path(option(profile, "test_package", str))
        self.spec_arn = option(profile, "test_spec_arn", str, "") or None
        self.run_arn: str | None = None
        self._uploads: tuple[str, str, str] | None = None

    def prepare(self) -> None:
        app_arn = self._farm.upload(self.project_arn, self.app, self.app_type)
        package_arn = self._farm.upload(self.project_arn, self.test_package, "APPIUM_PYTHON_TEST_PACKAGE")
        pool_arn = self._farm.create_device_pool(
            self.project_arn, f"instep-{self.profile.name}", self.device_arns
        )
        self._uploads = (app_arn, package_arn, pool_arn)

    def start(self, *, boot_timeout_s: float) -> None:
        if self._uploads is None:
            raise BackendError("prepare() must run before start()")
        app_arn, package_arn, pool_arn = self._uploads
        self.run_arn = self._farm.schedule_run(
            self.project_arn, app_arn, pool_arn, package_arn, f"instep {self.profile.name}", self.spec_arn
        )

    def health_check(self) -> Health:
        return Health(self.run_arn is not None, "" if self.run_arn else "no run scheduled")

    def capabilities(self) -> dict[str, Any]:
        return {}

    def remote_url(self) -> str | None:
        return None

    def wait_for_results(self) -> tuple[TestResult, ...]:
        if self.run_arn is None:
            raise BackendError("start() must run before wait_for_results()")
        self._farm.wait_run(self.run_arn, self._cancel)
        return tuple(
            TestResult(
                f"{t.device}/{t.test_id}",
                (Attempt(t.status, t.duration_s, t.device, 0, t.message, t.artifacts),),
            )
            for t in self._farm.results(self.run_arn)
        )

    def stop(self) -> None:
        if self.run_arn is not None and self._cancel is not None and self._cancel.is_set():
            self._farm.stop_run(self.run_arn)


def run_on_device_farm(
    profile: DeviceProfile, farm: DeviceFarm, cancel: threading.Event | None = None
) -> tuple[TestResult, ...]:
    """The whole AWS flow for one profile; raises DeviceFarmError with AWS's message on failure."""
    backend = AwsDeviceFarmBackend(profile, farm, cancel)
    backend.prepare()
    backend.start(boot_timeout_s=0)
    try:
        return backend.wait_for_results()
    finally:
        backend.stop()
