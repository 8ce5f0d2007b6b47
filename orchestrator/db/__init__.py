"""Persistence: SQLAlchemy models, engine/session factory and Alembic migrations."""

from orchestrator.db.models import (
    ApiToken,
    Artifact,
    Base,
    Event,
    Job,
    JobAttempt,
    Project,
    Run,
    WebhookDelivery,
)
from orchestrator.db.session import Database, upgrade

__all__ = [
    "ApiToken",
    "Artifact",
    "Base",
    "Database",
    "Event",
    "Job",
    "JobAttempt",
    "Project",
    "Run",
    "WebhookDelivery",
    "upgrade",
]
