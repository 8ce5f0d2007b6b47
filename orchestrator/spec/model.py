"""The validated shape of `instep.yml` version 1, as pydantic models.

Field validators here check one value at a time; checks that relate stages to each other
(needs, cycles, declared platforms) live in `orchestrator.spec.checks`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from orchestrator.spec.checks import find_problems
from orchestrator.spec.document import describe
from orchestrator.spec.release import ReleaseSpec
from orchestrator.stages import CUSTOM_KIND, KINDS

# The `kind:` values: the stage-kind registry's names, in its order.
if TYPE_CHECKING:
    StageKind = str
else:
    StageKind = Literal[tuple(KINDS)]
PlatformName = Literal["ios", "android"]
QueueName = Literal["default", "android", "ios", "devices"]

# Stage names that are kinds by themselves (any other name is a custom step).
BUILTIN_KINDS: tuple[str, ...] = tuple(name for name in KINDS if name != CUSTOM_KIND)
DEFAULT_TIMEOUT_S = 30 * 60
MAX_TIMEOUT_S = 24 * 60 * 60
MAX_RETRIES = 5
MAX_SHARDS = 32

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DURATION = re.compile(r"(?:\d+[hms])+\Z")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def _fail(message: str) -> PydanticCustomError:
    # The "instep" error type carries a finished user-facing message; see messages.py.
    return PydanticCustomError("instep", message)


def _scalar_to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise PydanticCustomError("scalar_type", "expected a string, number or boolean")


def _identifier(what: str) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise _fail(f"{what} is {describe(value)} (expected a name of letters, digits and _)")
        if not _NAME.match(value):
            raise _fail(
                f"{what} {value!r} is not a valid name (expected letters, digits and _, not starting with a digit)"
            )
        return value

    return check


def _timeout_seconds(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(
            f"timeout is {describe(value)} (expected seconds as an integer, or a duration like 90s, 30m, 2h)"
        )
    if isinstance(value, str):
        text = value.strip().lower()
        if not _DURATION.match(text):
            raise _fail(
                f"timeout {value!r} is not a duration (expected seconds, or a duration like 90s, 30m, 2h, 1h30m)"
            )
        value = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in re.findall(r"(\d+)([hms])", text))
    if not 1 <= value <= MAX_TIMEOUT_S:
        raise _fail(f"timeout of {value}s is out of range (expected from 1s to 24h)")
    return value


def _bounded_int(what: str, low: int, high: int) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(f"{what} is {describe(value)} (expected an integer from {low} to {high})")
        if not low <= value <= high:
            raise _fail(f"{what} is {value} (expected an integer from {low} to {high})")
        return value

    return check


def _one_or_many(value: Any) -> Any:
    # `needs: unit` reads naturally; treat a lone string as a one-item list.
    return [value] if isinstance(value, str) else value


ScalarStr = Annotated[str, BeforeValidator(_scalar_to_str)]
EnvName = Annotated[str, BeforeValidator(_identifier("environment variable name"))]
OptionName = Annotated[str, BeforeValidator(_identifier("lane option name"))]
LaneName = Annotated[str, BeforeValidator(_identifier("lane name"))]
Timeout = Annotated[int, BeforeValidator(_timeout_seconds)]
Retries = Annotated[int, BeforeValidator(_bounded_int("retries", 0, MAX_RETRIES))]
Shards = Annotated[int, BeforeValidator(_bounded_int("shards", 1, MAX_SHARDS))]
NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
Names = Annotated[tuple[StrictStr, ...], BeforeValidator(_one_or_many)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Triggers(_Model):
    """Which pushes start a run: fnmatch globs on branch and tag names, where `*` also matches `/`.

    Without a `triggers:` section every branch triggers and no tag does; once it is written, only
    what it lists triggers (as in GitHub Actions), so `triggers: {tags: [v*]}` builds tags only."""

    branches: tuple[NonEmptyStr, ...] = ()
    tags: tuple[NonEmptyStr, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise _fail("triggers is empty (expected `branches:` and/or `tags:`)")
        return data


class PlatformSpec(_Model):
    """Per-platform environment and lane-name overrides (stage name -> lane)."""

    env: dict[EnvName, ScalarStr] = {}
    lanes: dict[StrictStr, LaneName] = {}


class StageSpec(_Model):
    """One stage; `timeout` is in seconds once validated."""

    kind: StageKind = CUSTOM_KIND
    run: NonEmptyStr | None = None
    lane: LaneName | None = None
    options: dict[OptionName, ScalarStr] = {}
    needs: Names = ()
    env: dict[EnvName, ScalarStr] = {}
    timeout: Timeout = DEFAULT_TIMEOUT_S
    retries: Retries = 0
    shards: Shards = 1
    devices: Names = ()
    # Device stages (acceptance, screenshots): the pytest suite's folder in the repo and the app
    # under test (a folder served on 127.0.0.1, or a URL).
    suite: NonEmptyStr | None = None
    app: NonEmptyStr | None = None
    # Device stages: re-runs of a failed test; failed-then-passed is reported `flaky`.
    test_retries: Retries = 0
    platforms: tuple[PlatformName, ...] | None = None
    per_platform: StrictBool = True
    queue: QueueName | None = None
    allow_failure: StrictBool = False


def stage_with_defaults(name: Any, raw: Any) -> Any:
    """The raw stage mapping with the defaults that depend on its name filled in."""
    if raw is None:  # `gate:` with nothing under it
        raw = {}
    if not isinstance(raw, dict):
        return raw
    raw = dict(raw)
    if "kind" not in raw and name in BUILTIN_KINDS:
        raw["kind"] = name
    kind = raw.get("kind", CUSTOM_KIND)
    if isinstance(kind, str) and kind in KINDS:
        for key, value in KINDS[kind].defaults.items():
            raw.setdefault(key, value)
    return raw


def _platform_or_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: {} if spec is None else spec for name, spec in value.items()}
    return value


Platforms = Annotated[
    dict[PlatformName, PlatformSpec], BeforeValidator(_platform_or_empty), Field(min_length=1)
]


class PipelineSpec(_Model):
    """A validated pipeline. Build it with `parse_spec` to get positioned errors."""

    version: Literal[1]
    triggers: Triggers = Field(default_factory=lambda: Triggers(branches=("*",)))
    platforms: Platforms
    env: dict[EnvName, ScalarStr] = {}
    stages: Annotated[dict[StrictStr, StageSpec], Field(min_length=1)]
    release: ReleaseSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _stage_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("stages"), dict):
            stages = {name: stage_with_defaults(name, raw) for name, raw in data["stages"].items()}
            data = {**data, "stages": stages}
        return data

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> PipelineSpec:
        # parse_spec runs these checks itself so it can place each problem in the file.
        if not (info.context or {}).get("skip_cross_checks"):
            problems = find_problems(self.stages, list(self.stages), self.platforms)
            if problems:
                raise _fail("; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems))
        return self
