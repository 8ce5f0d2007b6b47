"""The Appium Python test package AWS Device Farm runs, in the layout AWS documents:

    test_bundle.zip
    ├── requirements.txt      what to install on AWS's test host
    ├── tests/                the suite folder, as it is in the repository
    └── wheelhouse/           a wheel for every requirement (AWS installs offline)

Instep's pytest plugin (the `driver`, `instep_capture` and `instep_app_url` fixtures) goes into
the wheelhouse as its own small wheel that pytest loads through its `pytest11` entry point, so the
suite runs on AWS unchanged. Also here: the default test spec that installs the wheelhouse, starts
Appium on the test host and runs pytest with a JUnit report in the customer artifacts."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from device_farm.backends.base import BackendError
from device_farm.commands import CommandRunner
from device_farm.profiles import DeviceProfile

PLUGIN_DIST = "instep-suite-plugin"
PLUGIN_MODULE = "instep_suite_plugin"
PLUGIN_VERSION = "1.0.0"
# What every package needs besides the suite's own requirements.
BASE_REQUIREMENTS = ("pytest", "Appium-Python-Client")
JUNIT_NAME = "instep-junit.xml"
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


class TestPackageError(BackendError):
    """The test package could not be built; the message says which step failed and why."""

    __test__ = False


@dataclass(frozen=True)
class TestPackage:
    __test__ = False

    path: Path
    requirements: tuple[str, ...]
    wheels: tuple[str, ...]


def plugin_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel holding device_farm.pytest_plugin as a pytest11
    entry point. Built in memory, byte-for-byte the same for the same plugin source."""
    source = (Path(__file__).resolve().parents[1] / "pytest_plugin.py").read_bytes()
    dist_info = f"{PLUGIN_MODULE}-{PLUGIN_VERSION}.dist-info"
    requires = "".join(f"Requires-Dist: {r}\n" for r in BASE_REQUIREMENTS)
    files = {
        f"{PLUGIN_MODULE}.py": source,
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {PLUGIN_DIST}\nVersion: {PLUGIN_VERSION}\n"
            f"Summary: Instep's pytest fixtures for suites run on AWS Device Farm\n{requires}"
        ).encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: instep\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist_info}/entry_points.txt": f"[pytest11]\ninstep = {PLUGIN_MODULE}\n".encode(),
    }
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n" for name, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, data)
    return f"{PLUGIN_MODULE}-{PLUGIN_VERSION}-py3-none-any.whl", buffer.getvalue()


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def suite_requirements(suite: Path, explicit: Path | None = None) -> list[str]:
    """The suite's requirements: `explicit`, else `<suite>/requirements.txt` when present, plus
    BASE_REQUIREMENTS when the file does not name them."""
    path = explicit or suite / "requirements.txt"
    lines: list[str] = []
    if explicit is not None or path.exists():
        try:
            text = path.read_text()
        except OSError as exc:
            raise TestPackageError(f"cannot read the suite's requirements {path}: {exc}") from exc
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    named = {_project_name(line) for line in lines}
    return lines + [r for r in BASE_REQUIREMENTS if _project_name(r) not in named]


def _project_name(requirement: str) -> str:
    name = requirement
    for stop in "<>=!~;[ @":
        name = name.split(stop, 1)[0]
    return name.strip().lower().replace("_", "-")


def wheel_command(python: str, wheelhouse: Path, requirements_file: Path) -> list[str]:
    """Wheels for every requirement (and their dependencies) with the worker's pip."""
    return [
        python,
        "-m",
        "pip",
        "wheel",
        "--wheel-dir",
        str(wheelhouse),
        "--requirement",
        str(requirements_file),
    ]


def build_test_package(
    suite: Path,
    work_dir: Path,
    *,
    runner: CommandRunner,
    python: str,
    requirements_file: Path | None = None,
    timeout_s: float = 900.0,
) -> TestPackage:
    """Write `<work_dir>/test_bundle.zip` from the suite folder; pip builds the wheelhouse."""
    if not suite.is_dir():
        raise TestPackageError(f"suite path {suite} is not a directory")
    requirements = suite_requirements(suite, requirements_file)
    wheelhouse = work_dir / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    pip_requirements = work_dir / "requirements.pip.txt"
    pip_requirements.write_text("".join(f"{r}\n" for r in requirements))
    argv = wheel_command(python, wheelhouse, pip_requirements)
    built = runner.run(argv, timeout=timeout_s)
    if not built.ok:
        why = "timed out" if built.timed_out else f"failed (exit {built.exit_code})"
        raise TestPackageError(
            f"building the wheelhouse for the AWS test package {why}: `{' '.join(argv)}`\n"
            f"{built.output.strip()[-1500:]}"
        )
    plugin_name, plugin_bytes = plugin_wheel()
    (wheelhouse / plugin_name).write_bytes(plugin_bytes)
    wheels = sorted(p.name for p in wheelhouse.glob("*.whl"))
    all_requirements = (*requirements, f"{PLUGIN_DIST}=={PLUGIN_VERSION}")
    path = work_dir / "test_bundle.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("requirements.txt", "".join(f"{r}\n" for r in all_requirements))
        for file in sorted(suite.rglob("*")):
            relative = file.relative_to(suite)
            if file.is_file() and not _SKIP_PARTS & set(relative.parts) and file.suffix != ".pyc":
                bundle.write(file, f"tests/{relative.as_posix()}")
        for wheel in wheels:
            bundle.write(wheelhouse / wheel, f"wheelhouse/{wheel}")
    return TestPackage(path, tuple(all_requirements), tuple(wheels))


def default_test_spec(profile: DeviceProfile, pytest_args: Sequence[str] = ()) -> str:
    """Instep's test spec (AWS custom environment, version 0.1): install the wheelhouse offline,
    start Appium on the test host, run pytest with the plugin's environment, keep the JUnit report
    and the captures in the customer artifacts."""
    session = {
        "INSTEP_APPIUM_URL": "http://127.0.0.1:4723",
        "INSTEP_DEVICE_PROFILE": profile.name,
        "INSTEP_LOCALE": profile.locale,
    }
    exports = [f"export {k}={_shell_quote(v)}" for k, v in session.items()]
    # Capabilities from the device AWS assigned to this job (its documented DEVICEFARM_* variables).
    caps = (
        'import json, os; p = os.environ["DEVICEFARM_DEVICE_PLATFORM_NAME"]; '
        'print(json.dumps({"platformName": p, '
        '"appium:automationName": "UiAutomator2" if p.lower() == "android" else "XCUITest", '
        '"appium:udid": os.environ["DEVICEFARM_DEVICE_UDID"], '
        '"appium:deviceName": os.environ.get("DEVICEFARM_DEVICE_NAME", ""), '
        '"appium:app": os.environ.get("DEVICEFARM_APP_PATH", "")}))'
    )
    pytest_cmd = " ".join(
        [
            "python -m pytest -p no:cacheprovider -o junit_family=xunit2",
            f"--junitxml=$DEVICEFARM_LOG_DIR/{JUNIT_NAME}",
            *(_shell_quote(a) for a in pytest_args),
            "tests",
        ]
    )
    activate = ". $DEVICEFARM_TEST_PACKAGE_PATH/.venv/bin/activate"
    phases = {
        "install": [
            "cd $DEVICEFARM_TEST_PACKAGE_PATH",
            "python3 -m venv $DEVICEFARM_TEST_PACKAGE_PATH/.venv",
            activate,
            "python -m pip install --no-index --find-links=./wheelhouse --requirement=./requirements.txt",
        ],
        "pre_test": [
            "appium --log-timestamp --log-no-colors >> $DEVICEFARM_LOG_DIR/appium.log 2>&1 &",
            "for i in $(seq 1 60); do curl -sf http://127.0.0.1:4723/status >/dev/null && break; sleep 1; done",
        ],
        "test": [
            "cd $DEVICEFARM_TEST_PACKAGE_PATH",
            activate,
            *exports,
            "export INSTEP_ARTIFACTS_DIR=$DEVICEFARM_LOG_DIR/instep",
            f'export INSTEP_CAPABILITIES="$(python -c {_shell_quote(caps)})"',
            pytest_cmd,
        ],
    }
    lines = ["version: 0.1", "android_test_host: amazon_linux_2", "phases:"]
    for phase, commands in phases.items():
        lines += [f"  {phase}:", "    commands:", *(f"      - {json.dumps(c)}" for c in commands)]
    lines += ["artifacts:", "  - $DEVICEFARM_LOG_DIR"]
    return "\n".join(lines) + "\n"


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
