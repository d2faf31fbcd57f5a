"""YAML nodes to a validated deck, or every problem found at once.

The checker walks the node tree against the declarations in :mod:`deckgen.model`, so it
only ever descends where the format expects something, and visits each list and mapping
once, however the YAML graph is shared through aliases (:mod:`deckgen.walker` does the checks
that every value goes through, limits and YAML tags included).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import Node, ScalarNode

from deckgen import errors
from deckgen.errors import SourceError, quote
from deckgen.model import (
    DECK,
    MAX_DECK_ID,
    MIN_DECK_ID,
    QUESTION,
    QUESTION_ID_PATTERN,
    ROOT,
    TOPIC,
    Deck,
    Question,
    Topic,
    deck_name_problem,
    normalise_question,
    slugify,
    tag_problem,
)
from deckgen.source import load_source
from deckgen.walker import Entry, NodeWalker, TooManyProblems

_ID_RE = re.compile(QUESTION_ID_PATTERN)
_T = TypeVar("_T")


def validate(root: Node, *, file: str) -> Deck:
    """Check a composed source against the format; raise :class:`SourceError` with every
    problem found, or return the deck."""
    checker = _Checker(file)
    try:
        deck = checker.root(root)
    except TooManyProblems as stop:
        checker.problems[stop.problem] = None
        deck = None
    if checker.problems or deck is None:
        raise SourceError(list(checker.problems))
    return deck


def load_deck(path: Path, *, name: str | None = None) -> Deck:
    """Read, compose and validate one source file; ``name`` is how problems name the file."""
    shown = errors.shown_path(path) if name is None else name
    return validate(load_source(path, name=shown), file=shown)


class _Checker(NodeWalker):
    """Walks the node tree against the format, collecting problems as it goes."""

    def __init__(self, file: str) -> None:
        super().__init__(file)
        self.question_ids: dict[str, int] = {}
        self.question_texts: dict[str, int] = {}
        self.topic_names: dict[str, int] = {}
        self.topic_tags: dict[str, int] = {}

    def root(self, node: Node) -> Deck | None:
        keys = self.mapping(node, ROOT, "the file")
        if keys is None:
            return None
        deck = self.optional(keys.get("deck"), self.deck)
        topics = self.optional(keys.get("topics"), self.topics)
        if deck is None or topics is None:
            return None
        name, deck_id, description, tags = deck
        return Deck(name, deck_id, description, tags, topics)

    def deck(self, entry: Entry) -> tuple[str, int, str | None, tuple[str, ...]] | None:
        keys = self.mapping(entry.node, DECK, "'deck'")
        if keys is None:
            return None
        name = self.optional(keys.get("name"), self.deck_name)
        deck_id = self.optional(keys.get("id"), self.deck_id)
        description = self.optional(
            keys.get("description"), lambda e: self.optional_text(e, markdown=True)
        )
        tags = self.optional(keys.get("tags"), self.tags) or ()
        if name is None or deck_id is None:
            return None
        return name, deck_id, description, tags

    def deck_name(self, entry: Entry) -> str | None:
        name = self.text(entry, "deck name")
        problem = name and self.once(entry, "deck", lambda: deck_name_problem(name))
        if problem:
            self.report(entry.node, problem, errors.DECK_NAME)
            return None
        return name

    def deck_id(self, entry: Entry) -> int | None:
        node = entry.node
        kind = self.kind(node)
        if kind != "an integer":
            self.wrong_type(node, kind, "deck id", "an integer")
            return None
        assert isinstance(node, ScalarNode)
        value = _integer(node)
        if value is None or not MIN_DECK_ID <= value <= MAX_DECK_ID:
            long = value is None or len(node.value) > 40
            shown = f"a number of {len(node.value):,} characters" if long else str(value)
            self.report(
                node,
                f"deck id must be between {MIN_DECK_ID} and {MAX_DECK_ID}, not {shown}",
                errors.DECK_ID,
            )
            return None
        return value

    def topics(self, entry: Entry) -> tuple[Topic, ...] | None:
        return self.non_empty_list(entry.node, "'topics'", "topic", "a deck", self.topic)

    def topic(self, node: Node) -> Topic | None:
        keys = self.mapping(node, TOPIC, "topic")
        if keys is None:
            return None
        name = self.optional(keys.get("name"), lambda e: self.text(e, "topic name"))
        tag = self.optional(keys.get("tag"), self.tag)
        if name is not None:
            site = keys["name"].site
            line = self.earlier_line(self.topic_names, name.casefold(), site)
            if line is not None:
                self.report(
                    site,
                    f"duplicate topic {quote(name)} (first on line {line})",
                    errors.DUPLICATE_TOPIC,
                )
            elif "tag" not in keys:
                tag = slugify(name) or None
                if tag is None:
                    self.report(
                        site,
                        f"no tag can be derived from {quote(name)}: add a 'tag'",
                        errors.TAG,
                    )
        if tag is not None:
            where = (keys["tag"] if "tag" in keys else keys["name"]).site
            line = self.earlier_line(self.topic_tags, tag.casefold(), where)
            if line is not None:
                self.report(
                    where,
                    f"topic tag {quote(tag)} is already used by the topic on line {line}",
                    errors.DUPLICATE_TOPIC_TAG,
                )
        questions = self.optional(keys.get("questions"), self.questions)
        if name is None or tag is None or questions is None:
            return None
        return Topic(name, tag, questions)

    def questions(self, entry: Entry) -> tuple[Question, ...] | None:
        return self.non_empty_list(entry.node, "'questions'", "question", "a topic", self.question)

    def non_empty_list(
        self, node: Node, what: str, item: str, owner: str, check: Callable[[Node], _T | None]
    ) -> tuple[_T, ...] | None:
        """A list of at least one item, each checked; items with problems are left out."""
        items = self.sequence(node, what, f"a list of {item}s")
        if items is None:
            return None
        if not items:
            self.report(
                node, f"{what} is empty: {owner} needs at least one {item}", errors.EMPTY_LIST
            )
        checked = [check(i) for i in items]
        return tuple(c for c in checked if c is not None)

    def question(self, node: Node) -> Question | None:
        keys = self.mapping(node, QUESTION, "question")
        if keys is None:
            return None
        qid = self.optional(keys.get("id"), self.question_id)
        text = self.optional(
            keys.get("question"), lambda e: self.text(e, "question", markdown=True)
        )
        if text is not None:
            site = keys["question"].site
            normalised = self.once(keys["question"], "same", lambda: normalise_question(text))
            line = self.earlier_line(self.question_texts, normalised, site)
            if line is not None:
                self.report(
                    site,
                    f"duplicate question: also asked on line {line}",
                    errors.DUPLICATE_QUESTION,
                )
        answer = self.optional(keys.get("answer"), lambda e: self.text(e, "answer", markdown=True))
        how = self.optional(
            keys.get("how_to_answer"), lambda e: self.optional_text(e, markdown=True)
        )
        example = self.optional(
            keys.get("example_answer"), lambda e: self.optional_text(e, markdown=True)
        )
        tags = self.optional(keys.get("tags"), self.tags) or ()
        retired = self.optional(keys.get("retired"), self.boolean) or False
        if qid is None or text is None or answer is None:
            return None
        return Question(qid, text, answer, how, example, tags, retired)

    def boolean(self, entry: Entry) -> bool | None:
        kind = self.kind(entry.node)
        if kind != "a boolean":
            self.wrong_type(entry.node, kind, "this value", "true or false")
            return None
        return str(entry.node.value).lower() in ("true", "yes", "on")

    def question_id(self, entry: Entry) -> str | None:
        qid = self.text(entry, "question id")
        if qid is None or not self.once(entry, "id", lambda: self.slug_id(entry.node, qid)):
            return None
        if (line := self.earlier_line(self.question_ids, qid, entry.site)) is not None:
            self.report(
                entry.site,
                f"duplicate question id {quote(qid)} (first on line {line})",
                errors.DUPLICATE_ID,
            )
        return qid

    def slug_id(self, node: Node, qid: str) -> bool:
        if _ID_RE.match(qid):
            return True
        hint = slugify(qid)
        suggestion = f", such as {quote(hint)}" if hint else ""
        self.report(
            node,
            f"question id {quote(qid)} must be a lowercase slug of a-z, 0-9 and single "
            f"hyphens{suggestion}",
            errors.QUESTION_ID,
        )
        return False

    def tags(self, entry: Entry) -> tuple[str, ...] | None:
        node = entry.node
        items = self.sequence(node, "'tags'", "a list of tags, such as [tag-one, tag-two]")
        if items is None:
            return None
        tags = [self.tag(Entry(i, i if self.first_use(i) else node)) for i in items]
        return tuple(t for t in tags if t is not None)

    def tag(self, entry: Entry) -> str | None:
        tag = self.text(entry, "tag")
        if tag is not None and (problem := self.once(entry, "tag", lambda: tag_problem(tag))):
            self.report(entry.node, problem, errors.TAG)
            return None
        return tag


def _integer(node: ScalarNode) -> int | None:
    """A YAML integer's value; ``None`` for one too long to be a deck id (Python refuses to
    read a number of more than 4,300 digits) or malformed after an explicit tag."""
    if len(node.value) > 100:
        return None
    try:
        return int(yaml.constructor.SafeConstructor().construct_yaml_int(node))
    except ValueError:
        return None
