"""schemathesis against a real `instep serve`: every operation of /openapi.json, with an admin
token, generated inputs (bounded) — no server error and no answer that breaks its own schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Repo
from tests.integration.harness import Instep

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MAX_EXAMPLES = "8"
MAX_SECONDS = "120"  # keeps `make test` short; run `st` by hand with a larger bound for a deeper pass


def test_the_api_keeps_its_own_schema_under_generated_input(tmp_path: Path, repo: Repo) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is a test dependency (pip install -e '.[test]')"
    instep = Instep(tmp_path / "home", {"INSTEP_UNSANDBOXED_JOBS": "1"})
    instep.serve()
    try:
        # Real data, so routes with ids and names answer something besides 404.
        repo.commit({"instep.yml": "version: 1\nplatforms: {android: {}}\nstages:\n  unit: {run: echo ok}\n"})
        instep.cli("project", "add", "shop", "--repo", repo.url)
        run_id = instep.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
        instep.wait_run(run_id, timeout=120)
        report = tmp_path / "report"
        done = subprocess.run(
            [
                st, "run", f"{instep.url}/openapi.json",
                "--header", f"Authorization: Bearer {instep.token}",
                "--checks", "not_a_server_error,response_schema_conformance",
                "--max-examples", MAX_EXAMPLES,
                "--phases", "examples,coverage,fuzzing",
                "--generation-database", "none",
                "--seed", "20261202",
                "--max-time", MAX_SECONDS,
                "--workers", "2",
                "--request-timeout", "20",
                "--no-color",
                "--report", "junit", "--report-dir", str(report),
            ],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        summary = done.stdout[-6000:]
        failures = re.findall(r"(ST\d+ [^:\n]+): (\d+)", done.stdout)
        (tmp_path / "schemathesis.json").write_text(json.dumps({"failures": failures}))
        print(summary[-1500:])  # `pytest -s -k schema` shows what was tested
        assert done.returncode == 0 and not failures, summary + done.stderr[-2000:]
        assert re.search(r"Tested: \d+", done.stdout), summary
    finally:
        instep.stop()
