"""`instep validate [PATH] [--json]`: check a pipeline file and show the jobs it would plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from orchestrator.planner import JobPlan, plan_jobs
from orchestrator.spec import PipelineSpec, SpecError, load_spec_file
from toolrun.cli_output import emit_json, json_option

INVALID = 2


@click.command()
@click.argument("path", required=False, default="instep.yml", type=click.Path(path_type=Path))
@click.option(
    "--devices",
    "inventory",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Device inventory YAML whose profiles `devices:` may name (default: INSTEP_HOME/devices.yml "
    "when it exists, plus the built-in profiles).",
)
@json_option
def validate(path: Path, inventory: Path | None, as_json: bool) -> None:
    """Check PATH (default ./instep.yml; a directory means DIR/instep.yml).

    Exits 0 when the pipeline is valid, 2 when it is invalid or missing; each problem is printed
    on stderr as FILE:LINE:COLUMN: message."""
    if path.is_dir():
        path = path / "instep.yml"
    try:
        spec = load_spec_file(path, known_devices=known_devices(inventory))
    except SpecError as exc:
        errors = [{"line": e.line, "column": e.column, "message": e.message} for e in exc.errors]
        _refuse(as_json, path, errors, [str(e) for e in exc.errors])
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
        message = f"cannot read {path}: {reason} (expected an instep.yml; pass its path or its directory)"
        _refuse(
            as_json, path, [{"line": None, "column": None, "message": message}], [f"instep: error: {message}"]
        )
    jobs = plan_jobs(spec)
    if as_json:
        emit_json({"valid": True, "file": str(path), "errors": [], "stages": _stages(spec, jobs)})
    else:
        _summary(path, spec, jobs)


def known_devices(inventory: Path | None) -> frozenset[str]:
    """Profile names a pipeline may use: the built-ins plus the inventory file's."""
    from device_farm.profiles import ProfileError, load_inventory
    from orchestrator.settings import Settings, SettingsError

    if inventory is None:
        try:
            inventory = Settings.from_env().home / "devices.yml"
        except SettingsError:
            inventory = None
    elif not inventory.exists():
        raise click.ClickException(f"device inventory {inventory} does not exist")
    try:
        return frozenset(load_inventory(inventory).profiles)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc


def _refuse(as_json: bool, path: Path, errors: list[dict[str, Any]], lines: list[str]) -> None:
    if as_json:
        emit_json({"valid": False, "file": str(path), "errors": errors, "stages": []})
    else:
        for line in lines:
            click.echo(line, err=True)
    raise SystemExit(INVALID)


def _stages(spec: PipelineSpec, jobs: tuple[JobPlan, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "kind": stage.kind,
            "needs": list(stage.needs),
            "jobs": [job.key for job in jobs if job.stage == name],
        }
        for name, stage in spec.stages.items()
    ]


def _summary(path: Path, spec: PipelineSpec, jobs: tuple[JobPlan, ...]) -> None:
    click.echo(f"{path} is valid: {len(spec.stages)} stage(s), {len(jobs)} job(s)")
    click.echo(f"stages: {', '.join(spec.stages)}")
    click.echo("jobs per platform:")
    for platform in [*spec.platforms, None]:
        mine = [job for job in jobs if job.platform == platform]
        if mine:
            label = platform or "all platforms (run once)"
            stages = ", ".join(dict.fromkeys(job.stage for job in mine))
            click.echo(f"  {label}: {len(mine)} ({stages})")
