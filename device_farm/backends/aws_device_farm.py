"""AWS Device Farm (boto3): a whole suite runs on AWS's devices instead of a leased local one.
Instep builds the Appium Python test package from the suite folder, uploads the app, the package
and the test spec (CreateUpload, PUT to the presigned URL, GetUpload until SUCCEEDED), schedules
the run (ScheduleRun), polls it (GetRun) and stops it on cancel (StopRun), then reads the jobs,
suites and tests (ListJobs/ListSuites/ListTests) and downloads each job's files (ListArtifacts).
The JUnit report the default test spec keeps in the customer artifacts gives per-test results
under the suite's own test ids; without it AWS's own test list is used.

    # devices.yml
    devices:
      - name: aws-pixel
        backend: aws-device-farm
        project_arn: arn:aws:devicefarm:us-west-2:123456789012:project:...
        device_pool_arn: arn:aws:devicefarm:us-west-2:123456789012:devicepool:...
        # or: device_arns: [arn:aws:devicefarm:us-west-2::device:...]
        # or: device_filters: [{attribute: PLATFORM, operator: EQUALS, values: [ANDROID]}]
        #     max_devices: 2
        app: build/app-release.apk          # or the suite's --app / stage `app:` when it is a file
        region: us-west-2                   # the default; Device Farm lives only there
        # test_spec: ci/aws-testspec.yml    # or test_spec_arn; default: Instep's own
        # requirements: tests/acceptance/requirements.txt
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from device_farm.backends.aws_test_package import JUNIT_NAME, build_test_package, default_test_spec
from device_farm.backends.base import BackendError
from device_farm.clock import Clock, PollTimeout, poll
from device_farm.commands import CommandRunner
from device_farm.outcomes import Attempt, Status, TestResult
from device_farm.profiles import DeviceProfile
from device_farm.results import JUnitError, read_shard_results

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
_APP_TYPES = {".apk": "ANDROID_APP", ".ipa": "IOS_APP"}


class DeviceFarmError(BackendError):
    """AWS Device Farm refused or failed something; the message carries AWS's own words."""


def create_client(region: str = REGION) -> Any:
    """A boto3 Device Farm client; credentials come from boto3's usual chain (AWS_* variables,
    ~/.aws, an instance role)."""
    import boto3

    return boto3.client("devicefarm", region_name=region)


@dataclass(frozen=True)
class AwsProfile:
    """A `backend: aws-device-farm` profile's options, checked once with errors naming the key."""

    name: str
    locale: str
    project_arn: str
    region: str = REGION
    device_pool_arn: str | None = None
    device_filters: tuple[Mapping[str, Any], ...] = ()
    max_devices: int = 1
    app: Path | None = None
    app_type: str | None = None
    test_spec: Path | None = None
    test_spec_arn: str | None = None
    test_package: Path | None = None
    requirements: Path | None = None

    @classmethod
    def from_profile(cls, profile: DeviceProfile, base_dir: Path) -> AwsProfile:
        """Relative paths are taken from `base_dir` (the directory `instep suite run` ran in)."""
        o = profile.options
        where = f"device profile {profile.name!r} (aws-device-farm)"

        def text(key: str, required: bool = False) -> str | None:
            value = o.get(key)
            if value is None and not required:
                return None
            if not isinstance(value, str) or not value:
                raise DeviceFarmError(f"{where} needs `{key}` (a non-empty string)")
            return value

        def path(key: str) -> Path | None:
            value = text(key)
            return None if value is None else (base_dir / Path(value).expanduser()).resolve()

        choices = [k for k in ("device_pool_arn", "device_arns", "device_filters") if o.get(k) is not None]
        if len(choices) != 1:
            raise DeviceFarmError(
                f"{where} needs exactly one of `device_pool_arn`, `device_arns` or `device_filters` "
                f"(found {', '.join(choices) or 'none'})"
            )
        filters: tuple[Mapping[str, Any], ...] = ()
        if o.get("device_arns") is not None:
            arns = o["device_arns"]
            if not isinstance(arns, list) or not arns or not all(isinstance(a, str) for a in arns):
                raise DeviceFarmError(f"{where}: `device_arns` must be a non-empty list of device ARNs")
            filters = ({"attribute": "ARN", "operator": "IN", "values": list(arns)},)
        elif o.get("device_filters") is not None:
            raw = o["device_filters"]
            if not isinstance(raw, list) or not raw or not all(isinstance(f, Mapping) for f in raw):
                raise DeviceFarmError(
                    f"{where}: `device_filters` must be a list of {{attribute, operator, values}} mappings"
                )
            filters = tuple(raw)
        max_devices = o.get("max_devices", len(filters[0]["values"]) if o.get("device_arns") else 1)
        if not isinstance(max_devices, int) or not 1 <= max_devices <= 50:
            raise DeviceFarmError(
                f"{where}: `max_devices` must be an integer from 1 to 50, got {max_devices!r}"
            )
        return cls(
            name=profile.name,
            locale=profile.locale,
            project_arn=text("project_arn", required=True) or "",
            region=text("region") or REGION,
            device_pool_arn=text("device_pool_arn"),
            device_filters=filters,
            max_devices=max_devices,
            app=path("app"),
            app_type=text("app_type"),
            test_spec=path("test_spec"),
            test_spec_arn=text("test_spec_arn"),
            test_package=path("test_package"),
            requirements=path("requirements"),
        )

    def devices(self) -> dict[str, Any]:
        """ScheduleRun's device choice: a pool ARN, or a selection by filters."""
        if self.device_pool_arn:
            return {"devicePoolArn": self.device_pool_arn}
        return {
            "deviceSelectionConfiguration": {
                "filters": [dict(f) for f in self.device_filters],
                "maxDevices": self.max_devices,
            }
        }


@dataclass(frozen=True)
class DeviceFarmTest:
    device: str
    suite: str
    name: str
    status: Status
    duration_s: float
    message: str

    @property
    def test_id(self) -> str:
        return f"{self.suite}::{self.name}"


class DeviceFarm:
    """The boto3 adapter: every Device Farm call Instep makes lives here. `http` carries the
    presigned-URL uploads and downloads (tests inject an httpx.MockTransport)."""

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
        self._http = http or httpx.Client(timeout=300, follow_redirects=True)
        self.poll_s = poll_s
        self.upload_timeout_s = upload_timeout_s
        self.run_timeout_s = run_timeout_s

    def upload(self, project_arn: str, path: Path, upload_type: str) -> str:
        """Upload `path`, return its ARN once AWS says SUCCEEDED."""
        created = self._c.create_upload(
            projectArn=project_arn, name=path.name, type=upload_type, contentType="application/octet-stream"
        )["upload"]
        try:
            with path.open("rb") as f:
                response = self._http.put(
                    created["url"], content=f, headers={"Content-Type": "application/octet-stream"}
                )
        except httpx.HTTPError as exc:
            raise DeviceFarmError(f"uploading {path.name} to AWS Device Farm failed: {exc}") from exc
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

    def schedule_run(
        self,
        project_arn: str,
        app_arn: str,
        package_arn: str,
        name: str,
        devices: Mapping[str, Any],
        spec_arn: str | None = None,
    ) -> str:
        test: dict[str, Any] = {"type": "APPIUM_PYTHON", "testPackageArn": package_arn}
        if spec_arn:
            test["testSpecArn"] = spec_arn
        run = self._c.schedule_run(projectArn=project_arn, appArn=app_arn, name=name, test=test, **devices)
        return str(run["run"]["arn"])

    def wait_run(self, run_arn: str, cancel: threading.Event | None = None) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            if cancel is not None and cancel.is_set():
                self.stop_run(run_arn)
                raise DeviceFarmError(f"the AWS Device Farm run {run_arn} was canceled (StopRun sent)")
            run = self._c.get_run(arn=run_arn)["run"]
            return run if run["status"] == "COMPLETED" else None

        try:
            return poll(probe, timeout=self.run_timeout_s, interval=self.poll_s, clock=self._clock)
        except PollTimeout:
            self.stop_run(run_arn)
            raise DeviceFarmError(
                f"the AWS Device Farm run did not complete in {self.run_timeout_s:.0f} s; StopRun sent"
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

    def jobs(self, run_arn: str) -> list[dict[str, Any]]:
        """One job per device the run used."""
        return list(self._pages("list_jobs", "jobs", arn=run_arn))

    def tests(self, job: Mapping[str, Any]) -> list[DeviceFarmTest]:
        device = job.get("device", {}).get("name") or job.get("name", "")
        return [
            DeviceFarmTest(
                device=device,
                suite=suite.get("name", ""),
                name=test.get("name", ""),
                status=_STATUS.get(test.get("result", "PENDING"), Status.ERROR),
                duration_s=float(test.get("deviceMinutes", {}).get("total", 0.0)) * 60,
                message=test.get("message", "") or "",
            )
            for suite in self._pages("list_suites", "suites", arn=job["arn"])
            for test in self._pages("list_tests", "tests", arn=suite["arn"])
        ]

    def files(self, job_arn: str) -> list[dict[str, Any]]:
        """The job's FILE artifacts (logs, video, the customer artifacts zip) with download URLs."""
        return [
            a for a in self._pages("list_artifacts", "artifacts", arn=job_arn, type="FILE") if a.get("url")
        ]

    def download(self, url: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code >= 300:
                    raise DeviceFarmError(
                        f"downloading {dest.name} from AWS failed: HTTP {response.status_code}"
                    )
                with dest.open("wb") as f:
                    for chunk in response.iter_bytes():
                        f.write(chunk)
        except httpx.HTTPError as exc:
            raise DeviceFarmError(f"downloading {dest.name} from AWS failed: {exc}") from exc
        return dest


@dataclass(frozen=True)
class DeviceFarmRun:
    """What one AWS run gave the suite: results per device, the files kept, the run's ARN."""

    run_arn: str
    results: tuple[TestResult, ...]
    files: tuple[Path, ...]


def run_suite_on_device_farm(
    profile: AwsProfile,
    farm: DeviceFarm,
    *,
    suite: Path,
    test_ids: Sequence[str],
    work_dir: Path,
    runner: CommandRunner,
    python: str,
    app: Path | None = None,
    shard: int = 0,
    pytest_args: Sequence[str] = (),
    cancel: threading.Event | None = None,
    on_line: Callable[[str], None] = lambda line: None,
) -> DeviceFarmRun:
    """The whole AWS flow for one profile. Test ids are `<profile>/<device>/<test id>`, one per
    device AWS ran the suite on. Raises DeviceFarmError (or TestPackageError) with what failed."""
    app_path = app or profile.app
    if app_path is None:
        raise DeviceFarmError(
            f"device profile {profile.name!r} has no app to upload: set its `app:` or pass the built "
            ".apk/.ipa as the suite's app"
        )
    if not app_path.is_file():
        raise DeviceFarmError(f"the app {app_path} for device profile {profile.name!r} does not exist")
    app_type = profile.app_type or _APP_TYPES.get(app_path.suffix.lower())
    if app_type is None:
        raise DeviceFarmError(
            f"cannot tell the app type of {app_path.name}; set `app_type:` (ANDROID_APP or IOS_APP) "
            f"on device profile {profile.name!r}"
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    if profile.test_package is not None:
        package = profile.test_package
    else:
        on_line(f"aws {profile.name}: building the Appium Python test package from {suite}")
        package = build_test_package(
            suite, work_dir / "package", runner=runner, python=python, requirements_file=profile.requirements
        ).path
    spec_arn = profile.test_spec_arn
    spec = profile.test_spec
    if spec_arn is None and spec is None:
        spec = work_dir / "instep-testspec.yml"
        spec.write_text(default_test_spec_for(profile, pytest_args))
    app_arn = farm.upload(profile.project_arn, app_path, app_type)
    package_arn = farm.upload(profile.project_arn, package, "APPIUM_PYTHON_TEST_PACKAGE")
    if spec_arn is None and spec is not None:
        spec_arn = farm.upload(profile.project_arn, spec, "APPIUM_PYTHON_TEST_SPEC")
    if cancel is not None and cancel.is_set():
        raise DeviceFarmError("the suite was canceled before the AWS Device Farm run was scheduled")
    run_arn = farm.schedule_run(
        profile.project_arn, app_arn, package_arn, f"instep {profile.name}", profile.devices(), spec_arn
    )
    on_line(f"aws {profile.name}: scheduled run {run_arn}")
    run = farm.wait_run(run_arn, cancel)
    on_line(
        f"aws {profile.name}: run {run.get('result', 'completed')}: {run.get('message') or ''}".rstrip(": ")
    )
    results: list[TestResult] = []
    files: list[Path] = []
    for job in farm.jobs(run_arn):
        device = job.get("device", {}).get("name") or job.get("name", "") or "device"
        job_dir = work_dir / "jobs" / _safe(device)
        job_files = [
            farm.download(
                a["url"], job_dir / _safe(f"{a.get('name') or a['type']}.{a.get('extension') or 'bin'}")
            )
            for a in farm.files(job["arn"])
        ]
        files += job_files
        artifacts = tuple(str(p) for p in job_files)
        junit = _junit_from(job_files, job_dir)
        found: dict[str, tuple[Status, float, str]] = {}
        if junit is not None:
            try:
                found = read_shard_results(junit, test_ids)
            except JUnitError as exc:
                on_line(f"aws {profile.name}: {device}: {exc}; using AWS's own test list")
        prefix = f"{profile.name}/{device}/"
        if found:
            for test_id in test_ids:
                status, seconds, message = found.get(
                    test_id, (Status.ERROR, 0.0, "no result in the JUnit report from AWS Device Farm")
                )
                results.append(
                    TestResult(
                        prefix + test_id, (Attempt(status, seconds, device, shard, message, artifacts),)
                    )
                )
        else:
            for t in farm.tests(job):
                results.append(
                    TestResult(
                        prefix + t.test_id,
                        (Attempt(t.status, t.duration_s, device, shard, t.message, artifacts),),
                    )
                )
    return DeviceFarmRun(run_arn, tuple(results), tuple(files))


def default_test_spec_for(profile: AwsProfile, pytest_args: Sequence[str]) -> str:
    return default_test_spec(
        DeviceProfile(profile.name, "aws-device-farm", locale=profile.locale), pytest_args
    )


def _junit_from(files: Sequence[Path], job_dir: Path) -> Path | None:
    """The test spec's JUnit report, from the customer artifacts zip AWS made of DEVICEFARM_LOG_DIR."""
    for path in files:
        if path.suffix != ".zip":
            continue
        try:
            with zipfile.ZipFile(path) as bundle:
                member = next((n for n in bundle.namelist() if n.endswith(JUNIT_NAME)), None)
                if member is not None:
                    target = job_dir / JUNIT_NAME
                    target.write_bytes(bundle.read(member))
                    return target
        except zipfile.BadZipFile:
            continue
    return None


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip("._")
    return cleaned[:120] or "file"
