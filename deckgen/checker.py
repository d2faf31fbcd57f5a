"""YAML nodes to a validated deck, or every problem found at once.

The checker walks the node tree against the declarations in :mod:`deckgen.model`, so it
only ever descends where the format expects something, and visits each list and mapping
once, however the YAML graph is shared through aliases.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deckgen import errors
from deckgen.cloze import cloze_problems
from deckgen.errors import Code, Problem, SourceError
from deckgen.media import MediaFile, MediaProblem, find_media, is_remote, resolve_media
from deckgen.model import (
    CONTROL_RE,
    DECK,
    KIND_NAMES,
    MAX_DECK_ID,
    MIN_DECK_ID,
    QUESTION_ID_PATTERN,
    QUESTIONS,
    ROOT,
    TOPIC,
    TYPE_IN_MAX,
    Deck,
    Key,
    Kind,
    Question,
    Topic,
    deck_name_problem,
    normalise_question,
    slugify,
    tag_problem,
)
from deckgen.source import compose, read_text

_ID_RE = re.compile(QUESTION_ID_PATTERN)
_TAG = "tag:yaml.org,2002:"
_KIND_NAMES = {
    f"{_TAG}str": "text",
    f"{_TAG}int": "an integer",
    f"{_TAG}float": "a number",
    f"{_TAG}bool": "a boolean",
    f"{_TAG}null": "nothing",
    f"{_TAG}timestamp": "a date",
    f"{_TAG}seq": "a list",
    f"{_TAG}map": "a mapping",
}
_T = TypeVar("_T")


def validate(root: Node, *, file: str, text: str = "", folder: Path | None = None) -> Deck:
    """Check a composed source against the format; raise :class:`SourceError` with every
    problem found, or return the deck. ``text``, the source, locates problems inside texts;
    media paths are relative to ``folder``, the source's folder."""
    checker = _Checker(file, text.splitlines(), folder)
    deck = checker.root(root)
    if checker.problems or deck is None:
        raise SourceError(checker.problems)
    return deck


def load_deck(path: Path, *, name: str | None = None) -> Deck:
    """Read, compose and validate one source file; ``name`` is how problems name the file."""
    shown = str(path) if name is None else name
    text = read_text(path, name=shown)
    return validate(compose(text, name=shown), file=shown, text=text, folder=path.parent)


class _Checker:
    """Walks the node tree against the format, collecting problems as it goes."""

    def __init__(self, file: str, lines: list[str], folder: Path | None) -> None:
        self.file = file
        self.lines = lines
        self.folder = folder  # where media paths start, and which they may not leave
        self.allow_remote_media = False
        self.problems: list[Problem] = []
        self.question_ids: dict[str, Node] = {}
        self.question_texts: dict[str, Node] = {}
        self.topic_names: dict[str, Node] = {}
        self.topic_tags: dict[str, Node] = {}
        self.collections: set[int] = set()

    def report(self, node: Node, message: str, code: Code) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, message, code))

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

    def deck(self, node: Node) -> tuple[str, int, str | None, tuple[str, ...]] | None:
        keys = self.mapping(node, DECK, "'deck'")
        if keys is None:
            return None
        name = self.optional(keys.get("name"), self.deck_name)
        deck_id = self.optional(keys.get("id"), self.deck_id)
        description = self.optional(keys.get("description"), self.optional_text)
        tags = self.optional(keys.get("tags"), self.tags) or ()
        self.allow_remote_media = bool(self.optional(keys.get("allow_remote_media"), self.boolean))
        if name is None or deck_id is None:
            return None
        return name, deck_id, description, tags

    def deck_name(self, node: Node) -> str | None:
        name = self.text(node, "deck name")
        if name is not None and (problem := deck_name_problem(name)):
            self.report(node, problem, errors.DECK_NAME)
            return None
        return name

    def deck_id(self, node: Node) -> int | None:
        if self.kind(node) != "an integer":
            self.wrong_type(node, "deck id", "an integer")
            return None
        assert isinstance(node, ScalarNode)
        value = int(yaml.constructor.SafeConstructor().construct_yaml_int(node))
        if not MIN_DECK_ID <= value <= MAX_DECK_ID:
            self.report(
                node,
                f"deck id must be between {MIN_DECK_ID} and {MAX_DECK_ID}, not {value}",
                errors.DECK_ID,
            )
            return None
        return value

    def topics(self, node: Node) -> tuple[Topic, ...] | None:
        return self.non_empty_list(node, "'topics'", "topic", "a deck", self.topic)

    def topic(self, node: Node) -> Topic | None:
        keys = self.mapping(node, TOPIC, "topic")
        if keys is None:
            return None
        name = self.optional(keys.get("name"), lambda n: self.text(n, "topic name"))
        tag = self.optional(keys.get("tag"), self.tag)
        if name is not None:
            line = self.earlier_line(self.topic_names, name.casefold(), keys["name"])
            if line is not None:
                self.report(
                    keys["name"],
                    f"duplicate topic {name!r} (first on line {line})",
                    errors.DUPLICATE_TOPIC,
                )
            elif "tag" not in keys:
                tag = slugify(name) or None
                if tag is None:
                    self.report(
                        keys["name"],
                        f"no tag can be derived from {name!r}: add a 'tag'",
                        errors.TAG,
                    )
        if tag is not None:
            where = keys.get("tag", keys["name"])
            line = self.earlier_line(self.topic_tags, tag.casefold(), where)
            if line is not None:
                self.report(
                    where,
                    f"topic tag {tag!r} is already used by the topic on line {line}",
                    errors.DUPLICATE_TOPIC_TAG,
                )
        questions = self.optional(keys.get("questions"), self.questions)
        if name is None or tag is None or questions is None:
            return None
        return Topic(name, tag, questions)

    def questions(self, node: Node) -> tuple[Question, ...] | None:
        return self.non_empty_list(node, "'questions'", "question", "a topic", self.question)

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
        kind = self.question_kind(node)
        if kind is None:
            return None
        declared = QUESTIONS[kind]
        keys = self.mapping(node, declared, "question" if kind == "basic" else f"{kind} question")
        if keys is None:
            return None
        qid = self.optional(keys.get("id"), self.question_id)
        texts: dict[str, str] = {}
        media: dict[str, MediaFile] = {}
        complete = True
        for key in declared:
            value_node = keys.get(key.name)
            if value_node is None or key.kind not in (Kind.MARKDOWN, Kind.TEXT):
                continue
            if key.name in ("id", "kind"):
                continue
            if key.required:
                value = self.text(value_node, key.name.replace("_", " "))
                complete = complete and value is not None
            else:
                value = self.optional_text(value_node)
            if value:
                texts[key.name] = value
                self.check_value(kind, key, value_node, value)
                if key.kind is Kind.MARKDOWN:
                    media.update(self.media(value_node, value))
        front_key = declared[2].name  # question, front or text
        if front_key in texts:
            line = self.earlier_line(
                self.question_texts, normalise_question(texts[front_key]), keys[front_key]
            )
            if line is not None:
                self.report(
                    keys[front_key],
                    f"duplicate question: also asked on line {line}",
                    errors.DUPLICATE_QUESTION,
                )
        tags = self.optional(keys.get("tags"), self.tags) or ()
        retired = self.optional(keys.get("retired"), self.boolean) or False
        required = {key.name for key in declared if key.required}
        if qid is None or not complete or not required <= {"id", *texts}:
            return None
        return Question(qid, kind, texts, tags, retired, node.start_mark.line + 1, media)

    def question_kind(self, node: Node) -> str | None:
        """The kind a question declares (``basic`` when it says none), read before its other
        keys because the kind decides which keys it may have."""
        if not isinstance(node, MappingNode):
            return "basic"  # mapping() reports the node itself
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.value == "kind"):
                continue
            if self.kind(value_node) != "text":
                self.wrong_type(value_node, "kind", "text")
                return None
            if value_node.value not in KIND_NAMES:
                names = ", ".join(KIND_NAMES)
                self.report(
                    value_node,
                    f"unknown kind {value_node.value!r}: a question is one of {names}"
                    f"{_did_you_mean(value_node.value, set(KIND_NAMES))}",
                    errors.KIND,
                )
                return None
            return str(value_node.value)
        return "basic"

    def check_value(self, kind: str, key: Key, node: Node, value: str) -> None:
        """The rules a kind sets on one of its texts."""
        if kind == "type-in" and key.name == "answer":
            if "\n" in value.strip() or len(value) > TYPE_IN_MAX or "`" in value:
                self.report(
                    node,
                    f"a type-in answer is compared with what the user types, so it must be "
                    f"plain text on one line of at most {TYPE_IN_MAX} characters, without "
                    "Markdown: put longer answers in a basic question",
                    errors.TYPE_IN_ANSWER,
                )
        elif kind == "cloze" and key.name == "text":
            for offset, message in cloze_problems(value):
                self.report_at(node, value, offset, message, errors.CLOZE)

    def media(self, node: Node, value: str) -> dict[str, MediaFile]:
        """The media files a Markdown text refers to, each checked; problems are reported
        at the reference."""
        found: dict[str, MediaFile] = {}
        for ref in find_media(value):
            if ref.url in found or (self.allow_remote_media and is_remote(ref.url)):
                continue
            if self.folder is None:
                problem = "media can only be checked in a bank that is a file"
                self.report_at(node, value, ref.offset, problem, errors.MEDIA)
                continue
            try:
                found[ref.url] = resolve_media(ref.url, folder=self.folder, root=self.folder)
            except MediaProblem as e:
                self.report_at(node, value, ref.offset, str(e), errors.MEDIA)
        return found

    def report_at(self, node: Node, value: str, offset: int, message: str, code: Code) -> None:
        """Report a problem at ``offset`` in a scalar's value: on its own line and column
        where the scalar's style lets the position be worked out, else at the scalar."""
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if isinstance(node, ScalarNode) and node.style == "|":
            line += 1 + value.count("\n", 0, offset)
            indent = self.indent_of(line)
            column = indent + offset - (value.rfind("\n", 0, offset) + 1) + 1
        elif isinstance(node, ScalarNode) and "\n" not in value[:offset]:
            column += offset + (1 if node.style in ("'", '"') else 0)
        self.problems.append(Problem(self.file, line, column, message, code))

    def indent_of(self, line: int) -> int:
        """The indentation of a 1-based source line (0 when the text is not known)."""
        if not 0 < line <= len(self.lines):
            return 0
        text = self.lines[line - 1]
        return len(text) - len(text.lstrip(" "))

    def boolean(self, node: Node) -> bool | None:
        if self.kind(node) != "a boolean":
            self.wrong_type(node, "this value", "true or false")
            return None
        return node.value.lower() in ("true", "yes", "on")

    def question_id(self, node: Node) -> str | None:
        qid = self.text(node, "question id")
        if qid is None:
            return None
        if not _ID_RE.match(qid):
            hint = slugify(qid)
            suggestion = f", such as {hint!r}" if hint else ""
            self.report(
                node,
                f"question id {qid!r} must be a lowercase slug of a-z, 0-9 and single "
                f"hyphens{suggestion}",
                errors.QUESTION_ID,
            )
            return None
        if (line := self.earlier_line(self.question_ids, qid, node)) is not None:
            self.report(
                node, f"duplicate question id {qid!r} (first on line {line})", errors.DUPLICATE_ID
            )
        return qid

    def tags(self, node: Node) -> tuple[str, ...] | None:
        items = self.sequence(node, "'tags'", "a list of tags, such as [tag-one, tag-two]")
        if items is None:
            return None
        tags = [self.tag(item) for item in items]
        return tuple(t for t in tags if t is not None)

    def tag(self, node: Node) -> str | None:
        tag = self.text(node, "tag")
        if tag is not None and (problem := tag_problem(tag)):
            self.report(node, problem, errors.TAG)
            return None
        return tag

    def optional_text(self, node: Node) -> str | None:
        """Text that may be left out; an empty value counts as left out."""
        if self.kind(node) == "nothing":
            return None
        text = self.text(node, "this value", blank_ok=True)
        return text if text and text.strip() else None

    def text(self, node: Node, what: str, *, blank_ok: bool = False) -> str | None:
        kind = self.kind(node)
        if kind is None:
            return None
        if kind != "text":
            if kind == "nothing":
                self.report(node, f"{what} is empty", errors.BLANK)
            else:
                self.wrong_type(node, what, "text")
            return None
        assert isinstance(node.value, str)
        value: str = node.value
        if not blank_ok and not value.strip():
            self.report(node, f"{what} is blank", errors.BLANK)
            return None
        if control := CONTROL_RE.search(value):
            code = ord(control.group())
            self.report(
                node, f"{what} contains control character U+{code:04X}", errors.CONTROL_CHARACTER
            )
            return None
        return value

    def mapping(self, node: Node, keys: tuple[Key, ...], what: str) -> dict[str, Node] | None:
        """The values of a mapping by key, after reporting duplicate, unknown and missing keys."""
        if self.kind(node) != "a mapping":
            self.wrong_type(node, what, "a mapping")
            return None
        assert isinstance(node, MappingNode)
        if not self.first_walk(node, "mapping"):
            return None
        known = {key.name for key in keys}
        first: dict[str, Node] = {}
        values: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                self.report(key_node, "merge keys ('<<') are not supported", errors.ALIAS)
                continue
            if self.kind(key_node) != "text":
                self.wrong_type(key_node, "a key", "text")
                continue
            name = key_node.value
            if (line := self.earlier_line(first, name, key_node)) is not None:
                self.report(
                    key_node, f"duplicate key {name!r} (first on line {line})", errors.DUPLICATE_KEY
                )
                continue
            if name not in known:
                self.report(
                    key_node,
                    f"unknown key {name!r} in {what}{_did_you_mean(name, known)}",
                    errors.UNKNOWN_KEY,
                )
                continue
            values[name] = value_node
        for key in keys:
            if key.required and key.name not in first:
                self.report(
                    node, f"{what} is missing required key {key.name!r}", errors.MISSING_KEY
                )
        return values

    def sequence(self, node: Node, what: str, expected: str) -> list[Node] | None:
        if self.kind(node) != "a list":
            self.wrong_type(node, what, expected)
            return None
        assert isinstance(node, SequenceNode)
        if not self.first_walk(node, "list"):
            return None
        return list(node.value)

    def first_walk(self, node: Node, what: str) -> bool:
        """Walk each list and mapping once: an alias (``*name``) of one would multiply the
        work ("billion laughs"), so it is refused; aliases of plain values are fine."""
        if id(node) in self.collections:
            self.report(
                node,
                f"this {what} is reused through an alias; only text may be aliased",
                errors.ALIAS,
            )
            return False
        self.collections.add(id(node))
        return True

    def kind(self, node: Node) -> str | None:
        """What a node holds, in words; reports and returns ``None`` for a foreign YAML tag."""
        kind = _KIND_NAMES.get(node.tag)
        if kind is None:
            tag = node.tag.replace(_TAG, "!!")
            self.report(node, f"YAML tag {tag!r} is not allowed", errors.YAML_TAG)
        return kind

    def wrong_type(self, node: Node, what: str, expected: str) -> None:
        kind = _KIND_NAMES.get(node.tag)
        if kind is None:
            return  # kind() has reported the foreign tag already
        hint = " (put it in quotes)" if expected == "text" and isinstance(node, ScalarNode) else ""
        self.report(node, f"{what} must be {expected}, not {kind}{hint}", errors.WRONG_TYPE)

    def earlier_line(self, seen: dict[str, Node], key: str, node: Node) -> int | None:
        """Remember where ``key`` first stood; for a later occurrence, return that first line."""
        earlier = seen.setdefault(key, node)
        return None if earlier is node else earlier.start_mark.line + 1

    @staticmethod
    def optional(node: Node | None, check: Callable[[Node], _T | None]) -> _T | None:
        return None if node is None else check(node)


def _did_you_mean(name: str, known: set[str]) -> str:
    folded = {k.casefold().replace("-", "_"): k for k in known}
    match = folded.get(name.casefold().replace("-", "_").replace(" ", "_"))
    if match is None:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f" (did you mean {match!r}?)" if match else ""
