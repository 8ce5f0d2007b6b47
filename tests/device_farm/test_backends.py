"""Exact command lines and parsing of recorded tool output (see fixtures/README.md)."""

import pytest

from device_farm.backends import DeviceDidNotBoot, create_backend
from device_farm.backends.android_emulator import AndroidEmulatorBackend, parse_adb_devices, parse_avd_names
from device_farm.backends.base import BackendError
from device_farm.backends.chromium import ChromiumBackend
from device_farm.backends.ios_simulator import IosSimulatorBackend, parse_simctl_devices
from device_farm.backends.remote import RemoteBackend
from device_farm.commands import CommandOutput
from device_farm.profiles import (
    BUILTIN_PROFILES,
    DeviceProfile,
    ProfileError,
    UnknownProfile,
    parse_inventory,
)
from tests.device_farm.conftest import recorded

ANDROID = DeviceProfile(
    "pixel-8-emu", "android-emulator", locale="de-DE",
    options={"avd": "Pixel_8_API_35", "system_image": "system-images;android-35;google_apis;x86_64"},
)  # fmt: skip
IOS = DeviceProfile(
    "iphone-15-sim", "ios-simulator",
    options={"device_type": "com.apple.CoreSimulator.SimDeviceType.iPhone-15",
             "runtime": "com.apple.CoreSimulator.SimRuntime.iOS-18-0"},
)  # fmt: skip


def android(runner, clock, tmp_path, slot=0):
    return AndroidEmulatorBackend(ANDROID, slot, runner, clock, tmp_path)


def test_adb_devices_output_is_parsed_with_states():
    assert parse_adb_devices(recorded("adb_devices.txt")) == {
        "emulator-5554": "device",
        "emulator-5556": "offline",
        "0A051FDD4003BQ": "unauthorized",
    }
    assert parse_adb_devices(recorded("adb_daemon_start.txt")) == {"emulator-5554": "device"}


def test_avdmanager_names_are_parsed():
    assert parse_avd_names(recorded("avdmanager_list_avd_c.txt")) == ["Pixel_8_API_35", "Pixel_Tablet_API_34"]


def test_emulator_boots_with_the_exact_commands(runner, clock, tmp_path):
    runner.on(["avdmanager", "list", "avd", "-c"], recorded("avdmanager_list_avd_c.txt"))
    runner.on(["adb", "-s", "emulator-5556", "wait-for-device"])
    booting = iter(["", "0", recorded("getprop_boot_completed_booted.txt")])
    runner.replies.append(
        (("adb", "-s", "emulator-5556", "shell"), lambda argv: CommandOutput(argv, 0, next(booting)))
    )
    runner.on(["adb", "-s", "emulator-5556", "emu", "kill"])
    backend = android(runner, clock, tmp_path, slot=1)
    backend.prepare()
    backend.start(boot_timeout_s=120)
    backend.stop()
    assert runner.calls == [
        ("avdmanager", "list", "avd", "-c"),
        ("emulator", "-avd", "Pixel_8_API_35", "-no-window", "-no-snapshot", "-read-only", "-port", "5556"),
        ("adb", "-s", "emulator-5556", "wait-for-device"),
        *[("adb", "-s", "emulator-5556", "shell", "getprop", "sys.boot_completed")] * 3,
        ("adb", "-s", "emulator-5556", "emu", "kill"),
    ]
    assert runner.spawned[0].stopped


def test_missing_avd_is_created_from_the_system_image(runner, clock, tmp_path):
    runner.on(["avdmanager", "list", "avd", "-c"], "Other_AVD\n")
    runner.on(["avdmanager", "create", "avd"])
    android(runner, clock, tmp_path).prepare()
    assert runner.calls[-1] == (
        "avdmanager", "create", "avd", "--name", "Pixel_8_API_35",
        "--package", "system-images;android-35;google_apis;x86_64", "--device", "pixel_8",
    )  # fmt: skip


def test_emulator_that_never_completes_boot_fails_with_the_time(runner, clock, tmp_path):
    runner.on(["avdmanager", "list", "avd", "-c"], recorded("avdmanager_list_avd_c.txt"))
    runner.on(["adb", "-s", "emulator-5554", "wait-for-device"])
    runner.on(["adb", "-s", "emulator-5554", "shell", "getprop", "sys.boot_completed"], "0\n")
    backend = android(runner, clock, tmp_path)
    backend.prepare()
    with pytest.raises(DeviceDidNotBoot, match=r"device did not boot in 90 s"):
        backend.start(boot_timeout_s=90)
    assert clock.now - 1000 == pytest.approx(90)


def test_android_health_and_capabilities(runner, clock, tmp_path):
    runner.on(["adb", "devices"], recorded("adb_devices_offline.txt"))
    backend = android(runner, clock, tmp_path)
    assert backend.health_check().reason == "emulator-5554 is offline in `adb devices`"
    runner.replies.clear()
    runner.on(["adb", "devices"], recorded("adb_devices.txt"))
    assert backend.health_check().ok
    assert backend.capabilities() == {
        "platformName": "Android",
        "appium:automationName": "UiAutomator2",
        "appium:udid": "emulator-5554",
        "appium:deviceName": "Pixel_8_API_35",
        "appium:systemPort": 8200,
        "appium:language": "de",
        "appium:locale": "DE",
    }


def test_simctl_json_is_parsed_by_runtime():
    sims = parse_simctl_devices(recorded("simctl_list_devices.json"))
    assert [(s.name, s.runtime.rsplit(".", 1)[1], s.state) for s in sims] == [
        ("iPhone 15", "iOS-17-5", "Shutdown"),
        ("instep-iphone-15-sim-0", "iOS-18-0", "Booted"),
        ("iPad Air 11-inch (M2)", "iOS-18-0", "Shutdown"),
    ]


def test_existing_booted_simulator_is_shut_down_erased_and_booted(runner):
    runner.on(["xcrun", "simctl", "list", "devices", "-j"], recorded("simctl_list_devices.json"))
    runner.on(["xcrun", "simctl"])
    backend = IosSimulatorBackend(IOS, 0, runner)
    backend.prepare()
    backend.start(boot_timeout_s=300)
    backend.stop()
    udid = "9F8E7D6C-5B4A-4321-8765-0FEDCBA98765"
    assert runner.calls == [
        ("xcrun", "simctl", "list", "devices", "-j"),
        ("xcrun", "simctl", "shutdown", udid),
        ("xcrun", "simctl", "erase", udid),
        ("xcrun", "simctl", "boot", udid),
        ("xcrun", "simctl", "bootstatus", udid, "-b"),
        ("xcrun", "simctl", "shutdown", udid),
    ]
    assert backend.capabilities()["appium:platformVersion"] == "18.0"
    assert backend.capabilities()["appium:automationName"] == "XCUITest"


def test_missing_simulator_is_created(runner):
    runner.on(["xcrun", "simctl", "list", "devices", "-j"], recorded("simctl_list_devices.json"))
    runner.on(["xcrun", "simctl", "create"], recorded("simctl_create.txt"))
    backend = IosSimulatorBackend(IOS, 1, runner)
    backend.prepare()
    assert runner.calls[-1] == (
        "xcrun", "simctl", "create", "instep-iphone-15-sim-1",
        "com.apple.CoreSimulator.SimDeviceType.iPhone-15", "com.apple.CoreSimulator.SimRuntime.iOS-18-0",
    )  # fmt: skip
    assert backend.udid == "C2A3F5E1-6D8B-4A5C-9E7F-1B2C3D4E5F60"


def test_simulator_bootstatus_timeout_is_a_boot_failure(runner):
    runner.on(["xcrun", "simctl", "list", "devices", "-j"], recorded("simctl_list_devices.json"))
    runner.on(["xcrun", "simctl", "bootstatus"], code=None, timed_out=True)
    runner.on(["xcrun", "simctl"])
    backend = IosSimulatorBackend(IOS, 0, runner)
    backend.prepare()
    with pytest.raises(DeviceDidNotBoot, match="device did not boot in 240 s"):
        backend.start(boot_timeout_s=240)


def test_chromium_capabilities_pin_debian_binaries_and_emulate_the_device(runner):
    iphone = next(p for p in BUILTIN_PROFILES if p.name == "iphone-15")
    caps = ChromiumBackend(iphone, 0, runner).capabilities()
    assert caps["appium:automationName"] == "Chromium"
    assert caps["appium:executable"] == "/usr/bin/chromedriver"
    assert caps["appium:autodownloadEnabled"] is False
    chrome = caps["goog:chromeOptions"]
    assert chrome["binary"] == "/usr/bin/chromium"
    assert {"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"} <= set(chrome["args"])  # fmt: skip
    assert chrome["mobileEmulation"]["deviceMetrics"] == {
        "width": 393,
        "height": 852,
        "pixelRatio": 3.0,
        "touch": True,
    }
    assert "iPhone" in chrome["mobileEmulation"]["userAgent"]


def test_chromium_health_check_names_the_missing_binary(runner):
    profile = DeviceProfile(
        "x", "chromium", options={"width": 1, "height": 1, "chromium": "/nonexistent/chromium"}
    )
    health = ChromiumBackend(profile, 0, runner).health_check()
    assert (
        not health.ok and "/nonexistent/chromium not found; run scripts/install-chromium.sh" in health.reason
    )


def test_remote_grid_health_uses_status(runner):
    import httpx

    transport = httpx.MockTransport(
        lambda req: httpx.Response(503 if req.url.path == "/wd/hub/status" else 404)
    )
    profile = DeviceProfile(
        "grid",
        "remote",
        options={"url": "http://grid.local/wd/hub/", "capabilities": {"platformName": "Android"}},
    )
    backend = RemoteBackend(profile, 0, httpx.Client(transport=transport))
    assert backend.health_check().reason == "http://grid.local/wd/hub/status answered HTTP 503"
    assert backend.remote_url() == "http://grid.local/wd/hub"
    assert backend.capabilities() == {"platformName": "Android"}


def test_inventory_adds_custom_profiles_and_names_unknown_ones(tmp_path, runner, clock):
    inv = parse_inventory(
        "devices:\n  - name: fold\n    backend: chromium\n    width: 344\n    height: 882\n    pixel_ratio: 3\n",
        "devices.yml",
    )
    assert {"iphone-15", "pixel-8", "ipad", "fold"} <= set(inv.profiles)
    assert create_backend(inv.get("fold"), 0, runner=runner, clock=clock, log_dir=tmp_path).capabilities()[
        "goog:chromeOptions"]["mobileEmulation"]["deviceMetrics"]["width"] == 344  # fmt: skip
    with pytest.raises(UnknownProfile, match="unknown device profile 'pixle-8'"):
        inv.get("pixle-8")
    assert inv.unknown(["pixel-8", "nope"]) == ["nope"]
    with pytest.raises(ProfileError, match=r"devices.yml: devices\[0\] \(x\): `backend` must be one of"):
        parse_inventory("devices:\n  - name: x\n    backend: bluetooth\n", "devices.yml")
    with pytest.raises(BackendError, match="needs `avd`"):
        AndroidEmulatorBackend(DeviceProfile("a", "android-emulator"), 0, runner, clock, tmp_path)
