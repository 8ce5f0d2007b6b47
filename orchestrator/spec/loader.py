"""Parsing `instep.yml` text into a validated `PipelineSpec`, collecting every problem with its position."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from orchestrator.spec.checks import Problem, find_problems
from orchestrator.spec.document import SpecDocument, describe, read_document, size_issue
from orchestrator.spec.errors import SpecError, SpecIssue
from orchestrator.spec.limits import MAX_FILE_BYTES, MAX_STAGES
from orchestrator.spec.messages import locate
from orchestrator.spec.model import (
    PipelineSpec,
    PlatformName,
    Platforms,
    PlatformSpec,
    StageSpec,
    stage_with_defaults,
)

_STAGE = TypeAdapter(StageSpec)
_PLATFORMS: TypeAdapter[dict[PlatformName, PlatformSpec]] = TypeAdapter(Platforms)


def parse_spec(
    text: str, filename: str = "instep.yml", known_devices: Collection[str] | None = None
) -> PipelineSpec:
    """Validate pipeline text; raise SpecError listing every problem as `file:line:col: message`.

    `known_devices`, when given, is the catalogue that stage `devices:` must come from."""
    doc = read_document(text, filename)
    if not isinstance(doc.data, dict):
        pos = doc.value_at(())
        raise SpecError(
            [
                doc.issue(
                    pos,
                    f"the top level is {describe(doc.data)} "
                    "(expected a mapping with `version`, `platforms` and `stages`)",
                )
            ]
        )
    _check_stage_count(doc)
    issues: list[SpecIssue] = []
    spec: PipelineSpec | None = None
    try:
        spec = PipelineSpec.model_validate(doc.data, context={"skip_cross_checks": True})
    except ValidationError as exc:
        issues += [doc.issue(*locate(error, doc)) for error in exc.errors()]
    if spec is not None:
        problems = find_problems(spec.stages, list(spec.stages), spec.platforms, known_devices)
    else:
        problems = find_problems(*_valid_parts(doc.data), known_devices)
    issues += [_problem_issue(problem, doc) for problem in problems]
    if issues or spec is None:
        raise SpecError(issues)
    return spec


def load_spec_file(path: Path, known_devices: Collection[str] | None = None) -> PipelineSpec:
    """Read and validate a pipeline file; errors name the file as given. OSError propagates.

    At most MAX_FILE_BYTES (+1) are read, so a huge file costs no memory before it is refused."""
    with open(path, "rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise SpecError([size_issue(max(os.fstat(file.fileno()).st_size, len(raw)), str(path))])
    return parse_spec_bytes(raw, str(path), known_devices)


def parse_spec_bytes(
    raw: bytes, filename: str = "instep.yml", known_devices: Collection[str] | None = None
) -> PipelineSpec:
    """Validate a pipeline file's bytes: at most MAX_FILE_BYTES of UTF-8 text (a BOM is allowed)."""
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError([size_issue(len(raw), filename)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            [SpecIssue(line, 1, "the file is not UTF-8 text (expected UTF-8)", filename)]
        ) from None
    return parse_spec(text, filename, known_devices)


def _check_stage_count(doc: SpecDocument) -> None:
    """Refuse more than MAX_STAGES stages before any per-stage work is done."""
    stages = doc.data.get("stages")
    if not isinstance(stages, dict) or len(stages) <= MAX_STAGES:
        return
    first_extra = next(islice(stages, MAX_STAGES, None))
    raise SpecError(
        [
            doc.issue(
                doc.key_at(("stages", first_extra)),
                f"stage {first_extra!r} is stage {MAX_STAGES + 1:,} of {len(stages):,} "
                f"(expected at most {MAX_STAGES:,} stages)",
            )
        ]
    )


def _valid_parts(
    data: Mapping[str, Any],
) -> tuple[dict[str, StageSpec], list[str], dict[PlatformName, PlatformSpec] | None]:
    """The stages and platforms that validate on their own, so cross-stage checks can still run
    (and report) when some other part of the file is wrong."""
    raw_stages = data.get("stages")
    stages: dict[str, StageSpec] = {}
    names: list[str] = []
    if isinstance(raw_stages, dict):
        names = [name for name in raw_stages if isinstance(name, str)]
        for name in names:
            stage, dropped = _without_broken_keys(_STAGE, stage_with_defaults(name, raw_stages[name]))
            # Without a valid kind or command the stage's own checks would only guess.
            if stage is not None and not dropped & {"kind", "run", "lane", "per_platform"}:
                stages[name] = stage
    platforms, _ = _without_broken_keys(_PLATFORMS, data.get("platforms"))
    return stages, names, platforms


def _without_broken_keys(adapter: TypeAdapter[Any], raw: Any) -> tuple[Any, set[Any]]:
    """Validate `raw`, dropping the top-level keys that fail (already reported); None if still invalid."""
    try:
        return adapter.validate_python(raw), set()
    except ValidationError as exc:
        broken = {error["loc"][0] for error in exc.errors() if error["loc"]}
        if not isinstance(raw, dict) or not broken:
            return None, broken
    try:
        return adapter.validate_python({k: v for k, v in raw.items() if k not in broken}), broken
    except ValidationError:
        return None, broken


def _problem_issue(problem: Problem, doc: SpecDocument) -> SpecIssue:
    pos = doc.key_at(problem.path) if problem.at == "key" else doc.value_at(problem.path)
    return doc.issue(pos, problem.message)
