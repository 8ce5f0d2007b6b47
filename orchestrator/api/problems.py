"""The error answers every route can give, as the OpenAPI document describes them.

Errors are `{"detail": ...}`: one sentence saying what was wrong and what to do, or — for a
request body or parameter that fails validation — FastAPI's list of validation errors. The
document says so, and lists the 401/403/404 answers a route can give, so clients (and the
schemathesis run in the tests) can rely on every documented answer's shape."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError

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


async def _validation_failed(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 list, written as ASCII JSON: the input it echoes may hold characters (lone
    surrogates) that UTF-8 cannot encode, which would otherwise turn a 422 into a 500."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = json.dumps({"detail": jsonable_encoder(errors)}, ensure_ascii=True, default=repr)
    return Response(body, status_code=422, media_type="application/json")


def document_problems(app: FastAPI) -> None:
    """Extend the app's OpenAPI document with the error shapes above (computed once), and answer
    validation errors in a form that can always be encoded."""
    app.add_exception_handler(RequestValidationError, _validation_failed)
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
