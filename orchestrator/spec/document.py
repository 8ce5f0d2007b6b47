"""Reading YAML text into plain data while remembering where every key and value came from.

PyYAML's composer keeps a mark on each node; we walk the node tree ourselves so that a problem
found later (by pydantic or by the cross-stage checks) can be reported at its line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from orchestrator.spec.errors import SpecError, SpecIssue

Path = tuple[Any, ...]  # keys and list indexes from the document root


@dataclass(frozen=True)
class Position:
    """1-based line and column."""

    line: int
    column: int


@dataclass
class SpecDocument:
    """Plain data (dicts, lists, scalars) and the position of every key and value in it."""

    data: Any
    filename: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def value_at(self, path: Path) -> Position:
        """Where the value at `path` starts, or its nearest enclosing value that has a position."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return Position(1, 1)

    def key_at(self, path: Path) -> Position:
        """Where the key naming `path` is, falling back to the value position."""
        return self.keys.get(path) or self.value_at(path)

    def issue(self, pos: Position, message: str) -> SpecIssue:
        return SpecIssue(pos.line, pos.column, message, self.filename)


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


_KIND_NAMES = {dict: "a mapping", list: "a list", str: "a string", type(None): "empty"}


def describe(value: Any) -> str:
    """A short, user-facing name for the type of a YAML value."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _KIND_NAMES.get(type(value), f"a {type(value).__name__}")


def read_document(text: str, filename: str = "instep.yml") -> SpecDocument:
    """Parse YAML text; raise SpecError for syntax errors, an empty file or duplicate keys."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _pos(mark) if mark is not None else Position(1, 1)
        problem = exc.problem or "unreadable YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise SpecError(
            [SpecIssue(where.line, where.column, f"invalid YAML: {problem}{context}", filename)]
        ) from None
    except yaml.YAMLError as exc:  # reader errors (e.g. control characters) carry no mark
        raise SpecError([SpecIssue(1, 1, f"invalid YAML: {exc}", filename)]) from None
    if root is None:
        raise SpecError(
            [SpecIssue(1, 1, "the file is empty (expected a mapping starting with `version: 1`)", filename)]
        )
    walker = _Walker(filename)
    data = walker.walk(root, ())
    if walker.issues:
        raise SpecError(walker.issues)
    return SpecDocument(data, filename, walker.values, walker.keys)


class _Walker:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.issues: list[SpecIssue] = []
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def walk(self, node: yaml.Node, path: Path) -> Any:
        self.values[path] = _pos(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        try:
            self.constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or node.start_mark
            self.issues.append(self._issue(_pos(mark), f"invalid merge key: {exc.problem}"))
            return {}
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            key_pos = _pos(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(self._issue(key_pos, "a key must be a plain name (expected a string key)"))
                continue
            key = self.constructor.construct_object(key_node, deep=True)
            if key in first_seen:
                seen = first_seen[key]
                self.issues.append(
                    self._issue(
                        key_pos,
                        f"duplicate key {key!r} (first defined at line {seen.line}; expected each key once)",
                    )
                )
                continue
            first_seen[key] = key_pos
            self.keys[(*path, key)] = key_pos
            result[key] = self.walk(value_node, (*path, key))
        return result

    def _issue(self, pos: Position, message: str) -> SpecIssue:
        return SpecIssue(pos.line, pos.column, message, self.filename)
