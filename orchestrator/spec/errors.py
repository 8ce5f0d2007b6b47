"""What a user sees when their instep.yml is wrong: one positioned line per problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecIssue:
    """One problem in a pipeline file, at a 1-based line and column."""

    line: int
    column: int
    message: str
    filename: str = "instep.yml"

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}: {self.message}"


class SpecError(Exception):
    """The pipeline file is invalid; `errors` holds every problem found, in file order."""

    def __init__(self, errors: Iterable[SpecIssue]) -> None:
        self.errors: list[SpecIssue] = sorted(set(errors), key=lambda i: (i.line, i.column, i.message))
        super().__init__("\n".join(str(issue) for issue in self.errors))
