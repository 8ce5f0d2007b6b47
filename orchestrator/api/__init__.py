"""The REST API under /api (OpenAPI at /openapi.json): thin routes over the service modules."""

from orchestrator.api.app import create_app

__all__ = ["create_app"]
