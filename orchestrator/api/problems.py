"""The error answers every route can give, as the OpenAPI document describes them.

Errors are `{"detail": ...}`: one sentence saying what was wrong and what to do, or — for a
request body or parameter that fails validation — FastAPI's list of validation errors. The
document says so, and lists the 401/403/404 answers a route can give, so clients (and the
schemathesis run in the tests) can rely on every documented answer's shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PROBLEM = {
    "title": "Problem",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
}
_STANDARD = {
    "401": "missing, invalid or revoked credentials",
    "403": "the caller's role may not do this; the detail names the roles that may",
    "404": "no such resource",
}


def document_problems(app: FastAPI) -> None:
    """Extend the app's OpenAPI document with the error shapes above (computed once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM
        validation = components.get("HTTPValidationError", {}).get("properties", {})
        if "detail" in validation:
            listed = validation["detail"]
            validation["detail"] = {"title": "Detail", "anyOf": [{"type": "string"}, listed]}
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/api/") or path.startswith("/api/webhooks") or path == "/api/health":
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, why in _STANDARD.items():
                    if code == "404" and "{" not in path:
                        continue
                    responses.setdefault(
                        code,
                        {
                            "description": why,
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                            },
                        },
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
