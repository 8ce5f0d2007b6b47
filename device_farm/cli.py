"""`instep suite run` and `instep farm devices|setup`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from device_farm.appium_server import (
    DRIVER_PACKAGES,
    AppiumError,
    AppiumLauncher,
    driver_install_command,
    find_appium,
)
from device_farm.durations import JsonDurationStore
from device_farm.leases import InMemoryLeaseStore, LeaseStore, RedisLeaseStore
from device_farm.profiles import Inventory, ProfileError, load_inventory
from device_farm.reports import SuiteReport, write_junit
from device_farm.settings import FarmSettings, FarmSettingsError
from device_farm.suite import SuiteContext, SuiteError, SuiteRequest, developer_environment, run_suite
from toolrun.process import run_process


def _settings() -> FarmSettings:
    try:
        return FarmSettings.from_env()
    except FarmSettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _inventory(settings: FarmSettings, config: Path | None) -> Inventory:
    path = config or settings.devices_file
    if config is not None and not config.exists():
        raise click.ClickException(f"device inventory {config} does not exist")
    try:
        return load_inventory(path)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc


def _lease_store(settings: FarmSettings) -> LeaseStore:
    if settings.redis_url:
        return RedisLeaseStore.from_url(settings.redis_url)
    return InMemoryLeaseStore()


_CONFIG = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Device inventory YAML (default INSTEP_HOME/devices.yml).",
)


@click.group()
def suite() -> None:
    """Run acceptance and screenshot-capture suites on device profiles."""


@suite.command("run")
@click.argument("name")
@click.option(
    "--path", "path", type=click.Path(path_type=Path, file_okay=False), required=True, help="Suite directory."
)
@click.option(
    "--device", "devices", multiple=True, required=True, help="Device profile (repeat for several)."
)
@click.option("--shards", type=click.IntRange(1, 64), help="Number of shards (default: one per --device).")
@click.option(
    "--retries", type=click.IntRange(0, 5), default=0, show_default=True, help="Retries of failed tests."
)
@click.option(
    "--junit", type=click.Path(path_type=Path, dir_okay=False), help="Write a combined JUnit report here."
)
@click.option(
    "--app",
    help="App to test: a directory served on 127.0.0.1 or a URL (INSTEP_APP_URL); for AWS Device Farm "
    "profiles, the built .apk/.ipa to upload (default: the profile's `app:`).",
)
@click.option(
    "--project", default="default", show_default=True, help="Project whose test durations are used."
)
@click.option(
    "--quarantine", "quarantined", multiple=True, help="Test id that runs but never fails the suite."
)
@click.option("--fail-on-flaky", is_flag=True, help="Flaky tests fail the suite.")
@click.option("--artifacts", type=click.Path(path_type=Path, file_okay=False), help="Artifacts directory.")
@click.option("--appium", "appium_bin", help="Path of the appium executable.")
@click.option(
    "--boot-timeout", type=float, default=300.0, show_default=True, help="Seconds a device may take to boot."
)
@_CONFIG
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def run_command(
    name: str,
    path: Path,
    devices: tuple[str, ...],
    shards: int | None,
    retries: int,
    junit: Path | None,
    app: str | None,
    project: str,
    quarantined: tuple[str, ...],
    fail_on_flaky: bool,
    artifacts: Path | None,
    appium_bin: str | None,
    boot_timeout: float,
    config: Path | None,
    as_json: bool,
) -> None:
    """Run suite NAME exactly as a pipeline job does: exit 0 when it passed, 1 when it failed."""
    settings = _settings()
    inventory = _inventory(settings, config)
    try:
        appium: AppiumLauncher | None = AppiumLauncher(
            find_appium(settings.appium_home, appium_bin), settings.appium_home
        )
    except AppiumError as exc:
        appium = None
        click.echo(f"warning: {exc}", err=True)
    out_dir = artifacts or settings.artifacts_dir / "suites" / name
    ctx = SuiteContext(
        inventory=inventory,
        leases=_lease_store(settings),
        durations=JsonDurationStore(settings.durations_dir),
        artifacts_dir=out_dir.resolve(),
        appium=appium,
        on_line=(lambda line: click.echo(line, err=True)) if as_json else click.echo,
    )
    request = SuiteRequest(
        suite=name,
        path=path.resolve(),
        devices=devices,
        shards=shards,
        retries=retries,
        project=project,
        quarantined_tests=frozenset(quarantined),
        fail_on_flaky=fail_on_flaky,
        app=app,
        boot_timeout_s=boot_timeout,
        # At a terminal the suite sees the developer's environment (minus Instep's own variables).
        env=developer_environment(os.environ),
    )
    try:
        report = run_suite(request, ctx)
    except (SuiteError, ProfileError) as exc:
        raise click.ClickException(str(exc)) from exc
    if junit is not None:
        write_junit(report, junit)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_summary(report)
    sys.exit(0 if report.passed else 1)


def _print_summary(report: SuiteReport) -> None:
    for r in report.results:
        tag = r.final.value + (" (quarantined)" if r.quarantined else "")
        click.echo(f"{tag:>22}  {r.test_id}  [{len(r.attempts)} attempt(s)]")
    counts = ", ".join(f"{v} {k}" for k, v in report.counts().items() if v)
    click.echo(
        f"suite {report.suite}: {'PASSED' if report.passed else 'FAILED'} ({counts}); makespan predicted "
        f"{report.predicted_makespan_s:.1f} s, actual {report.actual_makespan_s:.1f} s; wall {report.wall_s:.1f} s"
    )
    for reason in (*report.errors, *report.verdict.reasons):
        click.echo(f"  - {reason}")
    click.echo(f"artifacts: {report.artifacts_dir}")


@click.group()
def farm() -> None:
    """Device inventory, leases and quarantine; Appium driver setup."""


@farm.command("devices")
@_CONFIG
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def devices_command(config: Path | None, as_json: bool) -> None:
    """List device profiles with their leases and quarantine state."""
    settings = _settings()
    inventory = _inventory(settings, config)
    store = _lease_store(settings)
    try:
        leases = store.leases()
        quarantine = {q.device: q for q in store.quarantined()}
    except Exception as exc:  # noqa: BLE001 - e.g. Redis down: say so at the edge
        raise click.ClickException(f"cannot read leases from {settings.redis_url}: {exc}") from exc
    rows: list[dict[str, Any]] = []
    for p in inventory.profiles.values():
        held = [lease for lease in leases if lease.device == p.name]
        q = quarantine.get(p.name)
        rows.append(
            {
                "name": p.name,
                "backend": p.backend,
                "title": p.describe(),
                "slots": p.slots,
                "locale": p.locale,
                "leases": [
                    {
                        "lease_id": x.lease_id,
                        "slot": x.slot,
                        "holder": x.holder,
                        "acquired_at": x.acquired_at,
                        "ttl_s": x.ttl_s,
                    }
                    for x in held
                ],
                "quarantined": q is not None,
                "quarantine_reason": q.reason if q else None,
            }
        )
    if as_json:
        click.echo(json.dumps({"devices": rows}, indent=2))
        return
    for row in rows:
        state = (
            f"QUARANTINED: {row['quarantine_reason']}"
            if row["quarantined"]
            else f"{len(row['leases'])}/{row['slots']} leased"
        )
        click.echo(f"{row['name']:<20} {row['backend']:<17} {state:<20} {row['title']}")


@farm.command("setup")
@click.option("--driver", "drivers", type=click.Choice(sorted(DRIVER_PACKAGES)), multiple=True, required=True)
@click.option("--appium", "appium_bin", help="Path of the appium executable.")
def setup_command(drivers: tuple[str, ...], appium_bin: str | None) -> None:
    """Install Appium drivers into INSTEP_APPIUM_HOME with the appium CLI."""
    settings = _settings()
    try:
        appium = find_appium(settings.appium_home, appium_bin)
    except AppiumError as exc:
        raise click.ClickException(str(exc)) from exc
    settings.appium_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ) | {"APPIUM_HOME": str(settings.appium_home)}
    for driver in drivers:
        argv = driver_install_command(appium, driver)
        click.echo(f"APPIUM_HOME={settings.appium_home} {' '.join(argv)}")
        result = run_process(argv, cwd=settings.appium_home, env=env, on_line=click.echo, timeout=900)
        # `driver install` exits non-zero when the driver is already there: that is success here.
        already = any("already installed" in line for line in result.tail)
        if not result.ok and not already:
            raise click.ClickException(f"installing the {driver} driver failed (exit {result.exit_code})")
        click.echo(f"{driver}: {'already installed' if already else 'installed'}")
