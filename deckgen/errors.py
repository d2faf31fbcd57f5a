"""The one exception family of deckgen, and the located problems it carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a source file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class DeckgenError(Exception):
    """Base of every error deckgen reports to its user."""


class SourceError(DeckgenError):
    """The source is invalid; carries every problem found, once each, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(set(problems)))
        super().__init__("\n".join(map(str, self.problems)))


class BuildError(DeckgenError):
    """A valid source could not be built: nothing, or nothing new, was written."""


class LockError(BuildError):
    """``--locked`` was given and the lock does not match the source."""


class NoteTypeChangeError(BuildError):
    """The note type's structure changed and the maintainer did not allow it."""
