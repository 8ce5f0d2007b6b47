"""The planner-to-executor contract: a planned job, declared once.

`JobFields` are the job's stored columns (where and how often it runs); `JobSpec` is what a
worker executes, stored as JSON in `Job.spec`. The scheduler stores a `JobPlan`, a rerun copies
one, the executor reads one back typed and the API shows one; a new field is one line here.
Pure: pydantic only."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, ValidationError


def _read_only(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


# A mapping nobody can change after planning, stored as a plain JSON object.
FrozenMap = Annotated[
    Mapping[str, str], AfterValidator(_read_only), PlainSerializer(dict, return_type=dict[str, str])
]


class JobSpecError(Exception):
    """A stored job that this version cannot read; the message names the job and what to do."""


class JobSpec(BaseModel):
    """What a worker executes for one job. Unknown keys (from another version) are ignored and
    missing ones take their defaults, so every stored spec written so far still loads."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run: str | None = None
    lane: str | None = None  # the platform's lane override already applied
    lane_options: FrozenMap = Field(default_factory=lambda: MappingProxyType({}))
    # top < platform < stage, then INSTEP_* variables
    env: FrozenMap = Field(default_factory=lambda: MappingProxyType({}))
    devices: tuple[str, ...] = ()
    suite: str | None = None
    app: str | None = None
    test_retries: int = 0
    build_number_option: str | None = None  # a release pipeline's build: the lane option to fill
    build_number: int | None = None  # allocated by Instep when the job is stored

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class JobFields(BaseModel):
    """A planned job's own columns: a stage on one platform (or all) and one shard."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    key: str
    stage: str
    kind: str
    platform: str | None = None
    shard: int | None = None
    shard_count: int = 1
    needs: tuple[str, ...] = ()
    queue: str = "default"
    timeout_s: int
    retries: int = 0
    allow_failure: bool = False


class JobPlan(JobFields):
    """One job as the planner made it; `row()` is what the scheduler stores in a `Job` row."""

    spec: JobSpec = Field(default_factory=JobSpec)

    def row(self) -> dict[str, Any]:
        """The `Job` column values (JSON-ready: lists and plain objects)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_row(cls, job: Any) -> JobPlan:
        """Read a stored job (any object with the columns as attributes) back typed."""
        try:
            return cls.model_validate(job, from_attributes=True)
        except ValidationError as exc:
            where = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors()[:3]
            )
            raise JobSpecError(
                f"job {getattr(job, 'key', '?')!r} was stored in a form this version of Instep cannot "
                f"read ({where}); run the pipeline again to plan it afresh"
            ) from None
