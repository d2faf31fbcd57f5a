"""The one exception family of deckgen, and the located problems it carries."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Code:
    """A kind of problem, with a stable code for tools and a name for people."""

    code: str
    name: str
    summary: str

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


ENCODING = Code("DG001", "encoding", "The file is not UTF-8.")
YAML_SYNTAX = Code("DG002", "yaml-syntax", "The file is not valid YAML (tabs included).")
EMPTY_FILE = Code("DG003", "empty-file", "The file is empty or holds only comments.")
YAML_TAG = Code(
    "DG004", "yaml-tag", "A YAML tag such as !!python/object, or one that does not fit its value."
)
ALIAS = Code("DG005", "alias", "An alias of a list or mapping.")
CONTROL_CHARACTER = Code("DG006", "control-character", "A control character in the text.")
DUPLICATE_KEY = Code("DG101", "duplicate-key", "A key appears twice in one mapping.")
UNKNOWN_KEY = Code("DG102", "unknown-key", "A key the format does not have.")
MISSING_KEY = Code("DG103", "missing-key", "A required key is missing.")
WRONG_TYPE = Code("DG104", "wrong-type", "A value of the wrong type.")
BLANK = Code("DG105", "blank", "A required text is empty or blank.")
EMPTY_LIST = Code("DG106", "empty-list", "A deck without topics, or a topic without questions.")
KIND = Code("DG107", "kind", "A question kind deckgen does not have.")
TOPIC_FILE = Code(
    "DG108", "topic-file", "A folder bank's topic file that deck.yaml lists wrongly, or not at all."
)
DUPLICATE_ID = Code("DG201", "duplicate-id", "Two questions have the same id.")
DUPLICATE_QUESTION = Code("DG202", "duplicate-question", "The same question is asked twice.")
DUPLICATE_TOPIC = Code("DG203", "duplicate-topic", "Two topics have the same name.")
DUPLICATE_TOPIC_TAG = Code("DG204", "duplicate-topic-tag", "Two topics have the same tag.")
DECK_NAME = Code("DG301", "deck-name", "A deck name Anki would change on import.")
DECK_ID = Code("DG302", "deck-id", "A deck id out of range.")
TAG = Code("DG303", "tag", "A tag Anki cannot store as written.")
QUESTION_ID = Code("DG304", "question-id", "A question id that is not a lowercase slug.")
TYPE_IN_ANSWER = Code("DG305", "type-in-answer", "A typed answer that is not short plain text.")
CLOZE = Code("DG306", "cloze", "A cloze deletion Anki would not show as written.")
MEDIA = Code("DG307", "media", "An image or sound that cannot be packed into the deck.")
SOURCE_SIZE = Code("DG401", "source-size", "The file is larger than the limit.")
YAML_NODES = Code("DG402", "yaml-nodes", "The file has more YAML values than the limit.")
TEXT_SIZE = Code("DG403", "text-size", "One text is longer than the limit.")
BANK_SIZE = Code(
    "DG404", "bank-size", "The bank's text, counting each use of an alias, passes the limit."
)
MARKDOWN_DEPTH = Code("DG405", "markdown-depth", "Markdown nested deeper than the limit.")
TOO_MANY_PROBLEMS = Code("DG406", "too-many-problems", "The checker stopped at the limit.")
CODES = (
    ENCODING,
    YAML_SYNTAX,
    EMPTY_FILE,
    YAML_TAG,
    ALIAS,
    CONTROL_CHARACTER,
    DUPLICATE_KEY,
    UNKNOWN_KEY,
    MISSING_KEY,
    WRONG_TYPE,
    BLANK,
    EMPTY_LIST,
    KIND,
    TOPIC_FILE,
    DUPLICATE_ID,
    DUPLICATE_QUESTION,
    DUPLICATE_TOPIC,
    DUPLICATE_TOPIC_TAG,
    DECK_NAME,
    DECK_ID,
    TAG,
    QUESTION_ID,
    TYPE_IN_ANSWER,
    CLOZE,
    MEDIA,
    SOURCE_SIZE,
    YAML_NODES,
    TEXT_SIZE,
    BANK_SIZE,
    MARKDOWN_DEPTH,
    TOO_MANY_PROBLEMS,
)


def quote(text: str, *, width: int = 60) -> str:
    """``repr(text)``, shortened in the middle when longer than ``width``: messages name the
    values they are about, and a value can be megabytes long."""
    shown = repr(text)
    if len(shown) <= width:
        return shown
    half = (width - 3) // 2
    return f"{shown[:half]}...{shown[-half:]}"


def shown_path(path: object) -> str:
    """A file name as messages show it: bytes that are not UTF-8 (which Python keeps in a
    str as lone surrogates, unprintable on a strict UTF-8 stream) as backslash escapes."""
    name = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    if isinstance(name, bytes):
        return name.decode("utf-8", "backslashreplace")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = name.encode("utf-8", "surrogateescape")  # the bytes the OS gave
        except UnicodeEncodeError:
            return name.encode("utf-8", "backslashreplace").decode("utf-8")
        return raw.decode("utf-8", "backslashreplace")
    return name


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a source file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str
    code: Code

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


class PathError(DeckgenError):
    """The paths a command was given would make it write over its input or a non-file:
    a usage error, refused before anything is read or written."""


class LockError(BuildError):
    """``--locked`` was given and the lock does not match the source."""


class KindChangeError(BuildError):
    """A question's kind changed: Anki cannot move a note to another note type."""


class NoteTypeChangeError(BuildError):
    """The note type's structure changed and the maintainer did not allow it."""
