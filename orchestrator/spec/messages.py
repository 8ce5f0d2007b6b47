"""Turning pydantic's validation errors into positioned, user-facing messages."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from orchestrator.spec.document import Position, SpecDocument, describe
from orchestrator.spec.model import PipelineSpec

_EXPECTED_TYPE = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}

_REQUIRED_HINTS = {
    "version": "`version: 1`",
    "platforms": "`platforms:` with `ios:` and/or `android:`",
    "stages": "`stages:` with at least one stage",
}


def locate(error: ErrorDetails, doc: SpecDocument) -> tuple[Position, str]:
    """Where in the document an error belongs, and what to tell the user about it."""
    loc = tuple(error["loc"])
    kind = error["type"]
    on_key = bool(loc) and loc[-1] == "[key]"
    path = loc[:-1] if on_key else loc
    if kind == "missing":
        parent = path[:-1]
        where = doc.value_at(()) if not parent else doc.key_at(parent)
        hint = _REQUIRED_HINTS.get(str(path[-1]), f"`{path[-1]}:`")
        return where, f"{_place(parent)} is missing the required key {path[-1]!r} (expected {hint})"
    if kind == "extra_forbidden":
        allowed = _fields_at(path[:-1])
        expected = f"one of: {', '.join(allowed)}" if allowed else "no other keys"
        where_in = "at" if not path[:-1] else "in"
        return doc.key_at(
            path
        ), f"unknown key {path[-1]!r} {where_in} {_place(path[:-1])} (expected {expected})"
    where = doc.key_at(path) if on_key else doc.value_at(path)
    return where, _message(kind, error, path, on_key)


def _message(kind: str, error: ErrorDetails, path: tuple[Any, ...], on_key: bool) -> str:
    value = error.get("input")
    label = _label(path, on_key)
    ctx = error.get("ctx") or {}
    if kind == "instep":
        return error["msg"]
    if kind == "scalar_type":
        return f"{label} is {describe(value)} (expected a string, number or boolean)"
    if kind == "literal_error":
        if path[:1] == ("platforms",) and on_key:
            return f"unknown platform {value!r} (expected one of: ios, android)"
        return f"{label} is {value!r} (expected {ctx.get('expected', 'one of the listed values')})"
    if kind in _EXPECTED_TYPE:
        return f"{label} is {describe(value)} (expected {_EXPECTED_TYPE[kind]})"
    if kind in ("too_short", "string_too_short"):
        return f"{label} is empty (expected at least one {'character' if kind == 'string_too_short' else 'entry'})"
    return f"{label}: {error['msg']} (expected a valid {label})"


def _label(path: tuple[Any, ...], on_key: bool) -> str:
    if on_key:
        return f"key {path[-1]!r}"
    if not path:
        return "the file"
    if isinstance(path[-1], int) and len(path) > 1:
        return f"entry {path[-1] + 1} of `{path[-2]}`"
    return f"`{path[-1]}`"


def _place(path: tuple[Any, ...]) -> str:
    if not path:
        return "the top level"
    if len(path) == 2 and path[0] == "stages":
        return f"stage {path[1]!r}"
    if len(path) == 2 and path[0] == "platforms":
        return f"platform {path[1]!r}"
    return f"`{'.'.join(map(str, path))}`"


def _fields_at(path: tuple[Any, ...]) -> list[str] | None:
    """The keys allowed in the mapping at `path`, read from the models."""
    tp: Any = PipelineSpec
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part)
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) in (list, tuple):
            tp = get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return None


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) in (Union, types.UnionType):
        tp = next(arg for arg in get_args(tp) if arg is not type(None))
    while hasattr(tp, "__metadata__"):  # Annotated[...]
        tp = get_args(tp)[0]
    return tp
