"""The official API descriptions, turned into request validators (pure: no HTTP, no state).

- Google Play: the androidpublisher v3 discovery document shipped by google-api-python-client
  (methods, paths incl. media-upload paths, query parameters, request body schemas).
- App Store Connect: the JSON schemas and operations extracted from the npm package
  `appstore-connect-sdk` (generated from Apple's OpenAPI 4.2 document) by
  `scripts/install-store-schemas.sh`.

Both stores refuse unknown body fields and unknown query parameters, so request objects are closed
here (`additionalProperties: false`) even where the description leaves them open.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import googleapiclient
from jsonschema import Draft7Validator

PLAY_DISCOVERY_PATH = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "androidpublisher.v3.json"
)
# Where scripts/install-store-schemas.sh puts the extracted App Store Connect description.
DEFAULT_ASC_SCHEMAS = (
    Path(__file__).resolve().parents[2] / "tools" / "store-schemas" / "appstore-connect.json"
)


class DescriptionMissing(Exception):
    """The official description file is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Operation:
    name: str  # Play method id ("androidpublisher.edits.commit") or App Store operation name
    http_method: str
    path_params: dict[str, str]
    media_upload: bool = False


@dataclass
class Checked:
    """The outcome of checking one request against a description."""

    operation: Operation | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.operation is not None and not self.problems


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]*)\})?", template):
        pattern += re.escape(literal)
        if name.startswith("+"):
            pattern += f"(?P<{name[1:]}>.+?)"
        elif name:
            pattern += f"(?P<{name}>[^/]+)"
    return re.compile(f"^{pattern}$")


def _specificity(regex: re.Pattern[str]) -> tuple[int, int]:
    """Most specific first: reserved expansions (`{+name}`, any depth) last, then longer literals."""
    literal = re.sub(r"\(\?P<[^>]+>[^)]*\)", "", regex.pattern)
    return (regex.pattern.count(".+?)"), -len(literal))


def _find_route(
    routes: list[Any], http_method: str, path: str, params_fit: Any = None
) -> tuple[Any, re.Match[str]] | None:
    for route in routes:
        match = route[1].match(path)
        if route[0] == http_method and match and (params_fit is None or params_fit(route, match)):
            return route, match
    return None


def _params_fit(route: Any, match: re.Match[str]) -> bool:
    """A `{+name}` path parameter with a declared pattern only matches paths of that pattern."""
    declared = route[2].get("parameters", {})
    return all(
        "pattern" not in declared.get(name, {}) or re.search(declared[name]["pattern"], value)
        for name, value in match.groupdict().items()
    )


def _closed(schema: Any) -> Any:
    """Objects with declared properties accept no others (what both stores do with unknown fields)."""
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


def _errors(validator: Draft7Validator, instance: Any, where: str) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{where}{'/' + path if path else ''}: {error.message}")
    return problems[:20]


# --- Google Play --------------------------------------------------------------------------------


def _discovery_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A discovery-document schema as JSON Schema (draft 7)."""
    if "$ref" in schema:
        return {"$ref": f"#/definitions/{schema['$ref']}"}
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if kind == "string":
        out["type"] = "string"
        if schema.get("format") in ("int64", "uint64"):
            out["pattern"] = r"^-?[0-9]+$"
    elif kind in ("integer", "number", "boolean", "array", "object"):
        out["type"] = kind
    if "enum" in schema:
        out["enum"] = schema["enum"]
    if "items" in schema:
        out["items"] = _discovery_schema(schema["items"])
    if "properties" in schema:
        out["properties"] = {k: _discovery_schema(v) for k, v in schema["properties"].items()}
        out["additionalProperties"] = False
    if "additionalProperties" in schema:
        out["additionalProperties"] = _discovery_schema(schema["additionalProperties"])
    return out


def _coerce_discovery_param(value: str, spec: dict[str, Any]) -> str | None:
    """A problem with one query/path value, or None."""
    kind = spec.get("type", "string")
    if kind == "boolean" and value not in ("true", "false"):
        return f"must be true or false, got {value!r}"
    if kind == "integer" and not re.fullmatch(r"-?[0-9]+", value):
        return f"must be an integer, got {value!r}"
    if "enum" in spec and value not in spec["enum"]:
        return f"must be one of {', '.join(spec['enum'])}, got {value!r}"
    if "pattern" in spec and not re.search(spec["pattern"], value):
        return f"must match {spec['pattern']}, got {value!r}"
    return None


class PlayDescription:
    """Requests checked against the androidpublisher v3 discovery document."""

    UPLOAD_TYPES = ("media", "multipart", "resumable")

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.service_path = document["servicePath"]
        self._global_params: dict[str, Any] = document.get("parameters", {})
        self._definitions = {name: _discovery_schema(s) for name, s in document["schemas"].items()}
        self._routes: list[tuple[str, re.Pattern[str], dict[str, Any], bool]] = []
        self._collect(document.get("resources", {}))
        self._routes.sort(key=lambda r: _specificity(r[1]))

    @classmethod
    def load(cls, path: Path = PLAY_DISCOVERY_PATH) -> PlayDescription:
        return cls(json.loads(path.read_text()))

    def _collect(self, resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                self._routes.append(
                    (method["httpMethod"], _template_regex("/" + method["path"]), method, False)
                )
                upload = method.get("mediaUpload", {}).get("protocols", {}).get("simple")
                if upload:
                    self._routes.append((method["httpMethod"], _template_regex(upload["path"]), method, True))
            self._collect(resource.get("resources", {}))

    @lru_cache(maxsize=64)  # noqa: B019 - one description per simulator, a handful of body schemas
    def _body_validator(self, ref: str) -> Draft7Validator:
        return Draft7Validator({"definitions": self._definitions, "$ref": f"#/definitions/{ref}"})

    def check(
        self,
        http_method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        content_type: str,
    ) -> Checked:
        found = _find_route(self._routes, http_method, path, _params_fit)
        if found is None:
            return Checked(None, [f"{http_method} {path} is not a method of androidpublisher v3"])
        (verb, _, method, is_upload), match = found
        params = dict(match.groupdict())
        op = Operation(method["id"], verb, params, is_upload)
        problems: list[str] = []
        declared = method.get("parameters", {})
        for name, value in params.items():
            problem = _coerce_discovery_param(value, declared.get(name, {}))
            if problem:
                problems.append(f"path parameter {name} {problem}")
        for name, values in query.items():
            spec = declared.get(name) or self._global_params.get(name)
            if spec is None or spec.get("location") == "path":
                problems.append(f"unknown query parameter {name!r} for {method['id']}")
                continue
            if len(values) > 1 and not spec.get("repeated"):
                problems.append(f"query parameter {name} given {len(values)} times")
            for value in values:
                problem = _coerce_discovery_param(value, spec)
                if problem:
                    problems.append(f"query parameter {name} {problem}")
        for name, spec in declared.items():
            if spec.get("required") and spec.get("location") == "query" and name not in query:
                problems.append(f"required query parameter {name} is missing")
        if is_upload:
            upload_type = (query.get("uploadType") or [""])[0]
            if upload_type not in self.UPLOAD_TYPES:
                problems.append(f"media upload needs uploadType in {self.UPLOAD_TYPES}, got {upload_type!r}")
        elif "uploadType" in query:
            problems.append(f"{method['id']} is not a media upload; uploadType is not allowed")
        request = method.get("request")
        if body is not None and not is_upload:
            if request is None:
                problems.append(f"{method['id']} takes no request body")
            elif not content_type.startswith("application/json"):
                problems.append(f"request body must be application/json, got {content_type!r}")
            else:
                problems += _errors(self._body_validator(request["$ref"]), body, "body")
        return Checked(op, problems)


# --- App Store Connect ---------------------------------------------------------------------------


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` as JSON Schema (it is not a JSON Schema keyword)."""
    if isinstance(schema, dict):
        out = {k: _nullable(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") is True:
            if "$ref" in out:
                return {"anyOf": [{"$ref": out["$ref"]}, {"type": "null"}]}
            if "type" in out:
                out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out
    if isinstance(schema, list):
        return [_nullable(v) for v in schema]
    return schema


def _query_value(raw: str, spec: dict[str, Any]) -> Any:
    """App Store Connect query values: arrays are comma-separated (`explode: false`)."""
    kind = spec.get("type")
    if kind == "array":
        return [_query_value(part, spec.get("items", {})) for part in raw.split(",")]
    if kind == "integer" and re.fullmatch(r"-?[0-9]+", raw):
        return int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


class AppStoreDescription:
    """Requests checked against the App Store Connect schemas from appstore-connect-sdk."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.source = description.get("source", {})
        schemas = _closed(_nullable(description["components"]["schemas"]))
        self._root = {"components": {"schemas": schemas}}
        self._routes: list[tuple[str, re.Pattern[str], dict[str, Any]]] = [
            (op["method"], _template_regex(op["path"]), op) for op in description["operations"]
        ]
        self._routes.sort(key=lambda r: _specificity(r[1]))
        self._validators: dict[str, Draft7Validator] = {}

    @classmethod
    def load(cls, path: Path = DEFAULT_ASC_SCHEMAS) -> AppStoreDescription:
        if not path.is_file():
            raise DescriptionMissing(
                f"App Store Connect schemas not found at {path}; run scripts/install-store-schemas.sh "
                "(or `make tools`) to install appstore-connect-sdk and extract them"
            )
        return cls(json.loads(path.read_text()))

    def _validator(self, key: str, schema: dict[str, Any]) -> Draft7Validator:
        if key not in self._validators:
            self._validators[key] = Draft7Validator({**self._root, **schema})
        return self._validators[key]

    def check(
        self, http_method: str, path: str, query: dict[str, list[str]], body: Any, content_type: str
    ) -> Checked:
        found = _find_route(self._routes, http_method, path)
        if found is None:
            return Checked(None, [f"{http_method} {path} is not an App Store Connect API operation"])
        (verb, _, op), match = found
        operation = Operation(op["name"], verb, dict(match.groupdict()))
        problems: list[str] = []
        query_schema = op.get("query") or {"type": "object", "properties": {}}
        properties = query_schema.get("properties", {})
        parsed: dict[str, Any] = {}
        for name, values in query.items():
            if name not in properties:
                problems.append(f"The parameter '{name}' can not be used with this request")
                continue
            if len(values) > 1:
                problems.append(f"query parameter {name} given {len(values)} times")
            parsed[name] = _query_value(values[-1], properties[name])
        if op.get("query"):
            schema = {k: v for k, v in query_schema.items() if k != "$schema"}
            problems += _errors(self._validator(f"{op['name']}?", _closed(schema)), parsed, "query")
        if op.get("body"):
            if body is None:
                problems.append(f"{op['name']} needs a {op['body']} body")
            elif not content_type.startswith("application/json"):
                problems.append(f"request body must be application/json, got {content_type!r}")
            else:
                ref = {"$ref": f"#/components/schemas/{op['body']}"}
                problems += _errors(self._validator(op["body"], ref), body, "body")
        elif body is not None:
            problems.append(f"{op['name']} takes no request body")
        return Checked(operation, problems)


@cache
def shared_play_description() -> PlayDescription:
    """One parsed discovery document per process (simulators in tests share it; it is read-only)."""
    return PlayDescription.load()


@cache
def shared_app_store_description(path: Path) -> AppStoreDescription:
    return AppStoreDescription.load(path)
