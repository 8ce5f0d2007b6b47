"""The layering of ARCHITECTURE.md holds: import-linter's contracts in pyproject.toml are kept.

A wrong import (a leaf package importing the orchestrator, the pure core importing the
database) fails here with the offending module and line, as `lint-imports` prints it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    return subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_contracts_cover_every_top_level_package() -> None:
    """A new top-level package must be placed in the layers, or nothing checks its imports."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"}
    assert packages <= set(config["root_packages"]), packages - set(config["root_packages"])


def test_importing_the_pure_core_loads_no_database_queue_web_or_device_code() -> None:
    """Validating a pipeline or planning a run must stay cheap: the stage kinds import their
    runners lazily, so none of these are loaded by `instep validate` or the planner."""
    heavy = ["sqlalchemy", "celery", "kombu", "fastapi", "redis", "httpx", "boto3", "numpy"]
    heavy += ["lanes", "device_farm", "screenshots", "stores", "orchestrator.db"]
    code = (
        "import sys, orchestrator.spec, orchestrator.planner, orchestrator.transitions, orchestrator.jobspec\n"
        "import orchestrator.releases.gate, orchestrator.releases.states, orchestrator.releases.versions\n"
        f"heavy = {heavy!r}\n"
        "print(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
