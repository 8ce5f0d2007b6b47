"""Versions and version ranges for web parity, pure, on `packaging` (PEP 440).

Web releases are often CalVer (`2026.12.1`) and API versions dates (`2025-11`); both compare as
versions once a dated API version's dashes become dots (`2025-11` is `2025.11`). A range is a
comma-separated list of PEP 440 clauses (`>=2025-11`, `>=3,<4`, `~=4.2`); a bare version means
`==`. A contract is provided as a version (`v3`, `3.1`) or as an opaque hash; a hash only ever
satisfies a requirement naming that same hash."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_DATED = re.compile(r"\d{4}-\d{1,2}(?:-\d{1,2})?\Z")
_CLAUSE = re.compile(r"\s*(~=|===|==|!=|<=|>=|<|>)?\s*([^\s,]+)\s*\Z")
_HASH = re.compile(r"(?:sha\d*:)?[0-9a-fA-F]{7,64}\Z")
TRAIN_FIELDS = ("major", "minor", "micro", "patch")
VERSION_EXAMPLES = "2026.12.1, 4.2.0 or 2025-11"
RANGE_EXAMPLES = "'>=2025-11', '>=3,<4' or '~=4.2'"


class InvalidRange(ValueError):
    """A version, range or train template that does not parse; the message shows examples."""


def parse_version(text: str, what: str = "version") -> Version:
    """`text` as a comparable version (a dated `2025-11` reads as `2025.11`)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRange(f"{what} is empty (expected a version such as {VERSION_EXAMPLES})")
    value = text.strip()
    if _DATED.match(value):
        value = value.replace("-", ".")
    try:
        return Version(value)
    except InvalidVersion:
        raise InvalidRange(
            f"{what} {text!r} is not a version (expected something like {VERSION_EXAMPLES})"
        ) from None


def parse_range(text: str, what: str = "range") -> SpecifierSet:
    """A comma-separated list of clauses as a SpecifierSet; a clause without operator is `==`."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRange(f"{what} is empty (expected a version range such as {RANGE_EXAMPLES})")
    clauses = []
    for part in text.split(","):
        m = _CLAUSE.match(part)
        if m is None:
            raise InvalidRange(
                f"{what} {text!r} is not a version range (expected something like {RANGE_EXAMPLES})"
            )
        operator, version = m.group(1) or "==", m.group(2)
        if version.endswith(".*") and operator in ("==", "!="):
            prefix = str(parse_version(version[:-2], what))
            clauses.append(f"{operator}{prefix}.*")
        else:
            clauses.append(f"{operator}{parse_version(version, what)}")
    try:
        return SpecifierSet(",".join(clauses))
    except InvalidSpecifier:
        raise InvalidRange(
            f"{what} {text!r} is not a version range (expected something like {RANGE_EXAMPLES})"
        ) from None


def in_range(version: str, requirement: str) -> bool:
    """Whether `version` lies in `requirement` (pre-releases count like any version)."""
    return parse_range(requirement).contains(parse_version(version), prereleases=True)


@dataclass(frozen=True)
class ContractRequirement:
    """A contract requirement: a version range, or one exact hash."""

    text: str
    exact_hash: str | None = None

    def met_by(self, provided: str) -> bool:
        if self.exact_hash is not None:
            return provided.strip().lower() == self.exact_hash
        try:
            return in_range(provided, self.text)
        except InvalidRange:
            return False  # a hash never satisfies a version range


def parse_contract_requirement(text: str, name: str) -> ContractRequirement:
    if isinstance(text, str) and _HASH.match(text.strip()) and not _looks_numeric(text):
        return ContractRequirement(text.strip(), text.strip().lower())
    try:
        parse_range(text, f"contract {name!r} requirement")
    except InvalidRange as exc:
        raise InvalidRange(f"{exc}, or an exact hash") from None
    return ContractRequirement(text.strip())


def _looks_numeric(text: str) -> bool:
    return text.strip().isdigit()


def check_train_template(template: str) -> str:
    """A train template such as `{major}.{minor}`: fields from TRAIN_FIELDS, at least one."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise InvalidRange(
            f"train {template!r} is not a template ({exc}; expected e.g. '{{major}}.{{minor}}')"
        ) from None
    unknown = [f for f in fields if f not in TRAIN_FIELDS]
    if unknown or not fields:
        raise InvalidRange(
            f"train {template!r} must use {', '.join('{' + f + '}' for f in TRAIN_FIELDS)} "
            "(expected e.g. '{major}.{minor}')"
        )
    return template


def train_of(version: str, template: str) -> str:
    """The train a version belongs to: `4.2.0` with `{major}.{minor}` is `4.2`."""
    release = parse_version(version).release + (0, 0, 0)
    return template.format(major=release[0], minor=release[1], micro=release[2], patch=release[2])


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as version `a` is below, equal to or above `b`."""
    va, vb = parse_version(a), parse_version(b)
    return (va > vb) - (va < vb)
