"""Request and response bodies of the notification routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["webhook", "slack"]
    url: str = Field(min_length=1, max_length=2000)
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="webhook only; generated when absent"
    )
    events: list[str] = Field(default_factory=lambda: ["*"], description="event name patterns, e.g. run.*")


class EndpointOut(BaseModel):
    id: int
    kind: str
    url: str = Field(description="without credentials (a Slack URL shows only its origin)")
    events: list[str]
    created_by: str | None
    created_at: datetime


class EndpointCreated(EndpointOut):
    secret: str | None = Field(description="the webhook signing secret, shown once, at creation")


class CommitStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: Literal["github", "gitlab"]
    token: str = Field(min_length=1, max_length=500)
    api_url: str | None = Field(
        default=None,
        max_length=1000,
        description="GitHub Enterprise https://HOST/api/v3, self-hosted GitLab https://HOST/api/v4",
    )
    repository: str | None = Field(
        default=None,
        max_length=300,
        description="GitHub OWNER/NAME or GitLab project path/id; default: match",
    )


class CommitStatusOut(BaseModel):
    provider: str
    api_url: str
    repository: str
    updated_at: datetime


class DeliveryOut(BaseModel):
    id: int
    delivery_id: str
    project: str
    channel: str
    event: str
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    next_attempt_at: datetime
