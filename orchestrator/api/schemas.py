"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.jobspec import JobPlan


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    repo_url: str = Field(min_length=1, max_length=1000)
    match: str | None = Field(
        default=None, description="OWNER/NAME that webhooks carry; default from the URL"
    )
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200)
    secrets: dict[str, str] = Field(default_factory=dict)
    default_branch: str = "main"


class ProjectOut(BaseModel):
    name: str
    repo_url: str
    match: str
    default_branch: str
    secret_names: list[str]
    created_at: datetime


class ProjectCreated(ProjectOut):
    webhook_secret: str = Field(description="shown once, at creation")


class SecretsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    set: dict[str, str] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


class TriggerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: str = Field(min_length=1, max_length=100)
    ref: str = Field(min_length=1, max_length=500)
    sha: str | None = Field(default=None, pattern=r"^[0-9a-f]{7,64}$")

    @field_validator("project", "ref")
    @classmethod
    def _printable(cls, value: str) -> str:
        # Control characters would forge log lines; lone surrogates cannot be stored as UTF-8.
        if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ValueError("must be printable text (no control characters)")
        return value


class JobOut(JobPlan):
    """A job as planned (its fields are declared once, in `orchestrator.jobspec`) and where it is now."""

    id: int
    status: str
    reason: str | None
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    results: dict[str, Any] | None = Field(default=None, description="lane steps, test cases, problems")


class ArtifactOut(BaseModel):
    id: int
    job_id: int | None
    name: str
    kind: str
    size: int
    sha256: str
    content_type: str


class EventOut(BaseModel):
    subject: str
    from_status: str | None
    to_status: str
    reason: str | None
    at: datetime


class RunOut(BaseModel):
    id: int
    number: int
    project: str
    trigger: str
    ref: str
    sha: str
    message: str | None = Field(description="the commit's message (read from git when the run is planned)")
    status: str
    reason: str | None
    cancel_requested: bool
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunDetail(RunOut):
    jobs: list[JobOut]
    artifacts: list[ArtifactOut]
    events: list[EventOut]


class RunPage(BaseModel):
    runs: list[RunOut]
    next_before: int | None = Field(description="pass as `before` to get the next page")


class WebhookAnswer(BaseModel):
    status: str
    reason: str | None = None
    run_id: int | None = None
