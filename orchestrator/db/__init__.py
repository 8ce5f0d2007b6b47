"""Persistence: SQLAlchemy models, engine/session factory and Alembic migrations."""

from orchestrator.db.models import (
    ApiToken,
    Artifact,
    Base,
    Comparison,
    Event,
    Job,
    JobAttempt,
    Project,
    Review,
    Run,
    WebhookDelivery,
)
from orchestrator.db.session import Database, upgrade

__all__ = [
    "ApiToken",
    "Artifact",
    "Base",
    "Comparison",
    "Database",
    "Event",
    "Job",
    "JobAttempt",
    "Project",
    "Review",
    "Run",
    "WebhookDelivery",
    "upgrade",
]
