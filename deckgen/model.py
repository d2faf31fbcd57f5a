"""The source format: the frozen types a bank becomes, and the declaration of its keys.

The format is declared once, as :data:`ROOT`, :data:`DECK`, :data:`TOPIC` and
:data:`QUESTION`, with :data:`DECK_FILE` for the deck.yaml of a bank in many files.
:mod:`deckgen.checker` walks YAML nodes against these declarations and :mod:`deckgen.schema`
turns them into a JSON Schema, so the two cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from deckgen.errors import quote
from deckgen.media import MediaFile


@dataclass(frozen=True)
class Question:
    """One question of the bank: its kind, and its texts by source key, kept as written."""

    id: str
    kind: str
    texts: Mapping[str, str]  # only the keys the source gives, with non-blank text
    tags: tuple[str, ...]
    retired: bool = False
    line: int = 0  # where the question starts in its file, 1-based; 0 when unknown
    media: Mapping[str, MediaFile] = field(default_factory=dict)  # by the url as written

    @property
    def question(self) -> str:
        """The front of the card, whatever the kind calls it."""
        return self.texts.get("question") or self.texts.get("front") or self.texts["text"]

    @property
    def answer(self) -> str | None:
        """The answer, for kinds that have one."""
        return self.texts.get("answer") or self.texts.get("back")

    @property
    def how_to_answer(self) -> str | None:
        """Advice on answering (basic questions)."""
        return self.texts.get("how_to_answer")

    @property
    def example_answer(self) -> str | None:
        """A model answer (basic questions)."""
        return self.texts.get("example_answer")


@dataclass(frozen=True)
class Topic:
    """A named group of questions, tagged as a unit."""

    name: str
    tag: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Deck:
    """A validated question bank."""

    name: str
    id: int
    description: str | None
    tags: tuple[str, ...]
    topics: tuple[Topic, ...]
    # The files the bank was read from: one, or a folder bank's deck.yaml and topic files.
    sources: tuple[Path, ...] = field(default=(), compare=False)

    @property
    def questions(self) -> Iterator[tuple[Topic, Question]]:
        """Every question with its topic, in source order."""
        return ((topic, q) for topic in self.topics for q in topic.questions)

    @property
    def question_count(self) -> int:
        """How many questions are studied: retired ones are not counted."""
        return sum(not q.retired for _, q in self.questions)

    @property
    def retired_count(self) -> int:
        """How many questions are retired."""
        return sum(q.retired for _, q in self.questions)

    @functools.cached_property
    def slug(self) -> str:
        """The deck name as a slug: the root of topic tags and the default file name."""
        return deck_slug(self.name)  # once: every note's tags start with it

    def note_tags(self, topic: Topic, question: Question) -> tuple[str, ...]:
        """The tags of one note: the deck's, ``<deck-slug>::<topic-tag>``, then the question's,
        then ``<deck-slug>::retired`` for a retired question."""
        retired = (f"{self.slug}::{RETIRED_TAG}",) if question.retired else ()
        topic_tag = f"{self.slug}::{topic.tag}"
        return _unique_casefolded((*self.tags, topic_tag, *question.tags, *retired))


class Kind(Enum):
    """What a key of the format holds."""

    TEXT = "text"
    MARKDOWN = "Markdown text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TAGS = "list of tags"
    TOPICS = "list of topics"
    FILES = "list of topic files"
    QUESTIONS = "list of questions"
    DECK = "mapping"


@dataclass(frozen=True)
class Key:
    """One key a mapping of the format may hold."""

    name: str
    kind: Kind
    required: bool
    doc: str
    pattern: str | None = None  # a regular expression the whole text must match
    choices: tuple[str, ...] | None = None  # the only values allowed


# What tag_problem() accepts, as one regular expression (for the JSON Schema): no whitespace
# or control character, and no empty part between '::' separators.
TAG_PATTERN = r"^(?!::)(?!.*::$)(?!.*::::)[^\s\x00-\x1f\x7f]+$"

QUESTION_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TYPE_IN_MAX = 80  # characters of a typed answer

ROOT = (
    Key("deck", Kind.DECK, True, "The deck: its name, id, description and tags."),
    Key("topics", Kind.TOPICS, True, "The topics, each with its questions."),
)
# deck.yaml, the deck of a bank in many files: a folder (see deckgen.folder).
DECK_FILE = (
    ROOT[0],
    Key(
        "topics",
        Kind.FILES,
        False,
        "The topic files in order, as paths relative to this folder, each .yaml file of the"
        " bank once; when absent, every other .yaml file of the folder and its subfolders, in"
        " the order of their paths.",
        pattern=r"^(?!deck\.yaml$)(?!/)(?!.*//)(?!.*(^|/)\.)[^\\]*\.yaml$",
    ),
)
DECK = (
    Key("name", Kind.TEXT, True, "Deck name in Anki; '::' separates subdecks."),
    Key("id", Kind.INTEGER, True, "Fixed random integer; the namespace of every note GUID."),
    Key("description", Kind.MARKDOWN, False, "Shown on the deck's overview screen."),
    Key("tags", Kind.TAGS, False, "Tags added to every card."),
    Key(
        "allow_remote_media",
        Kind.BOOLEAN,
        False,
        "true: images may link to the web (such cards show nothing offline).",
    ),
)
TOPIC = (
    Key("name", Kind.TEXT, True, "Topic name, shown above each question."),
    Key(
        "tag",
        Kind.TEXT,
        False,
        "Topic tag; derived from the name when absent.",
        pattern=TAG_PATTERN,
    ),
    Key("questions", Kind.QUESTIONS, True, "The questions of this topic."),
)
_QUESTION_ID = Key(
    "id",
    Kind.TEXT,
    True,
    "Stable id, unique in the deck: lowercase letters, digits, '-'.",
    pattern=QUESTION_ID_PATTERN,
)
_TAGS = Key("tags", Kind.TAGS, False, "Extra tags for this card.")
_RETIRED = Key(
    "retired",
    Kind.BOOLEAN,
    False,
    "true: keep the note for users who have it, tagged <deck-slug>::retired, and leave it"
    " out of counts.",
)
_EXTRA = Key("extra", Kind.MARKDOWN, False, "More on the back of the card(s).")
KIND_NAMES = ("basic", "reversed", "cloze", "type-in")
_KIND = Key(
    "kind",
    Kind.TEXT,
    False,
    "The note kind: basic (default), reversed, cloze or type-in.",
    choices=KIND_NAMES,
)
# The keys of a question, by kind: the common ones, then what the kind shows.
QUESTIONS: dict[str, tuple[Key, ...]] = {
    "basic": (
        _QUESTION_ID,
        _KIND,
        Key("question", Kind.MARKDOWN, True, "The front of the card."),
        Key("answer", Kind.MARKDOWN, True, "The answer, on the back of the card."),
        Key("how_to_answer", Kind.MARKDOWN, False, "Advice on answering, shown after the answer."),
        Key("example_answer", Kind.MARKDOWN, False, "A model answer, shown last."),
        _TAGS,
        _RETIRED,
    ),
    "reversed": (
        _QUESTION_ID,
        _KIND,
        Key("front", Kind.MARKDOWN, True, "One side; a card asks for the other."),
        Key("back", Kind.MARKDOWN, True, "The other side; a second card asks for the front."),
        _EXTRA,
        _TAGS,
        _RETIRED,
    ),
    "cloze": (
        _QUESTION_ID,
        _KIND,
        Key(
            "text",
            Kind.MARKDOWN,
            True,
            "Markdown with cloze deletions {{c1::answer}} or {{c1::answer::hint}};"
            " one card per number.",
        ),
        _EXTRA,
        _TAGS,
        _RETIRED,
    ),
    "type-in": (
        _QUESTION_ID,
        _KIND,
        Key("question", Kind.MARKDOWN, True, "The front of the card."),
        Key(
            "answer",
            Kind.TEXT,
            True,
            f"The answer to type: plain text, one line, at most {TYPE_IN_MAX} characters.",
            pattern=rf"^[^\n`]{{1,{TYPE_IN_MAX}}}$",
        ),
        _EXTRA,
        _TAGS,
        _RETIRED,
    ),
}
QUESTION = QUESTIONS["basic"]

MIN_DECK_ID, MAX_DECK_ID = 2, 2**63 - 1
RETIRED_TAG = "retired"
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SLUG_STRIP_RE = re.compile(r"\W+")
_NORMALISE_RE = re.compile(r"[\W_]+")


def slugify(text: str) -> str:
    """Lowercase ``text`` and join its words with hyphens: ``"Dependency Injection"`` ->
    ``"dependency-injection"``."""
    return _SLUG_STRIP_RE.sub("-", text.casefold()).replace("_", "-").strip("-")


def deck_slug(name: str) -> str:
    """A deck name as a slug, ``deck`` when nothing of it is left."""
    return slugify(name) or "deck"


def tag_problem(tag: str) -> str | None:
    """Why Anki would not store ``tag`` as written, or ``None`` if it would."""
    if not tag:
        return "tags must not be empty"
    if any(c.isspace() for c in tag):
        return f"tag {quote(tag)} contains whitespace, which Anki uses to separate tags"
    if CONTROL_RE.search(tag):
        return f"tag {quote(tag)} contains a control character"
    if "" in tag.split("::"):
        return f"tag {quote(tag)} has an empty part between '::' separators"
    return None


def deck_name_problem(name: str) -> str | None:
    """Why Anki would change the deck name ``name`` on import, or ``None``."""
    if CONTROL_RE.search(name):
        return f"deck name {quote(name)} contains a control character"
    for part in name.split("::"):
        if not part.strip(" \t\n:"):
            return f"deck name {quote(name)} has an empty part between '::' separators"
        if part != part.strip() or part != part.strip(":"):
            return (
                f"deck name {quote(name)}: Anki trims spaces and ':' around each '::' part; "
                f"write {'::'.join(p.strip(' :') for p in name.split('::'))!r}"
            )
    return None


def normalise_question(text: str) -> str:
    """The form in which two questions count as the same: case, spacing and punctuation
    folded away."""
    return " ".join(_NORMALISE_RE.sub(" ", text.casefold()).split())


def _unique_casefolded(tags: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    unique = []
    for tag in tags:
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            unique.append(tag)
    return tuple(unique)
