"""Reading YAML 1.2 text into plain data while remembering where every key and value came from.

ruamel.yaml parses (YAML 1.2, so `on`, `no`, `y` stay strings) and resolves scalars; we build the
node tree from its events ourselves, without recursion, so that the limits in
`orchestrator.spec.limits` (nesting depth, values with aliases expanded) are enforced while
reading, before any large or deep structure exists. A problem found later (by pydantic or the
cross-stage checks) is reported at the line and column recorded here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.parser import Parser as PurePythonParser
from ruamel.yaml.reader import ReaderError

from orchestrator.spec.errors import SpecError, SpecIssue
from orchestrator.spec.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES

Path = tuple[Any, ...]  # keys and list indexes from the document root

_MERGE_TAG = "tag:yaml.org,2002:merge"


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


_KIND_NAMES = {dict: "a mapping", list: "a list", str: "a string", type(None): "empty"}


def describe(value: Any) -> str:
    """A short, user-facing name for the type of a YAML value."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _KIND_NAMES.get(type(value), f"a {type(value).__name__}")


def size_issue(size: int, filename: str) -> SpecIssue:
    """The problem with a file of `size` bytes, checked before anything reads it."""
    return SpecIssue(
        1,
        1,
        f"the file is {size:,} bytes (expected at most {MAX_FILE_BYTES:,} bytes, 1 MB; "
        "move long scripts into files in the repository and call them from `run:`)",
        filename,
    )


def read_document(text: str, filename: str = "instep.yml") -> SpecDocument:
    """Parse YAML 1.2 text; raise SpecError for syntax errors, an empty file, duplicate keys or a
    file beyond the limits (size, nesting depth, alias expansion)."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise SpecError([size_issue(len(text.encode("utf-8", "surrogatepass")), filename)])
    root = _compose(text, filename)
    if root is None:
        raise SpecError(
            [SpecIssue(1, 1, "the file is empty (expected a mapping starting with `version: 1`)", filename)]
        )
    walker = _Walker(filename)
    data = walker.walk(root, ())
    if walker.issues:
        raise SpecError(walker.issues)
    return SpecDocument(data, filename, walker.values, walker.keys)


# --- events to nodes ---------------------------------------------------------------------------

_SCALAR, _SEQUENCE, _MAPPING = 0, 1, 2


class _Merge:
    """The value of a `<<` key, which merges mappings instead of naming a key."""


_MERGE = _Merge()
_UNSEEN = object()


@dataclass(eq=False, slots=True)
class _Node:
    """A YAML node: a constructed scalar, a list of nodes, or a list of (key, value) node pairs.

    `size` counts the values the node stands for with aliases expanded, `height` the levels of
    collections inside it (0 for a scalar); both are known once the node is complete."""

    kind: int
    pos: Position
    value: Any
    size: int = 1
    height: int = 0
    complete: bool = False


def _pos(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _ParserRefused(Exception):
    """The fast parser found a YAML syntax error; the pure-Python one words and places it."""


def _compose(text: str, filename: str) -> _Node | None:
    """The document's node tree, read with libyaml when ruamel.yaml.clib is installed (about 20
    times faster than ruamel.yaml's pure-Python parser). libyaml words syntax errors differently,
    so a file it refuses is read again by the pure-Python parser, whose messages we report.

    A fresh loader each time: a `%YAML` directive changes the loader that reads it."""
    fast = _fast_loader()
    if fast is not None:
        try:
            return _Composer(text, filename, fast, wording=False).compose()
        except _ParserRefused:
            pass
    return _Composer(text, filename, YAML(typ="safe", pure=True), wording=True).compose()


def _fast_loader() -> YAML | None:
    loader = YAML(typ="safe")
    return None if loader.Parser is PurePythonParser else loader


class _Composer:
    """Builds the node tree of the single document in `text` from ruamel.yaml's parser events."""

    def __init__(self, text: str, filename: str, yaml: YAML, wording: bool) -> None:
        self.text = text
        self.filename = filename
        self.yaml = yaml
        self.wording = wording  # False: a YAML syntax error raises _ParserRefused, for a second reading
        self.anchors: dict[str, _Node] = {}
        self.stack: list[_Node] = []  # open collections, outermost first
        self.pending_keys: list[_Node | None] = []  # per open mapping: a key waiting for its value
        self.values = 0  # nodes so far, each alias counting as the nodes it repeats
        self.implicit_tags: dict[tuple[str, tuple[bool, bool]], str] = {}
        self.scalars: dict[tuple[str, str], Any] = {}  # (tag, text) -> value; scalars are immutable

    def compose(self) -> _Node | None:
        root: _Node | None = None
        documents = 0
        try:
            for event in self.yaml.parse(self.text):
                if isinstance(event, DocumentStartEvent):
                    documents += 1
                    self._check_document(event, documents)
                elif isinstance(event, ScalarEvent):
                    root = self._add(self._scalar(event)) or root
                elif isinstance(event, AliasEvent):
                    root = self._add(self._alias(event)) or root
                elif isinstance(event, SequenceStartEvent | MappingStartEvent):
                    self._open(event)
                elif isinstance(event, SequenceEndEvent | MappingEndEvent):
                    root = self._add(self._close()) or root
        except (YAMLError, UnicodeError) as exc:
            if not self.wording:
                raise _ParserRefused from exc
            raise self._syntax_error(exc) from None
        return root

    def _syntax_error(self, exc: Exception) -> SpecError:
        if isinstance(exc, MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            where = _pos(mark) if mark is not None else Position(1, 1)
            problem = exc.problem or "unreadable YAML"
            context = f" ({exc.context})" if exc.context and exc.problem else ""
            return self._error(where, f"invalid YAML: {problem}{context}")
        if isinstance(exc, ReaderError):
            where = self._position_of(exc.position)
            return self._error(where, f"invalid YAML: {self._reader_problem(exc)}")
        return self._error(Position(1, 1), f"invalid YAML: {exc}")

    def _check_document(self, event: DocumentStartEvent, documents: int) -> None:
        where = _pos(event.start_mark)
        if documents > 1:
            raise self._error(
                where, "a second YAML document starts here (expected one document; remove the `---`)"
            )
        version = getattr(event, "version", None)
        if version is not None and tuple(version) != (1, 2):
            written = ".".join(map(str, version))
            directive = re.search(r"^%YAML", self.text, re.MULTILINE)
            raise self._error(
                self._position_of(directive.start()) if directive else where,
                f"`%YAML {written}` is not supported (expected YAML 1.2: remove the directive or "
                "write `%YAML 1.2`)",
            )

    def _scalar(self, event: ScalarEvent) -> _Node:
        where = _pos(event.start_mark)
        self._count(1, where)
        tag = event.ctag
        if tag is None or str(tag) == "!":
            implicit = (event.value, tuple(event.implicit))
            if implicit not in self.implicit_tags:
                self.implicit_tags[implicit] = str(self.yaml.resolver.resolve(ScalarNode, *implicit))
            tag = self.implicit_tags[implicit]
        else:
            tag = str(tag)
        if tag == _MERGE_TAG:
            node = _Node(_SCALAR, where, _MERGE, complete=True)
        else:
            # Keys like `run` and `needs` and names in `needs:` repeat a lot; construct each once.
            value = self.scalars.get((tag, event.value), _UNSEEN)
            if value is _UNSEEN:
                value = self.scalars[(tag, event.value)] = self._construct(tag, event, where)
            node = _Node(_SCALAR, where, value, complete=True)
        self._anchor(event, node)
        return node

    def _construct(self, tag: str, event: ScalarEvent, where: Position) -> Any:
        constructor = self.yaml.constructor
        scalar = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        try:
            return constructor.construct_object(scalar, deep=True)
        except MarkedYAMLError as exc:
            problem = exc.problem or ""
            if "could not determine a constructor" in problem:
                raise self._error(
                    where, f"unknown tag {tag} (expected plain YAML values: strings, numbers, true/false)"
                ) from None
            raise self._error(where, f"{event.value!r} cannot be read as {tag}: {problem}") from None
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise self._error(where, f"{event.value!r} cannot be read as {tag}: {exc}") from None
        finally:
            # The constructor remembers every node it built; these are ours alone, so forget them.
            constructor.constructed_objects.pop(scalar, None)

    def _open(self, event: SequenceStartEvent | MappingStartEvent) -> None:
        where = _pos(event.start_mark)
        if len(self.stack) + 1 > MAX_DEPTH:
            raise self._error(where, _too_deep())
        self._count(1, where)
        is_mapping = isinstance(event, MappingStartEvent)
        node = _Node(_MAPPING if is_mapping else _SEQUENCE, where, [])
        self._anchor(event, node)
        self.stack.append(node)
        self.pending_keys.append(None)

    def _close(self) -> _Node:
        node = self.stack.pop()
        self.pending_keys.pop()
        children = [n for pair in node.value for n in pair] if node.kind == _MAPPING else node.value
        node.size = 1 + sum(child.size for child in children)
        node.height = 1 + max((child.height for child in children), default=0)
        node.complete = True
        return node

    def _alias(self, event: AliasEvent) -> _Node:
        where = _pos(event.start_mark)
        name = event.anchor
        target = self.anchors.get(name)
        if target is None:
            raise self._error(
                where, f"unknown alias *{name} (expected an anchor &{name} earlier in the file)"
            )
        if not target.complete:
            raise self._error(
                where,
                f"alias *{name} refers to the value it is part of (anchor &{name} at line "
                f"{target.pos.line}, column {target.pos.column}; expected an alias to a complete earlier value)",
            )
        if len(self.stack) + target.height > MAX_DEPTH:
            raise self._error(where, _too_deep(f" once alias *{name} is expanded"))
        self._count(
            target.size, where, f" once alias *{name} is expanded (anchors nested in anchors multiply)"
        )
        return target

    def _count(self, values: int, where: Position, how: str = "") -> None:
        self.values += values
        if self.values > MAX_VALUES:
            raise self._error(
                where,
                f"the file holds more than {MAX_VALUES:,} keys and values{how} "
                f"(expected at most {MAX_VALUES:,}, counting what each alias repeats)",
            )

    def _anchor(self, event: Any, node: _Node) -> None:
        if event.anchor is not None:
            self.anchors[event.anchor] = node

    def _add(self, node: _Node) -> _Node | None:
        """Attach a finished node to the open collection; return it when it is the document root."""
        if not self.stack:
            return node
        parent = self.stack[-1]
        if parent.kind == _SEQUENCE:
            parent.value.append(node)
        elif self.pending_keys[-1] is None:
            self.pending_keys[-1] = node
        else:
            parent.value.append((self.pending_keys[-1], node))
            self.pending_keys[-1] = None
        return None

    def _position_of(self, index: int) -> Position:
        line_start = self.text.rfind("\n", 0, index) + 1
        return Position(self.text.count("\n", 0, index) + 1, index - line_start + 1)

    @staticmethod
    def _reader_problem(exc: ReaderError) -> str:
        if isinstance(exc.character, int):
            return f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        return str(exc.reason)

    def _error(self, where: Position, message: str) -> SpecError:
        return SpecError([SpecIssue(where.line, where.column, message, self.filename)])


def _too_deep(how: str = "") -> str:
    return (
        f"lists and mappings nest more than {MAX_DEPTH} levels deep{how} "
        f"(expected at most {MAX_DEPTH} levels)"
    )


# --- nodes to plain data -----------------------------------------------------------------------


class _Walker:
    """Turns the node tree into dicts, lists and scalars, recording positions and collecting problems.

    Recursion is bounded: the composer refused anything deeper than MAX_DEPTH, aliases included."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.issues: list[SpecIssue] = []

    def walk(self, node: _Node, path: Path) -> Any:
        self.values[path] = node.pos
        if node.kind == _MAPPING:
            return self._mapping(node, path)
        if node.kind == _SEQUENCE:
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.value is _MERGE:
            return "<<"
        return node.value

    def _mapping(self, node: _Node, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        merged: list[tuple[_Node, _Node]] = []
        for key_node, value_node in node.value:
            if key_node.kind != _SCALAR:
                self.issues.append(
                    self._issue(key_node.pos, "a key must be a plain name (expected a string key)")
                )
                continue
            if _is_merge(key_node):
                merged += self._merged_pairs(value_node)
                continue
            key = key_node.value
            if key in first_seen:
                seen = first_seen[key]
                self.issues.append(
                    self._issue(
                        key_node.pos,
                        f"duplicate key {key!r} (first defined at line {seen.line}; expected each key once)",
                    )
                )
                continue
            first_seen[key] = key_node.pos
            self.keys[(*path, key)] = key_node.pos
            result[key] = self.walk(value_node, (*path, key))
        # Keys written in the mapping win over merged ones; among merged ones the first wins.
        for key_node, value_node in merged:
            key = key_node.value
            if key_node.kind == _SCALAR and key not in result:
                self.keys[(*path, key)] = key_node.pos
                result[key] = self.walk(value_node, (*path, key))
        return result

    def _merged_pairs(self, value: _Node) -> list[tuple[_Node, _Node]]:
        """The (key, value) pairs a `<<` value brings in, earliest source first (YAML merge keys)."""
        items = value.value if value.kind == _SEQUENCE else [value]
        wrong = next((item for item in items if item.kind != _MAPPING), None)
        if wrong is not None:
            self.issues.append(
                self._issue(
                    wrong.pos,
                    f"invalid merge key: `<<` merges {_node_kind(wrong)} "
                    "(expected a mapping or a list of mappings, such as `<<: *defaults`)",
                )
            )
            return []
        pairs: list[tuple[_Node, _Node]] = []
        for source in items:
            pairs += [(k, v) for k, v in source.value if not _is_merge(k)]
            for k, v in source.value:
                if _is_merge(k):
                    pairs += self._merged_pairs(v)
        return pairs

    def _issue(self, pos: Position, message: str) -> SpecIssue:
        return SpecIssue(pos.line, pos.column, message, self.filename)


def _is_merge(key: _Node) -> bool:
    return key.kind == _SCALAR and key.value is _MERGE


def _node_kind(node: _Node) -> str:
    if node.kind == _MAPPING:
        return "a mapping"
    if node.kind == _SEQUENCE:
        return "a list"
    return describe(node.value)
